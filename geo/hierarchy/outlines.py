"""The outline of every node of the tree: its grids dissolved into one (Multi)Polygon.

Drawn by the map at the upper levels (city: districts; district: streets), where drawing
thousands of grids would say less and cost more. Pure: the caller caches it per grids
version (``ui.hierarchy``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.hierarchy.tree import ROOT, Hierarchy, Node

GRID_SIZE = 1e-7
"""Snapping (degrees, ~1 cm) for the union: shared grid edges dissolve without slivers."""


def node_outlines(
    grids: gpd.GeoDataFrame, hierarchy: Hierarchy, level: str, under: Node = ROOT
) -> gpd.GeoDataFrame:
    """One row per node at ``level`` under ``under`` that has grids: ``node`` (the Node),
    ``name`` and ``geometry`` (the union of its grids' polygons, CRS of ``grids``), in tree order.

    ``grids``: the grid polygons with ``grid_id``; a grid of the tree without a polygon is
    left out of its node's outline; a node without any polygon is left out.
    """
    geoms = dict(
        zip(
            grids["grid_id"].astype(str),
            np.asarray(grids.geometry.values, dtype=object),
            strict=True,
        )
    )
    nodes, outlines = [], []
    for node in hierarchy.nodes(level, under):
        parts = [geoms[g] for g in hierarchy.grid_ids(node) if g in geoms and geoms[g] is not None]
        if not parts:
            continue
        nodes.append(node)
        outlines.append(shapely.union_all(np.asarray(parts, dtype=object), grid_size=GRID_SIZE))
    return gpd.GeoDataFrame(
        {"node": nodes, "name": [n.name for n in nodes]},
        geometry=gpd.GeoSeries(outlines, crs=grids.crs),
        crs=grids.crs,
    )
