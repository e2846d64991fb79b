"""The row rules of a buildings file: what is refused, what is only a warning.

Refused (the file is not imported, every problem is listed as FILE:ROW: column: reason):
a missing building_id, grid_id or name; a building_id twice in the file; a grid_id that is
not in the store; a name that another building of the same grid already has (in the file,
or stored under another id: names link households to buildings, so within a grid they must
tell buildings apart; ``1号楼`` and ``1栋`` are the same name, see ``names``); a name or
party group longer than the limit; units or floors that are not a whole number in range;
a geometry that is neither a point nor a polygon, a polygon that cannot be repaired, a
coordinate that cannot be read or is out of range.

Warned (imported): a building whose place is not inside the grid it names.

``BuildingRules.prepare`` checks one chunk (the importer reads big tables in chunks) and
remembers ids and names across chunks; ``finish`` checks names against the stored buildings
once every id in the file is known. Problems go to the importer's checker
(``geo.inputs.importers.problems._Checker``) as catalogue keys with values.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.buildings import spec
from geo.buildings.names import building_key, chinese_number
from geo.inputs.importers.checks import _parse_coordinates, _repair_polygons, _texts
from geo.inputs.importers.problems import _Checker
from geo.store.schema import WGS84

_COUNT = re.compile(r"^0*(\d+)(?:个单元|单元|个|层|楼|f)?$")
_CN_COUNT = re.compile(r"^([零〇一二两三四五六七八九十]+)(?:个单元|单元|个|层|楼)?$")


@contextmanager
def _rows_of(check: _Checker, positions: np.ndarray) -> Iterator[None]:
    """The checker's spreadsheet lines narrowed to ``positions`` of the chunk (a shared check
    given a part of the chunk reports each problem at its own line)."""
    rows = check.rows
    check.rows = rows[positions]
    try:
        yield
    finally:
        check.rows = rows


def parse_count(text: object) -> int | None:
    """A count of units or floors as clerks write it: ``6``, ``6层``, ``3个单元``, ``六层``,
    ``６``; None when empty; ValueError when it is not a whole number."""
    if text is None or (isinstance(text, float) and text != text):
        return None
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()
    if value == "":
        return None
    if re.fullmatch(r"\d+\.0+", value):  # a spreadsheet number cell: 6.0
        value = value.split(".")[0]
    match = _COUNT.match(value)
    if match:
        return int(match.group(1))
    match = _CN_COUNT.match(value)
    number = chinese_number(match.group(1)) if match else None
    if number is None:
        raise ValueError(value)
    return number


class BuildingRules:
    """The checks of one buildings file: ``prepare`` each chunk, then ``finish``.

    ``grids``: the stored grids (grid_id, polygon). ``stored``: the stored buildings
    (building_id, grid_id, name), None when the file replaces them all.
    """

    def __init__(self, grids: gpd.GeoDataFrame, stored: pd.DataFrame | None = None) -> None:
        self.grids = grids
        self.grid_ids = set(grids["grid_id"].astype(str))
        self.stored = stored
        self._ids: dict[str, int] = {}  # building_id -> first row
        self._names: dict[tuple[str, str], tuple[int, str, str]] = {}  # -> (row, id, name)

    def prepare(
        self, frame: pd.DataFrame, check: _Checker, *, coords: str = "wgs84", crs: str | None = None
    ) -> gpd.GeoDataFrame | None:
        """The chunk's buildings (``spec.STORED_COLUMNS`` and geometry, WGS-84), or None when
        it has problems (all of them added to ``check``)."""
        problems_before = check.report.problem_count
        rows = check.rows
        ids = self._required(frame, "building_id", check)
        grid_ids = self._required(frame, "grid_id", check)
        names = self._required(frame, "name", check)
        unknown = ~pd.isna(grid_ids) & ~pd.Series(grid_ids, dtype=object).isin(self.grid_ids)
        check.add_mask(
            unknown.to_numpy(bool),
            "grid_id",
            "imp_unknown_grid",
            lambda pos: {"value": repr(grid_ids[pos])},
        )
        self._too_long(names, "name", spec.MAX_NAME_CHARS, check)
        party = _texts(frame["party_group"]) if "party_group" in frame.columns else None
        if party is not None:
            self._too_long(party, "party_group", spec.MAX_PARTY_GROUP_CHARS, check)
        units = self._counts(frame, "units", spec.MAX_UNITS, check)
        floors = self._counts(frame, "floors", spec.MAX_FLOORS, check)
        geoms, lon, lat = self._places(frame, check, coords=coords, crs=crs)
        for pos, building_id in enumerate(ids):
            if building_id is None:
                continue
            first = self._ids.setdefault(building_id, int(rows[pos]))
            if first != rows[pos]:
                check.add(rows[pos], "building_id", "imp_duplicate_id", id=building_id, first=first)
        for pos, (grid_id, name) in enumerate(zip(grid_ids, names, strict=True)):
            if grid_id is None or name is None:
                continue
            first = self._names.setdefault(
                (grid_id, building_key(name)), (int(rows[pos]), ids[pos], name)
            )
            if first[0] != rows[pos]:
                check.add(
                    rows[pos],
                    "name",
                    "bld_name_twice",
                    name=repr(name),
                    grid=grid_id,
                    first=first[0],
                    other=repr(first[2]),
                )
        if check.report.problem_count > problems_before:
            return None
        self._warn_outside(ids, grid_ids, lon, lat, check)
        columns = {
            "building_id": ids,
            "grid_id": grid_ids,
            "name": names,
            "party_group": party if party is not None else np.full(len(ids), None, object),
            "units": units,
            "floors": floors,
        }
        # object columns keep None for "none" (pandas' string dtype would make it NaN)
        frame_out = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
        frame_out["lon"], frame_out["lat"] = lon, lat
        return gpd.GeoDataFrame(frame_out, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)

    def finish(self, check: _Checker) -> None:
        """Names that a stored building of the same grid has under another id (one not in
        the file: a building re-imported may give its name to another)."""
        if self.stored is None or len(self.stored) == 0:
            return
        stored = self.stored[~self.stored["building_id"].astype(str).isin(self._ids)]
        taken = {
            (str(g), building_key(n)): (str(b), str(n))
            for b, g, n in zip(
                stored["building_id"], stored["grid_id"], stored["name"], strict=True
            )
            if g is not None and n is not None
        }
        for key, (row, building_id, name) in self._names.items():
            if key in taken and taken[key][0] != building_id:
                check.add(
                    row,
                    "name",
                    "bld_name_stored",
                    name=repr(name),
                    grid=key[0],
                    other=taken[key][0],
                    other_name=repr(taken[key][1]),
                )

    # --- the columns ---------------------------------------------------------------

    @staticmethod
    def _required(frame: pd.DataFrame, name: str, check: _Checker) -> np.ndarray:
        if name not in frame.columns:  # the importer refuses the header; a frame may lack it
            return np.full(len(frame), None, dtype=object)
        values = _texts(frame[name])
        check.add_mask(pd.isna(values), name, "imp_value_missing")
        return values

    @staticmethod
    def _too_long(values: np.ndarray, name: str, limit: int, check: _Checker) -> None:
        lengths = np.array([len(v) if isinstance(v, str) else 0 for v in values], dtype=np.int64)
        check.add_mask(
            lengths > limit,
            name,
            "bld_too_long",
            lambda pos: {"count": int(lengths[pos]), "limit": limit},
        )

    @staticmethod
    def _counts(frame: pd.DataFrame, name: str, limit: int, check: _Checker) -> np.ndarray:
        """Units or floors as ints (None where empty); problems where not 1..limit."""
        out = np.full(len(frame), None, dtype=object)
        if name not in frame.columns:
            return out
        for pos, text in enumerate(_texts(frame[name])):
            try:
                value = parse_count(text)
            except ValueError:
                value = -1
            if value is None:
                continue
            if not 1 <= value <= limit:
                check.add(check.rows[pos], name, "bld_bad_count", value=repr(text), limit=limit)
                continue
            out[pos] = value
        return out

    def _places(
        self, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Geometry (Point or MultiPolygon) and anchor lon/lat of every row."""
        n = len(frame)
        if not isinstance(frame, gpd.GeoDataFrame):
            lon, lat, ok = _parse_coordinates(frame, check, coords, crs)
            geoms = np.where(ok, shapely.points(lon, lat), None)
            return geoms, lon, lat
        geoms = np.asarray(frame.geometry.values, dtype=object)
        out = np.full(n, None, dtype=object)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        check.add_mask(missing, "geometry", "imp_no_geometry")
        kinds = np.where(missing, -1, shapely.get_type_id(np.where(missing, None, geoms)))
        point = kinds == 0
        polygonal = np.isin(kinds, (3, 6, 7))  # Polygon, MultiPolygon, GeometryCollection
        other = ~missing & ~point & ~polygonal
        check.add_mask(
            other,
            "geometry",
            "bld_not_point_or_polygon",
            lambda pos: {"type": geoms[pos].geom_type},
        )
        if point.any():
            xy = shapely.get_coordinates(geoms[point])
            bad = ~np.isfinite(xy).all(axis=1) | (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
            positions = np.flatnonzero(point)
            for pos, (x, y) in zip(positions[bad], xy[bad], strict=True):
                check.add(
                    check.rows[pos],
                    "geometry",
                    "imp_vertex_out_of_range",
                    lon=f"{x:g}",
                    lat=f"{y:g}",
                )
            out[positions[~bad]] = geoms[positions[~bad]]
        if polygonal.any():
            positions = np.flatnonzero(polygonal)
            with _rows_of(check, positions):
                out[positions] = _repair_polygons(frame.iloc[positions], check)
        anchors = np.where(pd.isna(out), None, out)
        usable = ~pd.isna(anchors)
        lon = np.full(n, np.nan)
        lat = np.full(n, np.nan)
        if usable.any():
            # a polygon's anchor is a point inside it (a glyph drawn on the footprint)
            inside = shapely.point_on_surface(anchors[usable])
            lon[usable] = shapely.get_x(inside)
            lat[usable] = shapely.get_y(inside)
        return out, lon, lat

    def _warn_outside(
        self,
        ids: np.ndarray,
        grid_ids: np.ndarray,
        lon: np.ndarray,
        lat: np.ndarray,
        check: _Checker,
    ) -> None:
        """A warning for every building whose place is not inside the grid it names."""
        polygons = dict(
            zip(self.grids["grid_id"].astype(str), self.grids.geometry.values, strict=True)
        )
        grid_geoms = np.array([polygons.get(g) for g in grid_ids], dtype=object)
        points = shapely.points(lon, lat)
        known = ~pd.isna(grid_geoms) & np.isfinite(lon) & np.isfinite(lat)
        # the boundary counts as inside, as for households
        inside = np.zeros(len(ids), dtype=bool)
        if known.any():
            inside[known] = shapely.intersects(grid_geoms[known], points[known])
        check.warn("bld_warn_outside_grid", ids[known & ~inside])
