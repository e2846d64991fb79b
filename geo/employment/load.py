"""Reading the new-employment tables from a store, and the metrics section computed from them."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geo.config import load_config
from geo.employment.metrics import (
    EmploymentFrames,
    employment_status,
    new_employment,
    new_employment_by_grid,
)
from geo.employment.tables import firm_table
from geo.employment.weekly import WEEKLY_FIRM_COLUMNS, employment_block
from geo.store.base import Store

REPORT_COLUMNS = [
    *("report_id", "source", "reporter_id", "reported_at", "resolved_at"),
    *("duplicate_of", "grid_id"),
]
"""What the section needs of the reports (``observer_reports_30d``; resolved for the weekly)."""


def _attributes(frame: pd.DataFrame) -> pd.DataFrame:
    """A read frame with its index 0..n-1 (points keep their geometry)."""
    return frame.reset_index(drop=True)


def load_frames(store: Store, *, reports: bool = True) -> EmploymentFrames:
    """The four section-7 tables (outlets and stations with their points) and, unless
    ``reports`` is False, the report columns the section counts."""
    return EmploymentFrames(
        firms=_attributes(store.read_attributes("firms")),
        outlets=_attributes(store.read("outlets")),
        workers=_attributes(store.read_attributes("workers")),
        stations=_attributes(store.read("stations")),
        reports=(
            _attributes(store.read_attributes("reports", REPORT_COLUMNS))
            if reports
            else pd.DataFrame(columns=REPORT_COLUMNS)
        ),
    )


def metrics_section(store: Store, as_of: dt.date) -> dict[str, int | float | None]:
    """The ``new_employment`` section of ``gridmap metrics --json`` (contract section 7)."""
    return new_employment(load_frames(store), as_of, reach_m=load_config().station_reach_m)


def metrics_sections_by_grid(
    store: Store, as_of: dt.date, grid_ids: list[str]
) -> dict[str, dict[str, int | float | None]]:
    """The section restricted to each grid (``gridmap metrics --json --by grid``)."""
    return new_employment_by_grid(
        load_frames(store), as_of, grid_ids, reach_m=load_config().station_reach_m
    )


def weekly_block(store: Store, as_of: dt.date) -> dict | None:
    """The weekly pack's new-employment block (``employment_block``, plus ``firms``: the table
    by firm, counts only), None without any firm, outlet, worker or station: a street office
    that keeps none gets the pack as before."""
    frames = load_frames(store)
    if not any(len(f) for f in (frames.firms, frames.outlets, frames.workers, frames.stations)):
        return None
    reach = load_config().station_reach_m
    block: dict = dict(employment_block(frames, as_of, reach_m=reach))
    block["firms"] = firm_table(employment_status(frames, as_of, reach_m=reach))[
        list(WEEKLY_FIRM_COLUMNS)
    ]
    return block
