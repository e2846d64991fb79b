"""Streamlit glue of the case desk: the cached case data of the viewer's scope, the actor the
account acts as, and the action forms (each action runs in its button's callback, before the
run it causes; a refusal is a message, nothing is written)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from geo.access.auth import Viewer
from geo.cases import actions
from geo.cases.owners import Owner, owner_choices
from geo.cases.rules import Actor, CaseError
from geo.cases.settings import CaseSettings, case_settings
from geo.cases.timeline import case_status
from geo.cases.views import actor_for, owner_label, staff_names
from geo.config import Config, load_config
from geo.i18n import t
from geo.store import open_store
from geo.store.base import StoreBusy
from geo.timeutil import now_local
from ui import data, session
from ui.data import AccessDenied
from ui.text import md

CASE_DONE = "case_done"  # (success|warning|error, text) of the last action, shown once
SELECTED = "case_selected"  # the case id in the detail panel
_REPORT_COLUMNS = [
    "report_id",
    "source",
    "category",
    "description",
    "grid_id",
    "reported_at",
    "responded_at",
    "resolved_at",
    "followed_up_at",
    "satisfaction",
    "duplicate_of",
    "owner_kind",
    "owner_id",
    "followup_method",
    "followup_by",
    "closed_at",
]


@dataclass(frozen=True)
class CaseData:
    """The case desk's data in one scope (no reporter ids, no photos, no staff phones)."""

    reports: pd.DataFrame
    events: pd.DataFrame
    grids: pd.DataFrame
    staff: pd.DataFrame
    mediations: pd.DataFrame
    sessions: pd.DataFrame
    mediators: pd.DataFrame


@st.cache_data(show_spinner=False, max_entries=4)
def _case_data(
    location: str, version: int, scope: tuple[str, ...] | None, department: str | None = None
) -> CaseData:
    del version  # cache key only
    store = open_store(location)
    if department is not None:  # a department's cases, wherever they are
        where = {"owner_kind": "department", "owner_id": department}
    else:
        where = None if scope is None else {"grid_id": list(scope)}
    reports = store.read_attributes("reports", _REPORT_COLUMNS, where=where)
    reports = reports[reports["duplicate_of"].isna()].reset_index(drop=True)
    ids = reports["report_id"].tolist()
    by_id = {"report_id": ids} if scope is not None or department is not None else None
    grid_where = None
    if department is not None:  # only the grids its cases lie in, and their people
        grid_where = {"grid_id": sorted(set(reports["grid_id"].dropna().astype(str)))}
    grids = store.read_attributes("grids", ["grid_id", "name", "community"], where=grid_where)
    staff = store.read_attributes(
        "staff", ["staff_id", "name", "role", "grid_id", "department"], where=grid_where
    )
    return CaseData(
        reports=reports,
        events=store.read_attributes("case_events", where=by_id),
        grids=grids,
        staff=staff,
        mediations=store.read_attributes("mediations", where=by_id),
        sessions=store.read_attributes("mediation_sessions", where=by_id),
        mediators=store.read_attributes("mediation_mediators", where=by_id),
    )


def case_data(location: str, version: int, viewer: Viewer | None = None) -> CaseData:
    """The cases of the viewer's grids (all for the street's roles); refused for aggregates.

    A department account sees the cases its department owns now, and of the rest only the
    grids those cases lie in and the staff of those grids (names and roles, for the owners
    and the transfer choices): no other report, no household, no reporter.
    """
    viewer = viewer if viewer is not None else session.viewer()
    if viewer.aggregates_only:
        raise AccessDenied(f"{viewer.role} sees aggregates only: no case rows")
    if viewer.role == "department":
        return _case_data(location, version, (), viewer.department or "")
    return _case_data(location, version, data.grid_scope(location, version, viewer))


def actor(cases: CaseData, viewer: Viewer | None = None) -> Actor:
    """The case actor the signed-in account acts as."""
    viewer = viewer if viewer is not None else session.viewer()
    return actor_for(
        viewer.username,
        viewer.role,
        viewer.community,
        viewer.grids,
        cases.staff,
        case_settings(),
        department=viewer.department,
    )


def owner_labels(cases: CaseData, lang: str, config: Config) -> dict[str, str]:
    """``kind:id`` -> label of every owner the cases and the choices name."""
    names = staff_names(cases.staff)
    keys = set(zip(cases.reports["owner_kind"], cases.reports["owner_id"], strict=True)) | set(
        zip(cases.events["owner_kind"], cases.events["owner_id"], strict=True)
    )
    keys |= set(zip(cases.events["from_kind"], cases.events["from_id"], strict=True))
    keys |= {("staff", s) for s in names}
    keys |= {("department", r) for r in case_settings().department_roles}
    keys |= {("mediation", c) for c in cases.grids["community"].dropna()}
    return {
        f"{k}:{i}": owner_label(k, i, names, lang, config)
        for k, i in keys
        if isinstance(k, str) and isinstance(i, str)
    }


def with_owner_labels(
    reports: pd.DataFrame, location: str, version: int, lang: str, with_id: bool = True
) -> pd.DataFrame:
    """``reports`` with ``owner``: each case's owner as shown (the reports page's table and
    facts; the maps' popups with ``with_id`` False: a person by name, no staff id)."""
    if "owner_kind" not in reports.columns or reports.empty:
        return reports
    staff = _staff(location, version)
    names = staff_names(staff)
    config = load_config()
    return reports.assign(
        owner=[
            owner_label(k, i, names, lang, config, with_id) if isinstance(k, str) else ""
            for k, i in zip(reports["owner_kind"], reports["owner_id"], strict=True)
        ]
    )


@st.cache_data(show_spinner=False, max_entries=4)
def _staff(location: str, version: int) -> pd.DataFrame:
    del version  # cache key only
    return open_store(location).read_attributes("staff", ["staff_id", "name", "role", "grid_id"])


def account_actor(location: str, version: int, viewer: Viewer | None = None) -> Actor:
    """The case actor of the signed-in account where no case data is loaded (the reports
    page's step buttons): the same ``actor_for`` as the desk's."""
    viewer = viewer if viewer is not None else session.viewer()
    return actor_for(
        viewer.username,
        viewer.role,
        viewer.community,
        viewer.grids,
        _staff(location, version),
        case_settings(),
        department=viewer.department,
    )


def result() -> None:
    """The result of the last action, shown once (its values are data: escaped)."""
    done = st.session_state.pop(CASE_DONE, None)
    if done:
        kind, text = done
        {"success": st.success, "warning": st.warning}.get(kind, st.error)(md(text))


def _run(report_id: str, action: str, call) -> None:  # noqa: ANN001 - a closure over the store
    """Run one case action in a callback: the result message, the cache kept honest."""
    from ui.auth import current_viewer

    lang = session.lang()
    where = session.store_location()
    if current_viewer(where) is None:  # signed out meanwhile: the run shows the sign-in form
        return
    store = open_store(where)
    before = store.version()
    label = t(f"case_action_{action}", lang)
    try:
        call(store)
    except StoreBusy as busy:
        st.session_state[CASE_DONE] = ("warning", busy.message(lang))
        return
    except CaseError as error:
        st.session_state[CASE_DONE] = (
            "error",
            t("case_refused", lang, action=label) + " " + error.message(lang),
        )
        return
    data.note_reports_only_write(where, before, store.version())
    st.session_state[CASE_DONE] = ("success", t("case_done", lang, id=report_id, action=label))


def _value(key: str) -> object:
    return st.session_state.get(key)


def _act(report_id: str, action: str, who: Actor) -> None:
    """The callback of an action form's button: read the form's fields, run the action."""
    settings = case_settings()
    reason = str(_value("case_reason") or "").strip() or None
    note = str(_value("case_note") or "").strip() or None
    calls = {
        "assign": lambda s: actions.assign_case(
            s, report_id, Owner.parse(str(_value("case_to"))), who, settings
        ),
        "transfer": lambda s: actions.transfer_case(
            s, report_id, Owner.parse(str(_value("case_to"))), reason, who, settings
        ),
        "extend": lambda s: actions.request_extension(
            s, report_id, float(_value("case_hours") or 0), reason, who, settings
        ),
        "decide": lambda s: actions.decide_extension(
            s, report_id, _value("case_decision") == "approve", reason, who, settings
        ),
        "followed_up": lambda s: actions.record_case_step(
            s,
            report_id,
            "followed_up",
            who,
            note=note,
            satisfaction=_value("case_satisfaction"),
            method=_value("case_method"),
            by=str(_value("case_by") or ""),
            settings=settings,
        ),
        "mediation": lambda s: actions.open_mediation(
            s, report_id, str(_value("case_kind")), str(_value("case_type")), who, settings
        ),
        "session": lambda s: actions.record_session(
            s,
            report_id,
            dt.datetime.combine(_value("case_held_day"), _value("case_held_time")),
            str(_value("case_outcome")),
            [tuple(p) for p in _value("case_mediators_with") or []],
            who,
            note=note,
            settings=settings,
        ),
    }
    for step in ("responded", "resolved", "closed"):
        calls[step] = lambda s, step=step: actions.record_case_step(
            s, report_id, step, who, note=note, settings=settings
        )
    _run(report_id, action, calls[action])


def action_form(
    report: pd.Series,
    action: str,
    who: Actor,
    cases: CaseData,
    labels: dict[str, str],
    lang: str,
    config: Config,
) -> None:
    """The fields of ``action`` on ``report`` and its button."""
    settings = case_settings()
    report_id = report["report_id"]
    if action in ("assign", "transfer"):
        mine = case_status(report.to_dict(), cases.events)
        choices = [
            o.key
            for o in owner_choices(report.get("grid_id"), cases.grids, cases.staff, settings)
            if o != mine.owner
        ]
        st.selectbox(
            t("case_to", lang),
            choices,
            key="case_to",
            format_func=lambda k: labels.get(k, k),
            on_change="ignore",
        )
    if action == "extend":
        st.number_input(
            t("case_hours_label", lang, max=f"{settings.max_extension_hours:g}"),
            min_value=1,
            max_value=int(settings.max_extension_hours),
            value=min(48, int(settings.max_extension_hours)),
            step=1,
            key="case_hours",
            on_change="ignore",
        )
    if action == "decide":
        st.radio(
            t("case_decision", lang),
            ["approve", "refuse"],
            horizontal=True,
            key="case_decision",
            format_func=lambda d: t(f"case_decision_{d}", lang),
            on_change="ignore",
        )
    if action in ("transfer", "extend", "decide", "assign"):
        st.text_input(t("case_reason", lang), key="case_reason", max_chars=500, on_change="ignore")
    if action == "followed_up":
        _return_visit_fields(who, lang, config, settings)
    if action in ("responded", "resolved", "closed", "followed_up"):
        st.text_input(t("rep_note", lang), key="case_note", max_chars=500, on_change="ignore")
    if action == "mediation":
        _mediation_fields(report, cases, who, lang, settings)
        return
    st.button(
        t("case_do", lang, action=t(f"case_action_{action}", lang)),
        key=f"case_do_{action}",
        type="primary",
        on_click=_act,
        args=(report_id, action, who),
    )


def _return_visit_fields(who: Actor, lang: str, config: Config, settings: CaseSettings) -> None:
    methods = list(settings.return_visit_methods)
    st.radio(
        t("case_method", lang),
        methods,
        horizontal=True,
        key="case_method",
        format_func=lambda m: t(f"case_method_{m}", lang),
        on_change="ignore",
    )
    st.session_state.setdefault("case_by", who.name)
    st.text_input(t("case_by", lang), key="case_by", max_chars=100, on_change="ignore")
    st.radio(
        t("rep_satisfaction_for_follow_up", lang),
        list(config.satisfaction),
        horizontal=True,
        index=None,
        key="case_satisfaction",
        format_func=lambda s: t(f"rep_satisfaction_{s}", lang),
        on_change="ignore",
    )


def _mediation_fields(
    report: pd.Series, cases: CaseData, who: Actor, lang: str, settings: CaseSettings
) -> None:
    """The mediation record (kind, type) and a new session (time, outcome, mediators)."""
    med = settings.mediation
    report_id = report["report_id"]
    record = cases.mediations[cases.mediations["report_id"] == report_id]
    kinds, types = list(med.kinds), list(med.types)
    st.markdown(f"**{t('case_med_record', lang)}**")
    col_kind, col_type = st.columns(2)
    col_kind.selectbox(
        t("case_med_kind", lang),
        kinds,
        index=kinds.index(record["dispute_kind"].iloc[0])
        if len(record) and record["dispute_kind"].iloc[0] in kinds
        else 0,
        key="case_kind",
        format_func=lambda k: med.kinds[k] if lang == "zh-CN" else t(f"case_kind_{k}", lang),
        on_change="ignore",
    )
    col_type.selectbox(
        t("case_med_type", lang),
        types,
        index=types.index(record["mediation_type"].iloc[0])
        if len(record) and record["mediation_type"].iloc[0] in types
        else 0,
        key="case_type",
        format_func=lambda k: med.types[k] if lang == "zh-CN" else t(f"case_type_{k}", lang),
        on_change="ignore",
    )
    st.button(
        t("case_med_save", lang),
        key="case_do_mediation",
        on_click=_act,
        args=(report_id, "mediation", who),
    )
    if record.empty:
        return
    st.markdown(f"**{t('case_med_session', lang)}**")
    community = cases.grids.set_index("grid_id")["community"].get(report.get("grid_id"))
    in_community = cases.grids.loc[cases.grids["community"] == community, "grid_id"]
    people = cases.staff[cases.staff["grid_id"].isin(in_community)].drop_duplicates("staff_id")
    capacity = {
        r.staff_id: med.capacity_of_role.get(r.role, "mediator") for r in people.itertuples()
    }
    names = staff_names(people)
    col_day, col_time, col_outcome = st.columns(3)
    now = now_local()
    col_day.date_input(
        t("case_held_day", lang), value=now.date(), max_value=now.date(), key="case_held_day"
    )
    col_time.time_input(
        t("case_held_time", lang), value=dt.time(now.hour, 0), key="case_held_time", step=900
    )
    col_outcome.selectbox(
        t("case_outcome", lang),
        list(med.outcomes),
        key="case_outcome",
        format_func=lambda o: med.outcomes[o] if lang == "zh-CN" else t(f"case_outcome_{o}", lang),
        on_change="ignore",
    )
    chosen = st.multiselect(
        t("case_mediators", lang),
        sorted(capacity),
        key="case_mediators",
        format_func=lambda s: f"{names.get(s, s)} · {med.capacities[capacity[s]]}",
        placeholder=t("ui_choose", lang),
    )
    st.session_state["case_mediators_with"] = [(s, capacity[s]) for s in chosen]
    st.text_input(t("rep_note", lang), key="case_note", max_chars=500, on_change="ignore")
    st.button(
        t("case_do", lang, action=t("case_action_session", lang)),
        key="case_do_session",
        type="primary",
        on_click=_act,
        args=(report_id, "session", who),
    )
