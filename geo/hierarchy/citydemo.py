"""The city demo: Hohhot's four urban districts, their street offices, communities and grids.

Built over the real district outlines (a folder of GCJ-02 files as boundary services
publish them; see ``geo.hierarchy.districts``), deterministic by seed:

- city blocks (a jittered lattice of ~180 x 140 m cells, as the street-office demo) around
  the point where the four districts meet, cut along the district borders, so a block on a
  border is one grid per district and no grid crosses a border;
- each district takes its share of the households (赛罕区 the most) in the blocks nearest
  the centre, split into street offices (real names, the 镇 towns outermost) and those
  into communities of about ten grids, by recursive bisection (compact, contiguous areas);
- households in buildings, staff, visits, verifications and reports come from the
  street-office demo's generators (``geo.demo``), with the district named in departments.

``households`` up to 1,000,000 (about 10M visits) runs in a few minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.demo.build import _chunks
from geo.demo.buildings import demo_buildings
from geo.demo.cases import add_cases
from geo.demo.employment import add_employment
from geo.demo.households import _households, _verifications
from geo.demo.layout import (
    _M_PER_DEG_LAT,
    _M_PER_DEG_LON,
    CELL_H_M,
    CELL_W_M,
    CENTRE_LAT,
    CENTRE_LON,
    HOUSEHOLDS_PER_GRID,
    _community_names,
    _Layout,
    _to_lonlat,
)
from geo.demo.reports import _reports
from geo.demo.staff import _staff
from geo.demo.visits import _visits
from geo.hierarchy.districts import (
    BOUNDARIES_ENV,
    DEFAULT_BOUNDARIES,
    clip_to_districts,
    read_district_outlines,
)
from geo.store.base import Store
from geo.store.schema import WGS84
from geo.timeutil import today

DEFAULT_CITY_HOUSEHOLDS = 1_000_000
GRIDS_PER_STREET = 90
GRIDS_PER_COMMUNITY = 10
MIN_STREETS = 3
MIN_COMMUNITIES = 2  # per street
MIN_GRIDS = 2  # per community
MIN_PART = 0.35  # a block's part on one side of a border smaller than this is no grid


@dataclass(frozen=True)
class District:
    """An urban district of the demo city: its outline file, short code, share of households
    and street offices (街道 first, the towns 镇 last: they lie outermost)."""

    adcode: str
    name: str
    code: str
    share: float
    streets: tuple[str, ...]

    @property
    def file(self) -> str:
        return f"{self.adcode}.json"


DISTRICTS = (
    District(
        "150102",
        "新城区",
        "XC",
        0.27,
        (
            "海拉尔东路街道",
            "锡林北路街道",
            "迎新路街道",
            "东街街道",
            "西街街道",
            "东风路街道",
            "中山东路街道",
            "成吉思汗大街街道",
            "保合少镇",
        ),
    ),
    District(
        "150103",
        "回民区",
        "HM",
        0.17,
        (
            "中山西路街道",
            "环河街街道",
            "光明路街道",
            "新华西路街道",
            "通道街街道",
            "钢铁路街道",
            "海拉尔西路街道",
            "攸攸板镇",
        ),
    ),
    District(
        "150104",
        "玉泉区",
        "YQ",
        0.17,
        (
            "大南街街道",
            "小召前街街道",
            "长和廊街道",
            "兴隆巷街道",
            "西菜园街道",
            "昭君路街道",
            "鄂尔多斯路街道",
            "石东路街道",
            "小黑河镇",
        ),
    ),
    District(
        "150105",
        "赛罕区",
        "SH",
        0.39,
        (
            "人民路街道",
            "大学西路街道",
            "乌兰察布东路街道",
            "中专路街道",
            "大学东路街道",
            "昭乌达路街道",
            "敕勒川路街道",
            "巴彦镇",
            "金河镇",
            "黄合少镇",
        ),
    ),
)
BOUNDARY_FILES = tuple(d.file for d in DISTRICTS)


def boundaries_folder(flag: str | Path | None = None, root: Path | None = None) -> Path:
    """Where the district outlines are: ``--boundaries``, else ``$GRIDMAP_BOUNDARIES``, else
    ``../shared/data/boundaries`` relative to the project root."""
    if flag:
        return Path(flag)
    if os.environ.get(BOUNDARIES_ENV):
        return Path(os.environ[BOUNDARIES_ENV])
    root = root or Path(__file__).resolve().parents[2]
    return (root / DEFAULT_BOUNDARIES).resolve()


def read_city_outlines(folder: Path) -> gpd.GeoDataFrame:
    """The four urban districts' outlines (WGS-84), in ``DISTRICTS`` order; raises
    ``BoundariesMissing`` when the folder or a file is not there."""
    outlines = read_district_outlines(folder, BOUNDARY_FILES)
    by_code = {d.adcode: d for d in DISTRICTS}
    outlines["name"] = [by_code[a].name for a in outlines["adcode"]]  # the demo's spelling
    return outlines


# --- layout -----------------------------------------------------------------------------


@dataclass
class CityLayout:
    """Grids of the city (one row per grid, tree order) and the street-office demo's layout
    of the same grids (their whole blocks, for placing households)."""

    grids: gpd.GeoDataFrame  # grid_id, name, community, street, district, party_branch, geometry
    layout: _Layout
    whole: np.ndarray  # per grid: True when the grid is its whole block (not cut by a border)


def _metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The street-office demo's metric frame (metres east/north of its centre)."""
    return np.stack(
        [
            (lon - CENTRE_LON) * _M_PER_DEG_LON,
            (lat - CENTRE_LAT) * _M_PER_DEG_LAT,
        ],
        axis=-1,
    )


def city_centre(outlines: gpd.GeoDataFrame) -> tuple[float, float]:
    """The point nearest to all districts at once (lon, lat): where the city blocks begin."""
    lon0, lat0 = (float(v) for v in outlines.union_all().centroid.coords[0])
    geoms = np.asarray(outlines.geometry.values, dtype=object)
    best = (math.inf, lon0, lat0)
    for span, step in ((0.4, 0.01), (0.02, 0.001)):  # coarse, then fine around the best
        xs = np.arange(best[1] - span, best[1] + span + step / 2, step)
        ys = np.arange(best[2] - span, best[2] + span + step / 2, step)
        px, py = np.meshgrid(xs, ys)
        points = shapely.points(px.ravel(), py.ravel())
        worst = np.max([shapely.distance(g, points) for g in geoms], axis=0)
        i = int(np.argmin(worst))
        if worst[i] < best[0]:
            best = (float(worst[i]), float(px.ravel()[i]), float(py.ravel()[i]))
    return best[1], best[2]


def _lattice(rng: np.random.Generator, centre_m: np.ndarray, radius_m: float) -> np.ndarray:
    """Jittered lattice cells around ``centre_m``: corners (N, 4, 2) SW, SE, NE, NW in metres."""
    cols = int(math.ceil(2 * radius_m / CELL_W_M))
    rows = int(math.ceil(2 * radius_m / CELL_H_M))
    vx = centre_m[0] + (np.arange(cols + 1) - cols / 2) * CELL_W_M
    vy = centre_m[1] + (np.arange(rows + 1)[::-1] - rows / 2) * CELL_H_M  # row 0 north
    lattice = np.stack(np.meshgrid(vx, vy), axis=-1)
    lattice += rng.uniform(-0.14, 0.14, lattice.shape) * np.array([CELL_W_M, CELL_H_M])
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    r, c = r.ravel(), c.ravel()
    return np.stack(
        [lattice[r + 1, c], lattice[r + 1, c + 1], lattice[r, c + 1], lattice[r, c]], axis=1
    )


def _partition(xy: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k-1 splitting points into k compact groups of near-equal size (recursive
    bisection along the wider axis); label order runs along the splits."""
    labels = np.zeros(len(xy), dtype=np.int64)

    def split(idx: np.ndarray, parts: int, first: int) -> None:
        if parts <= 1 or len(idx) <= 1:
            labels[idx] = first
            return
        left = parts // 2
        pts = xy[idx]
        axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
        order = idx[np.argsort(pts[:, axis], kind="stable")]
        cut = round(len(idx) * left / parts)
        split(order[:cut], left, first)
        split(order[cut:], parts - left, first + left)

    split(np.arange(len(xy)), k, 0)
    return labels


def _grid_counts(n_households: int) -> dict[str, int]:
    """Grids per district: each its share of the households, at least the smallest tree."""
    smallest = MIN_STREETS * MIN_COMMUNITIES * MIN_GRIDS
    total = max(len(DISTRICTS) * smallest, round(n_households / HOUSEHOLDS_PER_GRID))
    return {d.name: max(smallest, round(total * d.share)) for d in DISTRICTS}


def city_layout(
    rng: np.random.Generator, outlines: gpd.GeoDataFrame, n_households: int
) -> CityLayout:
    """The city's grids over ``outlines`` (``read_city_outlines``) for ``n_households``."""
    wanted = _grid_counts(n_households)
    lon0, lat0 = city_centre(outlines)
    centre_m = _metres(np.array(lon0), np.array(lat0))
    radius = math.sqrt(sum(wanted.values()) * CELL_W_M * CELL_H_M / math.pi) * 2.5
    lattice_rng = np.random.default_rng(rng.integers(2**32))
    while True:
        corners = _lattice(lattice_rng, centre_m, radius)
        rings = _to_lonlat(np.concatenate([corners, corners[:, :1]], axis=1))
        cells = gpd.GeoDataFrame(geometry=shapely.polygons(rings), crs=WGS84)
        parts = clip_to_districts(cells, outlines, MIN_PART)
        if all((parts["district"] == name).sum() >= n for name, n in wanted.items()):
            break
        radius *= 1.5  # a district too thin near the centre: look further out
    centroid_m = corners.mean(axis=1)
    parts["distance"] = np.hypot(*(centroid_m[parts["cell"]] - centre_m).T)
    chosen = []
    for district in DISTRICTS:
        mine = parts[parts["district"] == district.name].sort_values("distance", kind="stable")
        chosen.append(_subdivide(mine.head(wanted[district.name]), district, centroid_m, centre_m))
    grids = pd.concat(chosen, ignore_index=True)
    # communities numbered across the city in tree order (names are unique citywide)
    grids["community_index"] = pd.factorize(
        grids["district"] + "|" + grids["local_community"].astype(str), sort=False
    )[0]
    names = _community_names(int(grids["community_index"].max()) + 1)
    grids["community"] = [names[i][0] for i in grids["community_index"]]
    code = np.array([names[i][1] for i in grids["community_index"]], dtype=object)
    width = max(2, len(str(int(grids["number"].max()))))
    grids["grid_id"] = (
        grids["district_code"].to_numpy(object)
        + "-"
        + code
        + "-"
        + np.char.zfill(grids["number"].astype(str).to_numpy(str), width).astype(object)
    )
    grids["name"] = grids["community"] + "第" + grids["number"].astype(str) + "网格"
    has_branch = rng.random(len(grids)) < 0.85
    grids["party_branch"] = np.where(has_branch, grids["name"] + "党支部", None)
    communities = (
        grids.drop_duplicates("community_index")
        .sort_values("community_index")[["community", "street"]]
        .itertuples(index=False)
    )
    layout = _Layout(
        corners=corners[grids["cell"].to_numpy()],
        community=grids["community_index"].to_numpy(np.int64),
        number=grids["number"].to_numpy(np.int64),
        communities=[(c, names[i][1], s) for i, (c, s) in enumerate(communities)],
    )
    frame = gpd.GeoDataFrame(
        grids[["grid_id", "name", "community", "street", "district", "party_branch"]],
        geometry=grids.geometry.values,
        crs=WGS84,
    )
    return CityLayout(frame, layout, grids["fraction"].to_numpy(float) > 0.999)


def _subdivide(
    parts: gpd.GeoDataFrame, district: District, centroid_m: np.ndarray, centre_m: np.ndarray
) -> gpd.GeoDataFrame:
    """``parts`` of one district split into streets and communities, numbered in tree order."""
    xy = centroid_m[parts["cell"].to_numpy()]
    n = len(parts)
    n_streets = int(np.clip(round(n / GRIDS_PER_STREET), MIN_STREETS, len(district.streets)))
    n_streets = max(1, min(n_streets, n // (MIN_COMMUNITIES * MIN_GRIDS)))
    street_label = _partition(xy, n_streets)
    # the street nearest the centre takes the first name: the towns (镇) end up outermost
    distance = np.array(
        [np.hypot(*(xy[street_label == s].mean(axis=0) - centre_m)) for s in range(n_streets)]
    )
    rank = np.empty(n_streets, dtype=np.int64)
    rank[np.argsort(distance, kind="stable")] = np.arange(n_streets)
    out = parts.copy()
    out["district"] = district.name
    out["district_code"] = district.code
    out["street_rank"] = rank[street_label]
    out["street"] = np.array(district.streets, dtype=object)[rank[street_label]]
    community = np.zeros(n, dtype=np.int64)
    number = np.zeros(n, dtype=np.int64)
    next_label = 0
    for s in range(n_streets):
        members = np.flatnonzero(rank[street_label] == s)
        k = max(1, min(round(len(members) / GRIDS_PER_COMMUNITY), len(members) // MIN_GRIDS))
        k = max(k, min(MIN_COMMUNITIES, len(members) // MIN_GRIDS))
        labels = _partition(xy[members], k)
        for c in range(k):
            cells = members[labels == c]
            # grids numbered north to south in rows of a block's height, west to east
            row = np.floor(-xy[cells, 1] / CELL_H_M)
            order = cells[np.lexsort((xy[cells, 0], row))]
            community[order] = next_label + c
            number[order] = np.arange(1, len(order) + 1)
        next_label += k
    out["local_community"] = community
    out["number"] = number
    out = out.sort_values(["street_rank", "local_community", "number"], kind="stable")
    return out.reset_index(drop=True)


# --- people, visits, reports ----------------------------------------------------------


def _inside_points(
    rng: np.random.Generator,
    geoms: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points moved strictly inside ``geoms`` (one polygon per point) where they are not.

    ``groups``: a key per point (a building); a group with a point outside is moved as a
    whole to a fresh site inside, keeping its shape; whatever is still outside is placed
    at random inside. Points already inside stay where they are.
    """
    lon, lat = lon.copy(), lat.copy()
    shapely.prepare(geoms)
    outside = ~shapely.contains_xy(geoms, lon, lat)
    if groups is not None and outside.any():
        bad = np.isin(groups, np.unique(groups[outside]))
        keys, inverse = np.unique(groups[bad], return_inverse=True)
        idx = np.flatnonzero(bad)
        first = idx[np.unique(inverse, return_index=True)[1]]
        site_lon, site_lat = _random_inside(rng, geoms[first])
        centre_lon = np.bincount(inverse, lon[idx]) / np.bincount(inverse)
        centre_lat = np.bincount(inverse, lat[idx]) / np.bincount(inverse)
        lon[idx] += (site_lon - centre_lon)[inverse]
        lat[idx] += (site_lat - centre_lat)[inverse]
        del keys
        outside = ~shapely.contains_xy(geoms, lon, lat)
    if outside.any():
        lon[outside], lat[outside] = _random_inside(rng, geoms[outside])
    return lon, lat


def _random_inside(rng: np.random.Generator, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One random point strictly inside each polygon (rejection sampling in its bounds)."""
    bounds = shapely.bounds(geoms)
    lon = np.full(len(geoms), np.nan)
    lat = np.full(len(geoms), np.nan)
    todo = np.arange(len(geoms))
    for _ in range(200):
        if not len(todo):
            break
        b = bounds[todo]
        x = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        y = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        ok = shapely.contains_xy(geoms[todo], x, y)
        lon[todo[ok]], lat[todo[ok]] = x[ok], y[ok]
        todo = todo[~ok]
    if len(todo):  # a polygon too thin to hit: its representative point
        points = shapely.point_on_surface(geoms[todo])
        lon[todo], lat[todo] = shapely.get_x(points), shapely.get_y(points)
    return lon, lat


def _with_district(departments: pd.Series, districts: pd.Series) -> np.ndarray:
    """The street-office demo's department names, with 新城区 replaced by the row's district."""
    return np.array(
        [
            d.replace("新城区", z) if isinstance(d, str) and isinstance(z, str) else d
            for d, z in zip(departments, districts, strict=True)
        ],
        dtype=object,
    )


@dataclass
class CityDemo:
    """The city demo's tables; ``visits`` is an iterator of chunks (10M rows at 1M households)."""

    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    verifications: pd.DataFrame
    staff: pd.DataFrame
    visits: Iterator[pd.DataFrame]
    n_visits: int
    reports: gpd.GeoDataFrame
    report_steps: pd.DataFrame
    boundary: gpd.GeoDataFrame


def city_demo_data(
    outlines: gpd.GeoDataFrame,
    seed: int = 7,
    households: int | None = None,
    as_of: dt.date | None = None,
) -> CityDemo:
    """Every table of the city demo over ``outlines`` (``read_city_outlines``)."""
    as_of = as_of or today()
    n = DEFAULT_CITY_HOUSEHOLDS if households is None else max(1, int(households))
    rng = np.random.default_rng(seed)
    city = city_layout(rng, outlines, n)
    grids, layout = city.grids, city.layout
    homes = _households(rng, layout, grids, n, as_of)
    frame = homes["frame"]
    geoms = np.asarray(grids.geometry.values, dtype=object)
    cut = ~city.whole[homes["grid_of"]]
    if cut.any():  # households of a grid cut by a border: inside its part, buildings whole
        points = frame.geometry.values[cut]
        lon, lat = _inside_points(
            rng,
            geoms[homes["grid_of"][cut]],
            shapely.get_x(points),
            shapely.get_y(points),
            groups=homes["grid_of"][cut].astype(np.int64) * 100_000
            + pd.factorize(homes["building"][cut])[0],
        )
        xs, ys = frame.geometry.x.to_numpy().copy(), frame.geometry.y.to_numpy().copy()
        xs[cut], ys[cut] = lon, lat
        frame = frame.set_geometry(gpd.points_from_xy(xs, ys, crs=WGS84))
        homes["frame"] = frame
    staff = _staff(rng, layout, grids)
    # a person's department is in the district of their first grid (a judicial office may
    # serve two communities on either side of a border)
    people = staff["frame"]
    first_grid = people.groupby("staff_id", sort=False)["grid_id"].transform("first")
    people["department"] = _with_district(
        people["department"], first_grid.map(grids.set_index("grid_id")["district"])
    )
    n_visits, visits = _visits(rng, homes, staff, grids, as_of)
    reports, steps = _reports(rng, layout, grids, homes, staff, as_of)
    index = pd.Index(grids["grid_id"]).get_indexer(reports["grid_id"])
    lon, lat = _inside_points(
        rng, geoms[index], reports.geometry.x.to_numpy(), reports.geometry.y.to_numpy()
    )
    reports = reports.set_geometry(gpd.points_from_xy(lon, lat, crs=WGS84))
    verifications = _verifications(seed, homes["frame"], as_of)
    boundary = gpd.GeoDataFrame(
        {
            "boundary_id": outlines["adcode"].to_numpy(object),
            "name": outlines["name"].to_numpy(object),
            "adcode": outlines["adcode"].to_numpy(object),
        },
        geometry=outlines.geometry.values,
        crs=WGS84,
    )
    return CityDemo(
        grids=grids,
        households=homes["frame"],
        verifications=verifications,
        staff=staff["frame"],
        visits=visits,
        n_visits=n_visits,
        reports=reports,
        report_steps=steps,
        boundary=boundary,
    )


def build_city_demo(
    store: Store,
    folder: Path,
    seed: int = 7,
    households: int | None = None,
    as_of: dt.date | None = None,
) -> dict[str, int]:
    """Replace every data table of ``store`` by the city demo; returns rows per table.

    Raises ``BoundariesMissing`` (nothing written) when the outlines are not in ``folder``.
    """
    data = city_demo_data(read_city_outlines(folder), seed, households, as_of)
    as_of = as_of or today()
    n_households = len(data.households)
    counts: dict[str, int] = {}
    with store.transaction() as tx:
        counts["grids"] = tx.replace("grids", data.grids)
        counts["households"] = tx.replace("households", _chunks(data.households))
        # the street-office demo's hooks, over the whole city: buildings from the households,
        # cases on the reports, the new-employment groups over the grids (geo/demo)
        counts["buildings"] = tx.replace(
            "buildings", demo_buildings(seed, data.grids, data.households)
        )
        counts["verifications"] = tx.replace("verifications", _chunks(data.verifications))
        counts["staff"] = tx.replace("staff", data.staff)
        counts["visits"] = tx.replace("visits", data.visits)
        reports, steps = add_cases(
            tx, data.reports, data.report_steps, data.staff, data.grids, seed, as_of, counts
        )
        counts["reports"] = tx.replace("reports", reports)
        counts["report_steps"] = tx.replace("report_steps", steps)
        counts["boundary"] = tx.replace("boundary", data.boundary)
        counts |= add_employment(tx, seed, data.grids, as_of, n_households)
        tx.set_meta("demo_mode", "1")  # synthetic data: see geo.access.auth.demo_viewer
    return counts
