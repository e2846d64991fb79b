"""The import preview: what an upload would do, before anything is written (the data desk).

``preview_file`` runs the importer itself (``geo.inputs.importers.core.import_file``: one importer,
two doors) up to the point where it would write, and looks at the rows it checked and
staged instead: how each column of the file was understood, the first rows as they
would be stored, how many rows are new, changed or unchanged next to the stored table
(an upsert by key), and which households or reports land outside every grid. Problems
come back as a frame a clerk can act on (row as the spreadsheet shows it, column as the
file spells it, reason in the chosen language). Nothing is ever written:
``import_file(inspect=..., dry_run=True)`` stops before its write.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
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
MAP_POLYGONS = 2000
"""Polygons of a file drawn on the preview's map (a street office has a few hundred grids)."""
MAP_POINTS = 5000
"""Points of a file drawn on the preview's map (the first ones; the counts stay exact)."""

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
    shapes: gpd.GeoDataFrame | None = None  # the file's polygons or points (capped) for a map


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
        return self.report.ok and self.summary is not None

    def problems(self) -> list[Problem]:
        """Every problem kept: the importer's, and those of the vet (a clerk's scope)."""
        return list(self.report.problems)

    @property
    def problem_count(self) -> int:
        """Every problem found, including those only counted past the importer's MAX_PROBLEMS."""
        return self.report.problem_count


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
    progress: Callable[[float], None] | None = None,
) -> ImportPreview:
    """What importing ``path`` as ``kind`` would do to ``store``; writes nothing.

    ``vet`` checks the staged rows as a whole (a clerk's scope); its problems refuse
    the file like the importer's. ``file_name``: the name the clerk uploaded (``path``
    may be a temporary copy); problems and the report name it. ``progress``: the
    importer's (the share of the file checked, reaching 1.0).
    """
    path = Path(path)
    lang = process_language(lang)
    name = file_name or path.name
    options = {"replace": replace, "encoding": encoding, "crs": crs, "coords": coords}
    table = TABLES[kind]

    def summarise(staging: Staging, report: ImportReport) -> StagedSummary:
        summary = summarise_staged(store, table, staging, replace=replace)
        for problem in vet(staging, report) if vet is not None else []:
            report.add_problem(problem.row, problem.column, problem.reason)
        return summary

    report = import_file(
        store,
        kind,
        path,
        lang=lang,
        inspect=summarise,
        dry_run=True,
        progress=progress,
        **options,
    )
    columns = column_map(kind, path, encoding=encoding, crs=crs, coords=coords, lang=lang)
    report.file = name
    report.problems = [Problem(name, p.row, p.column, p.reason, p.header) for p in report.problems]
    report.warnings = [w.replace(str(path), name, 1) for w in report.warnings]
    summary = report.inspected if isinstance(report.inspected, StagedSummary) else None
    return ImportPreview(kind, name, report, columns, summary)


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
        source = _read(kind, path, encoding=encoding, crs=crs, coords=coords)
        header, chunks = source.header, source.chunks
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
    if table.geometry is not None:
        summary.shapes = staged_shapes(
            staging, keys, MAP_POLYGONS if table.geometry != "POINT" else MAP_POINTS
        )
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


def staged_shapes(staging: Staging, keys: list[str], limit: int) -> gpd.GeoDataFrame | None:
    """The first ``limit`` staged geometries with their key (and grid, for points), WGS-84."""
    columns = [*keys, *(["grid_id"] if "grid_id" in (staging.columns or []) else [])]
    frame = next(
        staging.frames(size=limit, columns=[*dict.fromkeys(columns), GEOMETRY_COLUMN]), None
    )
    if frame is None or not isinstance(frame, gpd.GeoDataFrame):
        return None
    return frame[~frame.geometry.isna()]


def staged_head(staging: Staging, rows: int) -> pd.DataFrame:
    """The first ``rows`` staged rows in the file's order (lon/lat instead of a point)."""
    return _plain(next(staging.frames(size=rows, file_order=True), pd.DataFrame()))


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
        rows = staging.key_lines(staged_key_text(outside, keys))
        outside.insert(0, "row", [rows.get(k) for k in staged_key_text(outside, keys)])
    return outside, count
