"""Backing up and restoring a GeoPackage store (``gridmap backup`` / ``gridmap restore``).

A backup is SQLite's online backup of the store: a consistent copy of what was committed
when it started, taken while the app serves (readers and writers carry on). A restore
first keeps the current store aside (a backup of it, next to it), then copies the backup
into the store through the same API, so connections the app holds see the restored
data. A PostGIS store is backed up with PostgreSQL's own tools: ``pg_dump_line`` says how.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

import geo.store.gpkg as gpkg
from geo.i18n import MessageError
from geo.store.base import Store
from geo.store.geopackage import GeoPackageStore


class BackupError(MessageError):
    """A backup or restore refused; nothing was written."""


def _is_postgis(store: Store) -> bool:
    return not isinstance(store, GeoPackageStore)


def pg_dump_line(store: Store, out: str) -> str:
    """The ``pg_dump`` command that backs up a PostGIS store to ``out`` (password not shown)."""
    return (
        f"pg_dump --format=custom --no-owner --file={out} '{_url_without_password(store.location)}'"
    )


def pg_restore_line(store: Store, path: str) -> str:
    """The ``pg_restore`` command that restores a ``pg_dump`` file into a PostGIS store."""
    return (
        "pg_restore --clean --if-exists --no-owner "
        f"--dbname='{_url_without_password(store.location)}' {path}"
    )


def _url_without_password(location: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(location)
    if parts.password is None:
        return location
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def backup_store(store: Store, out: str | Path) -> Path:
    """Copy the store to ``out`` (a new .gpkg file), consistently, while others use it."""
    if _is_postgis(store):
        raise BackupError("backup_postgis", command=pg_dump_line(store, str(out)))
    if not store.exists():
        raise BackupError("backup_no_store", path=store.location)
    out = Path(out)
    if out.exists():
        raise BackupError("backup_exists", path=str(out))
    if out.resolve() == Path(store.location).resolve():
        raise BackupError("backup_same_file", path=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"{Path(store.location).resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)  # all pages in one step: one read snapshot, never a torn copy
        # a self-contained file: no WAL beside it
        target.execute("PRAGMA journal_mode = DELETE")
    finally:
        target.close()
        source.close()
    os.replace(partial, out)
    return out


def check_backup(path: str | Path) -> None:
    """BackupError unless ``path`` is a readable, intact gridmap GeoPackage."""
    path = Path(path)
    if not path.is_file():
        raise BackupError("restore_not_found", path=str(path))
    with open(path, "rb") as head:
        if head.read(16) != b"SQLite format 3\x00":
            raise BackupError("restore_not_a_store", path=str(path))
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        application_id = con.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if application_id != gpkg.GPKG_APPLICATION_ID or "gridmap_meta" not in tables:
            raise BackupError("restore_not_a_store", path=str(path))
        missing = [name for name in ("grids", "households", "visits") if name not in tables]
        if missing:
            raise BackupError("restore_not_a_store", path=str(path))
        if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError("restore_damaged", path=str(path))
    except sqlite3.DatabaseError:
        raise BackupError("restore_damaged", path=str(path)) from None
    finally:
        con.close()


def restore_store(store: Store, backup: str | Path) -> Path | None:
    """Replace the store's content by ``backup``; returns where the previous content was kept.

    Refused (nothing changed) unless ``backup`` is an intact gridmap store. The previous
    content is kept as ``<store>.before-restore-<time>.gpkg`` (None when there was none).
    """
    if _is_postgis(store):
        raise BackupError("restore_postgis", command=pg_restore_line(store, str(backup)))
    check_backup(backup)
    live = Path(store.location)
    if live.exists() and Path(backup).resolve() == live.resolve():
        raise BackupError("backup_same_file", path=str(backup))
    aside = None
    if store.exists():
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = backup_store(
            store, live.with_name(f"{live.stem}.before-restore-{stamp}{live.suffix}")
        )
    version = store.version()
    live.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"{Path(backup).resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(live, timeout=60)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = WAL")
        # caches are keyed on the data version: move it past anything served before
        target.execute(
            "UPDATE gridmap_meta SET value = CAST(? AS TEXT) WHERE key = 'data_version'",
            (max(version, _version_of(target)) + 1,),
        )
        target.commit()
    finally:
        target.close()
        source.close()
    return aside


def _version_of(con: sqlite3.Connection) -> int:
    row = con.execute("SELECT value FROM gridmap_meta WHERE key = 'data_version'").fetchone()
    return int(row[0]) if row else 0
