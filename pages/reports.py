"""Citizen reports: map by status, filters, sortable table with the 5-day countdown, detail and
workflow, and the intake form with the duplicate guard."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.outputs.map import drilldown as drill
from geo.outputs.map.legend import REPORT_STATES
from geo.outputs.map.tiles import tile_provider_from_env
from geo.reports import views as rv
from geo.store import open_store
from ui import auth, data, employment, session
from ui import cases as ui_cases
from ui import reports as ui_reports
from ui.rainbow import keep
from ui.report_detail import choose_report, facts, step_result, workflow
from ui.report_intake import SELECTED, intake_form, pick_location, picked_point
from ui.tables import newly_picked, row_key
from ui.text import md_t

SEEN_ROWS = "_rep_seen_rows"  # (table key, rows) of the last table selection acted upon

lang = session.lang()
as_of = session.as_of()
location = auth.location()
config = load_config()

st.title(t("rep_title", lang))

store = open_store(location)
if not store.exists() or store.count("grids") + store.count("reports") == 0:
    st.info(md_t("ui_no_data", lang, location=location))
    st.stop()

version = data.data_version(location)
reference, now = ui_reports.reference_time(as_of)
hours = f"{config.resolution_limit_hours:g}"
st.caption(t("rep_caption", lang, at=reference.strftime("%Y-%m-%d %H:%M"), hours=hours))
observers = employment.observer_summary(location, version, as_of, lang)  # issue 14
if observers:
    st.caption(observers)
all_reports = ui_reports.report_table(location, version)
reports = ui_reports.with_states(all_reports, as_of, now, ui_reports.extensions(location, version))
reports = ui_cases.with_owner_labels(reports, location, version, lang)  # the case's owner
# the map's popups name a person without the staff id (no id goes to the map)
reports["map_owner"] = ui_cases.with_owner_labels(
    reports.drop(columns="owner", errors="ignore"), location, version, lang, with_id=False
).get("owner")
grids = drill.grid_layer(
    data.grid_polygons(location, version), data.grid_figures(location, version, as_of)
)
grid_names = dict(zip(grids["grid_id"], grids["name"].fillna("").astype(str), strict=True))


def _all_or(value: str) -> str:
    return t("map_all", lang) if value == "" else value


# --- filters ------------------------------------------------------------------------------
with st.expander(t("rep_filters", lang), expanded=True):
    col_window, col_range = st.columns([2, 2])
    with col_window:
        window = st.radio(
            t("rep_window", lang),
            ui_reports.WINDOWS,
            index=1,
            horizontal=True,
            format_func=lambda w: t(f"rep_window_{w}", lang),
            key="rep_window",
        )
    custom = None
    with col_range:
        if window == "custom":
            picked_range = st.date_input(
                t("rep_window_range", lang),
                value=(as_of - dt.timedelta(days=13), as_of),
                max_value=reference.date(),
                key="rep_range",
            )
            custom = (picked_range[0], picked_range[-1])
    col_source, col_category, col_state, col_community, col_grid = st.columns([2, 2, 2, 1.3, 1.7])
    with col_source:
        sources = st.multiselect(
            t("rep_source", lang),
            list(config.sources),
            format_func=lambda s: rv.source_label(s, lang, config),
            key="rep_f_sources",
            placeholder=t("map_all", lang),
        )
    with col_category:
        categories = st.multiselect(
            t("rep_category", lang),
            rv.category_options(reports),
            key="rep_f_categories",
            placeholder=t("map_all", lang),
        )
    with col_state:
        states = st.multiselect(
            t("rep_state", lang),
            list(REPORT_STATES),
            format_func=lambda s: rv.state_label(s, lang),
            key="rep_f_states",
            placeholder=t("map_all", lang),
        )
    communities = drill.communities_of(grids)
    keep("rep_f_community", communities)
    with col_community:
        community = st.selectbox(
            t("map_community", lang), communities, format_func=_all_or, key="rep_f_community"
        )
    grid_ids = [""] + drill.where(grids, "community", community)["grid_id"].astype(str).tolist()
    keep("rep_f_grid", grid_ids)
    with col_grid:
        grid_id = st.selectbox(
            t("map_grid", lang),
            grid_ids,
            key="rep_f_grid",
            format_func=lambda g: _all_or(g) if g == "" else f"{g} · {grid_names.get(g, '')}",
        )

since, until = ui_reports.window_bounds(window, reference, custom)
shown = ui_reports.by_urgency(
    ui_reports.filter_reports(
        reports,
        since=since,
        until=until,
        sources=sources,
        categories=categories,
        states=states,
        community=community,
        grid_id=grid_id,
    )
)

m_total, *m_states = st.columns(1 + len(REPORT_STATES))
m_total.metric(t("rep_count_shown", lang), f"{len(shown):,}")
for column, (state, n) in zip(m_states, rv.state_counts(shown).items(), strict=True):
    column.metric(rv.state_label(state, lang), f"{n:,}")

# --- map (left) and intake (right) ----------------------------------------------------------
try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None
st.session_state.setdefault("rep_coords", "wgs84")

col_map, col_form = st.columns([3, 2], gap="medium")
with col_map:
    st.subheader(t("rep_map_heading", lang))
    heat = st.toggle(t("map_reports_heat", lang), key="rep_heat")
    ui_reports.report_map(
        grids,
        shown,
        lang=lang,
        as_of=as_of,
        heat=heat,
        tiles=tiles,
        picked=picked_point(),
        picked_coords=st.session_state["rep_coords"],
        key="reports_map",
        on_pick=lambda point, gcj02=bool(tiles and tiles.gcj02): pick_location(point, gcj02),
    )
    st.caption(t("rep_map_hint", lang))
with col_form, st.container(border=True):
    intake_form(location, version, all_reports, reference, lang, config)

# --- table ---------------------------------------------------------------------------------
st.subheader(t("rep_table_heading", lang, n=f"{len(shown):,}"))
table = rv.report_table(shown, lang, config, ui_reports.countdown)
shown_ids = shown["report_id"].astype(str).tolist()
table_key = row_key("rep_table", shown_ids)
event = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=min(420, 38 + 35 * max(len(table), 1)),
    on_select="rerun",
    selection_mode="single-row",
    key=table_key,
    column_config={
        t("rep_col_countdown", lang): st.column_config.TextColumn(
            width="medium", help=t("rep_col_countdown_help", lang, hours=hours)
        ),
        t("rep_col_description", lang): st.column_config.TextColumn(width="large"),
    },
)
rows = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
# a row position means a report only in the table it was clicked in (table_key changes with
# the rows and their order): the clicked report's id is kept, never the position
picked_id, st.session_state[SEEN_ROWS] = newly_picked(
    table_key, rows, shown_ids, st.session_state.get(SEEN_ROWS)
)
if picked_id is not None:
    st.session_state[SELECTED] = picked_id

# --- detail and workflow -----------------------------------------------------------------
st.subheader(t("rep_detail_heading", lang))
step_result()
detail_ids = ui_reports.detail_choices(
    shown_ids, set(reports["report_id"]), st.session_state.get(SELECTED)
)
if not detail_ids:
    st.caption(t("rep_none_shown", lang))
    st.stop()
report = choose_report(reports, detail_ids, lang)
col_facts, col_timeline = st.columns([2, 3], gap="medium")
with col_facts:
    facts(location, report, grid_names, lang, config)
with col_timeline:
    workflow(location, report, lang, config)
