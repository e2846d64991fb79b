"""The grid and community tables built from the metrics' counters (pages, weekly pack, XLSX)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.asof import rates_of, stored_text
from geo.metrics.contract import _Counts, household_counters_from_status
from geo.store.base import Store


def _add_rates(table: pd.DataFrame) -> pd.DataFrame:
    table["visit_rate"] = rates_of(table["visit_compliant"], table["visit_required"])
    table["freshness_rate"] = rates_of(table["fresh"], table["households"])
    table["response_rate"] = rates_of(table["reports_responded"], table["reports_total"])
    table["completion_rate"] = rates_of(table["reports_resolved"], table["reports_total"])
    table["satisfaction_rate"] = rates_of(
        table["reports_satisfied"], table["reports_satisfied"] + table["reports_unsatisfied"]
    )
    table["followup_rate"] = rates_of(table["reports_followed_up"], table["reports_resolved"])
    workers = table["grid_workers"].astype(float)
    table["households_per_worker"] = (table["households"] / workers.where(workers > 0)).round(1)
    return table


def _staff_by_role(staff: pd.DataFrame, key: str) -> dict[str, dict[str, int]]:
    if staff.empty:
        return {}
    counts = staff.groupby([key, "role"]).size()
    out: dict[str, dict[str, int]] = {}
    for (group, role), n in counts.items():
        out.setdefault(group, {})[role] = int(n)
    return out


def grid_table(
    store: Store, as_of: dt.date, household_counters: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per grid (sorted by grid_id): attributes, household, visit, freshness, report
    and staff counts and rates as of ``as_of`` (NaN where a denominator is 0).

    reports_open counts reports not resolved by the as-of day (overdue ones included);
    reports_satisfied/unsatisfied are the satisfaction counts behind satisfaction_rate.
    Beyond the core columns: visit_compliant_<code> and visit_rate_<code> per category,
    reports_responded/resolved/followed_up; rates are rounded to 4 decimals like
    ``compute_metrics``; households_per_worker to 1 decimal. ``household_counters``: the
    store's ``household_counters_of`` as of ``as_of``, when the caller still holds them.
    """
    counts = _Counts(store, as_of, household_counters)
    return _grid_table_from(counts)


def _grid_table_from(counts: _Counts) -> pd.DataFrame:
    grids, staff = counts.grids, counts.staff
    h = counts.household_by_grid
    r = counts.report_by_grid
    table = grids[["grid_id", "name", "community", "street", "party_branch"]].copy()
    table["has_party_branch"] = (stored_text(table["party_branch"]) != "").to_numpy(bool)
    ids = table["grid_id"]
    table["households"] = h["total"].reindex(ids).to_numpy(np.int64)
    for code in counts.codes:
        table[f"n_{code}"] = h[f"held_{code}"].reindex(ids).to_numpy(np.int64)
    table["visit_required"] = h["required"].reindex(ids).to_numpy(np.int64)
    table["visit_compliant"] = h["compliant"].reindex(ids).to_numpy(np.int64)
    for code in counts.codes:
        table[f"visit_compliant_{code}"] = h[f"ok_{code}"].reindex(ids).to_numpy(np.int64)
    table["fresh"] = h["fresh"].reindex(ids).to_numpy(np.int64)
    for name in (
        "total",
        "open",
        "overdue",
        "responded",
        "resolved",
        "followed_up",
        "satisfied",
        "unsatisfied",
    ):
        table[f"reports_{name}"] = r[name].reindex(ids).to_numpy(np.int64)
    workers = staff[staff["role"] == "grid_worker"].groupby("grid_id").size()
    table["grid_workers"] = workers.reindex(ids, fill_value=0).to_numpy(np.int64)
    table["staff_total"] = (
        staff.groupby("grid_id").size().reindex(ids, fill_value=0).to_numpy(np.int64)
    )
    by_role = _staff_by_role(staff, "grid_id")
    table["staff_by_role"] = [by_role.get(g, {}) for g in ids]
    table = _add_rates(table)
    for code in counts.codes:
        table[f"visit_rate_{code}"] = rates_of(table[f"visit_compliant_{code}"], table[f"n_{code}"])
    return table.reset_index(drop=True)


def community_table(store: Store, as_of: dt.date) -> pd.DataFrame:
    """``grid_table`` summed by community (rates recomputed from the counts), sorted by
    community; grids without a community are grouped under ''. Adds grids and
    grids_without_worker / grids_without_party_branch counts."""
    grids = grid_table(store, as_of)
    return _community_table_from(grids)


def _community_table_from(grids: pd.DataFrame) -> pd.DataFrame:
    grids = grids.copy()
    grids["community"] = stored_text(grids["community"]).to_numpy(object)
    grids["grids"] = 1
    grids["grids_without_worker"] = (grids["grid_workers"] == 0).astype(np.int64)
    grids["grids_without_party_branch"] = (~grids["has_party_branch"]).astype(np.int64)
    grids["has_party_branch"] = grids["has_party_branch"].astype(np.int64)
    summed = [
        c
        for c in grids.columns
        if c
        in (
            "grids",
            "grids_without_worker",
            "grids_without_party_branch",
            "has_party_branch",
            "households",
            "visit_required",
            "visit_compliant",
            "fresh",
            "grid_workers",
            "staff_total",
        )
        or c.startswith(("n_", "visit_compliant_", "reports_"))
    ]
    table = grids.groupby("community", sort=True)[summed].sum().reset_index()
    table = table.rename(columns={"has_party_branch": "grids_with_party_branch"})
    street = grids.groupby("community", sort=True)["street"].first()
    table.insert(1, "street", street.reindex(table["community"]).to_numpy(object))
    roles: dict[str, dict[str, int]] = {}
    for community, by_role in zip(grids["community"], grids["staff_by_role"], strict=True):
        merged = roles.setdefault(community, {})
        for role, n in by_role.items():
            merged[role] = merged.get(role, 0) + n
    table["staff_by_role"] = [roles.get(c, {}) for c in table["community"]]
    table = _add_rates(table)
    for column in [c for c in table.columns if c.startswith("n_")]:
        code = column[2:]
        table[f"visit_rate_{code}"] = rates_of(table[f"visit_compliant_{code}"], table[column])
    return table


def grid_table_of(store: Store, as_of: dt.date, frame: pd.DataFrame) -> pd.DataFrame:
    """``grid_table`` with the household figures summed from ``frame`` (no second fold).

    ``frame``: ``household_status`` rows of the same day; a frame of some grids' households
    gives those grids' rows exactly (other grids then count no household).
    """
    return grid_table(store, as_of, household_counters_from_status(frame))
