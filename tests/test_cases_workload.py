"""An owner's open cases by urgency, and the leader's count per owner."""

import datetime as dt

import pandas as pd

from geo.cases.limits import case_clock
from geo.cases.owners import Owner
from geo.cases.settings import case_settings
from geo.cases.timeline import empty_events, event_row
from geo.cases.workload import cases_of, cases_per_owner

SETTINGS = case_settings()
AS_OF = dt.date(2026, 11, 26)  # judged at 11-27 00:00


def _reports() -> pd.DataFrame:
    rows = [
        ("R1", "2026-11-22 09:00:00", None, "staff", "S1"),  # 9 h left: nearing
        ("R2", "2026-11-20 09:00:00", None, "staff", "S1"),  # limit 11-25 09:00: 39 h overdue
        ("R3", "2026-11-24 09:00:00", None, "staff", "S1"),  # 57 h left
        ("R4", "2026-11-20 09:00:00", "2026-11-21 09:00:00", "staff", "S1"),  # resolved
        ("R5", "2026-11-21 09:00:00", None, "department", "urban_management"),  # 15 h overdue
        ("R6", "2026-11-21 10:00:00", None, None, None),  # 14 h overdue, nobody's
        ("R7", "2026-11-20 09:00:00", None, "staff", "S2"),  # extended 48 h: 9 h left
    ]
    frame = pd.DataFrame(
        rows, columns=["report_id", "reported_at", "resolved_at", "owner_kind", "owner_id"]
    )
    return frame.astype(object).where(frame.notna(), None)


def _events() -> pd.DataFrame:
    at = dt.datetime(2026, 11, 24, 9)
    return pd.DataFrame(
        [event_row("R7", 2, "extended", at, "街道刘", "street_leader", at, hours=48, reason="x")]
    )


def test_my_cases_most_urgent_first():
    reports = _reports()
    clock = case_clock(reports, _events(), SETTINGS, AS_OF)
    mine = cases_of(reports, clock, Owner("staff", "S1"))
    assert mine["report_id"].tolist() == ["R2", "R1", "R3"]  # resolved R4 is not listed
    assert mine["hours_left"].tolist() == [-39.0, 9.0, 57.0]
    assert mine["overdue"].tolist() == [True, False, False]
    assert mine["nearing"].tolist() == [False, True, False]


def test_extension_shows_in_the_owners_list():
    reports = _reports()
    mine = cases_of(reports, case_clock(reports, _events(), SETTINGS, AS_OF), Owner("staff", "S2"))
    assert mine[["report_id", "hours_left", "overdue", "extension_hours"]].values.tolist() == [
        ["R7", 9.0, False, 48.0]
    ]
    plain = cases_of(
        reports, case_clock(reports, empty_events(), SETTINGS, AS_OF), Owner("staff", "S2")
    )
    assert plain["overdue"].tolist() == [True]


def test_cases_per_owner_most_overdue_first():
    reports = _reports()
    table = cases_per_owner(reports, case_clock(reports, _events(), SETTINGS, AS_OF))
    assert table.astype(object).where(table.notna(), None).values.tolist() == [
        ["staff", "S1", 3, 1, 1],
        [None, None, 1, 1, 0],  # among equals, the cases nobody owns come first
        ["department", "urban_management", 1, 1, 0],
        ["staff", "S2", 1, 0, 1],
    ]
    assert table.columns.tolist() == ["owner_kind", "owner_id", "open", "overdue", "nearing"]
