"""Days and timestamps as clerks type them, in the deployment's time zone.

Stored form: naive local time as text, ``YYYY-MM-DD HH:MM:SS`` (dates ``YYYY-MM-DD``).
"The end of the as-of day" is the midnight that closes it: an event counts as having
happened by the as-of day when its stored text is < the next day's ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from geo.config import load_config

STORED_FORMAT = "%Y-%m-%d %H:%M:%S"
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_DATE_RE = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?秒?)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def today() -> dt.date:
    """Today's date in the deployment's time zone (not the machine's)."""
    return dt.datetime.now(load_config().tz).date()


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` (or ``YYYY/M/D``) day; raises ValueError with a readable reason."""
    parsed = parse_timestamp(text)
    if parsed is None:
        raise ValueError(f"not a date: {text!r} (expected YYYY-MM-DD)")
    return parsed.date()


def day_text(day: dt.date) -> str:
    """``YYYY-MM-DD``."""
    return day.strftime("%Y-%m-%d")


def end_of_day(day: dt.date) -> dt.datetime:
    """The naive local midnight that closes ``day``."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def parse_timestamp(value: object) -> dt.datetime | None:
    """A naive local datetime from what a clerk typed or Excel stored; None when empty.

    Accepts ``2026-11-20``, ``2026/11/20``, ``2026/7/12``, ``2026-11-20 08:15``,
    ``2026/11/20 8:15:00``, ISO 8601 with ``T`` (a zone is converted to local time),
    ``2026年11月20日``, Python/pandas datetimes and Excel serial day numbers.
    Raises ValueError when the value is present but not a date.
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return _to_local_naive(value)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        serial = float(value)
        if 1 <= serial < 2958466:  # Excel serial day number (1900 date system)
            return (_EXCEL_EPOCH + dt.timedelta(days=serial)).replace(microsecond=0)
        raise ValueError(f"not a date: {value!r}")
    text = str(value).strip()
    if not text:
        return None
    m = _DATE_RE.match(text)
    if not m:
        raise ValueError(
            f"not a date or time: {text!r} (expected e.g. 2026-11-20 or 2026/11/20 08:15)"
        )
    year, month, day, hour, minute, second, zone = m.groups()
    try:
        stamp = dt.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError as exc:
        raise ValueError(f"not a valid date: {text!r} ({exc})") from None
    if zone:
        offset = dt.UTC if zone == "Z" else _parse_offset(zone)
        stamp = _to_local_naive(stamp.replace(tzinfo=offset))
    return stamp


def _parse_offset(zone: str) -> dt.timezone:
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _to_local_naive(stamp: dt.datetime) -> dt.datetime:
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(load_config().tz).replace(tzinfo=None)
    return stamp.replace(microsecond=0)


def format_timestamp(stamp: dt.datetime | None) -> str | None:
    """The stored text form of a timestamp."""
    return None if stamp is None else stamp.strftime(STORED_FORMAT)


def now_local() -> dt.datetime:
    """The current naive local time in the deployment's zone."""
    return dt.datetime.now(load_config().tz).replace(tzinfo=None, microsecond=0)


def to_datetime_series(texts: pd.Series) -> pd.Series:
    """Stored timestamp/date texts as a datetime64 series (NaT where empty)."""
    return pd.to_datetime(texts, format="ISO8601", errors="coerce")
