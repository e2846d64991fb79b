"""Blocks from the rows of the base tables (whatever store they come from).

Visits and verifications arrive summarised per household (``summarize_visits``,
``summarize_verifications``; a store does the same in one SQL pass): the day bits of the
128 days ending on ``anchor``, the latest visit, and a count of stored texts that are not
in the stored format. ``anchor`` must be on or after every visit and verification day (``horizon_anchor``).
``build_blocks`` then makes one block per grid key (households' ``grid_id``; ``""`` for
none).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo.carestate import bits
from geo.carestate.block import Block

STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def grid_key(values: pd.Series) -> np.ndarray:
    """Stored grid ids as block keys: the stored text, ``""`` for none.

    A block holds the rows of one stored value, so a store finds them by its index; figures
    group blocks by the stripped key as ``geo.metrics`` does.
    """
    text = values.astype(object).where(values.notna(), "")
    return np.asarray([str(v) for v in text], dtype=object)


def horizon_anchor(today_day: int, *latest_days: int | None) -> int:
    """The anchor of a block built on ``today_day``: never before its latest visit or
    verification day (``latest_days``; None = none)."""
    return max([today_day, *(d for d in latest_days if d is not None)])


def _present(values: np.ndarray) -> np.ndarray:
    """Per value: a non-empty text (or any other non-missing value)."""
    series = pd.Series(values, dtype=object)
    return (series.notna() & (series != "")).to_numpy(bool)


def _exact(values: np.ndarray, pattern: re.Pattern) -> np.ndarray:
    """Per value: missing, or text in exactly the stored format."""
    series = pd.Series(values, dtype=object)
    present = series.notna() & (series != "")
    is_text = series.map(lambda v: isinstance(v, str)).astype(bool)
    matched = pd.Series(False, index=series.index)
    if is_text.any():
        matched[is_text] = (
            series[is_text].astype(str).str.fullmatch(pattern.pattern).fillna(False).to_numpy(bool)
        )
    return np.array((~present | matched).to_numpy(bool))  # writable: callers refine it


def _bit_words(n: int, rows: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    masks = bits.from_days(n, rows, offsets)
    return masks[:, 0].view(np.int64), masks[:, 1].view(np.int64)


def summarize_visits(visits: pd.DataFrame, anchor: int) -> pd.DataFrame:
    """Per household with visits: lo/hi (int64 words of the day bits ending on ``anchor``),
    last_visited_at (the greatest stored text) and odd (texts not in the stored format)."""
    ids, rows = np.unique(visits["household_id"].astype(str).to_numpy(), return_inverse=True)
    text = visits["visited_at"].astype(object).to_numpy(object)
    days = bits.day_numbers(text)
    offsets = anchor - days
    keep = (days >= 0) & (offsets >= 0) & (offsets < bits.HORIZON)
    lo, hi = _bit_words(len(ids), rows[keep], offsets[keep])
    present = _present(text)
    last = pd.Series(np.where(present, text, None), dtype=object).groupby(rows).max()
    # a text not in the stored format, or whose day is no real date
    bad = present & (~_exact(text, STAMP) | (days < 0))
    odd = np.bincount(rows, weights=bad, minlength=len(ids)).astype(np.int64)
    return pd.DataFrame(
        {
            "household_id": ids.astype(object),
            "lo": lo,
            "hi": hi,
            "last_visited_at": last.reindex(np.arange(len(ids))).to_numpy(object),
            "odd": odd,
        }
    )


def summarize_verifications(verifications: pd.DataFrame, anchor: int) -> pd.DataFrame:
    """Per household with verifications: lo/hi day bits ending on ``anchor`` and odd (dates not
    in the stored format, or after the anchor: a block cannot hold them)."""
    ids, rows = np.unique(verifications["household_id"].astype(str).to_numpy(), return_inverse=True)
    text = verifications["verified_on"].astype(object).to_numpy(object)
    days = bits.day_numbers(text)
    offsets = anchor - days
    keep = (days >= 0) & (offsets >= 0) & (offsets < bits.HORIZON)
    lo, hi = _bit_words(len(ids), rows[keep], offsets[keep])
    present = _present(text)
    bad = present & (~_exact(text, DAY) | (days < 0) | (offsets < 0))
    odd = np.bincount(rows, weights=bad, minlength=len(ids)).astype(np.int64)
    return pd.DataFrame({"household_id": ids.astype(object), "lo": lo, "hi": hi, "odd": odd})


def _seconds(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of stored 'YYYY-MM-DD HH:MM:SS' texts (-1 = none or not exact), and exactness."""
    exact = _exact(texts, STAMP)
    present = _present(texts) & exact
    out = np.full(len(texts), -1, dtype=np.int64)
    if present.any():
        try:
            out[present] = np.array(texts[present].astype(str), dtype="datetime64[s]").astype(
                np.int64
            )
        except ValueError:  # in the format but no real time ("2026-02-30 ..."): one by one
            for i in np.flatnonzero(present):
                try:
                    out[i] = np.datetime64(str(texts[i]), "s").astype(np.int64)
                except ValueError:
                    exact[i] = False
    return out, exact


def _labels(values: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Index per row into the list of distinct values (None for missing)."""
    clean = pd.Series(values, dtype=object)
    clean = clean.where(clean.notna(), None)
    codes, uniques = pd.factorize(clean, sort=False)
    labels: list[str | None] = [str(v) for v in uniques]
    if (codes < 0).any():  # factorize gives -1 for missing: a label of its own
        labels.append(None)
        codes = np.where(codes < 0, len(labels) - 1, codes)
    return codes.astype(np.int64), labels


def _by_household(summary: pd.DataFrame, position: pd.Index, n: int, columns: list[str]) -> dict:
    rows = position.get_indexer(summary["household_id"].astype(object))
    known = rows >= 0
    out = {}
    for column in columns:
        values = summary[column].to_numpy()
        if values.dtype == object:
            filled = np.full(n, None, dtype=object)
        else:
            filled = np.zeros(n, dtype=values.dtype)
        filled[rows[known]] = values[known]
        out[column] = filled
    return out


def build_blocks(
    households: pd.DataFrame,
    visit_summary: pd.DataFrame,
    verification_summary: pd.DataFrame,
    anchor: int,
) -> dict[str, Block]:
    """One block per grid key of ``households``.

    households: fid, household_id, grid_id, categories, building, address, last_verified,
    lon, lat. visit_summary / verification_summary: as ``summarize_visits`` /
    ``..._verifications`` (rows of unknown households are ignored).
    """
    homes = households.reset_index(drop=True)
    n = len(homes)
    position = pd.Index(homes["household_id"].astype(str))
    keys = grid_key(homes["grid_id"]) if n else np.zeros(0, dtype=object)

    visits = _by_household(visit_summary, position, n, ["lo", "hi", "last_visited_at", "odd"])
    if (bits.day_numbers(visits["last_visited_at"]) > anchor).any():
        raise ValueError("a visit after the anchor day: build with horizon_anchor()")
    visit_masks = np.stack([visits["lo"], visits["hi"]], axis=1).astype(np.int64).view(np.uint64)
    last_visit, last_exact = _seconds(visits["last_visited_at"])
    verified = _by_household(verification_summary, position, n, ["lo", "hi", "odd"])
    ver_masks = np.stack([verified["lo"], verified["hi"]], axis=1).astype(np.int64).view(np.uint64)

    stored_verified = homes["last_verified"].astype(object).to_numpy(object)
    verified_day = bits.day_numbers(stored_verified)
    verified_exact = _exact(stored_verified, DAY) & (
        ~_present(stored_verified) | (verified_day >= 0)
    )
    # an empty (not missing) grid id would read back as missing: such a block is read from the tables
    empty_grid = (homes["grid_id"].astype(object) == "").to_numpy(bool)
    odd_household = (
        (visits["odd"] > 0) | (verified["odd"] > 0) | ~last_exact | ~verified_exact | empty_grid
    )

    lon, lat = homes["lon"].to_numpy(float), homes["lat"].to_numpy(float)
    fid = homes["fid"].to_numpy(np.int64) if n else np.zeros(0, np.int64)
    category, category_labels = _labels(homes["categories"].to_numpy(object))
    building, building_labels = _labels(homes["building"].to_numpy(object))
    addresses = homes["address"].astype(object).to_numpy(object)

    blocks: dict[str, Block] = {}
    household_ids = homes["household_id"].astype(str).to_numpy(object)
    # rows of each key in one pass (a comparison per key would be grids x rows)
    every_key = sorted(set(keys))
    home_rows = _rows_by_key(keys, every_key)
    for key in every_key:
        rows = home_rows[key]
        sub_category, sub_category_labels = _relabel(category[rows], category_labels)
        sub_building, sub_building_labels = _relabel(building[rows], building_labels)
        blocks[key] = Block(
            grid=key,
            anchor=int(anchor),
            ids=household_ids[rows].tolist(),
            category_labels=sub_category_labels,
            building_labels=sub_building_labels,
            addresses=[None if _missing(a) else str(a) for a in addresses[rows]],
            arrays={
                "fid": fid[rows],
                "category": sub_category,
                "building": sub_building,
                "lon": lon[rows],
                "lat": lat[rows],
                "visits": visit_masks[rows],
                "verifications": ver_masks[rows],
                "last_verified": verified_day[rows].astype(np.int32),
                "last_visit": last_visit[rows],
            },
            irregular=bool(odd_household[rows].any()),
        )
    return blocks


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _rows_by_key(keys: np.ndarray, every_key: list[str]) -> dict[str, np.ndarray]:
    """Row positions of each key (in row order); an empty array for a key with no rows."""
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    found = {str(k): order[bounds[i] : bounds[i + 1]] for i, k in enumerate(uniques)}
    empty = np.zeros(0, dtype=np.int64)
    return {k: found.get(k, empty) for k in every_key}


def _relabel(index: np.ndarray, labels: list) -> tuple[np.ndarray, list]:
    """``index`` into ``labels`` re-numbered into the labels it uses, in order of first use
    (so a block is the same whether built alone or with every other)."""
    codes, used = pd.factorize(index, sort=False)
    return codes.astype(np.int64), [labels[i] for i in used]
