"""A store seen through a viewer's scope: only the rows of some grids (read-only).

The weekly pack and the metrics behind it read whole tables. For a grid worker or
community clerk they are computed from ``GridScope(store, grid_ids)``, whose reads of
the tables that carry a ``grid_id`` (grids, households, reports, staff) keep only those
grids' rows, in the query. Visits and verifications need no filter: the metrics count
them for the households they read, and drop the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from geo.store.base import Store, Where

GRID_TABLES = frozenset({"grids", "households", "reports", "staff", "buildings"})


class GridScope:
    """A read-only view of ``store`` holding only the rows of the grids ``grid_ids``."""

    def __init__(self, store: Store, grid_ids: Sequence[str]) -> None:
        self._store = store
        self.grid_ids = tuple(grid_ids)

    def _where(self, table: str, where: Where | None) -> Where | None:
        """``where`` narrowed to the scope's grids (for the tables that have a grid)."""
        if table not in GRID_TABLES:
            return where
        allowed = list(self.grid_ids)
        asked = (where or {}).get("grid_id", allowed)
        if asked is None:  # the unassigned rows: in no grid, so in no limited scope
            allowed = []
        elif isinstance(asked, str):
            allowed = [asked] if asked in self.grid_ids else []
        else:
            allowed = [g for g in asked if g in self.grid_ids]
        return {**(where or {}), "grid_id": allowed}

    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        """As ``Store.read``, only the scope's rows."""
        return self._store.read(table, columns, self._where(table, where))

    def read_attributes(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        """As ``Store.read_attributes``, only the scope's rows."""
        return self._store.read_attributes(table, columns, self._where(table, where))

    def count(self, table: str) -> int:
        """Rows of ``table`` in the scope."""
        if table not in GRID_TABLES:
            return self._store.count(table)
        return len(self.read_attributes(table, ["grid_id"]))

    def transaction(self) -> Any:
        """A scope is for reading: writes go to the store itself."""
        raise PermissionError("a GridScope is read-only")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
