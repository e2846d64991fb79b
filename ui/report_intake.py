"""The reports page's intake: the form with the duplicate guard, and the filing callback.

A report is filed in the button's callback, before the run it causes: that run shows it
(and opens the detail panel on it); a refusal is shown in the form and writes nothing.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.cases.actions import dispatch_new
from geo.config import Config
from geo.i18n import t
from geo.reports.views import duplicates_table, filed_note, source_label, with_descriptions
from geo.reports.workflow import (
    MAX_PHOTO_BYTES,
    ReportError,
    check_photo,
    file_report,
    find_duplicates,
    to_wgs84,
)
from geo.store import open_store
from geo.store.base import StoreBusy
from ui import data, employment, session
from ui import reports as ui_reports
from ui.text import md, md_t
from ui.uploader import localize_uploader

PHOTO_TYPES = ["jpg", "jpeg", "png", "gif", "webp"]
OTHER = "__other__"
FILED = "rep_filed"  # the result of the last filing, shown once after the rerun
FILE_REFUSED = "rep_file_refused"  # why the last filing was refused, shown once in the form
FILE_BUSY = "rep_file_busy"  # the store was busy (an import): nothing filed, try again
PHOTO_GENERATION = "rep_photo_generation"  # a new key empties the file uploader after filing
SELECTED = "rep_selected"  # the report id in the detail panel: an id, never a row position


def _file(duplicate_of: str | None = None) -> None:
    """Filing button callback: file the report of the form as it stands (or link it to
    ``duplicate_of``). Reads the form's widgets from the session."""
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
            reporter_id=employment.picked_observer()
            or str(state.get("rep_reporter") or "").strip()
            or None,
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
    filed = target.version()
    data.note_reports_only_write(where, before, filed)
    try:  # a report arrives: dispatched at once (gridmap cases remind catches any left)
        dispatch_new(target)
    except StoreBusy:
        pass
    data.note_reports_only_write(where, filed, target.version())
    state[FILED] = filed_note(result, data.grid_scope(where, target.version()), duplicate_of)
    # the form is emptied for the next report, and the detail panel opens on this one
    for key in ("rep_description", "rep_location", "rep_category_text", "rep_reporter"):
        state[key] = ""
    state[employment.OBSERVER_KEY] = ""
    state[PHOTO_GENERATION] = state.get(PHOTO_GENERATION, 0) + 1
    state[SELECTED] = result.report_id


def pick_location(point: tuple[float, float], gcj02: bool) -> None:
    """Map click callback (before the run it causes): the form's location is the clicked point."""
    st.session_state["rep_location"] = f"{point[0]:.6f}, {point[1]:.6f}"
    st.session_state["rep_coords"] = "gcj02" if gcj02 else "wgs84"


def picked_point() -> tuple[float, float] | None:
    """The point the form's location holds, if it reads as one (drawn on the map)."""
    try:
        text = st.session_state.get("rep_location")
        return ui_reports.parse_lonlat(text) if text else None
    except ValueError:
        return None


def _messages(lang: str) -> None:
    """What the last filing left: refused, busy, or where the report went (shown once)."""
    refused = st.session_state.pop(FILE_REFUSED, None)
    if refused:
        st.error(md(refused))
    busy = st.session_state.pop(FILE_BUSY, None)
    if busy:
        st.warning(md(busy))
    filed = st.session_state.pop(FILED, None)
    if not filed:
        return
    if filed.get("nearby"):
        st.info(md_t("rep_filed_nearby", lang, grid=filed["grid_label"]))
    if filed["grid_id"] and filed["in_scope"]:
        workers = t("map_list_separator", lang).join(filed["workers"]) or t("rep_no_worker", lang)
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


def intake_form(
    location: str,
    version: int,
    all_reports: pd.DataFrame,
    reference: dt.datetime,
    lang: str,
    config: Config,
) -> None:
    """The new-report form: who, source, category, description, photo, reporter, location,
    coordinate system; the duplicates nearby (link to one, or file anyway)."""
    st.subheader(t("rep_new", lang))
    _messages(lang)
    actor = ui_reports.actor_name()
    if actor is None:
        st.text_input(t("rep_actor", lang), key="rep_actor", help=t("rep_actor_help", lang))
    else:
        st.caption(md_t("rep_actor_signed_in", lang, name=actor))
    col_src, col_cat = st.columns(2)
    with col_src:
        st.selectbox(
            t("rep_source", lang),
            list(config.sources),
            format_func=lambda s: source_label(s, lang, config),
            key="rep_source",
        )
    with col_cat:
        category = st.selectbox(
            t("rep_category", lang),
            [*ui_reports.common_categories(all_reports, lang), OTHER],
            key="rep_category",
            format_func=lambda c: t("rep_category_other", lang) if c == OTHER else c,
        )
    if category == OTHER:
        category = st.text_input(t("rep_category_text", lang), key="rep_category_text").strip()
    # read when the report is filed (its callback): typing reruns nothing
    st.text_area(t("rep_description", lang), key="rep_description", height=90, on_change="ignore")
    mb = MAX_PHOTO_BYTES // (1024 * 1024)
    photo = st.file_uploader(
        t("rep_photo", lang),
        type=PHOTO_TYPES,
        key=f"rep_photo_{st.session_state.get(PHOTO_GENERATION, 0)}",
        help=t("rep_photo_help", lang, mb=mb),
        max_upload_size=mb,
    )
    localize_uploader("rep_photo_", lang, mb, [k for k in PHOTO_TYPES if k != "jpeg"])
    if photo is not None:
        try:  # checked at upload: a photo too big to decode is refused before it is kept
            check_photo(photo.getvalue(), photo.name)
        except ReportError as error:
            st.error(md(error.message(lang)))
    # an observer report names its observer (issue 14), picked by worker id or masked name;
    # the free field stays for a reporter who is no registered observer
    if st.session_state.get("rep_source") == "observer":
        employment.observer_picker(location, version, lang)
    st.text_input(
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
        # descriptions only of reports this viewer may see
        duplicates = with_descriptions(
            find_duplicates(pool, category, lon_w, lat_w, reference), all_reports
        )
    if not len(duplicates):
        st.button(
            t("rep_submit", lang), key="rep_submit", type="primary", width="stretch", on_click=_file
        )
        return
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
        duplicates_table(duplicates, lang), hide_index=True, width="stretch", key="rep_duplicates"
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
    col_new.button(t("rep_submit_anyway", lang), key="rep_submit", width="stretch", on_click=_file)
