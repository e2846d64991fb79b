"""Glue for the levels above the street (issue 16): the viewer's tree, its areas' figures and
outlines (cached), the district selector, breadcrumbs and the click that drills into an area.

A store whose grids name no district has no level above the street: none of this shows and
the pages behave as for one street office (``is_city``).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.access.auth import Viewer
from geo.access.privacy import suppress_table
from geo.hierarchy.outlines import node_outlines
from geo.hierarchy.rollup import roll_up
from geo.hierarchy.tree import CITY, ROOT, Hierarchy, Node
from geo.i18n import t
from geo.store import open_store
from ui import data, session
from ui.rainbow import keep, reset
from ui.text import md

DISTRICT_KEY = "map_district"
LOWER_KEYS = ("map_street", "map_community", "map_grid")
"""The map page's selectors under the district, narrowest last (ui.rainbow.drill_down)."""


def _who(viewer: Viewer | None) -> Viewer:
    return viewer if viewer is not None else session.viewer()


@st.cache_data(show_spinner=False, max_entries=8)
def _tree(location: str, version: int, scope: tuple[str, ...] | None) -> Hierarchy:
    del version  # cache key only (the grids are part of STRUCTURE)
    where = None if scope is None else {"grid_id": list(scope)}
    grids = open_store(location).read_attributes(
        "grids", ["grid_id", "district", "street", "community"], where=where
    )
    return Hierarchy(grids)


def tree(location: str, version: int, viewer: Viewer | None = None) -> Hierarchy:
    """The tree of the grids in the viewer's scope (cached per grids version and scope)."""
    scope = data.grid_scope(location, version, _who(viewer))
    return _tree(location, data.stable_version(location, version, data.STRUCTURE), scope)


def is_city(hierarchy: Hierarchy) -> bool:
    """Whether the grids name districts: the pages then offer the levels above the street."""
    return "district" in hierarchy.levels


def node_at(district: str = "", street: str = "") -> Node:
    """The node a district and street choice names ('' = not chosen)."""
    if not district:
        return ROOT
    if not street:
        return Node("district", (district,))
    return Node("street", (district, street))


@st.cache_data(show_spinner=False, max_entries=16)
def _outlines(
    location: str, version: int, scope: tuple[str, ...] | None, level: str, path: tuple[str, ...]
) -> gpd.GeoDataFrame:
    # keyed on the grids version: dissolved once per version of the grids
    where = None if scope is None else {"grid_id": list(scope)}
    store = open_store(location)
    grids = store.read("grids", ["grid_id"], where=where)
    hierarchy = _tree(location, version, scope)
    under = ROOT if not path else Node(hierarchy.levels[len(path) - 1], path)
    return node_outlines(grids, hierarchy, level, under)


def outlines(
    location: str, version: int, level: str, under: Node, viewer: Viewer | None = None
) -> gpd.GeoDataFrame:
    """The outlines of the nodes at ``level`` under ``under`` in the viewer's scope (node,
    name, geometry), dissolved from their grids once per grids version."""
    scope = data.grid_scope(location, version, _who(viewer))
    stable = data.stable_version(location, version, data.STRUCTURE)
    return _outlines(location, stable, scope, level, under.path)


def node_table(
    location: str,
    version: int,
    as_of: dt.date,
    level: str,
    under: Node = ROOT,
    viewer: Viewer | None = None,
) -> pd.DataFrame:
    """The figures of the nodes at ``level`` under ``under`` (``geo.hierarchy.rollup``):
    the raw grid figures of the viewer's scope summed up, then suppressed for
    aggregate-only viewers (after all summing, as ``ui.data.scope_totals``)."""
    viewer = _who(viewer)
    scope = data.grid_scope(location, version, viewer)
    return _node_table(location, version, as_of, scope, level, under.path, viewer.aggregates_only)


@st.cache_data(show_spinner=False, max_entries=32)
def _node_table(
    location: str,
    version: int,
    as_of: dt.date,
    scope: tuple[str, ...] | None,
    level: str,
    path: tuple[str, ...],
    suppressed: bool,
) -> pd.DataFrame:
    hierarchy = _tree(location, data.stable_version(location, version, data.STRUCTURE), scope)
    under = ROOT if not path else Node(hierarchy.levels[len(path) - 1], path)
    table = roll_up(data.grid_counts(location, version, as_of, scope), hierarchy, level, under)
    return suppress_table(table) if suppressed else table


def district_choice(hierarchy: Hierarchy, lang: str) -> str:
    """The district selector ('' = the whole city); a viewer of one district starts there."""
    districts = [""] + [n.name for n in hierarchy.children(ROOT) if n.name]
    if len(districts) == 2 and DISTRICT_KEY not in st.session_state:
        st.session_state[DISTRICT_KEY] = districts[1]  # a district leader: start there
    keep(DISTRICT_KEY, districts)
    return st.selectbox(
        t("map_district", lang),
        districts,
        format_func=lambda d: t("map_all", lang) if d == "" else d,
        key=DISTRICT_KEY,
        on_change=reset,
        args=LOWER_KEYS,
    )


def choose_child(level: str, name: str) -> None:
    """Map click callback (before the run it causes): drill into the clicked district or street."""
    if level == "district":
        st.session_state[DISTRICT_KEY] = name
        reset(*LOWER_KEYS)
    elif level == "street":
        st.session_state["map_street"] = name
        reset("map_community", "map_grid")


def breadcrumbs(district: str, street: str, community: str, grid_id: str, lang: str) -> None:
    """City › district › street › community › grid: each step above the current one is a
    button going back up to it (clearing the narrower choices)."""
    steps: list[tuple[str, tuple[str, ...]]] = [(t("map_city", lang), (DISTRICT_KEY, *LOWER_KEYS))]
    for value, keys in (
        (district, LOWER_KEYS),
        (street, LOWER_KEYS[1:]),
        (community, LOWER_KEYS[2:]),
        (grid_id, ()),
    ):
        if value:
            steps.append((value, keys))
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        for i, (label, keys) in enumerate(steps):
            last = i == len(steps) - 1
            st.button(
                md(label),  # a name from the data: text, never markup
                key=f"map_crumb_{i}",
                on_click=reset,
                args=keys,
                disabled=last,
                type="tertiary",
            )
            if not last:
                st.markdown("›", width="content")


def level_name(level: str, lang: str) -> str:
    """The label of a level ("区县", "街道" ...)."""
    return t("map_city", lang) if level == CITY else t(f"map_{level}", lang)


def area_label(node: Node, lang: str) -> str:
    """An area as a selector lists it: "全市", "新城区", "新城区 › 东风路街道"."""
    if node.level == CITY:
        return t("map_city", lang)
    return " › ".join(name or t("map_not_given", lang) for name in node.path)


def area_choice(hierarchy: Hierarchy, lang: str, key: str) -> Node:
    """The area a page covers in a city (coverage, weekly pack): the city, a district or one
    of its street offices, in tree order."""
    options = [ROOT]
    for district in hierarchy.children(ROOT):
        options.append(district)
        options.extend(s for s in hierarchy.children(district) if s.level == "street")
    if st.session_state.get(key) not in options:
        st.session_state[key] = ROOT
    return st.selectbox(
        t("area_choice", lang),
        options,
        format_func=lambda node: area_label(node, lang),
        key=key,
        help=t("area_choice_help", lang),
    )


def area_scope(
    hierarchy: Hierarchy, node: Node, scope: tuple[str, ...] | None
) -> tuple[str, ...] | None:
    """The grids of ``node`` within the viewer's ``scope`` (the tree holds only those): the
    scope itself for the city (None = all, the unassigned households included)."""
    if node == ROOT:
        return scope
    return tuple(sorted(hierarchy.grid_ids(node)))
