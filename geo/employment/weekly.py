"""The weekly pack's new-employment block: counts of the week's end and a week before,
the gap counts, and the reports observers filed (and saw resolved) in each week.

Figures are ``geo.outputs.weekly.figures.Figure`` values, so the pack formats and suppresses them as its
other figures (counts of 1 or 2 shown as "<3", no change shown next to a suppressed
count, no rate over fewer than 3 workers). No worker, name or id is in the block.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.employment.gaps import GAPS, gap_counts
from geo.employment.metrics import (
    EmploymentFrames,
    count_section,
    employment_status,
    observer_ids,
)
from geo.employment.observers import observer_report_counts
from geo.employment.status import STATION_REACH_M
from geo.outputs.weekly.figures import Figure

COUNTS = (
    "firms",
    "outlets",
    "workers",
    "party_members",
    "party_members_returned",
    "observers",
    "observers_registered",
    "stations",
    "outlets_near_station",
)
WEEK_DAYS = 7


def _week(
    frames: EmploymentFrames, end: dt.date, reach_m: float
) -> tuple[dict[str, Any], dict[str, int], dict[str, int]]:
    status = employment_status(frames, end, reach_m=reach_m)
    section = count_section(status)
    gaps = gap_counts(status.outlets, status.workers)
    reports = observer_report_counts(
        frames.reports, observer_ids(status.workers), end - dt.timedelta(days=WEEK_DAYS - 1), end
    )
    return section, gaps, reports


def employment_block(
    frames: EmploymentFrames, as_of: dt.date, *, reach_m: float = STATION_REACH_M
) -> dict[str, list[Figure]]:
    """``figures`` (headline counts and the insured rate), ``gaps`` (gap counts, lower is
    better) and ``reports`` (observer reports filed / resolved in the week ending
    ``as_of``), each with the week before as ``previous``."""
    now, gaps_now, reports_now = _week(frames, as_of, reach_m)
    before, gaps_before, reports_before = _week(
        frames, as_of - dt.timedelta(days=WEEK_DAYS), reach_m
    )
    figures = [
        Figure(f"emp_{key}", "count", now[key], before[key], None, None, True)
        for key in COUNTS
        if key != "workers"
    ]
    figures.insert(
        2, Figure("emp_workers", "count", now["workers"], before["workers"], None, None, None)
    )
    figures.append(
        Figure(
            "emp_insured_rate",
            "rate",
            now["insured_rate"],
            before["insured_rate"],
            now["workers"],
            before["workers"],
        )
    )
    gaps = [
        Figure(f"emp_gap_{gap}", "count", gaps_now[gap], gaps_before[gap], None, None, False)
        for gap in GAPS
    ]
    reports = [
        Figure(
            f"emp_reports_{key}", "count", reports_now[key], reports_before[key], None, None, True
        )
        for key in ("filed", "resolved")
    ]
    return {"figures": figures, "gaps": gaps, "reports": reports}
