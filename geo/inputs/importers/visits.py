"""Checking the rows of a visits file (contract section 4)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from geo.inputs.importers.checks import _column, _parse_dates, _required_text
from geo.inputs.importers.problems import _Checker
from geo.store.base import Store


def _prepare_visits(
    store: Store, frame: pd.DataFrame, check: _Checker, **_: object
) -> pd.DataFrame:
    households = _required_text(frame, "household_id", check)
    visited_at = _parse_dates(frame, "visited_at", check, required=True)
    staff_id = _column(frame, "staff_id")
    kind = _column(frame, "kind")
    known = check.cached(
        "households",
        lambda: pd.Index(
            store.read_attributes("households", ["household_id"])["household_id"]
        ).unique(),
    )
    # get_indexer reuses the index's hash table from chunk to chunk (isin would rebuild a
    # table of every stored household per chunk: 11 s a chunk at 2M households)
    unknown = ~pd.isna(households) & (known.get_indexer(pd.Index(households)) < 0)
    check.add_mask(
        unknown,
        "household_id",
        "imp_unknown_household",
        lambda pos: {"value": repr(households[pos])},
    )
    given_ids = _column(frame, "visit_id")
    ids = given_ids.copy() if given_ids is not None else np.full(len(frame), None, dtype=object)
    if check.report.problems:
        return frame
    # a visit without an id gets one derived from what it records: re-importing adds nothing
    missing = np.flatnonzero(pd.isna(ids))
    if len(missing):
        check.derived_ids = True  # repeats across chunks are dropped once all is staged
        others = [
            pd.Series(values[missing], dtype="string")
            for values in (visited_at, staff_id, kind)
            if values is not None
        ]
        if staff_id is None:  # keep the key the same whether the column is absent or empty
            others.insert(1, pd.Series([None] * len(missing), dtype="string"))
        if kind is None:
            others.append(pd.Series([None] * len(missing), dtype="string"))
        keys = pd.Series(households[missing], dtype="string").str.cat(others, sep="\x1f", na_rep="")
        ids[missing] = [
            "V" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest() for key in keys.tolist()
        ]
    columns = {
        "visit_id": ids,
        "household_id": households,
        "visited_at": visited_at,
        "staff_id": staff_id,
        "kind": kind,
        "note": _column(frame, "note"),
    }
    # rows repeating a visit exactly (same derived id) are dropped once the file is staged
    return pd.DataFrame({k: v for k, v in columns.items() if v is not None})
