"""Demo households: in buildings strictly inside their grid, with care categories and a verification history."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.demo.layout import _bilinear, _Layout, _to_lonlat
from geo.demo.people import _digits_text, _id_numbers, _names, _phones
from geo.store.schema import WGS84

COMPOUNDS = (
    "锦绣",
    "电力",
    "铁路",
    "税务",
    "粮站",
    "园林",
    "毛纺",
    "制药",
    "和谐",
    "安居",
    "丽苑",
    "嘉园",
    "富丽",
    "兴隆",
    "润宇",
    "金地",
    "学府",
    "御景",
    "翠苑",
    "明珠",
    "紫薇",
    "兴泰",
    "康馨",
    "绿洲",
    "水岸",
    "春华",
    "秋实",
    "惠民",
    "百合",
    "红星",
)


CATEGORY_CODES = ("red", "yellow", "orange", "green", "pink", "blue", "purple")
_PRIMARY_P = (0.02, 0.06, 0.028, 0.018, 0.028, 0.01, 0.005)
# second category given the first (rows/cols in CATEGORY_CODES order); about 1 in 10
# households with a category holds two, never contradictory pairs (独居 + 空巢, elderly + 孕妇)
_SECOND_P = np.array(
    [
        [0, 0, 0.05, 0.04, 0.04, 0, 0.005],
        [0, 0, 0.04, 0.04, 0.03, 0, 0.005],
        [0.02, 0.02, 0, 0.03, 0.06, 0, 0.01],
        [0.02, 0.02, 0.04, 0, 0.05, 0, 0],
        [0.02, 0.02, 0.05, 0.04, 0, 0.01, 0.02],
        [0, 0, 0, 0, 0.06, 0, 0],
        [0, 0, 0.03, 0, 0.10, 0, 0],
    ]
)


def _verifications(seed: int, households: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The verification history behind ``last_verified``: households are re-verified about
    monthly, so one verified in the 30 days ending on the as-of day was also verified twice
    before, 26-30 days apart (fresh at every week-end of the 8-week trend); a stale household
    has only its last verification (it lapsed and stays stale), a never-verified one none."""
    # an rng of its own: the history must not shift the rest of the demo for a given seed
    rng = np.random.default_rng([seed, 0x7665])
    last = pd.to_datetime(households["last_verified"], format="%Y-%m-%d").to_numpy("datetime64[D]")
    n = len(last)
    present = ~np.isnat(last)
    first_fresh = np.datetime64(as_of, "D") - np.timedelta64(29, "D")
    fresh = present & (last >= first_fresh)
    gaps = rng.integers(26, 31, (n, 2)).cumsum(axis=1)  # days before the last verification
    days = np.empty((n, 3), dtype="datetime64[D]")
    days[:, 2] = last
    days[:, :2] = last[:, None] - gaps[:, ::-1].astype("timedelta64[D]")
    keep = np.stack([fresh, fresh, present], axis=1).ravel()  # household by household, oldest first
    return pd.DataFrame(
        {
            "household_id": np.repeat(households["household_id"].to_numpy(object), 3)[keep],
            "verified_on": np.datetime_as_string(days.ravel()[keep], unit="D").astype(object),
            "actor": "demo",
            "source": "demo",
        }
    )


def _categories(rng: np.random.Generator, n: int) -> np.ndarray:
    """A (n, 7) boolean matrix of care categories in CATEGORY_CODES order."""
    p = np.array([*_PRIMARY_P, 1 - sum(_PRIMARY_P)])
    primary = rng.choice(len(p), n, p=p)
    cats = np.zeros((n, len(CATEGORY_CODES)), dtype=bool)
    has = primary < len(CATEGORY_CODES)
    cats[np.flatnonzero(has), primary[has]] = True
    # second category: inverse-CDF per row of _SECOND_P
    cdf = np.cumsum(_SECOND_P, axis=1)
    r = rng.random(n)
    rows = np.flatnonzero(has)
    second = (r[rows, None] >= cdf[primary[rows]]).sum(axis=1)
    ok = second < len(CATEGORY_CODES)
    cats[rows[ok], second[ok]] = True
    return cats


def _join_categories(cats: np.ndarray) -> np.ndarray:
    out = np.full(len(cats), "", dtype=object)
    for i, code in enumerate(CATEGORY_CODES):
        col = cats[:, i]
        out[col] = np.where(out[col] == "", code, out[col] + ";" + code)
    return np.where(out == "", None, out)


def _households(
    rng: np.random.Generator, layout: _Layout, grids: gpd.GeoDataFrame, n: int, as_of: dt.date
) -> dict:
    g_count = len(grids)
    weights = rng.uniform(0.65, 1.35, g_count)
    per_grid = np.floor(n * weights / weights.sum()).astype(np.int64)
    per_grid += np.bincount(rng.choice(g_count, n - per_grid.sum()), minlength=g_count)
    grid_of = np.repeat(np.arange(g_count), per_grid)
    rank = np.arange(n) - np.repeat(np.cumsum(per_grid) - per_grid, per_grid)

    # buildings: a grid is one building type (units x floors x 2 flats); compounds span
    # 1-3 grids of a community, the 东河 compound all 8 of its grids, building numbers
    # running on across the compound's grids
    types = np.array([[3, 6], [4, 6], [2, 11], [2, 18]])  # old walk-ups .. high-rises
    g_type = rng.choice(len(types), g_count, p=[0.35, 0.25, 0.25, 0.15])
    units, floors = types[g_type, 0], types[g_type, 1]
    capacity = units * floors * 2
    g_buildings = -(-per_grid // capacity)
    compound = np.zeros(g_count, dtype=np.int64)
    next_id, prev_comm, left = -1, -1, 0
    for g in range(g_count):  # per grid, not per household
        c = layout.community[g]
        if c != prev_comm or left == 0:
            next_id += 1
            left = 8 if c == 0 else int(rng.integers(1, 4))
            prev_comm = c
        compound[g] = next_id
        left -= 1
    compound_names = np.array(
        [
            "东河小区" if i == 0 else COMPOUNDS[(i - 1) % len(COMPOUNDS)] + "小区"
            for i in range(next_id + 1)
        ],
        dtype=object,
    )
    first_building = np.zeros(g_count, dtype=np.int64)
    for g in range(1, g_count):
        first_building[g] = (
            first_building[g - 1] + g_buildings[g - 1] if compound[g] == compound[g - 1] else 0
        )
    b_local = rank // capacity[grid_of]
    in_building = rank % capacity[grid_of]
    unit = in_building // (floors[grid_of] * 2) + 1
    floor = (in_building // 2) % floors[grid_of] + 1
    room = floor * 100 + in_building % 2 + 1
    building_no = first_building[grid_of] + b_local + 1
    building = building_no.astype(str).astype(object) + "号楼"
    address = (
        compound_names[compound[grid_of]]
        + building
        + unit.astype(str).astype(object)
        + "单元"
        + room.astype(str).astype(object)
    )

    # building sites in a loose rows x columns arrangement inside the block
    nb = g_buildings[grid_of]
    cols = np.ceil(np.sqrt(nb * 1.3)).astype(np.int64)
    rows = -(-nb // cols)
    bu = 0.16 + 0.68 * ((b_local % cols) + 0.5) / cols
    bv = 0.16 + 0.68 * ((b_local // cols) + 0.5) / rows
    jitter = np.random.default_rng(rng.integers(2**32)).uniform(-0.04, 0.04, (g_count, 64, 2))
    bu = bu + jitter[grid_of, b_local % 64, 0]
    bv = bv + jitter[grid_of, b_local % 64, 1]
    # households of a building cluster within a few metres; never on the grid edge
    u = np.clip(bu + rng.normal(0, 0.012, n), 0.05, 0.95)
    v = np.clip(bv + rng.normal(0, 0.012, n), 0.05, 0.95)
    lonlat = _to_lonlat(_bilinear(layout.corners[grid_of], u, v))

    cats = _categories(rng, n)
    elderly_cat = cats[:, 0] | cats[:, 1]
    age = np.clip(rng.normal(50, 14, n), 22, 92)
    age = np.where(elderly_cat, rng.uniform(65, 93, n), age)
    age = np.where(cats[:, 5] & ~elderly_cat, rng.uniform(23, 40, n), age)
    age_days = np.floor(age).astype(np.int64) * 36525 // 100 + rng.integers(20, 340, n)
    births = np.datetime64(as_of, "D") - age_days.astype("timedelta64[D]")
    male = rng.random(n) < np.where(cats[:, 0], 0.3, 0.55)  # most elderly living alone are widows
    head = _names(rng, male, age >= 58)
    phone = _phones(rng, n).astype(object)
    phone[rng.random(n) < 0.01] = None
    members_p = np.array([0.12, 0.30, 0.28, 0.18, 0.08, 0.04])
    members = rng.choice(6, n, p=members_p) + 1
    members = np.where(cats[:, 1], rng.choice([1, 2], n, p=[0.35, 0.65]), members)
    members = np.where(cats[:, 0], 1, members)
    members = np.where(
        cats[:, 5] & ~elderly_cat, rng.choice([2, 3, 4], n, p=[0.5, 0.35, 0.15]), members
    )

    stale = rng.random(n)
    verified_ago = np.where(stale < 0.88, rng.integers(0, 30, n), rng.integers(31, 200, n))
    verified = (
        (np.datetime64(as_of, "D") - verified_ago.astype("timedelta64[D]"))
        .astype(str)
        .astype(object)
    )
    verified[stale > 0.985] = None  # never verified

    ids = _digits_text("H", np.arange(1, n + 1), 7)
    frame = gpd.GeoDataFrame(
        {
            "household_id": ids,
            "grid_id": grids["grid_id"].to_numpy(object)[grid_of],
            "categories": _join_categories(cats),
            "address": address,
            "building": building,
            "head_name": head,
            "phone": phone,
            "id_number": _id_numbers(rng, births, male),
            "members": members.astype(np.int64),
            "last_verified": verified,
        },
        geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]),
        crs=WGS84,
    )
    return {
        "frame": frame,
        "grid_of": grid_of,
        "cats": cats,
        "ids": ids,
        "uv": np.stack([u, v], axis=1),
        "building": building,
        "compound": compound_names[compound[grid_of]],
    }
