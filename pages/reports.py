"""Citizen reports: map by status, filters, sortable table with the 5-day countdown, detail and
workflow, and the intake form with the duplicate guard."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.mapping import REPORT_STATES, tile_provider_from_env
from geo.reports import (
    MAX_PHOTO_BYTES,
    STEPS,
    PhotoRefused,
    ReportError,
    check_photo,
    file_report,
    find_duplicates,
    next_step,
    record_step,
    report_history,
    to_wgs84,
)
from geo.store import StoreBusy, open_store
from ui import data, session
from ui import reports as ui_reports
from ui.text import md, md_t

PHOTO_TYPES = ["jpg", "jpeg", "png", "gif", "webp"]
OTHER = "__other__"
FILED = "rep_filed"  # the result of the last filing, shown once after the rerun
STEP_DONE = "rep_step_done"
CLEAR_FORM = "rep_clear_form"
PHOTO_GENERATION = "rep_photo_generation"  # a new key empties the file uploader after filing
SEEN_ROW = "_rep_seen_row"
PENDING_DETAIL = "rep_pending_detail"

lang = session.lang()
as_of = session.as_of()
location = session.location()
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

if st.session_state.pop(CLEAR_FORM, False):
    for key in ("rep_description", "rep_location", "rep_category_text", "rep_reporter"):
        st.session_state.pop(key, None)
    st.session_state[PHOTO_GENERATION] = st.session_state.get(PHOTO_GENERATION, 0) + 1
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
    clicked = ui_reports.report_map(
        grids,
        shown,
        lang=lang,
        as_of=as_of,
        heat=heat,
        tiles=tiles,
        picked=picked,
        picked_coords=st.session_state["rep_coords"],
        key="reports_map",
    )
    st.caption(t("rep_map_hint", lang))
    if clicked:
        st.session_state["rep_location"] = f"{clicked[0]:.6f}, {clicked[1]:.6f}"
        st.session_state["rep_coords"] = "gcj02" if tiles and tiles.gcj02 else "wgs84"
        st.rerun()

with col_form, st.container(border=True):
    st.subheader(t("rep_new", lang))
    filed = st.session_state.pop(FILED, None)
    if filed:
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
    description = st.text_area(t("rep_description", lang), key="rep_description", height=90)
    photo = st.file_uploader(
        t("rep_photo", lang),
        type=PHOTO_TYPES,
        key=f"rep_photo_{st.session_state.get(PHOTO_GENERATION, 0)}",
        help=t("rep_photo_help", lang, mb=MAX_PHOTO_BYTES // (1024 * 1024)),
        max_upload_size=MAX_PHOTO_BYTES // (1024 * 1024),
    )
    if photo is not None:
        try:  # checked at upload: a photo too big to decode is refused before it is kept
            check_photo(photo.getvalue(), photo.name)
        except ReportError as error:
            st.error(error.message(lang) if isinstance(error, PhotoRefused) else str(error))
            photo = None
    reporter = st.text_input(
        t("rep_reporter", lang), key="rep_reporter", placeholder=t("rep_reporter_anonymous", lang)
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

    def _file(duplicate_of: str | None) -> None:
        """File the report (or link it to ``duplicate_of``); refusals are shown and write nothing."""
        if not actor:
            st.error(t("rep_need_actor", lang))
            return
        if point is None:
            st.error(t("rep_need_location", lang))
            return
        try:
            result = file_report(
                store,
                source=source,
                category=category,
                lon=point[0],
                lat=point[1],
                actor=actor,
                description=description.strip() or None,
                reporter_id=reporter.strip() or None,
                photo=photo.getvalue() if photo is not None else None,
                photo_name=photo.name if photo is not None else None,
                coords=coords,
                duplicate_of=duplicate_of,
            )
        except StoreBusy as busy:  # an import's final copy: the form keeps what was typed
            st.warning(busy.message(lang))
            return
        except ReportError as error:
            st.error(md_t("rep_refused", lang, reason=error))
            return
        scope = data.grid_scope(location, data.data_version(location))
        in_scope = scope is None or result.grid_id in scope
        st.session_state[FILED] = {
            "report_id": result.report_id,
            "grid_id": result.grid_id,
            "in_scope": in_scope,
            "grid_label": f"{result.grid_id} · {grid_names.get(result.grid_id, '')}"
            if result.grid_id and in_scope
            else "",
            # who answers for another grid is not shown to a viewer outside it
            "workers": list(result.grid_workers) if in_scope else [],
            "duplicate_of": duplicate_of,
        }
        st.session_state[CLEAR_FORM] = True
        st.session_state[PENDING_DETAIL] = result.report_id  # widget keys do not survive st.rerun
        st.rerun()

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
        if col_link.button(t("rep_link", lang), key="rep_link", type="primary", width="stretch"):
            _file(link_to)
        if col_new.button(t("rep_submit_anyway", lang), key="rep_submit", width="stretch"):
            _file(None)
    elif st.button(t("rep_submit", lang), key="rep_submit", type="primary", width="stretch"):
        _file(None)

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
event = st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    height=min(420, 38 + 35 * max(len(table), 1)),
    on_select="rerun",
    selection_mode="single-row",
    key="rep_table",
    column_config={
        t("rep_col_countdown", lang): st.column_config.TextColumn(
            width="medium",
            help=t("rep_col_countdown_help", lang, hours=f"{config.resolution_limit_hours:g}"),
        ),
        t("rep_col_description", lang): st.column_config.TextColumn(width="large"),
    },
)
rows = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
if rows and rows != st.session_state.get(SEEN_ROW):
    st.session_state["rep_detail"] = table.iloc[rows[0]][t("rep_col_id", lang)]
st.session_state[SEEN_ROW] = rows

# --- detail and workflow -----------------------------------------------------------------
st.subheader(t("rep_detail_heading", lang))
step_done = st.session_state.pop(STEP_DONE, None)
if step_done:
    st.success(
        md_t(
            "rep_step_recorded",
            lang,
            id=step_done["report_id"],
            step=_step_label(step_done["step"]),
        )
    )
if PENDING_DETAIL in st.session_state:
    st.session_state["rep_detail"] = st.session_state.pop(PENDING_DETAIL)
detail_ids = shown["report_id"].tolist()
if (
    st.session_state.get("rep_detail") in set(reports["report_id"])
    and st.session_state["rep_detail"] not in detail_ids
):
    # just filed or picked, though filtered out
    detail_ids.insert(0, st.session_state["rep_detail"])
if not detail_ids:
    st.caption(t("rep_none_shown", lang))
    st.stop()
if st.session_state.get("rep_detail") not in detail_ids:
    st.session_state["rep_detail"] = detail_ids[0]
by_id = reports.set_index("report_id", drop=False)
detail_id = st.selectbox(
    t("rep_detail_choose", lang),
    detail_ids,
    key="rep_detail",
    format_func=lambda r: f"{r} · {by_id.at[r, 'category']} · {_state_label(by_id.at[r, 'state'])}",
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
    note = st.text_input(t("rep_note", lang), key="rep_note")
    satisfaction = st.radio(
        t("rep_satisfaction_for_follow_up", lang),
        list(config.satisfaction),
        horizontal=True,
        index=None,
        key="rep_satisfaction",
        format_func=lambda s: t(f"rep_satisfaction_{s}", lang),
    )
    pressed = None
    # one button per workflow step; the step the report waits for stands out
    for column, step in zip(st.columns(3), STEPS[1:], strict=True):
        if column.button(
            t("rep_do_step", lang, step=_step_label(step)),
            key=f"rep_do_{step}",
            width="stretch",
            type="primary" if expected == step else "secondary",
        ):
            pressed = step
    if pressed:
        if not actor:
            st.error(t("rep_need_actor", lang))
        else:
            try:
                record_step(
                    store,
                    detail_id,
                    pressed,
                    actor,
                    satisfaction=satisfaction,
                    note=note.strip() or None,
                )
            except StoreBusy as busy:  # an import's final copy: nothing written, retry
                st.warning(busy.message(lang))
            except ReportError as error:
                # the clerk sees why in their language; the domain's own wording follows
                if expected is None:
                    why = t("rep_refused_done", lang)
                elif STEPS.index(pressed) < STEPS.index(expected):
                    why = t("rep_refused_back", lang, step=_step_label(pressed))
                elif pressed != expected:
                    why = t(
                        "rep_refused_order",
                        lang,
                        step=_step_label(pressed),
                        expected=_step_label(expected),
                    )
                elif pressed == "followed_up" and satisfaction is None:
                    why = t("rep_refused_satisfaction", lang)
                else:
                    why = ""
                st.error(
                    t("rep_step_refused", lang, step=_step_label(pressed))
                    + (f" {why}" if why else "")
                    + f"\n\n({md(error)})"
                )
            else:
                st.session_state[STEP_DONE] = {"report_id": detail_id, "step": pressed}
                st.rerun()
