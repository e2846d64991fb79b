"""Checks shared by every kind: cell text, dates, coordinates, ranges, lookups of known ids, points placed in grids, polygons repaired."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.i18n import Msg
from geo.inputs.assign import assign_to_grids
from geo.inputs.coords import TO_WGS84
from geo.inputs.importers.problems import _Checker
from geo.inputs.readers import WGS84
from geo.inputs.vector import is_wgs84_like, normalise_crs
from geo.store.base import Store
from geo.timeutil import parse_timestamp


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
