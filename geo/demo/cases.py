"""The demo's case handling (issue 19), written in ``build_demo``'s transaction: owners and the
return visit on the reports, closing steps, case events, reminders and mediations.

The reports and their timestamps are the demo's own (``geo.demo.reports``): nothing is
added or removed, so the demo's report figures stand; the closing step (结案) joins their
steps.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo.cases.demo import build_case_demo
from geo.cases.settings import case_settings
from geo.store.base import Transaction


def add_cases(
    tx: Transaction,
    reports: pd.DataFrame,
    steps: pd.DataFrame,
    staff: pd.DataFrame,
    grids: pd.DataFrame,
    seed: int,
    as_of: dt.date,
    counts: dict[str, int],
    until: dt.datetime | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write the case tables in ``tx`` (their row counts into ``counts``); returns the
    reports with their case columns and the steps with the closing steps, to be written."""
    grid_frame = pd.DataFrame(grids[["grid_id", "community"]])
    cases = build_case_demo(
        reports, steps, staff, grid_frame, case_settings(), seed, as_of, until=until
    )
    columns = cases.report_columns.drop(columns="report_id")
    reports = reports.copy()
    for name in columns.columns:
        reports[name] = columns[name].to_numpy(object)
    steps = pd.concat([steps, cases.closed_steps], ignore_index=True)
    counts["case_events"] = tx.replace("case_events", cases.events)
    counts["case_reminders"] = tx.replace("case_reminders", cases.reminders)
    counts["mediations"] = tx.replace("mediations", cases.mediations)
    counts["mediation_sessions"] = tx.replace("mediation_sessions", cases.sessions)
    counts["mediation_mediators"] = tx.replace("mediation_mediators", cases.mediators)
    return reports, steps
