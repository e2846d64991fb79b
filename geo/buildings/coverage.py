"""Coverage by building, per grid (counts only): buildings, those without a party group, those
whose cared-for households have an overdue visit; for the coverage page and the weekly pack."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo.buildings.figures import COVERAGE_COLUMNS, building_coverage, building_figures
from geo.buildings.read import linked
from geo.care.rules import household_rules_met
from geo.store.base import Store, Where

GRID_COLUMNS = ("grid_id", *COVERAGE_COLUMNS)


def coverage_by_building(
    store: Store, as_of: dt.date, where: Where | None = None, grid_ids: list[str] | None = None
) -> pd.DataFrame:
    """Per grid (``grid_ids`` order, else the grids with buildings or households, sorted):
    ``COVERAGE_COLUMNS`` as of ``as_of``; empty when the store has no building."""
    buildings = store.read_attributes(
        "buildings", ["building_id", "grid_id", "name", "party_group", "units", "floors"], where
    )
    if buildings.empty:
        return pd.DataFrame(columns=list(GRID_COLUMNS))
    rows = linked(household_rules_met(store, as_of, where=where), buildings)
    return building_coverage(building_figures(buildings, rows), rows, grid_ids)


def coverage_totals(coverage: pd.DataFrame) -> dict[str, int]:
    """The street office's sums of ``COVERAGE_COLUMNS`` (0 each without buildings)."""
    return {c: int(coverage[c].sum()) if len(coverage) else 0 for c in COVERAGE_COLUMNS}
