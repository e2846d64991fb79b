"""The rainbow map: grids and households by care category, drill-down, report overlay.

Everything is loaded for the signed-in viewer's scope (``ui.data``). Aggregate-only
viewers (planner, meeting, meeting mode) get the aggregate form: grid polygons and
suppressed grid/community figures, no household or report rows at all.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.outputs import figures as fig
from geo.outputs.map import drilldown as drill
from geo.outputs.map.build import POINTS_MIN_ZOOM, HouseholdFilter, build_map
from geo.outputs.map.legend import FILL_MEASURES
from geo.outputs.map.tiles import tile_provider_from_env
from geo.store import open_store
from ui import auth, data, session
from ui import hierarchy as hier
from ui.aggregate import render_aggregate_figures
from ui.buildings import grid_households, map_buildings
from ui.cases import with_owner_labels
from ui.mapview import hide_household_legend, show_map
from ui.rainbow import choose_grid, drill_down, key_figures, map_view, reveal_form
from ui.text import md, md_t

# rates as percentages (the columns hold rate * 100), rounded as everywhere (geo.outputs.figures)
_PERCENT = st.column_config.ProgressColumn(
    format=fig.RATE_COLUMN_FORMAT, min_value=0, max_value=100
)
_RATIO = st.column_config.NumberColumn(format="%.1f")  # households per worker, as ratio_text
_COUNT = st.column_config.NumberColumn(format="localized")  # 2,592, as count_text

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
# for aggregate-only viewers small counts are "<3" here: shown as such, never summed (the
# page's totals come from data.scope_totals)
grids = drill.grid_layer(
    data.grid_polygons(location, version), data.grid_figures(location, version, as_of)
)


# --- drill-down: (city -> district ->) street -> community -> grid -----------------------
limited = data.grid_scope(location, version) is not None
tree = hier.tree(location, version)
city = hier.is_city(tree)  # the grids name districts (issue 16); else one street office's page
crumbs = st.container()
if city:
    district_of = dict(zip(tree.grids["grid_id"], tree.grids["district"], strict=True))
    grids["district"] = grids["grid_id"].map(district_of).fillna("")
district, street, community, grid_id = drill_down(
    grids, lang, limited, (lambda: hier.district_choice(tree, lang)) if city else None
)
if city:
    with crumbs:
        hier.breadcrumbs(district, street, community, grid_id, lang)
in_street = drill.where(drill.where(grids, "district", district), "street", street)
scope = drill.where(drill.where(in_street, "community", community), "grid_id", grid_id)

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

# --- a city or a district: its districts or streets drawn as areas, a click drills in ----
if city and street == "":
    node = hier.node_at(district)
    level = tree.child_level(node)
    table = hier.node_table(location, version, as_of, level, node)
    key_figures(
        data.scope_totals(location, version, as_of, grid_ids=scope["grid_id"].tolist()),
        aggregate,
        False,
        lang,
    )
    not_given = t("map_not_given", lang)
    layer = drill.node_layer(
        hier.outlines(location, version, level, node),
        table,
        hier.level_name(level, lang),
        not_given,
    )
    try:
        tiles = tile_provider_from_env()
    except ValueError as error:
        st.warning(md_t("map_base_map_error", lang, error=error))
        tiles = None
    st.caption(t("map_area_click_hint", lang))
    fmap = build_map(layer, pd.DataFrame(), None, fill=fill, lang=lang, as_of=as_of, tiles=tiles)
    hide_household_legend(fmap)  # no household is drawn above the street
    show_map(
        fmap,
        key="rainbow_areas_" + "_".join(node.path),  # a map per area: its own click state
        on_grid=lambda name: hier.choose_child(level, name),
    )
    title = district or t("map_city", lang)
    st.subheader(md_t("map_key_figures", lang, name=title))
    st.markdown(
        f"**{t('map_city_districts' if level == 'district' else 'map_district_streets', lang)}**"
    )
    st.dataframe(
        drill.node_overview(table, level, lang, not_given),
        hide_index=True,
        width="stretch",
        column_config={
            t("map_fill_visit_rate", lang): _PERCENT,
            t("map_fill_freshness_rate", lang): _PERCENT,
            t("map_fill_households_per_worker", lang): _RATIO,
            t("map_households", lang): _COUNT,
        },
    )
    st.stop()

# --- households and reports in scope: one per-household frame (ui.rainbow.map_view) -------
choice = drill.Choice(street, community, grid_id, tuple(chosen), only_overdue, district)
view = map_view(location, version, as_of, choice, in_street, scope, viewer, config)
shown, totals, whole_area = view.shown, view.totals, choice.whole_area
scope_ids = tuple(sorted(scope["grid_id"]))
reports = None
if show_reports:
    reports = drill.reports_in(data.report_points(location, version, as_of), scope_ids, whole_area)
    reports = with_owner_labels(reports, location, version, lang, with_id=False)  # 负责方

# --- key figures: every tile follows the choices and filters ----------------------------
key_figures(totals, aggregate, choice.filtered, lang)

# --- the map ----------------------------------------------------------------------------
try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None
if view.too_many and choice.filtered:  # a whole area over the budget: counts per grid
    st.info(t("map_filtered_counts", lang, n=f"{view.n_shown:,}"))
elif view.too_many:
    st.info(t("map_too_many_points", lang, n=f"{view.n_shown:,}"))
    if view.legend is not None:
        st.caption(t("map_legend_from_grids", lang))
elif len(shown) > 20_000:
    st.caption(t("map_zoom_hint", lang, zoom=POINTS_MIN_ZOOM))
st.caption(t("map_click_hint", lang))
# buildings (楼栋): each drawn as one glyph of its households' colours (ui.buildings)
on_map, buildings = map_buildings(
    location, version, view.on_map, in_street["grid_id"].tolist(), aggregate or view.too_many
)
fmap = build_map(
    in_street,
    # aggregate form: no household columns at all, so grids are labelled with their figures
    pd.DataFrame() if aggregate else view.on_map.iloc[:0] if view.too_many else on_map,
    reports,
    fill=fill,
    lang=lang,
    as_of=as_of,
    selected_grids=[grid_id] if grid_id else [],
    focus=None if whole_area else scope,
    tiles=tiles,
    heat=heat,
    summary=None if aggregate else shown,
    summary_counts=view.legend,
    # the households the choices leave (drawn in the browser from those the map holds)
    show=HouseholdFilter(
        categories=tuple(chosen),
        only_overdue=only_overdue,
        grid_ids=None if whole_area else scope_ids,
        unassigned=whole_area and street == "",
    ),
    buildings=buildings,
)
if aggregate:
    hide_household_legend(fmap)  # its per-category counts would read 0
places = drill.places(grids)
show_map(fmap, key="rainbow_map", on_grid=lambda g: choose_grid(g, places))

# --- drill-down details -------------------------------------------------------------------
RATE_COLUMNS = {
    t("map_fill_visit_rate", lang): _PERCENT,
    t("map_fill_freshness_rate", lang): _PERCENT,
    t("map_fill_households_per_worker", lang): _RATIO,
    t("map_households", lang): _COUNT,
}
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
            roles = drill.roles_table(by_role, lang, config)
            st.dataframe(roles, hide_index=True, width="stretch")
        else:
            st.caption(t("map_no_staff", lang))
    with right:
        if aggregate:
            render_aggregate_figures(lang, location, version)
            st.stop()
        personal = data.grid_households_masked(location, grid_id)
        # the households the filters leave, cared-for first (by building when it has some)
        grid_households(location, version, grid_id, shown, personal, lang, config)
        if viewer.may_reveal and len(shown):
            ids = fig.care_first(shown)["household_id"].astype(str).tolist()
            reveal_form(location, ids, viewer, lang)
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
    summary = drill.grid_summary(scope, shown, lang)
    st.dataframe(summary, hide_index=True, width="stretch", column_config=RATE_COLUMNS)
else:
    st.subheader(md_t("map_key_figures", lang, name=street or t("map_whole_area", lang)))
    st.markdown(f"**{t('map_street_communities', lang)}**")
    communities_table = drill.where(
        data.community_figures(location, version, as_of), "street", street
    )
    # at level of detail no household is loaded: the communities' own figures
    overview = drill.community_overview(
        communities_table, None if view.grid_totals else shown, grids, lang
    )
    st.dataframe(overview, hide_index=True, width="stretch", column_config=RATE_COLUMNS)
