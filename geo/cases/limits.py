"""The limit in force and what follows from it: hours left, overdue, nearing the limit.

The resolution limit is ``reported_at`` + ``resolution_limit_hours`` (contract §6, default
120 h) + the hours of every extension approved by the moment of judgement. A case is
overdue when it is not resolved by then and that moment is strictly after its limit (the
contract's rule, with the limit in force); it is nearing its limit when it is open, not
overdue, and ``reminder_hours`` or fewer are left.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.cases.settings import CaseSettings
from geo.cases.timeline import extension_hours_as_of
from geo.timeutil import day_text, end_of_day, format_timestamp, to_datetime_series


def judged_at(as_of: dt.date, now: dt.datetime | None = None) -> tuple[dt.datetime, str]:
    """The moment of judgement (``now`` for a live countdown, else the end of ``as_of``) and
    the stored-text cutoff: what happened before it counts."""
    if now is not None:  # as geo.metrics judges a live countdown
        # stamps are whole seconds: what was recorded in the current second has happened
        return now, format_timestamp(now + dt.timedelta(seconds=1))
    return end_of_day(as_of), day_text(as_of + dt.timedelta(days=1))


def case_clock(
    reports: pd.DataFrame,
    events: pd.DataFrame,
    settings: CaseSettings,
    as_of: dt.date,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Per report (same index as ``reports``): extension_hours, due_at (the limit in force,
    datetime64), hours_left (NaN once resolved or not yet reported), open, overdue, nearing.

    ``reports`` holds report_id, reported_at, resolved_at; ``events`` the case_events rows.
    """
    reference, cutoff = judged_at(as_of, now)
    reported_text = reports["reported_at"].astype(object).where(reports["reported_at"].notna(), "")
    resolved_text = reports["resolved_at"].astype(object).where(reports["resolved_at"].notna(), "")
    reported = ((reported_text != "") & (reported_text.astype(str) < cutoff)).to_numpy(bool)
    resolved = reported & ((resolved_text != "") & (resolved_text.astype(str) < cutoff)).to_numpy(
        bool
    )
    extension = extension_hours_as_of(events, reports["report_id"], cutoff)
    limit_hours = settings.base_limit_hours + extension
    reported_time = to_datetime_series(reported_text.where(reported_text != "", None))
    due_at = reported_time + pd.to_timedelta(limit_hours, unit="h")
    left = (due_at - pd.Timestamp(reference)).dt.total_seconds().to_numpy(float) / 3600.0
    open_ = reported & ~resolved
    overdue = open_ & (left < 0)
    nearing = open_ & ~overdue & (left <= settings.reminder_hours)
    return pd.DataFrame(
        {
            "extension_hours": extension,
            "due_at": due_at.to_numpy(),
            "hours_left": np.where(open_, left, np.nan),
            "open": open_,
            "overdue": overdue,
            "nearing": nearing,
        },
        index=reports.index,
    )
