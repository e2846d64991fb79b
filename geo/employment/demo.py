"""The demo street office's new-employment set (contract section 7), deterministic by seed.

At the default scale (18,000 households, 60 observer ids in the demo's 随手拍 reports) it
holds the seed county's shape: 8 firms (express, food delivery, ride-hailing, taxi), about
20 outlets, about 250 workers (about 20 party members of whom 12 were brought back, 200+
insured), 60+ observers and a few 红蜂驿站 (one still being built). Everything scales with
the number of observer ids. The gaps a party-building officer acts on are there: outlets
of firms without a party organisation, express sorting outlets out in the 金桥 logistics
park beyond every station's reach, uninsured workers, observers not yet registered with a
community, mobile party members not yet brought back.

The observers keep the ids the demo's reports carry as ``reporter_id`` (``KD-0003`` a
courier, ``QS-0001`` a rider, ``CZ-0002`` a driver), so their reports count as theirs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.demo.people import _digits_text, _id_numbers, _names, _phones
from geo.employment.values import SERVICE, join_services
from geo.inputs.assign import assign_to_grids
from geo.store.schema import WGS84

WORKERS_PER_OBSERVER = 4.2  # the seed county: 251 workers, 60+ observers
PREFIX_SECTORS = {"KD": ("express",), "QS": ("food_delivery",), "CZ": ("ride_hailing", "taxi")}
SECTOR_PREFIX = {"express": "KD", "food_delivery": "QS", "ride_hailing": "CZ", "taxi": "CZ"}
SECTOR_SHARE = {"express": 0.44, "food_delivery": 0.38, "ride_hailing": 0.10, "taxi": 0.08}


@dataclass(frozen=True)
class DemoFirm:
    """A firm of the demo and how its outlets and workers look."""

    firm_id: str
    name: str
    sector: str
    party_org: str | None
    union: str | None
    share: float  # of its sector's workers
    outlet_format: str  # the outlet's name from the place
    workers_per_outlet: float
    insured_rate: float


FIRMS = (
    DemoFirm("QY01", "顺丰速运", "express", "顺丰速运呼和浩特分公司党支部", "顺丰速运呼和浩特分公司工会", 0.32, "顺丰速运{place}营业部", 9, 0.95),
    DemoFirm("QY02", "中通快递", "express", "中通快递新城区联合党支部", None, 0.28, "中通快递{place}网点", 9, 0.84),
    DemoFirm("QY03", "京东物流", "express", "京东物流呼和浩特营业部党支部", "京东物流呼和浩特工会小组", 0.22, "京东物流{place}营业部", 9, 0.95),
    DemoFirm("QY04", "极兔速递", "express", None, None, 0.18, "极兔速递{place}网点", 9, 0.6),
    DemoFirm("QY05", "美团外卖", "food_delivery", "美团外卖呼和浩特站点联合党支部", "美团骑手工会小组", 0.6, "美团外卖{place}站", 14, 0.92),
    DemoFirm("QY06", "饿了么", "food_delivery", None, "饿了么骑手工会小组", 0.4, "饿了么{place}站", 14, 0.86),
    DemoFirm("QY07", "滴滴出行", "ride_hailing", None, None, 1.0, "滴滴出行{place}司机之家", 60, 0.72),
    DemoFirm("QY08", "青城出租汽车公司", "taxi", "青城出租汽车公司党支部", "青城出租汽车公司工会", 1.0, "青城出租{place}车队", 60, 0.55),
)  # fmt: skip
ROADS = (
    "兴安北路", "海拉尔东路", "新华东街", "成吉思汗大街", "北垣东街", "东风路",
    "锡林北路", "呼伦北路", "中山东路", "迎宾北路", "车站东街", "丰州路",
)  # fmt: skip
PARK = "金桥开发区"  # express sorting outlets sit out in the logistics park, south-east
PARK_ROADS = ("世纪五路", "世纪六路", "金桥大街")
STATION_HOSTS = ("{community}党群服务中心", "中国石化{road}加油站", "{community}新时代文明实践站")


@dataclass
class EmploymentDemo:
    """The four tables (stored columns; outlets and stations as WGS-84 points with grid_id)."""

    firms: pd.DataFrame
    outlets: gpd.GeoDataFrame
    workers: pd.DataFrame
    stations: gpd.GeoDataFrame


def _metres(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and latitude near ``lat`` (layout only, not measurement)."""
    return 111_320.0 * math.cos(math.radians(lat)), 110_950.0


def _point_in(rng: np.random.Generator, polygon: shapely.Geometry) -> tuple[float, float]:
    """A point well inside ``polygon`` (rejection sampling in the inner half of its box)."""
    inner = polygon.buffer(-0.00015) if polygon.buffer(-0.00015).area > 0 else polygon
    x0, y0, x1, y1 = inner.bounds
    for _ in range(200):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if inner.contains(shapely.Point(x, y)):
            return x, y
    point = inner.representative_point()
    return point.x, point.y


def _place(community: object) -> str:
    return str(community).removesuffix("社区") if community else "新城"


def _number(worker_id: str) -> int:
    match = re.search(r"(\d+)$", worker_id)
    return int(match.group(1)) if match else 0


def employment_demo(
    seed: int, grids: gpd.GeoDataFrame, as_of: dt.date, observer_ids: Sequence[str]
) -> EmploymentDemo:
    """The demo's firms, outlets, workers and stations over ``grids`` as of ``as_of``.

    ``observer_ids`` are the ``reporter_id`` values the demo's 随手拍 reports may carry:
    each becomes an observer of a firm of its sector (by prefix).
    """
    # a generator of its own: this set must not shift the rest of the demo for a seed
    rng = np.random.default_rng([seed, 0x6E65])
    observer_ids = list(dict.fromkeys(str(i) for i in observer_ids))
    n_observers = len(observer_ids)
    n_workers = max(round(n_observers * WORKERS_PER_OBSERVER), n_observers + 20)
    firms = _firms_frame()
    grids = grids.reset_index(drop=True)

    # --- workers per firm: observers by their id's sector, the rest to the sector's share
    sector_of_observer = [PREFIX_SECTORS.get(i.split("-")[0], ("express",)) for i in observer_ids]
    observer_sector = np.array(
        [s[0] if len(s) == 1 else s[int(rng.integers(0, len(s)))] for s in sector_of_observer],
        dtype=object,
    )
    firm_of: list[int] = []
    ids: list[str] = []
    for oid, sector in zip(observer_ids, observer_sector, strict=True):
        firm_of.append(_pick_firm(rng, sector))
        ids.append(oid)
    next_number = max((_number(i) for i in observer_ids), default=0) + 1
    for sector, share in SECTOR_SHARE.items():
        wanted = round(n_workers * share) - int((observer_sector == sector).sum())
        for _ in range(max(0, wanted)):
            firm_of.append(_pick_firm(rng, sector))
            ids.append(f"{SECTOR_PREFIX[sector]}-{next_number:04d}")
            next_number += 1
    firm_idx = np.array(firm_of, dtype=np.int64)
    n = len(ids)

    outlets, outlet_firm = _outlets(rng, grids, firm_idx, n_workers)
    stations = _stations(rng, grids, as_of)
    workers = _workers(rng, ids, firm_idx, n_observers, outlets, outlet_firm, grids, as_of)
    assert len(workers) == n
    return EmploymentDemo(firms, outlets, workers, stations)


def _firms_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm_id": [f.firm_id for f in FIRMS],
            "name": [f.name for f in FIRMS],
            "sector": [f.sector for f in FIRMS],
            "party_org": [f.party_org for f in FIRMS],
            "union": [f.union for f in FIRMS],
        }
    )


def _pick_firm(rng: np.random.Generator, sector: str) -> int:
    options = [i for i, f in enumerate(FIRMS) if f.sector == sector]
    weights = np.array([FIRMS[i].share for i in options])
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]


def _outlets(
    rng: np.random.Generator, grids: gpd.GeoDataFrame, firm_idx: np.ndarray, n_workers: int
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Outlets of each firm: in grids, and for express firms some out in the logistics park."""
    counts = np.bincount(firm_idx, minlength=len(FIRMS))
    per_firm = [max(1, round(c / f.workers_per_outlet)) for c, f in zip(counts, FIRMS, strict=True)]
    geoms = np.asarray(grids.geometry.values, dtype=object)
    x0, y0, x1, y1 = grids.total_bounds
    m_lon, m_lat = _metres((y0 + y1) / 2)
    n_outlets = sum(per_firm)
    # outlets spread over the grids (no two in one grid while there are grids enough)
    order = rng.permutation(len(grids))
    taken = 0
    rows = []
    express_seen = 0
    for fi, (firm, k) in enumerate(zip(FIRMS, per_firm, strict=True)):
        for j in range(k):
            park = firm.sector == "express" and j == k - 1 and k >= 2 and express_seen % 2 == 0
            if park:
                # 1.3-2 km east of the street, to the south: beyond every station's reach
                east = rng.uniform(1300, 2000)
                south = rng.uniform(200, 800)
                lon, lat = x1 + east / m_lon, y0 - south / m_lat
                place = PARK
                address = f"赛罕区{PARK}{PARK_ROADS[int(rng.integers(0, 3))]}{int(rng.integers(1, 300))}号"
            else:
                g = int(order[taken % len(order)])
                taken += 1
                lon, lat = _point_in(rng, geoms[g])
                place = _place(grids["community"].iloc[g] if "community" in grids else None)
                address = (
                    f"新城区{ROADS[int(rng.integers(0, len(ROADS)))]}{int(rng.integers(1, 400))}号"
                )
            rows.append((fi, firm.outlet_format.format(place=place), address, lon, lat))
        if firm.sector == "express":
            express_seen += 1
    names = _distinct([r[1] for r in rows])
    outlet_firm = np.array([r[0] for r in rows], dtype=np.int64)
    lon = np.array([r[3] for r in rows])
    lat = np.array([r[4] for r in rows])
    grid_ids = assign_to_grids(lon, lat, grids)
    party_org = np.full(n_outlets, None, dtype=object)
    # a community's joint branch covers one outlet of a firm that has no party organisation
    without = [i for i, fi in enumerate(outlet_firm) if FIRMS[fi].party_org is None]
    if without:
        i = without[int(rng.integers(0, len(without)))]
        community = _community_of(grids, grid_ids[i])
        party_org[i] = f"{community or '新城区'}新就业群体联合党支部"
    outlets = gpd.GeoDataFrame(
        {
            "outlet_id": _digits_text(
                "WD", np.arange(1, n_outlets + 1), max(3, len(str(n_outlets)))
            ).astype(object),
            "firm_id": np.array([FIRMS[fi].firm_id for fi in outlet_firm], dtype=object),
            "name": np.array(names, dtype=object),
            "address": np.array([r[2] for r in rows], dtype=object),
            "party_org": party_org,
            "grid_id": grid_ids,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=WGS84,
    )
    return outlets, outlet_firm


def _distinct(names: list[str]) -> list[str]:
    """Names made distinct: a repeated one becomes ``…（二）``, ``…（三）``."""
    numerals = "一二三四五六七八九十"
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        k = seen[name]
        out.append(name if k == 1 else f"{name}（{numerals[k - 1] if k <= 10 else k}）")
    return out


def _community_of(grids: gpd.GeoDataFrame, grid_id: object) -> str | None:
    """The community of the grid ``grid_id`` (None outside every grid)."""
    if grid_id is None or "community" not in grids:
        return None
    if "_communities" not in grids.attrs:
        grids.attrs["_communities"] = dict(
            zip(grids["grid_id"].tolist(), grids["community"].tolist(), strict=True)
        )
    community = grids.attrs["_communities"].get(grid_id)
    return None if community is None or community != community else str(community)


def _stations(
    rng: np.random.Generator, grids: gpd.GeoDataFrame, as_of: dt.date
) -> gpd.GeoDataFrame:
    """红蜂驿站 on a coarse lattice over the street: the east-most column is still being
    built (opens after the as-of day) and the column next to it has none yet."""
    x0, y0, x1, y1 = grids.total_bounds
    m_lon, m_lat = _metres((y0 + y1) / 2)
    width, height = (x1 - x0) * m_lon, (y1 - y0) * m_lat
    cols = max(2, round(width / 450))
    rows = max(1, round(height / 900))
    sites = []
    for c in range(cols):
        if cols >= 4 and c == cols - 2:
            continue
        for r in range(rows):
            fx = (c + 0.5 + rng.uniform(-0.2, 0.2)) / cols
            fy = (r + 0.5 + rng.uniform(-0.25, 0.25)) / rows
            sites.append((x0 + fx * (x1 - x0), y0 + fy * (y1 - y0), c == cols - 1))
    lon = np.array([s[0] for s in sites])
    lat = np.array([s[1] for s in sites])
    planned = np.array([s[2] for s in sites], dtype=bool)
    grid_ids = assign_to_grids(lon, lat, grids)
    n = len(sites)
    opened = np.where(
        planned,
        rng.integers(10, 45, n),  # days after the as-of day
        -rng.integers(60, 540, n),  # days before it
    )
    opened_on = np.array(
        [(as_of + dt.timedelta(days=int(d))).isoformat() for d in opened], dtype=object
    )
    names, hosts, services = [], [], []
    codes = list(SERVICE.names)
    for i in range(n):
        community = _community_of(grids, grid_ids[i]) or "新城区"
        names.append(f"{_place(community)}红蜂驿站")
        host = STATION_HOSTS[i % len(STATION_HOSTS)]
        hosts.append(host.format(community=community, road=ROADS[int(rng.integers(0, len(ROADS)))]))
        # rest, water and charging everywhere; the rest where the host can offer it
        extra = [c for c in codes[3:] if rng.random() < 0.5]
        services.append(join_services([*codes[:3], *extra]))
    return gpd.GeoDataFrame(
        {
            "station_id": _digits_text("YZ", np.arange(1, n + 1), max(2, len(str(n)))).astype(
                object
            ),
            "name": np.array(_distinct(names), dtype=object),
            "services": np.array(services, dtype=object),
            "host": np.array(hosts, dtype=object),
            "opened_on": opened_on,
            "grid_id": grid_ids,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=WGS84,
    )


def _days_before(
    rng: np.random.Generator, as_of: dt.date, low: int, high: int, n: int
) -> np.ndarray:
    days = rng.integers(low, high, n)
    return np.array([(as_of - dt.timedelta(days=int(d))).isoformat() for d in days], dtype=object)


def _workers(
    rng: np.random.Generator,
    ids: list[str],
    firm_idx: np.ndarray,
    n_observers: int,
    outlets: gpd.GeoDataFrame,
    outlet_firm: np.ndarray,
    grids: gpd.GeoDataFrame,
    as_of: dt.date,
) -> pd.DataFrame:
    n = len(ids)
    sector = np.array([FIRMS[f].sector for f in firm_idx], dtype=object)
    male = rng.random(n) < np.where(sector == "taxi", 0.95, 0.88)
    age = rng.uniform(21, 52, n)
    births = np.datetime64(as_of, "D") - (age * 365.25).astype("timedelta64[D]")
    names = _names(rng, male, np.zeros(n, dtype=bool))
    phones = _phones(rng, n).astype(object)
    id_numbers = _id_numbers(rng, births, male).astype(object)

    # each worker starts from an outlet of their firm; most ride-hailing drivers from none
    outlet_ids = outlets["outlet_id"].to_numpy(object)
    outlet = np.full(n, None, dtype=object)
    outlet_pos = np.full(n, -1, dtype=np.int64)
    for f in range(len(FIRMS)):
        mine = np.flatnonzero(firm_idx == f)
        own = np.flatnonzero(outlet_firm == f)
        if len(own) == 0 or len(mine) == 0:
            continue
        pos = own[rng.integers(0, len(own), len(mine))]
        keep = ~((sector[mine] == "ride_hailing") & (rng.random(len(mine)) < 0.6))
        outlet[mine[keep]] = outlet_ids[pos[keep]]
        outlet_pos[mine[keep]] = pos[keep]

    # party members: 8%, a tenth probationary; 30% held locally, 70% mobile; of the local
    # two in three were brought back before transferring, of the mobile four in seven
    n_members = max(3, round(n * 0.08))
    members = rng.choice(n, n_members, replace=False)
    party = np.full(n, "none", dtype=object)
    party[members] = "member"
    party[members[: max(1, round(n_members * 0.1))]] = "probationary"
    relation = np.full(n, None, dtype=object)
    returned_on = np.full(n, None, dtype=object)
    n_local = round(n_members * 0.3)
    local, mobile = members[:n_local], members[n_local:]
    rng.shuffle(local)
    rng.shuffle(mobile)
    relation[local] = "local"
    relation[mobile] = "mobile"
    back = np.concatenate(
        [local[: round(len(local) * 2 / 3)], mobile[: round(len(mobile) * 4 / 7)]]
    )
    returned_on[back] = _days_before(rng, as_of, 20, 330, len(back))

    # occupational-injury insurance by firm; a few enrolments take effect after the as-of day
    rate = np.array([FIRMS[f].insured_rate for f in firm_idx])
    insured = (rng.random(n) < rate).astype(np.int64)
    insured_on = np.full(n, None, dtype=object)
    which = np.flatnonzero(insured == 1)
    kind = rng.random(len(which))
    dated = which[kind < 0.92]
    insured_on[dated] = _days_before(rng, as_of, 1, 540, len(dated))
    later = which[kind > 0.975]
    insured_on[later] = np.array(
        [(as_of + dt.timedelta(days=int(d))).isoformat() for d in rng.integers(1, 20, len(later))],
        dtype=object,
    )

    # observers: the report ids, plus a few who have not filed yet; most registered
    observer = np.zeros(n, dtype=np.int64)
    observer[:n_observers] = 1
    extra = n_observers + rng.choice(n - n_observers, max(2, n_observers // 20), replace=False)
    observer[extra] = 1
    registered_on = np.full(n, None, dtype=object)
    community = np.full(n, None, dtype=object)
    obs = np.flatnonzero(observer == 1)
    registered = obs[rng.random(len(obs)) < 0.88]
    registered_on[registered] = _days_before(rng, as_of, 3, 240, len(registered))
    communities = (
        grids["community"].dropna().unique() if "community" in grids else np.array(["新城区"])
    )
    grid_of_outlet = outlets["grid_id"].to_numpy(object)
    for i in registered:
        home = _community_of(grids, grid_of_outlet[outlet_pos[i]]) if outlet_pos[i] >= 0 else None
        community[i] = home or str(communities[int(rng.integers(0, len(communities)))])

    return pd.DataFrame(
        {
            "worker_id": np.array(ids, dtype=object),
            "firm_id": np.array([FIRMS[f].firm_id for f in firm_idx], dtype=object),
            "outlet_id": outlet,
            "name": names,
            "phone": phones,
            "id_number": id_numbers,
            "party": party,
            "party_relation": relation,
            "returned_on": returned_on,
            "insured": insured,
            "insured_on": insured_on,
            "observer": observer,
            "registered_on": registered_on,
            "community": community,
        }
    )


def demo_observer_ids(n_households: int) -> list[str]:
    """The ``reporter_id`` values the demo's 随手拍 reports draw from (``geo.demo.reports._reports``)."""
    from geo.demo.reports import _OBSERVER_KINDS

    count = max(20, n_households // 300)
    return [f"{_OBSERVER_KINDS[k % 3]}-{k:04d}" for k in range(1, count + 1)]
