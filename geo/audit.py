"""The append-only audit log: every reveal, export and import (who, what, when, which records)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from geo.store import Store, Transaction
from geo.timeutil import format_timestamp, now_local


def audit_row(
    actor: str, action: str, detail: str, records: Iterable[str] | str | int = ""
) -> pd.DataFrame:
    """One audit-log row stamped now (local time)."""
    if not isinstance(records, str | int):
        records = ";".join(str(r) for r in records)
    return pd.DataFrame(
        [
            {
                "at": format_timestamp(now_local()),
                "actor": actor,
                "action": action,
                "detail": detail,
                "records": str(records),
            }
        ]
    )


def log_event(
    store: Store,
    actor: str,
    action: str,
    detail: str,
    records: Iterable[str] | str | int = "",
    tx: Transaction | None = None,
) -> None:
    """Append one event to the audit log (inside ``tx`` when given, else in its own transaction)."""
    row = audit_row(actor, action, detail, records)
    if tx is not None:
        tx.append("audit_log", row)
        return
    with store.transaction() as own:
        own.append("audit_log", row)


def read_audit(
    store: Store, since: dt.date | None = None, actor: str | None = None, action: str | None = None
) -> pd.DataFrame:
    """Audit events, oldest first, optionally from ``since`` (a day) and by actor/action."""
    where = {}
    if actor:
        where["actor"] = actor
    if action:
        where["action"] = action
    events = store.read("audit_log", where=where or None)
    if since is not None and not events.empty:
        events = events[events["at"] >= since.strftime("%Y-%m-%d")]
    return events.reset_index(drop=True)
