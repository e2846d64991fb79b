"""A case's timeline: the case events (assigned, transferred, extensions) beside the report's
steps (reported, responded, resolved, followed_up, closed), and what they add up to.

Case events are rows of the ``case_events`` table, numbered per report (``event_no``) in the
order they were recorded. The owner of a case as the data stood at a time is the owner named
by its last assigned/transferred event by then; the limit in force adds the hours of the
extensions approved by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.cases.owners import Owner
from geo.timeutil import format_timestamp

EVENTS = ("assigned", "transferred", "extension_requested", "extended", "extension_refused")
OWNER_EVENTS = ("assigned", "transferred")
EVENT_COLUMNS = (
    "report_id",
    "event_no",
    "event",
    "at",
    "actor",
    "actor_role",
    "owner_kind",
    "owner_id",
    "from_kind",
    "from_id",
    "hours",
    "reason",
    "request_seq",
    "recorded_at",
)
STEP_ORDER = ("reported", "responded", "resolved", "followed_up", "closed")


def empty_events() -> pd.DataFrame:
    """A case_events frame with no rows."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in EVENT_COLUMNS})
    return frame.astype({"event_no": "int64", "hours": float})


def event_row(
    report_id: str,
    seq: int,
    event: str,
    at: dt.datetime,
    actor: str,
    actor_role: str,
    now: dt.datetime,
    *,
    owner: Owner | None = None,
    previous: Owner | None = None,
    hours: float | None = None,
    reason: str | None = None,
    request_seq: int | None = None,
) -> dict[str, object]:
    """One case_events row (a dict with every column of ``EVENT_COLUMNS``)."""
    if event not in EVENTS:
        raise ValueError(f"unknown case event {event!r}")
    return {
        "report_id": report_id,
        "event_no": int(seq),
        "event": event,
        "at": format_timestamp(at),
        "actor": actor,
        "actor_role": actor_role,
        "owner_kind": owner.kind if owner else None,
        "owner_id": owner.id if owner else None,
        "from_kind": previous.kind if previous else None,
        "from_id": previous.id if previous else None,
        "hours": float(hours) if hours is not None else np.nan,
        "reason": reason,
        "request_seq": request_seq,
        "recorded_at": format_timestamp(now),
    }


@dataclass(frozen=True)
class CaseStatus:
    """Where a case stands: its owner, steps done, extensions approved and pending."""

    report_id: str
    owner: Owner | None
    responded: bool
    resolved: bool
    followed_up: bool
    closed: bool
    extensions: int
    extension_hours: float
    pending_request: int | None  # event_no of an extension request not yet decided
    pending_hours: float | None
    next_seq: int


def _done(value: object) -> bool:
    return isinstance(value, str) and value.strip() != ""


def case_status(report: Mapping, events: pd.DataFrame) -> CaseStatus:
    """The status of one case from its report row (steps, owner columns) and its events."""
    mine = events[events["report_id"] == report["report_id"]].sort_values("event_no")
    owner = Owner.of(report.get("owner_kind"), report.get("owner_id"))
    moves = mine[mine["event"].isin(OWNER_EVENTS)]
    if len(moves):
        last = moves.iloc[-1]
        owner = Owner.of(last["owner_kind"], last["owner_id"])
    granted = mine[mine["event"] == "extended"]
    decided = set(
        mine.loc[mine["event"].isin(("extended", "extension_refused")), "request_seq"]
        .dropna()
        .astype(int)
    )
    requests = mine[(mine["event"] == "extension_requested") & ~mine["event_no"].isin(decided)]
    pending = requests.iloc[-1] if len(requests) else None
    return CaseStatus(
        report_id=str(report["report_id"]),
        owner=owner,
        responded=_done(report.get("responded_at")),
        resolved=_done(report.get("resolved_at")),
        followed_up=_done(report.get("followed_up_at")),
        closed=_done(report.get("closed_at")),
        extensions=len(granted),
        extension_hours=float(granted["hours"].astype(float).sum()),
        pending_request=None if pending is None else int(pending["event_no"]),
        pending_hours=None if pending is None else float(pending["hours"]),
        next_seq=int(mine["event_no"].max()) + 1 if len(mine) else 1,
    )


def owners_as_of(events: pd.DataFrame, cutoff: str) -> pd.DataFrame:
    """Each case's owner as the data stood before ``cutoff`` (stored-text order): columns
    report_id, owner_kind, owner_id, from the last assigned/transferred event before it."""
    moves = events[events["event"].isin(OWNER_EVENTS) & (events["at"].astype(str) < cutoff)]
    last = moves.sort_values(["report_id", "at", "event_no"], kind="stable").drop_duplicates(
        "report_id", keep="last"
    )
    return last[["report_id", "owner_kind", "owner_id"]].reset_index(drop=True)


def extension_hours_as_of(events: pd.DataFrame, report_ids: pd.Series, cutoff: str) -> np.ndarray:
    """Hours of extensions approved before ``cutoff`` for each of ``report_ids`` (0 for none)."""
    granted = events[(events["event"] == "extended") & (events["at"].astype(str) < cutoff)]
    per_report = granted.groupby("report_id")["hours"].sum()
    return report_ids.map(per_report).fillna(0.0).to_numpy(float)


def case_timeline(
    steps: pd.DataFrame, events: pd.DataFrame, until: dt.datetime | None = None
) -> pd.DataFrame:
    """One case's steps and events in time order: columns at, name (a step or an event),
    actor, note, reason, hours, owner_kind, owner_id, from_kind, from_id.

    At the same time a step comes before an event, and steps keep the workflow's order.
    ``until``: only what was stamped by then (the desk's reference time: the as-of day's
    end, or now when it is today — a step stamped later has not happened as of then).
    """
    if until is not None:
        cut = format_timestamp(until)
        steps = steps[steps["at"].astype(str) <= cut]
        events = events[events["at"].astype(str) <= cut]
    step_rows = pd.DataFrame(
        {
            "at": steps["at"].astype(str),
            "name": steps["step"],
            "actor": steps["actor"],
            "note": steps.get("note"),
            "_order": steps["step"].map({s: i for i, s in enumerate(STEP_ORDER)}).fillna(9),
        }
    )
    event_rows = pd.DataFrame(
        {
            "at": events["at"].astype(str),
            "name": events["event"],
            "actor": events["actor"],
            "reason": events["reason"],
            "hours": events["hours"],
            "owner_kind": events["owner_kind"],
            "owner_id": events["owner_id"],
            "from_kind": events["from_kind"],
            "from_id": events["from_id"],
            "_order": 10 + events["event_no"].astype(float),
        }
    )
    frames = [f for f in (step_rows, event_rows) if len(f)]
    columns = ["at", "name", "actor", "note", "reason", "hours"]
    columns += ["owner_kind", "owner_id", "from_kind", "from_id"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    merged = pd.concat(frames, ignore_index=True).reindex(columns=[*columns, "_order"])
    merged = merged.sort_values(["at", "_order"], kind="stable").drop(columns="_order")
    return merged.astype(object).where(merged.notna(), None).reset_index(drop=True)
