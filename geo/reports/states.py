"""Report states as of a day (contract section 6): responded, resolved, followed up, satisfaction known, overdue.

The interpretation where the contract leaves it implicit is documented in ``geo.metrics.contract``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geo.asof import happened_before, is_present, next_day_text, stored_text
from geo.config import load_config
from geo.timeutil import end_of_day, format_timestamp

REPORT_STATES = ("open", "overdue", "resolved", "followed_up")


def _report_flags(
    reports: pd.DataFrame, as_of: dt.date, now: dt.datetime | None = None
) -> dict[str, np.ndarray]:
    """Per report bool arrays (reported, responded, resolved, followed_up, overdue, satisfied,
    unsatisfied, counted) and hours_left, as of the end of ``as_of`` (or ``now`` if given)."""
    config = load_config()
    reference = now if now is not None else end_of_day(as_of)
    cutoff = next_day_text(as_of) if now is None else format_timestamp(reference)

    def column(name: str) -> pd.Series:
        return (
            reports[name]
            if name in reports.columns
            else pd.Series([None] * len(reports), index=reports.index)
        )

    reported = happened_before(column("reported_at"), cutoff)
    responded = reported & happened_before(column("responded_at"), cutoff)
    resolved = reported & happened_before(column("resolved_at"), cutoff)
    followed_at = column("followed_up_at")
    followed_up = resolved & happened_before(followed_at, cutoff)
    reported_time = pd.to_datetime(
        stored_text(column("reported_at")), format="ISO8601", errors="coerce"
    )
    elapsed = (pd.Timestamp(reference) - reported_time).dt.total_seconds().to_numpy(float) / 3600.0
    hours_left = config.resolution_limit_hours - elapsed
    overdue = reported & ~resolved & (elapsed > config.resolution_limit_hours)
    # stored as a code; zh labels (满意/不满意) are accepted too
    codes = {v.lower(): k for k, v in config.satisfaction.items()} | {
        k: k for k in config.satisfaction
    }
    satisfaction = stored_text(column("satisfaction")).str.lower().map(codes).to_numpy(object)
    known = resolved & (~is_present(followed_at) | followed_up)
    counted = reported & ~is_present(column("duplicate_of"))
    return {
        "reported": reported,
        "counted": counted,
        "responded": responded,
        "resolved": resolved,
        "followed_up": followed_up,
        "overdue": overdue,
        "open": reported & ~resolved,
        "satisfied": known & (satisfaction == "satisfied"),
        "unsatisfied": known & (satisfaction == "unsatisfied"),
        "hours_left": np.where(reported & ~resolved, hours_left, np.nan),
    }


def report_states(
    reports: pd.DataFrame, as_of: dt.date, now: dt.datetime | None = None
) -> pd.DataFrame:
    """``reports`` with ``state`` (open/overdue/resolved/followed_up) and ``hours_left`` added.

    Judged at ``now`` when given (a live countdown), else at the end of the as-of day.
    hours_left = hours until the resolution limit (negative when overdue, NaN once
    resolved). Reports not yet reported by then get state None. Duplicates are kept.
    """
    flags = _report_flags(reports, as_of, now)
    state = np.full(len(reports), None, dtype=object)
    state[flags["reported"]] = "open"
    state[flags["overdue"]] = "overdue"
    state[flags["resolved"]] = "resolved"
    state[flags["followed_up"]] = "followed_up"
    out = reports.copy()
    out["state"] = pd.Series(state, index=out.index, dtype=object)  # object keeps None (not NaN)
    out["hours_left"] = flags["hours_left"]
    return out
