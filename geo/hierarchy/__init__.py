"""The administrative hierarchy: city > district (区县) > street/town (街道/乡镇) > community (社区) > grid.

Pure functions on the grids' attributes (``grid_id``, ``district``, ``street``,
``community``): the tree and its nodes (``tree``), figures summed up the levels
(``rollup``), and what a role's scope is in the tree (``scope``).
"""
