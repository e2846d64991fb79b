"""`gridmap backup` and `gridmap restore`: a consistent copy while the store is in use, and a
restore that refuses what is not a gridmap store and keeps the current data aside."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from pg import pg_location  # noqa: F401  (fixture)

from geo.care.coverage import log_visit
from geo.cli import main
from geo.demo.build import build_demo
from geo.metrics.contract import compute_metrics
from geo.store import open_store
from geo.store.backup import BackupError, backup_store, restore_store

AS_OF = dt.date(2026, 11, 20)


@pytest.fixture
def demo(tmp_path) -> str:
    location = str(tmp_path / "street.gpkg")
    build_demo(open_store(location), households=400, as_of=AS_OF)
    return location


def _metrics(location: str) -> tuple[dict, dict]:
    store = open_store(location)
    return compute_metrics(store, AS_OF), compute_metrics(store, AS_OF, by="grid")


def test_backup_then_restore_gives_back_identical_metrics(demo, tmp_path, capsys):
    before = _metrics(demo)
    out = tmp_path / "backups" / "street-2026-11-20.gpkg"
    assert main(["backup", "--db", demo, "--out", str(out)]) == 0
    assert "已备份" in capsys.readouterr().out
    # the day goes on: visits logged, a household removed
    store = open_store(demo)
    household = store.read("households", ["household_id"])["household_id"].iloc[0]
    log_visit(store, household, "2026-11-20 09:00", "入户", None, None, "demo_worker")
    with store.transaction() as tx:
        tx.delete("households", {"household_id": household})
    assert _metrics(demo) != before
    version = store.version()
    assert main(["restore", str(out), "--db", demo]) == 0
    printed = capsys.readouterr().out
    assert _metrics(demo) == before
    assert store.version() > version  # caches keyed on the version do not serve the old data
    aside = [p for p in tmp_path.glob("street.before-restore-*.gpkg")]
    assert len(aside) == 1 and str(aside[0]) in printed
    assert _metrics(str(aside[0])) != before  # the data as it was before the restore


def test_a_backup_is_consistent_while_a_writer_holds_the_store(demo, tmp_path):
    store = open_store(demo)
    visits = store.count("visits")
    writer = sqlite3.connect(demo, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM visits")  # not committed while the backup runs
    try:
        out = backup_store(store, tmp_path / "during.gpkg")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = open_store(str(out))
    assert copy.count("visits") == visits
    assert sqlite3.connect(out).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not Path(f"{out}-wal").exists()  # one self-contained file


def test_restore_refuses_a_file_that_is_not_a_gridmap_store(demo, tmp_path, capsys):
    before = Path(demo).read_bytes()
    text = tmp_path / "notes.gpkg"
    text.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for candidate in (text, other):
        assert main(["restore", str(candidate), "--db", demo]) == 1
        assert "不是 gridmap 数据库" in capsys.readouterr().err
    with pytest.raises(BackupError, match="找不到备份文件"):
        restore_store(open_store(demo), tmp_path / "missing.gpkg")
    assert Path(demo).read_bytes() == before
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_restore_refuses_a_damaged_backup(demo, tmp_path):
    out = backup_store(open_store(demo), tmp_path / "b.gpkg")
    data = bytearray(out.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = bytes(4096)
    out.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        restore_store(open_store(demo), out)


def test_backup_never_overwrites(demo, tmp_path):
    out = backup_store(open_store(demo), tmp_path / "b.gpkg")
    with pytest.raises(BackupError, match="已存在"):
        backup_store(open_store(demo), out)


def test_restore_into_a_new_location(demo, tmp_path):
    out = backup_store(open_store(demo), tmp_path / "b.gpkg")
    fresh = tmp_path / "elsewhere" / "new.gpkg"
    assert restore_store(open_store(str(fresh)), out) is None  # nothing to keep aside
    assert _metrics(str(fresh)) == _metrics(demo)


def test_postgis_backup_names_the_pg_dump_line(pg_location, capsys, tmp_path):  # noqa: F811
    out = tmp_path / "city.dump"
    assert main(["backup", "--db", pg_location, "--out", str(out), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert f"pg_dump --format=custom --no-owner --file={out}" in err
    assert "gridmap wrote nothing" in err and not out.exists()
    assert main(["restore", str(out), "--db", pg_location, "--lang", "en"]) == 1
    assert "pg_restore --clean --if-exists --no-owner" in capsys.readouterr().err
