"""The ``cases`` section of ``gridmap metrics --json`` (and of the weekly pack), read from a
store: owners, transfers, extensions, overdue against the limit in force, the return visits
by method, reminders, and the mediation room's figures (whole street and per community)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geo.cases.figures import case_figures, mediation_room_figures, mediation_totals
from geo.cases.settings import CaseSettings, case_settings
from geo.store.base import Store

_REPORT_COLUMNS = [
    "report_id",
    "source",
    "category",
    "grid_id",
    "reported_at",
    "responded_at",
    "resolved_at",
    "followed_up_at",
    "satisfaction",
    "duplicate_of",
    "owner_kind",
    "owner_id",
    "followup_method",
    "closed_at",
]

# what case_figures reads of the events (owners, transfers, extensions): the other columns
# (actor, reason, ...) are half the read at 28k events
_EVENT_COLUMNS = ["report_id", "event_no", "event", "at", "owner_kind", "owner_id", "hours"]


def _plain(value: object) -> object:
    """A JSON value: numpy numbers as Python ones, a NaN rate (no denominator) as null."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and value != value else value


def cases_section(
    store: Store,
    as_of: dt.date,
    since: dt.date | None = None,
    settings: CaseSettings | None = None,
) -> dict[str, Any]:
    """The case figures as of the end of ``as_of`` (happenings counted from ``since`` when
    given), with ``mediation``: the street's totals and ``by_community``."""
    settings = settings or case_settings()
    reports = store.read_attributes("reports", _REPORT_COLUMNS)
    events = store.read_attributes("case_events", _EVENT_COLUMNS)
    figures = case_figures(
        reports, events, store.read_attributes("case_reminders"), settings, as_of, since
    )
    grids = store.read_attributes("grids", ["grid_id", "community"])
    room = mediation_room_figures(
        reports,
        grids,
        store.read_attributes("mediations"),
        store.read_attributes("mediation_sessions"),
        settings,
        as_of,
    )
    by_community = {
        str(row["community"]): {
            key: _plain(value) for key, value in row.items() if key != "community"
        }
        for row in room.astype(object).to_dict("records")
    }
    figures["mediation"] = {**mediation_totals(room, settings), "by_community": by_community}
    return figures
