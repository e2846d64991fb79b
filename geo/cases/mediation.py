"""Mediation of disputes: the record (dispute kind, mediation type, room), its sessions and
mediators, and the rules they follow.

A mediation belongs to one report (usually of source 矛盾纠纷) and is held by the mediation
room of the report's community. Each session has a time, an outcome (调解成功, 未成功,
转诉讼/仲裁) and one or more mediators, each a staff member sitting in a capacity (老党员,
人民调解员, 民警, 司法所, 律师, 法院 ...). A session that fails lets the mediation go on; a
concluding outcome (success, litigation) ends it: no session after it. A mediation whose last
session failed is concluded as failed once its report is resolved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import pandas as pd

from geo.cases.rules import CaseError
from geo.cases.settings import MediationSettings
from geo.timeutil import format_timestamp

OPEN_STATES = ("none", "ongoing")  # any other state is the outcome that concluded it


def code_of(value: object, names: Mapping[str, str]) -> str | None:
    """The code of ``value`` given as a code or its zh name (None when it is neither)."""
    text = str(value or "").strip()
    if text in names:
        return text
    by_name = {name: code for code, name in names.items()}
    return by_name.get(text)


def propose_kind(category: object, settings: MediationSettings) -> str:
    """The dispute kind proposed for a report's category (``other`` when none is configured)."""
    return settings.kind_of_category.get(str(category or "").strip(), "other")


def check_mediation(
    kind: object, mediation_type: object, settings: MediationSettings
) -> tuple[str, str]:
    """The (kind, type) codes of a mediation record, given as codes or zh names."""
    kind_code = code_of(kind, settings.kinds)
    if kind_code is None:
        raise CaseError("case_err_dispute_kind", value=str(kind or "")[:50])
    type_code = code_of(mediation_type, settings.types)
    if type_code is None:
        raise CaseError("case_err_mediation_type", value=str(mediation_type or "")[:50])
    return kind_code, type_code


def check_session(
    report: Mapping,
    sessions: pd.DataFrame,
    held_at: dt.datetime,
    outcome: object,
    mediators: Iterable[tuple[str, object]],
    staff_ids: Iterable[str],
    now: dt.datetime,
    settings: MediationSettings,
) -> tuple[str, list[tuple[str, str]]]:
    """The outcome code and the (staff_id, capacity code) pairs of a new session, checked.

    ``report`` holds report_id, reported_at, closed_at; ``sessions`` its sessions so far
    (session_no, held_at, outcome); ``staff_ids`` the staff who may mediate.
    """
    report_id = report["report_id"]
    if isinstance(report.get("closed_at"), str) and report["closed_at"]:
        raise CaseError("case_err_closed", id=report_id)
    outcome_code = code_of(outcome, settings.outcomes)
    if outcome_code is None:
        raise CaseError("case_err_session_outcome", value=str(outcome or "")[:50])
    held = format_timestamp(held_at)
    if held_at > now:
        raise CaseError("case_err_session_future", at=held)
    if held < str(report.get("reported_at") or ""):
        raise CaseError("case_err_session_before_report", at=held, reported=report["reported_at"])
    if len(sessions):
        last = sessions.sort_values("session_no").iloc[-1]
        if last["outcome"] in settings.concluding_outcomes:
            raise CaseError("case_err_mediation_concluded", id=report_id)
        if held < str(last["held_at"]):
            raise CaseError("case_err_session_order", at=held, previous=last["held_at"])
    known = set(staff_ids)
    pairs: list[tuple[str, str]] = []
    for staff_id, capacity in mediators:
        if staff_id not in known:
            raise CaseError("case_err_unknown_mediator", staff_id=str(staff_id)[:50])
        capacity_code = code_of(capacity, settings.capacities)
        if capacity_code is None:
            raise CaseError("case_err_mediator_capacity", value=str(capacity or "")[:50])
        if staff_id not in {s for s, _ in pairs}:
            pairs.append((staff_id, capacity_code))
    if not pairs:
        raise CaseError("case_err_no_mediator")
    return outcome_code, pairs


def mediation_states(
    mediations: pd.DataFrame,
    sessions: pd.DataFrame,
    resolved: pd.Series,
    cutoff: str,
    settings: MediationSettings,
) -> pd.Series:
    """The state of each mediation (index report_id) as the data stood before ``cutoff``:
    ``none`` (no session yet), ``ongoing``, or the outcome that concluded it: a concluding
    outcome, or the last session's outcome (e.g. failed) once the report is resolved.
    ``resolved`` maps report_id -> resolved by then (bool)."""
    held = sessions[sessions["held_at"].astype(str) < cutoff]
    last = (
        held.sort_values(["report_id", "session_no"])
        .drop_duplicates("report_id", keep="last")
        .set_index("report_id")["outcome"]
    )
    ids = mediations["report_id"]
    outcome = ids.map(last)
    state = pd.Series("none", index=ids.to_numpy(), dtype=object)
    has = outcome.notna().to_numpy()
    state[has] = "ongoing"
    done = outcome.isin(settings.concluding_outcomes).to_numpy() | (
        has & ids.map(resolved).fillna(False).to_numpy(bool)
    )
    state[done] = outcome[done].to_numpy()
    return state
