"""Figures from blocks as of a day: the same numbers ``geo.care.rules`` computes from the tables.

``combine`` puts blocks side by side (one row per household). ``block_sums`` gives the
household counters of one as-of day summed per block, as ``geo.metrics.contract`` sums them
per household (so its contract JSON and grid table are assembled from them unchanged);
``household_status`` the per-household frame of ``geo.care.rules.household_status``. A
block whose masks do not reach back far enough for the day asked (``uncovered_blocks``) or
that is irregular is named, so the caller computes those grids from the tables: the result
is exact or it says which part it could not do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import pandas as pd

from geo.care.categories import split_codes
from geo.carestate import bits
from geo.carestate.block import Block
from geo.config import Config

_BIG = np.iinfo(np.int64).max
DAY_SECONDS = 86_400


@dataclass
class State:
    """Blocks side by side: per-household and per-report arrays, and which block each row is in.

    Each row keeps its block's anchor (``row_anchor``): a figure as of a day shifts the rows
    of each anchor by their own distance (re-anchoring every block on the latest one would
    drop the old days of the others). A block's anchor also decides whether
    its masks reach back far enough (``uncovered_blocks``).
    """

    blocks: list[Block]
    household_block: np.ndarray
    anchor: int
    row_anchor: np.ndarray
    arrays: dict[str, np.ndarray]
    category: np.ndarray  # per household: index into category_values
    category_values: list[str | None]
    household_starts: np.ndarray  # first household row of each block
    texts: dict[str, np.ndarray] = field(default_factory=dict)  # per row, made when first asked

    @property
    def grids(self) -> list[str]:
        """The grid key of each block."""
        return [b.grid for b in self.blocks]


def _global_labels(blocks: list[Block], attribute: str, column: str) -> tuple[np.ndarray, list]:
    """Per row an index into the distinct labels of all blocks."""
    values: dict[object, int] = {}
    parts = []
    for b in blocks:
        local = [values.setdefault(label, len(values)) for label in getattr(b, attribute)]
        parts.append(
            np.asarray(local, dtype=np.int64)[b.arrays[column]] if local else np.zeros(0, np.int64)
        )
    return (np.concatenate(parts) if parts else np.zeros(0, np.int64)), list(values)


def combine(blocks: list[Block]) -> State:
    """The blocks as one State (the order of ``blocks`` is kept)."""
    blocks = list(blocks)
    n = np.array([b.n for b in blocks], dtype=np.int64)
    anchor = max((b.anchor for b in blocks), default=0)
    arrays = _Columns(blocks)
    category, category_values = _global_labels(blocks, "category_labels", "category")
    return State(
        blocks=blocks,
        household_block=np.repeat(np.arange(len(blocks)), n),
        anchor=int(anchor),
        row_anchor=np.repeat(np.array([b.anchor for b in blocks], dtype=np.int64), n),
        arrays=arrays,
        category=category,
        category_values=category_values,
        household_starts=np.concatenate([[0], np.cumsum(n)[:-1]]).astype(np.int64) if len(n) else n,
    )


class _Columns(dict):
    """The blocks' arrays side by side, each concatenated when first asked for (the counts
    need four of the nine)."""

    def __init__(self, blocks: list[Block]) -> None:
        super().__init__()
        self._blocks = blocks

    def __missing__(self, name: str) -> np.ndarray:
        if name not in _ARRAY_NAMES:
            raise KeyError(name)
        parts = [b.arrays[name] for b in self._blocks]
        value = (
            np.concatenate(parts)
            if parts
            else np.zeros((0, 2) if name in ("visits", "verifications") else 0)
        )
        self[name] = value
        return value


_ARRAY_NAMES = (
    "fid",
    "building",
    "lon",
    "lat",
    "visits",
    "verifications",
    "last_verified",
    "last_visit",
)


def state_rows(state: State, blocks: list[int]) -> np.ndarray:
    """The household rows of the state's ``blocks`` (in block order)."""
    starts = state.household_starts
    parts = [np.arange(starts[i], starts[i] + state.blocks[i].n) for i in blocks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _longest_window(config: Config) -> int:
    rules = [config.category(code).rule for code in config.category_codes]
    return max([r.days for r in rules] + [config.freshness_days])


def uncovered_blocks(state: State, as_of: dt.date, config: Config) -> list[int]:
    """Blocks whose figures as of ``as_of`` cannot come from them: irregular, or their
    masks do not reach back over the longest window the figures need."""
    a = bits.day_number(as_of)
    longest = _longest_window(config)
    return [
        i
        for i, b in enumerate(state.blocks)
        if b.irregular or b.anchor - a > bits.HORIZON - longest
    ]


def _held(category: np.ndarray, values: list[str | None], codes: list[str]) -> np.ndarray:
    """Bool matrix rows x codes from stored category texts (as ``geo.metrics``)."""
    position = {code: i for i, code in enumerate(codes)}
    member = np.zeros((len(values) + 1, len(codes)), dtype=bool)
    for row, stored in enumerate(values):
        for code in split_codes(stored):
            if code in position:
                member[row, position[code]] = True
    return member[category]


@dataclass
class HouseholdFlags:
    """Per-household results as of one day (rows of ``State``)."""

    held: np.ndarray
    ok: np.ndarray
    required: np.ndarray
    compliant: np.ndarray
    fresh: np.ndarray
    verified_day: np.ndarray  # the last verification on or before the day; -1 none; -2 unknown
    masks: np.ndarray  # visit bits re-anchored on the day (bit k = the day minus k)


def _shift_rows(masks: np.ndarray, anchors: np.ndarray, day: int) -> np.ndarray:
    """Masks re-anchored on ``day`` from each row's own anchor (few distinct anchors: one
    whole-column shift per anchor)."""
    values = np.unique(anchors)
    if len(values) == 1:
        return bits.shift(masks, day - int(values[0]))
    out = bits.empty(len(masks))
    for value in values:
        chosen = anchors == value
        out[chosen] = bits.shift(masks[chosen], day - int(value))
    return out


def household_flags(
    state: State, as_of: dt.date, config: Config, rows: np.ndarray | None = None
) -> HouseholdFlags:
    """Categories held, rules met, compliance and freshness as of the end of ``as_of``."""
    a = bits.day_number(as_of)
    rows = np.arange(len(state.household_block)) if rows is None else rows
    codes = config.category_codes
    held = _held(state.category[rows], state.category_values, codes)
    masks = _shift_rows(state.arrays["visits"][rows], state.row_anchor[rows], a)
    ok = np.ones((len(rows), len(codes)), dtype=bool)
    counts: dict[int, np.ndarray] = {}
    for j, code in enumerate(codes):
        rule = config.category(code).rule
        if rule.days not in counts:
            counts[rule.days] = bits.count(masks & bits.window_words(0, rule.days))
        ok[:, j] = counts[rule.days] >= rule.min_days
    required = held.any(axis=1)
    compliant = (~held | ok).all(axis=1)
    # freshness: the stored last verification when it is not after the day, else the history
    stored = state.arrays["last_verified"][rows].astype(np.int64)
    history = _shift_rows(state.arrays["verifications"][rows], state.row_anchor[rows], a)
    latest = bits.lowest(history)
    verified = np.where(
        stored < 0, -1, np.where(stored <= a, stored, np.where(latest >= 0, a - latest, -2))
    )
    first_fresh = a - config.freshness_days + 1
    fresh = (verified >= first_fresh) & (verified <= a)
    return HouseholdFlags(held, ok, required, compliant, fresh, verified, masks)


def block_sums(state: State, as_of: dt.date, config: Config) -> pd.DataFrame:
    """Household counters as of ``as_of`` summed per block (index: the blocks' grid keys):
    total, required, compliant, fresh, held_<code>, ok_<code>, as ``geo.metrics.contract``
    counts them per household. Rows of uncovered blocks (``uncovered_blocks``) are not exact:
    the caller computes those grids from the tables."""
    codes = config.category_codes
    flags = household_flags(state, as_of, config)
    block = state.household_block
    columns = {
        "total": np.ones(len(block), dtype=bool),
        "required": flags.required,
        "compliant": flags.required & flags.compliant,
        "fresh": flags.fresh,
    }
    for j, code in enumerate(codes):
        columns[f"held_{code}"] = flags.held[:, j]
        columns[f"ok_{code}"] = flags.held[:, j] & flags.ok[:, j]
    keys = state.grids
    starts = state.household_starts
    sums = np.zeros((len(keys), len(columns)), dtype=np.int64)
    nonempty = np.flatnonzero(np.diff(np.append(starts, len(block))) > 0)
    if len(block) and len(nonempty):
        # one contiguous column at a time: reduceat along rows of a matrix is strided, 10x slower
        for j, values in enumerate(columns.values()):
            sums[nonempty, j] = np.add.reduceat(values.astype(np.int64), starts[nonempty])
    return pd.DataFrame(sums, index=pd.Index(keys, dtype=object), columns=list(columns))


def _history_texts(
    state: State,
    as_of: dt.date,
    config: Config,
    rows: np.ndarray,
    flags: HouseholdFlags,
    ids: np.ndarray,
    last_visits: pd.DataFrame | None,
    last_verifications: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``household_status``'s last visit, next due day and last verification texts of
    ``rows``, and the mask of those the blocks cannot tell (see ``household_status``)."""
    a = bits.day_number(as_of)
    codes = config.category_codes
    rules = [config.category(code).rule for code in codes]
    last_seconds = state.arrays["last_visit"][rows]
    last_day = np.where(last_seconds >= 0, last_seconds // DAY_SECONDS, -1)
    after = last_day > a  # the latest visit is after the day: the one before it is unknown
    last_text = np.full(len(rows), None, dtype=object)
    before = (last_seconds >= 0) & ~after
    last_text[before] = stamp_texts(last_seconds[before])
    unknown = after.copy()
    last_day[after] = -1  # not known from the blocks; given below, or none before the day
    if last_visits is not None:
        fill = np.flatnonzero(after)
        found = pd.Index(last_visits["household_id"].astype(str)).get_indexer(pd.Index(ids[fill]))
        has = found >= 0
        last_text[fill[has]] = last_visits["last_visited_at"].to_numpy(object)[found[has]]
        last_day[fill[has]] = bits.day_numbers(last_text[fill[has]])
        unknown[fill] = False  # a household the query does not name had no visit by then
    verified_day = flags.verified_day.copy()
    unknown_verified = verified_day == -2
    if last_verifications is not None:
        fill = np.flatnonzero(unknown_verified)
        found = pd.Index(last_verifications["household_id"].astype(str)).get_indexer(
            pd.Index(ids[fill])
        )
        verified_day[fill] = -1
        has = found >= 0
        verified_day[fill[has]] = bits.day_numbers(
            last_verifications["verified_on"].to_numpy(object)[found[has]]
        )
        unknown_verified[:] = False
    unknown |= unknown_verified

    window = max((r.days for r in rules), default=0)
    in_window = flags.masks & bits.window(0, window, len(rows))
    due = np.full((len(rows), len(codes)), _BIG, dtype=np.int64)
    for j, rule in enumerate(rules):
        nth = bits.nth_lowest(in_window, rule.min_days)
        column = np.where(nth >= 0, rule.days - nth, 0)
        if rule.min_days == 1:
            delta = np.where(last_day >= 0, last_day - a, _BIG)
            column = np.where((nth < 0) & (delta != _BIG), delta + rule.days, column)
        due[:, j] = column
    masked = np.where(flags.held, due, _BIG)
    earliest = masked.min(axis=1) if len(codes) else np.full(len(rows), _BIG)
    next_due = np.full(len(rows), None, dtype=object)
    has_due = flags.required
    if has_due.any():
        days = np.datetime64(as_of, "D") + earliest[has_due].astype("timedelta64[D]")
        next_due[has_due] = np.datetime_as_string(days, unit="D").astype(object)
    verified_text = np.full(len(rows), None, dtype=object)
    has_verified = verified_day >= 0
    verified_text[has_verified] = np.datetime_as_string(
        verified_day[has_verified].astype("datetime64[D]"), unit="D"
    ).astype(object)
    return last_text, next_due, verified_text, unknown


def household_status(
    state: State,
    as_of: dt.date,
    config: Config,
    rows: np.ndarray | None = None,
    last_visits: pd.DataFrame | None = None,
    last_verifications: pd.DataFrame | None = None,
    history: bool = True,
) -> tuple[pd.DataFrame, np.ndarray]:
    """``geo.metrics.household_status`` of ``rows`` (default all) without ``address``, and the
    positions (in ``rows``) of households whose last visit or last verification as of the
    day the blocks cannot tell: visited after the day (its last visit before it is not
    held), or verified after it with no verification in the masks before it. Pass
    ``store.last_visits(day, ids)`` / ``store.last_verifications(day, ids)`` of those as
    ``last_visits`` / ``last_verifications`` to complete them. ``history=False``: last_visit,
    next_due and last_verified are None (not computed) and no position is returned.
    """
    rows = np.arange(len(state.household_block)) if rows is None else np.asarray(rows)
    flags = household_flags(state, as_of, config, rows)
    codes = config.category_codes
    ids = _household_ids(state, rows)
    if history:
        last_text, next_due, verified_text, unknown = _history_texts(
            state, as_of, config, rows, flags, ids, last_visits, last_verifications
        )
    else:  # left unknown (None): not computed
        last_text = next_due = verified_text = np.full(len(rows), None, dtype=object)
        unknown = np.zeros(len(rows), dtype=bool)
    failed_bits = ((flags.held & ~flags.ok) * (1 << np.arange(len(codes), dtype=np.int64))).sum(
        axis=1
    )
    factor, uniques = pd.factorize(failed_bits)
    names = np.array(
        [";".join(c for i, c in enumerate(codes) if int(m) >> i & 1) or None for m in uniques],
        dtype=object,
    )
    grid = np.asarray(state.grids, dtype=object)[state.household_block[rows]]
    buildings = _household_buildings(state, rows)

    def text(values: np.ndarray) -> pd.Series:
        # object columns keep None for "none" (pandas' string dtype would turn it into NaN)
        return pd.Series(np.asarray(values, dtype=object), dtype=object)

    def inferred(values: np.ndarray) -> pd.Series:
        # the dtype a read of the stored column gives (pandas infers it from the values)
        return pd.Series(np.asarray(values, dtype=object).tolist())

    frame = pd.DataFrame(
        {
            "_fid": state.arrays["fid"][rows],
            "household_id": inferred(ids),
            "grid_id": text(np.where(grid == "", None, grid)),
            "categories": text(
                np.asarray(state.category_values + [None], dtype=object)[state.category[rows]]
            ),
            "building": inferred(buildings),
            "address": inferred(_household_addresses(state, rows)),
            "compliant": flags.compliant,
            "required": flags.required,
            "overdue": flags.required & ~flags.compliant,
            "last_visit": text(last_text),
            "next_due": text(next_due),
            "fresh": flags.fresh,
            "last_verified": text(verified_text),
            "failed": text(names[factor] if len(uniques) else np.zeros(0, dtype=object)),
            "lon": state.arrays["lon"][rows],
            "lat": state.arrays["lat"][rows],
        }
    )
    for column in (
        "grid_id",
        "categories",
        "last_visit",
        "next_due",
        "failed",
        "last_verified",
    ):
        # object columns keep None for "none" (pandas' string dtype would turn it into NaN)
        frame[column] = pd.Series(frame[column].to_numpy(object), dtype=object)
    return frame, np.flatnonzero(unknown)


def stamp_texts(seconds: np.ndarray) -> np.ndarray:
    """Stored 'YYYY-MM-DD HH:MM:SS' texts of epoch seconds (an object array), built from
    digit arithmetic (``np.datetime_as_string`` takes seconds per million)."""
    seconds = np.asarray(seconds, dtype=np.int64)
    days = (seconds // DAY_SECONDS).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    fields = [
        (days.astype("datetime64[Y]").astype(np.int64) + 1970, 4),
        (months.astype(np.int64) % 12 + 1, 2),
        ((days - months).astype(np.int64) + 1, 2),
        (seconds % DAY_SECONDS // 3600, 2),
        (seconds % 3600 // 60, 2),
        (seconds % 60, 2),
    ]
    chars = np.empty((len(seconds), 19), dtype=np.uint8)
    at = 0
    for (values, width), separator in zip(fields, "-- ::.", strict=True):
        for k in range(width):
            chars[:, at + k] = values // 10 ** (width - 1 - k) % 10 + 48
        at += width
        if at < 19:  # no separator after the seconds
            chars[:, at] = ord(separator)
            at += 1
    return chars.view("S19").ravel().astype("U19").astype(object)


def _all_texts(state: State, name: str) -> np.ndarray:
    """Per household row of the state: its id / address / building text (kept once made)."""
    found = state.texts.get(name)
    if found is None:
        if name == "building":
            parts = [
                np.asarray([*b.building_labels, None], dtype=object)[b.arrays["building"]]
                for b in state.blocks
            ]
            found = np.concatenate(parts) if parts else np.zeros(0, dtype=object)
        else:
            values = list(chain.from_iterable(getattr(b, name) for b in state.blocks))
            found = np.empty(len(values), dtype=object)
            found[:] = values
        state.texts[name] = found
    return found


def _household_ids(state: State, rows: np.ndarray) -> np.ndarray:
    return _all_texts(state, "ids")[rows]


def _household_buildings(state: State, rows: np.ndarray) -> np.ndarray:
    return _all_texts(state, "building")[rows]


def _household_addresses(state: State, rows: np.ndarray) -> np.ndarray:
    return _all_texts(state, "addresses")[rows]
