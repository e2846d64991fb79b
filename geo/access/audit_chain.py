"""The audit log's hash chain: each entry carries a hash over its content and the previous hash.

``entry_hash = sha256(previous entry_hash + canonical JSON of at, actor, action, detail,
records)``; the first entry chains to ``GENESIS``. Changing, inserting or removing an entry
breaks the link of every entry after it, so ``first_broken`` finds where the log was
changed. Both stores chain in ``Transaction.append("audit_log", ...)``, inside their write
lock, so two writers never chain to the same head. What a chain cannot show by itself is a
log cut short at its end: ``gridmap audit --verify`` prints the head (count and hash) for
an operator to note elsewhere (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

GENESIS = "0" * 64
FIELDS = ("at", "actor", "action", "detail", "records")


def _text(value: Any) -> str | None:
    """A field as both stores give it back: text, or None for a missing value."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    return str(value)


def entry_hash(previous: str, entry: Mapping[str, Any]) -> str:
    """The hash of one entry chained to ``previous`` (hex sha256)."""
    body = json.dumps(
        [previous, *(_text(entry.get(f)) for f in FIELDS)],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def chained(frame: pd.DataFrame, previous: str) -> pd.DataFrame:
    """``frame`` (new entries, in order) with ``entry_hash`` chained on from ``previous``."""
    out = frame.copy()
    hashes = []
    for entry in out.to_dict("records"):
        previous = entry_hash(previous, entry)
        hashes.append(previous)
    out["entry_hash"] = hashes
    return out


def first_broken(entries: Iterable[Mapping[str, Any]]) -> tuple[int, Mapping[str, Any]] | None:
    """The position (0-based, in log order) and entry of the first link that does not hold, or None."""
    previous = GENESIS
    for position, entry in enumerate(entries):
        expected = entry_hash(previous, entry)
        if entry.get("entry_hash") != expected:
            return position, entry
        previous = expected
    return None


def head(entries: pd.DataFrame) -> str:
    """The last entry's hash (``GENESIS`` for an empty log)."""
    if entries.empty:
        return GENESIS
    return str(entries["entry_hash"].iloc[-1])
