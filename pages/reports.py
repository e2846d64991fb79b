"""Citizen reports: map by status, filters, sortable table with the 5-day countdown, detail and
workflow, and the intake form with the duplicate guard."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.outputs.map.legend import REPORT_STATES
from geo.outputs.map.tiles import tile_provider_from_env
from geo.reports.workflow import (
    MAX_PHOTO_BYTES,
    STEPS,
    ReportError,
    check_photo,
    file_report,
    find_duplicates,
    next_step,
    record_step,
    report_history,
    to_wgs84,
)
from geo.store import open_store
from geo.store.base import StoreBusy
from ui import auth, data, session
from ui import reports as ui_reports
from ui.tables import newly_picked, row_key
from ui.text import md, md_t
from ui.uploader import localize_uploader

PHOTO_TYPES = ["jpg", "jpeg", "png", "gif", "webp"]
OTHER = "__other__"
FILED = "rep_filed"  # the result of the last filing, shown once after the rerun
STEP_DONE = "rep_step_done"  # (success|error, text) of the last workflow step, shown once
FILE_REFUSED = "rep_file_refused"  # why the last filing was refused, shown once in the form
FILE_BUSY = "rep_file_busy"  # the store was busy (an import): nothing filed, try again
PHOTO_GENERATION = "rep_photo_generation"  # a new key empties the file uploader after filing
SELECTED = "rep_selected"  # the report id in the detail panel: an id, never a row position
SEEN_ROWS = "_rep_seen_rows"  # (table key, rows) of the last table selection acted upon
DETAIL_KEY = "rep_detail"

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
st.caption(
    t(
        "rep_caption",
        lang,
        at=reference.strftime("%Y-%m-%d %H:%M"),
        hours=f"{config.resolution_limit_hours:g}",
    )
)
all_reports = ui_reports.report_table(location, version)
reports = ui_reports.with_states(all_reports, as_of, now)
polygons = data.grid_polygons(location, version)
figures = data.grid_figures(location, version, as_of)
grids = gpd.GeoDataFrame(
    polygons[["grid_id", polygons.geometry.name]].merge(figures, on="grid_id", how="left"),
    geometry=polygons.geometry.name,
    crs=polygons.crs,
)
grid_names = dict(zip(grids["grid_id"], grids["name"].fillna("").astype(str), strict=True))


def _all_or(value: str) -> str:
    return t("map_all", lang) if value == "" else value


def _source_label(code: object) -> str:
    return t(f"map_source_{code}", lang) if code in config.sources else str(code or "")


def _state_label(state: object) -> str:
    return t(f"map_state_{state}", lang) if state in REPORT_STATES else ""


def _step_label(step: str) -> str:
    return t(f"rep_step_{step}", lang)


def _keep(key: str, options: list[str]) -> None:
    if st.session_state.get(key) not in options:
        st.session_state[key] = ""


def _file(duplicate_of: str | None = None) -> None:
    """Filing button callback: file the report of the form as it stands (or link it to
    ``duplicate_of``), before the run it causes; a refusal is shown in the form and writes
    nothing. Reads the form's widgets from the session."""
    from ui.auth import current_viewer

    current = session.lang()
    where = session.store_location()
    if current_viewer(where) is None:  # signed out meanwhile: the run shows the sign-in form
        return
    state = st.session_state
    who = ui_reports.actor_name() or str(state.get("rep_actor") or "").strip()
    category = state.get("rep_category")
    if category == OTHER:
        category = str(state.get("rep_category_text") or "").strip()
    point = None
    try:
        point = ui_reports.parse_lonlat(state.get("rep_location") or "")
    except ValueError:
        pass
    problem = (
        t("rep_need_actor", current)
        if not who
        else t("rep_need_location", current)
        if point is None
        else None
    )
    if problem:
        state[FILE_REFUSED] = problem
        return
    photo = state.get(f"rep_photo_{state.get(PHOTO_GENERATION, 0)}")
    target = open_store(where)
    before = target.version()
    try:
        result = file_report(
            target,
            source=state.get("rep_source"),
            category=category,
            lon=point[0],
            lat=point[1],
            actor=who,
            description=str(state.get("rep_description") or "").strip() or None,
            reporter_id=str(state.get("rep_reporter") or "").strip() or None,
            photo=photo.getvalue() if photo is not None else None,
            photo_name=photo.name if photo is not None else None,
            coords=state.get("rep_coords") or "wgs84",
            duplicate_of=duplicate_of,
            within=data.grid_scope(where, before),
        )
    except StoreBusy as busy:  # an import's final copy: the form keeps what was typed
        state[FILE_BUSY] = busy.message(current)
        return
    except ReportError as error:
        state[FILE_REFUSED] = t("rep_refused", current, reason=error.message(current))
        return
    data.note_reports_only_write(where, before, target.version())
    scope = data.grid_scope(where, target.version())
    in_scope = scope is None or result.grid_id in scope  # always, for filers within reach
    state[FILED] = {
        "report_id": result.report_id,
        "grid_id": result.grid_id,
        "in_scope": in_scope,
        "grid_label": " · ".join(p for p in (result.grid_id, result.grid_name) if p)
        if in_scope
        else "",
        # who answers for another grid is not shown to a viewer outside it
        "workers": list(result.grid_workers) if in_scope else [],
        "duplicate_of": duplicate_of,
        "nearby": result.nearby,
    }
    # the form is emptied for the next report, and the detail panel opens on this one
    for key in ("rep_description", "rep_location", "rep_category_text", "rep_reporter"):
        state[key] = ""
    state[PHOTO_GENERATION] = state.get(PHOTO_GENERATION, 0) + 1
    state[SELECTED] = result.report_id


def _pick_location(point: tuple[float, float], gcj02: bool) -> None:
    """Map click callback (before the run it causes): the form's location is the clicked point."""
    st.session_state["rep_location"] = f"{point[0]:.6f}, {point[1]:.6f}"
    st.session_state["rep_coords"] = "gcj02" if gcj02 else "wgs84"


def _record_step(report_id: str, step: str) -> None:
    """Step button callback: record ``step`` of ``report_id`` (the report the panel showed)."""
    from ui.auth import current_viewer

    current = session.lang()
    where = session.store_location()
    if current_viewer(where) is None:  # signed out meanwhile: the run shows the sign-in form
        return
    who = ui_reports.actor_name() or str(st.session_state.get("rep_actor") or "").strip()
    label = t(f"rep_step_{step}", current)
    if not who:
        st.session_state[STEP_DONE] = ("error", t("rep_need_actor", current))
        return
    target = open_store(where)
    before = target.version()
    try:
        record_step(
            target,
            report_id,
            step,
            who,
            satisfaction=st.session_state.get("rep_satisfaction"),
            note=str(st.session_state.get("rep_note") or "").strip() or None,
        )
    except StoreBusy as busy:  # an import's final copy: nothing written, retry
        st.session_state[STEP_DONE] = ("warning", busy.message(current))
        return
    except ReportError as error:
        st.session_state[STEP_DONE] = (
            "error",
            t("rep_step_refused", current, step=label) + " " + error.message(current),
        )
        return
    data.note_reports_only_write(where, before, target.version())
    st.session_state[STEP_DONE] = (
        "success",
        t("rep_step_recorded", current, id=report_id, step=label),
    )


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
                value=(as_of - pd.Timedelta(days=13), as_of),
                max_value=reference.date(),
                key="rep_range",
            )
            custom = (
                tuple(picked_range)
                if len(picked_range) == 2
                else (picked_range[0], picked_range[0])
            )
    col_source, col_category, col_state, col_community, col_grid = st.columns([2, 2, 2, 1.3, 1.7])
    with col_source:
        sources = st.multiselect(
            t("rep_source", lang),
            list(config.sources),
            format_func=_source_label,
            key="rep_f_sources",
            placeholder=t("map_all", lang),
        )
    with col_category:
        categories = st.multiselect(
            t("rep_category", lang),
            sorted(reports["category"].dropna().astype(str).unique()),
            key="rep_f_categories",
            placeholder=t("map_all", lang),
        )
    with col_state:
        states = st.multiselect(
            t("rep_state", lang),
            list(REPORT_STATES),
            format_func=_state_label,
            key="rep_f_states",
            placeholder=t("map_all", lang),
        )
    communities = [""] + sorted(c for c in grids["community"].dropna().astype(str).unique() if c)
    _keep("rep_f_community", communities)
    with col_community:
        community = st.selectbox(
            t("map_community", lang), communities, format_func=_all_or, key="rep_f_community"
        )
    in_community = grids if community == "" else grids[grids["community"] == community]
    grid_ids = [""] + in_community["grid_id"].astype(str).tolist()
    _keep("rep_f_grid", grid_ids)
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

counts = shown["state"].value_counts()
m_total, *m_states = st.columns(1 + len(REPORT_STATES))
m_total.metric(t("rep_count_shown", lang), f"{len(shown):,}")
for column, state in zip(m_states, REPORT_STATES, strict=True):
    column.metric(_state_label(state), f"{int(counts.get(state, 0)):,}")

# --- map (left) and intake (right) ----------------------------------------------------------
try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None

st.session_state.setdefault("rep_coords", "wgs84")

picked = None
try:
    picked = (
        ui_reports.parse_lonlat(st.session_state.get("rep_location", ""))
        if st.session_state.get("rep_location")
        else None
    )
except ValueError:
    picked = None

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
        picked=picked,
        picked_coords=st.session_state["rep_coords"],
        key="reports_map",
        on_pick=lambda point, gcj02=bool(tiles and tiles.gcj02): _pick_location(point, gcj02),
    )
    st.caption(t("rep_map_hint", lang))

with col_form, st.container(border=True):
    st.subheader(t("rep_new", lang))
    refused = st.session_state.pop(FILE_REFUSED, None)
    if refused:
        st.error(md(refused))
    busy = st.session_state.pop(FILE_BUSY, None)
    if busy:
        st.warning(md(busy))
    filed = st.session_state.pop(FILED, None)
    if filed:
        if filed.get("nearby"):
            st.info(md_t("rep_filed_nearby", lang, grid=filed["grid_label"]))
        if filed["grid_id"] and filed["in_scope"]:
            workers = t("map_list_separator", lang).join(filed["workers"]) or t(
                "rep_no_worker", lang
            )
            st.success(
                md_t(
                    "rep_filed_in_grid",
                    lang,
                    id=filed["report_id"],
                    grid=filed["grid_label"],
                    workers=workers,
                )
            )
        elif filed["grid_id"]:  # another grid's: its workers are none of this viewer's business
            st.success(md_t("rep_filed_outside_scope", lang, id=filed["report_id"]))
        else:
            st.warning(md_t("rep_filed_unassigned", lang, id=filed["report_id"]))
        if filed.get("duplicate_of"):
            st.info(md_t("rep_filed_linked", lang, id=filed["duplicate_of"]))

    actor = ui_reports.actor_name()
    if actor is None:
        actor = st.text_input(
            t("rep_actor", lang), key="rep_actor", help=t("rep_actor_help", lang)
        ).strip()
    else:
        st.caption(md_t("rep_actor_signed_in", lang, name=actor))
    col_src, col_cat = st.columns(2)
    with col_src:
        source = st.selectbox(
            t("rep_source", lang), list(config.sources), format_func=_source_label, key="rep_source"
        )
    with col_cat:
        category_options = [*ui_reports.common_categories(all_reports, lang), OTHER]
        category_choice = st.selectbox(
            t("rep_category", lang),
            category_options,
            key="rep_category",
            format_func=lambda c: t("rep_category_other", lang) if c == OTHER else c,
        )
    category = category_choice
    if category_choice == OTHER:
        category = st.text_input(t("rep_category_text", lang), key="rep_category_text").strip()
    # read when the report is filed (its callback): typing reruns nothing
    description = st.text_area(
        t("rep_description", lang), key="rep_description", height=90, on_change="ignore"
    )
    photo = st.file_uploader(
        t("rep_photo", lang),
        type=PHOTO_TYPES,
        key=f"rep_photo_{st.session_state.get(PHOTO_GENERATION, 0)}",
        help=t("rep_photo_help", lang, mb=MAX_PHOTO_BYTES // (1024 * 1024)),
        max_upload_size=MAX_PHOTO_BYTES // (1024 * 1024),
    )
    localize_uploader(
        "rep_photo_",
        lang,
        MAX_PHOTO_BYTES // (1024 * 1024),
        [k for k in PHOTO_TYPES if k != "jpeg"],
    )
    if photo is not None:
        try:  # checked at upload: a photo too big to decode is refused before it is kept
            check_photo(photo.getvalue(), photo.name)
        except ReportError as error:
            st.error(md(error.message(lang)))
            photo = None
    reporter = st.text_input(
        t("rep_reporter", lang),
        key="rep_reporter",
        placeholder=t("rep_reporter_anonymous", lang),
        on_change="ignore",
    )
    location_text = st.text_input(
        t("rep_location", lang),
        key="rep_location",
        placeholder="111.662, 40.816",
        help=t("rep_location_help", lang),
    )
    coords = st.radio(
        t("rep_coords", lang),
        ui_reports.COORD_SYSTEMS,
        key="rep_coords",
        horizontal=True,
        format_func=lambda c: t(f"rep_coords_{c}", lang),
    )

    point = None
    if location_text.strip():
        try:
            point = ui_reports.parse_lonlat(location_text)
        except ValueError:
            st.error(t("rep_bad_location", lang))
    duplicates = pd.DataFrame()
    if point and category:
        lon_w, lat_w = to_wgs84(point[0], point[1], coords)
        pool = ui_reports.duplicate_pool(location, version, data.grid_scope(location, version))
        duplicates = find_duplicates(pool, category, lon_w, lat_w, reference)
        # descriptions only of reports this viewer may see
        descriptions = all_reports.set_index("report_id")["description"]
        duplicates = duplicates.assign(description=duplicates["report_id"].map(descriptions))

    if len(duplicates):
        st.warning(
            t(
                "rep_duplicates_found",
                lang,
                n=len(duplicates),
                m=int(config.duplicate_radius_m),
                d=config.duplicate_window_days,
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    t("rep_col_id", lang): duplicates["report_id"],
                    t("rep_col_distance", lang): duplicates["distance_m"].round(0).astype(int),
                    t("rep_col_description", lang): duplicates["description"].fillna(""),
                    t("rep_col_reported_at", lang): duplicates["reported_at"]
                    .astype(str)
                    .str.slice(5, 16),
                }
            ),
            hide_index=True,
            width="stretch",
            key="rep_duplicates",
        )
        link_to = st.selectbox(
            t("rep_link_choice", lang), duplicates["report_id"].tolist(), key="rep_link_to"
        )
        col_link, col_new = st.columns(2)
        col_link.button(
            t("rep_link", lang),
            key="rep_link",
            type="primary",
            width="stretch",
            on_click=_file,
            args=(link_to,),
        )
        col_new.button(
            t("rep_submit_anyway", lang), key="rep_submit", width="stretch", on_click=_file
        )
    else:
        st.button(
            t("rep_submit", lang), key="rep_submit", type="primary", width="stretch", on_click=_file
        )

# --- table ---------------------------------------------------------------------------------
st.subheader(t("rep_table_heading", lang, n=f"{len(shown):,}"))
table = pd.DataFrame(
    {
        t("rep_col_id", lang): shown["report_id"],
        t("rep_col_reported_at", lang): shown["reported_at"].astype(str).str.slice(0, 16),
        t("rep_source", lang): shown["source"].map(_source_label),
        t("rep_category", lang): shown["category"].fillna(""),
        t("rep_state", lang): shown["state"].map(_state_label),
        t("rep_col_countdown", lang): shown["hours_left"].map(
            lambda h: ui_reports.countdown(h, lang)
        ),
        t("map_community", lang): shown["community"].fillna(""),
        t("map_grid", lang): shown["grid_id"].fillna(t("rep_unassigned", lang)),
        t("rep_col_description", lang): shown["description"].fillna(""),
        t("rep_col_duplicate_of", lang): shown["duplicate_of"].fillna(""),
    }
).reset_index(drop=True)
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
            width="medium",
            help=t("rep_col_countdown_help", lang, hours=f"{config.resolution_limit_hours:g}"),
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
step_result = st.session_state.pop(STEP_DONE, None)
if step_result:
    kind, text = step_result
    show = {"success": st.success, "warning": st.warning}.get(kind, st.error)
    show(md(text))  # its values are data
detail_ids = ui_reports.detail_choices(
    shown_ids, set(reports["report_id"]), st.session_state.get(SELECTED)
)
if not detail_ids:
    st.caption(t("rep_none_shown", lang))
    st.stop()
if st.session_state.get(SELECTED) not in detail_ids:
    st.session_state[SELECTED] = detail_ids[0]
# the select box shows the selection, whatever it held before; picking in it changes the
# selection (its callback runs before the next run)
st.session_state[DETAIL_KEY] = st.session_state[SELECTED]
by_id = reports.set_index("report_id", drop=False)
detail_id = st.selectbox(
    t("rep_detail_choose", lang),
    detail_ids,
    key=DETAIL_KEY,
    on_change=lambda: st.session_state.update({SELECTED: st.session_state[DETAIL_KEY]}),
    # no state in the label: a label that changes with a step would no longer match the
    # browser's copy, and the box would fall back to another report
    format_func=lambda r: f"{r} · {by_id.at[r, 'category']}",
)
report = by_id.loc[detail_id]
col_facts, col_timeline = st.columns([2, 3], gap="medium")
with col_facts:
    grid_text = (
        f"{report['grid_id']} · {grid_names.get(report['grid_id'], '')}"
        if isinstance(report["grid_id"], str)
        else t("rep_unassigned", lang)
    )
    facts = [
        (t("rep_state", lang), _state_label(report["state"])),
        (t("rep_col_countdown", lang), ui_reports.countdown(report["hours_left"], lang) or "–"),
        (t("rep_source", lang), _source_label(report["source"])),
        (t("rep_category", lang), report["category"]),
        (t("map_grid", lang), grid_text),
        (
            t("map_community", lang),
            report["community"] if isinstance(report["community"], str) else "–",
        ),
        (
            t("rep_reporter_short", lang),
            report["reporter_id"]
            if isinstance(report["reporter_id"], str)
            else t("rep_anonymous", lang),
        ),
        (t("rep_col_location", lang), f"{report['lon']:.6f}, {report['lat']:.6f}"),
    ]
    if isinstance(report.get("duplicate_of"), str):
        facts.append((t("rep_col_duplicate_of", lang), report["duplicate_of"]))
    if isinstance(report.get("satisfaction"), str):
        value = report["satisfaction"]
        facts.append(
            (
                t("rep_satisfaction", lang),
                t(f"rep_satisfaction_{value}", lang) if value in config.satisfaction else value,
            )
        )
    st.markdown("  \n".join(f"**{label}**: {md(value)}" for label, value in facts))
    st.markdown(f"**{t('rep_col_description', lang)}**")
    st.text(report["description"] if isinstance(report["description"], str) else "–")
    if isinstance(report.get("photo"), str) and report["photo"]:
        photo_bytes = ui_reports.report_photo(location, detail_id)
        if photo_bytes:
            try:
                st.image(photo_bytes, caption=t("rep_photo", lang), width=320)
            except (OSError, ValueError):  # passed the type check but cannot be decoded
                st.caption(t("rep_photo_unreadable", lang))
with col_timeline:
    st.markdown(f"**{t('rep_timeline', lang)}**")
    history = report_history(store, detail_id)
    st.dataframe(
        pd.DataFrame(
            {
                t("rep_col_step", lang): history["step"].map(
                    lambda s: _step_label(s) if s in STEPS else s
                ),
                t("rep_col_at", lang): history["at"].astype(str).str.slice(0, 16),
                t("rep_col_actor", lang): history["actor"].fillna(""),
                t("rep_col_note", lang): history["note"].fillna(""),
            }
        ),
        hide_index=True,
        width="stretch",
        key="rep_history",
    )

    expected = next_step(report.to_dict())
    st.markdown(
        f"**{t('rep_workflow', lang)}**: "
        + (
            t("rep_next_step", lang, step=_step_label(expected))
            if expected
            else t("rep_all_done", lang)
        )
    )
    # read by the step callback when a step is recorded: typing or choosing reruns nothing
    st.text_input(t("rep_note", lang), key="rep_note", on_change="ignore")
    st.radio(  # read by the step callback
        t("rep_satisfaction_for_follow_up", lang),
        list(config.satisfaction),
        horizontal=True,
        index=None,
        key="rep_satisfaction",
        format_func=lambda s: t(f"rep_satisfaction_{s}", lang),
        on_change="ignore",
    )
    # one button per workflow step; the step the report waits for stands out. A step is
    # recorded in the button's callback, before the run it causes: that one run shows it
    for column, step in zip(st.columns(3), STEPS[1:], strict=True):
        column.button(
            t("rep_do_step", lang, step=_step_label(step)),
            key=f"rep_do_{step}",
            width="stretch",
            type="primary" if expected == step else "secondary",
            on_click=_record_step,
            args=(detail_id, step),
        )
