"""The reports page's detail panel: a report's facts, photo and timeline, and its workflow
buttons (a step is recorded in the button's callback, before the run it causes).

A report is a case (issue 19): 响应 and 办结 go through ``geo.cases.actions.record_case_step``
with the account's case actor, the same code path and rules as the case desk; the return
visit (method, who, the answer) and 结案 are made on the case desk, which this panel opens
on the same case."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.cases.actions import record_case_step
from geo.cases.rules import CaseError
from geo.config import Config
from geo.i18n import t
from geo.reports.views import history_table, report_facts, step_label
from geo.reports.workflow import next_step, report_history
from geo.store import open_store
from geo.store.base import StoreBusy
from ui import cases as ui_cases
from ui import data, session
from ui import reports as ui_reports
from ui.text import md

STEP_DONE = "rep_step_done"  # (success|error, text) of the last workflow step, shown once
SELECTED = "rep_selected"  # the report id in the detail panel: an id, never a row position
DETAIL_KEY = "rep_detail"
WORK_STEPS = ("responded", "resolved")  # recorded here; the return visit and 结案 on the desk
DESK_STEPS = ("followed_up", "closed")
CASE_PAGE = "pages/cases.py"


def _record_step(report_id: str, step: str) -> None:
    """Step button callback: record ``step`` of ``report_id`` (the report the panel showed)."""
    from ui.auth import current_viewer

    current = session.lang()
    where = session.store_location()
    if current_viewer(where) is None:  # signed out meanwhile: the run shows the sign-in form
        return
    label = t(f"rep_step_{step}", current)
    target = open_store(where)
    before = target.version()
    try:
        record_case_step(
            target,
            report_id,
            step,
            ui_cases.account_actor(where, before),
            note=str(st.session_state.get("rep_note") or "").strip() or None,
        )
    except StoreBusy as busy:  # an import's final copy: nothing written, retry
        st.session_state[STEP_DONE] = ("warning", busy.message(current))
        return
    except CaseError as error:
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


def step_result() -> None:
    """The result of the last workflow step, shown once (its values are data: escaped)."""
    result = st.session_state.pop(STEP_DONE, None)
    if result:
        kind, text = result
        show = {"success": st.success, "warning": st.warning}.get(kind, st.error)
        show(md(text))


def choose_report(reports: pd.DataFrame, detail_ids: list[str], lang: str) -> pd.Series:
    """The select box of the panel's report (it follows the selection); the chosen report."""
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
    return by_id.loc[detail_id]


def facts(location: str, report: pd.Series, grid_names: dict, lang: str, config: Config) -> None:
    """A report's facts, description and photo."""
    lines = report_facts(report, grid_names, lang, config, ui_reports.countdown)
    st.markdown("  \n".join(f"**{label}**: {md(value)}" for label, value in lines))
    st.markdown(f"**{t('rep_col_description', lang)}**")
    st.text(report["description"] if isinstance(report["description"], str) else "–")
    if isinstance(report.get("photo"), str) and report["photo"]:
        photo_bytes = ui_reports.report_photo(location, report["report_id"])
        if photo_bytes:
            try:
                st.image(photo_bytes, caption=t("rep_photo", lang), width=320)
            except (OSError, ValueError):  # passed the type check but cannot be decoded
                st.caption(t("rep_photo_unreadable", lang))


def workflow(location: str, report: pd.Series, lang: str, config: Config) -> None:
    """A report's timeline, the step it waits for, and one button per workflow step."""
    detail_id = report["report_id"]
    st.markdown(f"**{t('rep_timeline', lang)}**")
    history = report_history(open_store(location), detail_id)
    st.dataframe(history_table(history, lang), hide_index=True, width="stretch", key="rep_history")
    expected = next_step(report.to_dict())
    if expected is None and not isinstance(report.get("closed_at"), str):
        expected = "closed"
    st.markdown(
        f"**{t('rep_workflow', lang)}**: "
        + (
            t("rep_next_step", lang, step=step_label(expected, lang))
            if expected
            else t("rep_all_done", lang)
        )
    )
    # read by the step callback when a step is recorded: typing reruns nothing
    st.text_input(t("rep_note", lang), key="rep_note", on_change="ignore")
    # one button per step recorded here; the step the report waits for stands out
    columns = st.columns(3)
    for column, step in zip(columns, WORK_STEPS, strict=False):
        column.button(
            t("rep_do_step", lang, step=step_label(step, lang)),
            key=f"rep_do_{step}",
            width="stretch",
            type="primary" if expected == step else "secondary",
            on_click=_record_step,
            args=(detail_id, step),
        )
    # the return visit (method, who, the answer) and 结案: on the case desk, this case open
    if columns[2].button(
        t("rep_to_desk", lang),
        key="rep_to_desk",
        width="stretch",
        type="primary" if expected in DESK_STEPS else "secondary",
        help=t("rep_to_desk_help", lang),
    ):
        st.session_state[ui_cases.SELECTED] = detail_id
        st.switch_page(CASE_PAGE)
