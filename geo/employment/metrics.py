"""The ``new_employment`` section of ``gridmap metrics --json`` (contract section 7)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

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
    ``reporter_id``, ``reported_at`` and may have ``duplicate_of``)."""

    firms: pd.DataFrame = field(default_factory=_empty)
    outlets: pd.DataFrame = field(default_factory=_empty)
    workers: pd.DataFrame = field(default_factory=_empty)
    stations: pd.DataFrame = field(default_factory=_empty)
    reports: pd.DataFrame = field(default_factory=_empty)


def _rate(numerator: int, denominator: int) -> float | None:
    """A fraction rounded to 4 decimals, None when the denominator is 0 (section 6)."""
    return None if not denominator else round(numerator / denominator, 4)


def _series(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), dtype=object, index=frame.index)


def observer_reports(
    reports: pd.DataFrame, observer_ids: set[str], as_of: dt.date, days: int = REPORT_WINDOW_DAYS
) -> pd.DataFrame:
    """Reports of source observer whose ``reporter_id`` is one of ``observer_ids``, reported
    within the ``days`` days ending on ``as_of`` (reports linked to another as duplicates
    are left out, as from every report count)."""
    if len(reports) == 0:
        return reports
    reported = stored_text(_series(reports, "reported_at"))
    first = day_text(as_of - dt.timedelta(days=days - 1))
    keep = (
        (stored_text(_series(reports, "source")) == OBSERVER_SOURCE)
        & stored_text(_series(reports, "reporter_id")).isin(observer_ids)
        & (reported >= first)
        & (reported < next_day(as_of))
        & (stored_text(_series(reports, "duplicate_of")) == "")
    )
    return reports[keep.to_numpy(bool)]


def new_employment(
    frames: EmploymentFrames, as_of: dt.date, *, reach_m: float = STATION_REACH_M
) -> dict[str, int | float | None]:
    """The section as the data stood at the end of ``as_of``; keys in the contract's order."""
    firms = frames.firms
    firm_org = stored_text(_series(firms, "party_org")) != ""
    outlets = outlet_status(frames.outlets, firms, frames.stations, as_of, reach_m)
    workers = worker_status(frames.workers, as_of)
    n_workers = len(workers)
    insured = int(workers["insured_now"].sum()) if n_workers else 0
    observer_ids = (
        set(stored_text(workers["worker_id"])[workers["is_observer"]].tolist())
        if n_workers
        else set()
    )
    section = {
        "firms": len(firms),
        "firms_with_party_org": int(firm_org.sum()),
        "outlets": len(outlets),
        "outlets_with_party_org": int(outlets["has_party_org"].sum()) if len(outlets) else 0,
        "outlets_near_station": int(outlets["near"].sum()) if len(outlets) else 0,
        "workers": n_workers,
        "party_members": int(workers["member"].sum()) if n_workers else 0,
        "party_members_returned": int(workers["returned"].sum()) if n_workers else 0,
        "party_members_mobile": int(workers["mobile"].sum()) if n_workers else 0,
        "insured": insured,
        "insured_rate": _rate(insured, n_workers),
        "observers": int(workers["is_observer"].sum()) if n_workers else 0,
        "observers_registered": int(workers["registered"].sum()) if n_workers else 0,
        "observer_reports_30d": len(observer_reports(frames.reports, observer_ids, as_of)),
        "stations": len(open_stations(frames.stations, as_of)),
    }
    return {key: section[key] for key in SECTION_KEYS}
