"""The rainbow map's rules (data contract §3 and §6): care categories, visits, freshness, coverage."""
