"""The limit in force after extensions, and overdue / nearing the limit against it."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.cases.limits import case_clock
from geo.cases.owners import Owner
from geo.cases.settings import case_settings
from geo.cases.timeline import (
    case_status,
    case_timeline,
    empty_events,
    event_row,
    extension_hours_as_of,
    owners_as_of,
)
from geo.reports.states import report_states

SETTINGS = case_settings()  # 120 h, reminders at 24 h
NOW = dt.datetime(2026, 12, 1, 12, 0)


def _events(*rows) -> pd.DataFrame:
    return pd.DataFrame([event_row(*r[:7], **r[7]) for r in rows]) if rows else empty_events()


def _extended(report_id, seq, at, hours):
    return (
        report_id,
        seq,
        "extended",
        at,
        "街道刘",
        "street_leader",
        NOW,
        {"hours": hours, "reason": "x"},
    )


def _reports(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["report_id", "reported_at", "resolved_at"])


def test_extension_moves_the_limit_and_overdue_with_it():
    reports = _reports(("R1", "2026-11-20 09:00:00", None))
    events = _events(_extended("R1", 2, dt.datetime(2026, 11, 24, 16, 0), 48))
    # without the extension: limit 11-25 09:00, at the end of 11-25 15 h past it
    plain = case_clock(reports, empty_events(), SETTINGS, dt.date(2026, 11, 25))
    assert plain["overdue"].tolist() == [True] and plain["hours_left"].tolist() == [-15.0]
    # with it: limit 11-27 09:00, 33 h left at the end of 11-25, 9 h left at the end of 11-26
    clock = case_clock(reports, events, SETTINGS, dt.date(2026, 11, 25))
    assert clock["due_at"].iloc[0] == pd.Timestamp("2026-11-27 09:00:00")
    assert clock[["overdue", "nearing"]].iloc[0].tolist() == [False, False]
    assert clock["hours_left"].tolist() == [33.0]
    next_day = case_clock(reports, events, SETTINGS, dt.date(2026, 11, 26))
    assert next_day[["overdue", "nearing"]].iloc[0].tolist() == [False, True]
    later = case_clock(reports, events, SETTINGS, dt.date(2026, 11, 27))
    assert later["overdue"].tolist() == [True]


def test_extension_granted_after_the_as_of_day_does_not_count_yet():
    reports = _reports(("R1", "2026-11-20 09:00:00", None))
    events = _events(_extended("R1", 2, dt.datetime(2026, 11, 26, 10, 0), 48))
    clock = case_clock(reports, events, SETTINGS, dt.date(2026, 11, 25))
    assert clock["overdue"].tolist() == [True] and clock["extension_hours"].tolist() == [0.0]
    assert case_clock(reports, events, SETTINGS, dt.date(2026, 11, 26))["overdue"].tolist() == [
        False
    ]


def test_requested_or_refused_extensions_do_not_move_the_limit():
    reports = _reports(("R1", "2026-11-20 09:00:00", None))
    events = _events(
        (
            "R1",
            2,
            "extension_requested",
            dt.datetime(2026, 11, 24, 9),
            "王芳",
            "grid_worker",
            NOW,
            {"hours": 48, "reason": "x"},
        ),
        (
            "R1",
            3,
            "extension_refused",
            dt.datetime(2026, 11, 24, 10),
            "街道刘",
            "street_leader",
            NOW,
            {"reason": "不同意", "request_seq": 2},
        ),
    )
    assert case_clock(reports, events, SETTINGS, dt.date(2026, 11, 25))["overdue"].tolist() == [
        True
    ]


def test_exactly_at_the_limit_is_nearing_not_overdue():
    reports = _reports(
        ("R1", "2026-11-20 00:00:00", None),  # limit = the end of 11-24 exactly
        ("R2", "2026-11-19 23:59:59", None),  # 1 s past it
        ("R3", "2026-11-19 08:00:00", "2026-11-24 10:00:00"),  # resolved: neither
        ("R4", "2026-11-25 08:00:00", None),  # reported after the as-of day: neither
    )
    clock = case_clock(reports, empty_events(), SETTINGS, dt.date(2026, 11, 24))
    assert clock["overdue"].tolist() == [False, True, False, False]
    assert clock["nearing"].tolist() == [True, False, False, False]
    assert clock["open"].tolist() == [True, True, False, False]
    assert np.isnan(clock["hours_left"].iloc[2]) and np.isnan(clock["hours_left"].iloc[3])


def test_two_extensions_add_up():
    reports = _reports(("R1", "2026-11-20 09:00:00", None))
    events = _events(
        _extended("R1", 2, dt.datetime(2026, 11, 24, 9), 48),
        _extended("R1", 3, dt.datetime(2026, 11, 26, 9), 24),
    )
    clock = case_clock(reports, events, SETTINGS, dt.date(2026, 11, 27))
    assert clock["due_at"].iloc[0] == pd.Timestamp("2026-11-28 09:00:00")
    assert clock["extension_hours"].tolist() == [72.0]


def test_without_extensions_overdue_agrees_with_the_metrics():
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2026-11-01")
    reported = start + pd.to_timedelta(rng.integers(0, 30 * 86400, 300), unit="s")
    resolved = reported + pd.to_timedelta(rng.integers(0, 10 * 86400, 300), unit="s")
    reports = pd.DataFrame(
        {
            "report_id": [f"R{i}" for i in range(300)],
            "reported_at": reported.strftime("%Y-%m-%d %H:%M:%S"),
            "resolved_at": pd.Series(resolved.strftime("%Y-%m-%d %H:%M:%S")).where(
                rng.random(300) < 0.6, None
            ),
        }
    )
    for as_of in (dt.date(2026, 11, 10), dt.date(2026, 11, 25)):
        states = report_states(reports, as_of)
        clock = case_clock(reports, empty_events(), SETTINGS, as_of)
        assert clock["overdue"].tolist() == (states["state"] == "overdue").tolist()
        np.testing.assert_allclose(clock["hours_left"], states["hours_left"], equal_nan=True)


def test_live_countdown_at_now():
    reports = _reports(("R1", "2026-11-20 09:00:00", None))
    clock = case_clock(
        reports,
        empty_events(),
        SETTINGS,
        dt.date(2026, 11, 25),
        now=dt.datetime(2026, 11, 25, 8, 0),
    )
    assert clock["hours_left"].tolist() == [1.0] and clock["nearing"].tolist() == [True]


def test_case_status_from_events():
    report = {"report_id": "R1", "owner_kind": None, "owner_id": None, "resolved_at": None}
    events = _events(
        (
            "R1",
            1,
            "assigned",
            dt.datetime(2026, 11, 20, 9),
            "system",
            "system",
            NOW,
            {"owner": Owner("staff", "S1")},
        ),
        (
            "R1",
            2,
            "transferred",
            dt.datetime(2026, 11, 20, 11),
            "王芳",
            "grid_worker",
            NOW,
            {
                "owner": Owner("department", "urban_management"),
                "previous": Owner("staff", "S1"),
                "reason": "属城管",
            },
        ),
        (
            "R1",
            3,
            "extension_requested",
            dt.datetime(2026, 11, 24, 9),
            "赵",
            "department",
            NOW,
            {"hours": 48, "reason": "等材料"},
        ),
        (
            "R1",
            4,
            "extended",
            dt.datetime(2026, 11, 24, 10),
            "街道刘",
            "street_leader",
            NOW,
            {"hours": 48, "request_seq": 3},
        ),
        (
            "R1",
            5,
            "extension_requested",
            dt.datetime(2026, 11, 26, 9),
            "赵",
            "department",
            NOW,
            {"hours": 24, "reason": "再等"},
        ),
        (
            "R2",
            1,
            "assigned",
            dt.datetime(2026, 11, 20, 9),
            "system",
            "system",
            NOW,
            {"owner": Owner("staff", "S9")},
        ),
    )
    status = case_status(report, events)
    assert status.owner == Owner("department", "urban_management")
    assert (status.extensions, status.extension_hours) == (1, 48.0)
    assert (status.pending_request, status.pending_hours) == (5, 24.0)
    assert status.next_seq == 6 and not status.resolved
    owners = owners_as_of(events, "2026-11-20 10:00:00")
    assert owners.set_index("report_id")["owner_id"].to_dict() == {"R1": "S1", "R2": "S9"}
    hours = extension_hours_as_of(events, pd.Series(["R1", "R2", "R3"]), "2026-11-25")
    assert hours.tolist() == [48.0, 0.0, 0.0]


def test_timeline_merges_steps_and_events_in_time_order():
    steps = pd.DataFrame(
        {
            "report_id": ["R1"] * 3,
            "step": ["reported", "responded", "resolved"],
            "at": ["2026-11-20 09:00:00", "2026-11-20 12:00:00", "2026-11-26 10:00:00"],
            "actor": ["受理员", "王芳", "赵"],
            "note": [None, "已联系", "已清理"],
        }
    )
    events = _events(
        (
            "R1",
            1,
            "assigned",
            dt.datetime(2026, 11, 20, 9),
            "system",
            "system",
            NOW,
            {"owner": Owner("staff", "S1")},
        ),
        (
            "R1",
            2,
            "transferred",
            dt.datetime(2026, 11, 20, 11),
            "王芳",
            "grid_worker",
            NOW,
            {
                "owner": Owner("department", "urban_management"),
                "previous": Owner("staff", "S1"),
                "reason": "属城管",
            },
        ),
    )
    timeline = case_timeline(steps, events)
    assert timeline["name"].tolist() == [
        "reported",
        "assigned",
        "transferred",
        "responded",
        "resolved",
    ]
    assert timeline.loc[2, "reason"] == "属城管" and timeline.loc[2, "from_id"] == "S1"
    assert timeline.loc[0, "reason"] is None


@pytest.mark.parametrize("bad", ["reopened", "assign"])
def test_unknown_event_refused(bad):
    with pytest.raises(ValueError):
        event_row("R1", 1, bad, NOW, "x", "system", NOW)
