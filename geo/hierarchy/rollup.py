"""Figures summed up the tree: from one row per grid to one row per node at any level.

The per-grid figures are counts (``geo.metrics.grid_table``'s columns: households,
visit_required, visit_compliant, fresh, n_<code>, visit_compliant_<code>, reports_<state>,
grid_workers, staff_total, has_party_branch, staff_by_role ...). A node's counts are the
sums over its grids, its rates are recomputed from those sums (never an average of rates),
and it gains grids / grids_without_worker / grids_without_party_branch /
grids_with_party_branch, as the community table always had. A node with no grid (a known
district without grids) has zero counts and no rates.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from geo.asof import rates_of
from geo.hierarchy.tree import CITY, ROOT, Hierarchy, Node
from geo.metrics.tables import _add_rates

SUMMED = (
    "grids",
    "grids_without_worker",
    "grids_without_party_branch",
    "grids_with_party_branch",
    "households",
    "visit_required",
    "visit_compliant",
    "fresh",
    "grid_workers",
    "staff_total",
)
SUMMED_PREFIXES = ("n_", "visit_compliant_", "reports_")


def summed_columns(columns: Iterable[str]) -> list[str]:
    """The count columns of a figures frame (summed up the tree), in frame order."""
    return [c for c in columns if c in SUMMED or c.startswith(SUMMED_PREFIXES)]


def _with_grid_counters(joined: pd.DataFrame) -> pd.DataFrame:
    """``joined`` (one row per grid of the tree) with the counters a node sums per grid."""
    joined["grids"] = 1
    workers = (
        joined["grid_workers"] if "grid_workers" in joined else pd.Series(0, index=joined.index)
    )
    joined["grids_without_worker"] = (workers.fillna(0) == 0).astype(np.int64)
    branch = (
        joined["has_party_branch"].astype(object).where(joined["has_party_branch"].notna(), False)
        if "has_party_branch" in joined
        else pd.Series(False, index=joined.index)
    ).astype(bool)
    joined["grids_with_party_branch"] = branch.astype(np.int64)
    joined["grids_without_party_branch"] = (~branch).astype(np.int64)
    return joined


def roll_up(
    figures: pd.DataFrame,
    hierarchy: Hierarchy,
    level: str,
    under: Node = ROOT,
) -> pd.DataFrame:
    """One row per node at ``level`` under ``under``: path columns, ``node`` (the Node),
    summed counts, merged ``staff_by_role`` and recomputed rates, in tree order.

    ``figures``: one row per grid (grid_id + counts); a grid of the tree missing from it
    counts zero (and as a grid without worker or branch), rows of grids not in the tree are
    ignored. ``level`` may be ``"city"``.
    """
    nodes = hierarchy.nodes(level, under)
    path_columns = hierarchy.path_columns(level)
    keys = hierarchy.grids[["grid_id", *[c for c in path_columns if c != "grid_id"]]]
    figures = figures.drop(columns=[c for c in keys.columns if c != "grid_id" and c in figures])
    joined = _with_grid_counters(keys.merge(figures, on="grid_id", how="left"))
    columns = summed_columns(joined.columns)
    for column in columns:
        joined[column] = joined[column].fillna(0).astype(np.int64)
    if level == CITY:
        joined["_node"] = [ROOT] * len(joined)
    else:
        joined["_node"] = [
            Node(level, tuple(row)) for row in joined[path_columns].itertuples(index=False)
        ]
    index = pd.Index(nodes, name="node", tupleize_cols=False, dtype=object)
    sums = joined.groupby("_node", sort=False)[columns].sum().reindex(index, fill_value=0)
    table = sums.reset_index()
    roles: dict[Node, dict[str, int]] = {}
    if "staff_by_role" in joined:
        for node, by_role in zip(joined["_node"], joined["staff_by_role"], strict=True):
            if not isinstance(by_role, dict):
                continue
            merged = roles.setdefault(node, {})
            for role, n in by_role.items():
                merged[role] = merged.get(role, 0) + int(n)
    table["staff_by_role"] = [roles.get(node, {}) for node in table["node"]]
    for i, column in enumerate(path_columns):
        table.insert(i, column, [node.path[i] for node in table["node"]])
    if {"visit_required", "fresh", "reports_responded", "grid_workers"} <= set(table.columns):
        table = _add_rates(table)
        for column in [c for c in table.columns if c.startswith("n_")]:
            code = column[2:]
            if f"visit_compliant_{code}" in table:
                table[f"visit_rate_{code}"] = rates_of(
                    table[f"visit_compliant_{code}"], table[column]
                )
    return table
