"""Importing grids, households, visits, staff, reports and the boundary (contract section 4).

``import_file`` reads a file, checks every row, and collects ALL problems. If there is
any, nothing is written and the store stays byte-for-byte as it was; otherwise the rows
are upserted by id (or replace the table) in one transaction, with one audit-log row.
Every check happens before the transaction opens; checks against data already in the
store (known households, known grids) read it first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.care.categories import join_codes, parse_categories
from geo.config import load_config
from geo.i18n import DEFAULT_LANGUAGE, Msg, process_language, t
from geo.inputs.assign import assign_to_grids, overlapping_grids
from geo.inputs.coords import TO_WGS84, transform_geometry
from geo.inputs.readers import (
    ROW,
    WGS84,
    CellProblem,
    ReadError,
    is_vector_file,
    is_wgs84_like,
    normalise_crs,
    open_table,
    read_vector,
)
from geo.store.base import Store
from geo.store.schema import TABLES
from geo.store.staging import Staging
from geo.timeutil import format_timestamp, now_local, parse_timestamp

KINDS = ("grids", "households", "visits", "staff", "reports", "boundary")
COORDS = tuple(TO_WGS84)

HEADER_ROW = 1
"""Problems about columns (missing, doubled) point at the header line."""
SHOW_FIRST = 5

# canonical column -> accepted header spellings besides the canonical name
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "grids": {
        "grid_id": ("网格编号", "网格id", "网格代码"),
        "name": ("网格名称", "名称"),
        "community": ("社区", "所属社区", "社区名称"),
        "street": ("街道", "所属街道"),
        "party_branch": ("网格党支部", "党支部"),
    },
    "households": {
        "household_id": ("户编号", "户号"),
        "lon": ("经度", "longitude", "lng"),
        "lat": ("纬度", "latitude"),
        "categories": ("类别", "人员类别", "类型"),
        "address": ("地址", "住址"),
        "building": ("楼栋", "楼号"),
        "head_name": ("户主姓名", "户主"),
        "phone": ("电话", "联系电话", "手机"),
        "id_number": ("身份证号", "身份证号码"),
        "members": ("人数", "家庭人数"),
        "last_verified": ("核实日期", "核实时间"),
        "grid_id": ("网格编号",),
    },
    "visits": {
        "visit_id": ("走访编号", "记录编号"),
        "household_id": ("户编号", "户号"),
        "visited_at": ("走访时间", "走访日期"),
        "staff_id": ("人员编号", "走访人员编号"),
        "kind": ("方式", "走访方式"),
        "note": ("备注", "情况记录"),
    },
    "staff": {
        "staff_id": ("人员编号",),
        "name": ("姓名",),
        "role": ("角色", "职务"),
        "grid_id": ("网格编号",),
        "department": ("部门", "单位"),
        "phone": ("电话", "联系电话", "手机"),
    },
    "reports": {
        "report_id": ("编号", "事项编号"),
        "source": ("来源", "事项来源"),
        "category": ("事项类别", "类别"),
        "lon": ("经度", "longitude", "lng"),
        "lat": ("纬度", "latitude"),
        "reported_at": ("上报时间",),
        "description": ("描述", "事项描述"),
        "reporter_id": ("上报人", "上报人编号"),
        "responded_at": ("响应时间",),
        "resolved_at": ("办结时间",),
        "followed_up_at": ("回访时间",),
        "satisfaction": ("满意度",),
        "photo": ("照片",),
    },
    "boundary": {
        "boundary_id": ("id", "编号"),
        "name": ("名称",),
        "adcode": ("行政区划代码", "code"),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "grids": ("grid_id",),
    "households": ("household_id", "lon", "lat"),
    "visits": ("household_id", "visited_at"),
    "staff": ("staff_id", "name", "role", "grid_id"),
    "reports": ("report_id", "source", "category", "lon", "lat", "reported_at"),
    "boundary": (),
}
# other spellings clerks use for a report's source (the zh names in the config also count)
SOURCE_SPELLINGS = {
    "12345热线": "hotline",
    "热线": "hotline",
    "网格员巡查": "patrol",
    "巡查": "patrol",
}
POINT_KINDS = ("households", "reports")
POLYGON_KINDS = ("grids", "boundary")


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: where (file, spreadsheet line, column) and why."""

    file: str
    row: int
    column: str
    reason: str
    header: str | None = None  # the column as the file's header spells it, e.g. 经度

    def __str__(self) -> str:
        # a clerk looks for the column by the header they typed, not our canonical name
        shown = (
            self.column
            if not self.header or self.header == self.column
            else f"{self.header} ({self.column})"
        )
        return f"{self.file}:{self.row}: {shown}: {self.reason}"


IMPORT_WAIT_SECONDS = 600.0
"""How long an import's final copy waits for the write lock (UI writes hold it briefly)."""
MAX_PROBLEMS = 1000
"""Problems kept in full; past this a refusal counts the rest (a bad 3M-row file stays small)."""


@dataclass
class ImportReport:
    """What an import did: problems (nothing written when any), warnings, rows written."""

    kind: str
    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> header in the file
    lang: str = DEFAULT_LANGUAGE
    more_problems: int = 0  # problems found past MAX_PROBLEMS (counted, not kept)
    lock_seconds: float = 0.0  # how long the final copy held the store's write lock

    def problem_lines(self) -> list[str]:
        """Every problem as ``FILE:ROW: column: reason``, the column as the file's header names it."""
        lines = [
            str(replace(p, header=p.header or self.headers.get(p.column))) for p in self.problems
        ]
        if self.more_problems:
            lines.append(t("imp_more_problems", self.lang, count=self.more_problems))
        return lines

    @property
    def problem_count(self) -> int:
        """All problems found, those kept and those only counted."""
        return len(self.problems) + self.more_problems

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.problems

    def add_problem(self, row: int, column: str, reason: str) -> None:
        """Keep a problem (or count it once MAX_PROBLEMS are kept)."""
        if len(self.problems) >= MAX_PROBLEMS:
            self.more_problems += 1
            return
        self.problems.append(Problem(self.file, int(row), column, reason))


class _Checker:
    """Collects the problems and warnings of one file, chunk by chunk.

    ``rows`` are the spreadsheet lines of the chunk being checked; warnings of the same
    kind from every chunk are added up (``warn``) and put into words once (``finish``).
    """

    def __init__(self, report: ImportReport, store: Store, staging: Staging) -> None:
        self.report = report
        self.store = store
        self.staging = staging
        self.rows: np.ndarray = np.array([], dtype=np.int64)
        self._warned: dict[str, tuple[int, list[str], dict[str, object]]] = {}
        self._cache: dict[str, object] = {}
        self.derived_ids = False  # visits: some ids were derived from what the row records

    def add(self, row: int, column: str, key: str, /, **values: object) -> None:
        """A problem at ``row``, ``column``: the catalogue message ``key``."""
        self.report.add_problem(row, column, Msg(key, **values).text(self.report.lang))

    def add_mask(
        self,
        mask: np.ndarray | pd.Series,
        column: str,
        key: str,
        values_at: Callable[[int], dict[str, object]] | None = None,
    ) -> None:
        """A problem for every row where ``mask`` holds; ``values_at(pos)`` fills the message."""
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            self.add(self.rows[pos], column, key, **(values_at(pos) if values_at else {}))

    def keys(self, parts: list[np.ndarray]) -> None:
        """Remember this chunk's keys: a key repeated anywhere in the file is a problem."""
        self.staging.add_keys(self.rows, parts)

    def warn(self, key: str, ids: np.ndarray, **values: object) -> None:
        """Count ``len(ids)`` rows for the warning ``key`` (the first few ids are shown)."""
        if len(ids) == 0:
            return
        count, shown, _ = self._warned.get(key, (0, [], values))
        shown = shown + [str(i) for i in ids[: SHOW_FIRST - len(shown)]]
        self._warned[key] = (count + len(ids), shown, values)

    def cached(self, name: str, make: Callable[[], object]) -> object:
        """A value computed once per import (known households, stored grids)."""
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def release(self) -> None:
        """Forget what was cached for the checks (memory for the final copy)."""
        self._cache.clear()

    def finish(self) -> None:
        """Put the counted warnings into words."""
        for key, (count, shown, values) in self._warned.items():
            ids = ", ".join(shown) + (", ..." if count > len(shown) else "")
            text = Msg(key, count=count, ids=ids, **values).text(self.report.lang)
            self.report.warnings.append(f"{self.report.file}: {text}")


# --- entry point ----------------------------------------------------------------------

PREPARE_KEYS: dict[str, tuple[str, ...]] = {
    "grids": ("grid_id",),
    "households": ("household_id",),
    "visits": ("visit_id",),
    "staff": ("staff_id", "grid_id"),
    "reports": ("report_id",),
    "boundary": (),
}
"""The columns whose values may not repeat within a file."""


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
) -> ImportReport:
    """Check ``path`` as a ``kind`` file and, when it has no problems, write it to ``store``.

    ``coords`` (wgs84, gcj02, bd09) names the datum of the file's coordinates; they are
    converted to WGS-84. ``crs`` overrides the CRS a vector file declares. Messages are
    in ``lang`` (default ``$GRIDMAP_LANG``, else zh-CN). Returns an ``ImportReport``;
    when it lists problems the store was not touched.

    A table is read and checked chunk by chunk into a staging file, so memory does not
    grow with the file; the store's write lock is held only for the final copy.
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
    }[kind]
    with Staging(TABLES[kind]) as staging:
        check = _Checker(report, store, staging)
        try:
            normalise_crs(crs)  # an unknown --crs is a refusal, like an unreadable file
            header, chunks, cell_problems = _read(
                kind, path, encoding=encoding, crs=crs, coords=coords
            )
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
        except ReadError as exc:
            report.add_problem(exc.row, exc.column, exc.message(report.lang))
            return report
        _cell_problems(cell_problems, renames, ignored, report)
        _duplicate_problems(kind, check)
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
        started = time.perf_counter()
        report.written = _write(
            store, kind, staging, replace=replace, actor=actor, file_name=path.name
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


def _read(
    kind: str, path: Path, *, encoding: str | None, crs: str | None, coords: str
) -> tuple[list[str], Iterator[pd.DataFrame], list[CellProblem]]:
    """The file's header, its rows (chunks of text cells, or one frame of features), cell problems."""
    if kind in POLYGON_KINDS and not is_vector_file(path):
        raise ReadError("imp_need_vector", kind=kind)
    if not is_vector_file(path):
        source = open_table(path, encoding=encoding)
        return source.header, source.chunks, source.cell_problems
    frame = read_vector(path, encoding=encoding, crs=crs)
    to_wgs84 = TO_WGS84[coords]
    if to_wgs84 is not None:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        frame = frame.set_geometry(
            gpd.GeoSeries(transform_geometry(geoms, to_wgs84), index=frame.index, crs=WGS84)
        )
    header = [str(c) for c in frame.columns if c not in (ROW, frame.geometry.name)]
    return header, iter([frame]), []


def _header_key(text: object) -> str:
    """A header as compared: NFKC (full-width brackets/letters), no BOM, no spaces, lower case."""
    key = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", key).strip("*").lower()


def _canonical_columns(
    kind: str, header: list[str], report: ImportReport, *, vector: bool = False
) -> tuple[dict[str, str], list[str]]:
    """Header -> canonical column, and the headers not used; problems for missing or doubled columns."""
    lookup: dict[str, str] = {}
    for canonical, spellings in ALIASES[kind].items():
        for spelling in (canonical, *spellings):
            lookup[_header_key(spelling)] = canonical
    renames: dict[str, str] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        key = _header_key(column)
        canonical = lookup.get(key)
        if canonical is None:
            # "经度(GCJ-02)" or "网格编号(grid_id)": try outside and inside the brackets
            outside = re.sub(r"\(.*?\)", "", key)
            inside = re.findall(r"\((.*?)\)", key)
            canonical = lookup.get(outside) or next(
                (lookup[k] for k in inside if k in lookup), None
            )
        if canonical is None and 8 <= len(key.encode("utf-8")) <= 10:
            # a DBF field name cut at 10 bytes (网格党支部 in UTF-8 is 15): a unique prefix
            matches = {c for spelling, c in lookup.items() if spelling.startswith(key)}
            canonical = matches.pop() if len(matches) == 1 else None
        if canonical is None:
            ignored.append(str(column))
            continue
        if canonical in seen:
            report.add_problem(
                HEADER_ROW,
                str(column),
                Msg("imp_second_column", canonical=canonical, first=seen[canonical]).text(
                    report.lang
                ),
            )
            continue
        seen[canonical] = str(column)
        renames[column] = canonical
    report.headers = dict(seen)
    if ignored and kind != "boundary":  # boundary files carry many properties nobody needs
        report.warnings.append(
            f"{report.file}: "
            + t("imp_warn_unused_columns", report.lang, columns=", ".join(ignored))
        )
    vector_points = kind in POINT_KINDS and vector
    for column in REQUIRED[kind]:
        if column in seen or (vector_points and column in ("lon", "lat")):
            continue
        spellings = " / ".join((column, *ALIASES[kind][column][:1]))
        report.add_problem(
            HEADER_ROW, column, t("imp_required_missing", report.lang, spellings=spellings)
        )
    return renames, ignored


# --- cell conversion ------------------------------------------------------------------


def _cell_text(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, np.generic):
        return _cell_text(value.item())
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int):  # GeoJSON/DBF numbers: ids are text
        return str(value)
    return value  # datetimes stay datetimes for the date parser


def _as_text(value: object) -> object:
    """A date cell in a text column as the text a clerk would read."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _texts(series: pd.Series, *, keep_dates: bool = False) -> np.ndarray:
    """Cells as stripped text (None when empty); date cells stay datetimes if ``keep_dates``."""
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        # the string dtype strips and compares in bulk (Arrow), not cell by cell
        texts = series.astype("string").str.strip()
        texts = texts.mask(texts == "")
        return texts.to_numpy(dtype=object, na_value=None)
    cells = [_cell_text(v) for v in series.to_numpy(dtype=object)]
    if not keep_dates:
        cells = [_as_text(v) for v in cells]
    return np.array(cells, dtype=object)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    return _texts(frame[name]) if name in frame.columns else None


def _required_text(frame: pd.DataFrame, name: str, check: _Checker) -> np.ndarray:
    values = _texts(frame[name])
    check.add_mask(pd.isna(values), name, "imp_value_missing")
    return values


_PLAIN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?$")


def _parse_dates(
    frame: pd.DataFrame,
    name: str,
    check: _Checker,
    *,
    required: bool = False,
    date_only: bool = False,
) -> np.ndarray | None:
    """Stored text of a date/time column (None when empty); problems for unparseable cells."""
    if name not in frame.columns:
        return None
    values = _texts(frame[name], keep_dates=True)
    out = np.full(len(values), None, dtype=object)
    fmt = "%Y-%m-%d" if date_only else "%Y-%m-%d %H:%M:%S"
    is_text = np.array([isinstance(v, str) for v in values], dtype=bool)
    plain = np.zeros(len(values), dtype=bool)
    if is_text.any():
        plain[is_text] = (
            pd.Series(values[is_text], dtype=object).str.match(_PLAIN_DATE).to_numpy(dtype=bool)
        )
    if plain.any():
        # the common form is parsed in one go; everything else (and bad days like 02-30) below
        parsed = pd.to_datetime(
            pd.Series(values[plain], dtype=object), format="ISO8601", errors="coerce"
        )
        good = parsed.notna().to_numpy()
        idx = np.flatnonzero(plain)
        out[idx[good]] = parsed[good].dt.strftime(fmt).to_numpy(dtype=object)
        plain[idx[~good]] = False
    cache: dict[object, object] = {}
    for pos in np.flatnonzero(~plain):
        value = values[pos]
        if value is None:
            if required:
                check.add(check.rows[pos], name, "imp_date_missing")
            continue
        key = value if isinstance(value, str) else repr(value)
        if key not in cache:
            try:
                stamp = parse_timestamp(value)
                cache[key] = None if stamp is None else stamp.strftime(fmt)
            except ValueError as exc:
                cache[key] = exc
        result = cache[key]
        if isinstance(result, ValueError):
            # timeutil says "not a valid date" for a day that does not exist (02-30)
            invalid = str(result).startswith("not a valid date")
            check.add(
                check.rows[pos],
                name,
                "imp_invalid_date" if invalid else "imp_not_a_date",
                value=repr(value if isinstance(value, str) else str(value)),
            )
        else:
            out[pos] = result
    return out


def _parse_coordinates(
    frame: pd.DataFrame, check: _Checker, coords: str, crs: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS-84 lon, lat arrays (NaN where bad) and a validity mask; problems for bad cells."""
    n = len(frame)
    if isinstance(frame, gpd.GeoDataFrame):
        geoms = np.asarray(frame.geometry.values, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        check.add_mask(missing, "geometry", "imp_no_point")
        not_point = ~missing & (shapely.get_type_id(geoms) != 0)
        check.add_mask(not_point, "geometry", "imp_not_point")
        usable = ~missing & ~not_point
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        lon[usable] = shapely.get_x(geoms[usable])
        lat[usable] = shapely.get_y(geoms[usable])
        ok = (
            usable
            & _check_range(lon, "lon", 180.0, usable, check)
            & _check_range(lat, "lat", 90.0, usable, check)
        )
        return np.where(ok, lon, np.nan), np.where(ok, lat, np.nan), ok
    numbers: dict[str, np.ndarray] = {}
    present = np.ones(n, dtype=bool)
    for name in ("lon", "lat"):
        texts = _texts(frame[name])
        empty = pd.isna(texts)
        check.add_mask(empty, name, "imp_coordinate_missing")
        values = pd.to_numeric(
            pd.Series(texts, dtype=object).map(
                lambda v: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v
            ),
            errors="coerce",
        ).to_numpy(dtype=float)
        bad_number = ~empty & ~np.isfinite(values)
        check.add_mask(
            bad_number,
            name,
            "imp_not_a_number",
            lambda pos, texts=texts: {"value": repr(texts[pos])},
        )
        present &= ~empty & ~bad_number
        numbers[name] = values
    lon, lat = numbers["lon"], numbers["lat"]
    source_crs = normalise_crs(crs)
    if not is_wgs84_like(source_crs) and present.any():
        # --crs on a table: lon/lat hold x/y in that CRS
        transformer = Transformer.from_crs(source_crs, WGS84, always_xy=True)
        lon, lat = lon.copy(), lat.copy()
        lon[present], lat[present] = transformer.transform(lon[present], lat[present])
    ok = (
        present
        & _check_range(lon, "lon", 180.0, present, check)
        & _check_range(lat, "lat", 90.0, present, check)
    )
    lon = np.where(ok, lon, np.nan)
    lat = np.where(ok, lat, np.nan)
    to_wgs84 = TO_WGS84[coords]
    if to_wgs84 is not None and ok.any():
        lon[ok], lat[ok] = to_wgs84(lon[ok], lat[ok])
    return lon, lat, ok


def _check_range(
    values: np.ndarray, name: str, limit: float, present: np.ndarray, check: _Checker
) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = present & (np.abs(values) > limit)
    check.add_mask(
        out, name, "imp_out_of_range", lambda pos: {"value": values[pos], "limit": f"{limit:g}"}
    )
    return ~out


def _lookup_values(
    frame: pd.DataFrame,
    name: str,
    check: _Checker,
    choices: dict[str, str],
    *,
    required: bool,
    extra: dict[str, str] | None = None,
) -> np.ndarray | None:
    """Codes of a coded column (role, source, satisfaction) from codes or zh names."""
    if name not in frame.columns:
        return None
    lookup = dict(extra or {})
    for code, zh in choices.items():
        lookup[code.lower()] = code
        lookup[unicodedata.normalize("NFKC", zh).lower()] = code
    values = _texts(frame[name])
    out = np.full(len(values), None, dtype=object)
    expected = ", ".join(f"{code} {zh}" for code, zh in choices.items())
    for pos, value in enumerate(values):
        if value is None:
            if required:
                check.add(check.rows[pos], name, "imp_value_missing")
            continue
        code = lookup.get(unicodedata.normalize("NFKC", str(value)).strip().lower())
        if code is None:
            check.add(
                check.rows[pos],
                name,
                "imp_unknown_value",
                what=Msg(f"imp_what_{name}"),
                value=repr(value),
                expected=expected,
            )
        out[pos] = code
    return out


def _stored_grids(store: Store) -> gpd.GeoDataFrame:
    return store.read("grids", ["grid_id"])


def _place_points(
    check: _Checker, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, what: str
) -> np.ndarray:
    grids = check.cached("grids", lambda: _stored_grids(check.store))
    grid_ids = assign_to_grids(lon, lat, grids)
    outside = pd.isna(grid_ids)
    check.warn(f"imp_warn_outside_{what}", ids[outside])
    return grid_ids


def _points_frame(
    columns: dict[str, np.ndarray | None], lon: np.ndarray, lat: np.ndarray
) -> gpd.GeoDataFrame:
    data = {k: v for k, v in columns.items() if v is not None}
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


# --- kinds ----------------------------------------------------------------------------


def _prepare_households(
    store: Store, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None, **_: object
) -> pd.DataFrame:
    ids = _required_text(frame, "household_id", check)
    # vector files were converted (CRS and datum) when read
    vector = isinstance(frame, gpd.GeoDataFrame)
    lon, lat, _ok = _parse_coordinates(
        frame, check, "wgs84" if vector else coords, None if vector else crs
    )
    categories = None
    if "categories" in frame.columns:
        texts = _texts(frame["categories"])
        config = load_config()
        expected = ", ".join(f"{c.code} {c.colour_zh}" for c in config.categories)
        parsed: dict[object, tuple[list[str], list[str]]] = {}
        categories = np.full(len(texts), None, dtype=object)
        for pos, text in enumerate(texts):
            if text not in parsed:
                parsed[text] = parse_categories(text, config)
            codes, unknown = parsed[text]
            if unknown:
                check.add(
                    check.rows[pos],
                    "categories",
                    "imp_unknown_category",
                    value=repr(", ".join(unknown)),
                    expected=expected,
                )
            categories[pos] = join_codes(codes)
    members = None
    if "members" in frame.columns:
        texts = _texts(frame["members"])
        numbers = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(
            dtype=float
        )
        bad = ~pd.isna(texts) & ~(np.isfinite(numbers) & (numbers >= 0) & (np.mod(numbers, 1) == 0))
        check.add_mask(bad, "members", "imp_not_whole", lambda pos: {"value": repr(texts[pos])})
        members = pd.array(np.where(np.isfinite(numbers) & ~bad, numbers, np.nan), dtype="Int64")
        members = np.array([None if pd.isna(m) else int(m) for m in members], dtype=object)
    last_verified = _parse_dates(frame, "last_verified", check, date_only=True)
    if check.report.problems:
        return frame
    grid_ids = _place_points(check, ids, lon, lat, "households")
    if "grid_id" in frame.columns:
        given = _texts(frame["grid_id"])
        differs = ~pd.isna(given) & (given != grid_ids)
        check.warn("imp_warn_grid_disagrees", ids[differs])
    columns = {
        "household_id": ids,
        "grid_id": grid_ids,
        "categories": categories,
        "members": members,
        "last_verified": last_verified,
    }
    for name in ("address", "building", "head_name", "phone", "id_number"):
        columns[name] = _column(frame, name)
    return _points_frame(columns, lon, lat)


def _prepare_reports(
    store: Store, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None, **_: object
) -> pd.DataFrame:
    config = load_config()
    ids = _required_text(frame, "report_id", check)
    source = _lookup_values(
        frame, "source", check, config.sources, required=True, extra=SOURCE_SPELLINGS
    )
    category = _required_text(frame, "category", check)
    satisfaction = _lookup_values(frame, "satisfaction", check, config.satisfaction, required=False)
    # vector files were converted (CRS and datum) when read
    vector = isinstance(frame, gpd.GeoDataFrame)
    lon, lat, _ok = _parse_coordinates(
        frame, check, "wgs84" if vector else coords, None if vector else crs
    )
    stamps = {
        "reported_at": _parse_dates(frame, "reported_at", check, required=True),
        "responded_at": _parse_dates(frame, "responded_at", check),
        "resolved_at": _parse_dates(frame, "resolved_at", check),
        "followed_up_at": _parse_dates(frame, "followed_up_at", check),
    }
    if check.report.problems:
        return frame
    _warn_timelines(ids, stamps, check)
    grid_ids = _place_points(check, ids, lon, lat, "reports")
    columns = {
        "report_id": ids,
        "source": source,
        "category": category,
        "satisfaction": satisfaction,
        "grid_id": grid_ids,
        **stamps,
    }
    for name in ("description", "reporter_id", "photo"):
        columns[name] = _column(frame, name)
    return _points_frame(columns, lon, lat)


def _warn_timelines(ids: np.ndarray, stamps: dict[str, np.ndarray | None], check: _Checker) -> None:
    """Warnings for odd but possible timelines (stored texts compare in time order)."""
    n = len(ids)
    none = np.full(n, None, dtype=object)
    reported = stamps["reported_at"]
    responded, resolved, followed = (
        stamps[k] if stamps[k] is not None else none
        for k in ("responded_at", "resolved_at", "followed_up_at")
    )

    def before(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.array(
            [x is not None and y is not None and x < y for x, y in zip(a, b, strict=True)],
            dtype=bool,
        )

    checks = [
        (~pd.isna(followed) & pd.isna(resolved), "imp_warn_followup_unresolved"),
        (
            before(responded, reported) | before(resolved, reported) | before(followed, reported),
            "imp_warn_step_before_report",
        ),
        (before(resolved, responded), "imp_warn_resolved_before_responded"),
        (before(followed, resolved), "imp_warn_followed_before_resolved"),
    ]
    for mask, key in checks:
        check.warn(key, ids[mask])


def _prepare_visits(
    store: Store, frame: pd.DataFrame, check: _Checker, **_: object
) -> pd.DataFrame:
    households = _required_text(frame, "household_id", check)
    visited_at = _parse_dates(frame, "visited_at", check, required=True)
    staff_id = _column(frame, "staff_id")
    kind = _column(frame, "kind")
    known = check.cached(
        "households",
        lambda: pd.Index(
            store.read_attributes("households", ["household_id"])["household_id"]
        ).unique(),
    )
    # get_indexer reuses the index's hash table from chunk to chunk (isin would rebuild a
    # table of every stored household per chunk: 11 s a chunk at 2M households)
    unknown = ~pd.isna(households) & (known.get_indexer(pd.Index(households)) < 0)
    check.add_mask(
        unknown,
        "household_id",
        "imp_unknown_household",
        lambda pos: {"value": repr(households[pos])},
    )
    given_ids = _column(frame, "visit_id")
    ids = given_ids.copy() if given_ids is not None else np.full(len(frame), None, dtype=object)
    if check.report.problems:
        return frame
    # a visit without an id gets one derived from what it records: re-importing adds nothing
    missing = np.flatnonzero(pd.isna(ids))
    if len(missing):
        check.derived_ids = True  # repeats across chunks are dropped once all is staged
        others = [
            pd.Series(values[missing], dtype="string")
            for values in (visited_at, staff_id, kind)
            if values is not None
        ]
        if staff_id is None:  # keep the key the same whether the column is absent or empty
            others.insert(1, pd.Series([None] * len(missing), dtype="string"))
        if kind is None:
            others.append(pd.Series([None] * len(missing), dtype="string"))
        keys = pd.Series(households[missing], dtype="string").str.cat(others, sep="\x1f", na_rep="")
        ids[missing] = [
            "V" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest() for key in keys.tolist()
        ]
    columns = {
        "visit_id": ids,
        "household_id": households,
        "visited_at": visited_at,
        "staff_id": staff_id,
        "kind": kind,
        "note": _column(frame, "note"),
    }
    # rows repeating a visit exactly (same derived id) are dropped once the file is staged
    return pd.DataFrame({k: v for k, v in columns.items() if v is not None})


def _prepare_staff(store: Store, frame: pd.DataFrame, check: _Checker, **_: object) -> pd.DataFrame:
    config = load_config()
    staff_ids = _required_text(frame, "staff_id", check)
    names = _required_text(frame, "name", check)
    roles = _lookup_values(frame, "role", check, config.roles, required=True)
    grid_ids = _required_text(frame, "grid_id", check)
    known = set(check.cached("grids", lambda: _stored_grids(store))["grid_id"].tolist())
    unknown = ~pd.isna(grid_ids) & ~pd.Series(grid_ids, dtype=object).isin(known).to_numpy()
    check.add_mask(
        unknown, "grid_id", "imp_unknown_grid", lambda pos: {"value": repr(grid_ids[pos])}
    )
    columns = {
        "staff_id": staff_ids,
        "name": names,
        "role": roles,
        "grid_id": grid_ids,
        "department": _column(frame, "department"),
        "phone": _column(frame, "phone"),
    }
    return pd.DataFrame({k: v for k, v in columns.items() if v is not None})


def _repair_polygons(frame: gpd.GeoDataFrame, check: _Checker) -> np.ndarray:
    """MultiPolygons of the frame (None where refused): invalid shapes repaired, polygonal parts kept."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    for pos, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            check.add(check.rows[pos], "geometry", "imp_no_geometry")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            check.add(check.rows[pos], "geometry", "imp_not_polygon", type=geom.geom_type)
            continue
        geom = shapely.force_2d(geom)
        coords = shapely.get_coordinates(geom)
        # a vertex off the globe (or NaN) is a bad coordinate, not something make_valid repairs
        bad = (
            ~np.isfinite(coords).all(axis=1)
            | (np.abs(coords[:, 0]) > 180)
            | (np.abs(coords[:, 1]) > 90)
        )
        if bad.any():
            lon, lat = coords[bad][0]
            check.add(
                check.rows[pos],
                "geometry",
                "imp_vertex_out_of_range",
                lon=f"{lon:g}",
                lat=f"{lat:g}",
            )
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        parts = [
            p
            for p in shapely.get_parts(geom)
            if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty
        ]
        polygons = [q for p in parts for q in shapely.get_parts(p)]
        if not polygons or sum(p.area for p in polygons) == 0:
            check.add(check.rows[pos], "geometry", "imp_polygon_unrepairable")
            continue
        multi = shapely.MultiPolygon(polygons)
        if not multi.is_valid:  # touching parts: merge them into a valid MultiPolygon
            merged = shapely.union_all(polygons)
            multi = merged if merged.geom_type == "MultiPolygon" else shapely.MultiPolygon([merged])
        out[pos] = multi
    return out


def _prepare_grids(
    store: Store, frame: pd.DataFrame, check: _Checker, *, replace: bool, **_: object
) -> pd.DataFrame:
    ids = _required_text(frame, "grid_id", check)
    geoms = _repair_polygons(frame, check)
    if check.report.problems:
        return frame
    columns = {"grid_id": ids}
    for name in ("name", "community", "street", "party_branch"):
        columns[name] = _column(frame, name)
    grids = gpd.GeoDataFrame(
        {k: v for k, v in columns.items() if v is not None},
        geometry=gpd.GeoSeries(geoms, crs=WGS84),
        crs=WGS84,
    )
    others = _stored_grids(store) if not replace else None
    combined = grids[["grid_id", "geometry"]]
    if others is not None and len(others):
        others = others[~others["grid_id"].isin(set(ids))]
        combined = pd.concat([combined, others[["grid_id", "geometry"]]], ignore_index=True)
    overlaps = overlapping_grids(gpd.GeoDataFrame(combined, geometry="geometry", crs=WGS84))
    if len(overlaps):
        shown = "; ".join(
            f"{a} & {b} ({area:.0f} m²)"
            for a, b, area in overlaps.head(SHOW_FIRST).itertuples(index=False)
        )
        check.report.warnings.append(
            f"{check.report.file}: "
            + t("imp_warn_overlaps", check.report.lang, count=len(overlaps), pairs=shown)
            + (" ..." if len(overlaps) > SHOW_FIRST else "")
        )
    return grids


def _prepare_boundary(
    store: Store, frame: pd.DataFrame, check: _Checker, **_: object
) -> pd.DataFrame:
    geoms = _repair_polygons(frame, check)
    if check.report.problems:
        return frame
    adcode = _column(frame, "adcode")
    given = _column(frame, "boundary_id")
    ids = np.array([str(r) for r in check.rows], dtype=object)
    if given is not None:
        ids = np.where(pd.isna(given), ids, given)
    elif adcode is not None:
        ids = np.where(pd.isna(adcode), ids, adcode)
    if len(set(ids)) < len(ids):  # repeated adcodes (e.g. parts listed separately): number them
        ids = np.array([str(r) for r in check.rows], dtype=object)
    columns = {"boundary_id": ids, "name": _column(frame, "name"), "adcode": adcode}
    return gpd.GeoDataFrame(
        {k: v for k, v in columns.items() if v is not None},
        geometry=gpd.GeoSeries(geoms, crs=WGS84),
        crs=WGS84,
    )


# --- writing --------------------------------------------------------------------------


def _write(
    store: Store, kind: str, staging: Staging, *, replace: bool, actor: str, file_name: str
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
                    "detail": [f"{kind} {file_name}"],
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
    """Place every stored household and report in the (new) grids, inside the transaction."""
    grids = tx.read("grids", ["grid_id"])
    for table, key in (("households", "household_id"), ("reports", "report_id")):
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
