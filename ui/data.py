"""Cached loaders: every cache is keyed on the store's data version, so a write shows at once.

Keys are (location, version[, as_of]): never a hashed DataFrame (Streamlit hashes big
frames from a sample and could return a stale result).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geo.metrics import community_table, grid_table, household_status, report_states
from geo.privacy import mask_frame
from geo.store import open_store

_REPORT_COLUMNS = [
    "report_id", "source", "category", "reported_at", "responded_at", "resolved_at",
    "followed_up_at", "satisfaction", "grid_id", "duplicate_of",
]


def data_version(location: str) -> int:
    """The store's current data version (changes with every committed write)."""
    return open_store(location).version()


@st.cache_data(show_spinner=False, max_entries=4)
def grid_polygons(location: str, version: int) -> gpd.GeoDataFrame:
    """Grid polygons with their attributes, EPSG:4326."""
    del version  # cache key only
    return open_store(location).read("grids")


@st.cache_data(show_spinner=False, max_entries=8)
def grid_figures(location: str, version: int, as_of: dt.date) -> pd.DataFrame:
    """``geo.metrics.grid_table`` as of ``as_of``."""
    del version
    return grid_table(open_store(location), as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def community_figures(location: str, version: int, as_of: dt.date) -> pd.DataFrame:
    """``geo.metrics.community_table`` as of ``as_of``."""
    del version
    return community_table(open_store(location), as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def household_statuses(location: str, version: int, as_of: dt.date) -> pd.DataFrame:
    """``geo.metrics.household_status`` (no personal fields) as of ``as_of``."""
    del version
    return household_status(open_store(location), as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def report_points(location: str, version: int, as_of: dt.date) -> pd.DataFrame:
    """Reports reported by the end of ``as_of`` with their state and lon/lat (no description)."""
    del version
    reports = open_store(location).read("reports", columns=_REPORT_COLUMNS)
    if reports.empty:
        return pd.DataFrame(columns=[*_REPORT_COLUMNS, "state", "lon", "lat"])
    geoms = np.asarray(reports.geometry.values, dtype=object)
    frame = pd.DataFrame(reports.drop(columns=reports.geometry.name))
    frame["lon"] = shapely.get_x(geoms)
    frame["lat"] = shapely.get_y(geoms)
    frame = report_states(frame, as_of)
    return frame[frame["state"].notna()].reset_index(drop=True)


def grid_households_masked(location: str, grid_id: str) -> pd.DataFrame:
    """Personal fields of one grid's households, masked before they leave this function."""
    households = open_store(location).read(
        "households", columns=["household_id", "head_name", "phone", "id_number"], where={"grid_id": grid_id}
    )
    frame = pd.DataFrame(households.drop(columns=households.geometry.name, errors="ignore"))
    return mask_frame(frame)
