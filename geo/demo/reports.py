"""Demo citizen reports from all five sources, with their timelines and resolvers."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.demo.layout import _bilinear, _Layout, _to_lonlat
from geo.demo.people import _digits_text
from geo.demo.visits import HISTORY_DAYS, _stamp_texts
from geo.store.schema import WGS84

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


def _office_hours(rng: np.random.Generator, seconds: np.ndarray) -> np.ndarray:
    """Times moved into 08:00-20:00: a step due at night happens the next morning."""
    day, tod = seconds // 86400, seconds % 86400
    morning = 8 * 3600 + rng.integers(0, 2 * 3600, len(seconds))
    return np.select(
        [tod < 8 * 3600, tod >= 20 * 3600],
        [day * 86400 + morning, (day + 1) * 86400 + morning],
        seconds,
    )


def _reports(
    rng: np.random.Generator,
    layout: _Layout,
    grids: gpd.GeoDataFrame,
    homes: dict,
    staff: dict,
    as_of: dt.date,
    until: dt.datetime | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The demo's reports and their steps over the history window up to ``until`` (default:
    the end of the as-of day; the build's moment when the as-of day is today)."""
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
    start = dt.datetime.combine(as_of - dt.timedelta(days=HISTORY_DAYS - 1), dt.time())
    if until is not None:  # built on the as-of day itself: what lies after now has not happened
        end = min(end, max(0, int((until - start).total_seconds())))
    reported = rng.integers(0, HISTORY_DAYS, n) * 86400 + 7 * 3600 + rng.integers(0, 14 * 3600, n)
    # a report drawn for later today arrived at that hour the day before (the draws, and so
    # every other generator's, stay as they were)
    reported = np.sort(np.where(reported >= end, reported - 86400, reported))
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
