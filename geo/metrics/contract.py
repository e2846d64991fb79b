"""The metrics of the data contract (section 6): ``compute_metrics``, the ``gridmap metrics --json`` object.

Everything is computed "as the data stood at the end of the as-of day" (``geo.asof``).
The household figures are counted from ``geo.care.rules.household_status`` (visit rules,
freshness); the report figures from ``geo.reports.states``. The tables built from the same
counters are in ``geo.metrics.tables``, the CLI's text in ``geo.metrics.text``.

Report interpretation (documented here because the contract leaves it implicit):

- reports with a non-empty ``duplicate_of`` were linked to another report at intake and
  are left out of every report count;
- a report counts when ``reported_at`` is on or before the as-of day; responded /
  resolved / followed up when that timestamp is on or before the as-of day;
  ``followed_up`` only counts resolved reports;
- satisfaction is known by the as-of day for a resolved report when its value is
  satisfied/unsatisfied and either ``followed_up_at`` is empty (the recorded value is
  taken) or ``followed_up_at`` is on or before the as-of day (a follow-up after the
  as-of day has not yet produced its satisfaction);
- overdue: not resolved by the end of the as-of day and strictly more than
  ``resolution_limit_hours`` between ``reported_at`` and the end of the as-of day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from geo.asof import attributes_only, rate_of, stored_text
from geo.care.rules import _category_matrix, _household_frame
from geo.carestate.figures import block_sums, household_flags, state_rows, uncovered_blocks
from geo.carestate.load import load_state
from geo.cases.metrics import cases_section
from geo.config import load_config
from geo.employment.load import metrics_section, metrics_sections_by_grid
from geo.reports.states import _report_flags
from geo.store.base import Store
from geo.timeutil import day_text

_REPORT_COLUMNS = [
    "report_id",
    "grid_id",
    "reported_at",
    "responded_at",
    "resolved_at",
    "followed_up_at",
    "satisfaction",
    "duplicate_of",
]
_REPORT_COUNTERS = [
    "total",
    "responded",
    "resolved",
    "followed_up",
    "satisfied",
    "unsatisfied",
    "overdue",
    "open",
]


def granted_extensions(store: Store) -> pd.DataFrame:
    """The approved extensions (case events): overdue counts from the limit in force."""
    columns = ["report_id", "event", "at", "hours"]
    return store.read_attributes("case_events", columns, where={"event": "extended"})


def _report_frame(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Counted reports (reported by as_of, not duplicates) with one bool column per counter."""
    reports = attributes_only(store.read_attributes("reports", _REPORT_COLUMNS))
    flags = _report_flags(reports, as_of, extensions=granted_extensions(store))
    counted = flags["counted"]
    frame = pd.DataFrame(
        {name: flags[name][counted] for name in _REPORT_COUNTERS if name != "total"}
    )
    frame.insert(0, "total", True)
    frame["_grid"] = stored_text(reports["grid_id"]).to_numpy(object)[counted]
    return frame


def _household_counts(
    households: pd.DataFrame,
    held: np.ndarray,
    ok: np.ndarray,
    codes: list[str],
    grids: set | None,
) -> pd.DataFrame:
    """Per household 0/1 counters ready to be summed (overall or per grid); ``unassigned``
    needs the grid ids (None: left for _Counts, which reads them)."""
    counters = pd.DataFrame(
        {
            "total": np.ones(len(households), dtype=np.int64),
            "unassigned": (
                np.zeros(len(households), np.int64)
                if grids is None
                else (~households["_grid"].isin(grids)).to_numpy(np.int64)
            ),
            "required": households["required"].to_numpy(np.int64),
            "compliant": (households["required"] & households["compliant"]).to_numpy(np.int64),
            "fresh": households["fresh"].to_numpy(np.int64),
        }
    )
    for j, code in enumerate(codes):
        counters[f"held_{code}"] = held[:, j].astype(np.int64)
        counters[f"ok_{code}"] = (held[:, j] & ok[:, j]).astype(np.int64)
    counters["_grid"] = households["_grid"].to_numpy(object)
    return counters


def _household_sections(
    counts: pd.Series | dict, codes: list[str], unassigned: bool = True
) -> dict[str, Any]:
    total = int(counts["total"])
    return {
        "households": {
            "total": total,
            "unassigned": int(counts["unassigned"]) if unassigned else 0,
            "by_category": {code: int(counts[f"held_{code}"]) for code in codes},
        },
        "visits": {
            "by_category": {
                code: {
                    "required": int(counts[f"held_{code}"]),
                    "compliant": int(counts[f"ok_{code}"]),
                    "rate": rate_of(counts[f"ok_{code}"], counts[f"held_{code}"]),
                }
                for code in codes
            },
            "overall": {
                "required": int(counts["required"]),
                "compliant": int(counts["compliant"]),
                "rate": rate_of(counts["compliant"], counts["required"]),
            },
        },
        "freshness": {
            "verified_within_30_days": int(counts["fresh"]),
            "rate": rate_of(counts["fresh"], total),
        },
    }


def _report_section(counts: pd.Series | dict) -> dict[str, Any]:
    total = int(counts["total"])
    resolved = int(counts["resolved"])
    return {
        "total": total,
        "responded": int(counts["responded"]),
        "resolved": resolved,
        "followed_up": int(counts["followed_up"]),
        "response_rate": rate_of(counts["responded"], total),
        "completion_rate": rate_of(resolved, total),
        "satisfaction_rate": rate_of(
            counts["satisfied"], counts["satisfied"] + counts["unsatisfied"]
        ),
        "followup_rate": rate_of(counts["followed_up"], resolved),
        "overdue": int(counts["overdue"]),
    }


def _grid_frames(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    grids = attributes_only(
        store.read_attributes("grids", ["grid_id", "name", "community", "street", "party_branch"])
    )
    grids["grid_id"] = stored_text(grids["grid_id"]).to_numpy(object)
    grids = grids.sort_values("grid_id", kind="stable").reset_index(drop=True)
    staff = attributes_only(store.read_attributes("staff", ["staff_id", "role", "grid_id"]))
    staff["grid_id"] = stored_text(staff["grid_id"]).to_numpy(object)
    staff["role"] = stored_text(staff["role"]).to_numpy(object)
    return grids, staff


def household_counters_of(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Per household 0/1 counters (visits required and compliant, fresh, categories held)
    and its grid (column ``_grid``) as of ``as_of``: the household half of ``grid_table``,
    which a caller may keep while only reports change (``grid_table(..., households=)``).

    From the maintained care state where it covers the day (rows grouped by grid), from the
    tables for the rest (``household_counters_from_tables``)."""
    state = load_state(store)
    if state is None:
        return household_counters_from_tables(store, as_of)
    config = load_config()
    uncovered = set(uncovered_blocks(state, as_of, config))
    covered = [i for i in range(len(state.blocks)) if i not in uncovered]
    rows = state_rows(state, covered)
    flags = household_flags(state, as_of, config, rows)
    grid = np.asarray([b.grid.strip() for b in state.blocks], dtype=object)
    frame = pd.DataFrame({"_grid": grid[state.household_block[rows]]})
    frame["required"], frame["compliant"], frame["fresh"] = (
        flags.required,
        flags.compliant,
        flags.fresh,
    )
    parts = [_household_counts(frame, flags.held, flags.ok, config.category_codes, None)]
    keys = [state.blocks[i].grid for i in sorted(uncovered)]
    for where in _wheres_of(keys):
        households, held, ok = _household_frame(store, as_of, config, where)
        parts.append(_household_counts(households, held, ok, config.category_codes, None))
    parts = [p for p in parts if len(p)] or parts[:1]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def household_counters_from_tables(store: Store, as_of: dt.date) -> pd.DataFrame:
    """``household_counters_of`` folded from the tables."""
    config = load_config()
    households, held, ok = _household_frame(store, as_of, config)
    return _household_counts(households, held, ok, config.category_codes, None)


def _wheres_of(keys: list[str]) -> list[dict]:
    """Where-dicts reading the households of care-state grid ``keys`` ("" = no grid)."""
    named = [k for k in keys if k != ""]
    wheres: list[dict] = [{"grid_id": named}] if named else []
    if "" in keys:
        wheres += [{"grid_id": None}, {"grid_id": [""]}]
    return wheres


def household_counters_from_status(status: pd.DataFrame) -> pd.DataFrame:
    """``household_counters_of`` derived from ``household_status`` rows of the same day (a
    category is met unless its code is among ``failed``): a caller holding the statuses
    need not compute the households a second time."""
    codes = load_config().category_codes
    held = _category_matrix(status["categories"], codes)
    failed = _category_matrix(status["failed"], codes)
    frame = pd.DataFrame(
        {
            "_grid": stored_text(status["grid_id"]).to_numpy(object),
            "required": held.any(axis=1),
            "compliant": status["compliant"].fillna(False).astype(bool).to_numpy(),
            "fresh": status["fresh"].fillna(False).astype(bool).to_numpy(),
        }
    )
    return _household_counts(frame, held, held & ~failed, codes, None)


def household_sums(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Household counters as of ``as_of`` summed per grid (index: the stripped stored grid id,
    '' for none; columns as ``household_counters_of``): from the maintained care state
    (``geo.carestate``) where it covers the day, from the tables for the rest."""
    state = load_state(store)
    if state is None:
        return _summed(household_counters_from_tables(store, as_of))
    config = load_config()
    uncovered = uncovered_blocks(state, as_of, config)
    sums = block_sums(state, as_of, config)
    keys = [state.blocks[i].grid for i in uncovered]
    sums = sums[~sums.index.isin(keys)]
    sums = sums.groupby(np.asarray([str(k).strip() for k in sums.index], dtype=object)).sum()
    sums.insert(1, "unassigned", np.int64(0))
    for where in _wheres_of(keys):
        households, held, ok = _household_frame(store, as_of, config, where)
        if len(households):
            part = _summed(_household_counts(households, held, ok, config.category_codes, None))
            sums = sums.add(part, fill_value=0).astype(np.int64)
    return sums


def _summed(counters: pd.DataFrame) -> pd.DataFrame:
    return counters.groupby("_grid").sum().astype(np.int64)


class _Counts:
    """The summed counters of one as-of day: overall and per grid."""

    def __init__(
        self, store: Store, as_of: dt.date, household_counters: pd.DataFrame | None = None
    ) -> None:
        config = load_config()
        self.codes = config.category_codes
        self.grids, self.staff = _grid_frames(store)
        sums = (
            household_sums(store, as_of)
            if household_counters is None
            else _summed(household_counters)
        )
        sums["unassigned"] = np.where(
            sums.index.isin(set(self.grids["grid_id"])), 0, sums["total"]
        ).astype(np.int64)
        report_counts = _report_frame(store, as_of)
        self.household_total = sums.sum().astype(np.int64)
        self.report_total = report_counts.drop(columns="_grid").astype(np.int64).sum()
        index = pd.Index(self.grids["grid_id"], name="grid_id")
        self.household_by_grid = sums.reindex(index, fill_value=0).astype(np.int64)
        self.report_by_grid = (
            report_counts.astype({c: np.int64 for c in _REPORT_COUNTERS})
            .groupby("_grid")
            .sum()
            .reindex(index, fill_value=0)
            .astype(np.int64)
        )


def compute_metrics(store: Store, as_of: dt.date, by: str | None = None) -> dict[str, Any]:
    """The contract's metrics JSON (section 6) as of the end of ``as_of``; ``by="grid"`` per grid."""
    if by not in (None, "grid"):
        raise ValueError(f"by must be None or 'grid', not {by!r}")
    counts = _Counts(store, as_of)
    if by == "grid":
        rows = []
        employment = metrics_sections_by_grid(store, as_of, list(counts.grids["grid_id"]))
        for grid_id in counts.grids["grid_id"]:
            sections = _household_sections(
                counts.household_by_grid.loc[grid_id], counts.codes, unassigned=False
            )
            rows.append(
                {
                    "grid_id": grid_id,
                    **sections,
                    "reports": _report_section(counts.report_by_grid.loc[grid_id]),
                    "new_employment": employment[grid_id],  # contract section 7
                }
            )
        return {"as_of": day_text(as_of), "grids": rows}
    grids, staff = counts.grids, counts.staff
    n_grids = len(grids)
    worker_grids = set(staff.loc[staff["role"] == "grid_worker", "grid_id"])
    return {
        "as_of": day_text(as_of),
        **_household_sections(counts.household_total, counts.codes),
        "grids": {
            "total": n_grids,
            "with_party_branch": int((stored_text(grids["party_branch"]) != "").sum()),
            "with_grid_worker": int(grids["grid_id"].isin(worker_grids).sum()),
            "mean_staff_per_grid": round(len(staff) / n_grids, 2) if n_grids else 0.0,
        },
        "reports": _report_section(counts.report_total),
        "cases": cases_section(store, as_of),  # issue 19 (docs/cases.md)
        "new_employment": metrics_section(store, as_of),  # contract section 7
    }
