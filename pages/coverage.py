"""Coverage: which grids lack what (the map, and its table under it), gaps, the visit work list."""

from __future__ import annotations

import streamlit as st

from geo.care import coverage_view as cv
from geo.care.rules import HOUSEHOLD_STATUS_COLUMNS
from geo.config import load_config
from geo.i18n import t
from geo.outputs.figures import NONE
from geo.outputs.map.build import build_map
from geo.outputs.map.legend import FILL_MEASURES
from geo.outputs.map.tiles import tile_provider_from_env
from geo.outputs.weekly.figures import FRESHNESS_CONCERN, VISIT_RATE_CONCERN
from geo.store import open_store
from ui import auth, data, session
from ui import coverage as cov
from ui import hierarchy as hier
from ui.buildings import coverage_section, worklist_shown
from ui.coverage_gaps import gap_cards, gap_warnings
from ui.mapview import show_map
from ui.tables import newly_picked, row_key
from ui.text import md_t
from ui.visit_form import HOUSEHOLD_KEY, SAVES, visit_form

SEEN_ROWS = "_coverage_seen_rows"  # (table key, rows) of the last work-list pick acted upon

lang = session.lang()
as_of = session.as_of()
location = auth.location()
config = load_config()

st.title(t("coverage_title", lang))
st.caption(t("coverage_caption", lang, as_of=as_of.isoformat()))

store = open_store(location)
if not store.exists() or store.count("grids") == 0:
    st.info(md_t("ui_no_data", lang, location=location))
    st.stop()

viewer = session.viewer()
version = data.data_version(location)
scope = data.grid_scope(location, version, viewer)
polygons = data.grid_polygons(location, version, viewer)
tree = hier.tree(location, version, viewer)
area = None
if hier.is_city(tree):  # a city's store: the page covers the chosen district or street office
    area = hier.area_choice(tree, lang, "coverage_area")
    scope = hier.area_scope(tree, area, scope)
    if scope is not None:
        polygons = polygons[polygons["grid_id"].isin(scope)]
gaps = cov.scoped_gaps(cov.gaps(location, version, as_of), scope)
# the jurisdiction outline is the whole street office's: only a whole-street viewer measures it
cover = cov.boundary_cover(location, version) if scope is None else None

# --- gaps, called out first ----------------------------------------------------------------
st.subheader(t("coverage_gaps_title", lang))
gap_cards(gaps, cover, scope is not None, viewer.aggregates_only, lang)
# the warnings are Markdown holding data (grid names, ids): every piece escaped
warnings = gap_warnings(gaps, cover, lang, viewer.aggregates_only)
for text in warnings:
    st.warning(text)
if not warnings:
    st.success(t("coverage_no_gaps", lang))

# --- map and table ---------------------------------------------------------------------------
controls = st.columns([2, 2, 3])
with controls[0]:
    level = st.radio(
        t("coverage_level", lang),
        ("grid", "community"),
        format_func=lambda v: t(f"coverage_level_{v}", lang),
        horizontal=True,
        key="coverage_level",
    )
with controls[1]:
    fill = st.selectbox(
        t("map_fill", lang),
        FILL_MEASURES,
        index=FILL_MEASURES.index("visit_rate"),
        format_func=lambda m: t(f"map_fill_{m}", lang),
        key="coverage_fill",
    )

if level == "grid":
    figures = data.grid_figures(location, version, as_of)
    if area is not None and scope is not None:
        figures = figures[figures["grid_id"].isin(scope)].reset_index(drop=True)
    drawn = cv.coverage_layer(polygons, figures, level)
    key = figures["grid_id"]
else:
    figures = data.community_figures(location, version, as_of)
    if area is not None and scope is not None:
        communities = set(polygons["community"].dropna())
        figures = figures[figures["community"].isin(communities)].reset_index(drop=True)
    drawn = cv.coverage_layer(polygons, figures, level, cov.community_polygons(polygons))
    key = figures["community"]
roles = cov.role_matrix(location, version, level).reindex(key).fillna(0)

try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None

# the map across the page, the table under it: side by side the map was a narrow strip
# with the grids small in the middle of empty space
# the coverage map draws grids only: no household points (an empty frame), bubbles = households
no_households = cv.no_households(HOUSEHOLD_STATUS_COLUMNS)
fmap = build_map(
    drawn,
    no_households,
    None,
    fill=fill,
    lang=lang,
    as_of=as_of,
    tiles=tiles,
    summary=no_households.drop(columns=["grid_id"]),
    focus=cov.map_focus(drawn, cover),
)
cov.hide_household_legend(fmap)
if cover is not None:
    cov.add_uncovered_layer(fmap, cover["geometry"], lang, gcj02=bool(tiles and tiles.gcj02))
show_map(fmap, key="coverage_map", height=480)
if cover is not None and cover["uncovered_m2"] >= 1.0:
    st.caption(t("coverage_map_caption", lang))

st.markdown(
    f"**{t('coverage_table_grids' if level == 'grid' else 'coverage_table_communities', lang)}**"
)
table = cv.coverage_table(figures, roles, level, lang, config.category_codes)
st.dataframe(
    cv.styled(table, lang),
    hide_index=True,
    width="stretch",
    height=min(520, 38 + 35 * len(table.frame)),
    placeholder=NONE,
    key="coverage_table",
)
st.caption(
    t(
        "coverage_table_caption",
        lang,
        visit=f"{VISIT_RATE_CONCERN:.0%}",
        fresh=f"{FRESHNESS_CONCERN:.0%}",
    )
)

coverage_section(location, version, as_of, viewer, lang)  # by building (issue 17)

# --- the visit work list -------------------------------------------------------------------
st.subheader(t("coverage_worklist_title", lang))
if viewer.aggregates_only:
    st.info(t("coverage_aggregates_only", lang))
    st.stop()
due = cov.worklist(location, version, as_of, scope)
filters = st.columns([2, 3, 2])
with filters[0]:
    grid_choice = st.selectbox(
        t("coverage_worklist_filter_grid", lang),
        cv.worklist_choices(due, "grid_id"),
        format_func=lambda g: t("map_all", lang) if g == "" else g,
        key="coverage_worklist_grid",
    )
with filters[1]:
    worker_choice = st.selectbox(
        t("coverage_worklist_filter_worker", lang),
        cv.worklist_choices(due, "grid_workers"),
        format_func=lambda w: t("map_all", lang) if w == "" else w,
        key="coverage_worklist_worker",
    )
shown = worklist_shown(location, version, due, grid_choice, worker_choice, viewer.role)

if shown.empty:
    st.info(t("coverage_worklist_empty", lang))
else:
    walk = cv.walks_buildings(viewer.role, grid_choice, worker_choice)
    caption = "coverage_worklist_caption_walk" if walk else "coverage_worklist_caption"
    st.caption(t(caption, lang, n=f"{len(shown):,}"))
    shown_ids = shown["household_id"].astype(str).tolist()
    # the selection is a row position: it lives only as long as these rows in this order,
    # and not past a save
    table_key = row_key(f"coverage_worklist_{st.session_state.get(SAVES, 0)}", shown_ids)
    view = cv.worklist_view(shown, lang, config)
    picked = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * len(view)),
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
    )
    rows = picked.selection.rows if picked is not None else []
    pick, st.session_state[SEEN_ROWS] = newly_picked(
        table_key, rows, shown_ids, st.session_state.get(SEEN_ROWS)
    )
    if pick is not None:
        st.session_state[HOUSEHOLD_KEY] = pick  # before the form's text input is drawn
    st.download_button(
        t("coverage_download_worklist", lang),
        data=cov.worklist_download(location, shown, lang, cov.actor(), as_of),
        file_name=f"{t('coverage_worklist_file', lang)}-{as_of.isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="coverage_worklist_download",
    )

# --- log a visit / mark re-verified --------------------------------------------------------
st.subheader(t("coverage_form_title", lang))
visit_form(location, version, scope, lang)
