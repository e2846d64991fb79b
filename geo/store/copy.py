"""Copying a data set between stores (``gridmap migrate``), checked by comparing metrics."""

from __future__ import annotations

from typing import Any

from geo.i18n import MessageError
from geo.store.base import Store
from geo.store.schema import TABLES

COPIED = [name for name in TABLES if name != "sessions"]


def copy_store(source: Store, target: Store, merge: bool = False) -> dict[str, int]:
    """Copy every table of ``source`` into ``target`` in one transaction; returns rows per table.

    Keyed tables are upserted, the audit log appended (and chained on from the target's
    last entry, so the target's chain holds). Signed-in sessions stay behind: they belong
    to the source's server, and everyone signs in again on the target. Without ``merge``
    the target must be empty (so that its metrics can equal the source's); with it, the
    rows join what the target holds (a street office joining a city-wide database).
    """
    if not merge:
        occupied = [name for name in COPIED if target.count(name)]
        if occupied:
            raise MessageError(
                "copy_occupied", location=target.location, tables=", ".join(occupied)
            )
    written: dict[str, int] = {}
    with target.transaction() as tx:
        for name in COPIED:
            table = TABLES[name]
            frame = source.read(name)
            written[name] = tx.upsert(name, frame) if table.key else tx.append(name, frame)
    return written


def metric_differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Paths where two metrics results differ, e.g. ``reports.overdue: 3 != 4`` (empty = equal)."""
    if isinstance(left, dict) and isinstance(right, dict):
        out: list[str] = []
        for key in sorted(set(left) | set(right), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in left or key not in right:
                out.append(f"{sub}: only in {'source' if key in left else 'target'}")
            else:
                out.extend(metric_differences(left[key], right[key], sub))
        return out
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path}: {len(left)} != {len(right)} items"]
        out = []
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            out.extend(metric_differences(a, b, f"{path}[{i}]"))
        return out
    return [] if left == right else [f"{path}: {left!r} != {right!r}"]
