"""PostGIS-only behaviour: concurrent writers, migrations, the schema against geo.store.schema."""

from __future__ import annotations

import multiprocessing as mp

import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from test_contract import AS_OF, _import_all, files  # noqa: F401  (fixture)

from geo.cli import main
from geo.store import open_store, pg_migrations
from geo.store.schema import GEOMETRY_COLUMN, TABLES

WRITERS = 2
TRANSACTIONS = 10
SHARED_STEPS = 2000


def _writer(location: str, name: str, barrier, reverse: bool) -> None:
    """Write TRANSACTIONS transactions: own reports, the same shared steps, an audit row."""
    store = open_store(location)
    barrier.wait()
    shared = [f"S{i:03d}" for i in range(SHARED_STEPS)]
    if reverse:  # the other writer locks the same rows in the opposite frame order
        shared.reverse()
    for n in range(TRANSACTIONS):
        with store.transaction() as tx:
            tx.upsert(
                "reports",
                pd.DataFrame(
                    {
                        "report_id": [f"{name}-{n}-{j}" for j in range(3)],
                        "source": "observer",
                        "reported_at": "2026-11-20 09:00:00",
                    }
                ),
            )
            tx.upsert(
                "report_steps",
                pd.DataFrame(
                    {"report_id": shared, "step": "responded", "actor": name, "note": str(n)}
                ),
            )
            tx.append(
                "audit_log",
                pd.DataFrame(
                    {
                        "at": ["2026-11-20 09:00:00"],
                        "actor": [name],
                        "action": ["report"],
                        "detail": [str(n)],
                    }
                ),
            )


def _run(target, args_list) -> None:
    ctx = mp.get_context("spawn")  # a clean interpreter per writer, as separate app servers
    procs = [ctx.Process(target=target, args=args) for args in args_list]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_concurrent_writers_lose_nothing(pg_location):  # noqa: F811
    store = open_store(pg_location)
    store.upgrade()
    barrier = mp.get_context("spawn").Barrier(WRITERS)
    _run(_writer, [(pg_location, f"w{i}", barrier, i % 2 == 1) for i in range(WRITERS)])
    reports = store.read("reports", ["report_id"])["report_id"]
    assert len(reports) == reports.nunique() == WRITERS * TRANSACTIONS * 3
    steps = store.read("report_steps")
    assert len(steps) == SHARED_STEPS
    assert set(steps["actor"]) <= {f"w{i}" for i in range(WRITERS)}
    assert store.count("audit_log") == WRITERS * TRANSACTIONS
    assert store.version() == WRITERS * TRANSACTIONS  # every commit counted once


def _numberer(location: str, name: str, barrier) -> None:
    """Read the highest number, write the next one: the pattern of new report ids."""
    store = open_store(location)
    barrier.wait()
    for _ in range(NUMBERED):
        with store.transaction() as tx:
            taken = tx.read("reports", ["report_id"])["report_id"]
            number = len(taken) + 1
            tx.append("reports", pd.DataFrame({"report_id": [f"R-{number:04d}"], "source": [name]}))


NUMBERED = 15


def test_read_then_write_transactions_run_one_at_a_time(pg_location):  # noqa: F811
    """As with the GeoPackage's BEGIN IMMEDIATE: no two writers decide on the same snapshot."""
    store = open_store(pg_location)
    store.upgrade()
    barrier = mp.get_context("spawn").Barrier(WRITERS)
    _run(_numberer, [(pg_location, f"w{i}", barrier) for i in range(WRITERS)])
    ids = store.read("reports", ["report_id"])["report_id"].tolist()
    assert ids == [f"R-{n:04d}" for n in range(1, WRITERS * NUMBERED + 1)]


def _first_use(location: str, barrier) -> None:
    store = open_store(location)
    barrier.wait()
    with store.transaction() as tx:
        tx.append("audit_log", pd.DataFrame({"action": ["start"]}))


def test_servers_starting_together_migrate_once(pg_location):  # noqa: F811
    barrier = mp.get_context("spawn").Barrier(3)
    _run(_first_use, [(pg_location, barrier)] * 3)
    store = open_store(pg_location)
    assert store.count("audit_log") == 3
    assert store.upgrade() == []
    import psycopg

    with psycopg.connect(pg_location) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM gridmap_migrations")]
    assert versions == sorted(pg_migrations.MIGRATIONS)


def test_migrated_schema_matches_geo_schema(pg_location):  # noqa: F811
    """A change to geo.store.schema without a new migration fails here."""
    import psycopg

    open_store(pg_location).upgrade()
    pg_type = {"TEXT": "text", "INTEGER": "bigint", "BLOB": "bytea"}
    with psycopg.connect(pg_location) as conn:
        for table in TABLES.values():
            rows = conn.execute(
                "SELECT column_name, data_type, udt_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                (table.name,),
            ).fetchall()
            got = {name: udt if dtype == "USER-DEFINED" else dtype for name, dtype, udt in rows}
            want = {"fid": "bigint", **{c: pg_type[t] for c, t in table.columns}}
            if table.geometry:
                want[GEOMETRY_COLUMN] = "geometry"
            assert got == want, table.name
            if table.geometry:
                gtype = conn.execute(
                    "SELECT type, srid FROM geometry_columns WHERE f_table_schema = current_schema() "
                    "AND f_table_name = %s",
                    (table.name,),
                ).fetchone()
                assert gtype == (table.geometry, 4326)


def test_text_compares_bytewise_like_sqlite(pg_location):  # noqa: F811
    """Timestamps compare as text; a locale collation would ignore '-' and ' '."""
    store = open_store(pg_location)
    with store.transaction() as tx:
        tx.upsert("visits", pd.DataFrame({"visit_id": ["a", "b", "B", "_"]}))
    ids = store.read("visits", ["visit_id"], {"visit_id": ["a", "b", "B", "_"]})["visit_id"]
    assert ids.tolist() == ["a", "b", "B", "_"]  # insertion (fid) order
    import psycopg

    with psycopg.connect(pg_location) as conn:
        ordered = [r[0] for r in conn.execute("SELECT visit_id FROM visits ORDER BY visit_id")]
    assert ordered == sorted(["a", "b", "B", "_"])  # Python's order is code-point order


def test_messages_hide_the_password():
    pytest.importorskip("psycopg")
    from geo.store.postgis import _redact

    assert "secret" not in _redact("postgresql://u:secret@127.0.0.1/db")


@pytest.mark.parametrize("table", ["households", "reports"])
def test_point_tables_have_a_spatial_index(pg_location, table):  # noqa: F811
    import psycopg

    open_store(pg_location).upgrade()
    with psycopg.connect(pg_location) as conn:
        defs = [
            r[0]
            for r in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
                (table,),
            )
        ]
    assert any("USING gist (geom)" in d for d in defs)


def test_contract_commands_give_identical_output_on_both_stores(files, pg_location, capsys):  # noqa: F811
    """The contract data set imported into a GeoPackage and into PostGIS reads the same."""
    gpkg = str(files / "store.gpkg")
    for db in (gpkg, pg_location):
        _import_all(files, db)
    outputs = {}
    for command in (
        ["metrics", "--json"],
        ["metrics", "--by", "grid", "--json"],
        ["check", "--json"],
    ):
        for db in (gpkg, pg_location):
            capsys.readouterr()
            assert main([*command, "--db", db, "--as-of", AS_OF]) == 0
            outputs[db] = capsys.readouterr().out
        assert outputs[gpkg] == outputs[pg_location], command

    store = open_store(pg_location)
    version, households = store.version(), store.read("households")
    (files / "bad.csv").write_text(
        "户编号,经度,纬度,类别\nH9,111.705,40.845,红\nH10,abc,40.845,红\n", encoding="gbk"
    )
    assert main(["import", "households", str(files / "bad.csv"), "--db", pg_location]) != 0
    assert store.version() == version
    assert store.read("households").equals(households)


def test_reads_reuse_pooled_connections_until_closed(pg_location):  # noqa: F811
    from geo.store import postgis as store_postgis

    store = open_store(pg_location)
    store.read("households")
    pooled = list(store_postgis._IDLE[pg_location])
    assert len(pooled) == 1
    store.count("visits")
    open_store(pg_location).version()  # pages open a store per rerun: same pool
    assert store_postgis._IDLE[pg_location] == pooled
    store.close()
    assert pooled[0].closed and not store_postgis._IDLE.get(pg_location)


def test_readers_do_not_wait_for_an_open_write(pg_location):  # noqa: F811
    import threading
    import time

    store = open_store(pg_location)
    with store.transaction() as tx:
        tx.append("visits", pd.DataFrame({"visit_id": ["old"]}))
    inside, release, second_started = threading.Event(), threading.Event(), threading.Event()
    seen_by_second: list[str] = []

    def slow_writer() -> None:
        with store.transaction() as tx:
            tx.append("visits", pd.DataFrame({"visit_id": ["slow"]}))
            inside.set()
            release.wait(10)

    def second_writer() -> None:
        with store.transaction() as tx:
            second_started.set()
            seen_by_second.extend(tx.read("visits")["visit_id"])
            tx.append("visits", pd.DataFrame({"visit_id": ["second"]}))

    first = threading.Thread(target=slow_writer)
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=second_writer)
    second.start()
    assert store.read("visits")["visit_id"].tolist() == ["old"]  # no wait, old snapshot
    time.sleep(0.3)
    assert not second_started.is_set()  # the second writer waits for the first
    release.set()
    first.join(10)
    second.join(10)
    assert seen_by_second == ["old", "slow"]  # it started after the first committed
    assert store.read("visits")["visit_id"].tolist() == ["old", "slow", "second"]


def test_database_of_migration_1_reads_then_gains_the_verifications(pg_location):  # noqa: F811
    """A database an older gridmap migrated (version 1): reads work, the first write migrates."""
    import psycopg

    from geo.store import postgis as store_postgis

    store = open_store(pg_location)
    with store.transaction() as tx:
        tx.append("audit_log", pd.DataFrame({"action": ["start"]}))
    with psycopg.connect(pg_location) as conn:
        conn.execute("DROP TABLE verifications")
        conn.execute("DELETE FROM gridmap_migrations WHERE version > 1")
        conn.execute("UPDATE gridmap_meta SET value = '1' WHERE key = 'schema_version'")
    # as a freshly started server that finds the old schema
    store_postgis._UPGRADED.discard(pg_location)
    store_postgis._TABLES_READY.discard((pg_location, "verifications"))
    assert store.read("verifications").empty
    assert store.count("verifications") == 0
    assert store.last_verifications("2026-11-30").empty
    with store.transaction() as tx:
        tx.upsert(
            "verifications", pd.DataFrame({"household_id": ["H1"], "verified_on": ["2026-11-20"]})
        )
    assert store.last_verifications("2026-11-30").values.tolist() == [["H1", "2026-11-20"]]
    with psycopg.connect(pg_location) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM gridmap_migrations ORDER BY 1")]
        meta = conn.execute(
            "SELECT value FROM gridmap_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert versions == sorted(pg_migrations.MIGRATIONS)
    assert meta == (str(pg_migrations.LATEST),)
