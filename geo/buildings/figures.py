"""Figures per building, building coverage per grid, and the order a grid worker reads.

Everything is computed from THE per-household status frame (``geo.care.rules.household_status``:
categories, required, compliant, overdue, next_due) joined with the households' links
(``linking.link_households``), so a building's counts are the counts of its households'
rows in the grid's table, and a grid's buildings plus its households without a building
add up to the grid's figures in ``gridmap metrics --by grid``.

- a household with several categories counts in each (as ``by_category`` does);
- ``cared_for``: households holding any category (``required``); ``overdue``: required and
  not compliant as of the end of the as-of day. These are the households that need a visit
  today: a household that meets its rules at the end of the as-of day has its next due day
  tomorrow or later (the status's ``next_due`` is never the as-of day itself), so on the
  morning of the as-of day exactly the overdue ones still need the day's visit;
- ``has_party_group``: the building's ``party_group`` is not empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.buildings.names import natural_key
from geo.config import Config, load_config
from geo.outputs.map.legend import MAX_CATEGORIES, category_bitmask

FIGURE_COLUMNS = ("households", "ordinary", "cared_for", "compliant", "overdue")
COVERAGE_COLUMNS = (
    "buildings",
    "buildings_without_party_group",
    "buildings_with_overdue",
    "households_in_buildings",
    "households_without_building",
)


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].astype(object).where(frame[column].notna(), False).astype(bool).to_numpy()


def household_counters(status: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """Per household 0/1 counters (``n_<code>`` for the categories, ``FIGURE_COLUMNS``), on
    the index of ``status``: summed by building, they are the building's figures."""
    config = config or load_config()
    mask = category_bitmask(status["categories"], config)
    counters = pd.DataFrame(index=status.index)
    counters["households"] = np.ones(len(status), dtype=np.int64)
    for i, code in enumerate(config.category_codes[:MAX_CATEGORIES]):
        counters[f"n_{code}"] = ((mask >> i) & 1).astype(np.int64)
    required = _flag(status, "required")
    counters["ordinary"] = (mask == 0).astype(np.int64)
    counters["cared_for"] = required.astype(np.int64)
    counters["compliant"] = (required & _flag(status, "compliant")).astype(np.int64)
    counters["overdue"] = _flag(status, "overdue").astype(np.int64)
    return counters


def building_figures(
    buildings: pd.DataFrame, households: pd.DataFrame, config: Config | None = None
) -> pd.DataFrame:
    """One row per building, in the order of ``buildings``: its attributes (building_id,
    grid_id, name, party_group, units, floors), ``has_party_group``, its households' counts
    (households, n_<code> per category, ordinary, cared_for, compliant, overdue)
    and ``has_overdue``.

    ``households``: the status frame with ``building_id`` (its link; None when unlinked).
    """
    config = config or load_config()
    counters = household_counters(households, config)
    counters["_building"] = households["building_id"].astype(object).to_numpy()
    summed = counters.dropna(subset=["_building"]).groupby("_building").sum()
    keep = [c for c in ("building_id", "grid_id", "name", "party_group", "units", "floors")]
    table = buildings.reindex(columns=keep).reset_index(drop=True)
    party = table["party_group"].astype(object).where(table["party_group"].notna(), "")
    table["has_party_group"] = (party.astype(str).str.strip() != "").to_numpy(bool)
    counts = summed.reindex(table["building_id"].astype(str)).fillna(0).astype(np.int64)
    for column in counts.columns:
        table[column] = counts[column].to_numpy()
    table["has_overdue"] = (table["overdue"] > 0).to_numpy(bool)
    return table


def building_coverage(
    figures: pd.DataFrame, households: pd.DataFrame, grid_ids: list[str] | None = None
) -> pd.DataFrame:
    """Per grid (``grid_ids`` order, else sorted): ``COVERAGE_COLUMNS`` — buildings, those
    without a party group, those whose cared-for households have an overdue visit, households
    linked to a building and households without one (counts only)."""
    grid = figures["grid_id"].astype(str)
    per_grid = (
        pd.DataFrame(
            {
                "grid_id": grid.to_numpy(),
                "buildings": 1,
                "buildings_without_party_group": (~figures["has_party_group"]).astype(np.int64),
                "buildings_with_overdue": figures["has_overdue"].astype(np.int64),
            }
        )
        .groupby("grid_id")[list(COVERAGE_COLUMNS[:3])]
        .sum()
    )
    household_grid = households["grid_id"].astype(object).where(households["grid_id"].notna(), "")
    linked = households["building_id"].notna().to_numpy(bool)
    homes = (
        pd.DataFrame(
            {
                "grid_id": household_grid.astype(str).to_numpy(),
                "households_in_buildings": linked.astype(np.int64),
                "households_without_building": (~linked).astype(np.int64),
            }
        )
        .groupby("grid_id")
        .sum()
    )
    wanted = (
        grid_ids if grid_ids is not None else sorted(set(per_grid.index) | set(homes.index) - {""})
    )
    out = pd.concat([per_grid, homes], axis=1).reindex(wanted).fillna(0).astype(np.int64)
    return out.rename_axis("grid_id").reset_index()


def care_rank(categories: pd.Series, config: Config | None = None) -> np.ndarray:
    """0 for a household holding the first category (red), 1 for the second ... and the
    number of categories for an ordinary household: the order of the configuration, whose
    categories run from the strictest visit rule (daily) to the monthly ones."""
    config = config or load_config()
    mask = category_bitmask(categories, config).astype(np.int64)
    n = min(len(config.categories), MAX_CATEGORIES)
    lowest = mask & -mask  # the lowest bit set: the first category held
    rank = np.where(mask == 0, n, np.log2(np.maximum(lowest, 1)).astype(np.int64))
    return rank


def _place_keys(households: pd.DataFrame, building_names: pd.Series) -> list[np.ndarray]:
    """Sort keys of where each household lives, most significant first: its building (natural
    order of the name: 2号楼 before 10号楼; a household linked to no building by the text it
    gives, if any; none last), unit, floor, door (unknown last)."""
    names = households["building_id"].map(building_names)
    if "building" in households.columns:  # a building the store does not know, by its text
        given = households["building"].astype(object)
        names = names.where(names.notna(), given.where(given.notna() & (given != ""), None))
    unique = sorted({n for n in names.dropna().astype(str)}, key=natural_key)
    building_rank = names.map({n: i for i, n in enumerate(unique)}).fillna(len(unique))

    def number(column: str) -> np.ndarray:
        if column not in households.columns:
            return np.zeros(len(households), dtype=np.int64)
        values = pd.to_numeric(households[column], errors="coerce")
        return values.fillna(10**6).to_numpy(np.int64)

    return [building_rank.to_numpy(np.int64), number("unit"), number("floor"), number("door")]


def worker_order(
    households: pd.DataFrame, building_names: pd.Series, config: Config | None = None
) -> np.ndarray:
    """Positions that sort ``households`` as a grid worker reads them: cared-for first (red,
    then the other categories in configuration order), ordinary last; within each, by
    building (natural order of its name: 2号楼 before 10号楼; no building last), unit,
    floor, door and id.

    ``households``: categories, building_id, unit, floor, door, household_id.
    ``building_names``: building_id -> name.
    """
    keys = [
        care_rank(households["categories"], config),
        *_place_keys(households.drop(columns="building", errors="ignore"), building_names),
        households["household_id"].astype(str).to_numpy(),
    ]
    return np.lexsort(keys[::-1])


def walk_order(
    households: pd.DataFrame, building_names: pd.Series, config: Config | None = None
) -> np.ndarray:
    """Positions that sort due visits as a grid worker walks them: grid by grid, building by
    building (natural order; a building the store does not know by the household's own
    text; no building last), then unit, floor and door, then the most overdue first, the
    most pressing category first (red first) and id.

    ``households``: grid_id, building_id, building, unit, floor, door, days_overdue,
    categories, household_id. ``building_names``: building_id -> name.
    """
    overdue = pd.to_numeric(households["days_overdue"], errors="coerce").fillna(0)
    keys = [
        households["grid_id"].astype(str).to_numpy(),
        *_place_keys(households, building_names),
        -overdue.to_numpy(np.int64),
        care_rank(households["categories"], config),
        households["household_id"].astype(str).to_numpy(),
    ]
    return np.lexsort(keys[::-1])
