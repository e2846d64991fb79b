"""The payload the map's building glyphs are drawn from (``static/gridmap/buildings.js``).

Compact, and ids and categories only: per building its id, name (楼栋名称, a label such as
3号楼), grid, place (integer offsets, as the households' payload), footprint, units, floors
and whether it has a party group (not the group's name); per linked household only its
index into the households' payload (whose category bitmask, overdue bit, id and last visit
the glyph reads) and its unit, floor and door.
Never a person's name, phone or ID number: the privacy rules of the households' payload hold.

The glyph's counts are computed in the browser from these (so a category filter on the
map filters the glyphs too); ``glyph_counts`` computes them the same way here, for tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.outputs.map.legend import MAX_CATEGORIES
from geo.outputs.map.payloads import COORD_SCALE, OVERDUE_BIT

MAX_FOOTPRINT_VERTICES = 24
"""A footprint is drawn as one ring: simplified until it has at most this many vertices."""


def _gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from geo.inputs.coords import wgs84_to_gcj02

    return wgs84_to_gcj02(lon, lat)


def _ring(geom: object, lon0: float, lat0: float, gcj02: bool) -> list[int]:
    """The exterior ring of a footprint's largest part as flat integer offsets from its
    anchor (``[dx0, dy0, dx1, dy1, ...]``, closing vertex dropped); [] for a point."""
    if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return []
    parts = list(shapely.get_parts(geom))
    polygon = max(parts, key=lambda p: p.area)
    ring = polygon.exterior
    tolerance = 2e-6
    while len(ring.coords) - 1 > MAX_FOOTPRINT_VERTICES:
        ring = shapely.simplify(polygon, tolerance).exterior
        tolerance *= 2
    xy = np.asarray(ring.coords)[:-1]
    lon, lat = xy[:, 0], xy[:, 1]
    if gcj02:
        lon, lat = _gcj(lon, lat)
    dx = np.rint((lon - lon0) / COORD_SCALE).astype(np.int64)
    dy = np.rint((lat - lat0) / COORD_SCALE).astype(np.int64)
    return np.column_stack([dx, dy]).ravel().tolist()


def _whole(values: pd.Series | np.ndarray, n: int) -> np.ndarray:
    """Whole numbers with 0 for unknown."""
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return numbers.fillna(0).to_numpy(np.int64) if n else np.zeros(0, dtype=np.int64)


def building_payload(
    buildings: gpd.GeoDataFrame,
    households: pd.DataFrame,
    household_ids: Sequence[str],
    *,
    grid_order: Sequence[str] = (),
    gcj02: bool = False,
) -> dict:
    """The buildings' payload.

    ``buildings``: building_id, grid_id, name, party_group, units, floors, lon, lat (the
    anchor) and geometry (point or footprint). ``households``: household_id, building_id
    (None when unlinked), unit, floor, door. ``household_ids``: the
    households' payload ids in its order (``geo.outputs.map.payloads.household_payload``): members are
    indices into it; households not in it are left out. ``grid_order``: the grid features'
    order (``g`` indexes it, -1 for none of them).
    """
    nb = len(buildings)
    empty = {"n": 0, "x0": 0, "y0": 0, "s": COORD_SCALE, "x": [], "y": [], "id": [], "nm": []}
    empty |= {"g": [], "u": [], "f": [], "pg": [], "fp": [], "o": [0], "m": [], "mu": []}
    empty |= {"mf": [], "md": []}
    if nb == 0:
        return empty
    lon = buildings["lon"].to_numpy(float)
    lat = buildings["lat"].to_numpy(float)
    if gcj02:
        lon, lat = _gcj(lon, lat)
    x0 = math.floor(float(np.nanmin(lon)) * 1000) / 1000
    y0 = math.floor(float(np.nanmin(lat)) * 1000) / 1000
    ids = buildings["building_id"].astype(str).to_numpy(object)
    position = {g: i for i, g in enumerate(grid_order)}
    party = buildings["party_group"].astype(object).where(buildings["party_group"].notna(), "")
    geoms = np.asarray(buildings.geometry.values, dtype=object)

    # members: households in the payload, linked to one of these buildings
    index = pd.Index(pd.Series(household_ids, dtype=object)).get_indexer(
        households["household_id"].astype(object)
    )
    building_of = pd.Index(ids).get_indexer(households["building_id"].astype(object))
    keep = (index >= 0) & (building_of >= 0)
    order = np.lexsort((index[keep], building_of[keep]))
    member = index[keep][order]
    member_building = building_of[keep][order]
    offsets = np.searchsorted(member_building, np.arange(nb + 1))
    # delta-encoded within each building: the first index, then the steps to the next
    deltas = member.copy()
    if len(member):
        starts = np.zeros(len(member), dtype=bool)
        starts[offsets[:-1][offsets[:-1] < len(member)]] = True
        deltas[1:] = np.where(starts[1:], member[1:], np.diff(member))
    rows = households[keep].iloc[order]
    return {
        "n": nb,
        "x0": x0,
        "y0": y0,
        "s": COORD_SCALE,
        "x": np.rint((lon - x0) / COORD_SCALE).astype(np.int64).tolist(),
        "y": np.rint((lat - y0) / COORD_SCALE).astype(np.int64).tolist(),
        "id": ids.tolist(),
        "nm": buildings["name"]
        .astype(object)
        .where(buildings["name"].notna(), "")
        .astype(str)
        .tolist(),
        "g": buildings["grid_id"].map(position).fillna(-1).astype(np.int64).tolist(),
        "u": _whole(buildings["units"], nb).tolist(),
        "f": _whole(buildings["floors"], nb).tolist(),
        "pg": (party.astype(str).str.strip() != "").astype(np.int64).tolist(),
        "fp": [
            _ring(geom, float(a), float(b), gcj02)
            for geom, a, b in zip(geoms, buildings["lon"], buildings["lat"], strict=True)
        ],
        "o": offsets.astype(np.int64).tolist(),
        "m": deltas.astype(np.int64).tolist(),
        "mu": _whole(rows["unit"], len(rows)).tolist(),
        "mf": _whole(rows["floor"], len(rows)).tolist(),
        "md": _whole(rows["door"], len(rows)).tolist(),
    }


def members(payload: dict) -> list[np.ndarray]:
    """The household payload indices of each building (decoding ``m`` as the browser does)."""
    out = []
    offsets, deltas = payload["o"], np.asarray(payload["m"], dtype=np.int64)
    for b in range(payload["n"]):
        part = deltas[offsets[b] : offsets[b + 1]]
        out.append(np.cumsum(part) if len(part) else part)
    return out


def glyph_counts(payload: dict, household_mask: Sequence[int]) -> pd.DataFrame:
    """What each glyph shows, computed as ``buildings.js`` does: per building its households,
    the count per category bit (``c0`` .. ``c6``), ordinary and overdue.
    ``household_mask``: the households' payload ``c`` (category bits, bit 7 overdue)."""
    masks = np.asarray(household_mask, dtype=np.int64)
    rows = []
    for indices in members(payload):
        m = masks[indices]
        row = {"households": len(m)}
        for bit in range(MAX_CATEGORIES):
            row[f"c{bit}"] = int(((m >> bit) & 1).sum())
        row["ordinary"] = int(((m & (OVERDUE_BIT - 1)) == 0).sum())
        row["overdue"] = int(((m & OVERDUE_BIT) > 0).sum())
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(payload["id"], name="building_id"))
