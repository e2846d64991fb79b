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
