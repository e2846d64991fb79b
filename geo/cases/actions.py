"""Case actions on a store: each one transaction that checks the rules (``geo.cases.rules``)
on the case as it stands inside the transaction, writes the report's columns, its timeline
row and, for transfers and extensions, an audit-log entry — or, refused, writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo.access.audit import audit_row
from geo.cases.hook import call_hook
from geo.cases.limits import case_clock
from geo.cases.mediation import check_mediation, check_session
from geo.cases.owners import Owner, propose_owners
from geo.cases.reminders import claim_rows, reminders_due, send_reminders
from geo.cases.rules import (
    Actor,
    CaseError,
    check_assign,
    check_close,
    check_extension_decision,
    check_extension_request,
    check_return_visit,
    check_transfer,
    check_work_step,
    grants_directly,
)
from geo.cases.settings import CaseSettings, case_settings
from geo.cases.timeline import CaseStatus, case_status, event_row
from geo.reports.workflow import ReportError, check_step
from geo.timeutil import format_timestamp, now_local

WORK_STEPS = ("responded", "resolved", "followed_up", "closed")


def _case(tx, report_id: str) -> tuple[dict, pd.DataFrame, CaseStatus]:
    found = tx.read("reports", where={"report_id": report_id})
    if found.empty:
        raise CaseError("case_err_no_report", id=report_id)
    report = found.drop(columns="geometry", errors="ignore").iloc[0].to_dict()
    events = tx.read("case_events", where={"report_id": report_id})
    return report, events, case_status(report, events)


@dataclass(frozen=True)
class _OnCase:
    """One case action's transaction: the case as it stands inside it, and when it runs."""

    tx: Any
    report: dict
    case: CaseStatus
    now: dt.datetime
    actor: Actor

    def event(
        self, event: str, *, seq: int | None = None, owner: Owner | None = None, **values: Any
    ) -> None:
        """Append the case's next timeline row (``seq`` default: the next free number); an
        owner event also moves the report's owner columns."""
        report_id = self.case.report_id
        row = event_row(
            report_id,
            self.case.next_seq if seq is None else seq,
            event,
            self.now,
            self.actor.name,
            self.actor.role,
            self.now,
            owner=owner,
            **values,
        )
        self.tx.append("case_events", pd.DataFrame([row]))
        if owner is not None:
            self.tx.update(
                "reports",
                {"report_id": report_id},
                {"owner_kind": owner.kind, "owner_id": owner.id},
            )

    def audit(self, action: str, detail: str) -> None:
        """The audit-log entry of this action on the case."""
        self.tx.append("audit_log", audit_row(self.actor.name, action, detail, self.case.report_id))


@contextmanager
def _on_case(store, report_id: str, actor: Actor) -> Iterator[_OnCase]:
    """Load the case inside one write transaction; the action checks the rules on it and
    writes there (a refusal raises, and the transaction writes nothing)."""
    now = now_local()
    with store.transaction() as tx:
        report, _, case = _case(tx, report_id)
        yield _OnCase(tx, report, case, now, actor)


def dispatch_unowned(tx, now: dt.datetime, settings: CaseSettings | None = None) -> int:
    """Give every report never dispatched (no owner, no owner event) its proposed owner, as
    an ``assigned`` event by the system stamped ``now``; returns the reports dispatched."""
    settings = settings or case_settings()
    reports = tx.read(
        "reports", ["report_id", "source", "category", "grid_id"], where={"owner_kind": None}
    )
    if "geometry" in reports.columns:
        reports = pd.DataFrame(reports.drop(columns="geometry"))
    if reports.empty:
        return 0
    moved = tx.read("case_events", ["report_id"], where={"event": ["assigned", "transferred"]})
    reports = reports[~reports["report_id"].isin(set(moved["report_id"]))]
    grids = tx.read("grids", ["grid_id", "community"])
    staff = tx.read("staff", ["staff_id", "role", "grid_id", "department"])
    grids = pd.DataFrame(grids.drop(columns="geometry", errors="ignore"))
    proposed = propose_owners(reports, grids, staff, settings)
    proposed = proposed[proposed["owner_kind"].notna()]
    rows = [
        event_row(
            r.report_id,
            1,
            "assigned",
            now,
            "system",
            "system",
            now,
            owner=Owner(r.owner_kind, r.owner_id),
        )
        for r in proposed.itertuples()
    ]
    if rows:
        tx.append("case_events", pd.DataFrame(rows))
        for r in proposed.itertuples():
            tx.update(
                "reports",
                {"report_id": r.report_id},
                {"owner_kind": r.owner_kind, "owner_id": r.owner_id},
            )
    return len(rows)


def dispatch_new(store, settings: CaseSettings | None = None) -> int:
    """Dispatch the reports that arrived since the last dispatch (one transaction)."""
    with store.transaction() as tx:
        return dispatch_unowned(tx, now_local(), settings)


def assign_case(
    store, report_id: str, owner: Owner, actor: Actor, settings: CaseSettings | None = None
) -> None:
    """Dispatch a case nobody owns to ``owner`` (the desk's manual 派单)."""
    settings = settings or case_settings()
    with _on_case(store, report_id, actor) as on:
        check_assign(on.case, owner, actor, settings)
        on.event("assigned", owner=owner)
        on.audit("case_assign", owner.key)


def transfer_case(
    store,
    report_id: str,
    to: Owner,
    reason: str | None,
    actor: Actor,
    settings: CaseSettings | None = None,
) -> None:
    """转派 a case to ``to`` with a reason: the timeline and the audit log record it."""
    settings = settings or case_settings()
    with _on_case(store, report_id, actor) as on:
        kept = check_transfer(on.case, to, reason, actor, settings)
        on.event("transferred", owner=to, previous=on.case.owner, reason=kept)
        previous = on.case.owner.key if on.case.owner else "-"
        on.audit("case_transfer", f"{previous} -> {to.key}")


def request_extension(
    store,
    report_id: str,
    hours: float,
    reason: str | None,
    actor: Actor,
    settings: CaseSettings | None = None,
) -> bool:
    """Ask for ``hours`` more; an approver's request is granted at once. True when granted."""
    settings = settings or case_settings()
    with _on_case(store, report_id, actor) as on:
        kept = check_extension_request(on.case, float(hours), reason, actor, settings)
        seq = on.case.next_seq
        on.event("extension_requested", hours=hours, reason=kept)
        granted = grants_directly(actor, settings)
        if granted:
            on.event("extended", seq=seq + 1, hours=hours, reason=kept, request_seq=seq)
        on.audit("case_extend" if granted else "case_extension_request", f"{float(hours):g} h")
    return granted


def decide_extension(
    store,
    report_id: str,
    approve: bool,
    reason: str | None,
    actor: Actor,
    settings: CaseSettings | None = None,
) -> None:
    """Grant or refuse the pending extension request (an approver role only)."""
    settings = settings or case_settings()
    with _on_case(store, report_id, actor) as on:
        case = on.case
        kept = check_extension_decision(case, approve, reason, actor, settings)
        event = "extended" if approve else "extension_refused"
        on.event(
            event,
            hours=case.pending_hours if approve else None,
            reason=kept,
            request_seq=case.pending_request,
        )
        on.audit(f"case_{event}", f"{case.pending_hours:g} h" if approve else "refused")


def record_case_step(
    store,
    report_id: str,
    step: str,
    actor: Actor,
    *,
    at: dt.datetime | None = None,
    note: str | None = None,
    satisfaction: str | None = None,
    method: str | None = None,
    by: str | None = None,
    settings: CaseSettings | None = None,
) -> None:
    """Respond, resolve, make the return visit (method, who, the answer) or close a case."""
    settings = settings or case_settings()
    if step not in WORK_STEPS:
        raise CaseError("case_err_unknown_step", step=str(step)[:30])
    values: dict[str, object] = {}
    with _on_case(store, report_id, actor) as on:
        tx, report, case, now = on.tx, on.report, on.case, on.now
        at = at or now
        if step in ("responded", "resolved"):
            check_work_step(case, actor, settings)
        elif step == "followed_up":
            values["followup_by"] = check_return_visit(case, method, by, actor, settings)
            values["followup_method"] = method
            values["satisfaction"] = satisfaction
        else:
            check_close(case, actor, settings)
            if at > now:
                raise CaseError("case_err_time_future", at=format_timestamp(at))
            if format_timestamp(at) < str(report.get("followed_up_at") or ""):
                raise CaseError("case_err_close_before_return_visit", at=format_timestamp(at))
        if step != "closed":
            try:
                check_step(report, step, at, satisfaction, now)
            except ReportError as error:
                raise CaseError("case_err_step_refused", reason=error) from None
        column = f"{step}_at" if step != "closed" else "closed_at"
        values[column] = format_timestamp(at)
        changed = tx.update("reports", {"report_id": report_id, column: None}, values)
        if changed != 1:
            raise CaseError("case_err_meanwhile", id=report_id)
        tx.append(
            "report_steps",
            pd.DataFrame(
                [
                    {
                        "report_id": report_id,
                        "step": step,
                        "at": format_timestamp(at),
                        "actor": actor.name,
                        "note": (note or "").strip()[:500] or None,
                        "recorded_at": format_timestamp(now),
                    }
                ]
            ),
        )


def open_mediation(
    store,
    report_id: str,
    kind: str,
    mediation_type: str,
    actor: Actor,
    settings: CaseSettings | None = None,
) -> None:
    """Open (or correct) the mediation record of a case: dispute kind and mediation type."""
    settings = settings or case_settings()
    kind_code, type_code = check_mediation(kind, mediation_type, settings.mediation)
    with _on_case(store, report_id, actor) as on:
        tx, report, case, now = on.tx, on.report, on.case, on.now
        if case.closed:
            raise CaseError("case_err_closed", id=report_id)
        grids = tx.read("grids", ["community"], where={"grid_id": report.get("grid_id")})
        community = grids["community"].iloc[0] if len(grids) else None
        existing = tx.read("mediations", ["opened_at"], where={"report_id": report_id})
        opened = existing["opened_at"].iloc[0] if len(existing) else format_timestamp(now)
        tx.upsert(
            "mediations",
            pd.DataFrame(
                [
                    {
                        "report_id": report_id,
                        "dispute_kind": kind_code,
                        "mediation_type": type_code,
                        "room": community,
                        "opened_at": opened,
                        "opened_by": actor.name,
                    }
                ]
            ),
        )


def record_session(
    store,
    report_id: str,
    held_at: dt.datetime,
    outcome: str,
    mediators: Sequence[tuple[str, str]],
    actor: Actor,
    note: str | None = None,
    settings: CaseSettings | None = None,
) -> int:
    """Record a mediation session (time, outcome, mediators with their capacity); its number."""
    settings = settings or case_settings()
    with _on_case(store, report_id, actor) as on:
        tx, report, now = on.tx, on.report, on.now
        if tx.read("mediations", ["report_id"], where={"report_id": report_id}).empty:
            raise CaseError("case_err_no_mediation", id=report_id)
        if not (actor.role in settings.manager_roles or actor.role == "community_staff"):
            raise CaseError("case_err_step_not_allowed", id=report_id)
        sessions = tx.read("mediation_sessions", where={"report_id": report_id})
        staff_ids = tx.read("staff", ["staff_id"])["staff_id"]
        outcome_code, pairs = check_session(
            report, sessions, held_at, outcome, mediators, staff_ids, now, settings.mediation
        )
        number = int(sessions["session_no"].max()) + 1 if len(sessions) else 1
        tx.append(
            "mediation_sessions",
            pd.DataFrame(
                [
                    {
                        "report_id": report_id,
                        "session_no": number,
                        "held_at": format_timestamp(held_at),
                        "outcome": outcome_code,
                        "note": (note or "").strip()[:500] or None,
                        "recorded_by": actor.name,
                        "recorded_at": format_timestamp(now),
                    }
                ]
            ),
        )
        tx.append(
            "mediation_mediators",
            pd.DataFrame(
                [
                    {"report_id": report_id, "session_no": number, "staff_id": s, "capacity": c}
                    for s, c in pairs
                ]
            ),
        )
    return number


def run_reminders(
    store,
    settings: CaseSettings | None = None,
    now: dt.datetime | None = None,
    notify: Callable[[str, str], None] | None = None,
) -> pd.DataFrame:
    """Send the reminders due now through the hook, once each; the rows recorded.

    Three steps: claim the due reminders in one transaction (status ``sending``: a run at
    the same time skips them), call the hook outside any transaction (a slow gateway never
    holds the store's write lock), then record each as sent or failed.
    """
    settings = settings or case_settings()
    now = now or now_local()
    notify = notify or (lambda case_id, owner_id: call_hook(settings.hook, case_id, owner_id))
    columns = ["report_id", "reported_at", "resolved_at", "owner_kind", "owner_id", "duplicate_of"]
    with store.transaction() as tx:
        reports = tx.read("reports", columns)
        reports = pd.DataFrame(reports.drop(columns="geometry", errors="ignore"))
        reports = reports[reports["duplicate_of"].isna()].reset_index(drop=True)
        clock = case_clock(reports, tx.read("case_events"), settings, now.date(), now=now)
        due = reminders_due(reports, clock, tx.read("case_reminders"), now)
        if due.empty:
            return claim_rows(due, now)
        tx.upsert("case_reminders", claim_rows(due, now))
    rows = send_reminders(due, notify, now)
    with store.transaction() as tx:
        tx.upsert("case_reminders", rows)
    return rows
