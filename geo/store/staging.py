"""Checked rows waiting for their import's one write: a temporary SQLite file.

An import reads and checks its file chunk by chunk and puts each checked chunk here, so
memory stays bounded whatever the file's size; the store's write lock is taken only
afterwards, for the final copy (``Transaction.load_staged``). Keys are kept here too, so
that a key repeated anywhere in the file is found (``duplicates``). The file is removed
when the ``Staging`` is closed.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

import geo.store.gpkg as gpkg
from geo.store.geopackage import encode_rows
from geo.store.schema import GEOMETRY_COLUMN, WGS84, Table

KEY_SEPARATOR = " + "
"""Between the parts of a composite key, as a clerk reads it (``S1 + G1``)."""


class Staging:
    """Rows of one table (as the store encodes them) and the keys of every file row."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._dir = tempfile.TemporaryDirectory(prefix="gridmap-staging-")
        self.path = Path(self._dir.name) / "staging.sqlite"
        self.con = sqlite3.connect(self.path, isolation_level=None)
        # a scratch file: no journal, no fsync (it is thrown away on any failure)
        self.con.execute("PRAGMA journal_mode = OFF")
        self.con.execute("PRAGMA synchronous = OFF")
        self.con.execute("CREATE TABLE keys (_row INTEGER, k TEXT)")
        self.con.execute("BEGIN")
        self.columns: list[str] | None = None
        self.source_table = "rows"  # "sorted" once finished: the rows in key order

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the file."""
        self.con.close()
        self._dir.cleanup()

    def add_keys(self, rows: np.ndarray, parts: list[np.ndarray]) -> None:
        """Remember the key of each file row (None when a part is missing)."""
        keys = pd.Series(parts[0], dtype="string")
        for part in parts[1:]:
            keys = keys.str.cat(pd.Series(part, dtype="string"), sep=KEY_SEPARATOR)
        self.con.executemany(
            "INSERT INTO keys VALUES (?, ?)",
            zip(
                (int(r) for r in rows),
                keys.astype(object).where(keys.notna(), None).tolist(),
                strict=True,
            ),
        )

    def duplicates(self, limit: int) -> Iterator[tuple[int, str, int]]:
        """(row, key, first row with that key) of every row repeating an earlier row's key."""
        self.con.execute("CREATE INDEX IF NOT EXISTS keys_k ON keys (k, _row)")
        yield from self.con.execute(
            "SELECT _row, k, first FROM (SELECT _row, k, min(_row) OVER (PARTITION BY k) AS first "
            "FROM keys WHERE k IS NOT NULL) WHERE _row > first ORDER BY _row LIMIT ?",
            (limit,),
        )

    def add(self, frame: pd.DataFrame) -> None:
        """Stage checked rows (the columns of the first chunk fix the columns of all)."""
        if frame.empty:
            return
        cols, rows = encode_rows(self.table, frame)
        if self.columns is None:
            self.columns = cols
            defs = ", ".join(f'"{c}"' for c in cols)
            self.con.execute(f"CREATE TABLE rows (fid INTEGER PRIMARY KEY, {defs})")
        marks = ",".join("?" * len(cols))
        quoted = ",".join(f'"{c}"' for c in cols)
        self.con.executemany(f"INSERT INTO rows ({quoted}) VALUES ({marks})", rows)

    def count(self) -> int:
        """Rows staged."""
        if self.columns is None:
            return 0
        return int(self.con.execute("SELECT count(*) FROM rows").fetchone()[0])

    def drop_repeats(self, column: str) -> int:
        """Keep the first row of each value of ``column``; returns rows dropped."""
        if self.columns is None:
            return 0
        cur = self.con.execute(
            f'DELETE FROM rows WHERE fid NOT IN (SELECT min(fid) FROM rows GROUP BY "{column}")'
        )
        return cur.rowcount

    def finish(self) -> None:
        """Commit what was staged, in key order (before the store's transaction reads it).

        Rows sorted by the table's key fill the store's unique index page by page: the
        sort costs here, outside the store's write lock, and saves there.
        """
        keys = [k for k in self.table.key if self.columns and k in self.columns]
        if keys:
            order = ",".join(f'"{k}"' for k in keys)
            self.con.execute(f"CREATE TABLE sorted AS SELECT * FROM rows ORDER BY {order}, fid")
            self.source_table = "sorted"
        self.con.execute("COMMIT")

    def encoded(self, columns: list[str] | None = None) -> Iterator[tuple]:
        """The staged rows as stored (``columns``, default all staged), in key order once finished."""
        if self.columns is None:
            return iter(())
        cols = columns or self.columns
        quoted = ",".join(f'"{c}"' for c in cols)
        return self.con.execute(f"SELECT {quoted} FROM {self.source_table} ORDER BY rowid")

    def frames(
        self, size: int = 100_000, columns: list[str] | None = None, *, file_order: bool = False
    ) -> Iterator[pd.DataFrame]:
        """The staged rows as frames of ``size`` rows (GeoDataFrames for feature tables).

        In key order once finished; ``file_order``: as the file lists them (the preview's
        first rows).
        """
        if self.columns is None:
            return
        cols = [c for c in (columns or self.columns) if c in self.columns]
        attrs = [c for c in cols if c != GEOMETRY_COLUMN]
        with_geometry = GEOMETRY_COLUMN in cols and self.table.geometry is not None
        source = "rows" if file_order else self.source_table
        cursor = self.con.execute(
            f"SELECT {','.join(f'{chr(34)}{c}{chr(34)}' for c in cols)} FROM {source} ORDER BY rowid"
        )
        while rows := cursor.fetchmany(size):
            if not with_geometry:
                yield pd.DataFrame.from_records(rows, columns=attrs)
                continue
            frame = pd.DataFrame.from_records([r[:-1] for r in rows], columns=attrs)
            blobs = [r[-1] for r in rows]
            if self.table.geometry == "POINT":
                xs, ys = gpkg.decode_points(blobs)
                geometry = gpd.points_from_xy(xs, ys, crs=WGS84)
                nowhere = np.isnan(xs) | np.isnan(ys)
                if nowhere.any():
                    geometry[nowhere] = None
            else:
                geometry = gpd.GeoSeries(gpkg.decode_geometries(blobs), crs=WGS84).values
            yield gpd.GeoDataFrame(frame, geometry=geometry, crs=WGS84)

    def lines(self, columns: list[str]) -> pd.DataFrame:
        """``columns`` of every staged row (None where the file has no such column) and
        ``_row``, the spreadsheet line it came from (0 when the file has no key column).

        Every file row's key was recorded, in order, before its checked row was staged: the
        n-th key row and the n-th staged row are the same line of the file.
        """
        if self.columns is None:
            return pd.DataFrame(columns=["_row", *columns])
        quoted = ", ".join(f'r."{c}"' if c in self.columns else "NULL" for c in columns)
        rows = self.con.execute(
            f"SELECT coalesce(k._row, 0), {quoted} FROM rows r "
            "LEFT JOIN keys k ON k.rowid = r.fid ORDER BY r.fid"
        ).fetchall()
        return pd.DataFrame.from_records(rows, columns=["_row", *columns])

    def key_lines(self, keys: list[str]) -> dict[str, int]:
        """key (parts joined by KEY_SEPARATOR) -> the first spreadsheet line holding it."""
        if not keys:
            return {}
        found = self.con.execute(
            "SELECT k, min(_row) FROM keys WHERE k IN (SELECT value FROM json_each(?)) GROUP BY k",
            (json.dumps(keys),),
        ).fetchall()
        return {k: int(r) for k, r in found}
