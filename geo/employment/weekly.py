"""The weekly pack's new-employment block: counts of the week's end and a week before,
the gap counts, and the reports observers filed (and saw resolved) in each week.

Each figure is a ``FigureRow``, the fields of ``geo.outputs.weekly.figures.Figure`` in its order
(the pack makes a ``Figure`` of each: this package does not import the pack), so the pack
formats and suppresses them as its other figures (counts of 1 or 2 shown as "<3", no change shown next to a suppressed
count, no rate over fewer than 3 workers). No worker, name or id is in the block.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from geo.employment.gaps import GAPS, gap_counts
from geo.employment.metrics import (
    EmploymentFrames,
    count_section,
    employment_status,
    observer_ids,
)
from geo.employment.observers import observer_report_counts
from geo.employment.status import STATION_REACH_M

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
WEEKLY_FIRM_COLUMNS = (
    *("name", "sector", "outlets", "outlets_beyond_reach", "workers", "party_members"),
    *("party_members_returned", "insured", "insured_rate", "observers", "observers_registered"),
)
"""The pack's table by firm (``geo.employment.tables.firm_table`` columns; counts, no worker)."""


class FigureRow(NamedTuple):
    """A figure of the block: the fields of the pack's ``Figure``, in its order."""

    key: str
    kind: str  # "rate" | "count"
    value: float | int | None
    previous: float | int | None
    base: int | None
    previous_base: int | None
    higher_is_better: bool | None = True


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
) -> dict[str, list[FigureRow]]:
    """``figures`` (headline counts and the insured rate), ``gaps`` (gap counts, lower is
    better) and ``reports`` (observer reports filed / resolved in the week ending
    ``as_of``), each with the week before as ``previous``."""
    now, gaps_now, reports_now = _week(frames, as_of, reach_m)
    before, gaps_before, reports_before = _week(
        frames, as_of - dt.timedelta(days=WEEK_DAYS), reach_m
    )
    figures = [
        FigureRow(f"emp_{key}", "count", now[key], before[key], None, None, True)
        for key in COUNTS
        if key != "workers"
    ]
    figures.insert(
        2, FigureRow("emp_workers", "count", now["workers"], before["workers"], None, None, None)
    )
    figures.append(
        FigureRow(
            "emp_insured_rate",
            "rate",
            now["insured_rate"],
            before["insured_rate"],
            now["workers"],
            before["workers"],
        )
    )
    gaps = [
        FigureRow(f"emp_gap_{gap}", "count", gaps_now[gap], gaps_before[gap], None, None, False)
        for gap in GAPS
    ]
    reports = [
        FigureRow(
            f"emp_reports_{key}", "count", reports_now[key], reports_before[key], None, None, True
        )
        for key in ("filed", "resolved")
    ]
    return {"figures": figures, "gaps": gaps, "reports": reports}
