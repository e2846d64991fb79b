"""The figures pages show, one way everywhere: totals of a scope and their display form.

Totals are summed from raw counts (``grid_table`` rows, or household status rows when a
page filters households) and only then suppressed for a wide audience
(``geo.access.privacy.suppress_table``, applied once by the loaders in ``ui.data``): a suppressed
"<3" is never summed or parsed as a number. Rates are shown with one rounding
(``rate_text``), counts with one format (``count_text``), everywhere: tiles, tables,
tooltips, the weekly PDF and XLSX.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from geo.access.privacy import SMALL_COUNT
from geo.asof import rate_of

NONE = "—"  # no figure: nothing to count or no base for a rate
RATE_DECIMALS = 1
# st.column_config format of a rate column holding percentages (rate x 100): as rate_text
RATE_COLUMN_FORMAT = f"%.{RATE_DECIMALS}f%%"
# counts about households, summed over a scope (the prefix "households" marks them as counts
# about people for geo.access.privacy.suppress_table)
HOUSEHOLD_COUNTS = ("households", "households_care", "visit_required", "visit_compliant", "fresh")
REPORT_COUNTS = ("reports_open", "reports_overdue")


def _number(value: object) -> bool:
    """A real number (not a suppressed "<3", not None/NaN, not a bool)."""
    return (
        isinstance(value, numbers.Real | np.number)
        and not isinstance(value, bool | np.bool_)
        and value == value
    )


def rate_text(rate: object, base: object = None) -> str:
    """``88.7%``; ``—`` without a rate; ``n<3`` when it rests on 1 or 2 households or reports."""
    suppressed = isinstance(base, str) and base.startswith("<")  # the base itself was "<3"
    if suppressed or (_number(base) and 0 < float(base) < SMALL_COUNT):
        return f"n<{SMALL_COUNT}"
    if not _number(rate):
        return NONE
    return f"{float(rate) * 100:.{RATE_DECIMALS}f}%"


def count_text(count: object) -> str:
    """``1,234``; a suppressed count (``"<3"``) as it is; ``—`` for none."""
    if isinstance(count, str):
        return count
    if not _number(count):
        return NONE
    return f"{int(count):,}"


def ratio_text(value: object) -> str:
    """A ratio such as households per grid worker, with one decimal: ``215.2``; ``—`` for none."""
    if isinstance(value, str):
        return value
    return f"{float(value):,.1f}" if _number(value) else NONE


def _with_rates(totals: dict[str, object]) -> dict[str, object]:
    totals["visit_rate"] = rate_of(totals["visit_compliant"], totals["visit_required"])
    totals["freshness_rate"] = rate_of(totals["fresh"], totals["households"])
    return totals


def _whole(values: pd.Series) -> int:
    # raw counts only: a suppressed "<3" here is a bug, and must fail rather than count as 0
    return int(pd.to_numeric(values, errors="raise").fillna(0).sum())


def scope_totals(grids: pd.DataFrame, households: pd.DataFrame | None = None) -> dict[str, object]:
    """Totals of a scope: grids, households (and those with a care category), visits required
    and compliant, fresh, open and overdue reports, visit_rate, freshness_rate.

    ``grids``: the raw ``grid_table`` rows of the scope (never suppressed ones).
    ``households``: household status rows (``household_status``) when the page shows a
    filtered set: the household counts are theirs; the report counts stay the grids'.
    """
    totals: dict[str, object] = {"grids": len(grids)}
    if households is None:
        totals["households"] = _whole(grids.get("households", pd.Series(dtype=float)))
        # the households holding a category are exactly those with visits required
        totals["households_care"] = _whole(grids.get("visit_required", pd.Series(dtype=float)))
        for column in ("visit_required", "visit_compliant", "fresh"):
            totals[column] = _whole(grids.get(column, pd.Series(dtype=float)))
    else:
        totals.update(_household_counts(households))
    for column in REPORT_COUNTS:
        totals[column] = _whole(grids.get(column, pd.Series(dtype=float)))
    return _with_rates(totals)


def add_households(totals: dict[str, object], households: pd.DataFrame) -> dict[str, object]:
    """Raw ``totals`` plus the household counts of more rows (e.g. the unassigned households,
    which no grid's figures hold), rates recomputed."""
    more = _household_counts(households)
    out = dict(totals)
    for column in HOUSEHOLD_COUNTS:
        out[column] = int(out[column]) + more[column]  # type: ignore[call-overload]
    return _with_rates(out)


def _household_counts(households: pd.DataFrame) -> dict[str, int]:
    required = households["required"].fillna(False).astype(bool).to_numpy()
    compliant = households["compliant"].fillna(False).astype(bool).to_numpy()
    categories = households["categories"].fillna("").astype(str).to_numpy()
    return {
        "households": len(households),
        "households_care": int((categories != "").sum()),
        "visit_required": int(required.sum()),
        "visit_compliant": int((required & compliant).sum()),
        "fresh": int(households["fresh"].fillna(False).astype(bool).sum()),
    }


def household_counts_by(households: pd.DataFrame, key: str) -> pd.DataFrame:
    """Household counts and rates per value of ``key`` (e.g. grid_id, community) of status
    rows: households, households_care, visit_required, visit_compliant, fresh, visit_rate,
    freshness_rate; one row per value present."""
    frame = pd.DataFrame(
        {
            key: households[key].to_numpy(object),
            "households": 1,
            "households_care": (households["categories"].fillna("").astype(str) != "").to_numpy(
                np.int64
            ),
            "visit_required": households["required"].fillna(False).astype(bool).to_numpy(np.int64),
            "visit_compliant": (
                households["required"].fillna(False).astype(bool)
                & households["compliant"].fillna(False).astype(bool)
            ).to_numpy(np.int64),
            "fresh": households["fresh"].fillna(False).astype(bool).to_numpy(np.int64),
        }
    )
    table = frame.groupby(key, sort=True, dropna=False)[list(HOUSEHOLD_COUNTS)].sum().reset_index()
    required = table["visit_required"].astype(float)
    table["visit_rate"] = (table["visit_compliant"] / required.where(required > 0)).round(4)
    table["freshness_rate"] = (table["fresh"] / table["households"].astype(float)).round(4)
    return table


def care_first(households: pd.DataFrame) -> pd.DataFrame:
    """Household rows with those holding a care category first (overdue visits first among
    them), then the ordinary ones; by household id within each group."""
    care = (households["categories"].fillna("").astype(str) != "").to_numpy()
    overdue = households["overdue"].fillna(False).astype(bool).to_numpy()
    ids = households["household_id"].astype(str).to_numpy()
    return households.iloc[np.lexsort((ids, ~overdue, ~care))]  # the last key sorts first
