"""The demo's buildings: footprints in rows along each block's streets, units, floors, party groups.

Built from the demo's households (``geo.demo.households``): every building they name (``building``
3号楼, address 东河小区3号楼2单元501) becomes one building of their grid, placed where its
households are, as wide as its units and turned along the block's east-west streets. Units
and floors are the grid's building type, read back from the addresses, so the glyph's
unit x floor grid is the addresses' grid. Deterministic by seed, from a random stream of its
own: the rest of the demo (households, visits, reports) does not change.

About 85% of the buildings have a party group (楼栋党小组), and about one building in 150
is left out (a survey gap: its households are "building unknown" in ``gridmap check``).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.buildings.address import parse_addresses
from geo.buildings.names import building_key
from geo.store.schema import WGS84

PARTY_GROUP_SHARE = 0.85
MISSING_ONE_IN = 150
UNIT_WIDTH_M = 13.0  # two flats a floor on each side of the stair
DEPTH_M = 12.0
GAP_M = 4.0  # between two buildings' footprints
MIN_HALF_M = 3.0
_M_PER_DEG_LAT = 110_950.0


def _metres_per_degree(lat: float) -> tuple[float, float]:
    return 111_320.0 * math.cos(math.radians(lat)), _M_PER_DEG_LAT


def _street_axes(grid: object) -> tuple[np.ndarray, float, float]:
    """A block's east-west direction (unit vector in metres) and its width and depth in metres."""
    ring = np.asarray(
        shapely.get_exterior_ring(max(shapely.get_parts(grid), key=lambda p: p.area)).coords
    )
    lat0 = float(ring[:, 1].mean())
    mx, my = _metres_per_degree(lat0)
    xy = (ring[:-1] - ring[0]) * [mx, my]
    # the longest roughly east-west edge gives the street's direction
    edges = np.roll(xy, -1, axis=0) - xy
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    east_west = np.abs(edges[:, 0]) >= np.abs(edges[:, 1])
    pick = np.argmax(np.where(east_west, lengths, 0))
    axis = edges[pick] / max(lengths[pick], 1e-9)
    if axis[0] < 0:
        axis = -axis
    across = np.array([-axis[1], axis[0]])
    width = float(np.ptp(xy @ axis))
    depth = float(np.ptp(xy @ across))
    return axis, width, depth


def _footprint(
    lon: float, lat: float, axis: np.ndarray, width_m: float, depth_m: float
) -> shapely.Polygon:
    """A width x depth rectangle centred on (lon, lat), its long side along ``axis``."""
    mx, my = _metres_per_degree(lat)
    across = np.array([-axis[1], axis[0]])
    corners = [
        sx * width_m / 2 * axis + sy * depth_m / 2 * across
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return shapely.Polygon([(lon + c[0] / mx, lat + c[1] / my) for c in corners])


def _clear_sizes(sites: pd.DataFrame, axis: np.ndarray) -> np.ndarray:
    """Half width and half depth (metres) of each building of one grid: as wide as its units
    and as deep as a slab, shrunk where two would overlap (side by side: narrower; one
    behind the other: shallower), leaving a gap between them."""
    lat0 = float(sites["lat"].mean())
    mx, my = _metres_per_degree(lat0)
    xy = np.column_stack([sites["lon"].to_numpy() * mx, sites["lat"].to_numpy() * my])
    along = xy @ axis
    across = xy @ np.array([-axis[1], axis[0]])
    half = np.column_stack(
        [
            sites["units"].to_numpy(float) * UNIT_WIDTH_M / 2,
            np.where(sites["floors"].to_numpy() > 11, DEPTH_M + 2, DEPTH_M) / 2,
        ]
    )
    for i in range(len(sites)):
        for j in range(i + 1, len(sites)):
            da, dc = abs(along[i] - along[j]), abs(across[i] - across[j])
            if da >= half[i, 0] + half[j, 0] + GAP_M or dc >= half[i, 1] + half[j, 1] + GAP_M:
                continue
            side = 0 if da >= dc else 1  # side by side: shrink the widths, else the depths
            room = max((da if side == 0 else dc) - GAP_M, 2 * MIN_HALF_M)
            scale = room / (half[i, side] + half[j, side])
            half[i, side] = max(half[i, side] * scale, MIN_HALF_M)
            half[j, side] = max(half[j, side] * scale, MIN_HALF_M)
    return half


def demo_buildings(
    seed: int, grids: gpd.GeoDataFrame, households: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The buildings of the demo's households: building_id, grid_id, name, party_group,
    units, floors, lon, lat (the anchor) and a footprint polygon (WGS-84), sorted by id.

    ``households``: household_id, grid_id, building, address and a point geometry (or
    lon/lat), as ``geo.demo.layout`` makes them.
    """
    rng = np.random.default_rng([seed, 0x6275696C])  # "buil": a stream of its own
    if "lon" in households.columns:
        lon, lat = households["lon"].to_numpy(float), households["lat"].to_numpy(float)
    else:
        lon, lat = households.geometry.x.to_numpy(), households.geometry.y.to_numpy()
    places = parse_addresses(households["address"])
    homes = pd.DataFrame(
        {
            "grid_id": households["grid_id"].astype(object).to_numpy(),
            "name": households["building"].astype(object).to_numpy(),
            "lon": lon,
            "lat": lat,
            "unit": places["unit"].to_numpy(dtype=float, na_value=np.nan),
            "floor": places["floor"].to_numpy(dtype=float, na_value=np.nan),
            "compound": households["address"]
            .astype(str)
            .str.extract(r"^(.*?小区)", expand=False)
            .fillna("")
            .to_numpy(object),
        }
    ).dropna(subset=["grid_id", "name"])
    sites = (
        homes.groupby(["grid_id", "name"], sort=False)
        .agg(lon=("lon", "mean"), lat=("lat", "mean"), compound=("compound", "first"))
        .reset_index()
    )
    # a grid is one building type: its units and floors are the largest in its addresses
    types = homes.groupby("grid_id")[["unit", "floor"]].max()
    sites["units"] = sites["grid_id"].map(types["unit"]).fillna(1).astype(np.int64)
    sites["floors"] = sites["grid_id"].map(types["floor"]).fillna(1).astype(np.int64)
    sites["number"] = (
        sites["name"].map(building_key).str.extract(r"^(\d+)", expand=False).fillna("0").astype(int)
    )
    sites = sites.sort_values(["grid_id", "number"], kind="stable").reset_index(drop=True)
    sites["building_id"] = sites["grid_id"] + "-L" + sites["number"].map("{:02d}".format)

    polygons = dict(zip(grids["grid_id"], grids.geometry.values, strict=True))
    footprints = np.empty(len(sites), dtype=object)
    for grid_id, members in sites.groupby("grid_id", sort=False).groups.items():
        axis, _, _ = _street_axes(polygons[grid_id])
        chosen = sites.loc[members]
        sizes = _clear_sizes(chosen, axis)
        for pos, (half_w, half_d) in zip(members, sizes, strict=True):
            row = sites.loc[pos]
            footprints[pos] = shapely.MultiPolygon(
                [_footprint(row["lon"], row["lat"], axis, 2 * half_w, 2 * half_d)]
            )

    has_group = rng.random(len(sites)) < PARTY_GROUP_SHARE
    party = np.where(
        has_group, (sites["compound"] + sites["name"] + "党小组").to_numpy(object), None
    )
    keep = np.ones(len(sites), dtype=bool)
    if len(sites) >= 50:
        missing = rng.choice(len(sites), max(1, len(sites) // MISSING_ONE_IN), replace=False)
        keep[missing] = False
    out = gpd.GeoDataFrame(
        {
            "building_id": sites["building_id"].to_numpy(object),
            "grid_id": sites["grid_id"].to_numpy(object),
            "name": sites["name"].to_numpy(object),
            "party_group": pd.Series(party, dtype=object),
            "units": sites["units"].to_numpy(np.int64),
            "floors": sites["floors"].to_numpy(np.int64),
            "lon": sites["lon"].to_numpy(float),
            "lat": sites["lat"].to_numpy(float),
        },
        geometry=footprints,
        crs=WGS84,
    )
    return out[keep].sort_values("building_id", kind="stable").reset_index(drop=True)
