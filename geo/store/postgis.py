"""The PostGIS store: the tables of ``geo.store.schema`` in a shared PostgreSQL database.

Same behaviour as the GeoPackage store (``geo.store``), for a city-wide deployment with
several app servers: ``open_store("postgresql://...")`` gives a ``PostGISStore``.

- The schema is created and upgraded by ``geo.store.pg_migrations`` on the first write;
  reading a database gridmap never wrote gives empty tables and creates nothing.
- Geometry columns are ``geometry(Point|MultiPolygon, 4326)`` with GIST indexes; a
  Polygon written to a MultiPolygon table is stored (and read back) as a one-part
  MultiPolygon. Text columns use the "C" collation so that comparisons and ordering are
  bytewise, as in SQLite: stored timestamps compare as time.
- A transaction is one PostgreSQL transaction (READ COMMITTED): it commits whole or
  rolls back whole. Writing transactions run one at a time per schema (an advisory lock,
  waited for up to 30 s), as the GeoPackage's ``BEGIN IMMEDIATE`` makes them: callers
  that read, decide and write inside a transaction stay correct with several app
  servers. Reads outside transactions never wait. Upserts are ``INSERT ... ON
  CONFLICT`` in key order. ``version()`` is a counter bumped in every committed write
  transaction.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

try:
    import psycopg
    from psycopg import sql
except ImportError as exc:  # an optional dependency: say how to get it
    raise ImportError(
        "the PostGIS store (postgresql:// locations) needs psycopg 3: "
        "pip install 'psycopg[binary]'  (or: pip install 'gridmap[postgis]')"
    ) from exc

import geo.carestate.bits as carestate_bits
import geo.carestate.sources as carestate_sources
import geo.store.care as care
import geo.store.pg_migrations as pg_migrations
from geo import timeutil
from geo.access import audit_chain
from geo.carestate.block import encode
from geo.carestate.build import (
    build_blocks,
    horizon_anchor,
    summarize_verifications,
    summarize_visits,
)
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
from geo.store.schema import GEOMETRY_COLUMN, TABLES, WGS84, Table

_stage_names = itertools.count()
_T = TypeVar("_T")


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(name)


def _columns_sql(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(_ident(n) for n in names)


def _check_columns(table: Table, names: Sequence[str]) -> None:
    """Refuse unknown column names before they reach SQL (they become identifiers)."""
    known = {*table.column_names, GEOMETRY_COLUMN}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"{table.name}: unknown column(s) {', '.join(map(str, unknown))}")


def _coerce(table: Table, column: str, value: Any) -> Any:
    """A bindable value; INTEGER columns take whole floats and booleans as ints, as SQLite does."""
    value = _py(value)
    if dict(table.columns).get(column) == "INTEGER":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    return value


def _ids_sql(household_ids: Sequence[str] | None) -> tuple[str, list[Any]]:
    """An ``AND`` clause keeping only ``household_ids`` (one array parameter)."""
    if household_ids is None:
        return "", []
    return " AND household_id = ANY(%s)", [[str(h) for h in household_ids]]


def _where_sql(table: Table, where: Where | None) -> tuple[sql.Composable, list[Any]]:
    """A WHERE clause for a where-dict, as ``geo.store._where_sql`` builds for SQLite."""
    if not where:
        return sql.SQL(""), []
    _check_columns(table, list(where))
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for col, value in where.items():
        if value is None:
            parts.append(sql.SQL("{} IS NULL").format(_ident(col)))
        elif isinstance(value, list | tuple | set | np.ndarray | pd.Series | pd.Index):
            values = [_coerce(table, col, v) for v in value]
            if not values:
                parts.append(sql.SQL("FALSE"))
                continue
            # IN (...) semantics: a NULL in the list matches nothing, as in SQLite
            parts.append(sql.SQL("{} = ANY(%s)").format(_ident(col)))
            params.append(values)
        else:
            parts.append(sql.SQL("{} = %s").format(_ident(col)))
            params.append(_coerce(table, col, value))
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params


def audit_head(conn: psycopg.Connection) -> str:
    """The hash of the audit log's last entry (``GENESIS`` when empty)."""
    row = conn.execute("SELECT entry_hash FROM audit_log ORDER BY fid DESC LIMIT 1").fetchone()
    return audit_chain.GENESIS if row is None or row[0] is None else str(row[0])


def _read_any_version(
    conn: psycopg.Connection,
    table: Table,
    columns: Sequence[str] | None,
    where: Where | None,
    geometry: bool = True,
) -> pd.DataFrame:
    """``_read``; on a schema migrated by an older gridmap, the columns it lacks read as None.

    Reading never migrates (the first write does): e.g. the audit log of a schema-2
    database has no ``entry_hash`` yet.
    """
    try:
        return _read(conn, table, columns, where, geometry)
    except psycopg.errors.UndefinedColumn:
        pass
    present = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table.name,),
        )
    }
    wanted = list(columns) if columns is not None else table.column_names
    older = Table(
        table.name,
        tuple(c for c in table.columns if c[0] in present),
        table.key,
        table.geometry,
        table.indexes,
    )
    frame = _read(conn, older, [c for c in wanted if c in present], where, geometry)
    for column in wanted:
        if column not in frame.columns and column != GEOMETRY_COLUMN:
            frame[column] = None
    keep = [c for c in wanted if c != GEOMETRY_COLUMN]
    return frame[keep + ([frame.geometry.name] if isinstance(frame, gpd.GeoDataFrame) else [])]


def _read(
    conn: psycopg.Connection,
    table: Table,
    columns: Sequence[str] | None,
    where: Where | None,
    geometry: bool = True,
) -> pd.DataFrame:
    cols = list(columns) if columns is not None else table.column_names
    attr_cols = [c for c in cols if c != GEOMETRY_COLUMN]
    _check_columns(table, attr_cols)
    select: list[sql.Composable] = [_ident(c) for c in attr_cols]
    geometry_type = table.geometry if geometry else None
    if geometry_type == "POINT":
        select += [sql.SQL("ST_X(geom)"), sql.SQL("ST_Y(geom)")]
    elif geometry_type:
        select.append(sql.SQL("ST_AsBinary(geom)"))
    if not select:
        select = [sql.SQL("1")]
    clause, params = _where_sql(table, where)
    query = sql.SQL("SELECT {} FROM {}{} ORDER BY fid").format(
        sql.SQL(", ").join(select), _ident(table.name), clause
    )
    # binary transfer: WKB and floats arrive as bytes/floats without text parsing
    with conn.cursor(binary=True) as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    n_attr = len(attr_cols)
    if not geometry_type:
        return pd.DataFrame.from_records(rows, columns=attr_cols)
    frame = pd.DataFrame.from_records([r[:n_attr] for r in rows], columns=attr_cols)
    if geometry_type == "POINT":
        xy = np.array([r[n_attr:] for r in rows], dtype=float).reshape(len(rows), 2)
        points = gpd.points_from_xy(xy[:, 0], xy[:, 1], crs=WGS84)
        return gpd.GeoDataFrame(frame, geometry=points, crs=WGS84)
    wkbs = np.array([None if r[-1] is None else bytes(r[-1]) for r in rows], dtype=object)
    shapes = gpd.GeoSeries(shapely.from_wkb(wkbs), crs=WGS84).values
    return gpd.GeoDataFrame(frame, geometry=shapes, crs=WGS84)


_EWKB_POINT = np.dtype(
    [("order", "u1"), ("wkb_type", "<u4"), ("srid", "<u4"), ("x", "<f8"), ("y", "<f8")]
)


def _hex_ewkb(frame: pd.DataFrame, multi: bool = False) -> list[str | None]:
    """Hex EWKB (SRID 4326, 2D) of a GeoDataFrame's geometry, reprojected to WGS-84.

    With ``multi``, polygons become one-part multipolygons (the column type's).
    """
    geoms = frame.geometry.to_crs(WGS84).values if frame.crs else frame.geometry.values
    arr = np.asarray(geoms, dtype=object)
    if len(arr) and (shapely.get_type_id(arr) == 0).all() and not shapely.is_empty(arr).any():
        return _point_hex_ewkb(shapely.get_x(arr), shapely.get_y(arr))
    if shapely.has_z(arr).any():
        arr = shapely.force_2d(arr)
    if multi:
        polygons = shapely.get_type_id(arr) == 3
        if polygons.any():
            arr[polygons] = shapely.multipolygons(
                arr[polygons], indices=np.arange(int(polygons.sum()))
            )
    arr = shapely.set_srid(arr, 4326)
    return list(shapely.to_wkb(arr, hex=True, include_srid=True))


def _point_hex_ewkb(x: np.ndarray, y: np.ndarray) -> list[str | None]:
    """Hex EWKB points built with numpy (10x faster than shapely for 1M points); NaN -> NULL."""
    rec = np.empty(len(x), dtype=_EWKB_POINT)
    rec["order"] = 1  # little endian
    rec["wkb_type"] = 0x20000001  # point with SRID
    rec["srid"] = 4326
    rec["x"] = x
    rec["y"] = y
    text = rec.tobytes().hex()
    width = 2 * _EWKB_POINT.itemsize
    missing = np.isnan(x) | np.isnan(y)
    return [
        None if m else text[i : i + width]
        for m, i in zip(missing, range(0, len(text), width), strict=True)
    ]


def _copy_values(series: pd.Series, integer: bool) -> list[Any]:
    """One column's values as COPY takes them: missing -> None, numpy scalars -> Python.

    INTEGER columns take whole floats (a column with gaps arrives as float) and booleans
    as ints, as SQLite's INTEGER affinity does.
    """
    values = series.astype(object).where(series.notna(), None).tolist()
    if series.dtype == object:
        values = [_py(v) for v in values]
    if integer:
        values = [
            int(v) if isinstance(v, bool) or (isinstance(v, float) and v.is_integer()) else v
            for v in values
        ]
    return values


class _PgTransaction(Transaction):
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.changed: set[str] = set()

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO gridmap_meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )
        self.changed.add("gridmap_meta")

    def _prepared(self, table: Table, frame: pd.DataFrame) -> tuple[list[str], bool, list[tuple]]:
        """The table columns ``frame`` holds, whether it brings geometry, and its rows to COPY."""
        cols = [c for c in table.column_names if c in frame.columns]
        with_geom = bool(
            table.geometry
            and isinstance(frame, gpd.GeoDataFrame)
            and frame._geometry_column_name in frame.columns
        )
        types = dict(table.columns)
        columns = [_copy_values(frame[c], types[c] == "INTEGER") for c in cols]
        if with_geom:
            columns.append(_hex_ewkb(frame, multi=table.geometry == "MULTIPOLYGON"))
        rows = list(zip(*columns, strict=True)) if columns else [()] * len(frame)
        return cols, with_geom, rows

    def _copy(self, target: str, columns: list[str], rows: Iterable[tuple]) -> None:
        with (
            self.conn.cursor() as cur,
            cur.copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(_ident(target), _columns_sql(columns))
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def _stage(self, table: Table, frame: pd.DataFrame) -> tuple[str, list[str], bool]:
        """COPY ``frame`` into a temporary table; returns its name, columns, has-geometry."""
        cols, with_geom, rows = self._prepared(table, frame)
        types = dict(table.columns)
        pg_type = {"TEXT": "text", "INTEGER": "bigint", "BLOB": "bytea"}
        defs = [sql.SQL("seq bigint")]
        defs += [sql.SQL("{} {}").format(_ident(c), sql.SQL(pg_type[types[c]])) for c in cols]
        if with_geom:
            defs.append(sql.SQL("geom geometry"))
        name = f"gridmap_stage_{next(_stage_names)}"
        with self.conn.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
                    _ident(name), sql.SQL(", ").join(defs)
                )
            )
        copy_cols = ["seq", *cols, *(["geom"] if with_geom else [])]
        self._copy(name, copy_cols, ((seq, *row) for seq, row in enumerate(rows)))
        return name, cols, with_geom

    def _insert_from_stage(self, table: Table, frame: pd.DataFrame, upsert: bool) -> int:
        if frame.empty:
            return 0
        name, cols, with_geom = self._stage(table, frame)
        target = [*cols, *(["geom"] if with_geom else [])]
        values: list[sql.Composable] = [_ident(c) for c in cols]
        if with_geom:
            geom = (
                sql.SQL("ST_Multi(geom)") if table.geometry == "MULTIPOLYGON" else sql.SQL("geom")
            )
            values.append(geom)
        if upsert and table.key:
            # The last row of a key wins (as sqlite's executemany). Rows are inserted, and
            # so locked, in key order: two writers upserting the same keys cannot deadlock.
            # New rows take their fid in frame order (first occurrence of a key), so reads
            # (ORDER BY fid) list them as the GeoPackage store does.
            source = sql.SQL(
                "SELECT {vals}, fid FROM (SELECT *, nextval(pg_get_serial_sequence({table}, 'fid')) "
                "AS fid FROM (SELECT DISTINCT ON ({key}) *, min(seq) OVER (PARTITION BY {key}) "
                "AS first_seq FROM {stage} ORDER BY {key}, seq DESC) d ORDER BY first_seq) s "
                "ORDER BY {key}"
            ).format(
                vals=sql.SQL(", ").join(values),
                key=_columns_sql(table.key),
                stage=_ident(name),
                table=sql.Literal(table.name),
            )
            target = [*target, "fid"]
            updates = [c for c in target if c not in table.key and c != "fid"]
            action = (
                sql.SQL("DO UPDATE SET ")
                + sql.SQL(", ").join(
                    sql.SQL("{c} = EXCLUDED.{c}").format(c=_ident(c)) for c in updates
                )
                if updates
                else sql.SQL("DO NOTHING")
            )
            conflict = sql.SQL(" ON CONFLICT ({}) ").format(_columns_sql(table.key)) + action
        else:
            source = sql.SQL("SELECT {} FROM {} ORDER BY seq").format(
                sql.SQL(", ").join(values), _ident(name)
            )
            conflict = sql.SQL("")
        with self.conn.cursor() as cur:
            cur.execute(
                sql.SQL("INSERT INTO {} ({}) ").format(_ident(table.name), _columns_sql(target))
                + source
                + conflict
            )
            cur.execute(sql.SQL("DROP TABLE {}").format(_ident(name)))
        self.changed.add(table.name)
        return len(frame)

    def _upsert(self, table: str, frame: pd.DataFrame) -> int:
        return self._insert_from_stage(TABLES[table], frame, upsert=True)

    def _replace(self, table: str, frame: pd.DataFrame | Iterable[pd.DataFrame]) -> int:
        # DELETE, not TRUNCATE: readers keep their snapshot instead of waiting on a lock
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {}").format(_ident(table)))
        self.changed.add(table)
        frames = [frame] if isinstance(frame, pd.DataFrame) else frame  # chunks of a bulk load
        return sum(self.append(table, chunk) for chunk in frames)

    def _append(self, table: str, frame: pd.DataFrame) -> int:
        if frame.empty:
            return 0
        if table == "audit_log":  # chained here, inside the write lock: one head at a time
            frame = audit_chain.chained(frame, audit_head(self.conn))
        # straight into the table: COPY order is fid order, as in the frame
        t = TABLES[table]
        cols, with_geom, rows = self._prepared(t, frame)
        self._copy(table, [*cols, *(["geom"] if with_geom else [])], rows)
        self.changed.add(table)
        return len(frame)

    def _update(self, table: str, where: Where, values: dict[str, Any]) -> int:
        t = TABLES[table]
        _check_columns(t, list(values))
        sets = sql.SQL(", ").join(sql.SQL("{} = %s").format(_ident(c)) for c in values)
        clause, params = _where_sql(t, where)
        with self.conn.cursor() as cur:
            cur.execute(
                sql.SQL("UPDATE {} SET {}{}").format(_ident(table), sets, clause),
                [_coerce(t, c, v) for c, v in values.items()] + params,
            )
            count = cur.rowcount
        self.changed.add(table)
        return count

    def _delete(self, table: str, where: Where) -> int:
        clause, params = _where_sql(TABLES[table], where)
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("DELETE FROM {}{}").format(_ident(table), clause), params)
            count = cur.rowcount
        self.changed.add(table)
        return count

    def count_sign_in(
        self, username: str, now: str, max_failures: int, lock_until: str
    ) -> dict[str, Any] | None:
        columns = TABLES["users"].column_names
        row = self.conn.execute(
            count_sign_in_sql("%s"), (max_failures, lock_until, username, now)
        ).fetchone()
        if row is not None:
            self.changed.add("users")
            return {**dict(zip(columns, row, strict=True)), "counted": True}
        row = self.conn.execute(
            sql.SQL("SELECT {} FROM users WHERE username = %s").format(_columns_sql(columns)),
            (username,),
        ).fetchone()
        return None if row is None else {**dict(zip(columns, row, strict=True)), "counted": False}

    def _set_grid_ids(
        self, table: str, key_values: Sequence[str], grid_ids: Sequence[str | None]
    ) -> None:
        t = TABLES[table]
        key = t.key[0]
        frame = pd.DataFrame(
            {key: list(key_values), "grid_id": list(grid_ids)}, columns=[key, "grid_id"]
        )
        if len(key_values) != len(grid_ids):
            raise ValueError("set_grid_ids: key_values and grid_ids differ in length")
        self.changed.add(table)
        if frame.empty:
            return
        name, _, _ = self._stage(Table(t.name, ((key, "TEXT"), ("grid_id", "TEXT")), (key,)), frame)
        with self.conn.cursor() as cur:
            cur.execute(
                sql.SQL(
                    "UPDATE {t} SET grid_id = s.grid_id FROM (SELECT DISTINCT ON ({k}) {k}, grid_id "
                    "FROM {s} ORDER BY {k}, seq DESC) s WHERE {t}.{k} = s.{k}"
                ).format(t=_ident(table), k=_ident(key), s=_ident(name))
            )
            cur.execute(sql.SQL("DROP TABLE {}").format(_ident(name)))

    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        return _read(self.conn, TABLES[table], columns, where)

    def meta_value(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM gridmap_meta WHERE key = %s", (key,)).fetchone()
        return None if row is None else str(row[0])

    def care_grids_of(self, household_ids: Sequence[str]) -> set[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT coalesce(grid_id, '') FROM households WHERE household_id = ANY(%s)",
            (list(household_ids),),
        ).fetchall()
        return {str(r[0]) for r in rows}

    def care_rebuild(self, keys: set[str] | None) -> None:
        chosen = None if keys is None else sorted(keys)
        households, visits, verifications = self._care_rows(chosen)
        latest = [
            int(days.max()) if len(days) and days.max() >= 0 else None
            for days in (
                carestate_bits.day_numbers(visits["visited_at"].to_numpy(object)),
                carestate_bits.day_numbers(verifications["verified_on"].to_numpy(object)),
            )
        ]
        anchor = horizon_anchor(carestate_bits.day_number(timeutil.today()), *latest)
        blocks = build_blocks(
            households,
            summarize_visits(visits, anchor),
            summarize_verifications(verifications, anchor),
            anchor,
        )
        if chosen is None:
            self.conn.execute(f"DELETE FROM {care.CARE_TABLE}")
        else:
            self.conn.execute(f"DELETE FROM {care.CARE_TABLE} WHERE grid_key = ANY(%s)", (chosen,))
        with self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {care.CARE_TABLE} (grid_key, anchor, block) VALUES (%s, %s, %s)",
                [(key, block.anchor, encode(block)) for key, block in blocks.items()],
            )

    def _care_rows(self, keys: list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """The households of grid ``keys`` (all: None) and their visits and verifications."""
        if keys is None:
            clause, params = "", []
        else:
            named, unassigned = care.named_keys(keys)
            clause = " WHERE grid_id = ANY(%s)" + (
                " OR grid_id IS NULL OR grid_id = ''" if unassigned else ""
            )
            params = [named]
        with self.conn.cursor(binary=True) as cur:
            cur.execute(
                "SELECT fid, household_id, grid_id, categories, building, address, last_verified, "
                f"ST_X(geom), ST_Y(geom) FROM households{clause} ORDER BY fid",
                params,
            )
            rows = cur.fetchall()
        households = pd.DataFrame.from_records(
            rows,
            columns=["fid", *carestate_sources.HOUSEHOLD_COLUMNS, "lon", "lat"],
        )
        for column in carestate_sources.HOUSEHOLD_COLUMNS:
            households[column] = pd.Series(households[column].to_numpy(object), dtype=object)
        for column in ("lon", "lat"):
            households[column] = pd.to_numeric(households[column]).astype(float)
        only = "" if keys is None else " WHERE household_id = ANY(%s)"
        ids = [] if keys is None else [households["household_id"].astype(str).tolist()]
        frames = []
        for table, column in (("visits", "visited_at"), ("verifications", "verified_on")):
            found = self.conn.execute(
                f"SELECT household_id, {column} FROM {table}{only}", ids
            ).fetchall()
            frames.append(
                pd.DataFrame.from_records(found, columns=["household_id", column]).astype(object)
            )
        return households, frames[0], frames[1]


# Connections for reads are pooled per process and location: pages call
# ``open_store(location)`` afresh on every rerun, and a new PostgreSQL connection costs
# a fork on the server plus authentication.
_POOL_LOCK = threading.Lock()
_IDLE: dict[str, list[psycopg.Connection]] = {}
_POOL_PID = os.getpid()
_INHERITED: list[psycopg.Connection] = []  # a forked parent's sockets: never close them here
MAX_IDLE = 8
MAX_READERS = 8  # reads in flight per process and location; more threads wait their turn
_SLOTS: dict[str, threading.BoundedSemaphore] = {}
WRITE_LOCK_CLASS = 0x6772  # "gr": advisory lock class of the per-schema write lock
_READY: set[str] = set()  # locations whose schema exists (it is never dropped by gridmap)
_UPGRADED: set[str] = set()  # locations migrated to the latest version by this process
_TABLES_READY: set[tuple[str, str]] = set()  # (location, table) seen to exist (never dropped)


def _take(location: str) -> psycopg.Connection | None:
    global _POOL_PID
    with _POOL_LOCK:
        if _POOL_PID != os.getpid():
            for conns in _IDLE.values():
                _INHERITED.extend(conns)
            _IDLE.clear()
            _POOL_PID = os.getpid()
        idle = _IDLE.get(location, [])
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
    return None


def _give(location: str, conn: psycopg.Connection) -> None:
    if conn.closed:
        return
    healthy = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with _POOL_LOCK:
        idle = _IDLE.setdefault(location, [])
        if healthy and _POOL_PID == os.getpid() and len(idle) < MAX_IDLE:
            idle.append(conn)
            return
    conn.close()


class PostGISStore(Store):
    """A PostgreSQL/PostGIS database holding the tables of ``geo.store.schema``."""

    def __init__(self, location: str) -> None:
        self.location = location

    def _connect(self, autocommit: bool) -> psycopg.Connection:
        conn = psycopg.connect(self.location, autocommit=autocommit)
        encoding = conn.info.encoding
        if encoding not in ("utf-8", "utf8"):
            conn.close()
            raise RuntimeError(
                f"{_redact(self.location)}: the database encoding is {encoding}; gridmap needs "
                "UTF8 (createdb -E UTF8 -T template0)"
            )
        return conn

    def _reading(self, query: Callable[[psycopg.Connection], _T]) -> _T:
        """``query(conn)`` on a pooled autocommit connection; retried once on a stale one.

        At most ``MAX_READERS`` run at once per process, so fifty sessions of one app
        server hold eight connections, not fifty (PostgreSQL's default limit is 100).
        """
        with _POOL_LOCK:
            slots = _SLOTS.setdefault(self.location, threading.BoundedSemaphore(MAX_READERS))
        with slots:
            return self._read_now(query)

    def _read_now(self, query: Callable[[psycopg.Connection], _T]) -> _T:
        conn = _take(self.location)
        if conn is not None:
            try:
                result = query(conn)
            except psycopg.OperationalError:  # e.g. the server restarted since it was pooled
                conn.close()
            else:
                _give(self.location, conn)
                return result
        conn = self._connect(autocommit=True)
        try:
            result = query(conn)
        except BaseException:
            conn.close()
            raise
        _give(self.location, conn)
        return result

    def close(self) -> None:
        """Close this process's idle connections to this location (they reopen on demand)."""
        with _POOL_LOCK:
            idle = _IDLE.pop(self.location, []) if _POOL_PID == os.getpid() else []
        for conn in idle:
            conn.close()

    def _schema_ready(self, conn: psycopg.Connection) -> bool:
        if self.location in _READY:
            return True
        row = conn.execute("SELECT to_regclass('gridmap_meta') IS NOT NULL").fetchone()
        if row and row[0]:
            _READY.add(self.location)
            return True
        return False

    def _table_ready(self, conn: psycopg.Connection, table: str) -> bool:
        """The schema exists and holds ``table`` (a database migrated by an older gridmap may not)."""
        if (self.location, table) in _TABLES_READY:
            return True
        if not self._schema_ready(conn):
            return False
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
        if row and row[0]:
            _TABLES_READY.add((self.location, table))
            return True
        return False

    def exists(self) -> bool:
        return self._reading(self._schema_ready)

    def version(self) -> int:
        def query(conn: psycopg.Connection) -> int:
            if not self._schema_ready(conn):
                return 0
            row = conn.execute(
                "SELECT value FROM gridmap_meta WHERE key = 'data_version'"
            ).fetchone()
            return int(row[0]) if row else 0

        return self._reading(query)

    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        t = TABLES[table]

        def query(conn: psycopg.Connection) -> pd.DataFrame:
            if not self._table_ready(conn, t.name):
                return empty_frame(
                    t, [c for c in (columns or t.column_names) if c != GEOMETRY_COLUMN]
                )
            return _read_any_version(conn, t, columns, where)

        return self._reading(query)

    def read_attributes(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        t = TABLES[table]
        cols = [c for c in (columns or t.column_names) if c != GEOMETRY_COLUMN]

        def query(conn: psycopg.Connection) -> pd.DataFrame:
            if not self._table_ready(conn, t.name):
                return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
            return _read_any_version(conn, t, cols, where, geometry=False)

        return self._reading(query)

    def care_blocks(self) -> tuple[tuple[int, str | None], list[bytes]] | None:
        def query(conn: psycopg.Connection) -> tuple[tuple[int, str | None], list[bytes]] | None:
            if not self._table_ready(conn, care.CARE_TABLE):
                return None
            # one statement, one snapshot: the version and the blocks agree
            rows = conn.execute(
                "SELECT v.value, (SELECT value FROM gridmap_meta WHERE key = %s), c.block "
                "FROM (SELECT value FROM gridmap_meta WHERE key = 'data_version') v "
                "JOIN (SELECT value FROM gridmap_meta WHERE key = %s) m ON m.value = v.value "
                f"LEFT JOIN {care.CARE_TABLE} c ON true ORDER BY c.grid_key",
                (care.CARE_TOKEN, care.CARE_META),
            ).fetchall()
            if not rows:
                return None
            key = (int(rows[0][0]), rows[0][1])
            return key, [bytes(r[2]) for r in rows if r[2] is not None]

        return self._reading(query)

    def meta(self, key: str) -> str | None:
        def query(conn: psycopg.Connection) -> str | None:
            if not self._schema_ready(conn):
                return None
            row = conn.execute("SELECT value FROM gridmap_meta WHERE key = %s", (key,)).fetchone()
            return None if row is None else str(row[0])

        return self._reading(query)

    def count(self, table: str) -> int:
        t = TABLES[table]

        def query(conn: psycopg.Connection) -> int:
            if not self._table_ready(conn, t.name):
                return 0
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(_ident(t.name))).fetchone()
            return int(row[0])

        return self._reading(query)

    def visit_days(self, first_day: str, last_day: str) -> pd.DataFrame:
        def query(conn: psycopg.Connection) -> list[tuple]:
            if not self._schema_ready(conn):
                return []
            # visited_at is 'YYYY-MM-DD HH:MM:SS' local time in "C" collation: text order is time order
            return conn.execute(
                "SELECT DISTINCT household_id, substr(visited_at, 1, 10) FROM visits "
                "WHERE visited_at >= %s AND visited_at < %s",
                (str(first_day), _next_day_text(last_day)),
            ).fetchall()

        rows = self._reading(query)
        if not rows:
            return pd.DataFrame(
                {"household_id": pd.Series(dtype=object), "day": pd.Series(dtype=object)}
            )
        return pd.DataFrame.from_records(rows, columns=["household_id", "day"])

    def visit_day_masks(
        self, last_day: str, days: int, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        if not 1 <= days <= 62:
            raise ValueError(f"days must be 1..62, not {days}")
        last = pd.Timestamp(last_day).strftime("%Y-%m-%d")
        first = (pd.Timestamp(last_day) - pd.Timedelta(days=days - 1)).strftime("%Y-%m-%d")

        def query(conn: psycopg.Connection) -> list[tuple]:
            if not self._schema_ready(conn):
                return []
            # bit k = a visit on last_day minus k days; bit_or folds a household's days
            only, params = _ids_sql(household_ids)
            return conn.execute(
                "SELECT household_id, bit_or(1::bigint << (%s::date - substr(visited_at, 1, 10)::date)) "
                f"FROM visits WHERE visited_at >= %s AND visited_at < %s{only} GROUP BY household_id",
                (last, first, _next_day_text(last_day), *params),
            ).fetchall()

        rows = self._reading(query)
        if not rows:
            return pd.DataFrame(
                {"household_id": pd.Series(dtype=object), "mask": pd.Series(dtype=np.int64)}
            )
        frame = pd.DataFrame.from_records(rows, columns=["household_id", "mask"])
        frame["mask"] = frame["mask"].fillna(0).astype(np.int64)
        return frame

    def _latest_per_household(
        self, table: str, column: str, out: str, until_day: str, household_ids: Sequence[str] | None
    ) -> pd.DataFrame:
        """Per household, the greatest ``column`` (stored text) before the end of ``until_day``."""

        def query(conn: psycopg.Connection) -> list[tuple]:
            if not self._table_ready(conn, table):
                return []
            only, params = _ids_sql(household_ids)
            return conn.execute(
                sql.SQL(
                    "SELECT household_id, max({c}) FROM {t} WHERE {c} < %s"
                    + only
                    + " GROUP BY household_id"
                ).format(c=sql.Identifier(column), t=_ident(table)),
                (_next_day_text(until_day), *params),
            ).fetchall()

        rows = self._reading(query)
        if not rows:
            return pd.DataFrame(
                {"household_id": pd.Series(dtype=object), out: pd.Series(dtype=object)}
            )
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

        def query(conn: psycopg.Connection) -> list[str]:
            if not self._schema_ready(conn):
                return []
            rows = conn.execute(
                sql.SQL(
                    "SELECT DISTINCT t.{c} FROM {t} t WHERE t.{c} IS NOT NULL AND t.{c} <> '' "
                    "AND NOT EXISTS (SELECT 1 FROM {rt} r WHERE r.{rc} = t.{c}) ORDER BY 1"
                ).format(
                    c=_ident(column), t=_ident(table), rt=_ident(ref_table), rc=_ident(ref_column)
                )
            ).fetchall()
            return [r[0] for r in rows]

        return self._reading(query)

    def upgrade(self) -> list[int]:
        """Apply pending schema migrations now; returns the migration numbers applied."""
        with self._connect(autocommit=False) as conn:
            applied = pg_migrations.upgrade(conn)
        _READY.add(self.location)
        _UPGRADED.add(self.location)
        return applied

    def _writer(self) -> psycopg.Connection:
        """A live connection for one transaction: a pooled one that answers, else a new one."""
        conn = _take(self.location)
        if conn is not None:
            try:
                conn.execute("SELECT 1")
                conn.autocommit = False
                return conn
            except psycopg.Error:
                conn.close()
        return self._connect(autocommit=False)

    @contextmanager
    def transaction(
        self, wait: float | None = None, staging: Path | None = None
    ) -> Iterator[Transaction]:
        wait = WRITE_WAIT_SECONDS if wait is None else wait
        conn = self._writer()
        try:
            with conn.transaction():
                # in the same transaction: a failed first write leaves no schema behind
                upgrading = self.location not in _UPGRADED
                if upgrading:
                    pg_migrations.upgrade(conn)
                # One writing transaction at a time per schema, as the GeoPackage's BEGIN
                # IMMEDIATE: code that reads, decides, then writes (new report ids, sign-in
                # counters) must not decide on a snapshot another writer is changing.
                # Readers are never blocked; the wait is bounded as sqlite's timeout.
                conn.execute(f"SET LOCAL lock_timeout = '{float(wait)}s'")
                try:
                    conn.execute(
                        "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))",
                        (WRITE_LOCK_CLASS,),
                    )
                except psycopg.errors.LockNotAvailable:
                    raise StoreBusy(wait) from None
                tx = _PgTransaction(conn)
                yield tx
                if tx.changed:
                    care.before_commit(tx)  # the care state agrees with what is committed
                    conn.execute(
                        "UPDATE gridmap_meta SET value = (value::bigint + 1)::text "
                        "WHERE key = 'data_version'"
                    )
                    conn.execute(
                        "INSERT INTO gridmap_meta (key, value) SELECT %s, value FROM "
                        "gridmap_meta WHERE key = 'data_version' "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        (care.CARE_META,),
                    )
                    tx.set_meta(care.CARE_TOKEN, care.new_token())
        except BaseException:
            conn.close()
            raise
        if upgrading:
            _READY.add(self.location)
            _UPGRADED.add(self.location)
        conn.autocommit = True
        _give(self.location, conn)


def _redact(location: str) -> str:
    """The location without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(location)
    except psycopg.ProgrammingError:
        return "postgresql://..."
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())
