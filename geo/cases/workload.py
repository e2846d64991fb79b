"""Cases per owner: an owner's own open cases by urgency, and the leader's count per owner.

Both read the reports (report_id, owner_kind, owner_id, ...) beside their ``case_clock``
(same index): the limit in force, hours left, overdue and nearing flags.
"""

from __future__ import annotations

import pandas as pd

from geo.cases.owners import Owner


def cases_of(reports: pd.DataFrame, clock: pd.DataFrame, owner: Owner) -> pd.DataFrame:
    """``owner``'s open cases, most urgent first (overdue longest, then least time left):
    the report columns with due_at, hours_left, overdue and nearing added."""
    mine = (reports["owner_kind"] == owner.kind) & (reports["owner_id"] == owner.id)
    chosen = mine & clock["open"]
    out = reports[chosen].copy()
    for column in ("due_at", "hours_left", "overdue", "nearing", "extension_hours"):
        out[column] = clock.loc[chosen, column]
    return out.sort_values(["hours_left", "report_id"], kind="stable").reset_index(drop=True)


def cases_per_owner(reports: pd.DataFrame, clock: pd.DataFrame) -> pd.DataFrame:
    """One row per owner holding an open case: owner_kind, owner_id, open, overdue, nearing,
    most overdue first; open cases without an owner are one row with owner_kind None, first
    among equals."""
    frame = pd.DataFrame(
        {
            "owner_kind": reports["owner_kind"]
            .astype(object)
            .where(reports["owner_kind"].notna(), ""),
            "owner_id": reports["owner_id"].astype(object).where(reports["owner_id"].notna(), ""),
            "open": clock["open"].astype(int),
            "overdue": clock["overdue"].astype(int),
            "nearing": clock["nearing"].astype(int),
        }
    )[clock["open"]]
    counts = frame.groupby(["owner_kind", "owner_id"], as_index=False)[
        ["open", "overdue", "nearing"]
    ].sum()
    counts = counts.sort_values(
        ["overdue", "nearing", "open", "owner_kind", "owner_id"],
        ascending=[False, False, False, True, True],
        kind="stable",
    )
    for column in ("owner_kind", "owner_id"):
        counts[column] = counts[column].where(counts[column] != "", None)
    return counts.reset_index(drop=True)
