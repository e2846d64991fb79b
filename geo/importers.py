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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.assign import assign_to_grids, overlapping_grids
from geo.categories import join_codes, parse_categories
from geo.config import load_config
from geo.coords import TO_WGS84, transform_geometry
from geo.readers import (
    ROW,
    WGS84,
    ReadError,
    is_vector_file,
    is_wgs84_like,
    normalise_crs,
    read_table,
    read_vector,
)
from geo.store import Store
from geo.timeutil import format_timestamp, now_local, parse_timestamp

KINDS = ("grids", "households", "visits", "staff", "reports", "boundary")
COORDS = tuple(TO_WGS84)
FILE_LEVEL = "-"
"""The column named by a problem about the whole file (empty, unreadable)."""
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


@dataclass
class ImportReport:
    """What an import did: problems (nothing written when any), warnings, rows written."""

    kind: str
    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> header in the file

    def problem_lines(self) -> list[str]:
        """Every problem as ``FILE:ROW: column: reason``, the column as the file's header names it."""
        return [
            str(replace(p, header=p.header or self.headers.get(p.column))) for p in self.problems
        ]

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.problems


class _Checker:
    """Collects the problems of one file."""

    def __init__(self, report: ImportReport, rows: np.ndarray) -> None:
        self.report = report
        self.rows = rows

    def add(self, row: int, column: str, reason: str) -> None:
        self.report.problems.append(Problem(self.report.file, int(row), column, reason))

    def add_mask(
        self, mask: np.ndarray | pd.Series, column: str, reason: str | Callable[[int], str]
    ) -> None:
        """A problem for every row where ``mask`` holds; ``reason`` is a text or made from the position."""
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            self.add(self.rows[pos], column, reason if isinstance(reason, str) else reason(pos))


# --- entry point ----------------------------------------------------------------------


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
) -> ImportReport:
    """Check ``path`` as a ``kind`` file and, when it has no problems, write it to ``store``.

    ``coords`` (wgs84, gcj02, bd09) names the datum of the file's coordinates; they are
    converted to WGS-84. ``crs`` overrides the CRS a vector file declares. Returns an
    ``ImportReport``; when it lists problems the store was not touched.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if coords not in TO_WGS84:
        raise ValueError(f"unknown coordinates {coords!r} (expected one of {', '.join(COORDS)})")
    path = Path(path)
    report = ImportReport(kind, str(path))
    try:
        normalise_crs(crs)  # an unknown --crs is a refusal, like an unreadable file
        frame = _read(kind, path, encoding=encoding, crs=crs, coords=coords)
    except ReadError as exc:
        report.problems.append(Problem(str(path), HEADER_ROW, FILE_LEVEL, str(exc)))
        return report
    frame = _canonical_columns(kind, frame, report)
    if report.problems:
        return report
    check = _Checker(report, frame[ROW].to_numpy())
    prepare = {
        "grids": _prepare_grids,
        "households": _prepare_households,
        "visits": _prepare_visits,
        "staff": _prepare_staff,
        "reports": _prepare_reports,
        "boundary": _prepare_boundary,
    }[kind]
    table_frame = prepare(store, frame, check, coords=coords, crs=crs, replace=replace)
    if report.problems:
        return report
    report.written = _write(
        store, kind, table_frame, replace=replace, actor=actor, file_name=path.name
    )
    return report


def _read(
    kind: str, path: Path, *, encoding: str | None, crs: str | None, coords: str
) -> pd.DataFrame:
    if kind in POLYGON_KINDS and not is_vector_file(path):
        raise ReadError(
            f"{kind} need a vector file with polygons (GeoJSON, GeoPackage, Shapefile or its .zip)"
        )
    if not is_vector_file(path):
        return read_table(path, encoding=encoding)
    frame = read_vector(path, encoding=encoding, crs=crs)
    to_wgs84 = TO_WGS84[coords]
    if to_wgs84 is not None:
        geoms = np.asarray(frame.geometry.values, dtype=object)
        frame = frame.set_geometry(
            gpd.GeoSeries(transform_geometry(geoms, to_wgs84), index=frame.index, crs=WGS84)
        )
    return frame


def _header_key(text: object) -> str:
    """A header as compared: NFKC (full-width brackets/letters), no BOM, no spaces, lower case."""
    key = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", key).strip("*").lower()


def _canonical_columns(kind: str, frame: pd.DataFrame, report: ImportReport) -> pd.DataFrame:
    """``frame`` with canonical column names; problems for missing or doubled columns."""
    lookup: dict[str, str] = {}
    for canonical, spellings in ALIASES[kind].items():
        for spelling in (canonical, *spellings):
            lookup[_header_key(spelling)] = canonical
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    renames: dict[str, str] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for column in frame.columns:
        if column in (ROW, geometry_name):
            continue
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
            report.problems.append(
                Problem(
                    report.file,
                    HEADER_ROW,
                    str(column),
                    f"a second column for {canonical} (first: {seen[canonical]})",
                )
            )
            continue
        seen[canonical] = str(column)
        renames[column] = canonical
    report.headers = dict(seen)
    frame = frame.rename(columns=renames).drop(columns=ignored)
    if ignored and kind != "boundary":  # boundary files carry many properties nobody needs
        report.warnings.append(f"{report.file}: columns not used: {', '.join(ignored)}")
    vector = isinstance(frame, gpd.GeoDataFrame)
    for column in REQUIRED[kind]:
        if column in frame.columns or (vector and column in ("lon", "lat")):
            continue
        spellings = " / ".join((column, *ALIASES[kind][column][:1]))
        report.problems.append(
            Problem(report.file, HEADER_ROW, column, f"required column missing ({spellings})")
        )
    return frame


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
    check.add_mask(pd.isna(values), name, "value missing")
    return values


def _check_duplicates(keys: list[np.ndarray], names: list[str], check: _Checker) -> None:
    """A problem for every row repeating the key of an earlier row."""
    key_frame = pd.DataFrame({n: k for n, k in zip(names, keys, strict=True)})
    present = key_frame.notna().all(axis=1).to_numpy()
    duplicated = key_frame.duplicated(keep=False).to_numpy() & present
    if not duplicated.any():
        return
    first_line: dict[tuple, int] = {}
    for pos in np.flatnonzero(duplicated):
        key = tuple(key_frame.iloc[pos])
        if key not in first_line:
            first_line[key] = int(check.rows[pos])
            continue
        shown = " + ".join(str(k) for k in key)
        check.add(
            check.rows[pos], names[0], f"duplicate id {shown} (already on line {first_line[key]})"
        )


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
                check.add(check.rows[pos], name, "date missing")
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
            check.add(check.rows[pos], name, str(result))
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
        check.add_mask(missing, "geometry", "no point geometry")
        not_point = ~missing & (shapely.get_type_id(geoms) != 0)
        check.add_mask(not_point, "geometry", "not a point")
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
        check.add_mask(empty, name, "coordinate missing")
        values = pd.to_numeric(
            pd.Series(texts, dtype=object).map(
                lambda v: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v
            ),
            errors="coerce",
        ).to_numpy(dtype=float)
        bad_number = ~empty & ~np.isfinite(values)
        check.add_mask(bad_number, name, lambda pos, texts=texts: f"not a number: {texts[pos]!r}")
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
    check.add_mask(out, name, lambda pos: f"{values[pos]} is outside [-{limit:g}, {limit:g}]")
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
                check.add(check.rows[pos], name, "value missing")
            continue
        code = lookup.get(unicodedata.normalize("NFKC", str(value)).strip().lower())
        if code is None:
            check.add(
                check.rows[pos], name, f"unknown {name} {value!r} (expected one of: {expected})"
            )
        out[pos] = code
    return out


def _first_ids(ids: np.ndarray) -> str:
    shown = ", ".join(str(i) for i in ids[:SHOW_FIRST])
    return shown + (", ..." if len(ids) > SHOW_FIRST else "")


def _stored_grids(store: Store) -> gpd.GeoDataFrame:
    return store.read("grids", ["grid_id"])


def _place_points(
    store: Store, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, report: ImportReport, what: str
) -> np.ndarray:
    grid_ids = assign_to_grids(lon, lat, _stored_grids(store))
    outside = pd.isna(grid_ids)
    if outside.any():
        report.warnings.append(
            f"{report.file}: {int(outside.sum())} {what} outside every grid (unassigned): {_first_ids(ids[outside])}"
        )
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
    _check_duplicates([ids], ["household_id"], check)
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
                    f"unknown category {', '.join(unknown)!r} (expected {expected})",
                )
            categories[pos] = join_codes(codes)
    members = None
    if "members" in frame.columns:
        texts = _texts(frame["members"])
        numbers = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(
            dtype=float
        )
        bad = ~pd.isna(texts) & ~(np.isfinite(numbers) & (numbers >= 0) & (np.mod(numbers, 1) == 0))
        check.add_mask(bad, "members", lambda pos: f"not a whole number: {texts[pos]!r}")
        members = pd.array(np.where(np.isfinite(numbers) & ~bad, numbers, np.nan), dtype="Int64")
        members = np.array([None if pd.isna(m) else int(m) for m in members], dtype=object)
    last_verified = _parse_dates(frame, "last_verified", check, date_only=True)
    if check.report.problems:
        return frame
    grid_ids = _place_points(store, ids, lon, lat, check.report, "households")
    if "grid_id" in frame.columns:
        given = _texts(frame["grid_id"])
        differs = ~pd.isna(given) & (given != grid_ids)
        if differs.any():
            check.report.warnings.append(
                f"{check.report.file}: {int(differs.sum())} households have a grid_id that disagrees with "
                f"their location (the location wins): {_first_ids(ids[differs])}"
            )
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
    _check_duplicates([ids], ["report_id"], check)
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
    _warn_timelines(ids, stamps, check.report)
    grid_ids = _place_points(store, ids, lon, lat, check.report, "reports")
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


def _warn_timelines(
    ids: np.ndarray, stamps: dict[str, np.ndarray | None], report: ImportReport
) -> None:
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
        (~pd.isna(followed) & pd.isna(resolved), "a follow-up without a resolution"),
        (
            before(responded, reported) | before(resolved, reported) | before(followed, reported),
            "a step recorded before the report",
        ),
        (before(resolved, responded), "resolved before responded"),
        (before(followed, resolved), "followed up before resolved"),
    ]
    for mask, what in checks:
        if mask.any():
            report.warnings.append(
                f"{report.file}: {int(mask.sum())} reports with {what}: {_first_ids(ids[mask])}"
            )


def _prepare_visits(
    store: Store, frame: pd.DataFrame, check: _Checker, **_: object
) -> pd.DataFrame:
    households = _required_text(frame, "household_id", check)
    visited_at = _parse_dates(frame, "visited_at", check, required=True)
    staff_id = _column(frame, "staff_id")
    kind = _column(frame, "kind")
    known = set(store.read("households", ["household_id"])["household_id"].tolist())
    unknown = ~pd.isna(households) & ~pd.Series(households, dtype=object).isin(known).to_numpy()
    check.add_mask(
        unknown,
        "household_id",
        lambda pos: (
            f"unknown household {households[pos]!r} (not in the store: import households first)"
        ),
    )
    given_ids = _column(frame, "visit_id")
    ids = given_ids.copy() if given_ids is not None else np.full(len(frame), None, dtype=object)
    if given_ids is not None:
        _check_duplicates([given_ids], ["visit_id"], check)
    if check.report.problems:
        return frame
    # a visit without an id gets one derived from what it records: re-importing adds nothing
    missing = np.flatnonzero(pd.isna(ids))
    if len(missing):
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
    visits = pd.DataFrame({k: v for k, v in columns.items() if v is not None})
    repeated = visits.duplicated("visit_id")
    if repeated.any():
        check.report.warnings.append(
            f"{check.report.file}: {int(repeated.sum())} rows repeat an earlier visit exactly and were counted once"
        )
        visits = visits[~repeated]
    return visits


def _prepare_staff(store: Store, frame: pd.DataFrame, check: _Checker, **_: object) -> pd.DataFrame:
    config = load_config()
    staff_ids = _required_text(frame, "staff_id", check)
    names = _required_text(frame, "name", check)
    roles = _lookup_values(frame, "role", check, config.roles, required=True)
    grid_ids = _required_text(frame, "grid_id", check)
    _check_duplicates([staff_ids, grid_ids], ["staff_id", "grid_id"], check)
    known = set(_stored_grids(store)["grid_id"].tolist())
    unknown = ~pd.isna(grid_ids) & ~pd.Series(grid_ids, dtype=object).isin(known).to_numpy()
    check.add_mask(
        unknown,
        "grid_id",
        lambda pos: f"unknown grid {grid_ids[pos]!r} (not in the store: import grids first)",
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
            check.add(check.rows[pos], "geometry", "no geometry")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            check.add(check.rows[pos], "geometry", f"not a polygon ({geom.geom_type})")
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
                f"coordinate ({lon:g}, {lat:g}) is outside [-180, 180] x [-90, 90]",
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
            check.add(
                check.rows[pos],
                "geometry",
                "the polygon cannot be repaired (no area left after make_valid)",
            )
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
    _check_duplicates([ids], ["grid_id"], check)
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
            f"{check.report.file}: {len(overlaps)} pairs of grids overlap: {shown}"
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
    store: Store, kind: str, frame: pd.DataFrame, *, replace: bool, actor: str, file_name: str
) -> int:
    table = kind
    with store.transaction() as tx:
        tx.set_meta("demo_mode", "0")  # real data arrives: sign-in is required from now on
        if replace or kind == "boundary":
            written = tx.replace(table, frame)
        else:
            written = tx.upsert(table, frame)
        if kind == "grids":
            _reassign_all(tx)
        if kind == "households":
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
