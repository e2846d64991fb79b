"""The rainbow map's rules per household (contract sections 3 and 6): categories, visit rules, due days, freshness.

``household_status`` folds the visits once into one row per household as of a day. Visit
rules come from ``geo.config`` (``every_day`` / ``distinct_days``); a household must meet the
rule of every category it holds. Freshness as of a past day reads the verification history
(``Store.last_verifications``) for households re-verified after it; see ``_verified_as_of``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.asof import attributes_only, next_day_text, stored_text
from geo.care.categories import split_codes
from geo.carestate.figures import State, state_rows, uncovered_blocks
from geo.carestate.figures import household_status as state_household_status
from geo.carestate.load import load_state
from geo.config import Config, load_config
from geo.store.base import Store
from geo.timeutil import day_text

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
    households = attributes_only(raw)
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
        (verified >= first_fresh) & (verified < next_day_text(as_of)) & (verified != "")
    ).to_numpy(bool)
    # the last verification as the data stood then (not one made after the as-of day)
    households["last_verified"] = np.where(verified != "", verified.to_numpy(object), None)
    grid = stored_text(households["grid_id"])
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
    verified = stored_text(households["last_verified"])
    later = (verified >= next_day_text(as_of)).to_numpy(bool)  # '' sorts first: never later
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
IDS_QUERY_MAX = 20_000  # more households than this: their last visits from one scan of all


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
            stored_text(last["last_visited_at"]).str[:10], format="%Y-%m-%d", errors="coerce"
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
    keys = _state_keys(where)
    if keys is not None:
        state = load_state(store)
        if state is not None:
            return _status_from_state(store, as_of, state, keys, where)
    return _status_from_tables(store, as_of, where)


# what a household's last visit or verification before a past day decides (the rest of
# household_status comes from the rules met, which the care state holds for any covered day)
_HISTORY_COLUMNS = ("last_visit", "next_due", "fresh", "last_verified")


def household_rules_met(store: Store, as_of: dt.date, where: dict | None = None) -> pd.DataFrame:
    """``household_status`` without ``last_visit``, ``next_due``, ``fresh`` and
    ``last_verified``: where each household is and the rules it meets (compliant, required,
    overdue, failed), what building coverage counts. For a past day the care state answers
    it without reading the visits since (``household_status`` must, 10 s at 1M)."""
    keys = _state_keys(where)
    state = load_state(store) if keys is not None else None
    if state is None:
        frame = _status_from_tables(store, as_of, where)
    else:
        frame = _status_from_state(store, as_of, state, keys, where, history=False)
    return frame.drop(columns=list(_HISTORY_COLUMNS))


def _state_keys(where: dict | None) -> set[str] | bool | None:
    """The care-state grid keys a ``where`` asks for (True: all), or None when the state
    cannot answer it (a household filter, or the stored empty grid id ``""``)."""
    if where is None:
        return True
    if set(where) != {"grid_id"}:
        return None
    value = where["grid_id"]
    if value is None:
        return {""}  # NULL only: the "" block serves it while regular (no stored '')
    if isinstance(value, str):
        return None if value == "" else {value}
    values = [v for v in value if v is not None]
    if "" in values:
        return None
    return {str(v) for v in values}


def _status_from_state(
    store: Store,
    as_of: dt.date,
    state: State,
    keys: set[str] | bool,
    where: dict | None,
    history: bool = True,
) -> pd.DataFrame:
    """``household_status`` from the maintained care state; grids it cannot answer for that
    day (``uncovered_blocks``) from the tables. Rows in store order (fid), those from the
    tables after them. ``history=False``: ``_HISTORY_COLUMNS`` of households visited or
    verified after the day are left unknown (the visits since are not read)."""
    config = load_config()
    chosen = [i for i, block in enumerate(state.blocks) if keys is True or block.grid in keys]
    uncovered = set(uncovered_blocks(state, as_of, config))
    covered = [i for i in chosen if i not in uncovered]
    rows = state_rows(state, covered)
    frame, unknown = state_household_status(state, as_of, config, rows, history=history)
    if len(unknown) and history:
        # visited or re-verified after the day: their last visit / verification by then
        ids = frame["household_id"].iloc[unknown].astype(str).tolist()
        day = day_text(as_of)
        # many (a past day over a whole city): one scan of the tables beats a list of ids
        only = ids if len(ids) <= IDS_QUERY_MAX else None
        patched, _ = state_household_status(
            state,
            as_of,
            config,
            rows[unknown],
            last_visits=store.last_visits(day, household_ids=only),
            last_verifications=store.last_verifications(day, household_ids=only),
        )
        at = frame.index[unknown]
        for column in frame.columns:
            frame.loc[at, column] = patched[column].to_numpy()
    frame = frame.sort_values("_fid", kind="stable").drop(columns="_fid")
    parts = [frame[HOUSEHOLD_STATUS_COLUMNS].reset_index(drop=True)]
    for key in sorted(state.blocks[i].grid for i in chosen if i in uncovered):
        if key != "":
            parts.append(_status_from_tables(store, as_of, {"grid_id": [key]}))
            continue
        parts.append(_status_from_tables(store, as_of, {"grid_id": None}))
        if where is None:  # all households: those stored with an empty grid id too
            parts.append(_status_from_tables(store, as_of, {"grid_id": [""]}))
    parts = [p for p in parts if len(p)] or parts[:1]  # an empty part would change dtypes
    if len(parts) == 1:
        return parts[0]
    return pd.concat(parts, ignore_index=True)


def _status_from_tables(store: Store, as_of: dt.date, where: dict | None) -> pd.DataFrame:
    """``household_status`` computed from the tables (visits folded as of the day)."""
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
