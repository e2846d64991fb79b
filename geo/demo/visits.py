"""Demo visits: about 8 weeks ending on the as-of day, generated as arrays and handed over in chunks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.demo.people import _digits_text

HISTORY_DAYS = 56  # 8 weeks of visits and reports ending on the as-of day


_VISIT_CHUNK = 200_000


VISIT_KINDS = ("入户", "电话", "视频")
VISIT_NOTES = (
    "",
    "",
    "",
    "身体状况良好",
    "已提醒冬季用电用气安全",
    "协助代购药品",
    "了解近期生活情况",
    "反映楼道灯不亮，已登记",
    "宣传防诈骗知识",
    "测量血压正常",
    "已核实家庭人员信息",
    "子女近期来探望",
)
# visit hours 08-18 (working hours), weights per hour
_HOUR_P = np.array([0.07, 0.15, 0.16, 0.11, 0.02, 0.04, 0.10, 0.14, 0.12, 0.07, 0.02])


def _visit_days(
    rng: np.random.Generator, homes: dict, quality: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(household index, day index 0..55 with 55 = the as-of day) of every visit day."""
    cats, grid_of = homes["cats"], homes["grid_of"]
    q = quality[grid_of]
    red = cats[:, 0]
    yellow = cats[:, 1] & ~red
    monthly = cats[:, 2:].any(axis=1) & ~red & ~yellow
    ordinary = ~cats.any(axis=1)
    out_h, out_d = [], []

    # red: daily; most households never missed, some miss a day now and then
    idx = np.flatnonzero(red)
    reliable = rng.random(len(idx)) < 0.7
    p_day = np.where(reliable, 0.998, rng.uniform(0.85, 0.96, len(idx))) * q[idx]
    hit = rng.random((len(idx), HISTORY_DAYS)) < p_day[:, None]
    h, d = np.nonzero(hit)
    out_h.append(idx[h])
    out_d.append(d)

    # yellow: about three distinct days per week (weeks counted back from the as-of day)
    idx = np.flatnonzero(yellow)
    weeks = HISTORY_DAYS // 7
    k = rng.choice([2, 3, 4], (len(idx), weeks), p=[0.12, 0.68, 0.20])
    k = np.where(rng.random((len(idx), weeks)) > q[idx, None], np.maximum(k - 1, 1), k)
    order = np.argsort(rng.random((len(idx), weeks, 7)), axis=2)
    chosen = order < k[:, :, None]
    h, w, dd = np.nonzero(chosen)
    out_h.append(idx[h])
    out_d.append(HISTORY_DAYS - 7 * (w + 1) + dd)

    # monthly categories: usually one to three visits in each 4-week block
    idx = np.flatnonzero(monthly)
    blocks = HISTORY_DAYS // 28
    k = rng.choice([0, 1, 2, 3], (len(idx), blocks), p=[0.05, 0.45, 0.37, 0.13])
    k = np.where(rng.random((len(idx), blocks)) > q[idx, None], 0, k)
    order = np.argsort(rng.random((len(idx), blocks, 28)), axis=2)
    h, b, dd = np.nonzero(order < k[:, :, None])
    out_h.append(idx[h])
    out_d.append(HISTORY_DAYS - 28 * (b + 1) + dd)

    # ordinary households: occasional visits, mostly on weekdays; over-dispersed counts
    idx = np.flatnonzero(ordinary)
    mean = 9.5 * q[idx]
    counts = rng.poisson(rng.gamma(2.0, mean / 2.0))
    hh = np.repeat(idx, counts)
    out_h.append(hh)
    out_d.append(rng.integers(0, HISTORY_DAYS, len(hh)))

    hh = np.concatenate(out_h).astype(np.int64)
    days = np.concatenate(out_d).astype(np.int64)
    key = np.unique(hh * HISTORY_DAYS + days)  # one visit per household and day
    return key // HISTORY_DAYS, key % HISTORY_DAYS


def _stamp_texts(days: np.ndarray, seconds: np.ndarray, first_day: dt.date) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS`` texts from day offsets and seconds of day, as a unicode array."""
    base = np.datetime64(first_day, "D") + days.astype("timedelta64[D]")
    year = base.astype("datetime64[Y]").astype(np.int64) + 1970
    month = base.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (base - base.astype("datetime64[M]")).astype(np.int64) + 1
    hour, minute, sec = seconds // 3600, seconds // 60 % 60, seconds % 60
    parts = [(year, 4), (month, 2), (day, 2), (hour, 2), (minute, 2), (sec, 2)]
    seps = [b"-", b"-", b" ", b":", b":", b""]
    cols = []
    for (values, width), sep in zip(parts, seps, strict=True):
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        cols.append(((values[:, None] // powers) % 10 + 48).astype(np.uint8))
        if sep:
            cols.append(np.full((len(days), 1), sep[0], dtype=np.uint8))
    raw = np.ascontiguousarray(np.concatenate(cols, axis=1))
    return raw.view("S19").ravel().astype("U19")


def _work_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = 8 + rng.choice(len(_HOUR_P), n, p=_HOUR_P / _HOUR_P.sum())
    return hours * 3600 + rng.integers(0, 3600, n)


def _visits(
    rng: np.random.Generator, homes: dict, staff: dict, grids: gpd.GeoDataFrame, as_of: dt.date
) -> tuple[int, Iterator[pd.DataFrame]]:
    """The number of visits and the visits as chunks (strings built chunk by chunk to bound memory)."""
    g_count = len(grids)
    quality = np.ones(g_count)
    # a couple of grids noticeably worse; grids without a worker lean on the grid leader
    bad = rng.choice(g_count, max(1, min(g_count // 25, 2 + g_count // 40)), replace=False)
    quality[bad] = rng.uniform(0.6, 0.75, len(bad))
    quality[staff["without_worker"]] = np.minimum(quality[staff["without_worker"]], 0.88)
    hh, days = _visit_days(rng, homes, quality)
    n = len(hh)
    seconds = _work_seconds(rng, n)
    red = homes["cats"][hh, 0]
    # daily contact with the elderly living alone is often a phone call
    kind = np.where(red, rng.choice(3, n, p=[0.5, 0.4, 0.1]), rng.choice(3, n, p=[0.7, 0.22, 0.08]))
    staff_idx = staff["visitors"][homes["grid_of"][hh], rng.integers(0, 2, n)]
    note = rng.integers(0, len(VISIT_NOTES), n)
    order = np.argsort(days * 86400 + seconds, kind="stable")
    first_day = as_of - dt.timedelta(days=HISTORY_DAYS - 1)
    kinds = np.array(VISIT_KINDS, dtype=object)
    notes = np.array([x or None for x in VISIT_NOTES], dtype=object)

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, n, _VISIT_CHUNK):
            sel = order[start : start + _VISIT_CHUNK]
            yield pd.DataFrame(
                {
                    "visit_id": _digits_text("V", np.arange(start + 1, start + len(sel) + 1), 8),
                    "household_id": homes["ids"][hh[sel]],
                    "visited_at": _stamp_texts(days[sel], seconds[sel], first_day),
                    "staff_id": staff["ids"][staff_idx[sel]],
                    "kind": kinds[kind[sel]],
                    "note": notes[note[sel]],
                }
            )

    return n, chunks()
