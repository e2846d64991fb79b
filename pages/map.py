"""The rainbow map: grids and households by care category, drill-down, report overlay.

Everything is loaded for the signed-in viewer's scope (``ui.data``). Aggregate-only
viewers (planner, meeting, meeting mode) get the aggregate form: grid polygons and
suppressed grid/community figures, no household or report rows at all.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.outputs import figures as fig
from geo.outputs.map.build import POINTS_MIN_ZOOM, HouseholdFilter, build_map
from geo.outputs.map.legend import FILL_MEASURES, legend_counts
from geo.outputs.map.tiles import tile_provider_from_env
from geo.store import open_store
from geo.timeutil import now_local
from ui import auth, data, session
from ui.aggregate import render_aggregate_figures
from ui.mapview import hide_household_legend, show_map
from ui.text import md, md_t

# rates as percentages (the columns hold rate * 100), rounded as everywhere (geo.outputs.figures)
_PERCENT = st.column_config.ProgressColumn(
    format=fig.RATE_COLUMN_FORMAT, min_value=0, max_value=100
)
_RATIO = st.column_config.NumberColumn(format="%.1f")  # households per worker, as ratio_text
_COUNT = st.column_config.NumberColumn(format="localized")  # 2,592, as count_text
# above this many households, points only for a chosen community or grid (level of detail)
MAX_POINTS = data.map_max_points()

lang = session.lang()
as_of = session.as_of()
location = auth.location()
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
# for aggregate-only viewers small counts are "<3" here: shown as such, never summed (the
# page's totals come from data.scope_totals)
grids = gpd.GeoDataFrame(
    polygons[["grid_id", polygons.geometry.name]].merge(figures, on="grid_id", how="left"),
    geometry=polygons.geometry.name,
    crs=polygons.crs,
)
for column in ("street", "community"):
    grids[column] = grids[column].fillna("").astype(str)


def _choose_grid(grid_id: str, places: dict[str, tuple[str, str]]) -> None:
    """Map click callback (before the run it causes): select the grid, its community and street."""
    if grid_id in places:
        st.session_state["map_street"], st.session_state["map_community"] = places[grid_id]
        st.session_state["map_grid"] = grid_id


def _all_or(value: str) -> str:
    return t("map_all", lang) if value == "" else value


def _keep(key: str, options: list[str]) -> None:
    """Reset a selector whose value is no longer among its options (e.g. street changed)."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = ""


def _reset(*keys: str) -> None:
    """Widget callback: choosing a wider area (e.g. 社区 = 全部) clears the narrower choices."""
    for key in keys:
        st.session_state[key] = ""


# --- drill-down: street -> community -> grid --------------------------------------------
col_street, col_community, col_grid = st.columns(3)
streets = [""] + sorted(s for s in grids["street"].unique() if s)
if len(streets) == 2 and "map_street" not in st.session_state:
    st.session_state["map_street"] = streets[1]  # one street office: start there
_keep("map_street", streets)
with col_street:
    street = st.selectbox(
        t("map_street", lang),
        streets,
        format_func=_all_or,
        key="map_street",
        on_change=_reset,
        args=("map_community", "map_grid"),
    )
in_street = grids if street == "" else grids[grids["street"] == street]
communities = [""] + sorted(c for c in in_street["community"].unique() if c)
limited = data.grid_scope(location, version) is not None
if limited and len(communities) == 2 and "map_community" not in st.session_state:
    st.session_state["map_community"] = communities[1]  # a community's staff: start there
_keep("map_community", communities)
with col_community:
    community = st.selectbox(
        t("map_community", lang),
        communities,
        format_func=_all_or,
        key="map_community",
        on_change=_reset,
        args=("map_grid",),
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
lod = not aggregate and int(in_street["households"].fillna(0).sum()) > MAX_POINTS
grid_totals = lod and whole_area and not chosen and not only_overdue
if grid_totals:
    if street == "" and data.grid_scope(location, version) is None:
        statuses = data.household_statuses(location, version, as_of, grid_ids=[None])
elif lod:  # a chosen community or grid: only its households
    statuses = data.household_statuses(
        location, version, as_of, grid_ids=None if whole_area else sorted(scope_ids)
    )
elif not aggregate:
    # every household of the viewer's scope, once (cached): choosing a community, a grid or
    # a filter then changes only what the map shows, never the map itself (no reload)
    statuses = data.household_statuses(location, version, as_of)
on_map = statuses["grid_id"].isin(set(in_street["grid_id"])).to_numpy()
if street == "":
    on_map = on_map | statuses["grid_id"].isna().to_numpy()
statuses = statuses[on_map]  # the households the map holds (its grids' and the unassigned)
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


# --- key figures: every tile follows the choices and filters ----------------------------
def _grid_sum(column: str) -> int:
    """A raw count summed over the grids in scope (grid_totals: never for aggregate viewers)."""
    return int(scope[column].fillna(0).sum()) if column in scope else 0


summary_counts = None
if aggregate:
    # summed from the raw grid figures, then suppressed once (ui.data.scope_totals)
    totals = data.scope_totals(location, version, as_of, grid_ids=sorted(scope_ids))
elif grid_totals:
    # the grids' own figures, plus the unassigned households (loaded: no grid counts them)
    totals = fig.add_households(
        data.scope_totals(location, version, as_of, grid_ids=sorted(scope_ids)), households
    )
    loose = legend_counts(households, config)
    summary_counts = {
        **{code: _grid_sum(f"n_{code}") + loose.get(code, 0) for code in config.category_codes},
        "ordinary": totals["households"] - totals["visit_required"],
        "overdue": totals["visit_required"] - totals["visit_compliant"],
    }  # no "several": the grid figures do not count households with two or more categories
else:
    # the households shown (categories, overdue only): the tiles say what the map draws
    totals = data.scope_totals(
        location, version, as_of, grid_ids=sorted(scope_ids), households=shown
    )
# for a wide audience a rate over 1 or 2 households reads "n<3" (its base is suppressed)
visit_base = totals["visit_required"] if aggregate else None
fresh_base = totals["households"] if aggregate else None
m1, m2, m3, m4, m5, m6 = st.columns(6)
m1.metric(t("map_grids_count", lang), fig.count_text(totals["grids"]))
m2.metric(t("map_households", lang), fig.count_text(totals["households"]))
m3.metric(t("map_care_households", lang), fig.count_text(totals["households_care"]))
m4.metric(t("map_fill_visit_rate", lang), fig.rate_text(totals["visit_rate"], visit_base))
m5.metric(t("map_fill_freshness_rate", lang), fig.rate_text(totals["freshness_rate"], fresh_base))
m6.metric(t("map_open_reports", lang), fig.count_text(totals["reports_open"]))
if chosen or only_overdue:
    st.caption(t("map_figures_filtered", lang))

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
    pd.DataFrame() if aggregate else statuses.iloc[:0] if too_many else statuses,
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
    # the households the choices leave (drawn in the browser from those the map holds)
    show=HouseholdFilter(
        categories=tuple(chosen),
        only_overdue=only_overdue,
        grid_ids=None if whole_area else tuple(sorted(scope_ids)),
        unassigned=whole_area and street == "",
    ),
)
if aggregate:
    hide_household_legend(fmap)  # its per-category counts would read 0
places = {
    g: (s, c) for g, s, c in zip(grids["grid_id"], grids["street"], grids["community"], strict=True)
}
show_map(fmap, key="rainbow_map", on_grid=lambda g: _choose_grid(g, places))


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
        # the households the filters leave, those with a care category (overdue first) on top
        table = fig.care_first(shown).merge(personal, on="household_id", how="left")
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
        if viewer.may_reveal and len(shown):
            _reveal_form(fig.care_first(shown)["household_id"].astype(str).tolist())
elif aggregate:
    st.subheader(
        md_t("map_key_figures", lang, name=community or street or t("map_whole_area", lang))
    )
    render_aggregate_figures(lang, location, version)
elif community:
    st.subheader(md_t("map_key_figures", lang, name=community))
    st.markdown(f"**{t('map_community_grids', lang)}**")
    # household figures of the households shown (they follow the filters); reports and
    # staffing are the grids' own
    counted = fig.household_counts_by(shown, "grid_id").set_index("grid_id")
    summary = pd.DataFrame(
        {
            t("map_grid", lang): scope["grid_id"],
            t("map_col_name", lang): scope["name"],
            t("map_households", lang): scope["grid_id"].map(counted["households"]).fillna(0),
            t("map_fill_visit_rate", lang): scope["grid_id"].map(counted["visit_rate"]) * 100,
            t("map_fill_freshness_rate", lang): scope["grid_id"].map(counted["freshness_rate"])
            * 100,
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
            t("map_fill_households_per_worker", lang): _RATIO,
            t("map_households", lang): _COUNT,
        },
    )
else:
    st.subheader(md_t("map_key_figures", lang, name=street or t("map_whole_area", lang)))
    st.markdown(f"**{t('map_street_communities', lang)}**")
    communities_table = data.community_figures(location, version, as_of)
    if street:
        communities_table = communities_table[communities_table["street"] == street]
    if grid_totals:  # no household loaded: the communities' own figures
        counted = communities_table.set_index("community")
    else:  # the households shown (they follow the filters)
        in_community = shown.assign(
            community=shown["grid_id"].map(
                dict(zip(grids["grid_id"], grids["community"], strict=True))
            )
        )
        counted = fig.household_counts_by(
            in_community[in_community["community"].notna()], "community"
        ).set_index("community")
    overview = pd.DataFrame(
        {
            t("map_community", lang): communities_table["community"],
            t("map_grids_count", lang): communities_table["grids"],
            t("map_households", lang): communities_table["community"]
            .map(counted["households"])
            .fillna(0),
            t("map_fill_visit_rate", lang): communities_table["community"].map(
                counted["visit_rate"]
            )
            * 100,
            t("map_fill_freshness_rate", lang): communities_table["community"].map(
                counted["freshness_rate"]
            )
            * 100,
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
            t("map_fill_households_per_worker", lang): _RATIO,
            t("map_households", lang): _COUNT,
        },
    )
