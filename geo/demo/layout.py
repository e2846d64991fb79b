"""The demo street's layout: its communities (社区) and city-block grids (网格) on a jittered lattice around lon 111.70, lat 40.84."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.store.schema import WGS84

CENTRE_LON, CENTRE_LAT = 111.70, 40.84


HOUSEHOLDS_PER_GRID = 300


CELL_W_M, CELL_H_M = 180.0, 140.0  # a city block
_M_PER_DEG_LAT = 110_950.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))


DISTRICT_CODE = "XC"  # 新城区
DISTRICT_ADCODE = "150102"
STREETS = (
    "东风路街道",
    "海拉尔东路街道",
    "锡林路街道",
    "中山东路街道",
    "东街街道",
    "西街街道",
    "迎新路街道",
    "成吉思汗大街街道",
)
# (name, code): real-sounding community names of a Hohhot street office
COMMUNITIES = (
    ("东河社区", "DH"),
    ("北垣社区", "BY"),
    ("新华社区", "XH"),
    ("丰州社区", "FZ"),
    ("光明社区", "GM"),
    ("滨河社区", "BH"),
    ("团结社区", "TJ"),
    ("青城社区", "QC"),
    ("公园社区", "GY"),
    ("满都海社区", "MDH"),
    ("富康社区", "FK"),
    ("祥和社区", "XHE"),
)
_NAME_PARTS = (
    ("幸福", "XF"),
    ("和平", "HP"),
    ("民主", "MZ"),
    ("建设", "JS"),
    ("友谊", "YY"),
    ("文化", "WH"),
    ("安康", "AK"),
    ("兴安", "XA"),
    ("花园", "HY"),
    ("康乐", "KL"),
    ("振华", "ZH"),
    ("春晖", "CH"),
    ("阳光", "YG"),
    ("锦绣", "JX"),
    ("金桥", "JQ"),
    ("如意", "RY"),
    ("朝阳", "CY"),
    ("南门", "NM"),
    ("书院", "SY"),
    ("丁香", "DX"),
)
_NAME_SUFFIXES = (
    ("", ""),
    ("东", "D"),
    ("西", "X"),
    ("南", "N"),
    ("北", "B"),
    ("中", "Z"),
    ("新", "XN"),
    ("里", "L"),
    ("苑", "Y"),
    ("园", "YU"),
    ("路", "LU"),
    ("街", "J"),
    ("桥", "Q"),
    ("湾", "W"),
    ("坊", "F"),
    ("庄", "ZG"),
    ("营", "YI"),
    ("口", "K"),
    ("门", "M"),
    ("巷", "XG"),
)


@dataclass
class _Layout:
    """Grids as lattice cells: corners in metres (G, 4, 2), community/grid indices."""

    corners: np.ndarray
    community: np.ndarray  # community index per grid
    number: np.ndarray  # 1-based grid number within its community
    communities: list[tuple[str, str, str]]  # (name, code, street)


def _area_name(layout: _Layout) -> str:
    streets = {street for _, _, street in layout.communities}
    return streets.pop() if len(streets) == 1 else "新城区"


def _community_names(count: int) -> list[tuple[str, str]]:
    names = list(COMMUNITIES)
    seen = {code for _, code in names}
    for suffix, scode in _NAME_SUFFIXES:
        for part, pcode in _NAME_PARTS:
            if len(names) >= count:
                return names[:count]
            code = pcode + scode
            if code not in seen:
                seen.add(code)
                names.append((f"{part}{suffix}社区", code))
    while len(names) < count:
        names.append((f"第{len(names) + 1}社区", f"C{len(names) + 1}"))
    return names[:count]


def _layout(rng: np.random.Generator, n_households: int) -> _Layout:
    target = max(8, round(n_households / HOUSEHOLDS_PER_GRID))
    rest_width = max(0, round((target - 8) / 2))  # other communities are 2 blocks deep
    n_rest = max(1, round(rest_width / 5)) if rest_width else 0
    widths = (
        [4] + [len(part) for part in np.array_split(np.arange(rest_width), n_rest)]
        if n_rest
        else [4]
    )
    total = sum(widths)
    n_strips = max(1, round(math.sqrt(total * 0.3)))
    strip_target = total / n_strips
    places: list[tuple[int, int]] = []  # (strip, first column) per community
    strip, col = 0, 0
    for w in widths:
        if col > 0 and col + w / 2 > strip_target:
            strip, col = strip + 1, 0
        places.append((strip, col))
        col += w
    max_cols = max(c + w for (_, c), w in zip(places, widths, strict=True))
    rows = 2 * (places[-1][0] + 1)
    # jittered lattice: neighbouring cells share their corner points, so grids tile exactly
    vx = (np.arange(max_cols + 1) - max_cols / 2) * CELL_W_M
    vy = (np.arange(rows + 1)[::-1] - rows / 2) * CELL_H_M  # row 0 is the north edge
    lattice = np.stack(np.meshgrid(vx, vy), axis=-1)
    lattice += rng.uniform(-0.14, 0.14, lattice.shape) * np.array([CELL_W_M, CELL_H_M])
    names = _community_names(len(widths))
    communities = [
        (n, c, STREETS[0] if len(widths) <= 12 else STREETS[(i // 8) % len(STREETS)])
        for i, (n, c) in enumerate(names)
    ]
    corners, community, number = [], [], []
    for ci, ((s, c0), w) in enumerate(zip(places, widths, strict=True)):
        k = 0
        for r in (2 * s, 2 * s + 1):
            for c in range(c0, c0 + w):
                k += 1
                # counter-clockwise: SW, SE, NE, NW (row r+1 is south of row r)
                corners.append(
                    [lattice[r + 1, c], lattice[r + 1, c + 1], lattice[r, c + 1], lattice[r, c]]
                )
                community.append(ci)
                number.append(k)
    return _Layout(np.array(corners), np.array(community), np.array(number), communities)


def _to_lonlat(xy: np.ndarray) -> np.ndarray:
    out = np.empty_like(xy, dtype=float)
    out[..., 0] = CENTRE_LON + xy[..., 0] / _M_PER_DEG_LON
    out[..., 1] = CENTRE_LAT + xy[..., 1] / _M_PER_DEG_LAT
    return out


def _bilinear(corners: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Points at (u, v) in [0, 1]^2 of convex quadrilaterals (SW, SE, NE, NW); strictly inside for 0<u,v<1."""
    sw, se, ne, nw = (corners[:, i] for i in range(4))
    u, v = u[:, None], v[:, None]
    return (1 - u) * (1 - v) * sw + u * (1 - v) * se + u * v * ne + (1 - u) * v * nw


def _grids_frame(rng: np.random.Generator, layout: _Layout) -> gpd.GeoDataFrame:
    n = len(layout.community)
    ring = _to_lonlat(np.concatenate([layout.corners, layout.corners[:, :1]], axis=1))
    polygons = shapely.polygons(ring)
    names = np.array([layout.communities[c][0] for c in layout.community], dtype=object)
    codes = np.array([layout.communities[c][1] for c in layout.community], dtype=object)
    streets = np.array([layout.communities[c][2] for c in layout.community], dtype=object)
    grid_names = names + "第" + layout.number.astype(str).astype(object) + "网格"
    grid_ids = (
        f"{DISTRICT_CODE}-"
        + codes
        + "-"
        + np.char.zfill(layout.number.astype(str), 2).astype(object)
    )
    has_branch = rng.random(n) < 0.85
    branch = np.where(has_branch, grid_names + "党支部", None)
    return gpd.GeoDataFrame(
        {
            "grid_id": grid_ids,
            "name": grid_names,
            "community": names,
            "street": streets,
            "party_branch": branch,
        },
        geometry=shapely.multipolygons(polygons, indices=np.arange(n)),
        crs=WGS84,
    )
