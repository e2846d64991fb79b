"""Importing grids, households, visits, staff, reports, the boundary and buildings (contract section 4),
firms, outlets, workers and stations (section 7).

``import_file`` reads a file, checks every row, and collects ALL problems. If there is
any, nothing is written and the store stays byte-for-byte as it was; otherwise the rows
are upserted by id (or replace the table) in one transaction, with one audit-log row.
Every check happens before the transaction opens; checks against data already in the
store (known households, known grids) read it first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.i18n import process_language, t
from geo.inputs.assign import assign_to_grids
from geo.inputs.coords import TO_WGS84, transform_geometry
from geo.inputs.importers.boundary import _prepare_boundary
from geo.inputs.importers.buildings import BuildingsImport
from geo.inputs.importers.checks import _texts
from geo.inputs.importers.columns import KINDS, POLYGON_KINDS, PREPARE_KEYS, _canonical_columns
from geo.inputs.importers.employment import (
    _prepare_firms,
    _prepare_outlets,
    _prepare_stations,
    _prepare_workers,
)
from geo.inputs.importers.grids import _prepare_grids
from geo.inputs.importers.households import _prepare_households
from geo.inputs.importers.problems import MAX_PROBLEMS, ImportReport, _Checker
from geo.inputs.importers.reports import _prepare_reports
from geo.inputs.importers.staff import _prepare_staff
from geo.inputs.importers.visits import _prepare_visits
from geo.inputs.readers import ROW, WGS84, CellProblem, ReadError, is_vector_file
from geo.inputs.tables import TableSource, open_table
from geo.inputs.vector import normalise_crs, read_vector
from geo.store.base import Store
from geo.store.schema import TABLES
from geo.store.staging import Staging
from geo.timeutil import format_timestamp, now_local

COORDS = tuple(TO_WGS84)
Inspect = Callable[[Staging, ImportReport], object]
"""A look at the checked rows before the write (``import_file(inspect=...)``)."""


IMPORT_WAIT_SECONDS = 600.0
"""How long an import's final copy waits for the write lock (UI writes hold it briefly)."""


def import_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    replace: bool = False,
    encoding: str | None = None,
    crs: str | None = None,
    coords: str = "wgs84",
    actor: str = "cli",
    lang: str | None = None,
    inspect: Inspect | None = None,
    dry_run: bool = False,
    progress: Callable[[float], None] | None = None,
) -> ImportReport:
    """Check ``path`` as a ``kind`` file and, when it has no problems, write it to ``store``.

    ``coords`` (wgs84, gcj02, bd09) names the datum of the file's coordinates; they are
    converted to WGS-84. ``crs`` overrides the CRS a vector file declares. Messages are
    in ``lang`` (default ``$GRIDMAP_LANG``, else zh-CN). Returns an ``ImportReport``;
    when it lists problems the store was not touched.

    A table is read and checked chunk by chunk into a staging file, so memory does not
    grow with the file; the store's write lock is held only for the final copy.

    The data desk's door to the same importer: ``inspect(staging, report)`` sees every
    checked row before the write (its result is ``report.inspected``; it may add problems,
    e.g. a clerk's scope, which then refuse the file); ``dry_run`` stops there, writing
    nothing (the preview); ``progress(fraction)`` is called after each chunk with the share
    of the file checked (increasing), and with 1.0 once every row is checked (before an
    inspection or the write), so the preview and the commit can both show a bar.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if coords not in TO_WGS84:
        raise ValueError(f"unknown coordinates {coords!r} (expected one of {', '.join(COORDS)})")
    path = Path(path)
    report = ImportReport(kind, str(path), lang=process_language(lang))
    prepare = {
        "grids": _prepare_grids,
        "households": _prepare_households,
        "visits": _prepare_visits,
        "staff": _prepare_staff,
        "reports": _prepare_reports,
        "boundary": _prepare_boundary,
        "buildings": BuildingsImport(),  # one per import: it remembers names across chunks
        "firms": _prepare_firms,
        "outlets": _prepare_outlets,
        "workers": _prepare_workers,
        "stations": _prepare_stations,
    }[kind]
    with Staging(TABLES[kind]) as staging:
        check = _Checker(report, store, staging)
        try:
            normalise_crs(crs)  # an unknown --crs is a refusal, like an unreadable file
            source = _read(kind, path, encoding=encoding, crs=crs, coords=coords)
            header, chunks, cell_problems = source.header, source.chunks, source.cell_problems
            advance = _Advance(progress, source.last_line)
            vector = kind in POLYGON_KINDS or is_vector_file(path)
            renames, ignored = _canonical_columns(kind, header, report, vector=vector)
            if report.problems:
                return report
            for chunk in chunks:
                chunk = chunk.rename(columns=renames).drop(columns=ignored)
                check.rows = chunk[ROW].to_numpy()
                key_columns = [k for k in PREPARE_KEYS[kind] if k in chunk.columns]
                if key_columns:
                    check.keys([_texts(chunk[k]) for k in key_columns])
                prepared = prepare(store, chunk, check, coords=coords, crs=crs, replace=replace)
                if not report.problems:
                    staging.add(prepared)
                if len(check.rows):
                    advance.chunk(int(check.rows[-1]))
        except ReadError as exc:
            report.add_problem(exc.row, exc.column, exc.message(report.lang))
            return report
        _cell_problems(cell_problems, renames, ignored, report)
        _duplicate_problems(kind, check)
        if not report.problems and hasattr(prepare, "finish"):
            prepare.finish(check)  # checks of the whole file against the store
        advance.done()
        if report.problems:
            return report
        if kind == "visits" and check.derived_ids:
            repeated = staging.drop_repeats("visit_id")
            if repeated:  # rows without an id that record the same visit: counted once
                report.warnings.append(
                    f"{report.file}: " + t("imp_warn_repeated_visits", report.lang, count=repeated)
                )
        check.finish()
        check.release()  # known ids and grids are not needed for the copy: free them first
        staging.finish()
        if inspect is not None:
            report.inspected = inspect(staging, report)
        if dry_run or report.problems:
            return report  # a preview, or refused by the inspection: nothing written
        started = time.perf_counter()
        report.written = _write(
            store,
            kind,
            staging,
            replace=replace,
            actor=actor,
            file_name=path.name,
            note=report.audit_note,
        )
        report.lock_seconds = time.perf_counter() - started
    return report


def _cell_problems(
    cells: list[CellProblem], renames: dict[str, str], ignored: list[str], report: ImportReport
) -> None:
    """Formula cells without a value and merged cells, in the columns this import uses."""
    used = set(renames)
    for cell in cells:
        if cell.header in used:
            report.add_problem(cell.row, renames[cell.header], cell.msg.text(report.lang))


def _duplicate_problems(kind: str, check: _Checker) -> None:
    """A problem for every row repeating the key of an earlier row anywhere in the file."""
    names = PREPARE_KEYS[kind]
    if not names:
        return
    for row, key, first in check.staging.duplicates(MAX_PROBLEMS + 1):
        check.add(row, names[0], "imp_duplicate_id", id=key, first=first)


class _Advance:
    """``import_file``'s progress: the share of the file checked, from the rows' line numbers
    over the file's last line; the last share is kept for the whole-file checks after them."""

    ROWS_SHARE = 0.95  # duplicates and the checks against the store come after the last chunk

    def __init__(self, progress: Callable[[float], None] | None, last_line: int | None) -> None:
        self.progress = progress
        self.last_line = last_line
        self.reported = 0.0

    def _report(self, fraction: float) -> None:
        if self.progress is not None and fraction > self.reported:
            self.reported = fraction
            self.progress(fraction)

    def chunk(self, line: int) -> None:
        """A chunk was checked up to spreadsheet ``line``."""
        if self.last_line:
            self._report(self.ROWS_SHARE * min(line / self.last_line, 1.0))

    def done(self) -> None:
        """Every row was checked."""
        self._report(1.0)


def _read(
    kind: str, path: Path, *, encoding: str | None, crs: str | None, coords: str
) -> TableSource:
    """The file's header, its rows (chunks of text cells, or one frame of features), cell problems."""
    if kind in POLYGON_KINDS and not is_vector_file(path):
        raise ReadError("imp_need_vector", kind=kind)
    if not is_vector_file(path):
        return open_table(path, encoding=encoding)
    frame = read_vector(path, encoding=encoding, crs=crs)
    to_wgs84 = TO_WGS84[coords]
    if to_wgs84 is not None:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        frame = frame.set_geometry(
            gpd.GeoSeries(transform_geometry(geoms, to_wgs84), index=frame.index, crs=WGS84)
        )
    header = [str(c) for c in frame.columns if c not in (ROW, frame.geometry.name)]
    return TableSource(header, iter([frame]), last_line=len(frame) or None)


def _write(
    store: Store,
    kind: str,
    staging: Staging,
    *,
    replace: bool,
    actor: str,
    file_name: str,
    note: str = "",
) -> int:
    """Copy the staged rows into the store in one transaction (the only time it holds the lock)."""
    # an import waits out any other writer (they are short); everything was checked before
    with store.transaction(wait=IMPORT_WAIT_SECONDS, staging=staging.path) as tx:
        tx.set_meta("demo_mode", "0")  # real data arrives: sign-in is required from now on
        written = tx.load_staged(kind, staging, replace=replace or kind == "boundary")
        if kind == "grids":
            _reassign_all(tx)
        if kind == "households" and "last_verified" in (staging.columns or []):
            for frame in staging.frames(columns=["household_id", "last_verified"]):
                _record_verifications(tx, frame, actor)
        tx.append(
            "audit_log",
            pd.DataFrame(
                {
                    "at": [format_timestamp(now_local())],
                    "actor": [actor],
                    "action": ["import"],
                    "detail": [f"{kind} {file_name}" + (f" {note}" if note else "")],
                    "records": [str(written)],
                }
            ),
        )
    return written


def _record_verifications(tx: object, frame: pd.DataFrame, actor: str) -> None:
    """Add each imported ``last_verified`` to the verification history (same transaction)."""
    if "last_verified" not in frame.columns:
        return
    verified = frame["last_verified"].astype(object)
    keep = verified.notna().to_numpy(bool)
    if not keep.any():
        return
    tx.upsert(
        "verifications",
        pd.DataFrame(
            {
                "household_id": frame["household_id"].astype(object).to_numpy()[keep],
                "verified_on": verified.to_numpy()[keep],
                "actor": actor,
                "source": "import",
            }
        ),
    )


def _reassign_all(tx: object) -> None:
    """Place every stored point (households, reports, outlets, stations) in the (new) grids,
    inside the transaction."""
    grids = tx.read("grids", ["grid_id"])
    points = (
        ("households", "household_id"),
        ("reports", "report_id"),
        ("outlets", "outlet_id"),
        ("stations", "station_id"),
    )
    for table, key in points:
        rows = tx.read(table, [key, "grid_id"])
        if len(rows) == 0:
            continue
        geoms = np.asarray(rows.geometry.values, dtype=object)
        new_ids = assign_to_grids(shapely.get_x(geoms), shapely.get_y(geoms), grids)
        old_ids = rows["grid_id"].to_numpy(dtype=object)
        changed = np.array([a != b for a, b in zip(old_ids, new_ids, strict=True)], dtype=bool)
        if changed.any():
            tx.set_grid_ids(
                table, rows[key].to_numpy(dtype=object)[changed].tolist(), new_ids[changed].tolist()
            )
