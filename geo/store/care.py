"""The maintained care state (schema 9): which grids a write touched, rebuilt before COMMIT.

The care state (``geo.carestate``) holds, per grid, what every household figure needs:
categories, points, and the visit and verification days of 128 days as bit masks. It lives
in the internal table ``care_state`` (one row per grid key: the stored ``grid_id`` text,
``""`` for households in no grid), which QGIS ignores like ``gridmap_meta``.

Every write of a transaction records, before it runs (``geo.store.base.Transaction``),
the grids it touches: the old grid of each household it upserts, updates, re-places or
deletes, and the households whose visits or verifications it writes (their grid is looked
up at COMMIT, so a household moved in the same transaction counts in its new grid too).
``before_commit`` then rebuilds exactly those grids' blocks from the tables; a bulk write
(a replaced table, a staged import or a write of more than ``BULK_ROWS`` rows) rebuilds the
whole state in one pass. ``after_commit_version`` records the data version the state
matches (meta ``care_state_version``): a state that does not match the data version (an
older store, a write by an older gridmap) is rebuilt whole by the next write, and until
then readers compute from the tables (``Store.care_blocks`` answers None).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geo.carestate.block import FORMAT_VERSION

CARE_TABLE = "care_state"
CARE_META = "care_state_version"
CARE_FORMAT = "care_state_format"
"""Meta key: the binary format of the stored blocks (``geo.carestate.block.FORMAT_VERSION``)."""
CARE_TOKEN = "care_state_token"
"""Meta key: a new random token with every committed write, so a reader's kept state is
never taken for the state of another store made again at the same path."""
CARE_TABLES = frozenset({"households", "visits", "verifications"})
BULK_ROWS = 20_000
"""A write of more rows than this rebuilds the whole state: one pass over the tables is
faster than thousands of grids one by one (and stays under SQLite's bound variables)."""


@dataclass
class Touched:
    """What a transaction's writes touched: grid keys, households (grid looked up at COMMIT),
    or everything (``full``)."""

    full: bool = False
    grids: set[str] = field(default_factory=set)
    households: set[str] = field(default_factory=set)

    @property
    def anything(self) -> bool:
        """True when some block must be rebuilt."""
        return self.full or bool(self.grids) or bool(self.households)


def grid_key(value: Any) -> str:
    """The care-state key of a stored grid_id: the stored text, ``""`` for none."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _ids(values: Any) -> list[str]:
    return [str(v) for v in pd.Series(values, dtype=object).dropna().tolist()]


def _household_grids(tx: Any, where: dict) -> tuple[list[str], set[str]]:
    rows = tx.read("households", ["household_id", "grid_id"], where)
    return _ids(rows["household_id"]), {grid_key(g) for g in rows["grid_id"].tolist()}


def note_frame(tx: Any, table: str, frame: pd.DataFrame) -> None:
    """Before rows of ``frame`` are upserted or appended into ``table``."""
    if table not in CARE_TABLES or frame.empty or tx.touched.full:
        return
    touched = tx.touched
    if len(frame) > BULK_ROWS:
        touched.full = True
        return
    if table == "households":
        if "household_id" not in frame.columns:
            touched.full = True
            return
        ids = _ids(frame["household_id"])
        _, old = _household_grids(tx, {"household_id": ids})
        touched.grids |= old
        touched.households |= set(ids)
        return
    if "household_id" in frame.columns:
        touched.households |= set(_ids(frame["household_id"]))
    if table == "visits" and "visit_id" in frame.columns:
        # an upsert may move an existing visit to another household: the old one counts too
        before = tx.read("visits", ["household_id"], {"visit_id": _ids(frame["visit_id"])})
        touched.households |= set(_ids(before["household_id"]))
    elif "household_id" not in frame.columns:
        touched.full = True


def note_where(tx: Any, table: str, where: dict, values: dict | None = None) -> None:
    """Before the rows of ``table`` matching ``where`` are updated (to ``values``) or deleted."""
    if table not in CARE_TABLES or tx.touched.full:
        return
    touched = tx.touched
    if table == "households":
        ids, old = _household_grids(tx, where)
        if len(ids) > BULK_ROWS:
            touched.full = True
            return
        touched.grids |= old
        touched.households |= set(ids)
        return
    rows = tx.read(table, ["household_id"], where)
    if len(rows) > BULK_ROWS:
        touched.full = True
        return
    touched.households |= set(_ids(rows["household_id"]))
    if values and values.get("household_id") is not None:
        touched.households.add(str(values["household_id"]))


def note_bulk(tx: Any, table: str) -> None:
    """Before ``table`` is replaced whole."""
    if table in CARE_TABLES:
        tx.touched.full = True


def note_staged(tx: Any, table: str, staging: Any, *, replace: bool) -> None:
    """Before a staged import is loaded into ``table``."""
    if table not in CARE_TABLES or tx.touched.full:
        return
    if replace or (staging.columns is not None and staging.count() > BULK_ROWS):
        tx.touched.full = True
        return
    if staging.columns is None:
        return
    for frame in staging.frames():
        note_frame(tx, table, frame)


def before_commit(tx: Any) -> None:
    """Rebuild the blocks of what ``tx`` touched (all of them when the state is stale: it
    does not match the data version, or its blocks are of another binary format)."""
    stale = tx.meta_value(CARE_META) != tx.meta_value("data_version") or tx.meta_value(
        CARE_FORMAT
    ) != str(FORMAT_VERSION)
    if tx.meta_value(CARE_FORMAT) != str(FORMAT_VERSION):
        tx.set_meta(CARE_FORMAT, str(FORMAT_VERSION))
    touched = tx.touched
    if stale or touched.full:
        tx.care_rebuild(None)
        return
    if not touched.anything:
        return
    keys = set(touched.grids)
    if touched.households:
        keys |= tx.care_grids_of(sorted(touched.households))
    tx.care_rebuild(keys)


def new_token() -> str:
    """A fresh ``CARE_TOKEN`` value."""
    return uuid.uuid4().hex


def named_keys(keys: Sequence[str]) -> tuple[list[str], bool]:
    """The non-empty grid keys, and whether ``""`` (no grid) is among ``keys``."""
    return sorted(k for k in keys if k != ""), "" in keys
