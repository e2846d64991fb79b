"""Reminders: which cases to remind, and the record of each reminder sent.

A case is reminded when it is open, has an owner and is nearing its limit (``reminder_hours``
or fewer left, not yet overdue). Each limit in force is reminded once: a reminder is keyed by
(report_id, due_at), so an extension that moves the limit arms one new reminder. A reminder
whose hook failed is kept as failed and tried again on the next run. A run claims its
reminders (status ``sending``) before calling the hook, so two runs at once never send the
same reminder twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd

from geo.cases.owners import Owner
from geo.timeutil import format_timestamp

STALE_CLAIM = dt.timedelta(minutes=15)  # a claim older than this was left by a run that died
REMINDER_COLUMNS = (
    "report_id",
    "due_at",
    "owner_kind",
    "owner_id",
    "sent_at",
    "status",  # sending (claimed by a run) / sent / failed
    "detail",
)


def due_text(due_at: pd.Series) -> pd.Series:
    """Limits as stored text (``YYYY-MM-DD HH:MM:SS``), None where missing."""
    stamps = pd.to_datetime(due_at)
    return stamps.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object).where(stamps.notna(), None)


def reminders_due(
    reports: pd.DataFrame,
    clock: pd.DataFrame,
    reminders: pd.DataFrame,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """The reminders to send now: columns report_id, due_at (text), owner_kind, owner_id.

    ``reports`` (report_id, owner_kind, owner_id) and ``clock`` (``case_clock``) share an
    index; ``reminders`` holds the reminders recorded so far (report_id, due_at, status,
    sent_at). A reminder recorded as sent is done; one being sent by another run is left to
    it, unless it was claimed more than ``STALE_CLAIM`` before ``now`` (that run died).
    """
    owned = reports["owner_kind"].notna() & reports["owner_id"].notna()
    wanted = reports.loc[clock["nearing"] & owned, ["report_id", "owner_kind", "owner_id"]].copy()
    wanted.insert(1, "due_at", due_text(clock.loc[wanted.index, "due_at"]))
    busy = reminders["status"] == "sending"
    if now is not None:
        busy &= reminders["sent_at"].astype(str) > format_timestamp(now - STALE_CLAIM)
    taken = reminders[(reminders["status"] == "sent") | busy]
    done = set(zip(taken["report_id"], taken["due_at"], strict=True))
    keep = [(r, d) not in done for r, d in zip(wanted["report_id"], wanted["due_at"], strict=True)]
    return wanted[keep].sort_values(["due_at", "report_id"]).reset_index(drop=True)


def claim_rows(due: pd.DataFrame, now: dt.datetime) -> pd.DataFrame:
    """The reminder rows a run records before it calls the hook (status ``sending``)."""
    return due.assign(sent_at=format_timestamp(now), status="sending", detail=None)[
        list(REMINDER_COLUMNS)
    ]


def send_reminders(
    due: pd.DataFrame, notify: Callable[[str, str], None], now: dt.datetime
) -> pd.DataFrame:
    """Call ``notify(case_id, owner_key)`` once per reminder; the rows to record (sent/failed).

    ``notify`` raises on failure (e.g. ``geo.cases.hook.call_hook``); its message is kept.
    """
    rows = []
    for reminder in due.itertuples(index=False):
        owner = Owner(reminder.owner_kind, reminder.owner_id)
        try:
            notify(reminder.report_id, owner.key)
        except Exception as error:  # noqa: BLE001 - a failed hook must not stop the others
            status, detail = "failed", str(error)[:300]
        else:
            status, detail = "sent", None
        rows.append(
            {
                "report_id": reminder.report_id,
                "due_at": reminder.due_at,
                "owner_kind": owner.kind,
                "owner_id": owner.id,
                "sent_at": format_timestamp(now),
                "status": status,
                "detail": detail,
            }
        )
    return pd.DataFrame(rows, columns=list(REMINDER_COLUMNS))
