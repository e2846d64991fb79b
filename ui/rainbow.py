"""Glue for the rainbow map page: drill-down selectors, what to load (level of detail), reveal.

The households come from one per-household frame (``ui.data.household_statuses``, the frame
of ``geo.care.status``): its rows are the map's points and legend and the tables under it,
and the grid figures of the same scope are summed from it (``ui.data.grid_figures``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from geo.access.auth import Viewer
from geo.care.status import in_grids
from geo.config import Config
from geo.i18n import t
from geo.outputs import figures as fig
from geo.outputs.map.drilldown import (
    Choice,
    communities_of,
    households_in_view,
    legend_from_grids,
    streets_of,
    where,
)
from geo.timeutil import now_local
from ui import data
from ui.text import md, md_t

_NO_HOUSEHOLDS = pd.DataFrame(
    columns=["household_id", "grid_id", "categories", "required", "compliant", "fresh", "overdue"]
)


def keep(key: str, options: list[str]) -> None:
    """Reset a selector whose value is no longer among its options (e.g. street changed)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = ""


def reset(*keys: str) -> None:
    """Widget callback: choosing a wider area (e.g. 社区 = 全部) clears the narrower choices."""
    for key in keys:
        st.session_state[key] = ""


def choose_grid(grid_id: str, places: dict[str, tuple[str, str]]) -> None:
    """Map click callback (before the run it causes): select the grid, its community and street."""
    if grid_id in places:
        st.session_state["map_street"], st.session_state["map_community"] = places[grid_id]
        st.session_state["map_grid"] = grid_id


def drill_down(
    grids: pd.DataFrame,
    lang: str,
    limited: bool,
    district_select: Callable[[], str] | None = None,
) -> tuple[str, str, str, str]:
    """The (district,) street, community and grid selectors ('' = all), each offering what
    the wider choice holds; one street office (or a limited viewer's one community) starts
    chosen. ``district_select``: the district selector of a city's store (``ui.hierarchy``),
    drawn first; without it the district is ''."""

    def all_or(value: str) -> str:
        return t("map_all", lang) if value == "" else value

    district = ""
    if district_select is None:
        col_street, col_community, col_grid = st.columns(3)
    else:
        col_district, col_street, col_community, col_grid = st.columns(4)
        with col_district:
            district = district_select()
        grids = where(grids, "district", district)
    streets = streets_of(grids)
    if len(streets) == 2 and "map_street" not in st.session_state:
        st.session_state["map_street"] = streets[1]  # one street office: start there
    keep("map_street", streets)
    with col_street:
        street = st.selectbox(
            t("map_street", lang),
            streets,
            format_func=all_or,
            key="map_street",
            on_change=reset,
            args=("map_community", "map_grid"),
        )
    in_street = where(grids, "street", street)
    communities = communities_of(in_street)
    if limited and len(communities) == 2 and "map_community" not in st.session_state:
        st.session_state["map_community"] = communities[1]  # a community's staff: start there
    keep("map_community", communities)
    with col_community:
        community = st.selectbox(
            t("map_community", lang),
            communities,
            format_func=all_or,
            key="map_community",
            on_change=reset,
            args=("map_grid",),
        )
    names = dict(zip(grids["grid_id"], grids["name"].fillna(""), strict=True))
    grid_ids = [""] + where(in_street, "community", community)["grid_id"].tolist()
    keep("map_grid", grid_ids)
    with col_grid:
        grid_id = st.selectbox(
            t("map_grid", lang),
            grid_ids,
            format_func=lambda g: all_or(g) if g == "" else f"{g} · {names.get(g, '')}",
            key="map_grid",
        )
    return district, street, community, grid_id


@dataclass
class MapView:
    """The households the map holds and shows for a choice, and the key figures."""

    on_map: pd.DataFrame  # the rows the map holds (its grids' and the unassigned)
    households: pd.DataFrame  # of the chosen area
    shown: pd.DataFrame  # the filters applied
    grid_totals: bool  # level of detail, nothing chosen: figures from the grids, no point
    too_many: bool  # no point drawn
    n_shown: int
    totals: dict[str, object]
    legend: dict[str, int] | None  # legend counts from the grids (level of detail)


def map_view(
    location: str,
    version: int,
    as_of: dt.date,
    choice: Choice,
    in_street: pd.DataFrame,
    scope: pd.DataFrame,
    viewer: Viewer,
    config: Config,
) -> MapView:
    """Load the households a choice needs (none for aggregate viewers; above
    ``data.map_max_points`` none of the whole area) and the key figures of the scope."""
    scope_ids = sorted(scope["grid_id"])
    aggregate = viewer.aggregates_only
    max_points = data.map_max_points()
    lod = not aggregate and int(in_street["households"].fillna(0).sum()) > max_points
    grid_totals = lod and choice.whole_area and not choice.filtered
    if lod and choice.whole_area and choice.filtered:
        return _filtered_counts(location, version, as_of, choice, in_street, scope)
    frame = _NO_HOUSEHOLDS
    if grid_totals:  # only the unassigned households, which no grid counts
        # (none outside the grids: nothing to load, the state's texts stay undecoded)
        counted = int(in_street["households"].fillna(0).sum())
        if (
            choice.street == ""
            and data.grid_scope(location, version) is None
            and data.households_total(location, version, viewer) > counted
        ):
            frame = data.household_statuses(location, version, as_of, grid_ids=[None])
    elif lod:  # a chosen community or grid: only its households
        frame = data.household_statuses(
            location, version, as_of, grid_ids=None if choice.whole_area else scope_ids
        )
    elif not aggregate:
        # every household of the viewer's scope, once (cached): choosing a community, a grid or
        # a filter then changes only what the map shows, never the map itself (no reload); in
        # a city (a district chosen) only the chosen street's: the city is not one page's
        # a street office over the budget likewise: the chosen street's only
        whole = choice.district == "" and (
            choice.street == "" or data.households_total(location, version, viewer) <= max_points
        )
        street_ids = None if whole else sorted(in_street["grid_id"])
        frame = data.household_statuses(location, version, as_of, grid_ids=street_ids)
    on_map, households, shown = households_in_view(
        frame, in_street["grid_id"].tolist(), scope_ids, choice
    )
    legend = None
    if aggregate:  # summed from the raw grid figures, then suppressed once
        totals = data.scope_totals(location, version, as_of, grid_ids=scope_ids)
    elif grid_totals:  # the grids' own figures, plus the unassigned households
        totals = fig.add_households(
            data.scope_totals(location, version, as_of, grid_ids=scope_ids), households
        )
        legend = legend_from_grids(scope, households, totals, config)  # type: ignore[arg-type]
    else:  # the households shown: the tiles say what the map draws
        totals = data.scope_totals(location, version, as_of, grid_ids=scope_ids, households=shown)
    too_many = grid_totals or (len(shown) > max_points and choice.whole_area)
    n_shown = len(shown) + (int(scope["households"].fillna(0).sum()) if grid_totals else 0)
    return MapView(on_map, households, shown, grid_totals, too_many, n_shown, totals, legend)


def _filtered_counts(
    location: str,
    version: int,
    as_of: dt.date,
    choice: Choice,
    in_street: pd.DataFrame,
    scope: pd.DataFrame,
) -> MapView:
    """A filter over a whole area above the point budget: no point, the grids labelled with
    how many of their households the filter leaves (lean rows from the care state's counters,
    ``data.filtered_households``; no household's status is loaded)."""
    rows = data.filtered_households(
        location, version, as_of, choice.categories, choice.only_overdue
    )
    everywhere = choice.street == ""
    shown = in_grids(rows, in_street["grid_id"].tolist(), unassigned=everywhere)
    scope_ids = sorted(scope["grid_id"])
    totals = data.scope_totals(location, version, as_of, grid_ids=scope_ids, households=shown)
    return MapView(_NO_HOUSEHOLDS, shown, shown, False, True, len(shown), totals, None)


def key_figures(totals: dict[str, object], aggregate: bool, filtered: bool, lang: str) -> None:
    """Six tiles: grids, households, care households, visit and freshness rates, open reports.

    For a wide audience a rate over 1 or 2 households reads "n<3" (its base is suppressed).
    """
    visit_base = totals["visit_required"] if aggregate else None
    fresh_base = totals["households"] if aggregate else None
    m1, m2, m3, m4, m5, m6 = st.columns(6)
    m1.metric(t("map_grids_count", lang), fig.count_text(totals["grids"]))
    m2.metric(t("map_households", lang), fig.count_text(totals["households"]))
    m3.metric(t("map_care_households", lang), fig.count_text(totals["households_care"]))
    m4.metric(t("map_fill_visit_rate", lang), fig.rate_text(totals["visit_rate"], visit_base))
    m5.metric(
        t("map_fill_freshness_rate", lang), fig.rate_text(totals["freshness_rate"], fresh_base)
    )
    m6.metric(t("map_open_reports", lang), fig.count_text(totals["reports_open"]))
    if filtered:
        st.caption(t("map_figures_filtered", lang))


def reveal_form(location: str, household_ids: list[str], viewer: Viewer, lang: str) -> None:
    """Reveal one household's full name, phone and ID on a click; each reveal is audited."""
    with st.expander(t("auth_reveal_title", lang)):
        st.caption(t("auth_reveal_help", lang))
        picked = st.selectbox(
            t("auth_reveal_pick", lang), household_ids, key="map_reveal_household"
        )
        if st.button(t("auth_reveal_button", lang), key="map_reveal"):
            fields = data.reveal_household(location, picked)
            st.table(  # st.table renders its cells as Markdown: data escaped
                pd.DataFrame(
                    {
                        t("map_household_id", lang): [md(fields["household_id"])],
                        t("map_col_head_name", lang): [md(fields["head_name"])],
                        t("map_col_phone", lang): [md(fields["phone"])],
                        t("map_col_id_number", lang): [md(fields["id_number"])],
                    }
                )
            )
            st.caption(
                md_t("auth_revealed", lang, user=viewer.username, household=picked, at=now_local())
            )
