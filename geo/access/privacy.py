"""Masking of personal fields and suppression of small counts (PIPL art. 28/51).

Names, phone numbers and ID numbers are masked everywhere by default; aggregates shown
to wide audiences replace counts under ``SMALL_COUNT`` by ``"<3"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SMALL_COUNT = 3
PERSONAL_COLUMNS = ("head_name", "phone", "id_number")


def mask_name(name: object) -> str | None:
    """``张三丰`` -> ``张**``; keeps only the surname character."""
    if name is None or (isinstance(name, float) and name != name) or str(name) == "":
        return None
    text = str(name)
    return text[0] + "*" * max(len(text) - 1, 1)


def mask_phone(phone: object) -> str | None:
    """``13812341234`` -> ``138****1234`` (first 3, last 4)."""
    if phone is None or (isinstance(phone, float) and phone != phone) or str(phone) == "":
        return None
    text = str(phone)
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_id_number(id_number: object) -> str | None:
    """``150102199001011234`` -> ``150102********1234`` (first 6, last 4)."""
    if (
        id_number is None
        or (isinstance(id_number, float) and id_number != id_number)
        or str(id_number) == ""
    ):
        return None
    text = str(id_number)
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


_MASKS = {"head_name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def mask_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every personal column (name, phone, ID) masked."""
    out = frame.copy()
    for column, mask in _MASKS.items():
        if column in out.columns:
            out[column] = out[column].map(mask)
    return out


def suppress_small(count: object, threshold: int = SMALL_COUNT) -> object:
    """``"<3"`` for a count of 1 or 2 (0 and larger counts unchanged)."""
    if isinstance(count, int | float) and not isinstance(count, bool) and count == count:
        if 0 < count < threshold:
            return f"<{threshold}"
    return count


# rate column -> the count it divides by (grid_table/community_table): a rate over fewer than
# SMALL_COUNT households or reports would tell about single people, so it goes with its base
_RATE_BASES = {
    "visit_rate": "visit_required",
    "freshness_rate": "households",
    "response_rate": "reports_total",
    "completion_rate": "reports_total",
    "followup_rate": "reports_resolved",
    "satisfaction_rate": ("reports_satisfied", "reports_unsatisfied"),
    "households_per_worker": "households",
}
# counts about people (households, reports); grids and staff numbers are not suppressed
_SENSITIVE_PREFIXES = ("households", "n_", "visit_required", "visit_compliant", "fresh", "reports_")


def suppress_table(figures: pd.DataFrame, threshold: int = SMALL_COUNT) -> pd.DataFrame:
    """An aggregate table (``grid_table``/``community_table``) safe for wide audiences.

    Household and report counts of 1..threshold-1 become ``"<3"`` (object columns), and a
    rate whose base count is under ``threshold`` becomes NaN; other columns are unchanged.
    """
    out = figures.copy()
    bases: dict[str, np.ndarray] = {}
    for column in figures.columns:
        if column in _RATE_BASES or not column.startswith(_SENSITIVE_PREFIXES):
            continue
        if not pd.api.types.is_numeric_dtype(figures[column]):
            continue
        values = pd.to_numeric(figures[column], errors="coerce").to_numpy(float)
        bases[column] = values
        small = (values > 0) & (values < threshold)
        if small.any():
            column_out = figures[column].astype(object).to_numpy(copy=True)
            column_out[small] = f"<{threshold}"
            out[column] = column_out
    for rate in [c for c in figures.columns if c in _RATE_BASES or c.startswith("visit_rate_")]:
        base = _RATE_BASES.get(rate, "n_" + rate.removeprefix("visit_rate_"))
        names = base if isinstance(base, tuple) else (base,)
        if not all(name in bases for name in names):
            continue
        total = sum(bases[name] for name in names)
        out[rate] = figures[rate].where(~((total > 0) & (total < threshold)))
    return out


def suppress_totals(totals: dict[str, object], threshold: int = SMALL_COUNT) -> dict[str, object]:
    """Totals of a scope (``geo.outputs.figures.scope_totals``) safe for wide audiences: the rules of
    ``suppress_table`` applied to them as one row, after they were summed from raw counts."""
    row = suppress_table(pd.DataFrame([totals]), threshold).iloc[0]
    return {
        key: None if isinstance(value, float) and value != value else value
        for key, value in row.items()
    }
