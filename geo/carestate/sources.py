"""The rows a block is built from, read from a GeoPackage's SQLite connection in few passes.

``read_sources`` returns what ``build.build_blocks`` takes for some grid keys (or all):
households with their point, and the visit and verification summaries folded in SQL (one
row per household: the day bits of the 128 days ending on the anchor, the latest visit, a
count of texts not in the stored format). Selecting by grid uses the
``grid_id`` indexes and the visits' (household_id, visited_at) index, so rebuilding the
blocks of the few grids a write touched reads only their rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

import geo.store.gpkg as gpkg
from geo.carestate import bits

# text patterns of the stored formats (GLOB: the day may still be no real date; julianday says)
STAMP_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
DAY_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
HOUSEHOLD_COLUMNS = [
    "household_id",
    "grid_id",
    "categories",
    "building",
    "address",
    "last_verified",
]


@dataclass
class Sources:
    """The rows of some grids that their blocks are built from."""

    households: pd.DataFrame
    visit_summary: pd.DataFrame
    verification_summary: pd.DataFrame
    anchor: int


def _grid_clause(keys: Sequence[str] | None, column: str = "grid_id") -> tuple[str, list]:
    """A WHERE clause keeping rows whose stored ``column`` is one of ``keys`` ("" = none)."""
    if keys is None:
        return "", []
    named = [k for k in keys if k != ""]
    parts, params = [], []
    if named:
        parts.append(f"{column} IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(named, ensure_ascii=False))
    if "" in keys:
        parts.append(f"{column} IS NULL OR {column} = ''")
    return (" WHERE " + " OR ".join(f"({p})" for p in parts)) if parts else " WHERE 0", params


def latest_day(con: sqlite3.Connection, keys: Sequence[str] | None = None) -> int | None:
    """The latest visit or verification day of the households of ``keys`` (all: None), among
    the texts that hold a real date (None: none)."""
    clause, params = _grid_clause(keys)
    only = (
        ""
        if keys is None
        else f" AND household_id IN (SELECT household_id FROM households{clause})"
    )
    days = []
    for table, column, pattern in (
        ("visits", "visited_at", STAMP_GLOB),
        ("verifications", "verified_on", DAY_GLOB),
    ):
        # newest first along the column's index; texts that are no date are passed over
        row = con.execute(
            f"SELECT substr({column}, 1, 10) FROM {table} WHERE {column} GLOB '{pattern}' "
            f"AND date(substr({column}, 1, 10), '+0 days') = substr({column}, 1, 10){only} "
            f"ORDER BY {column} DESC LIMIT 1",
            params,
        ).fetchone()
        if row is not None:
            days.append(int(bits.day_numbers(np.array([row[0]], dtype=object))[0]))
    return max(days) if days else None


def read_sources(
    con: sqlite3.Connection, anchor: int, keys: Sequence[str] | None = None
) -> Sources:
    """The households and their visit and verification summaries of ``keys`` (all: None)."""
    clause, params = _grid_clause(keys)
    rows = con.execute(
        "SELECT fid, household_id, grid_id, categories, building, address, last_verified, geom "
        f"FROM households{clause} ORDER BY fid",
        params,
    ).fetchall()
    households = pd.DataFrame.from_records(
        [r[:-1] for r in rows], columns=["fid", *HOUSEHOLD_COLUMNS]
    )
    households["lon"], households["lat"] = gpkg.decode_points([r[-1] for r in rows])
    for column in HOUSEHOLD_COLUMNS:
        households[column] = pd.Series(households[column].to_numpy(object), dtype=object)

    anchor_text = str(np.datetime64(anchor, "D"))
    only = (
        ""
        if keys is None
        else f" WHERE household_id IN (SELECT household_id FROM households{clause})"
    )
    # k: days before the anchor (NULL when the text holds no date); bits 0..63 and 64..127 as
    # two sums of distinct powers of two (= bitwise OR; bit 63 is negative in SQLite, still exact)
    visits = con.execute(
        "SELECT household_id, "
        "coalesce(sum(DISTINCT CASE WHEN k BETWEEN 0 AND 63 THEN 1 << k END), 0), "
        "coalesce(sum(DISTINCT CASE WHEN k BETWEEN 64 AND 127 THEN 1 << (k - 64) END), 0), "
        f"max(visited_at), sum(visited_at IS NOT NULL AND (visited_at NOT GLOB '{STAMP_GLOB}' "
        "OR date(substr(visited_at, 1, 10), '+0 days') IS NOT substr(visited_at, 1, 10))) "
        "FROM (SELECT household_id, visited_at, "
        "CAST(julianday(?) - julianday(substr(visited_at, 1, 10)) AS INTEGER) AS k "
        f"FROM visits{only}) GROUP BY household_id",
        [anchor_text, *params],
    ).fetchall()
    visit_summary = pd.DataFrame.from_records(
        visits, columns=["household_id", "lo", "hi", "last_visited_at", "odd"]
    )
    verifications = con.execute(
        "SELECT household_id, "
        "coalesce(sum(DISTINCT CASE WHEN k BETWEEN 0 AND 63 THEN 1 << k END), 0), "
        "coalesce(sum(DISTINCT CASE WHEN k BETWEEN 64 AND 127 THEN 1 << (k - 64) END), 0), "
        f"sum(verified_on IS NOT NULL AND (verified_on NOT GLOB '{DAY_GLOB}' "
        "OR date(verified_on, '+0 days') IS NOT verified_on OR k < 0)) "
        "FROM (SELECT household_id, verified_on, "
        "CAST(julianday(?) - julianday(verified_on) AS INTEGER) AS k "
        f"FROM verifications{only}) GROUP BY household_id",
        [anchor_text, *params],
    ).fetchall()
    verification_summary = pd.DataFrame.from_records(
        verifications, columns=["household_id", "lo", "hi", "odd"]
    )
    for frame, rows in ((visit_summary, visits), (verification_summary, verifications)):
        # built from the integers themselves: a float64 column would round bits away
        for i, column in enumerate(("lo", "hi")):
            frame[column] = np.array([r[1 + i] for r in rows], dtype=np.int64)
        frame["odd"] = np.array([r[-1] or 0 for r in rows], dtype=np.int64)
    return Sources(households, visit_summary, verification_summary, anchor)
