"""The stored buildings as the map and the figures read them, and households linked when read."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.buildings.linking import LINK_COLUMNS, link_households
from geo.store.base import Store, Where


def with_anchors(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``buildings`` with ``lon``/``lat``: the point itself, or a point inside the footprint
    (where the glyph is drawn); NaN for a building without a place."""
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    if usable.any():
        inside = shapely.point_on_surface(geoms[usable])
        lon[usable], lat[usable] = shapely.get_x(inside), shapely.get_y(inside)
    out = buildings.copy()
    out["lon"], out["lat"] = lon, lat
    return out


def read_buildings(store: Store, where: Where | None = None) -> gpd.GeoDataFrame:
    """The stored buildings (``where``: e.g. ``{"grid_id": [...]}``) with their anchors."""
    return with_anchors(store.read("buildings", where=where))


def linked(households: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    """``households`` (grid_id, building, address) with ``LINK_COLUMNS`` added: the link is
    computed here, when the data is read, never stored."""
    links = link_households(households, buildings)
    return pd.concat([households.drop(columns=list(LINK_COLUMNS), errors="ignore"), links], axis=1)
