import datetime as dt

import pytest

from geo.timeutil import end_of_day, format_timestamp, parse_day, parse_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", dt.datetime(2026, 11, 20)),
        ("2026/11/20", dt.datetime(2026, 11, 20)),
        ("2026/7/12", dt.datetime(2026, 7, 12)),
        ("2026-11-20 08:15", dt.datetime(2026, 11, 20, 8, 15)),
        ("2026/11/20 8:15:00", dt.datetime(2026, 11, 20, 8, 15)),
        ("2026-11-20T08:15:30", dt.datetime(2026, 11, 20, 8, 15, 30)),
        ("2026-11-20T00:15:00Z", dt.datetime(2026, 11, 20, 8, 15)),  # UTC -> Asia/Shanghai
        ("2026-11-20T08:15:00+08:00", dt.datetime(2026, 11, 20, 8, 15)),
        ("2026年11月20日", dt.datetime(2026, 11, 20)),
        (" 2026-11-20 ", dt.datetime(2026, 11, 20)),
        (46000, dt.datetime(2025, 12, 9)),  # an Excel serial day number
        (dt.date(2026, 1, 2), dt.datetime(2026, 1, 2)),
        ("", None),
        (None, None),
    ],
)
def test_parse_timestamp_accepts_what_clerks_type(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-02-30", "20/11/2026", "yesterday", "2026-13-01", "2026-11-20 25:00"]
)
def test_parse_timestamp_refuses_non_dates(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_end_of_day_is_the_midnight_that_closes_it():
    assert end_of_day(dt.date(2026, 11, 27)) == dt.datetime(2026, 11, 28, 0, 0, 0)


def test_stored_form_sorts_as_time():
    early = format_timestamp(dt.datetime(2026, 11, 27, 9, 5))
    late = format_timestamp(dt.datetime(2026, 11, 27, 23, 59, 59))
    assert early == "2026-11-27 09:05:00"
    assert early < late < "2026-11-28"


def test_parse_day():
    assert parse_day("2026/11/7") == dt.date(2026, 11, 7)
    with pytest.raises(ValueError):
        parse_day("soon")
