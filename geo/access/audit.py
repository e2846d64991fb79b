"""The append-only audit log: every reveal, export and import (who, what, when, which records).

Both stores refuse UPDATE, DELETE and REPLACE of an entry, and chain every entry to the
one before by a hash (``geo.access.audit_chain``); ``verify_audit`` (``gridmap audit --verify``)
finds the first entry whose link does not hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from geo.access import audit_chain
from geo.store.base import Store, Transaction
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
    events = store.read("audit_log", [*audit_chain.FIELDS], where=where or None)
    if since is not None and not events.empty:
        events = events[events["at"] >= since.strftime("%Y-%m-%d")]
    return events.reset_index(drop=True)


@dataclass(frozen=True)
class AuditCheck:
    """The outcome of ``verify_audit``: entries read, the head hash, the first broken link."""

    entries: int
    head: str
    broken_at: int | None = None  # 1-based position of the first entry whose link fails
    broken_entry: dict | None = None
    unchained: bool = False  # a store not yet migrated to the hash chain (its next write chains it)

    @property
    def intact(self) -> bool:
        """True when every entry's hash holds."""
        return self.broken_at is None and not self.unchained


def verify_audit(store: Store) -> AuditCheck:
    """Recompute the audit log's hash chain in log order; report where it first breaks."""
    entries = store.read("audit_log", [*audit_chain.FIELDS, "entry_hash"])
    if len(entries) and entries["entry_hash"].isna().all():
        return AuditCheck(len(entries), audit_chain.GENESIS, unchained=True)
    records = entries.astype(object).where(entries.notna(), None).to_dict("records")
    broken = audit_chain.first_broken(records)
    if broken is None:
        return AuditCheck(len(entries), audit_chain.head(entries))
    position, entry = broken
    return AuditCheck(len(entries), audit_chain.head(entries), position + 1, dict(entry))
