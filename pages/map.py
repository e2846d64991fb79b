"""The rainbow map: grids and households by care category, drill-down, report overlay.

Everything is loaded for the signed-in viewer's scope (``ui.data``). Aggregate-only
viewers (planner, meeting, meeting mode) get the aggregate form: grid polygons and
suppressed grid/community figures, no household or report rows at all.
"""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.mapping import (
    FILL_MEASURES,
    POINTS_MIN_ZOOM,
    build_map,
    legend_counts,
    tile_provider_from_env,
)
from geo.store import open_store
from geo.timeutil import now_local
from ui import data, session
from ui.aggregate import render_aggregate_figures
from ui.mapview import hide_household_legend, show_map
from ui.text import md, md_t

# rates are shown as whole percentages (the columns hold rate * 100)
_PERCENT = st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100)
# above this many households, points only for a chosen community or grid (level of detail)
MAX_POINTS = int(os.environ.get("GRIDMAP_MAP_MAX_POINTS", "150000"))
PENDING_CLICK = "map_pending_grid"

lang = session.lang()
as_of = session.as_of()
location = session.location()
config = load_config()
viewer = session.viewer()
aggregate = viewer.aggregates_only

st.title(t("map_title", lang))
st.caption(t("map_caption", lang, as_of=as_of.isoformat()))
if aggregate:
    st.info(t("auth_aggregate_notice", lang))

store = open_store(location)
if not store.exists() or store.count("grids") + store.count("households") == 0:
    st.info(md_t("ui_no_data", lang, location=location))
    st.stop()

version = data.data_version(location)
polygons = data.grid_polygons(location, version)
figures = data.grid_figures(location, version, as_of)
# households are loaded below, once the choices show which are needed (none for
# aggregate viewers)
statuses = pd.DataFrame(
    columns=[
        "household_id",
        "grid_id",
        "categories",
        "required",
        "compliant",
        "fresh",
        "overdue",
    ]
)
if aggregate:
    # counts under 3 arrive as "<3" (NaN on the map)
    figures = figures.apply(
        lambda c: pd.to_numeric(c, errors="coerce") if c.dtype == object and c.eq("<3").any() else c
    )
grids = gpd.GeoDataFrame(
    polygons[["grid_id", polygons.geometry.name]].merge(figures, on="grid_id", how="left"),
    geometry=polygons.geometry.name,
    crs=polygons.crs,
)
for column in ("street", "community"):
    grids[column] = grids[column].fillna("").astype(str)

# a grid clicked on the map in the previous run selects it (and its community, street)
pending = st.session_state.pop(PENDING_CLICK, None)
if pending is not None and pending in set(grids["grid_id"]):
    row = grids.loc[grids["grid_id"] == pending].iloc[0]
    st.session_state["map_street"] = row["street"]
    st.session_state["map_community"] = row["community"]
    st.session_state["map_grid"] = pending


def _all_or(value: str) -> str:
    return t("map_all", lang) if value == "" else value


def _keep(key: str, options: list[str]) -> None:
    """Reset a selector whose value is no longer among its options (e.g. street changed)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = ""


# --- drill-down: street -> community -> grid --------------------------------------------
col_street, col_community, col_grid = st.columns(3)
streets = [""] + sorted(s for s in grids["street"].unique() if s)
if len(streets) == 2 and "map_street" not in st.session_state:
    st.session_state["map_street"] = streets[1]  # one street office: start there
_keep("map_street", streets)
with col_street:
    street = st.selectbox(t("map_street", lang), streets, format_func=_all_or, key="map_street")
in_street = grids if street == "" else grids[grids["street"] == street]
communities = [""] + sorted(c for c in in_street["community"].unique() if c)
_keep("map_community", communities)
with col_community:
    community = st.selectbox(
        t("map_community", lang), communities, format_func=_all_or, key="map_community"
    )
in_community = in_street if community == "" else in_street[in_street["community"] == community]
names = dict(zip(grids["grid_id"], grids["name"].fillna(""), strict=True))
grid_ids = [""] + in_community["grid_id"].tolist()
_keep("map_grid", grid_ids)
with col_grid:
    grid_id = st.selectbox(
        t("map_grid", lang),
        grid_ids,
        format_func=lambda g: _all_or(g) if g == "" else f"{g} · {names.get(g, '')}",
        key="map_grid",
    )
scope = in_community if grid_id == "" else in_community[in_community["grid_id"] == grid_id]

# --- filters and display ----------------------------------------------------------------
with st.expander(t("map_filters", lang), expanded=True):
    col_fill, col_cats, col_flags = st.columns([1, 2, 1])
    with col_fill:
        fill = st.selectbox(
            t("map_fill", lang),
            FILL_MEASURES,
            format_func=lambda m: t(f"map_fill_{m}", lang),
            key="map_fill_measure",
        )
    chosen, only_overdue, show_reports, heat = [], False, False, False
    if not aggregate:  # household and report filters: nothing to filter in the aggregate form
        with col_cats:
            chosen = st.multiselect(
                t("map_filter_categories", lang),
                config.category_codes,
                format_func=lambda c: config.category(c).label(lang),
                key="map_categories",
                placeholder=t("map_filter_categories_placeholder", lang),
                help=t("map_filter_categories_help", lang),
            )
        with col_flags:
            only_overdue = st.toggle(t("map_filter_overdue", lang), key="map_only_overdue")
            show_reports = st.toggle(t("map_show_reports", lang), key="map_show_reports")
            heat = st.toggle(
                t("map_reports_heat", lang), key="map_reports_heat", disabled=not show_reports
            )

# --- households and reports in scope ------------------------------------------------------
scope_ids = set(scope["grid_id"])
whole_area = community == "" and grid_id == ""
# level of detail: with more than MAX_POINTS households and nothing chosen no household is
# drawn, so none is loaded: key figures and legend come from the grid figures (the
# unassigned households, which no grid counts, are loaded on their own)
grid_totals = not aggregate and (
    whole_area
    and not chosen
    and not only_overdue
    and int(scope["households"].fillna(0).sum()) > MAX_POINTS
)
if grid_totals:
    if street == "" and data.grid_scope(location, version) is None:
        statuses = data.household_statuses(location, version, as_of, grid_ids=[None])
elif not aggregate:  # a chosen community or grid: only its households
    statuses = data.household_statuses(
        location, version, as_of, grid_ids=None if whole_area else sorted(scope_ids)
    )
in_scope = statuses["grid_id"].isin(scope_ids).to_numpy()
if whole_area and street == "":
    in_scope = (
        in_scope | statuses["grid_id"].isna().to_numpy()
    )  # unassigned households belong to the whole area
households = statuses[in_scope]
shown = households
if chosen:
    padded = ";" + shown["categories"].fillna("").astype(str) + ";"
    keep = np.zeros(len(shown), dtype=bool)
    for code in chosen:
        keep |= padded.str.contains(f";{code};", regex=False).to_numpy(bool)
    shown = shown[keep]
if only_overdue:
    shown = shown[shown["overdue"].fillna(False).astype(bool).to_numpy()]
too_many = grid_totals or (len(shown) > MAX_POINTS and whole_area)
n_shown = len(shown) + (int(scope["households"].fillna(0).sum()) if grid_totals else 0)

reports = None
if show_reports:
    all_reports = data.report_points(location, version, as_of)
    reports = all_reports[
        all_reports["grid_id"].isin(scope_ids) | (whole_area & all_reports["grid_id"].isna())
    ]


# --- key figures -----------------------------------------------------------------------
def _grid_sum(column: str) -> int:
    """A count summed over the grids in scope (suppressed grids add nothing: a lower bound)."""
    return int(scope[column].fillna(0).sum()) if column in scope else 0


summary_counts = None
if aggregate or grid_totals:
    # from the grid figures
    n_households = _grid_sum("households")
    required = _grid_sum("visit_required")
    compliant = _grid_sum("visit_compliant")
    fresh = _grid_sum("fresh")
    # households holding a category are exactly those with visits required (summing the
    # per-category counts would count a two-category household twice)
    n_care = required
if grid_totals:
    # plus the unassigned households (loaded: none of them is in a grid's figures)
    n_households += len(households)
    loose_required = households["required"].fillna(False).astype(bool)
    required += int(loose_required.sum())
    compliant += int((loose_required & households["compliant"].fillna(False).astype(bool)).sum())
    fresh += int(households["fresh"].fillna(False).astype(bool).sum())
    n_care += int(loose_required.sum())
    loose = legend_counts(households, config)
    summary_counts = {
        **{code: _grid_sum(f"n_{code}") + loose.get(code, 0) for code in config.category_codes},
        "ordinary": n_households - required,
        "overdue": required - compliant,
    }  # no "several": the grid figures do not count households with two or more categories
elif not aggregate:
    n_households = len(households)
    n_care = int((households["categories"].fillna("").astype(str) != "").sum())
    required = int(households["required"].fillna(False).astype(bool).sum())
    compliant = int(
        (
            households["required"].fillna(False).astype(bool)
            & households["compliant"].fillna(False).astype(bool)
        ).sum()
    )
    fresh = int(households["fresh"].fillna(False).astype(bool).sum())
m1, m2, m3, m4, m5, m6 = st.columns(6)
m1.metric(t("map_grids_count", lang), f"{len(scope):,}")
m2.metric(t("map_households", lang), f"{n_households:,}")
m3.metric(t("map_care_households", lang), f"{n_care:,}" if not aggregate or n_care >= 3 else "<3")
m4.metric(t("map_fill_visit_rate", lang), f"{compliant / required:.0%}" if required else "–")
m5.metric(
    t("map_fill_freshness_rate", lang), f"{fresh / n_households:.0%}" if n_households else "–"
)
m6.metric(t("map_open_reports", lang), f"{int(scope['reports_open'].fillna(0).sum()):,}")

# --- the map ----------------------------------------------------------------------------
try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None
if too_many:
    st.info(t("map_too_many_points", lang, n=f"{n_shown:,}"))
    if summary_counts is not None:
        st.caption(t("map_legend_from_grids", lang))
elif len(shown) > 20_000:
    st.caption(t("map_zoom_hint", lang, zoom=POINTS_MIN_ZOOM))
st.caption(t("map_click_hint", lang))
fmap = build_map(
    in_street,
    # aggregate form: no household columns at all, so grids are labelled with their figures
    pd.DataFrame() if aggregate else shown.iloc[:0] if too_many else shown,
    reports,
    fill=fill,
    lang=lang,
    as_of=as_of,
    selected_grids=[grid_id] if grid_id else [],
    focus=None if whole_area else scope,
    tiles=tiles,
    heat=heat,
    summary=None if aggregate else shown,
    summary_counts=summary_counts,
)
if aggregate:
    hide_household_legend(fmap)  # its per-category counts would read 0
clicked = show_map(fmap, key="rainbow_map")
if clicked and clicked != grid_id:
    st.session_state[PENDING_CLICK] = clicked
    st.rerun()


# --- drill-down details -------------------------------------------------------------------
def _reveal_form(household_ids: list[str]) -> None:
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


if grid_id:
    row = scope.iloc[0]
    st.subheader(md_t("map_key_figures", lang, name=f"{grid_id} · {row.get('name') or ''}"))
    left, right = st.columns([1, 3])
    with left:
        branch = row.get("party_branch")
        st.markdown(
            f"**{t('map_party_branch', lang)}**: {md(branch) if isinstance(branch, str) and branch else t('map_no_party_branch', lang)}"
        )
        by_role = row.get("staff_by_role") or {}
        st.markdown(f"**{t('map_staff_by_role', lang)}**")
        if by_role:
            roles = pd.DataFrame(
                {
                    t("map_role", lang): [
                        t(f"map_role_{r}", lang) if r in config.roles else r for r in by_role
                    ],
                    t("map_staff_count", lang): list(by_role.values()),
                }
            )
            st.dataframe(roles, hide_index=True, width="stretch")
        else:
            st.caption(t("map_no_staff", lang))
    with right:
        if aggregate:
            render_aggregate_figures(lang, location, version)
            st.stop()
        st.markdown(f"**{t('map_grid_households', lang)}**")
        personal = data.grid_households_masked(location, grid_id)
        table = households.merge(personal, on="household_id", how="left")
        labels = {c.code: c.label(lang) for c in config.categories}
        table = pd.DataFrame(
            {
                t("map_household_id", lang): table["household_id"],
                t("map_building", lang): table["building"],
                t("map_categories", lang): table["categories"]
                .fillna("")
                .map(
                    lambda s: (
                        t("map_list_separator", lang).join(
                            labels.get(c, c) for c in s.split(";") if c
                        )
                        or t("map_legend_ordinary", lang)
                    )
                ),
                t("map_last_visit", lang): table["last_visit"].astype("string").str.slice(0, 16),
                t("map_next_due", lang): table["next_due"],
                t("map_overdue_visit", lang): table["overdue"].map(
                    {True: t("map_yes", lang), False: ""}
                ),
                t("map_col_head_name", lang): table["head_name"],
                t("map_col_phone", lang): table["phone"],
                t("map_col_id_number", lang): table["id_number"],
                t("map_col_address", lang): table["address"],
            }
        ).fillna("")
        st.dataframe(table, hide_index=True, width="stretch", height=360)
        if viewer.may_reveal and len(households):
            _reveal_form(households["household_id"].astype(str).tolist())
elif aggregate:
    st.subheader(
        md_t("map_key_figures", lang, name=community or street or t("map_whole_area", lang))
    )
    render_aggregate_figures(lang, location, version)
elif community:
    st.subheader(md_t("map_key_figures", lang, name=community))
    st.markdown(f"**{t('map_community_grids', lang)}**")
    summary = pd.DataFrame(
        {
            t("map_grid", lang): scope["grid_id"],
            t("map_col_name", lang): scope["name"],
            t("map_households", lang): scope["households"],
            t("map_fill_visit_rate", lang): scope["visit_rate"] * 100,
            t("map_fill_freshness_rate", lang): scope["freshness_rate"] * 100,
            t("map_fill_reports_overdue", lang): scope["reports_overdue"],
            t("map_fill_households_per_worker", lang): scope["households_per_worker"],
            t("map_party_branch", lang): scope["has_party_branch"].map(
                {True: t("map_yes", lang), False: t("map_no", lang)}
            ),
        }
    )
    st.dataframe(
        summary,
        hide_index=True,
        width="stretch",
        column_config={
            t("map_fill_visit_rate", lang): _PERCENT,
            t("map_fill_freshness_rate", lang): _PERCENT,
        },
    )
else:
    st.subheader(md_t("map_key_figures", lang, name=street or t("map_whole_area", lang)))
    st.markdown(f"**{t('map_street_communities', lang)}**")
    communities_table = data.community_figures(location, version, as_of)
    if street:
        communities_table = communities_table[communities_table["street"] == street]
    overview = pd.DataFrame(
        {
            t("map_community", lang): communities_table["community"],
            t("map_grids_count", lang): communities_table["grids"],
            t("map_households", lang): communities_table["households"],
            t("map_fill_visit_rate", lang): communities_table["visit_rate"] * 100,
            t("map_fill_freshness_rate", lang): communities_table["freshness_rate"] * 100,
            t("map_fill_reports_overdue", lang): communities_table["reports_overdue"],
            t("map_fill_households_per_worker", lang): communities_table["households_per_worker"],
            t("map_grids_without_branch", lang): communities_table["grids_without_party_branch"],
        }
    )
    st.dataframe(
        overview,
        hide_index=True,
        width="stretch",
        column_config={
            t("map_fill_visit_rate", lang): _PERCENT,
            t("map_fill_freshness_rate", lang): _PERCENT,
        },
    )
