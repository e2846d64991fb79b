"""Which grid holds a point, and which grids overlap: vectorised with a shapely STRtree."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

OVERLAP_MIN_M2 = 1.0
"""Intersections smaller than this (m²) are digitising slivers, not overlaps."""


def assign_to_grids(
    points_x: ArrayLike, points_y: ArrayLike, grids: gpd.GeoDataFrame
) -> np.ndarray:
    """The ``grid_id`` holding each point (object array; None outside every grid).

    ``grids`` has a ``grid_id`` column and polygons in the points' CRS (EPSG:4326).
    The boundary counts as inside. A point on an edge or corner shared by several
    grids goes to exactly one of them, deterministically: the smallest ``grid_id``
    (string order). Points with a missing (NaN) coordinate are outside every grid.
    """
    xs = np.asarray(points_x, dtype=float)
    ys = np.asarray(points_y, dtype=float)
    result = np.full(len(xs), None, dtype=object)
    if len(xs) == 0 or len(grids) == 0:
        return result
    # grids in grid_id order, so the smallest tree index on a tie is the smallest grid_id
    ordered = grids.sort_values("grid_id", kind="stable")
    grid_ids = ordered["grid_id"].to_numpy(dtype=object)
    geoms = np.asarray(ordered.geometry.values, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    tree = shapely.STRtree(np.where(usable, geoms, None))
    finite = np.isfinite(xs) & np.isfinite(ys)
    idx = np.flatnonzero(finite)
    points = shapely.points(xs[idx], ys[idx])
    # boundary points belong to a grid: intersects, not within
    point_pos, grid_pos = tree.query(points, predicate="intersects")
    if len(point_pos) == 0:
        return result
    best = np.full(len(idx), len(grid_ids), dtype=np.int64)
    np.minimum.at(best, point_pos, grid_pos)
    hit = best < len(grid_ids)
    result[idx[hit]] = grid_ids[best[hit]]
    return result


def overlapping_grids(grids: gpd.GeoDataFrame, min_area_m2: float = OVERLAP_MIN_M2) -> pd.DataFrame:
    """Pairs of grids whose interiors overlap: DataFrame(grid_a, grid_b, area_m2), grid_a < grid_b.

    Areas are computed in the grids' local UTM zone (metres), never in degrees; a shared
    edge (zero-area intersection) and slivers below ``min_area_m2`` are not overlaps.
    """
    columns = {
        "grid_a": pd.Series(dtype=object),
        "grid_b": pd.Series(dtype=object),
        "area_m2": pd.Series(dtype=float),
    }
    usable = grids[~(grids.geometry.is_empty | grids.geometry.isna())]
    if len(usable) < 2:
        return pd.DataFrame(columns)
    if usable.crs is None:
        usable = usable.set_crs("EPSG:4326")
    geoms = np.asarray(usable.geometry.to_crs(usable.estimate_utm_crs()).values, dtype=object)
    ids = usable["grid_id"].to_numpy(dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return pd.DataFrame(columns)
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = areas >= min_area_m2
    a, b = ids[left[big]], ids[right[big]]
    swap = np.array([str(x) > str(y) for x, y in zip(a, b, strict=True)], dtype=bool)
    grid_a = np.where(swap, b, a)
    grid_b = np.where(swap, a, b)
    out = pd.DataFrame({"grid_a": grid_a, "grid_b": grid_b, "area_m2": areas[big].round(2)})
    return out.sort_values(["grid_a", "grid_b"], ignore_index=True)
