"""The audit log: append-only in both stores (no UPDATE, DELETE, REPLACE, TRUNCATE) and
hash-chained, so that ``gridmap audit --verify`` finds the first entry changed."""

from __future__ import annotations

import hashlib
import sqlite3

import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)

from geo.access import audit_chain
from geo.access.audit import log_event, read_audit, verify_audit
from geo.cli import main
from geo.store import open_store
from geo.store.schema import SCHEMA_VERSION


@pytest.fixture(params=["gpkg", "postgis"])
def store(request, tmp_path):
    """A store of each kind holding five audit entries."""
    if request.param == "gpkg":
        store = open_store(str(tmp_path / "s.gpkg"))
    else:
        store = open_store(request.getfixturevalue("pg_location"))
    for i in range(5):
        log_event(store, f"user{i}", "export", f"weekly 2026-11-{20 + i:02d} xlsx", f"H{i}")
    return store


def _sql(store, statement: str, params: tuple = ()) -> None:
    """Run one statement as someone with write access to the database would (no gridmap)."""
    if store.location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store.location, autocommit=True) as conn:
            conn.execute(statement, params)
    else:
        con = sqlite3.connect(store.location, isolation_level=None)
        try:
            con.execute(statement, params)
        finally:
            con.close()


def _refused(store) -> type[Exception]:
    if store.location.startswith("postgresql://"):
        import psycopg

        return psycopg.Error
    return sqlite3.IntegrityError


def _file_digest(store) -> str | None:
    if store.location.startswith("postgresql://"):
        return None
    return hashlib.sha256(open(store.location, "rb").read()).hexdigest()


def test_appended_entries_form_an_intact_chain(store):
    check = verify_audit(store)
    assert check.intact and check.entries == 5
    entries = store.read("audit_log")
    assert check.head == entries["entry_hash"].iloc[-1]
    previous = audit_chain.GENESIS
    for entry in entries.to_dict("records"):
        assert entry["entry_hash"] == audit_chain.entry_hash(previous, entry)
        previous = entry["entry_hash"]


def test_entries_written_in_one_transaction_chain_in_order(store):
    with store.transaction() as tx:
        for i in range(3):
            log_event(store, "batch", "import", f"part {i}", tx=tx)
    assert verify_audit(store).intact and verify_audit(store).entries == 8


@pytest.mark.parametrize(
    "statement",
    [
        "REPLACE INTO audit_log (fid, at, actor, action, detail, records) "
        "VALUES (2, '2026-11-21 00:00:00', 'x', 'export', 'rewritten', '')",
        "INSERT OR REPLACE INTO audit_log (fid, at, actor, action, detail, records) "
        "VALUES (1, '2026-11-20 00:00:00', 'x', 'export', 'rewritten', '')",
    ],
    ids=["replace-into", "insert-or-replace"],
)
def test_geopackage_refuses_replace_over_an_entry(tmp_path, statement):
    store = open_store(str(tmp_path / "s.gpkg"))
    for i in range(3):
        log_event(store, f"user{i}", "reveal", "head_name", f"H{i}")
    before, digest = read_audit(store), _file_digest(store)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        _sql(store, statement)
    assert read_audit(store).equals(before)
    assert _file_digest(store) == digest
    assert verify_audit(store).intact


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO audit_log (fid, at, actor, action, detail, records) "
        "VALUES (2, '2026-11-21 00:00:00', 'x', 'export', 'rewritten', '') "
        "ON CONFLICT (fid) DO UPDATE SET detail = EXCLUDED.detail",
        "TRUNCATE audit_log",
        "UPDATE audit_log SET detail = 'rewritten'",
        "DELETE FROM audit_log WHERE fid = 2",
    ],
    ids=["upsert", "truncate", "update", "delete"],
)
def test_postgis_refuses_rewriting_an_entry(pg_location, statement):  # noqa: F811
    import psycopg

    store = open_store(pg_location)
    for i in range(3):
        log_event(store, f"user{i}", "reveal", "head_name", f"H{i}")
    before = read_audit(store)
    with pytest.raises(psycopg.Error, match="append-only"):
        _sql(store, statement)
    assert read_audit(store).equals(before)
    assert verify_audit(store).intact


def test_a_backdated_row_is_refused(store):
    # no entry has fid 0: only the guard on inserts at or before the last entry stops it
    with pytest.raises(_refused(store), match="append-only"):
        _sql(
            store,
            "INSERT INTO audit_log (fid, at, actor, action, detail, records) "
            "VALUES (0, '2026-11-19 00:00:00', 'x', 'export', 'backdated', '')",
        )
    assert verify_audit(store).intact


def _tamper(store, statements: list[str]) -> None:
    """Lift the append-only guard, as an attacker with the database owner's rights can."""
    if store.location.startswith("postgresql://"):
        _sql(store, "ALTER TABLE audit_log DISABLE TRIGGER USER")
        for statement in statements:
            _sql(store, statement)
        _sql(store, "ALTER TABLE audit_log ENABLE TRIGGER USER")
    else:
        con = sqlite3.connect(store.location, isolation_level=None)
        for name in ("no_update", "no_delete", "no_replace"):
            con.execute(f"DROP TRIGGER audit_log_{name}")
        for statement in statements:
            con.execute(statement)
        con.close()


@pytest.mark.parametrize(
    ("statements", "broken_at"),
    [
        (["UPDATE audit_log SET detail = 'nothing to see' WHERE fid = 3"], 3),
        (["UPDATE audit_log SET actor = 'someone else' WHERE fid = 1"], 1),
        (["DELETE FROM audit_log WHERE fid = 2"], 2),  # the entry after it no longer links
        (
            [
                "INSERT INTO audit_log (fid, at, actor, action, detail, records, entry_hash) "
                "VALUES (100, '2026-11-30 00:00:00', 'x', 'export', 'forged', '', 'beef')"
            ],
            6,
        ),
    ],
    ids=["changed-detail", "changed-actor", "deleted", "forged-hash"],
)
def test_verify_finds_the_first_broken_link(store, statements, broken_at, capsys):
    _tamper(store, statements)
    check = verify_audit(store)
    assert not check.intact and check.broken_at == broken_at
    assert main(["audit", "--verify", "--db", store.location]) == 1
    err = capsys.readouterr().err
    assert f"第 {broken_at} 条" in err and "断裂" in err


def test_cli_verify_reports_an_intact_log_with_its_head(store, capsys):
    assert main(["audit", "--verify", "--db", store.location]) == 0
    out = capsys.readouterr().out
    assert "共 5 条" in out and verify_audit(store).head in out


def _schema_2_geopackage(path) -> None:
    """Make ``path`` look like a store an older gridmap wrote (no chain, no REPLACE guard)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TRIGGER audit_log_no_replace")
    con.execute("ALTER TABLE audit_log DROP COLUMN entry_hash")
    con.execute("DROP TABLE sessions")
    con.execute("DELETE FROM gpkg_contents WHERE table_name = 'sessions'")
    con.execute("UPDATE gridmap_meta SET value = '2' WHERE key = 'schema_version'")
    for i in range(3):  # entries as the older gridmap appended them
        con.execute(
            "INSERT INTO audit_log (at, actor, action, detail, records) VALUES (?, ?, ?, ?, ?)",
            (f"2026-11-0{i + 1} 10:00:00", "old", "import", f"grids {i}", ""),
        )
    con.close()


def test_an_older_geopackage_reads_then_chains_its_entries_on_the_first_write(tmp_path, capsys):
    path = tmp_path / "old.gpkg"
    store = open_store(str(path))
    with store.transaction() as tx:
        tx.set_meta("demo_mode", "0")
    _schema_2_geopackage(path)
    assert read_audit(store)["detail"].tolist() == ["grids 0", "grids 1", "grids 2"]
    assert verify_audit(store).unchained
    assert main(["audit", "--verify", "--db", str(path)]) == 1
    assert "尚未建立哈希链" in capsys.readouterr().err
    log_event(store, "admin", "sign_in", "admin")  # any write migrates
    check = verify_audit(store)
    assert check.intact and check.entries == 4
    con = sqlite3.connect(path)
    version = con.execute("SELECT value FROM gridmap_meta WHERE key='schema_version'").fetchone()
    con.close()
    assert version == (str(SCHEMA_VERSION),)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        _sql(
            store,
            "REPLACE INTO audit_log (fid, at, actor, action, detail, records) "
            "VALUES (1, '2026-11-01 10:00:00', 'x', 'import', 'rewritten', '')",
        )
    assert store.read("sessions").empty  # the new table exists


def test_an_older_postgis_schema_reads_then_chains_its_entries_on_the_first_write(
    pg_location,  # noqa: F811
):
    import psycopg

    from geo.store import pg_migrations
    from geo.store import postgis as store_postgis

    store = open_store(pg_location)
    store.upgrade()
    with psycopg.connect(pg_location, autocommit=True) as conn:  # as migration 2 left it
        conn.execute("DROP TABLE sessions")
        conn.execute("DROP TRIGGER audit_log_at_end ON audit_log")
        conn.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        conn.execute("ALTER TABLE audit_log DROP COLUMN entry_hash")
        conn.execute("DELETE FROM gridmap_migrations WHERE version > 2")
        conn.execute("UPDATE gridmap_meta SET value = '2' WHERE key = 'schema_version'")
        for i in range(3):
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, detail, records) "
                "VALUES (%s, 'old', 'import', %s, '')",
                (f"2026-11-0{i + 1} 10:00:00", f"grids {i}"),
            )
    store_postgis._UPGRADED.discard(pg_location)  # as a freshly started server
    assert read_audit(store)["detail"].tolist() == ["grids 0", "grids 1", "grids 2"]
    assert verify_audit(store).unchained
    log_event(store, "admin", "sign_in", "admin")
    check = verify_audit(store)
    assert check.intact and check.entries == 4
    with psycopg.connect(pg_location) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM gridmap_migrations")]
    assert sorted(versions) == sorted(pg_migrations.MIGRATIONS)
    with pytest.raises(psycopg.Error, match="append-only"):
        _sql(store, "TRUNCATE audit_log")


def test_chained_hashes_do_not_depend_on_the_store():
    frame = pd.DataFrame({"at": ["2026-11-20 09:00:00"], "actor": ["王"], "action": ["x"]})
    first = audit_chain.chained(frame, audit_chain.GENESIS)["entry_hash"].iloc[0]
    # detail and records missing read back as None in both stores: hashed as null
    assert first == audit_chain.entry_hash(
        audit_chain.GENESIS,
        {"at": "2026-11-20 09:00:00", "actor": "王", "action": "x", "detail": None},
    )
