"""The synthetic street office ``gridmap demo`` builds."""
