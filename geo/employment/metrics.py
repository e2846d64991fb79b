"""The ``new_employment`` section of ``gridmap metrics --json`` (contract section 7).

``employment_status`` applies the section's rules once (``status``); ``count_section``
counts the result, for the whole street or restricted to one grid (``restrict``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

from geo.asof import rate_of, text_isin
from geo.employment.status import (
    STATION_REACH_M,
    next_day,
    open_stations,
    outlet_status,
    stored_text,
    worker_status,
)
from geo.timeutil import day_text

OBSERVER_SOURCE = "observer"
REPORT_WINDOW_DAYS = 30
"""``observer_reports_30d``: the as-of day and the 29 days before it."""
SECTION_KEYS = (
    "firms",
    "firms_with_party_org",
    "outlets",
    "outlets_with_party_org",
    "outlets_near_station",
    "workers",
    "party_members",
    "party_members_returned",
    "party_members_mobile",
    "insured",
    "insured_rate",
    "observers",
    "observers_registered",
    "observer_reports_30d",
    "stations",
)


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass
class EmploymentFrames:
    """The stored tables the section is computed from (attribute frames; outlets and
    stations with point geometry or ``lon``/``lat``; reports need ``source``,
    ``reporter_id``, ``reported_at`` and may have ``duplicate_of`` and ``grid_id``)."""

    firms: pd.DataFrame = field(default_factory=_empty)
    outlets: pd.DataFrame = field(default_factory=_empty)
    workers: pd.DataFrame = field(default_factory=_empty)
    stations: pd.DataFrame = field(default_factory=_empty)
    reports: pd.DataFrame = field(default_factory=_empty)


@dataclass
class EmploymentStatus:
    """The frames with the section's flags as of a day: outlets (``outlet_status``),
    workers (``worker_status``), the stations counted, the observers' reports counted."""

    as_of: dt.date
    firms: pd.DataFrame
    outlets: pd.DataFrame
    workers: pd.DataFrame
    stations: pd.DataFrame
    observer_reports: pd.DataFrame


def _series(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), dtype=object, index=frame.index)


def _flag_sum(frame: pd.DataFrame, name: str) -> int:
    return int(frame[name].astype(bool).sum()) if len(frame) else 0


def observer_ids(workers: pd.DataFrame) -> set[str]:
    """``worker_id`` of every observer (``workers`` as ``worker_status`` returns them)."""
    if len(workers) == 0:
        return set()
    return set(stored_text(workers["worker_id"])[workers["is_observer"].astype(bool)].tolist())


def observer_reports(
    reports: pd.DataFrame,
    observers: set[str],
    first: dt.date,
    last: dt.date,
) -> pd.DataFrame:
    """Reports of source observer whose ``reporter_id`` is one of ``observers``, reported
    on a day from ``first`` to ``last`` (reports linked to another as duplicates are left
    out, as from every report count)."""
    if len(reports) == 0:
        return reports
    reported = stored_text(_series(reports, "reported_at"))
    keep = (
        (stored_text(_series(reports, "source")) == OBSERVER_SOURCE)
        & text_isin(stored_text(_series(reports, "reporter_id")), observers)
        & (reported >= day_text(first))
        & (reported < next_day(last))
        & (stored_text(_series(reports, "duplicate_of")) == "")
    )
    return reports[keep.to_numpy(bool)]


def employment_status(
    frames: EmploymentFrames, as_of: dt.date, *, reach_m: float = STATION_REACH_M
) -> EmploymentStatus:
    """The section's rules applied to ``frames`` as the data stood at the end of ``as_of``."""
    workers = worker_status(frames.workers, as_of)
    first = as_of - dt.timedelta(days=REPORT_WINDOW_DAYS - 1)
    return EmploymentStatus(
        as_of=as_of,
        firms=frames.firms.reset_index(drop=True),
        outlets=outlet_status(frames.outlets, frames.firms, frames.stations, as_of, reach_m),
        workers=workers,
        stations=open_stations(frames.stations, as_of),
        observer_reports=observer_reports(frames.reports, observer_ids(workers), first, as_of),
    )


def count_section(status: EmploymentStatus) -> dict[str, int | float | None]:
    """The section's figures of ``status``, keys in the contract's order."""
    firms, outlets, workers = status.firms, status.outlets, status.workers
    insured = _flag_sum(workers, "insured_now")
    section = {
        "firms": len(firms),
        "firms_with_party_org": int((stored_text(_series(firms, "party_org")) != "").sum()),
        "outlets": len(outlets),
        "outlets_with_party_org": _flag_sum(outlets, "has_party_org"),
        "outlets_near_station": _flag_sum(outlets, "near"),
        "workers": len(workers),
        "party_members": _flag_sum(workers, "member"),
        "party_members_returned": _flag_sum(workers, "returned"),
        "party_members_mobile": _flag_sum(workers, "mobile"),
        "insured": insured,
        "insured_rate": rate_of(insured, len(workers)),
        "observers": _flag_sum(workers, "is_observer"),
        "observers_registered": _flag_sum(workers, "registered"),
        "observer_reports_30d": len(status.observer_reports),
        "stations": len(status.stations),
    }
    return {key: section[key] for key in SECTION_KEYS}


def new_employment(
    frames: EmploymentFrames, as_of: dt.date, *, reach_m: float = STATION_REACH_M
) -> dict[str, int | float | None]:
    """The section as the data stood at the end of ``as_of``."""
    return count_section(employment_status(frames, as_of, reach_m=reach_m))


def _in(frame: pd.DataFrame, column: str, values: set[str]) -> pd.DataFrame:
    if len(frame) == 0 or column not in frame.columns:
        return frame.iloc[:0]
    return frame[text_isin(stored_text(frame[column]), values).to_numpy(bool)]


def restrict(status: EmploymentStatus, grid_id: str) -> EmploymentStatus:
    """``status`` restricted to one grid (see ``restrict_to_grids``)."""
    return restrict_to_grids(status, {grid_id})


def restrict_to_grids(status: EmploymentStatus, grid_ids: set[str]) -> EmploymentStatus:
    """``status`` restricted to some grids: their outlets, stations and observer reports; the
    workers of those outlets; the firms of those outlets and workers. Reach is still
    measured to every counted station (a station across the street serves the grid)."""
    grid_id = set(grid_ids)
    outlets = _in(status.outlets, "grid_id", grid_id)
    outlet_ids = set(stored_text(outlets["outlet_id"]).tolist()) if len(outlets) else set()
    workers = _in(status.workers, "outlet_id", outlet_ids)
    firm_ids = set(stored_text(_series(outlets, "firm_id")).tolist()) | set(
        stored_text(_series(workers, "firm_id")).tolist()
    )
    return replace(
        status,
        firms=_in(status.firms, "firm_id", firm_ids),
        outlets=outlets,
        workers=workers,
        stations=_in(status.stations, "grid_id", grid_id),
        observer_reports=_in(status.observer_reports, "grid_id", grid_id),
    )


def new_employment_by_grid(
    frames: EmploymentFrames,
    as_of: dt.date,
    grid_ids: list[str],
    *,
    reach_m: float = STATION_REACH_M,
) -> dict[str, dict[str, int | float | None]]:
    """The section restricted to each grid of ``grid_ids`` (see ``restrict``)."""
    status = employment_status(frames, as_of, reach_m=reach_m)
    return {g: count_section(restrict(status, g)) for g in grid_ids}
