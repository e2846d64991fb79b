"""The GeoPackage store: one SQLite/GeoPackage file (the embedded store).

Every write goes through ``GeoPackageStore.transaction()``; the transaction commits whole
or not at all, and a failed one leaves the file exactly as it was (byte for byte: nothing
is written before ``COMMIT``). Reading a store that does not exist yet gives empty tables
and creates nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geo.carestate.bits as carestate_bits
import geo.carestate.sources as carestate_sources
import geo.store.care as care
import geo.store.gpkg as gpkg
from geo import timeutil
from geo.access import audit_chain
from geo.carestate.block import encode
from geo.carestate.build import build_blocks, horizon_anchor
from geo.store.base import (
    WRITE_WAIT_SECONDS,
    Store,
    StoreBusy,
    Transaction,
    Where,
    _next_day_text,
    _py,
    count_sign_in_sql,
    empty_frame,
)
from geo.store.schema import ADDED_COLUMNS, GEOMETRY_COLUMN, SCHEMA_VERSION, TABLES, WGS84, Table

STAGING_SCHEMA = "staging"
"""The name a staging file is attached under in an import's final transaction."""
LOAD_CACHE_KIB = 256 * 1024
"""Page cache of a connection loading a staged import (SQLite's default is 2 MiB)."""
REBUILD_INDEXES_RATIO = 0.5
"""A load of at least this many rows per row already in the table rebuilds its secondary indexes."""
CARE_TABLE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {care.CARE_TABLE} "
    "(grid_key TEXT PRIMARY KEY NOT NULL, anchor INTEGER NOT NULL, block BLOB NOT NULL)"
)
"""A load of at least this many rows per row already in the table rebuilds its secondary indexes."""


def _ids_sql(household_ids: Sequence[str] | None, column: str = "household_id") -> tuple[str, list]:
    """An ``AND`` clause keeping only ``household_ids`` (one JSON parameter: no variable limit)."""
    if household_ids is None:
        return "", []
    return f" AND {column} IN (SELECT value FROM json_each(?))", [
        json.dumps([str(h) for h in household_ids])
    ]


def _where_sql(where: Where | None) -> tuple[str, list[Any]]:
    if not where:
        return "", []
    parts: list[str] = []
    params: list[Any] = []
    for col, value in where.items():
        if value is None:
            parts.append(f'"{col}" IS NULL')
        elif isinstance(value, list | tuple | set | np.ndarray | pd.Series | pd.Index):
            values = list(value)
            if not values:
                parts.append("0")
                continue
            parts.append(f'"{col}" IN ({",".join("?" * len(values))})')
            params.extend(values)
        else:
            parts.append(f'"{col}" = ?')
            params.append(value)
    return " WHERE " + " AND ".join(parts), params


def _column_values(series: pd.Series) -> list[Any]:
    """Values of one column as sqlite3 binds them (missing -> None)."""
    values = series.astype(object).where(series.notna(), None).tolist()
    if series.dtype == object:
        # object columns may hold numpy scalars or NaN: convert value by value
        return [_py(v) for v in values]
    # typed columns (str, int, float, bool) already give Python values: column-wise is
    # ~10x faster than per-cell conversion, which matters for millions of visit rows
    return values


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[tuple]:
    return (
        list(zip(*(_column_values(frame[c]) for c in columns), strict=True))
        if columns
        else [()] * len(frame)
    )


def encode_rows(table: Table, frame: pd.DataFrame) -> tuple[list[str], list[tuple]]:
    """The columns of ``table`` that ``frame`` holds (plus the geometry blob) and its rows as sqlite3 binds them."""
    cols = [c for c in table.column_names if c in frame.columns]
    rows = _rows(frame, cols)
    if (
        table.geometry
        and isinstance(frame, gpd.GeoDataFrame)
        and frame._geometry_column_name in frame.columns
    ):
        geoms = frame.geometry.to_crs(WGS84).values if frame.crs else frame.geometry.values
        arr = np.asarray(geoms, dtype=object)
        if table.geometry == "POINT":
            # no location (missing or empty point) is stored as NULL, not a NaN point
            missing = shapely.is_missing(arr) | shapely.is_empty(arr)
            present = np.where(missing, None, arr)
            coords = shapely.get_coordinates(present)
            xs = np.full(len(arr), np.nan)
            ys = np.full(len(arr), np.nan)
            xs[~missing], ys[~missing] = coords[:, 0], coords[:, 1]
            blobs = gpkg.encode_points(xs, ys)
            if missing.any():
                blobs = [None if m else b for b, m in zip(blobs, missing, strict=True)]
        else:
            blobs = gpkg.encode_geometries(shapely.force_2d(arr))
        cols = [*cols, GEOMETRY_COLUMN]
        rows = [(*r, b) for r, b in zip(rows, blobs, strict=True)]
    return cols, rows


class _GpkgTransaction(Transaction):
    def __init__(
        self, store: GeoPackageStore, con: sqlite3.Connection, attached: Sequence[str] = ()
    ) -> None:
        self.store = store
        self.con = con
        self.changed: set[str] = set()
        self.attached = set(attached)

    def _table(self, name: str) -> Table:
        return TABLES[name]

    def _columns_and_rows(self, table: Table, frame: pd.DataFrame) -> tuple[list[str], list[tuple]]:
        return encode_rows(table, frame)

    def _upsert(self, table: str, frame: pd.DataFrame) -> int:
        t = self._table(table)
        if frame.empty:
            return 0
        cols, rows = self._columns_and_rows(t, frame)
        quoted = ",".join(f'"{c}"' for c in cols)
        updates = [c for c in cols if c not in t.key]
        conflict = ",".join(f'"{c}"' for c in t.key)
        action = (
            "DO UPDATE SET " + ",".join(f'"{c}"=excluded."{c}"' for c in updates)
            if updates
            else "DO NOTHING"
        )
        sql = (
            f'INSERT INTO "{table}" ({quoted}) VALUES ({",".join("?" * len(cols))}) '
            f"ON CONFLICT({conflict}) {action}"
        )
        self.con.executemany(sql, rows)
        self.changed.add(table)
        return len(rows)

    def _replace(self, table: str, frame: pd.DataFrame | Iterable[pd.DataFrame]) -> int:
        t = self._table(table)
        self.con.execute(f'DELETE FROM "{table}"')
        self.changed.add(table)
        # bulk load: building the secondary indexes after the rows is ~2x faster than
        # maintaining them row by row (10M visits); DDL is part of the transaction
        for i in range(len(t.indexes)):
            self.con.execute(f'DROP INDEX IF EXISTS "idx_{t.name}_{i}"')
        frames = [frame] if isinstance(frame, pd.DataFrame) else frame
        rows = sum(self.append(table, chunk) for chunk in frames)
        _create_indexes(self.con, t)
        return rows

    def _append(self, table: str, frame: pd.DataFrame) -> int:
        t = self._table(table)
        if frame.empty:
            return 0
        if table == "audit_log":  # chained here, inside the write lock: one head at a time
            frame = audit_chain.chained(frame, _audit_head(self.con))
        cols, rows = self._columns_and_rows(t, frame)
        quoted = ",".join(f'"{c}"' for c in cols)
        self.con.executemany(
            f'INSERT INTO "{table}" ({quoted}) VALUES ({",".join("?" * len(cols))})', rows
        )
        self.changed.add(table)
        return len(rows)

    def _update(self, table: str, where: Where, values: dict[str, Any]) -> int:
        sets = ",".join(f'"{c}"=?' for c in values)
        clause, params = _where_sql(where)
        cur = self.con.execute(
            f'UPDATE "{table}" SET {sets}{clause}', [_py(v) for v in values.values()] + params
        )
        self.changed.add(table)
        return cur.rowcount

    def _delete(self, table: str, where: Where) -> int:
        clause, params = _where_sql(where)
        cur = self.con.execute(f'DELETE FROM "{table}"{clause}', params)
        self.changed.add(table)
        return cur.rowcount

    def _load_staged(self, table: str, staging: Any, *, replace: bool) -> int:
        t = self._table(table)
        cols = staging.columns
        if not cols:
            return self.replace(table, empty_frame(t)) if replace else 0
        # secondary indexes built after the rows are ~2x faster than kept up row by row,
        # when the rows loaded are many next to those already there
        rebuild = replace or staging.count() >= REBUILD_INDEXES_RATIO * _row_count(self.con, table)
        if replace:
            self.con.execute(f'DELETE FROM "{table}"')
        if rebuild:
            for i in range(len(t.indexes)):
                self.con.execute(f'DROP INDEX IF EXISTS "idx_{t.name}_{i}"')
        quoted = ",".join(f'"{c}"' for c in cols)
        updates = [c for c in cols if c not in t.key]
        action = (
            "DO UPDATE SET " + ",".join(f'"{c}"=excluded."{c}"' for c in updates)
            if updates
            else "DO NOTHING"
        )
        conflict = f" ON CONFLICT({','.join(t.key)}) {action}" if t.key and not replace else ""
        # a big load: a page cache that holds the indexes being filled (freed at close)
        self.con.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        if STAGING_SCHEMA in self.attached:
            # the staging file attached: SQLite copies the rows itself (already encoded,
            # in key order: the unique index fills page by page); none pass through Python
            self.con.execute(
                f'INSERT INTO main."{table}" ({quoted}) SELECT {quoted} FROM '
                f'{STAGING_SCHEMA}."{staging.source_table}" WHERE true ORDER BY rowid{conflict}'
            )
        else:
            self.con.executemany(
                f'INSERT INTO "{table}" ({quoted}) VALUES ({",".join("?" * len(cols))}){conflict}',
                staging.encoded(),
            )
        if rebuild:
            _create_indexes(self.con, t)
        self.changed.add(table)
        return staging.count()

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO gridmap_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        self.changed.add("gridmap_meta")

    def count_sign_in(
        self, username: str, now: str, max_failures: int, lock_until: str
    ) -> dict[str, Any] | None:
        columns = TABLES["users"].column_names
        row = self.con.execute(
            count_sign_in_sql("?"), (max_failures, lock_until, username, now)
        ).fetchone()
        if row is not None:
            self.changed.add("users")
            return {**dict(zip(columns, row, strict=True)), "counted": True}
        quoted = ", ".join(f'"{c}"' for c in columns)
        row = self.con.execute(
            f"SELECT {quoted} FROM users WHERE username = ?", (username,)
        ).fetchone()
        return None if row is None else {**dict(zip(columns, row, strict=True)), "counted": False}

    def _set_grid_ids(
        self, table: str, key_values: Sequence[str], grid_ids: Sequence[str | None]
    ) -> None:
        key = TABLES[table].key[0]
        self.con.executemany(
            f'UPDATE "{table}" SET grid_id=? WHERE "{key}"=?',
            [(_py(g), _py(k)) for k, g in zip(key_values, grid_ids, strict=True)],
        )
        self.changed.add(table)

    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        return _read(self.con, TABLES[table], columns, where)

    def meta_value(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM gridmap_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def care_grids_of(self, household_ids: Sequence[str]) -> set[str]:
        rows = self.con.execute(
            "SELECT DISTINCT coalesce(grid_id, '') FROM households "
            "WHERE household_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(household_ids), ensure_ascii=False),),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def care_rebuild(self, keys: set[str] | None) -> None:
        chosen = None if keys is None else sorted(keys)
        today_day = carestate_bits.day_number(timeutil.today())
        anchor = horizon_anchor(today_day, carestate_sources.latest_day(self.con, chosen))
        sources = carestate_sources.read_sources(self.con, anchor, chosen)
        blocks = build_blocks(
            sources.households, sources.visit_summary, sources.verification_summary, anchor
        )
        if chosen is None:
            self.con.execute(f"DELETE FROM {care.CARE_TABLE}")
        else:
            self.con.execute(
                f"DELETE FROM {care.CARE_TABLE} WHERE grid_key IN (SELECT value FROM json_each(?))",
                (json.dumps(chosen, ensure_ascii=False),),
            )
        self.con.executemany(
            f"INSERT INTO {care.CARE_TABLE} (grid_key, anchor, block) VALUES (?, ?, ?)",
            [(key, block.anchor, encode(block)) for key, block in blocks.items()],
        )


def _read(
    con: sqlite3.Connection,
    table: Table,
    columns: Sequence[str] | None,
    where: Where | None,
    geometry: bool = True,
) -> pd.DataFrame:
    cols = list(columns) if columns is not None else table.column_names
    attr_cols = [c for c in cols if c != GEOMETRY_COLUMN]
    want_geom = geometry and table.geometry is not None
    select = [f'"{c}"' for c in attr_cols] + ([GEOMETRY_COLUMN] if want_geom else [])
    clause, params = _where_sql(where)
    if not select:
        select = ["1"]
    rows = con.execute(
        f'SELECT {",".join(select)} FROM "{table.name}"{clause} ORDER BY fid', params
    ).fetchall()
    if want_geom:
        blobs = [r[-1] for r in rows]
        frame = pd.DataFrame.from_records([r[:-1] for r in rows], columns=attr_cols)
        if table.geometry == "POINT":
            xs, ys = gpkg.decode_points(blobs)
            geometry = gpd.points_from_xy(xs, ys, crs=WGS84)
            nowhere = np.isnan(xs) | np.isnan(ys)
            if nowhere.any():  # a NULL geometry reads back as missing, not POINT (NaN NaN)
                geometry[nowhere] = None
        else:
            geometry = gpd.GeoSeries(gpkg.decode_geometries(blobs), crs=WGS84).values
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)
    return pd.DataFrame.from_records(rows, columns=attr_cols)


def _read_any_version(
    con: sqlite3.Connection,
    table: Table,
    columns: Sequence[str] | None,
    where: Where | None,
    geometry: bool = True,
) -> pd.DataFrame:
    """``_read``; on a file made by an older gridmap, the columns it lacks read as None.

    Reading never migrates (a write does, ``_upgrade``): e.g. the audit log of a schema-2
    file has no ``entry_hash`` yet. Asked first, not caught: SQLite reads a double-quoted
    name that is no column as a string literal, without an error.
    """
    wanted = list(columns) if columns is not None else table.column_names
    if not ADDED_COLUMNS.get(table.name, frozenset()) & set(wanted):
        return _read(con, table, columns, where, geometry)
    present = {r[1] for r in con.execute(f'PRAGMA table_info("{table.name}")')}
    if present >= set(wanted) - {GEOMETRY_COLUMN}:
        return _read(con, table, columns, where, geometry)
    older = Table(
        table.name,
        tuple(c for c in table.columns if c[0] in present),
        table.key,
        table.geometry,
        table.indexes,
    )
    frame = _read(con, older, [c for c in wanted if c in present], where, geometry)
    for column in wanted:
        if column not in frame.columns and column != GEOMETRY_COLUMN:
            frame[column] = None
    return frame[
        [c for c in wanted if c != GEOMETRY_COLUMN]
        + ([frame.geometry.name] if isinstance(frame, gpd.GeoDataFrame) else [])
    ]


class GeoPackageStore(Store):
    """The embedded store: one OGC GeoPackage file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def _connect(
        self, readonly: bool = False, wait: float = WRITE_WAIT_SECONDS
    ) -> sqlite3.Connection:
        if readonly:
            con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        else:
            con = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
        gpkg.register_functions(con)
        return con

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection | None]:
        if not self.exists():
            yield None
            return
        con = self._connect(readonly=True)
        try:
            yield con
        finally:
            con.close()

    def version(self) -> int:
        with self._reader() as con:
            if con is None:
                return 0
            row = con.execute("SELECT value FROM gridmap_meta WHERE key='data_version'").fetchone()
            return int(row[0]) if row else 0

    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        t = TABLES[table]
        with self._reader() as con:
            if con is None or not _has_table(con, table):  # none yet, or an older file
                return empty_frame(
                    t, [c for c in (columns or t.column_names) if c != GEOMETRY_COLUMN]
                )
            return _read_any_version(con, t, columns, where)

    def count(self, table: str) -> int:
        with self._reader() as con:
            if con is None or not _has_table(con, table):
                return 0
            return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def meta(self, key: str) -> str | None:
        with self._reader() as con:
            if con is None:
                return None
            row = con.execute("SELECT value FROM gridmap_meta WHERE key = ?", (key,)).fetchone()
            return None if row is None else str(row[0])

    def visit_days(self, first_day: str, last_day: str) -> pd.DataFrame:
        with self._reader() as con:
            if con is None:
                return pd.DataFrame(
                    {"household_id": pd.Series(dtype=object), "day": pd.Series(dtype=object)}
                )
            # visited_at is 'YYYY-MM-DD HH:MM:SS' local time, so text order is time order.
            # The unary + keeps SQLite off the visited_at index: a range scan there does one
            # table lookup per visit and feeds DISTINCT in random order (69 s for 5M visits
            # in the window); scanning the covering (household_id, visited_at) index
            # instead takes ~5 s for 6M visits.
            rows = con.execute(
                "SELECT DISTINCT household_id, substr(visited_at, 1, 10) FROM visits "
                "WHERE +visited_at >= ? AND +visited_at < ?",
                (first_day, _next_day_text(last_day)),
            ).fetchall()
        return pd.DataFrame.from_records(rows, columns=["household_id", "day"])

    def visit_day_masks(
        self, last_day: str, days: int, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        if not 1 <= days <= 62:
            raise ValueError(f"days must be 1..62, not {days}")
        first = (pd.Timestamp(last_day) - pd.Timedelta(days=days - 1)).strftime("%Y-%m-%d")
        with self._reader() as con:
            if con is None:
                return pd.DataFrame(
                    {"household_id": pd.Series(dtype=object), "mask": pd.Series(dtype=np.int64)}
                )
            # sum(DISTINCT 1 << offset) ORs the day bits; + keeps SQLite on the covering
            # (household_id, visited_at) index (see visit_days)
            only, params = _ids_sql(household_ids)
            rows = con.execute(
                "SELECT household_id, sum(DISTINCT 1 << CAST(julianday(?) - julianday(substr(visited_at, 1, 10)) "
                f"AS INTEGER)) FROM visits WHERE +visited_at >= ? AND +visited_at < ?{only} "
                "GROUP BY household_id",
                (last_day, first, _next_day_text(last_day), *params),
            ).fetchall()
        frame = pd.DataFrame.from_records(rows, columns=["household_id", "mask"])
        frame["mask"] = frame["mask"].fillna(0).astype(np.int64)
        return frame

    def care_blocks(self) -> tuple[tuple[int, str | None], list[bytes]] | None:
        with self._reader() as con:
            if con is None or not _has_table(con, care.CARE_TABLE):
                return None
            con.execute("BEGIN")  # one snapshot: the version and the blocks agree
            try:
                meta = dict(
                    con.execute(
                        "SELECT key, value FROM gridmap_meta WHERE key IN ('data_version', ?, ?)",
                        (care.CARE_META, care.CARE_TOKEN),
                    ).fetchall()
                )
                if meta.get("data_version") is None or meta.get(care.CARE_META) != meta.get(
                    "data_version"
                ):
                    return None
                blocks = [
                    r[0]
                    for r in con.execute(f"SELECT block FROM {care.CARE_TABLE} ORDER BY grid_key")
                ]
            finally:
                con.execute("COMMIT")
        return (int(meta["data_version"]), meta.get(care.CARE_TOKEN)), blocks

    def read_attributes(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        t = TABLES[table]
        cols = [c for c in (columns or t.column_names) if c != GEOMETRY_COLUMN]
        with self._reader() as con:
            if con is None or not _has_table(con, table):
                return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
            return _read_any_version(con, t, cols, where, geometry=False)

    def _latest_per_household(
        self, table: str, column: str, out: str, until_day: str, household_ids: Sequence[str] | None
    ) -> pd.DataFrame:
        """Per household, the greatest ``column`` (stored text) before the end of ``until_day``."""
        with self._reader() as con:
            if con is None or not _has_table(con, table):
                return pd.DataFrame(
                    {"household_id": pd.Series(dtype=object), out: pd.Series(dtype=object)}
                )
            # + keeps SQLite on the (household_id, <column>) index, read in group order,
            # rather than a range scan of <column> feeding a temporary B-tree
            only, params = _ids_sql(household_ids)
            rows = con.execute(
                f'SELECT household_id, max("{column}") FROM "{table}" WHERE +"{column}" < ?{only} '
                "GROUP BY household_id",
                (_next_day_text(until_day), *params),
            ).fetchall()
        return pd.DataFrame.from_records(rows, columns=["household_id", out])

    def last_visits(
        self, until_day: str, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        return self._latest_per_household(
            "visits", "visited_at", "last_visited_at", until_day, household_ids
        )

    def last_verifications(
        self, until_day: str, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        return self._latest_per_household(
            "verifications", "verified_on", "verified_on", until_day, household_ids
        )

    def dangling_references(
        self, table: str, column: str, ref_table: str, ref_column: str
    ) -> list[str]:
        for name, col in ((table, column), (ref_table, ref_column)):
            if col not in TABLES[name].column_names:
                raise KeyError(f"{name}.{col}")
        with self._reader() as con:
            if con is None:
                return []
            rows = con.execute(
                f'SELECT DISTINCT t."{column}" FROM "{table}" t WHERE t."{column}" IS NOT NULL '
                f"AND t.\"{column}\" <> '' AND NOT EXISTS "
                f'(SELECT 1 FROM "{ref_table}" r WHERE r."{ref_column}" = t."{column}") ORDER BY 1'
            ).fetchall()
        return [r[0] for r in rows]

    @contextmanager
    def transaction(
        self, wait: float | None = None, staging: Path | None = None
    ) -> Iterator[Transaction]:
        wait = WRITE_WAIT_SECONDS if wait is None else wait
        created = False
        if not self.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _create_geopackage(self.path)
            created = True
        con = self._connect(wait=wait)
        try:
            if staging is not None:  # ATTACH is refused inside a transaction: before BEGIN
                con.execute(f"ATTACH DATABASE ? AS {STAGING_SCHEMA}", (str(staging),))
            try:
                con.execute("BEGIN IMMEDIATE")  # the write lock (WAL: readers carry on)
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreBusy(wait) from None
                raise
            if not created:
                # a file made by an older gridmap lacks the newer tables and columns: add
                # them in this transaction, so a failed write still leaves the file as it was
                _upgrade(con)
            tx = _GpkgTransaction(self, con, [STAGING_SCHEMA] if staging is not None else [])
            try:
                yield tx
                if tx.changed:
                    care.before_commit(tx)  # the care state agrees with what is committed
                    _touch(con, tx.changed)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        except BaseException:
            con.close()
            if created:
                _remove_store_files(self.path)
            raise
        con.close()


def _row_count(con: sqlite3.Connection, table: str) -> int:
    return int(con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _has_table(con: sqlite3.Connection, name: str) -> bool:
    return (
        con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
        is not None
    )


def _upgrade(con: sqlite3.Connection) -> None:
    """Bring a GeoPackage made by an older gridmap to ``SCHEMA_VERSION`` (inside a transaction).

    Adds missing tables and columns; version 3 also chains the audit log's existing
    entries (``geo.access.audit_chain``) and adds the trigger refusing ``REPLACE`` over an entry.
    """
    row = con.execute("SELECT value FROM gridmap_meta WHERE key = 'schema_version'").fetchone()
    if row is not None and int(row[0]) >= SCHEMA_VERSION:
        return
    present = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for t in TABLES.values():
        if t.name not in present:
            _create_table(con, t)
            continue
        columns = {r[1] for r in con.execute(f'PRAGMA table_info("{t.name}")')}
        for name, sqltype in t.columns:
            if name not in columns:
                con.execute(f'ALTER TABLE "{t.name}" ADD COLUMN "{name}" {sqltype}')
    _chain_existing_audit_log(con)
    _create_audit_triggers(con)
    # 9: the care state (built whole before this transaction commits: care.before_commit)
    con.execute(CARE_TABLE_DDL)
    con.execute(
        "UPDATE gridmap_meta SET value = ? WHERE key = 'schema_version' AND CAST(value AS INTEGER) < ?",
        (str(SCHEMA_VERSION), SCHEMA_VERSION),
    )


def _chain_existing_audit_log(con: sqlite3.Connection) -> None:
    """Chain the entries written before the hash chain existed (schema 3), in log order."""
    rows = con.execute(
        "SELECT fid, at, actor, action, detail, records FROM audit_log WHERE entry_hash IS NULL "
        "ORDER BY fid"
    ).fetchall()
    if not rows:
        return
    if con.execute("SELECT 1 FROM audit_log WHERE entry_hash IS NOT NULL LIMIT 1").fetchone():
        return  # a chain exists: an unchained entry in it is a break for --verify to report
    fields = ("fid", *audit_chain.FIELDS)
    previous, updates = audit_chain.GENESIS, []
    for row in rows:
        previous = audit_chain.entry_hash(previous, dict(zip(fields, row, strict=True)))
        updates.append((previous, row[0]))
    # the append-only trigger refuses every UPDATE: lifted for this one, inside the transaction
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    con.executemany("UPDATE audit_log SET entry_hash = ? WHERE fid = ?", updates)
    _create_audit_triggers(con)


def _audit_head(con: sqlite3.Connection) -> str:
    """The hash of the audit log's last entry (``GENESIS`` when empty)."""
    row = con.execute("SELECT entry_hash FROM audit_log ORDER BY fid DESC LIMIT 1").fetchone()
    return audit_chain.GENESIS if row is None or row[0] is None else str(row[0])


def _create_audit_triggers(con: sqlite3.Connection) -> None:
    """The audit log is append-only: no UPDATE, no DELETE, and no REPLACE over an entry.

    ``REPLACE INTO`` (``INSERT OR REPLACE``) deletes the old row without firing a DELETE
    trigger; a BEFORE INSERT trigger runs before the conflict is resolved, so refusing any
    new row whose fid is not past the last one stops it (and a row slipped into a gap).
    SQLite shows an fid it has yet to assign as -1 in a BEFORE INSERT trigger.
    """
    for op in ("UPDATE", "DELETE"):
        con.execute(
            f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )
    con.execute(
        "CREATE TRIGGER IF NOT EXISTS audit_log_no_replace BEFORE INSERT ON audit_log "
        "WHEN NEW.fid <> -1 AND NEW.fid <= (SELECT COALESCE(max(fid), 0) FROM audit_log) "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


def _remove_store_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(path) + suffix)
        if p.exists():
            p.unlink()


def _touch(con: sqlite3.Connection, tables: set[str]) -> None:
    con.execute(
        "UPDATE gridmap_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version'"
    )
    # the care state was brought up to date by care.before_commit: it matches this version
    con.execute(
        "INSERT INTO gridmap_meta (key, value) SELECT ?, value FROM gridmap_meta "
        "WHERE key = 'data_version' ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (care.CARE_META,),
    )
    con.execute(
        "INSERT INTO gridmap_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (care.CARE_TOKEN, care.new_token()),
    )
    for name in tables:
        t = TABLES.get(name)
        if t is not None and t.geometry:
            con.execute(
                "UPDATE gpkg_contents SET last_change=strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name=?",
                (name,),
            )


def _create_geopackage(path: Path) -> None:
    """Create an empty GeoPackage with every table of the schema, atomically."""
    tmp = path.with_name(path.name + ".creating")
    _remove_store_files(tmp)
    con = sqlite3.connect(tmp, isolation_level=None)
    try:
        con.execute(f"PRAGMA application_id = {gpkg.GPKG_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {gpkg.GPKG_USER_VERSION}")
        con.execute("BEGIN")
        for ddl in gpkg.CORE_DDL:
            con.execute(ddl)
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", gpkg.CORE_SRS)
        for t in TABLES.values():
            _create_table(con, t)
        con.execute("CREATE TABLE gridmap_meta (key TEXT PRIMARY KEY, value TEXT)")
        con.execute(CARE_TABLE_DDL)
        con.executemany(
            "INSERT INTO gridmap_meta VALUES (?, ?)",
            [("data_version", "0"), ("schema_version", str(SCHEMA_VERSION))],
        )
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()
    os.replace(tmp, path)


def _create_indexes(con: sqlite3.Connection, t: Table) -> None:
    for i, index_cols in enumerate(t.indexes):
        con.execute(
            f'CREATE INDEX IF NOT EXISTS "idx_{t.name}_{i}" ON "{t.name}" ({",".join(index_cols)})'
        )


def _create_table(con: sqlite3.Connection, t: Table) -> None:
    cols = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
    if t.geometry:
        cols.append(f"{GEOMETRY_COLUMN} {t.geometry}")
    for name, sqltype in t.columns:
        null = " NOT NULL" if name in t.key else ""
        cols.append(f'"{name}" {sqltype}{null}')
    if t.key:
        cols.append(f"UNIQUE ({','.join(t.key)})")
    con.execute(f'CREATE TABLE "{t.name}" ({", ".join(cols)})')
    _create_indexes(con, t)
    data_type = "features" if t.geometry else "attributes"
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES (?,?,?,?)",
        (t.name, data_type, t.name, gpkg.SRS_ID if t.geometry else None),
    )
    if t.geometry:
        con.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,0,0)",
            (t.name, GEOMETRY_COLUMN, t.geometry, gpkg.SRS_ID),
        )
    if t.name == "audit_log":
        _create_audit_triggers(con)
