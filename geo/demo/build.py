"""The demo data set: one street office (街道) in 新城区, Hohhot, deterministic by seed.

Communities (社区) of city-block grids (网格) tiling a jittered lattice around lon 111.70,
lat 40.84 (WGS-84); the first community is modelled on 东河社区: one compound split into
8 grids. Households sit in buildings strictly inside their grid, with care categories,
synthetic names, phones and ID numbers; about 8 weeks of visits ending on the as-of day;
staff by role per grid (一格多员); citizen reports from all five sources with timelines.

Everything is generated with numpy arrays (no per-household Python), so
``households=1_000_000`` (about 10M visits) runs in minutes and bounded memory: visits
are handed to the store in chunks inside the one transaction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.store.base import Store
from geo.store.schema import WGS84
from geo.timeutil import today

CENTRE_LON, CENTRE_LAT = 111.70, 40.84
DEFAULT_HOUSEHOLDS = 18_000
HOUSEHOLDS_PER_GRID = 300
HISTORY_DAYS = 56  # 8 weeks of visits and reports ending on the as-of day
CELL_W_M, CELL_H_M = 180.0, 140.0  # a city block
_M_PER_DEG_LAT = 110_950.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))
_VISIT_CHUNK = 200_000

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
COMPOUNDS = (
    "锦绣",
    "电力",
    "铁路",
    "税务",
    "粮站",
    "园林",
    "毛纺",
    "制药",
    "和谐",
    "安居",
    "丽苑",
    "嘉园",
    "富丽",
    "兴隆",
    "润宇",
    "金地",
    "学府",
    "御景",
    "翠苑",
    "明珠",
    "紫薇",
    "兴泰",
    "康馨",
    "绿洲",
    "水岸",
    "春华",
    "秋实",
    "惠民",
    "百合",
    "红星",
)

SURNAMES = (
    "王",
    "李",
    "张",
    "刘",
    "赵",
    "杨",
    "高",
    "郭",
    "马",
    "陈",
    "孙",
    "胡",
    "徐",
    "朱",
    "周",
    "吴",
    "田",
    "贾",
    "韩",
    "冯",
    "董",
    "于",
    "梁",
    "何",
    "宋",
    "郝",
    "任",
    "武",
    "薛",
    "白",
    "崔",
    "杜",
    "乔",
    "石",
    "康",
    "侯",
    "曹",
    "范",
    "程",
    "史",
    "阎",
    "秦",
    "吕",
    "魏",
    "罗",
    "云",
    "包",
    "霍",
)
_MALE_OLD = (
    "建国",
    "国华",
    "振华",
    "德明",
    "志强",
    "宝山",
    "玉柱",
    "福贵",
    "长林",
    "金山",
    "树林",
    "文明",
    "建军",
    "和平",
    "永利",
    "占海",
    "有才",
    "忠",
    "明",
    "俊",
    "世昌",
    "润生",
    "满仓",
    "铁柱",
)
_FEMALE_OLD = (
    "秀英",
    "桂兰",
    "玉兰",
    "淑珍",
    "凤英",
    "秀兰",
    "桂英",
    "玉梅",
    "素芳",
    "丽华",
    "桂芳",
    "玉珍",
    "秀珍",
    "淑兰",
    "凤兰",
    "翠兰",
    "美英",
    "金花",
    "玉芬",
    "秀梅",
)
_MALE_YOUNG = (
    "伟",
    "磊",
    "强",
    "军",
    "勇",
    "杰",
    "涛",
    "鹏",
    "浩",
    "宇",
    "超",
    "斌",
    "波",
    "刚",
    "辉",
    "晓东",
    "志刚",
    "海涛",
    "建伟",
    "俊杰",
    "子轩",
    "浩然",
    "宏伟",
    "文博",
)
_FEMALE_YOUNG = (
    "静",
    "丽",
    "敏",
    "艳",
    "娟",
    "芳",
    "霞",
    "婷",
    "燕",
    "红",
    "晶",
    "丹",
    "倩",
    "慧",
    "雪",
    "琳",
    "晓燕",
    "丽娟",
    "海燕",
    "佳怡",
    "欣怡",
    "雨涵",
    "秀芳",
    "文静",
)
_MONGOL_MALE = (
    "巴特尔",
    "额尔敦",
    "苏和",
    "朝鲁",
    "宝音",
    "毕力格",
    "那顺",
    "乌力吉",
    "巴图",
    "孟和",
)
_MONGOL_FEMALE = (
    "其木格",
    "乌云",
    "斯琴",
    "萨仁",
    "娜仁花",
    "图雅",
    "高娃",
    "塔娜",
    "托娅",
    "乌兰",
)
# Hohhot county-level area codes and their share of residents
AREA_CODES = (150102, 150103, 150104, 150105, 150121, 150122, 150123, 150124, 150125)
_AREA_P = (0.58, 0.08, 0.07, 0.09, 0.05, 0.04, 0.03, 0.02, 0.04)
MOBILE_PREFIXES = (
    130,
    131,
    132,
    133,
    134,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    176,
    177,
    178,
    180,
    181,
    182,
    183,
    185,
    186,
    187,
    188,
    189,
    191,
    198,
    199,
)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)

CATEGORY_CODES = ("red", "yellow", "orange", "green", "pink", "blue", "purple")
_PRIMARY_P = (0.02, 0.06, 0.028, 0.018, 0.028, 0.01, 0.005)
# second category given the first (rows/cols in CATEGORY_CODES order); about 1 in 10
# households with a category holds two, never contradictory pairs (独居 + 空巢, elderly + 孕妇)
_SECOND_P = np.array(
    [
        [0, 0, 0.05, 0.04, 0.04, 0, 0.005],
        [0, 0, 0.04, 0.04, 0.03, 0, 0.005],
        [0.02, 0.02, 0, 0.03, 0.06, 0, 0.01],
        [0.02, 0.02, 0.04, 0, 0.05, 0, 0],
        [0.02, 0.02, 0.05, 0.04, 0, 0.01, 0.02],
        [0, 0, 0, 0, 0.06, 0, 0],
        [0, 0, 0.03, 0, 0.10, 0, 0],
    ]
)

VISIT_KINDS = ("入户", "电话", "视频")
VISIT_NOTES = (
    "",
    "",
    "",
    "身体状况良好",
    "已提醒冬季用电用气安全",
    "协助代购药品",
    "了解近期生活情况",
    "反映楼道灯不亮，已登记",
    "宣传防诈骗知识",
    "测量血压正常",
    "已核实家庭人员信息",
    "子女近期来探望",
)
# visit hours 08-18 (working hours), weights per hour
_HOUR_P = np.array([0.07, 0.15, 0.16, 0.11, 0.02, 0.04, 0.10, 0.14, 0.12, 0.07, 0.02])

SOURCES = ("observer", "hotline", "dispute", "petition", "patrol")
_SOURCE_P = (0.34, 0.30, 0.11, 0.05, 0.20)
REPORT_TEXTS: dict[str, tuple[str, ...]] = {
    "环境卫生": (
        "楼下垃圾堆放多日未清运",
        "单元门口有建筑垃圾堆放",
        "绿化带内生活垃圾较多",
        "垃圾桶满溢，异味较大",
    ),
    "占道经营": ("小区门口流动摊贩占道经营", "商户门前占道摆放货物", "早市摊点占用人行道"),
    "设施损坏": (
        "楼道声控灯损坏",
        "单元门禁损坏无法关闭",
        "路面井盖松动",
        "健身器材损坏存在隐患",
        "小区道路破损积水",
    ),
    "安全隐患": (
        "楼道内电动车充电，存在火灾隐患",
        "消防通道被杂物堵塞",
        "外墙保温层脱落",
        "燃气管道有异味",
    ),
    "噪音扰民": ("楼上装修噪音扰民", "夜间广场舞音响声音过大", "商户夜间施工噪音大"),
    "邻里纠纷": ("楼上漏水引发邻里纠纷", "邻居占用公共楼道引发矛盾", "宠物扰民引发邻里矛盾"),
    "物业纠纷": ("物业费收取标准存在争议", "物业未及时维修电梯", "停车位管理引发纠纷"),
    "违章停车": ("车辆长期占用消防通道", "小区门口车辆乱停乱放", "共享单车堆放占道"),
    "供暖问题": ("室内温度不达标，暖气不热", "暖气管道漏水"),
    "家庭纠纷": ("家庭赡养问题引发矛盾", "夫妻矛盾需调解"),
    "劳资纠纷": ("装修工人反映工资被拖欠", "保洁人员反映工资拖欠"),
    "社会保障": ("咨询低保办理进度", "反映养老待遇问题"),
}
_SOURCE_CATEGORIES: dict[str, tuple[tuple[str, float], ...]] = {
    "observer": (
        ("环境卫生", 3),
        ("占道经营", 2),
        ("设施损坏", 2),
        ("安全隐患", 1.5),
        ("违章停车", 2),
    ),
    "hotline": (
        ("噪音扰民", 2),
        ("物业纠纷", 2),
        ("供暖问题", 3),
        ("设施损坏", 1.5),
        ("环境卫生", 1),
        ("违章停车", 1),
    ),
    "dispute": (("邻里纠纷", 4), ("物业纠纷", 2), ("家庭纠纷", 2), ("劳资纠纷", 1)),
    "petition": (("物业纠纷", 2), ("社会保障", 2), ("劳资纠纷", 1)),
    "patrol": (("安全隐患", 3), ("环境卫生", 2), ("设施损坏", 2), ("占道经营", 1)),
}
# the role that resolves a report of each category (falls back to the grid worker)
_RESOLVER = {
    "占道经营": "urban_management",
    "违章停车": "urban_management",
    "安全隐患": "police",
    "邻里纠纷": "judicial",
    "家庭纠纷": "judicial",
    "劳资纠纷": "lawyer",
    "物业纠纷": "housing",
    "社会保障": "grid_leader",
    "供暖问题": "grid_leader",
}
_OBSERVER_KINDS = ("KD", "QS", "CZ")  # 快递员, 外卖骑手, 出租车司机


@dataclass
class _Layout:
    """Grids as lattice cells: corners in metres (G, 4, 2), community/grid indices."""

    corners: np.ndarray
    community: np.ndarray  # community index per grid
    number: np.ndarray  # 1-based grid number within its community
    communities: list[tuple[str, str, str]]  # (name, code, street)


def build_demo(
    store: Store, seed: int = 7, households: int | None = None, as_of: dt.date | None = None
) -> dict[str, int]:
    """Replace every data table of ``store`` by the demo data set; returns rows per table."""
    as_of = as_of or today()
    rng = np.random.default_rng(seed)
    n_households = DEFAULT_HOUSEHOLDS if households is None else max(1, int(households))
    layout = _layout(rng, n_households)
    grids = _grids_frame(rng, layout)
    homes = _households(rng, layout, grids, n_households, as_of)
    staff = _staff(rng, layout, grids)
    _, visit_chunks = _visits(rng, homes, staff, grids, as_of)
    reports, steps = _reports(rng, layout, grids, homes, staff, as_of)
    boundary = gpd.GeoDataFrame(
        {"boundary_id": [DISTRICT_CODE], "name": [_area_name(layout)], "adcode": [DISTRICT_ADCODE]},
        geometry=[
            shapely.multipolygons(shapely.get_parts(shapely.union_all(grids.geometry.values)))
        ],
        crs=WGS84,
    )
    counts: dict[str, int] = {}
    with store.transaction() as tx:
        counts["grids"] = tx.replace("grids", grids)
        counts["households"] = tx.replace("households", _chunks(homes["frame"]))
        counts["verifications"] = tx.replace(
            "verifications", _chunks(_verifications(seed, homes.pop("frame"), as_of))
        )
        counts["staff"] = tx.replace("staff", staff["frame"])
        counts["visits"] = tx.replace("visits", visit_chunks)
        counts["reports"] = tx.replace("reports", reports)
        counts["report_steps"] = tx.replace("report_steps", steps)
        counts["boundary"] = tx.replace("boundary", boundary)
        tx.set_meta("demo_mode", "1")  # synthetic data: see geo.access.auth.demo_viewer
    return counts


def _verifications(seed: int, households: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The verification history behind ``last_verified``: households are re-verified about
    monthly, so one verified in the 30 days ending on the as-of day was also verified twice
    before, 26-30 days apart (fresh at every week-end of the 8-week trend); a stale household
    has only its last verification (it lapsed and stays stale), a never-verified one none."""
    # an rng of its own: the history must not shift the rest of the demo for a given seed
    rng = np.random.default_rng([seed, 0x7665])
    last = pd.to_datetime(households["last_verified"], format="%Y-%m-%d").to_numpy("datetime64[D]")
    n = len(last)
    present = ~np.isnat(last)
    first_fresh = np.datetime64(as_of, "D") - np.timedelta64(29, "D")
    fresh = present & (last >= first_fresh)
    gaps = rng.integers(26, 31, (n, 2)).cumsum(axis=1)  # days before the last verification
    days = np.empty((n, 3), dtype="datetime64[D]")
    days[:, 2] = last
    days[:, :2] = last[:, None] - gaps[:, ::-1].astype("timedelta64[D]")
    keep = np.stack([fresh, fresh, present], axis=1).ravel()  # household by household, oldest first
    return pd.DataFrame(
        {
            "household_id": np.repeat(households["household_id"].to_numpy(object), 3)[keep],
            "verified_on": np.datetime_as_string(days.ravel()[keep], unit="D").astype(object),
            "actor": "demo",
            "source": "demo",
        }
    )


def _chunks(frame: pd.DataFrame, size: int = 200_000) -> Iterator[pd.DataFrame]:
    """Slices of ``frame``: the store converts one slice at a time, bounding memory."""
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _area_name(layout: _Layout) -> str:
    streets = {street for _, _, street in layout.communities}
    return streets.pop() if len(streets) == 1 else "新城区"


# --- layout and grids ---------------------------------------------------------------


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


# --- people: names, phones, ID numbers ----------------------------------------------


def _zipf_p(count: int, power: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, count + 1) ** power
    return w / w.sum()


def _names(rng: np.random.Generator, male: np.ndarray, elderly: np.ndarray) -> np.ndarray:
    """Plausible Han and Mongol names (object array)."""
    n = len(male)
    surnames = np.array(SURNAMES, dtype=object)[
        rng.choice(len(SURNAMES), n, p=_zipf_p(len(SURNAMES)))
    ]
    given = np.empty(n, dtype=object)
    for pool, mask in (
        (_MALE_OLD, male & elderly),
        (_FEMALE_OLD, ~male & elderly),
        (_MALE_YOUNG, male & ~elderly),
        (_FEMALE_YOUNG, ~male & ~elderly),
    ):
        given[mask] = np.array(pool, dtype=object)[rng.integers(0, len(pool), mask.sum())]
    names = surnames + given
    # Hohhot has a sizeable Mongol population: about 8% Mongol names, half with a Han surname
    mongol = rng.random(n) < 0.08
    for pool, mask in ((_MONGOL_MALE, mongol & male), (_MONGOL_FEMALE, mongol & ~male)):
        picked = np.array(pool, dtype=object)[rng.integers(0, len(pool), mask.sum())]
        prefix = np.where(
            rng.random(mask.sum()) < 0.5,
            np.array(["包", "白", "云", "奇"], dtype=object)[rng.integers(0, 4, mask.sum())],
            "",
        )
        names[mask] = prefix + picked
    return names


def _digits_text(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded ``numbers`` as a unicode array, built without Python per value."""
    numbers = np.asarray(numbers, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((numbers[:, None] // powers) % 10 + 48).astype(np.uint8)
    head = np.broadcast_to(
        np.frombuffer(prefix.encode(), dtype=np.uint8), (len(numbers), len(prefix))
    )
    raw = np.ascontiguousarray(np.concatenate([head, digits], axis=1))
    return raw.view(f"S{len(prefix) + width}").ravel().astype(f"U{len(prefix) + width}")


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array(MOBILE_PREFIXES, dtype=np.int64)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    return _digits_text("", prefix * 10**8 + rng.integers(0, 10**8, n), 11)


def _id_numbers(rng: np.random.Generator, births: np.ndarray, male: np.ndarray) -> np.ndarray:
    """18-digit resident ID numbers: Hohhot area code, birth date, sequence, sex digit, check digit."""
    n = len(births)
    area = np.array(AREA_CODES, dtype=np.int64)[rng.choice(len(AREA_CODES), n, p=_AREA_P)]
    year = births.astype("datetime64[Y]").astype(np.int64) + 1970
    month = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    seq = (
        rng.integers(0, 100, n) * 10 + rng.integers(0, 5, n) * 2 + male.astype(np.int64)
    )  # odd = male
    body = area * 10**11 + year * 10**7 + month * 10**5 + day * 10**3 + seq
    powers = 10 ** np.arange(16, -1, -1, dtype=np.int64)
    digits = (body[:, None] // powers) % 10
    check = _ID_CHECK[(digits @ _ID_WEIGHTS) % 11]
    raw = np.ascontiguousarray(
        np.concatenate([(digits + 48).astype(np.uint8), check[:, None]], axis=1)
    )
    return raw.view("S18").ravel().astype("U18")


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


# --- households -----------------------------------------------------------------------


def _categories(rng: np.random.Generator, n: int) -> np.ndarray:
    """A (n, 7) boolean matrix of care categories in CATEGORY_CODES order."""
    p = np.array([*_PRIMARY_P, 1 - sum(_PRIMARY_P)])
    primary = rng.choice(len(p), n, p=p)
    cats = np.zeros((n, len(CATEGORY_CODES)), dtype=bool)
    has = primary < len(CATEGORY_CODES)
    cats[np.flatnonzero(has), primary[has]] = True
    # second category: inverse-CDF per row of _SECOND_P
    cdf = np.cumsum(_SECOND_P, axis=1)
    r = rng.random(n)
    rows = np.flatnonzero(has)
    second = (r[rows, None] >= cdf[primary[rows]]).sum(axis=1)
    ok = second < len(CATEGORY_CODES)
    cats[rows[ok], second[ok]] = True
    return cats


def _join_categories(cats: np.ndarray) -> np.ndarray:
    out = np.full(len(cats), "", dtype=object)
    for i, code in enumerate(CATEGORY_CODES):
        col = cats[:, i]
        out[col] = np.where(out[col] == "", code, out[col] + ";" + code)
    return np.where(out == "", None, out)


def _households(
    rng: np.random.Generator, layout: _Layout, grids: gpd.GeoDataFrame, n: int, as_of: dt.date
) -> dict:
    g_count = len(grids)
    weights = rng.uniform(0.65, 1.35, g_count)
    per_grid = np.floor(n * weights / weights.sum()).astype(np.int64)
    per_grid += np.bincount(rng.choice(g_count, n - per_grid.sum()), minlength=g_count)
    grid_of = np.repeat(np.arange(g_count), per_grid)
    rank = np.arange(n) - np.repeat(np.cumsum(per_grid) - per_grid, per_grid)

    # buildings: a grid is one building type (units x floors x 2 flats); compounds span
    # 1-3 grids of a community, the 东河 compound all 8 of its grids, building numbers
    # running on across the compound's grids
    types = np.array([[3, 6], [4, 6], [2, 11], [2, 18]])  # old walk-ups .. high-rises
    g_type = rng.choice(len(types), g_count, p=[0.35, 0.25, 0.25, 0.15])
    units, floors = types[g_type, 0], types[g_type, 1]
    capacity = units * floors * 2
    g_buildings = -(-per_grid // capacity)
    compound = np.zeros(g_count, dtype=np.int64)
    next_id, prev_comm, left = -1, -1, 0
    for g in range(g_count):  # per grid, not per household
        c = layout.community[g]
        if c != prev_comm or left == 0:
            next_id += 1
            left = 8 if c == 0 else int(rng.integers(1, 4))
            prev_comm = c
        compound[g] = next_id
        left -= 1
    compound_names = np.array(
        [
            "东河小区" if i == 0 else COMPOUNDS[(i - 1) % len(COMPOUNDS)] + "小区"
            for i in range(next_id + 1)
        ],
        dtype=object,
    )
    first_building = np.zeros(g_count, dtype=np.int64)
    for g in range(1, g_count):
        first_building[g] = (
            first_building[g - 1] + g_buildings[g - 1] if compound[g] == compound[g - 1] else 0
        )
    b_local = rank // capacity[grid_of]
    in_building = rank % capacity[grid_of]
    unit = in_building // (floors[grid_of] * 2) + 1
    floor = (in_building // 2) % floors[grid_of] + 1
    room = floor * 100 + in_building % 2 + 1
    building_no = first_building[grid_of] + b_local + 1
    building = building_no.astype(str).astype(object) + "号楼"
    address = (
        compound_names[compound[grid_of]]
        + building
        + unit.astype(str).astype(object)
        + "单元"
        + room.astype(str).astype(object)
    )

    # building sites in a loose rows x columns arrangement inside the block
    nb = g_buildings[grid_of]
    cols = np.ceil(np.sqrt(nb * 1.3)).astype(np.int64)
    rows = -(-nb // cols)
    bu = 0.16 + 0.68 * ((b_local % cols) + 0.5) / cols
    bv = 0.16 + 0.68 * ((b_local // cols) + 0.5) / rows
    jitter = np.random.default_rng(rng.integers(2**32)).uniform(-0.04, 0.04, (g_count, 64, 2))
    bu = bu + jitter[grid_of, b_local % 64, 0]
    bv = bv + jitter[grid_of, b_local % 64, 1]
    # households of a building cluster within a few metres; never on the grid edge
    u = np.clip(bu + rng.normal(0, 0.012, n), 0.05, 0.95)
    v = np.clip(bv + rng.normal(0, 0.012, n), 0.05, 0.95)
    lonlat = _to_lonlat(_bilinear(layout.corners[grid_of], u, v))

    cats = _categories(rng, n)
    elderly_cat = cats[:, 0] | cats[:, 1]
    age = np.clip(rng.normal(50, 14, n), 22, 92)
    age = np.where(elderly_cat, rng.uniform(65, 93, n), age)
    age = np.where(cats[:, 5] & ~elderly_cat, rng.uniform(23, 40, n), age)
    age_days = np.floor(age).astype(np.int64) * 36525 // 100 + rng.integers(20, 340, n)
    births = np.datetime64(as_of, "D") - age_days.astype("timedelta64[D]")
    male = rng.random(n) < np.where(cats[:, 0], 0.3, 0.55)  # most elderly living alone are widows
    head = _names(rng, male, age >= 58)
    phone = _phones(rng, n).astype(object)
    phone[rng.random(n) < 0.01] = None
    members_p = np.array([0.12, 0.30, 0.28, 0.18, 0.08, 0.04])
    members = rng.choice(6, n, p=members_p) + 1
    members = np.where(cats[:, 1], rng.choice([1, 2], n, p=[0.35, 0.65]), members)
    members = np.where(cats[:, 0], 1, members)
    members = np.where(
        cats[:, 5] & ~elderly_cat, rng.choice([2, 3, 4], n, p=[0.5, 0.35, 0.15]), members
    )

    stale = rng.random(n)
    verified_ago = np.where(stale < 0.88, rng.integers(0, 30, n), rng.integers(31, 200, n))
    verified = (
        (np.datetime64(as_of, "D") - verified_ago.astype("timedelta64[D]"))
        .astype(str)
        .astype(object)
    )
    verified[stale > 0.985] = None  # never verified

    ids = _digits_text("H", np.arange(1, n + 1), 7)
    frame = gpd.GeoDataFrame(
        {
            "household_id": ids,
            "grid_id": grids["grid_id"].to_numpy(object)[grid_of],
            "categories": _join_categories(cats),
            "address": address,
            "building": building,
            "head_name": head,
            "phone": phone,
            "id_number": _id_numbers(rng, births, male),
            "members": members.astype(np.int64),
            "last_verified": verified,
        },
        geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]),
        crs=WGS84,
    )
    return {
        "frame": frame,
        "grid_of": grid_of,
        "cats": cats,
        "ids": ids,
        "uv": np.stack([u, v], axis=1),
        "building": building,
        "compound": compound_names[compound[grid_of]],
    }


# --- staff ----------------------------------------------------------------------------


def _staff(rng: np.random.Generator, layout: _Layout, grids: gpd.GeoDataFrame) -> dict:
    """One row per (person, grid) assignment; ``role_of`` maps (grid, role) to a staff index."""
    g_count = len(grids)
    grid_ids = grids["grid_id"].to_numpy(object)
    has_branch = grids["party_branch"].notna().to_numpy()
    n_without = (
        max(int(rng.integers(2, 4)), round(g_count * 0.04))
        if g_count >= 20
        else (1 if g_count > 4 else 0)
    )
    without_worker = (
        set(rng.choice(g_count, n_without, replace=False).tolist()) if n_without else set()
    )
    people: list[tuple[str, str]] = []  # (role, department) per person
    rows: list[tuple[int, int]] = []  # (person, grid)

    def person(role: str, department: str, grid_list) -> int:
        people.append((role, department))
        for g in grid_list:
            rows.append((len(people) - 1, int(g)))
        return len(people) - 1

    for ci, (cname, _code, street) in enumerate(layout.communities):
        cgrids = np.flatnonzero(layout.community == ci)
        short = street.removesuffix("街道")
        office = f"{cname}居委会"
        workers: dict[int, int] = {}
        for g in cgrids:
            if g not in without_worker:
                workers[g] = person("grid_worker", office, [g])
        for g in cgrids:  # some workers also cover a neighbouring grid
            if g - 1 in workers and g not in without_worker and rng.random() < 0.12:
                rows.append((workers[g - 1], int(g)))
        for chunk in np.array_split(cgrids, max(1, round(len(cgrids) / 3))):
            person("grid_leader", f"{cname}党委", chunk)
        for g in cgrids[has_branch[cgrids]]:
            person("party_secretary", f"{grids['party_branch'].iloc[g]}", [g])
        person("police", f"呼和浩特市公安局新城区分局{short}派出所", cgrids)
        person("urban_management", f"新城区综合行政执法局{short}中队", cgrids)
        person("power", "国网呼和浩特供电公司新城区供电中心", cgrids)
        person(
            "lawyer",
            ("内蒙古青城律师事务所", "内蒙古北疆律师事务所", "内蒙古敕勒川律师事务所")[ci % 3],
            cgrids,
        )
        if ci % 2 == 0:
            both = (
                cgrids
                if ci + 1 >= len(layout.communities)
                else np.concatenate([cgrids, np.flatnonzero(layout.community == ci + 1)])
            )
            person("judicial", f"新城区司法局{short}司法所", both)
        if ci % 3 == 0:
            person("housing", "新城区住房和城乡建设局", cgrids)
        for g in cgrids:
            for _ in range(int(rng.integers(1, 3))):
                cover = [g, g + 1] if g + 1 in cgrids and rng.random() < 0.3 else [g]
                person("volunteer", f"{cname}志愿服务队", cover)

    n_people = len(people)
    roles = np.array([p[0] for p in people], dtype=object)
    depts = np.array([p[1] for p in people], dtype=object)
    male = rng.random(n_people) < np.where(roles == "grid_worker", 0.35, 0.6)
    names = _names(rng, male, rng.random(n_people) < 0.1)
    phones = _phones(rng, n_people).astype(object)
    staff_ids = _digits_text("S", np.arange(1, n_people + 1), 5).astype(object)
    pr = np.array(rows, dtype=np.int64)
    pr = pr[np.lexsort((pr[:, 0], pr[:, 1]))]
    frame = pd.DataFrame(
        {
            "staff_id": staff_ids[pr[:, 0]],
            "name": names[pr[:, 0]],
            "role": roles[pr[:, 0]],
            "grid_id": grid_ids[pr[:, 1]],
            "department": depts[pr[:, 0]],
            "phone": phones[pr[:, 0]],
        }
    )
    # staff index per (grid, role); a role missing in a grid falls back to its grid worker,
    # then to its grid leader (who also visits in grids without a worker)
    role_names = (
        "grid_worker",
        "grid_leader",
        "police",
        "urban_management",
        "judicial",
        "lawyer",
        "housing",
    )
    role_of = {r: np.full(g_count, -1, dtype=np.int64) for r in role_names}
    for p_idx, g in pr:
        r = people[p_idx][0]
        if r in role_of and role_of[r][g] < 0:
            role_of[r][g] = p_idx
    role_of["visitor"] = np.where(
        role_of["grid_worker"] >= 0, role_of["grid_worker"], role_of["grid_leader"]
    )
    for r in role_names:
        role_of[r] = np.where(role_of[r] >= 0, role_of[r], role_of["visitor"])
    # workers per grid for visits: up to 2 per grid
    visitors = np.full((g_count, 2), -1, dtype=np.int64)
    for p_idx, g in pr:
        if people[p_idx][0] == "grid_worker":
            slot = 0 if visitors[g, 0] < 0 else 1
            visitors[g, slot] = p_idx
    visitors[:, 0] = np.where(visitors[:, 0] < 0, role_of["visitor"], visitors[:, 0])
    visitors[:, 1] = np.where(visitors[:, 1] < 0, visitors[:, 0], visitors[:, 1])
    return {
        "frame": frame,
        "ids": staff_ids,
        "role_of": role_of,
        "visitors": visitors,
        "without_worker": np.array(sorted(without_worker), dtype=np.int64),
    }


# --- visits ---------------------------------------------------------------------------


def _visit_days(
    rng: np.random.Generator, homes: dict, quality: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(household index, day index 0..55 with 55 = the as-of day) of every visit day."""
    cats, grid_of = homes["cats"], homes["grid_of"]
    q = quality[grid_of]
    red = cats[:, 0]
    yellow = cats[:, 1] & ~red
    monthly = cats[:, 2:].any(axis=1) & ~red & ~yellow
    ordinary = ~cats.any(axis=1)
    out_h, out_d = [], []

    # red: daily; most households never missed, some miss a day now and then
    idx = np.flatnonzero(red)
    reliable = rng.random(len(idx)) < 0.7
    p_day = np.where(reliable, 0.998, rng.uniform(0.85, 0.96, len(idx))) * q[idx]
    hit = rng.random((len(idx), HISTORY_DAYS)) < p_day[:, None]
    h, d = np.nonzero(hit)
    out_h.append(idx[h])
    out_d.append(d)

    # yellow: about three distinct days per week (weeks counted back from the as-of day)
    idx = np.flatnonzero(yellow)
    weeks = HISTORY_DAYS // 7
    k = rng.choice([2, 3, 4], (len(idx), weeks), p=[0.12, 0.68, 0.20])
    k = np.where(rng.random((len(idx), weeks)) > q[idx, None], np.maximum(k - 1, 1), k)
    order = np.argsort(rng.random((len(idx), weeks, 7)), axis=2)
    chosen = order < k[:, :, None]
    h, w, dd = np.nonzero(chosen)
    out_h.append(idx[h])
    out_d.append(HISTORY_DAYS - 7 * (w + 1) + dd)

    # monthly categories: usually one to three visits in each 4-week block
    idx = np.flatnonzero(monthly)
    blocks = HISTORY_DAYS // 28
    k = rng.choice([0, 1, 2, 3], (len(idx), blocks), p=[0.05, 0.45, 0.37, 0.13])
    k = np.where(rng.random((len(idx), blocks)) > q[idx, None], 0, k)
    order = np.argsort(rng.random((len(idx), blocks, 28)), axis=2)
    h, b, dd = np.nonzero(order < k[:, :, None])
    out_h.append(idx[h])
    out_d.append(HISTORY_DAYS - 28 * (b + 1) + dd)

    # ordinary households: occasional visits, mostly on weekdays; over-dispersed counts
    idx = np.flatnonzero(ordinary)
    mean = 9.5 * q[idx]
    counts = rng.poisson(rng.gamma(2.0, mean / 2.0))
    hh = np.repeat(idx, counts)
    out_h.append(hh)
    out_d.append(rng.integers(0, HISTORY_DAYS, len(hh)))

    hh = np.concatenate(out_h).astype(np.int64)
    days = np.concatenate(out_d).astype(np.int64)
    key = np.unique(hh * HISTORY_DAYS + days)  # one visit per household and day
    return key // HISTORY_DAYS, key % HISTORY_DAYS


def _stamp_texts(days: np.ndarray, seconds: np.ndarray, first_day: dt.date) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS`` texts from day offsets and seconds of day, as a unicode array."""
    base = np.datetime64(first_day, "D") + days.astype("timedelta64[D]")
    year = base.astype("datetime64[Y]").astype(np.int64) + 1970
    month = base.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (base - base.astype("datetime64[M]")).astype(np.int64) + 1
    hour, minute, sec = seconds // 3600, seconds // 60 % 60, seconds % 60
    parts = [(year, 4), (month, 2), (day, 2), (hour, 2), (minute, 2), (sec, 2)]
    seps = [b"-", b"-", b" ", b":", b":", b""]
    cols = []
    for (values, width), sep in zip(parts, seps, strict=True):
        powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        cols.append(((values[:, None] // powers) % 10 + 48).astype(np.uint8))
        if sep:
            cols.append(np.full((len(days), 1), sep[0], dtype=np.uint8))
    raw = np.ascontiguousarray(np.concatenate(cols, axis=1))
    return raw.view("S19").ravel().astype("U19")


def _work_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = 8 + rng.choice(len(_HOUR_P), n, p=_HOUR_P / _HOUR_P.sum())
    return hours * 3600 + rng.integers(0, 3600, n)


def _visits(
    rng: np.random.Generator, homes: dict, staff: dict, grids: gpd.GeoDataFrame, as_of: dt.date
) -> tuple[int, Iterator[pd.DataFrame]]:
    """The number of visits and the visits as chunks (strings built chunk by chunk to bound memory)."""
    g_count = len(grids)
    quality = np.ones(g_count)
    # a couple of grids noticeably worse; grids without a worker lean on the grid leader
    bad = rng.choice(g_count, max(1, min(g_count // 25, 2 + g_count // 40)), replace=False)
    quality[bad] = rng.uniform(0.6, 0.75, len(bad))
    quality[staff["without_worker"]] = np.minimum(quality[staff["without_worker"]], 0.88)
    hh, days = _visit_days(rng, homes, quality)
    n = len(hh)
    seconds = _work_seconds(rng, n)
    red = homes["cats"][hh, 0]
    # daily contact with the elderly living alone is often a phone call
    kind = np.where(red, rng.choice(3, n, p=[0.5, 0.4, 0.1]), rng.choice(3, n, p=[0.7, 0.22, 0.08]))
    staff_idx = staff["visitors"][homes["grid_of"][hh], rng.integers(0, 2, n)]
    note = rng.integers(0, len(VISIT_NOTES), n)
    order = np.argsort(days * 86400 + seconds, kind="stable")
    first_day = as_of - dt.timedelta(days=HISTORY_DAYS - 1)
    kinds = np.array(VISIT_KINDS, dtype=object)
    notes = np.array([x or None for x in VISIT_NOTES], dtype=object)

    def chunks() -> Iterator[pd.DataFrame]:
        for start in range(0, n, _VISIT_CHUNK):
            sel = order[start : start + _VISIT_CHUNK]
            yield pd.DataFrame(
                {
                    "visit_id": _digits_text("V", np.arange(start + 1, start + len(sel) + 1), 8),
                    "household_id": homes["ids"][hh[sel]],
                    "visited_at": _stamp_texts(days[sel], seconds[sel], first_day),
                    "staff_id": staff["ids"][staff_idx[sel]],
                    "kind": kinds[kind[sel]],
                    "note": notes[note[sel]],
                }
            )

    return n, chunks()


def _office_hours(rng: np.random.Generator, seconds: np.ndarray) -> np.ndarray:
    """Times moved into 08:00-20:00: a step due at night happens the next morning."""
    day, tod = seconds // 86400, seconds % 86400
    morning = 8 * 3600 + rng.integers(0, 2 * 3600, len(seconds))
    return np.select(
        [tod < 8 * 3600, tod >= 20 * 3600],
        [day * 86400 + morning, (day + 1) * 86400 + morning],
        seconds,
    )


# --- reports --------------------------------------------------------------------------


def _reports(
    rng: np.random.Generator,
    layout: _Layout,
    grids: gpd.GeoDataFrame,
    homes: dict,
    staff: dict,
    as_of: dt.date,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    n_homes = len(homes["grid_of"])
    n = max(10, round(n_homes / 40))
    # every source is present however small the data set
    source = np.concatenate(
        [np.arange(len(SOURCES)), rng.choice(len(SOURCES), n - len(SOURCES), p=_SOURCE_P)]
    )
    heating = as_of.month in (10, 11, 12, 1, 2, 3, 4)
    category = np.empty(n, dtype=object)
    for si, s in enumerate(SOURCES):
        options = [(c, w) for c, w in _SOURCE_CATEGORIES[s] if heating or c != "供暖问题"]
        w = np.array([w for _, w in options])
        mask = source == si
        category[mask] = np.array([c for c, _ in options], dtype=object)[
            rng.choice(len(options), mask.sum(), p=w / w.sum())
        ]
    text = np.empty(n, dtype=object)
    for c, options in REPORT_TEXTS.items():
        mask = category == c
        text[mask] = np.array(options, dtype=object)[rng.integers(0, len(options), mask.sum())]
    # each report is near a household's building, strictly inside that household's grid
    near = rng.integers(0, n_homes, n)
    grid_of = homes["grid_of"][near]
    uv = np.clip(homes["uv"][near] + rng.normal(0, 0.04, (n, 2)), 0.04, 0.96)
    lonlat = _to_lonlat(_bilinear(layout.corners[grid_of], uv[:, 0], uv[:, 1]))
    description = homes["compound"][near] + homes["building"][near] + "附近：" + text

    # timeline in seconds since the start of the history window
    end = HISTORY_DAYS * 86400  # the end of the as-of day
    reported = np.sort(
        rng.integers(0, HISTORY_DAYS, n) * 86400 + 7 * 3600 + rng.integers(0, 14 * 3600, n)
    )
    src = np.array(SOURCES, dtype=object)[source]
    slow = np.select([src == "petition", src == "dispute"], [3.0, 1.6], 1.0)
    stuck = rng.random(n) < np.select(
        [src == "petition", src == "dispute", src == "patrol"], [0.15, 0.08, 0.01], 0.03
    )
    respond = _office_hours(
        rng, reported + (3600 * rng.lognormal(np.log(1.5), 0.8, n) * slow).astype(np.int64)
    )
    resolve = _office_hours(
        rng, respond + (3600 * rng.lognormal(np.log(36), 0.45, n) * slow).astype(np.int64)
    )
    follow = _office_hours(
        rng, resolve + (3600 * rng.lognormal(np.log(20), 0.5, n)).astype(np.int64)
    )
    no_follow = rng.random(n) < 0.12
    late = (resolve - reported) > 96 * 3600
    satisfied = rng.random(n) > np.where(late, 0.3, 0.1)
    # a timestamp after the end of the as-of day has not happened yet
    responded_ok = respond < end
    resolved_ok = ~stuck & (resolve < end)
    followed_ok = resolved_ok & ~no_follow & (follow < end)
    first_day = as_of - dt.timedelta(days=HISTORY_DAYS - 1)

    def stamps(sec: np.ndarray, ok: np.ndarray) -> np.ndarray:
        texts = _stamp_texts(sec // 86400, sec % 86400, first_day).astype(object)
        return np.where(ok, texts, None)

    reported_at = stamps(reported, np.ones(n, dtype=bool))
    day_compact = np.array(
        [(first_day + dt.timedelta(days=d)).strftime("%Y%m%d") for d in range(HISTORY_DAYS)],
        dtype=object,
    )[reported // 86400]
    seq = pd.Series(reported // 86400).groupby(reported // 86400).cumcount().to_numpy() + 1
    report_id = "R" + day_compact + _digits_text("", seq, 4).astype(object)

    worker = staff["role_of"]["visitor"][grid_of]
    reporter = np.full(n, None, dtype=object)
    obs = src == "observer"
    obs_no = rng.integers(1, max(20, n_homes // 300) + 1, obs.sum())
    reporter[obs] = (
        np.array(_OBSERVER_KINDS, dtype=object)[obs_no % 3]
        + "-"
        + _digits_text("", obs_no, 4).astype(object)
    )
    hot = src == "hotline"
    reporter[hot] = (
        "12345-"
        + day_compact[hot]
        + _digits_text("", rng.integers(0, 10**5, hot.sum()), 5).astype(object)
    )
    resident = (src == "dispute") | (src == "petition")
    reporter[resident] = homes["ids"][near[resident]]
    patrol = src == "patrol"
    reporter[patrol] = staff["ids"][worker[patrol]]
    satisfaction = np.where(followed_ok, np.where(satisfied, "satisfied", "unsatisfied"), None)
    columns = {
        "reported_at": reported_at,
        "responded_at": stamps(respond, responded_ok),
        "resolved_at": stamps(resolve, resolved_ok),
        "followed_up_at": stamps(follow, followed_ok),
    }
    reports = gpd.GeoDataFrame(
        {
            "report_id": report_id,
            "source": src,
            "category": category,
            "description": description,
            "reporter_id": reporter,
            **columns,
            "satisfaction": satisfaction,
            "photo": None,
            "grid_id": grids["grid_id"].to_numpy(object)[grid_of],
            "duplicate_of": None,
        },
        geometry=gpd.points_from_xy(lonlat[:, 0], lonlat[:, 1]),
        crs=WGS84,
    )

    resolver = np.array(
        [_RESOLVER.get(c, "grid_worker") for c in category], dtype=object
    )  # n ~ homes/40
    resolver_idx = worker.copy()
    for role in set(_RESOLVER.values()):
        mask = resolver == role
        resolver_idx[mask] = staff["role_of"][role][grid_of[mask]]
    follow_note = np.where(satisfaction == "satisfied", "回访满意", "回访不满意")
    step_frames = []
    for step, col, actor, note in (
        ("reported", "reported_at", worker, "登记受理"),
        ("responded", "responded_at", worker, "已派单并联系反映人"),
        ("resolved", "resolved_at", resolver_idx, "已办结"),
        ("followed_up", "followed_up_at", worker, follow_note),
    ):
        at = columns[col]
        keep = pd.notna(at)
        notes = np.broadcast_to(np.asarray(note, dtype=object), (n,))
        step_frames.append(
            pd.DataFrame(
                {
                    "report_id": report_id[keep],
                    "step": step,
                    "at": at[keep],
                    "actor": staff["ids"][actor[keep]],
                    "note": notes[keep],
                    "recorded_at": at[keep],
                }
            )
        )
    steps = pd.concat(step_frames, ignore_index=True).sort_values(
        ["report_id", "at"], kind="stable"
    )
    return reports, steps.reset_index(drop=True)
