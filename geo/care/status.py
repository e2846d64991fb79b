"""The per-household frame: one fold of the visits, shared by the map's points, legend and grid table.

The frame is ``geo.care.rules.household_status`` (one row per household: categories,
required, compliant, overdue, last visit, next due, fresh, failed rules, lon/lat). Everything a page shows about
households is derived from it: the points and the legend (rows), the grid table (its counters,
``geo.metrics.tables.grid_table_of``), the work list. A page never folds the visits a second time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd


def in_grids(
    frame: pd.DataFrame, grid_ids: Collection[str], unassigned: bool = False
) -> pd.DataFrame:
    """The rows of ``frame`` in ``grid_ids`` (and those outside every grid when ``unassigned``)."""
    keep = frame["grid_id"].isin(set(grid_ids)).to_numpy()
    if unassigned:
        keep = keep | frame["grid_id"].isna().to_numpy()
    return frame[keep]


def with_categories(frame: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The rows holding any of the category ``codes`` (all rows when none is given)."""
    if not codes:
        return frame
    padded = ";" + frame["categories"].fillna("").astype(str) + ";"
    keep = np.zeros(len(frame), dtype=bool)
    for code in codes:
        keep |= padded.str.contains(f";{code};", regex=False).to_numpy(bool)
    return frame[keep]


def only_overdue(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose visits are overdue."""
    return frame[frame["overdue"].fillna(False).astype(bool).to_numpy()]


def shown(frame: pd.DataFrame, codes: Sequence[str], overdue: bool) -> pd.DataFrame:
    """The rows a page's filters leave: any of the category ``codes``, overdue ones only if asked."""
    rows = with_categories(frame, codes)
    return only_overdue(rows) if overdue else rows


def shown_from_counters(
    counters: pd.DataFrame, codes: Sequence[str], chosen: Sequence[str], overdue: bool
) -> pd.DataFrame:
    """The rows a page's filters leave, as a lean status frame (grid_id, categories,
    required, compliant, overdue, fresh) made from per-household counters
    (``geo.metrics.contract.household_counters_of``: ``_grid``, required, compliant, fresh,
    ``held_<code>``): what counts, the legend and the tiles need, without every household's
    status (level of detail at 1M households). ``codes``: the configured categories, in order;
    ``chosen``: any of these (none: every household); ``overdue``: overdue ones only."""
    required = counters["required"].to_numpy(bool)
    compliant = counters["compliant"].to_numpy(bool)  # required and compliant
    late = required & ~compliant
    keep = np.ones(len(counters), dtype=bool)
    if chosen:
        keep = np.zeros(len(counters), dtype=bool)
        for code in chosen:
            if f"held_{code}" in counters.columns:
                keep |= counters[f"held_{code}"].to_numpy(bool)
    if overdue:
        keep &= late
    rows = counters[keep]
    # categories as the status frame writes them: the codes held, ';'-joined in config order
    text = np.full(len(rows), "", dtype=object)
    for code in codes:
        held = rows[f"held_{code}"].to_numpy(bool) if f"held_{code}" in rows.columns else None
        if held is not None and held.any():
            text[held] = np.where(text[held] == "", code, text[held] + ";" + code)
    grid = rows["_grid"].to_numpy(object)
    return pd.DataFrame(
        {
            "grid_id": np.where(pd.isna(grid) | (grid == ""), None, grid),
            "categories": text,
            "required": required[keep],
            "compliant": compliant[keep],
            "overdue": late[keep],
            "fresh": counters["fresh"].to_numpy(bool)[keep],
        }
    )
