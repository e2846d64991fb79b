"""The coverage page's form: log a visit or mark a household re-verified.

The edits run as widget callbacks, before the page body, so the figures the run draws
include them; each is refused (nothing written) for a household outside the viewer's grids.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from geo.care.coverage import EditRefused, log_visit, mark_verified
from geo.i18n import t
from geo.store import open_store
from geo.timeutil import now_local, today
from ui import auth, data, session
from ui import coverage as cov
from ui.text import md_t

FORM_RESULT = "coverage_form_result"
HOUSEHOLD_KEY = "coverage_form_household"
SAVES = "coverage_saves"  # edits saved in this session: a new work-list table after each
KINDS = ("home", "phone", "video")  # geo.coverage.VISIT_KINDS stores them as 入户/电话/视频


def _form_values() -> tuple[str, dt.datetime]:
    household = str(st.session_state.get(HOUSEHOLD_KEY) or "").strip()
    day = st.session_state.get("coverage_form_day") or today()
    at = st.session_state.get("coverage_form_time") or dt.time(0, 0)
    return household, dt.datetime.combine(day, at)


def _refuse_outside_scope(households: list[str]) -> None:
    # a household outside the viewer's grids reads as unknown: no edit, and no hint it exists
    if households[0] and not data.households_in_scope(auth.location(), households):
        raise EditRefused("edit_unknown_household", ids=", ".join(households))


def _clear_form() -> None:
    """After a save nothing is pre-selected or pre-filled: a second click must not record a
    visit to the next household of the list."""
    st.session_state[HOUSEHOLD_KEY] = ""
    st.session_state["coverage_form_note"] = ""
    st.session_state[SAVES] = st.session_state.get(SAVES, 0) + 1  # the table starts unticked


def _log_visit() -> None:
    current = session.lang()
    household, when = _form_values()
    kind = st.session_state.get("coverage_form_kind") or KINDS[0]
    target = open_store(auth.location())
    before = target.version()
    try:
        _refuse_outside_scope([household])
        log_visit(
            target,
            household,
            when,
            kind,
            st.session_state.get("coverage_form_staff") or None,
            str(st.session_state.get("coverage_form_note") or "").strip() or None,
            cov.actor(),
        )
    except EditRefused as refused:
        st.session_state[FORM_RESULT] = ("error", md_t(refused.key, current, **refused.values))
        return
    # a visit changes this household's status only (ui.data.note_household_edit)
    data.note_household_edit(auth.location(), before, target.version(), [household])
    _clear_form()
    st.session_state[FORM_RESULT] = (
        "success",
        md_t(
            "coverage_logged",
            current,
            household=household,
            kind=t(f"coverage_kind_{kind}", current),
            when=f"{when:%Y-%m-%d %H:%M}",
        ),
    )


def _mark_verified() -> None:
    current = session.lang()
    household, _ = _form_values()
    day = today()
    target = open_store(auth.location())
    before = target.version()
    try:
        if household:
            _refuse_outside_scope([household])
        mark_verified(target, [household] if household else [], day, cov.actor())
    except EditRefused as refused:
        st.session_state[FORM_RESULT] = ("error", md_t(refused.key, current, **refused.values))
        return
    data.note_household_edit(auth.location(), before, target.version(), [household])
    _clear_form()
    st.session_state[FORM_RESULT] = (
        "success",
        md_t("coverage_verified", current, household=household, day=day.isoformat()),
    )


def visit_form(location: str, version: int, scope: tuple[str, ...] | None, lang: str) -> None:
    """The form (household, day, time, kind, staff of the viewer's grids, note) and the
    result of the last save."""
    staff = cov.staff_options(location, version, scope)
    staff_names = dict(zip(staff["staff_id"], staff["name"].fillna(""), strict=True))
    with st.form("coverage_visit_form"):
        row1 = st.columns([2, 2, 2, 3])
        with row1[0]:
            st.text_input(t("coverage_form_household", lang), key=HOUSEHOLD_KEY)
        with row1[1]:
            st.date_input(t("coverage_form_day", lang), value=today(), key="coverage_form_day")
        with row1[2]:
            st.time_input(
                t("coverage_form_time", lang),
                value=now_local().time().replace(second=0, microsecond=0),
                key="coverage_form_time",
            )
        with row1[3]:
            st.radio(
                t("coverage_form_kind", lang),
                KINDS,
                format_func=lambda k: t(f"coverage_kind_{k}", lang),
                horizontal=True,
                key="coverage_form_kind",
            )
        row2 = st.columns([2, 5])
        with row2[0]:
            st.selectbox(
                t("coverage_form_staff", lang),
                ["", *staff["staff_id"].astype(str)],
                format_func=lambda s: (
                    t("coverage_form_staff_none", lang)
                    if s == ""
                    else f"{staff_names.get(s) or ''} ({s})"
                ),
                key="coverage_form_staff",
            )
        with row2[1]:
            st.text_input(
                t("coverage_form_note", lang),
                help=t("coverage_form_note_help", lang),
                key="coverage_form_note",
            )
        st.caption(t("coverage_form_hint", lang))
        buttons = st.columns([1, 1, 4])
        with buttons[0]:
            st.form_submit_button(
                t("coverage_form_submit", lang),
                type="primary",
                on_click=_log_visit,
                key="coverage_form_log",
            )
        with buttons[1]:
            st.form_submit_button(
                t("coverage_form_verify", lang), on_click=_mark_verified, key="coverage_form_verify"
            )
    result = st.session_state.pop(FORM_RESULT, None)
    if result is not None:
        kind, text = result
        (st.success if kind == "success" else st.error)(text)
