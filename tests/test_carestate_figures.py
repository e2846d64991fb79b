"""geo.carestate gives exactly the from-scratch figures (geo.care.rules, geo.metrics), on
hand-made edge cases and random data: blocks built from the rows, without the store's
maintained state (that is tests/test_carestate_maintained.py)."""

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

import geo.care.rules as rules
import geo.metrics.contract as contract
from geo.carestate import bits
from geo.carestate.block import decode, encode
from geo.carestate.build import (
    build_blocks,
    horizon_anchor,
    summarize_verifications,
    summarize_visits,
)
from geo.carestate.figures import block_sums, combine, household_status, uncovered_blocks
from geo.config import load_config
from geo.store import open_store

WGS84 = "EPSG:4326"
TODAY = dt.date(2026, 11, 27)
CODES = ["red", "yellow", "orange", "green", "pink", "blue", "purple"]


def stamp(day: dt.date, time: str = "10:00:00") -> str:
    return f"{day:%Y-%m-%d} {time}"


def random_store(tmp_path, seed: int):
    """A GeoPackage store holding ``random_frames(seed)``."""
    store = open_store(str(tmp_path / f"r{seed}.gpkg"))
    write_frames(store, random_frames(seed))
    return store


def write_frames(store, frames: dict) -> None:
    with store.transaction() as tx:
        for name in ("grids", "households", "visits", "verifications", "reports", "staff"):
            tx.upsert(name, frames[name])


def random_frames(seed: int) -> dict:
    """Four grids (G4 absent from the grids table's reports), households with every kind of
    category, verification and visit history, reports of every state; edge cases by hand."""
    rng = np.random.default_rng(seed)
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "community": ["C1", "C1", "C2"],
            "party_branch": ["b", None, "b"],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs=WGS84,
    )
    n = 160
    ids = [f"H{i:04d}" for i in range(n)]
    grid_ids = rng.choice(
        np.array(["G1", "G2", "G3", None, "G9"], dtype=object), n, p=[0.3, 0.3, 0.3, 0.05, 0.05]
    )
    combos = [None, "red", "yellow", "red;yellow", "orange;pink", "green", "blue", "purple", "pink"]
    categories = [combos[i] for i in rng.integers(0, len(combos), n)]
    offsets = rng.integers(-5, 200, n)  # some verified after some as-of days (negative: future)
    last_verified = [
        None if rng.random() < 0.08 else f"{TODAY - dt.timedelta(days=int(o)):%Y-%m-%d}"
        for o in offsets
    ]
    households = gpd.GeoDataFrame(
        {
            "household_id": ids,
            "grid_id": grid_ids,
            "categories": categories,
            "building": [f"{b}号楼" if b else None for b in rng.integers(0, 4, n)],
            "address": [f"{i}号" if i % 7 else None for i in range(n)],
            "last_verified": last_verified,
        },
        geometry=[Point(x, y) for x, y in rng.random((n, 2)) * [3, 1]],
        crs=WGS84,
    )
    visits = []
    for hid in ids:
        k = int(rng.choice([0, 2, 10, 40]))
        for d in rng.integers(-3, 160, k):  # a few after TODAY, some older than the horizon
            when = TODAY - dt.timedelta(days=int(d))
            visits.append((hid, stamp(when, rng.choice(["00:00:00", "09:30:00", "23:59:59"]))))
    visits.append(("NOBODY", stamp(TODAY)))  # a visit of an unknown household: ignored
    visit_frame = pd.DataFrame(visits, columns=["household_id", "visited_at"]).drop_duplicates()
    visit_frame.insert(0, "visit_id", [f"V{i}" for i in range(len(visit_frame))])
    history = []
    for hid, lv in zip(ids, last_verified, strict=True):
        if lv is None:
            continue
        last = dt.date.fromisoformat(lv)
        for back in (0, 27, 55, 140):
            if rng.random() < 0.8:
                history.append((hid, f"{last - dt.timedelta(days=back):%Y-%m-%d}", "t", "import"))
    verifications = pd.DataFrame(
        history, columns=["household_id", "verified_on", "actor", "source"]
    )
    reports = []
    for r in range(90):
        reported = dt.datetime.combine(TODAY, dt.time(8)) - dt.timedelta(
            hours=int(rng.integers(-30, 1500))
        )
        row = {
            "report_id": f"R{r:03d}",
            "source": "hotline",
            "category": "x",
            "grid_id": rng.choice(np.array(["G1", "G2", "G3", "G4", None], dtype=object)),
            "reported_at": f"{reported:%Y-%m-%d %H:%M:%S}",
            "duplicate_of": "R000" if r % 17 == 5 else None,
        }
        step = reported
        for column in ("responded_at", "resolved_at", "followed_up_at"):
            step = step + dt.timedelta(hours=int(rng.integers(1, 200)))
            row[column] = f"{step:%Y-%m-%d %H:%M:%S}" if rng.random() < 0.75 else None
        row["satisfaction"] = rng.choice(
            np.array([None, "satisfied", "unsatisfied", "满意", "不满意"], dtype=object)
        )
        reports.append(row)
    # exactly 120 h before the end of TODAY: not overdue (strictly more is)
    edge = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=120)
    reports.append(
        {
            "report_id": "R_EDGE",
            "source": "hotline",
            "category": "x",
            "grid_id": "G1",
            "reported_at": f"{edge:%Y-%m-%d %H:%M:%S}",
            "duplicate_of": None,
            "responded_at": None,
            "resolved_at": None,
            "followed_up_at": None,
            "satisfaction": None,
        }
    )
    report_frame = gpd.GeoDataFrame(
        pd.DataFrame(reports), geometry=[Point(0.5, 0.5)] * len(reports), crs=WGS84
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3"],
            "name": ["a", "b", "c"],
            "role": ["grid_worker", "police", "grid_worker"],
            "grid_id": ["G1", "G1", "G3"],
        }
    )
    return {
        "grids": grids,
        "households": households,
        "visits": visit_frame,
        "verifications": verifications,
        "reports": report_frame,
        "staff": staff,
    }


def state_of(store, today: dt.date):
    """The blocks of ``store`` built as a store would build them (through their binary form)."""
    homes = store.read("households")
    frame = pd.DataFrame(homes.drop(columns="geometry"))
    frame["lon"], frame["lat"] = homes.geometry.x.to_numpy(), homes.geometry.y.to_numpy()
    frame["fid"] = np.arange(1, len(frame) + 1)  # read order is fid order
    visits = store.read("visits", ["household_id", "visited_at"])
    history = store.read("verifications", ["household_id", "verified_on"])
    anchor = horizon_anchor(
        bits.day_number(today),
        int(bits.day_numbers(visits["visited_at"].to_numpy(object)).max()),
        int(bits.day_numbers(history["verified_on"].to_numpy(object)).max()),
    )
    blocks = build_blocks(
        frame,
        summarize_visits(visits, anchor),
        summarize_verifications(history, anchor),
        anchor,
    )
    return combine([decode(encode(b)) for b in blocks.values()])


def scratch_sums(store, as_of) -> pd.DataFrame:
    """The metrics' household counters from the tables, summed per (stripped) grid."""
    counters = contract.household_counters_from_tables(store, as_of).drop(columns="unassigned")
    return counters.groupby("_grid").sum().astype(np.int64).sort_index()


def state_sums(state, as_of, config) -> pd.DataFrame:
    sums = block_sums(state, as_of, config)
    return sums.groupby([k.strip() for k in sums.index]).sum().sort_index()


AS_OF_DAYS = [0, 1, 3, 29, 30, 60, 90, -2]  # days before TODAY (negative: after it)


@pytest.mark.parametrize("seed", [1, 2])
def test_block_sums_give_the_metrics_household_counters(tmp_path, seed):
    store = random_store(tmp_path, seed)
    config = load_config()
    state = state_of(store, TODAY)
    for back in AS_OF_DAYS:
        as_of = TODAY - dt.timedelta(days=back)
        assert uncovered_blocks(state, as_of, config) == []
        ours = state_sums(state, as_of, config)
        expected = scratch_sums(store, as_of)
        pd.testing.assert_frame_equal(ours[expected.columns], expected, check_names=False)


@pytest.mark.parametrize("seed", [1, 3])
def test_household_status_equals_the_metrics_frame(tmp_path, seed):
    store = random_store(tmp_path, seed)
    config = load_config()
    state = state_of(store, TODAY)
    for back in AS_OF_DAYS:
        as_of = TODAY - dt.timedelta(days=back)
        frame, unknown = household_status(state, as_of, config)
        ids = frame["household_id"].iloc[unknown].tolist()
        if back > 0:
            assert ids  # visited or verified after a past day: the blocks say they cannot tell
        day = f"{as_of:%Y-%m-%d}"
        frame, unknown = household_status(
            state,
            as_of,
            config,
            last_visits=store.last_visits(day, household_ids=ids),
            last_verifications=store.last_verifications(day, household_ids=ids),
        )
        assert len(unknown) == 0
        expected = rules._status_from_tables(store, as_of, None)
        ours = frame.sort_values("_fid").reset_index(drop=True)
        pd.testing.assert_frame_equal(ours[expected.columns], expected)


def test_a_day_the_masks_do_not_reach_is_named_not_guessed(tmp_path, monkeypatch):
    store = random_store(tmp_path, 4)
    config = load_config()
    state = state_of(store, TODAY)
    anchor = dt.date(1970, 1, 1) + dt.timedelta(days=state.anchor)
    oldest = anchor - dt.timedelta(days=bits.HORIZON - 30)  # the 30-day windows still fit
    assert uncovered_blocks(state, oldest - dt.timedelta(days=1), config) == list(
        range(len(state.blocks))
    )
    assert uncovered_blocks(state, oldest, config) == []
    expected = scratch_sums(store, oldest)
    ours = state_sums(state, oldest, config)
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_names=False)


def test_a_grid_id_stored_with_spaces_counts_in_its_grid_and_shows_as_stored(tmp_path):
    store = random_store(tmp_path, 6)
    with store.transaction() as tx:
        tx.update("households", {"household_id": "H0002"}, {"grid_id": " G2 "})
    state = state_of(store, TODAY)
    assert " G2 " in state.grids and not any(b.irregular for b in state.blocks)
    config = load_config()
    expected = scratch_sums(store, TODAY)
    ours = state_sums(state, TODAY, config)
    pd.testing.assert_frame_equal(ours[expected.columns], expected, check_names=False)
    frame, _ = household_status(state, TODAY, config)
    assert frame.loc[frame["household_id"] == "H0002", "grid_id"].tolist() == [" G2 "]


def test_an_empty_grid_id_makes_its_block_irregular(tmp_path):
    store = random_store(tmp_path, 7)
    with store.transaction() as tx:
        tx.update("households", {"household_id": "H0002"}, {"grid_id": ""})
    state = state_of(store, TODAY)
    assert [b.grid for b in state.blocks if b.irregular] == [""]


def test_a_stamp_not_in_the_stored_format_makes_its_block_irregular(tmp_path):
    store = random_store(tmp_path, 5)
    with store.transaction() as tx:
        tx.upsert(
            "visits",
            pd.DataFrame(
                {"visit_id": ["odd"], "household_id": ["H0001"], "visited_at": ["2026/11/20 8:15"]}
            ),
        )
    state = state_of(store, TODAY)
    grid = store.read_attributes(
        "households", ["household_id", "grid_id"], where={"household_id": "H0001"}
    )["grid_id"].iloc[0]
    key = "" if grid is None else grid
    irregular = [b.grid for b in state.blocks if b.irregular]
    assert irregular == [key]
    assert uncovered_blocks(state, TODAY, load_config()) == [state.grids.index(key)]


@pytest.mark.parametrize("seed", [1, 8])
def test_the_sqlite_sources_build_the_same_blocks_as_the_rows(tmp_path, seed):
    import sqlite3

    import geo.store.gpkg as gpkg
    from geo.carestate.sources import latest_day, read_sources

    store = random_store(tmp_path, seed)
    with store.transaction() as tx:  # texts a clerk's file should never hold, but might
        tx.upsert(
            "visits",
            pd.DataFrame(
                {
                    "visit_id": ["odd1", "odd2"],
                    "household_id": ["H0003", "H0004"],
                    "visited_at": ["2026-02-30 10:00:00", "2026/11/20 8:15"],
                }
            ),
        )
    expected = state_of(store, TODAY)
    con = sqlite3.connect(store.path)
    gpkg.register_functions(con)
    anchor = max(bits.day_number(TODAY), latest_day(con))
    assert anchor == expected.anchor
    sources = read_sources(con, anchor)
    blocks = build_blocks(
        sources.households, sources.visit_summary, sources.verification_summary, anchor
    )
    assert [encode(b) for b in blocks.values()] == [encode(b) for b in expected.blocks]
    assert sum(b.irregular for b in blocks.values()) >= 1
    # some grids only: the same blocks as in the whole
    some = read_sources(con, anchor, keys=["G2", ""])
    partial = build_blocks(some.households, some.visit_summary, some.verification_summary, anchor)
    assert sorted(partial) == ["", "G2"]
    for key, block in partial.items():
        assert encode(block) == encode(blocks[key])
    con.close()
