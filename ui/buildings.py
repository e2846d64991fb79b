"""Glue for the buildings: on the map page, households linked to the buildings in scope, the
building layer's rows and a grid's households by building (street -> community -> grid ->
building -> household); on the coverage page, coverage by building (counts only)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.access.auth import Viewer
from geo.buildings.coverage import coverage_by_building, coverage_totals
from geo.buildings.figures import COVERAGE_COLUMNS, walk_order
from geo.buildings.linking import LINK_COLUMNS, link_households
from geo.buildings.tables import building_table, grid_buildings, households_by_building
from geo.care import coverage_view as cv
from geo.config import Config
from geo.i18n import t
from geo.outputs.map.drilldown import household_table
from geo.store import open_store
from ui import data

_NO_LINKS = pd.DataFrame(columns=["household_id", *LINK_COLUMNS])


@st.cache_data(show_spinner=False, max_entries=8)
def _links(
    location: str, version: int, key: tuple, _households: pd.DataFrame, _buildings: pd.DataFrame
) -> pd.DataFrame:
    """household_id and ``LINK_COLUMNS`` of ``_households`` (keyed on ``key``: what they are)."""
    del location, version, key
    links = link_households(_households.reset_index(drop=True), _buildings)
    return pd.concat([_households["household_id"].reset_index(drop=True), links], axis=1)


def linked(
    location: str, version: int, households: pd.DataFrame, buildings: pd.DataFrame
) -> pd.DataFrame:
    """``households`` (status rows) with their building link, unit, floor and door: computed
    when read (``geo.buildings.linking``), cached per data version and household set."""
    frame = households.drop(columns=list(LINK_COLUMNS), errors="ignore")
    if len(buildings) == 0 or len(frame) == 0:
        return frame.assign(**{c: None for c in LINK_COLUMNS})
    ids = frame["household_id"].astype(str)
    # what the links are of: the households (ids in order) and the buildings
    key = (len(ids), hash(tuple(ids)), hash(tuple(buildings["building_id"].astype(str))))
    links = _links(location, version, key, frame, buildings)
    merged = frame.merge(links, on="household_id", how="left")
    merged.index = frame.index
    return merged


def worklist_shown(
    location: str, version: int, due: pd.DataFrame, grid_id: str, worker: str, role: str
) -> pd.DataFrame:
    """The coverage page's work list of a grid and a worker ('' = any), without addresses;
    one grid worker's round (``cv.walks_buildings``) in the order they walk it: building by
    building, unit, floor and door, then the most overdue first (``walk_order``)."""
    chosen = cv.worklist_chosen(due, grid_id, worker)
    if len(chosen) and cv.walks_buildings(role, grid_id, worker):
        buildings = data.buildings(location, version)
        names = pd.Series(
            buildings["name"].to_numpy(object), index=buildings["building_id"].astype(str)
        )
        chosen = chosen.iloc[walk_order(linked(location, version, chosen, buildings), names)]
    return cv.without_address(chosen)


def map_buildings(
    location: str, version: int, on_map: pd.DataFrame, grid_ids: list[str], aggregate: bool
) -> tuple[pd.DataFrame, gpd.GeoDataFrame | None]:
    """(the households the map holds, linked; the buildings of ``grid_ids`` to draw, None for
    none): aggregate viewers get no building (a glyph is its households)."""
    if aggregate:
        return on_map, None
    buildings = data.buildings(location, version)
    buildings = buildings[buildings["grid_id"].isin(set(grid_ids))]
    if len(buildings) == 0:
        return on_map, None
    return linked(location, version, on_map, buildings), buildings


def grid_households(
    location: str,
    version: int,
    grid_id: str,
    shown: pd.DataFrame,
    personal: pd.DataFrame,
    lang: str,
    config: Config,
) -> None:
    """A grid's households under the map: with buildings, the buildings' key figures, a
    building to open and the households as a grid worker reads them; else one table."""
    buildings = data.buildings(location, version)
    buildings = buildings[buildings["grid_id"] == grid_id]
    if len(buildings) == 0:
        st.markdown(f"**{t('map_grid_households', lang)}**")
        table = household_table(shown, personal, lang, config)
        st.dataframe(table, hide_index=True, width="stretch", height=360)
        return
    rows = linked(location, version, shown, buildings)
    figures = grid_buildings(buildings, rows, config)
    st.markdown(f"**{t('bld_grid_buildings', lang, n=len(figures))}**")
    st.dataframe(building_table(figures, lang, config), hide_index=True, width="stretch")
    names = pd.Series(figures["name"].astype(str).to_numpy(), index=figures["building_id"])
    choices = ["", *figures["building_id"].astype(str)]
    if st.session_state.get("map_building") not in choices:
        st.session_state["map_building"] = ""
    picked = st.selectbox(
        t("bld_pick_building", lang),
        choices,
        format_func=lambda b: t("bld_all_buildings", lang) if b == "" else names.get(b, b),
        key="map_building",
    )
    if picked:
        rows = rows[rows["building_id"] == picked]
    st.markdown(f"**{t('map_grid_households', lang)}**")
    table = households_by_building(rows, personal, names, lang, config)
    st.dataframe(table, hide_index=True, width="stretch", height=360)


@st.cache_data(show_spinner=False, max_entries=8)
def _coverage(location: str, version: int, as_of: dt.date, scope: data.Scope) -> pd.DataFrame:
    del version
    where = None if scope is None else {"grid_id": [g for g in scope if g is not None]}
    return coverage_by_building(open_store(location), as_of, where, None)


def coverage_section(
    location: str, version: int, as_of: dt.date, viewer: Viewer, lang: str
) -> None:
    """Coverage by building of the viewer's grids: totals and one row per grid (counts of
    buildings and households only, so every role sees it); nothing without buildings."""
    scope = data.grid_scope(location, version, viewer)
    coverage = _coverage(location, version, as_of, scope)
    if coverage.empty:
        return
    st.markdown(f"**{t('bld_coverage_title', lang)}**")
    totals = coverage_totals(coverage)
    for column, tile in zip(COVERAGE_COLUMNS[:3], st.columns(3), strict=True):
        tile.metric(t(f"bld_cov_{column}", lang), f"{totals[column]:,}")
    table = coverage.rename(
        columns={"grid_id": t("map_grid", lang)}
        | {c: t(f"bld_cov_{c}", lang) for c in COVERAGE_COLUMNS}
    )
    st.dataframe(table, hide_index=True, width="stretch", height=min(360, 38 + 35 * len(table)))
