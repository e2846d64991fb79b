"""The maintained care state (schema 9, geo.store.care) equals a recomputation from scratch
after every kind of write (import, visit, verification, report step, household moved or
deleted, bulk replace), on both stores, including as-of days at the horizon's edge and
visits dated in the future; an older store gets it in its first write's transaction."""

import datetime as dt
import sqlite3

import numpy as np
import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from test_carestate_figures import TODAY, random_frames, stamp, write_frames

import geo.care.rules as rules
import geo.carestate.load as state_load
import geo.metrics.contract as contract
import geo.metrics.tables as tables
import geo.store.care as care
from geo.care.coverage import log_visit
from geo.care.reverification import save_reverification
from geo.carestate import bits
from geo.inputs.importers.core import import_file
from geo.reports.workflow import record_step
from geo.store import open_store


@pytest.fixture(params=["gpkg", "postgis"])
def location(request, tmp_path):
    if request.param == "gpkg":
        return str(tmp_path / "m.gpkg")
    return request.getfixturevalue("pg_location")


def from_scratch(monkeypatch, fn, *args, **kwargs):
    """``fn`` with the care state switched off: the code that folds the tables."""
    with monkeypatch.context() as patch:
        patch.setattr(rules, "load_state", lambda store: None)
        patch.setattr(contract, "load_state", lambda store: None)
        return fn(*args, **kwargs)


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("household_id", kind="stable").reset_index(drop=True)


def as_of_days(state) -> list[dt.date]:
    """Ordinary days, and the horizon's edge: the oldest day every 30-day window still
    fits for the oldest block, and the day before it (some blocks uncovered)."""
    oldest_anchor = min(b.anchor for b in state.blocks)
    edge = dt.date(1970, 1, 1) + dt.timedelta(days=oldest_anchor - (bits.HORIZON - 30))
    days = [TODAY, TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=29)]
    return days + [TODAY + dt.timedelta(days=3), edge, edge - dt.timedelta(days=1)]


def assert_served_equals_scratch(store, monkeypatch) -> None:
    state = state_load.load_state(store)
    assert state is not None, "the store holds a care state matching its data"
    for day in as_of_days(state):
        assert contract.compute_metrics(store, day) == from_scratch(
            monkeypatch, contract.compute_metrics, store, day
        ), day
        pd.testing.assert_frame_equal(
            tables.grid_table(store, day),
            from_scratch(monkeypatch, tables.grid_table, store, day),
        )
        counters = contract.household_counters_of(store, day)  # the map's level of detail
        expected = contract.household_counters_from_tables(store, day)
        pd.testing.assert_frame_equal(
            counters.groupby("_grid").sum().sort_index(),
            expected.groupby("_grid").sum().sort_index(),
        )
        for where in (None, {"grid_id": ["G1", "G3", " G2 "]}, {"grid_id": None}):
            ours = rules.household_status(store, day, where=where)
            theirs = from_scratch(monkeypatch, rules.household_status, store, day, where=where)
            pd.testing.assert_frame_equal(by_id(ours), by_id(theirs))


def test_the_state_equals_a_recomputation_after_every_kind_of_write(
    location, monkeypatch, tmp_path
):
    store = open_store(location)
    write_frames(store, random_frames(3))
    assert_served_equals_scratch(store, monkeypatch)

    # a visit logged on the coverage page (and another of the same household, today)
    log_visit(store, "H0007", stamp(TODAY), "入户", None, None, "tester")
    assert_served_equals_scratch(store, monkeypatch)

    # a re-verification that also moves the household to another grid
    homes = store.read_attributes("households", ["household_id", "grid_id"])
    moved = homes.loc[homes["grid_id"] == "G1", "household_id"].iloc[0]
    save_reverification(store, moved, {"categories": "red;pink"}, "tester", day=TODAY)
    with store.transaction() as tx:
        tx.update("households", {"household_id": moved}, {"grid_id": "G3"})
    assert_served_equals_scratch(store, monkeypatch)

    # a visit dated in the future, a visit moved to another household, a household gone
    with store.transaction() as tx:
        tx.upsert(
            "visits",
            pd.DataFrame(
                {
                    "visit_id": ["FUT", "V3"],
                    "household_id": ["H0010", "H0011"],
                    "visited_at": [stamp(TODAY + dt.timedelta(days=200)), stamp(TODAY)],
                }
            ),
        )
        tx.delete("households", {"household_id": "H0012"})
        tx.delete("visits", {"household_id": "H0013"})
    assert_served_equals_scratch(store, monkeypatch)

    # a report step (reports are counted from their rows; the state must still match)
    record_step(store, "R_EDGE", "responded", "tester", at=dt.datetime.combine(TODAY, dt.time(9)))
    assert_served_equals_scratch(store, monkeypatch)

    # imports: visits (staged upsert), households (upsert moving one, then --replace)
    visits_csv = tmp_path / "visits.csv"
    visits_csv.write_text(
        "household_id,visited_at\nH0020,2026-11-26 10:00:00\nH0021,2026-11-20 08:00:00\n",
        encoding="utf-8",
    )
    assert import_file(store, "visits", visits_csv).ok
    homes_csv = tmp_path / "households.csv"
    homes_csv.write_text(
        "household_id,lon,lat,categories\nH0030,2.5,0.5,red\nNEW1,0.5,0.5,yellow\n",
        encoding="utf-8",
    )
    assert import_file(store, "households", homes_csv).ok
    assert_served_equals_scratch(store, monkeypatch)
    assert import_file(store, "households", homes_csv, replace=True).ok
    assert_served_equals_scratch(store, monkeypatch)


def test_a_visit_rebuilds_only_its_households_grid(location, monkeypatch):
    store = open_store(location)
    write_frames(store, random_frames(5))
    grid = store.read_attributes("households", ["grid_id"], where={"household_id": "H0001"})
    rebuilt = []
    original = care.before_commit

    def spy(tx):
        real = tx.care_rebuild
        tx.care_rebuild = lambda keys: (rebuilt.append(keys), real(keys))[1]
        original(tx)

    monkeypatch.setattr(care, "before_commit", spy)
    log_visit(store, "H0001", stamp(TODAY), "电话", None, None, "tester")
    assert rebuilt == [{care.grid_key(grid["grid_id"].iloc[0])}]
    monkeypatch.undo()
    assert_served_equals_scratch(store, monkeypatch)


def test_a_state_that_does_not_match_the_data_is_not_served(tmp_path, monkeypatch):
    path = tmp_path / "s.gpkg"
    store = open_store(str(path))
    write_frames(store, random_frames(6))
    assert state_load.load_state(store) is not None
    con = sqlite3.connect(path)  # a writer that does not keep the state (an older gridmap)
    con.execute("UPDATE gridmap_meta SET value = value + 1 WHERE key = 'data_version'")
    con.execute("DELETE FROM visits WHERE household_id = 'H0001'")
    con.commit()
    con.close()
    assert state_load.load_state(store) is None  # so the figures come from the tables
    with store.transaction() as tx:  # the next write rebuilds it whole
        tx.append("audit_log", pd.DataFrame({"at": ["x"], "actor": ["t"], "action": ["a"]}))
    assert_served_equals_scratch(store, monkeypatch)


def test_an_older_geopackage_gets_the_state_in_its_first_write(tmp_path, monkeypatch):
    path = tmp_path / "old.gpkg"
    store = open_store(str(path))
    write_frames(store, random_frames(7))
    con = sqlite3.connect(path)  # as schema 6 left it: no care_state table, no state meta
    con.execute("DROP TABLE care_state")
    con.execute("DELETE FROM gridmap_meta WHERE key LIKE 'care_state%'")
    con.execute("UPDATE gridmap_meta SET value = '6' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    assert store.care_blocks() is None and state_load.load_state(store) is None
    day = TODAY - dt.timedelta(days=2)
    expected = from_scratch(monkeypatch, contract.compute_metrics, store, day)
    assert contract.compute_metrics(store, day) == expected  # read: from the tables
    with store.transaction() as tx:
        tx.set_meta("demo_mode", "0")
    assert store.meta("schema_version") == "9"
    assert_served_equals_scratch(store, monkeypatch)


def test_an_older_postgis_store_gets_the_state_in_its_first_write(pg_location, monkeypatch):  # noqa: F811
    import psycopg

    import geo.store.postgis as postgis

    store = open_store(pg_location)
    write_frames(store, random_frames(8))
    with psycopg.connect(pg_location, autocommit=True) as conn:  # as migration 6 left it
        conn.execute("DROP TABLE care_state")
        conn.execute("DELETE FROM gridmap_migrations WHERE version = 9")
        conn.execute("DELETE FROM gridmap_meta WHERE key LIKE 'care_state%'")
    postgis._UPGRADED.discard(pg_location)
    postgis._TABLES_READY.discard((pg_location, care.CARE_TABLE))
    assert state_load.load_state(store) is None
    with store.transaction() as tx:
        tx.set_meta("demo_mode", "0")
    assert_served_equals_scratch(store, monkeypatch)


def test_a_failed_write_leaves_the_state_as_it_was(tmp_path, monkeypatch):
    store = open_store(str(tmp_path / "f.gpkg"))
    write_frames(store, random_frames(9))
    before = store.care_blocks()
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.delete("visits", {"household_id": "H0001"})
        raise RuntimeError("refused")
    assert store.care_blocks() == before
    assert_served_equals_scratch(store, monkeypatch)


def test_household_ids_in_blocks_are_those_of_the_table(location):
    store = open_store(location)
    write_frames(store, random_frames(10))
    state = state_load.load_state(store)
    ids = sorted(i for b in state.blocks for i in b.ids)
    assert ids == sorted(store.read_attributes("households", ["household_id"])["household_id"])
    assert np.all(np.diff(state.arrays["fid"]) != 0)


def test_a_view_of_some_grids_is_never_answered_from_the_whole_state(tmp_path):
    from geo.access.scope import GridScope

    store = open_store(str(tmp_path / "v.gpkg"))
    write_frames(store, random_frames(11))
    assert state_load.load_state(store) is not None
    scoped = GridScope(store, ["G1"])
    assert state_load.load_state(scoped) is None
    frame = rules.household_status(scoped, TODAY)
    assert set(frame["grid_id"]) == {"G1"}


def test_the_weekly_snapshot_of_a_view_is_never_answered_from_the_whole_state(tmp_path):
    """The weekly pack wraps its source in a snapshot: a snapshot of a GridScope must not
    pass the whole store's state through (a grid worker's pack counted every household)."""
    from geo.access.scope import GridScope
    from geo.outputs.weekly.figures import _Snapshot, weekly_figures

    store = open_store(str(tmp_path / "w.gpkg"))
    write_frames(store, random_frames(12))
    scoped = GridScope(store, ["G1"])
    assert state_load.load_state(_Snapshot(store, TODAY, TODAY)) is not None
    assert state_load.load_state(_Snapshot(scoped, TODAY, TODAY)) is None
    in_g1 = int((store.read_attributes("households", ["grid_id"])["grid_id"] == "G1").sum())
    total = weekly_figures(scoped, TODAY)["metrics"]["households"]["total"]
    assert total == in_g1 < store.count("households")
