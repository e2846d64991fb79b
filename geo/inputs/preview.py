"""The import preview: what an upload would do, before anything is written (the data desk).

``preview_file`` runs the importer itself (``geo.importers.import_file``: one importer,
two doors) up to the point where it would write, and looks at the rows it checked and
staged instead: how each column of the file was understood, the first rows as they
would be stored, how many rows are new, changed or unchanged next to the stored table
(an upsert by key), and which households or reports land outside every grid. Problems
come back as a frame a clerk can act on (row as the spreadsheet shows it, column as the
file spells it, reason in the chosen language). Nothing is ever written: the importer's
write goes to a transaction that only hands the staged rows over.

Stage 1 of issue 15 (before the geo/ move): the hand-over is made by a store wrapper
whose transaction receives the staging (``_InspectingStore``); stage 2 replaces it by an
``inspect=`` hook of ``import_file`` (see /work/notes/i15.md), with the same callback.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.i18n import process_language
from geo.inputs.importers.columns import POINT_KINDS, POLYGON_KINDS, _canonical_columns
from geo.inputs.importers.core import _read, import_file
from geo.inputs.importers.problems import ImportReport, Problem
from geo.inputs.readers import ReadError, is_vector_file
from geo.store.base import Store
from geo.store.geopackage import encode_rows
from geo.store.schema import GEOMETRY_COLUMN, TABLES, Table
from geo.store.staging import KEY_SEPARATOR, Staging

HEAD_ROWS = 10
"""Rows of the file shown as they would be stored."""
COMPARE_ROWS = 50_000
"""Staged rows compared against the store at a time (memory stays bounded)."""
OUTSIDE_SHOWN = 1000
"""Rows placed in no grid listed in full (the count is always exact)."""
PROBLEM_COLUMNS = ["row", "column", "reason"]

Vet = Callable[[Staging, ImportReport], list[Problem]]
"""A check of the staged rows as a whole (e.g. a clerk's scope): problems refuse the file."""


@dataclass
class StagedSummary:
    """What the staged rows would do to the store."""

    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0  # stored rows a replace would delete
    head: pd.DataFrame = field(default_factory=pd.DataFrame)
    outside: pd.DataFrame = field(default_factory=pd.DataFrame)
    outside_count: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportPreview:
    """An upload looked at before it is written: the importer's report and the staged rows' summary."""

    kind: str
    file_name: str
    report: ImportReport
    columns: pd.DataFrame  # header (as the file spells it), field ('' = not used)
    summary: StagedSummary | None  # None when the file was refused before staging

    @property
    def ok(self) -> bool:
        """True when the file could be imported as it is."""
        return self.report.ok and self.summary is not None and not self.summary.problems

    def problems(self) -> list[Problem]:
        """Every problem kept: the importer's, then those of the vet (a clerk's scope)."""
        return [*self.report.problems, *(self.summary.problems if self.summary else [])]

    @property
    def problem_count(self) -> int:
        """Every problem found, including those only counted past the importer's MAX_PROBLEMS."""
        return self.report.problem_count + (len(self.summary.problems) if self.summary else 0)


# --- running the importer up to its write ----------------------------------------------


class _Inspected(Exception):  # noqa: N818 - a hand-over, not an error
    """Carries the inspection's result out of ``import_file`` (nothing was written)."""

    def __init__(self, result: object) -> None:
        super().__init__("inspected")
        self.result = result


class _InspectingTransaction:
    """Stands in for the import's write transaction: the staged rows go to ``inspect``."""

    def __init__(self, inspect: Callable[[Staging], object]) -> None:
        self._inspect = inspect

    def set_meta(self, key: str, value: str) -> None:
        """Nothing is written in a preview."""

    def load_staged(self, table: str, staging: Staging, *, replace: bool) -> int:
        """Hand the staged rows over, and end the import before anything else happens."""
        raise _Inspected(self._inspect(staging))


class _InspectingStore:
    """``store`` for reading; its transaction writes nothing (stage-1 bridge, see module doc)."""

    def __init__(self, store: Store, inspect: Callable[[Staging], object]) -> None:
        self._store = store
        self._inspect = inspect

    @contextmanager
    def transaction(self, wait: float | None = None, staging: Path | None = None) -> Iterator[Any]:
        """A transaction that only inspects (the importer's final copy lands here)."""
        yield _InspectingTransaction(self._inspect)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def inspect_import(
    store: Store,
    kind: str,
    path: str | Path,
    inspect: Callable[[Staging], object],
    **options: Any,
) -> tuple[ImportReport | None, object]:
    """Run ``import_file`` up to its write; ``inspect(staging)`` sees the checked rows.

    Returns (the importer's report, None) when the file was refused, (None, the
    inspection's result) when it passed every check. Nothing is written either way.
    """
    try:
        report = import_file(_InspectingStore(store, inspect), kind, path, **options)  # type: ignore[arg-type]
    except _Inspected as done:
        return None, done.result
    return report, None


# --- the preview ------------------------------------------------------------------------


def preview_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    replace: bool = False,
    encoding: str | None = None,
    crs: str | None = None,
    coords: str = "wgs84",
    lang: str | None = None,
    vet: Vet | None = None,
    file_name: str | None = None,
) -> ImportPreview:
    """What importing ``path`` as ``kind`` would do to ``store``; writes nothing.

    ``vet`` checks the staged rows as a whole (a clerk's scope); its problems refuse
    the file like the importer's. ``file_name``: the name the clerk uploaded (``path``
    may be a temporary copy); problems and the report name it.
    """
    path = Path(path)
    lang = process_language(lang)
    name = file_name or path.name
    options = {"replace": replace, "encoding": encoding, "crs": crs, "coords": coords}
    table = TABLES[kind]
    scratch = ImportReport(kind, name, lang=lang)

    def summarise(staging: Staging) -> StagedSummary:
        summary = summarise_staged(store, table, staging, replace=replace)
        if vet is not None:
            summary.problems = vet(staging, scratch)
        return summary

    report, summary = inspect_import(store, kind, path, summarise, lang=lang, **options)
    columns = column_map(kind, path, encoding=encoding, crs=crs, coords=coords, lang=lang)
    if report is None:  # passed: the importer's warnings are not handed over in stage 1
        report = scratch
        report.headers = {
            f: h for h, f in zip(columns["header"], columns["field"], strict=True) if f
        }
    report.file = name
    report.problems = [Problem(name, p.row, p.column, p.reason, p.header) for p in report.problems]
    if isinstance(summary, StagedSummary):
        summary.problems = [
            Problem(name, p.row, p.column, p.reason, p.header) for p in summary.problems
        ]
    return ImportPreview(
        kind, name, report, columns, summary if isinstance(summary, StagedSummary) else None
    )


def column_map(
    kind: str,
    path: str | Path,
    *,
    encoding: str | None = None,
    crs: str | None = None,
    coords: str = "wgs84",
    lang: str | None = None,
) -> pd.DataFrame:
    """How each column of the file is understood: header (as spelled) -> field ('' = not used).

    The importer's own header matching (aliases, brackets, cut DBF names); empty when
    the file cannot be read.
    """
    path = Path(path)
    try:
        header, chunks, _ = _read(kind, path, encoding=encoding, crs=crs, coords=coords)
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    except (ReadError, OSError, ValueError):
        return pd.DataFrame({"header": pd.Series(dtype=object), "field": pd.Series(dtype=object)})
    vector = kind in POLYGON_KINDS or is_vector_file(path)
    renames, _ignored = _canonical_columns(
        kind, header, ImportReport(kind, path.name, lang=process_language(lang)), vector=vector
    )
    return pd.DataFrame(
        {"header": list(header), "field": [renames.get(h, "") for h in header]}, dtype=object
    )


def problems_frame(problems: list[Problem], headers: dict[str, str] | None = None) -> pd.DataFrame:
    """Problems as rows: spreadsheet row, column as the file spells it, reason (file order)."""
    headers = headers or {}
    rows = sorted(problems, key=lambda p: p.row)  # within a row, in the order they were found
    return pd.DataFrame(
        {
            "row": pd.array([p.row for p in rows], dtype="Int64"),
            "column": [p.header or headers.get(p.column) or p.column for p in rows],
            "reason": [p.reason for p in rows],
        },
        columns=PROBLEM_COLUMNS,
    )


# --- looking at the staged rows -------------------------------------------------------------


def summarise_staged(
    store: Store, table: Table, staging: Staging, *, replace: bool = False
) -> StagedSummary:
    """Counts new / changed / unchanged (by key, over the columns the file gives), the first
    rows, and the rows placed in no grid."""
    summary = StagedSummary(rows=staging.count())
    if staging.columns is None:
        return summary
    keys = [k for k in table.key if k in staging.columns]
    stored_keys = 0
    if keys and table.name != "boundary":
        seen: set[tuple] = set()
        for frame in staging.frames(size=COMPARE_ROWS):
            new, changed, unchanged, found = _compare_chunk(store, table, frame, keys)
            summary.new += new
            summary.changed += changed
            summary.unchanged += unchanged
            seen.update(found)
        if replace:
            stored_keys = len(store.read_attributes(table.name, keys).drop_duplicates())
            summary.removed = stored_keys - len(seen)
    else:  # the boundary is always replaced whole
        summary.new = summary.rows
        summary.removed = store.count(table.name) if store.exists() else 0
    summary.head = staged_head(staging, HEAD_ROWS)
    if table.name in POINT_KINDS and "grid_id" in staging.columns:
        summary.outside, summary.outside_count = _outside(staging, keys)
    return summary


def _normal(value: object) -> object:
    """A cell as compared: NaN and None alike, 3.0 and 3 alike."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _encoded(table: Table, frame: pd.DataFrame, columns: list[str]) -> dict[tuple, tuple]:
    """key -> the row as the store encodes it (``columns`` in the table's order)."""
    cols, rows = encode_rows(table, frame)
    index = {c: i for i, c in enumerate(cols)}
    key_at = [index[k] for k in table.key if k in index]
    value_at = [index[c] for c in columns if c in index]
    return {tuple(r[i] for i in key_at): tuple(_normal(r[i]) for i in value_at) for r in rows}


def _compare_chunk(
    store: Store, table: Table, frame: pd.DataFrame, keys: list[str]
) -> tuple[int, int, int, set[tuple]]:
    """(new, changed, unchanged, keys) of one chunk of staged rows against the stored rows."""
    geometry_name = frame_geometry_name(frame)
    attrs = [c for c in frame.columns if c != geometry_name]
    columns = attrs + ([GEOMETRY_COLUMN] if geometry_name is not None else [])
    wanted = frame[keys[0]].dropna().astype(str).unique().tolist()
    stored = (
        store.read(table.name, attrs, where={keys[0]: wanted})
        if geometry_name is not None
        else store.read_attributes(table.name, attrs, where={keys[0]: wanted})
    )
    staged_rows = _encoded(table, frame, columns)
    stored_rows = _encoded(table, stored, columns) if len(stored) else {}
    new = changed = unchanged = 0
    for key, row in staged_rows.items():
        before = stored_rows.get(key)
        if before is None:
            new += 1
        elif before == row:
            unchanged += 1
        else:
            changed += 1
    return new, changed, unchanged, set(staged_rows)


def frame_geometry_name(frame: pd.DataFrame) -> str | None:
    """The active geometry column of a GeoDataFrame (None for a plain frame)."""
    try:
        return frame.geometry.name
    except AttributeError:
        return None


def staged_head(staging: Staging, rows: int) -> pd.DataFrame:
    """The first ``rows`` staged rows in the file's order (lon/lat instead of a point)."""
    in_key_order = staging.source_table
    staging.source_table = "rows"  # the table as staged, in file order ("sorted" is by key)
    try:
        head = next(staging.frames(size=rows), pd.DataFrame())
    finally:
        staging.source_table = in_key_order
    return _plain(head)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame to show: a point as lon/lat, a polygon as its area-less type name dropped."""
    name = frame_geometry_name(frame)
    if name is None:
        return pd.DataFrame(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    out = pd.DataFrame(frame.drop(columns=name))
    if len(geoms) and all(g is None or g.geom_type == "Point" for g in geoms):
        present = ~shapely.is_missing(geoms)
        out["lon"] = np.where(present, shapely.get_x(geoms), np.nan)
        out["lat"] = np.where(present, shapely.get_y(geoms), np.nan)
    return out


def file_rows(staging: Staging, keys: list[str]) -> dict[str, int]:
    """key -> the spreadsheet row that holds it (the importer remembered every row's key)."""
    if not keys:
        return {}
    found = staging.con.execute(
        "SELECT k, min(_row) FROM keys WHERE k IN (SELECT value FROM json_each(?)) GROUP BY k",
        (json.dumps(keys),),
    ).fetchall()
    return {k: int(r) for k, r in found}


def staged_key_text(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """The key of each staged row as the importer recorded it (parts joined by `` + ``)."""
    parts = [frame[k].astype(object).where(frame[k].notna(), "").astype(str) for k in keys]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + KEY_SEPARATOR + part
    return joined.tolist()


def _outside(staging: Staging, keys: list[str]) -> tuple[pd.DataFrame, int]:
    """Rows placed in no grid (up to OUTSIDE_SHOWN, with their spreadsheet row) and their count."""
    shown: list[pd.DataFrame] = []
    count = 0
    for frame in staging.frames(size=COMPARE_ROWS):
        lost = frame[frame["grid_id"].isna()]
        count += len(lost)
        if len(lost) and sum(len(s) for s in shown) < OUTSIDE_SHOWN:
            shown.append(_plain(lost))
    if not shown:
        return pd.DataFrame(), count
    outside = pd.concat(shown, ignore_index=True).head(OUTSIDE_SHOWN)
    if keys:
        rows = file_rows(staging, staged_key_text(outside, keys))
        outside.insert(0, "row", [rows.get(k) for k in staged_key_text(outside, keys)])
    return outside, count
