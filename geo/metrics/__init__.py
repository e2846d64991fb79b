"""The figures (data contract §6): the ``gridmap metrics`` object, its tables and text, and ``gridmap check``."""
