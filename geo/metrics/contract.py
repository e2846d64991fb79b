"""The metrics of the data contract (section 6) and the frames the pages build on.

Everything is computed "as the data stood at the end of the as-of day": a stored
timestamp or date whose text is >= the next day's ``YYYY-MM-DD`` has not happened yet.
Visit rules come from ``geo.config`` (``every_day`` / ``distinct_days``); a household
must meet the rule of every category it holds.

Freshness as of a past day reads the verification history (``Store.last_verifications``)
for households re-verified after it; see ``_verified_as_of``.

Report interpretation (documented here because the contract leaves it implicit):

- reports with a non-empty ``duplicate_of`` were linked to another report at intake and
  are left out of every report count;
- a report counts when ``reported_at`` is on or before the as-of day; responded /
  resolved / followed up when that timestamp is on or before the as-of day;
  ``followed_up`` only counts resolved reports;
- satisfaction is known by the as-of day for a resolved report when its value is
  satisfied/unsatisfied and either ``followed_up_at`` is empty (the recorded value is
  taken) or ``followed_up_at`` is on or before the as-of day (a follow-up after the
  as-of day has not yet produced its satisfaction);
- overdue: not resolved by the end of the as-of day and strictly more than
  ``resolution_limit_hours`` between ``reported_at`` and the end of the as-of day.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo.care.categories import split_codes
from geo.config import Config, load_config
from geo.i18n import t
from geo.store.base import Store
from geo.timeutil import day_text, end_of_day, format_timestamp

REPORT_STATES = ("open", "overdue", "resolved", "followed_up")
HOUSEHOLD_STATUS_COLUMNS = [
    "household_id",
    "grid_id",
    "categories",
    "building",
    "address",
    "compliant",
    "required",
    "overdue",
    "last_visit",
    "next_due",
    "fresh",
    "last_verified",
    "failed",
    "lon",
    "lat",
]
_REPORT_COLUMNS = [
    "report_id",
    "grid_id",
    "reported_at",
    "responded_at",
    "resolved_at",
    "followed_up_at",
    "satisfaction",
    "duplicate_of",
]
_REPORT_COUNTERS = [
    "total",
    "responded",
    "resolved",
    "followed_up",
    "satisfied",
    "unsatisfied",
    "overdue",
    "open",
]


# --- small vectorised helpers ---------------------------------------------------------


def _text(series: pd.Series) -> pd.Series:
    """Stored text with missing values as '' (so comparisons never meet None)."""
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def _happened(series: pd.Series, cutoff: str) -> np.ndarray:
    """True where the stored timestamp/date is present and before ``cutoff`` (text order)."""
    text = _text(series)
    return ((text != "") & (text < cutoff)).to_numpy(bool)


def _present(series: pd.Series) -> np.ndarray:
    return (_text(series) != "").to_numpy(bool)


def _next_day(as_of: dt.date) -> str:
    return day_text(as_of + dt.timedelta(days=1))


def _rate(numerator: float, denominator: float) -> float | None:
    """A fraction rounded to 4 decimals, None when the denominator is 0."""
    return None if not denominator else round(float(numerator) / float(denominator), 4)


def _nan_rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    den = denominator.astype(float)
    return (numerator.astype(float) / den.where(den > 0)).round(4)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """An attribute frame without the geometry column, index 0..n-1."""
    if "geometry" in frame.columns:
        frame = pd.DataFrame(frame.drop(columns="geometry"))
    return frame.reset_index(drop=True)


# --- households -----------------------------------------------------------------------


def _category_matrix(categories: pd.Series, codes: list[str]) -> np.ndarray:
    """Bool matrix households x codes: which categories each household holds."""
    # few distinct stored combinations: parse each once, then index by factor codes
    factor, uniques = pd.factorize(
        categories.astype(object).where(categories.notna(), ""), sort=False
    )
    position = {code: i for i, code in enumerate(codes)}
    member = np.zeros((len(uniques), len(codes)), dtype=bool)
    for row, stored in enumerate(uniques):
        for code in split_codes(stored):
            if code in position:
                member[row, position[code]] = True
    if len(uniques) == 0:
        return np.zeros((len(categories), len(codes)), dtype=bool)
    return member[factor]


def _household_frame(
    store: Store,
    as_of: dt.date,
    config: Config,
    where: dict | None = None,
    extra: Sequence[str] = (),
    last_visits: pd.DataFrame | None = None,
    with_geometry: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Households with required/compliant/fresh flags; also held and ok matrices (n x categories).

    Given ``last_visits`` (``Store.last_visits``) the frame gains ``next_due`` (text) and ``failed`` (codes of unmet rules).
    """
    columns = ["household_id", "grid_id", "categories", "last_verified", *extra]
    read = store.read if with_geometry else store.read_attributes
    raw = read("households", columns, where)
    households = _plain(raw)
    if with_geometry:
        if len(raw) and "geometry" in raw.columns:
            households["lon"] = raw.geometry.x.to_numpy()
            households["lat"] = raw.geometry.y.to_numpy()
        else:
            households["lon"] = pd.Series(dtype=float)
            households["lat"] = pd.Series(dtype=float)
    n = len(households)
    codes = config.category_codes
    held = _category_matrix(households["categories"], codes)
    ok = np.ones((n, len(codes)), dtype=bool)
    due = np.full((n, len(codes)), np.iinfo(np.int64).max, dtype=np.int64)  # days after as_of

    rules = [config.category(code).rule for code in codes]
    window = max((r.days for r in rules), default=0)
    if n and window:
        index, offsets = _visit_offsets(
            store, as_of, window, households["household_id"], only=where is not None
        )
        counts: dict[int, np.ndarray] = {}
        for j, rule in enumerate(rules):
            if rule.days not in counts:
                # (household, day) pairs are distinct, so a count of pairs is a count of days
                counts[rule.days] = np.bincount(index[offsets < rule.days], minlength=n)
            ok[:, j] = counts[rule.days] >= rule.min_days
        if last_visits is not None:
            due = _due_days(last_visits, as_of, households, rules, index, offsets)

    met = ~held | ok
    households["required"] = held.any(axis=1)
    households["compliant"] = met.all(axis=1)
    households["overdue"] = households["required"] & ~households["compliant"]
    first_fresh = day_text(as_of - dt.timedelta(days=config.freshness_days - 1))
    verified = _verified_as_of(store, as_of, households, only=where is not None)
    households["fresh"] = (
        (verified >= first_fresh) & (verified < _next_day(as_of)) & (verified != "")
    ).to_numpy(bool)
    # the last verification as the data stood then (not one made after the as-of day)
    households["last_verified"] = np.where(verified != "", verified.to_numpy(object), None)
    grid = _text(households["grid_id"])
    households["_grid"] = grid.to_numpy(object)

    if last_visits is not None:
        masked = np.where(held, due, np.iinfo(np.int64).max)
        earliest = masked.min(axis=1) if len(codes) else np.full(n, np.iinfo(np.int64).max)
        has_due = households["required"].to_numpy(bool)
        due_days = np.datetime64(as_of, "D") + np.where(has_due, earliest, 0).astype(
            "timedelta64[D]"
        )
        households["next_due"] = np.where(
            has_due, np.datetime_as_string(due_days, unit="D").astype(object), None
        )
        bits = (
            ((held & ~ok) * (1 << np.arange(len(codes), dtype=np.int64))).sum(axis=1)
            if len(codes)
            else np.zeros(n)
        )
        mask_factor, mask_uniques = pd.factorize(bits)
        names = np.array(
            [
                ";".join(c for i, c in enumerate(codes) if int(m) >> i & 1) or None
                for m in mask_uniques
            ],
            dtype=object,
        )
        households["failed"] = (
            names[mask_factor] if len(mask_uniques) else np.zeros(0, dtype=object)
        )
    return households, held, ok


def _verified_as_of(
    store: Store, as_of: dt.date, households: pd.DataFrame, only: bool = False
) -> pd.Series:
    """Each household's last verification as the data stood at the end of ``as_of`` ('' = none).

    The stored ``last_verified`` is the latest verification: when it is on or before the
    as-of day it is the answer (so a store filled from a households file gives exactly
    the contract's figures). When it is later, the household was re-verified since, and
    the verification history gives the latest one on or before the as-of day. A missing
    ``last_verified`` stays missing (not fresh), as the contract says.
    """
    verified = _text(households["last_verified"])
    later = (verified >= _next_day(as_of)).to_numpy(bool)  # '' sorts first: never later
    if not later.any():  # as of today: no store query at all
        return verified
    wanted_ids = households["household_id"][later].astype(object).tolist() if only else None
    history = store.last_verifications(day_text(as_of), household_ids=wanted_ids)
    wanted = pd.DataFrame({"household_id": households["household_id"][later].to_numpy()})
    if history["household_id"].dtype != wanted["household_id"].dtype:
        history = history.astype({"household_id": wanted["household_id"].dtype})
    # a left merge keeps the households' order; ~3x faster than Series.map at 1M
    earlier = wanted.merge(history, how="left", on="household_id")["verified_on"]
    verified = verified.copy()
    verified[later] = earlier.astype(object).where(earlier.notna(), "").to_numpy(object)
    return verified


MASK_DAYS = 62  # longest window read as per-household bit masks (int64)


def _visit_offsets(
    store: Store, as_of: dt.date, window: int, household_ids: pd.Series, only: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (household position, days before as_of) pairs of visits in the ``window``
    days ending on as_of; visits of unknown households are dropped. ``only``: read just
    these households' visits (worth it for a few; for all, one scan is faster)."""
    positions = pd.Index(household_ids.astype(object))
    if window <= MASK_DAYS:
        # one row per household from the store instead of one per visit day
        masks = store.visit_day_masks(
            day_text(as_of), window, household_ids=positions.tolist() if only else None
        )
        index = positions.get_indexer(masks["household_id"].astype(object))
        known = index >= 0
        bits, index = masks["mask"].to_numpy(np.int64)[known], index[known]
        chosen = [(bits >> k) & 1 == 1 for k in range(window)]
        offsets = np.concatenate(
            [np.full(int(c.sum()), k, dtype=np.int64) for k, c in enumerate(chosen)]
        )
        return np.concatenate([index[c] for c in chosen]).astype(np.int64), offsets
    pairs = store.visit_days(day_text(as_of - dt.timedelta(days=window - 1)), day_text(as_of))
    index = positions.get_indexer(pairs["household_id"].astype(object))
    day_factor, day_uniques = pd.factorize(pairs["day"].astype(object))
    offsets_of = np.array(
        [(as_of - dt.date.fromisoformat(str(d))).days for d in day_uniques], dtype=np.int64
    )
    offsets = offsets_of[day_factor] if len(day_uniques) else np.zeros(0, dtype=np.int64)
    known = index >= 0
    return index[known].astype(np.int64), offsets[known]


def _due_days(
    last_visits: pd.DataFrame,
    as_of: dt.date,
    households: pd.DataFrame,
    rules: list,
    index: np.ndarray,
    offsets: np.ndarray,
) -> np.ndarray:
    """Per household and rule: the last day (as days after as_of) a visit keeps the rule met.

    With the m-th most recent visit day d_m of a rule "m days among D", the rule holds
    through d_m + D - 1 and a visit on d_m + D keeps it; d_m + D <= as_of when it is
    already broken. Unknown d_m (too little history): the last visit + D for m = 1, else
    the as-of day itself ("due now").
    """
    n = len(households)
    big = np.iinfo(np.int64).max
    due = np.full((n, len(rules)), big, dtype=np.int64)
    order = np.lexsort((offsets, index))
    index_sorted, offsets_sorted = index[order], offsets[order]
    starts = (
        np.r_[0, np.flatnonzero(np.diff(index_sorted)) + 1]
        if len(index_sorted)
        else np.zeros(0, np.int64)
    )
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(index_sorted)]))
    rank = np.arange(len(index_sorted)) - group_start  # 0 = most recent day of the household
    last_day_delta: np.ndarray | None = None
    for j, rule in enumerate(rules):
        nth = np.full(n, -1, dtype=np.int64)
        pick = rank == rule.min_days - 1
        nth[index_sorted[pick]] = offsets_sorted[pick]
        column = np.where(nth >= 0, rule.days - nth, 0)
        if rule.min_days == 1:
            if last_day_delta is None:
                last_day_delta = _last_visit_delta(last_visits, as_of, households)
            column = np.where(
                (nth < 0) & (last_day_delta != big), last_day_delta + rule.days, column
            )
        due[:, j] = column
    return due


def _last_visit_delta(last: pd.DataFrame, as_of: dt.date, households: pd.DataFrame) -> np.ndarray:
    """Days from as_of to each household's last visit day (negative), int64 max when never."""
    big = np.iinfo(np.int64).max
    delta = np.full(len(households), big, dtype=np.int64)
    if len(last):
        index = pd.Index(households["household_id"].astype(object)).get_indexer(
            last["household_id"].astype(object)
        )
        days = pd.to_datetime(
            _text(last["last_visited_at"]).str[:10], format="%Y-%m-%d", errors="coerce"
        )
        known = (index >= 0) & days.notna().to_numpy()
        values = (days.to_numpy("datetime64[D]") - np.datetime64(as_of, "D")).astype(np.int64)
        delta[index[known]] = values[known]
    return delta


def household_status(store: Store, as_of: dt.date, where: dict | None = None) -> pd.DataFrame:
    """One row per household: visit compliance, next due day and freshness as of ``as_of``.

    Columns: household_id, grid_id, categories (stored), building, address, compliant (True
    for ordinary households), required, overdue (required and not compliant), last_visit
    (text or None: the last visit by the end of the as-of day), next_due ('YYYY-MM-DD' or
    None for ordinary households: the last day on which a visit keeps every rule met; <=
    as_of when not compliant), fresh, last_verified (the latest verification on or before
    the as-of day, or None), failed (';'-joined codes of unmet rules or None), lon, lat
    (WGS-84). No personal fields.
    """
    config = load_config()
    # a few grids: only their households' visits are read (not all 10M at 1M households)
    ids = (
        None
        if where is None
        else store.read_attributes("households", ["household_id"], where)["household_id"]
        .astype(object)
        .tolist()
    )
    last = store.last_visits(day_text(as_of), household_ids=ids)
    households, _, _ = _household_frame(
        store,
        as_of,
        config,
        where,
        extra=("building", "address"),
        last_visits=last,
        with_geometry=True,
    )
    lookup = pd.Series(
        last["last_visited_at"].astype(object).to_numpy(), index=last["household_id"].astype(object)
    )
    last_visit = households["household_id"].astype(object).map(lookup)
    households["last_visit"] = last_visit.astype(object).where(last_visit.notna(), None)
    status = households[HOUSEHOLD_STATUS_COLUMNS].reset_index(drop=True)
    for column in ("grid_id", "categories", "last_visit", "next_due", "failed", "last_verified"):
        # object columns keep None for "none" (pandas' string dtype would turn it into NaN)
        status[column] = pd.Series(status[column].to_numpy(object), dtype=object).where(
            status[column].notna(), None
        )
    return status


# --- reports --------------------------------------------------------------------------


def _report_flags(
    reports: pd.DataFrame, as_of: dt.date, now: dt.datetime | None = None
) -> dict[str, np.ndarray]:
    """Per report bool arrays (reported, responded, resolved, followed_up, overdue, satisfied,
    unsatisfied, counted) and hours_left, as of the end of ``as_of`` (or ``now`` if given)."""
    config = load_config()
    reference = now if now is not None else end_of_day(as_of)
    cutoff = _next_day(as_of) if now is None else format_timestamp(reference)

    def column(name: str) -> pd.Series:
        return (
            reports[name]
            if name in reports.columns
            else pd.Series([None] * len(reports), index=reports.index)
        )

    reported = _happened(column("reported_at"), cutoff)
    responded = reported & _happened(column("responded_at"), cutoff)
    resolved = reported & _happened(column("resolved_at"), cutoff)
    followed_at = column("followed_up_at")
    followed_up = resolved & _happened(followed_at, cutoff)
    reported_time = pd.to_datetime(_text(column("reported_at")), format="ISO8601", errors="coerce")
    elapsed = (pd.Timestamp(reference) - reported_time).dt.total_seconds().to_numpy(float) / 3600.0
    hours_left = config.resolution_limit_hours - elapsed
    overdue = reported & ~resolved & (elapsed > config.resolution_limit_hours)
    # stored as a code; zh labels (满意/不满意) are accepted too
    codes = {v.lower(): k for k, v in config.satisfaction.items()} | {
        k: k for k in config.satisfaction
    }
    satisfaction = _text(column("satisfaction")).str.lower().map(codes).to_numpy(object)
    known = resolved & (~_present(followed_at) | followed_up)
    counted = reported & ~_present(column("duplicate_of"))
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


def _report_frame(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Counted reports (reported by as_of, not duplicates) with one bool column per counter."""
    reports = _plain(store.read_attributes("reports", _REPORT_COLUMNS))
    flags = _report_flags(reports, as_of)
    counted = flags["counted"]
    frame = pd.DataFrame(
        {name: flags[name][counted] for name in _REPORT_COUNTERS if name != "total"}
    )
    frame.insert(0, "total", True)
    frame["_grid"] = _text(reports["grid_id"]).to_numpy(object)[counted]
    return frame


# --- sections of the contract JSON ----------------------------------------------------


def _household_counts(
    households: pd.DataFrame,
    held: np.ndarray,
    ok: np.ndarray,
    codes: list[str],
    grids: set | None,
) -> pd.DataFrame:
    """Per household 0/1 counters ready to be summed (overall or per grid); ``unassigned``
    needs the grid ids (None: left for _Counts, which reads them)."""
    counters = pd.DataFrame(
        {
            "total": np.ones(len(households), dtype=np.int64),
            "unassigned": (
                np.zeros(len(households), np.int64)
                if grids is None
                else (~households["_grid"].isin(grids)).to_numpy(np.int64)
            ),
            "required": households["required"].to_numpy(np.int64),
            "compliant": (households["required"] & households["compliant"]).to_numpy(np.int64),
            "fresh": households["fresh"].to_numpy(np.int64),
        }
    )
    for j, code in enumerate(codes):
        counters[f"held_{code}"] = held[:, j].astype(np.int64)
        counters[f"ok_{code}"] = (held[:, j] & ok[:, j]).astype(np.int64)
    counters["_grid"] = households["_grid"].to_numpy(object)
    return counters


def _household_sections(
    counts: pd.Series | dict, codes: list[str], unassigned: bool = True
) -> dict[str, Any]:
    total = int(counts["total"])
    return {
        "households": {
            "total": total,
            "unassigned": int(counts["unassigned"]) if unassigned else 0,
            "by_category": {code: int(counts[f"held_{code}"]) for code in codes},
        },
        "visits": {
            "by_category": {
                code: {
                    "required": int(counts[f"held_{code}"]),
                    "compliant": int(counts[f"ok_{code}"]),
                    "rate": _rate(counts[f"ok_{code}"], counts[f"held_{code}"]),
                }
                for code in codes
            },
            "overall": {
                "required": int(counts["required"]),
                "compliant": int(counts["compliant"]),
                "rate": _rate(counts["compliant"], counts["required"]),
            },
        },
        "freshness": {
            "verified_within_30_days": int(counts["fresh"]),
            "rate": _rate(counts["fresh"], total),
        },
    }


def _report_section(counts: pd.Series | dict) -> dict[str, Any]:
    total = int(counts["total"])
    resolved = int(counts["resolved"])
    return {
        "total": total,
        "responded": int(counts["responded"]),
        "resolved": resolved,
        "followed_up": int(counts["followed_up"]),
        "response_rate": _rate(counts["responded"], total),
        "completion_rate": _rate(resolved, total),
        "satisfaction_rate": _rate(
            counts["satisfied"], counts["satisfied"] + counts["unsatisfied"]
        ),
        "followup_rate": _rate(counts["followed_up"], resolved),
        "overdue": int(counts["overdue"]),
    }


def _grid_frames(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    grids = _plain(
        store.read_attributes("grids", ["grid_id", "name", "community", "street", "party_branch"])
    )
    grids["grid_id"] = _text(grids["grid_id"]).to_numpy(object)
    grids = grids.sort_values("grid_id", kind="stable").reset_index(drop=True)
    staff = _plain(store.read_attributes("staff", ["staff_id", "role", "grid_id"]))
    staff["grid_id"] = _text(staff["grid_id"]).to_numpy(object)
    staff["role"] = _text(staff["role"]).to_numpy(object)
    return grids, staff


def household_counters_of(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Per household 0/1 counters (visits required and compliant, fresh, categories held)
    and its grid (column ``_grid``) as of ``as_of``: the household half of ``grid_table``,
    which a caller may keep while only reports change (``grid_table(..., households=)``)."""
    config = load_config()
    households, held, ok = _household_frame(store, as_of, config)
    return _household_counts(households, held, ok, config.category_codes, None)


def household_counters_from_status(status: pd.DataFrame) -> pd.DataFrame:
    """``household_counters_of`` derived from ``household_status`` rows of the same day (a
    category is met unless its code is among ``failed``): a caller holding the statuses
    need not compute the households a second time."""
    codes = load_config().category_codes
    held = _category_matrix(status["categories"], codes)
    failed = _category_matrix(status["failed"], codes)
    frame = pd.DataFrame(
        {
            "_grid": _text(status["grid_id"]).to_numpy(object),
            "required": held.any(axis=1),
            "compliant": status["compliant"].fillna(False).astype(bool).to_numpy(),
            "fresh": status["fresh"].fillna(False).astype(bool).to_numpy(),
        }
    )
    return _household_counts(frame, held, held & ~failed, codes, None)


class _Counts:
    """The summed counters of one as-of day: overall and per grid."""

    def __init__(
        self, store: Store, as_of: dt.date, household_counters: pd.DataFrame | None = None
    ) -> None:
        config = load_config()
        self.codes = config.category_codes
        self.grids, self.staff = _grid_frames(store)
        grid_ids = set(self.grids["grid_id"])
        if household_counters is None:
            household_counters = household_counters_of(store, as_of)
        household_counts = household_counters.assign(
            unassigned=(~household_counters["_grid"].isin(grid_ids)).to_numpy(np.int64)
        )
        report_counts = _report_frame(store, as_of)
        self.household_total = household_counts.drop(columns="_grid").sum()
        self.report_total = report_counts.drop(columns="_grid").astype(np.int64).sum()
        index = pd.Index(self.grids["grid_id"], name="grid_id")
        self.household_by_grid = (
            household_counts.groupby("_grid").sum().reindex(index, fill_value=0).astype(np.int64)
        )
        self.report_by_grid = (
            report_counts.astype({c: np.int64 for c in _REPORT_COUNTERS})
            .groupby("_grid")
            .sum()
            .reindex(index, fill_value=0)
            .astype(np.int64)
        )


def compute_metrics(store: Store, as_of: dt.date, by: str | None = None) -> dict[str, Any]:
    """The contract's metrics JSON (section 6) as of the end of ``as_of``; ``by="grid"`` per grid."""
    if by not in (None, "grid"):
        raise ValueError(f"by must be None or 'grid', not {by!r}")
    counts = _Counts(store, as_of)
    if by == "grid":
        rows = []
        for grid_id in counts.grids["grid_id"]:
            sections = _household_sections(
                counts.household_by_grid.loc[grid_id], counts.codes, unassigned=False
            )
            rows.append(
                {
                    "grid_id": grid_id,
                    **sections,
                    "reports": _report_section(counts.report_by_grid.loc[grid_id]),
                }
            )
        return {"as_of": day_text(as_of), "grids": rows}
    grids, staff = counts.grids, counts.staff
    n_grids = len(grids)
    worker_grids = set(staff.loc[staff["role"] == "grid_worker", "grid_id"])
    return {
        "as_of": day_text(as_of),
        **_household_sections(counts.household_total, counts.codes),
        "grids": {
            "total": n_grids,
            "with_party_branch": int((_text(grids["party_branch"]) != "").sum()),
            "with_grid_worker": int(grids["grid_id"].isin(worker_grids).sum()),
            "mean_staff_per_grid": round(len(staff) / n_grids, 2) if n_grids else 0.0,
        },
        "reports": _report_section(counts.report_total),
    }


# --- tables per grid and per community ------------------------------------------------


def _add_rates(table: pd.DataFrame) -> pd.DataFrame:
    table["visit_rate"] = _nan_rate(table["visit_compliant"], table["visit_required"])
    table["freshness_rate"] = _nan_rate(table["fresh"], table["households"])
    table["response_rate"] = _nan_rate(table["reports_responded"], table["reports_total"])
    table["completion_rate"] = _nan_rate(table["reports_resolved"], table["reports_total"])
    table["satisfaction_rate"] = _nan_rate(
        table["reports_satisfied"], table["reports_satisfied"] + table["reports_unsatisfied"]
    )
    table["followup_rate"] = _nan_rate(table["reports_followed_up"], table["reports_resolved"])
    workers = table["grid_workers"].astype(float)
    table["households_per_worker"] = (table["households"] / workers.where(workers > 0)).round(1)
    return table


def _staff_by_role(staff: pd.DataFrame, key: str) -> dict[str, dict[str, int]]:
    if staff.empty:
        return {}
    counts = staff.groupby([key, "role"]).size()
    out: dict[str, dict[str, int]] = {}
    for (group, role), n in counts.items():
        out.setdefault(group, {})[role] = int(n)
    return out


def grid_table(
    store: Store, as_of: dt.date, household_counters: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per grid (sorted by grid_id): attributes, household, visit, freshness, report
    and staff counts and rates as of ``as_of`` (NaN where a denominator is 0).

    reports_open counts reports not resolved by the as-of day (overdue ones included);
    reports_satisfied/unsatisfied are the satisfaction counts behind satisfaction_rate.
    Beyond the core columns: visit_compliant_<code> and visit_rate_<code> per category,
    reports_responded/resolved/followed_up; rates are rounded to 4 decimals like
    ``compute_metrics``; households_per_worker to 1 decimal. ``household_counters``: the
    store's ``household_counters_of`` as of ``as_of``, when the caller still holds them.
    """
    counts = _Counts(store, as_of, household_counters)
    return _grid_table_from(counts)


def _grid_table_from(counts: _Counts) -> pd.DataFrame:
    grids, staff = counts.grids, counts.staff
    h = counts.household_by_grid
    r = counts.report_by_grid
    table = grids[["grid_id", "name", "community", "street", "party_branch"]].copy()
    table["has_party_branch"] = (_text(table["party_branch"]) != "").to_numpy(bool)
    ids = table["grid_id"]
    table["households"] = h["total"].reindex(ids).to_numpy(np.int64)
    for code in counts.codes:
        table[f"n_{code}"] = h[f"held_{code}"].reindex(ids).to_numpy(np.int64)
    table["visit_required"] = h["required"].reindex(ids).to_numpy(np.int64)
    table["visit_compliant"] = h["compliant"].reindex(ids).to_numpy(np.int64)
    for code in counts.codes:
        table[f"visit_compliant_{code}"] = h[f"ok_{code}"].reindex(ids).to_numpy(np.int64)
    table["fresh"] = h["fresh"].reindex(ids).to_numpy(np.int64)
    for name in (
        "total",
        "open",
        "overdue",
        "responded",
        "resolved",
        "followed_up",
        "satisfied",
        "unsatisfied",
    ):
        table[f"reports_{name}"] = r[name].reindex(ids).to_numpy(np.int64)
    workers = staff[staff["role"] == "grid_worker"].groupby("grid_id").size()
    table["grid_workers"] = workers.reindex(ids, fill_value=0).to_numpy(np.int64)
    table["staff_total"] = (
        staff.groupby("grid_id").size().reindex(ids, fill_value=0).to_numpy(np.int64)
    )
    by_role = _staff_by_role(staff, "grid_id")
    table["staff_by_role"] = [by_role.get(g, {}) for g in ids]
    table = _add_rates(table)
    for code in counts.codes:
        table[f"visit_rate_{code}"] = _nan_rate(
            table[f"visit_compliant_{code}"], table[f"n_{code}"]
        )
    return table.reset_index(drop=True)


def community_table(store: Store, as_of: dt.date) -> pd.DataFrame:
    """``grid_table`` summed by community (rates recomputed from the counts), sorted by
    community; grids without a community are grouped under ''. Adds grids and
    grids_without_worker / grids_without_party_branch counts."""
    grids = grid_table(store, as_of)
    return _community_table_from(grids)


def _community_table_from(grids: pd.DataFrame) -> pd.DataFrame:
    grids = grids.copy()
    grids["community"] = _text(grids["community"]).to_numpy(object)
    grids["grids"] = 1
    grids["grids_without_worker"] = (grids["grid_workers"] == 0).astype(np.int64)
    grids["grids_without_party_branch"] = (~grids["has_party_branch"]).astype(np.int64)
    grids["has_party_branch"] = grids["has_party_branch"].astype(np.int64)
    summed = [
        c
        for c in grids.columns
        if c
        in (
            "grids",
            "grids_without_worker",
            "grids_without_party_branch",
            "has_party_branch",
            "households",
            "visit_required",
            "visit_compliant",
            "fresh",
            "grid_workers",
            "staff_total",
        )
        or c.startswith(("n_", "visit_compliant_", "reports_"))
    ]
    table = grids.groupby("community", sort=True)[summed].sum().reset_index()
    table = table.rename(columns={"has_party_branch": "grids_with_party_branch"})
    street = grids.groupby("community", sort=True)["street"].first()
    table.insert(1, "street", street.reindex(table["community"]).to_numpy(object))
    roles: dict[str, dict[str, int]] = {}
    for community, by_role in zip(grids["community"], grids["staff_by_role"], strict=True):
        merged = roles.setdefault(community, {})
        for role, n in by_role.items():
            merged[role] = merged.get(role, 0) + n
    table["staff_by_role"] = [roles.get(c, {}) for c in table["community"]]
    table = _add_rates(table)
    for column in [c for c in table.columns if c.startswith("n_")]:
        code = column[2:]
        table[f"visit_rate_{code}"] = _nan_rate(table[f"visit_compliant_{code}"], table[column])
    return table


# --- terminal output ------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: object, width: int, right: bool = False) -> str:
    text = str(text)
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(_cell(c, widths[i], right=i > 0) for i, c in enumerate(row)).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def format_metrics(result: dict[str, Any], lang: str = "zh-CN") -> str:
    """A readable terminal table of a ``compute_metrics`` result (overall or by grid)."""
    config = load_config()
    lines = [t("metrics_title", lang, as_of=result["as_of"])]
    if "grids" in result and isinstance(result["grids"], list):
        header = [
            t(k, lang)
            for k in (
                "metrics_grid",
                "metrics_households",
                "metrics_visit_rate",
                "metrics_fresh_rate",
                "metrics_reports_total",
                "metrics_overdue",
                "metrics_completion_rate",
                "metrics_satisfaction_rate",
            )
        ]
        rows = [
            [
                g["grid_id"],
                g["households"]["total"],
                _pct(g["visits"]["overall"]["rate"]),
                _pct(g["freshness"]["rate"]),
                g["reports"]["total"],
                g["reports"]["overdue"],
                _pct(g["reports"]["completion_rate"]),
                _pct(g["reports"]["satisfaction_rate"]),
            ]
            for g in result["grids"]
        ]
        lines += _table(header, rows) if rows else [t("metrics_no_grids", lang)]
        return "\n".join(lines)

    households = result["households"]
    lines.append(
        t(
            "metrics_households_line",
            lang,
            total=households["total"],
            unassigned=households["unassigned"],
        )
    )
    lines.append("")
    header = [
        t(k, lang)
        for k in (
            "metrics_category",
            "metrics_households",
            "metrics_required",
            "metrics_compliant",
            "metrics_visit_rate",
        )
    ]
    rows = []
    for code, visits in result["visits"]["by_category"].items():
        label = config.category(code).label(lang) if code in config.category_codes else code
        rows.append(
            [
                label,
                households["by_category"].get(code, 0),
                visits["required"],
                visits["compliant"],
                _pct(visits["rate"]),
            ]
        )
    overall = result["visits"]["overall"]
    rows.append(
        [
            t("metrics_overall", lang),
            households["total"],
            overall["required"],
            overall["compliant"],
            _pct(overall["rate"]),
        ]
    )
    lines += _table(header, rows)
    lines.append("")
    fresh = result["freshness"]
    lines.append(
        t(
            "metrics_freshness_line",
            lang,
            days=config.freshness_days,
            fresh=fresh["verified_within_30_days"],
            rate=_pct(fresh["rate"]),
        )
    )
    grids = result["grids"]
    lines.append(
        t(
            "metrics_grids_line",
            lang,
            total=grids["total"],
            party=grids["with_party_branch"],
            workers=grids["with_grid_worker"],
            staff=f"{grids['mean_staff_per_grid']:.2f}",
        )
    )
    lines.append("")
    reports = result["reports"]
    header = [
        t(k, lang)
        for k in (
            "metrics_reports_total",
            "metrics_responded",
            "metrics_resolved",
            "metrics_followed_up",
            "metrics_overdue",
        )
    ]
    lines += _table(
        header,
        [
            [
                reports["total"],
                reports["responded"],
                reports["resolved"],
                reports["followed_up"],
                reports["overdue"],
            ]
        ],
    )
    lines.append("")
    header = [
        t(k, lang)
        for k in (
            "metrics_response_rate",
            "metrics_completion_rate",
            "metrics_satisfaction_rate",
            "metrics_followup_rate",
        )
    ]
    lines += _table(
        header,
        [
            [
                _pct(reports["response_rate"]),
                _pct(reports["completion_rate"]),
                _pct(reports["satisfaction_rate"]),
                _pct(reports["followup_rate"]),
            ]
        ],
    )
    return "\n".join(lines)
