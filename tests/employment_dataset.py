"""An independent new-employment data set written as clerks send it (for the "Done when").

firms as XLSX (Chinese headers), outlets as GBK CSV, workers as UTF-8-BOM CSV with 是/否
and 1/0 (and the other spellings) mixed, stations as a bare JSON array of GeoJSON point
Features, grids as GeoJSON, observer reports as CSV with ``reporter_id``. Random rows
(by seed) plus the edge cases of section 7: an outlet exactly 1,000 m and one 1,001 m
from a station, a station opened on the as-of day and one the day after, dates on the
as-of day and the day after, reports at both ends of the 30-day window.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from pyproj import Geod

AS_OF = dt.date(2026, 11, 27)
GEOD = Geod(ellps="WGS84")
# two grids side by side around the station S01
GRIDS = {
    "T1": [(111.690, 40.830), (111.700, 40.830), (111.700, 40.850), (111.690, 40.850)],
    "T2": [(111.700, 40.830), (111.715, 40.830), (111.715, 40.850), (111.700, 40.850)],
}
S01 = (111.70, 40.84)


@dataclass
class DataSet:
    """Where the files are."""

    folder: Path
    grids: Path
    firms: Path
    outlets: Path
    workers: Path
    stations: Path
    reports: Path


def _day(offset: int, style: int = 0) -> str:
    day = AS_OF + dt.timedelta(days=offset)
    return (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        day.strftime("%Y/%m/%d"),
        f"{day.year}年{day.month}月{day.day}日",
    )[style % 4]


def _away(
    distance: float, azimuth: float, origin: tuple[float, float] = S01
) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], azimuth, distance)
    return round(float(lon), 9), round(float(lat), 9)


def write_dataset(folder: Path, seed: int = 1) -> DataSet:
    """Write the files into ``folder``; the same seed writes the same bytes."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    grids = folder / "grids.geojson"
    grids.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"grid_id": g, "name": f"测试{g}网格"},
                        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                    }
                    for g, ring in GRIDS.items()
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )

    # --- firms: XLSX, Chinese headers
    sectors = ["快递", "外卖", "网约车", "出租车", "货运", "其他", "express", "food_delivery"]
    firms = [
        ("F01", "顺丰速运", "快递", "顺丰党支部", "顺丰工会"),
        ("F02", "美团外卖", "外卖", "", ""),
    ]
    for k in range(3, 3 + rng.randint(3, 5)):
        firms.append(
            (
                f"F{k:02d}",
                f"测试企业{k}",
                rng.choice(sectors),
                rng.choice(["", "", f"企业{k}党支部"]),
                rng.choice(["", f"企业{k}工会"]),
            )
        )
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["企业编号", "企业名称", "行业", "党组织", "工会"])
    for row in firms:
        sheet.append([v if v != "" else None for v in row])
    firm_path = folder / "企业.xlsx"
    book.save(firm_path)
    firm_ids = [f[0] for f in firms]

    # --- stations: a bare array of GeoJSON Features
    stations = [
        ("S01", "东河驿站", S01, "休息、饮水、充电", "东河社区", ""),
        ("S02", "今天建成", _away(3000, 90), "休息；热饭", "", _day(0)),
        ("S03", "明天建成", _away(3000, 270), "rest, first aid", "", _day(1)),
        ("S04", "早已建成", _away(6000, 180), "", "加油站", _day(-200, 1)),
    ]
    station_path = folder / "驿站.json"
    station_path.write_text(
        json.dumps(
            [
                {
                    "type": "Feature",
                    "properties": {
                        "驿站编号": sid,
                        "驿站名称": name,
                        "服务项目": services,
                        "依托单位": host,
                        "建成日期": opened,
                    },
                    "geometry": {"type": "Point", "coordinates": list(xy)},
                }
                for sid, name, xy, services, host, opened in stations
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )

    # --- outlets: GBK CSV; edge cases around S01, S02 (open today), S03 (opens tomorrow)
    outlets = [
        ("O01", "F01", _away(1000.0, 37.0), "顺丰东河营业部", ""),
        ("O02", "F01", _away(1001.0, 200.0), "顺丰南营业部", ""),
        ("O03", "F02", _away(500.0, 0.0, _away(3000, 90)), "美团东站", ""),
        ("O04", "F02", _away(500.0, 0.0, _away(3000, 270)), "美团西站", "西站党小组"),
        ("O05", "F02", _away(999.999, 123.0), "美团南站", ""),
    ]
    for k in range(6, 6 + rng.randint(5, 9)):
        outlets.append(
            (
                f"O{k:02d}",
                rng.choice(firm_ids),
                _away(rng.uniform(0, 2500), rng.uniform(0, 360)),
                f"网点{k}",
                rng.choice(["", "", f"网点{k}党小组"]),
            )
        )
    lines = ["网点编号,企业编号,经度,纬度,网点名称,党组织"]
    lines += [f"{o},{f},{xy[0]:.9f},{xy[1]:.9f},{name},{org}" for o, f, xy, name, org in outlets]
    outlet_path = folder / "网点.csv"
    outlet_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    outlet_firm = {o: f for o, f, *_ in outlets}

    # --- workers: UTF-8 with BOM, yes/no spellings mixed
    yes = ["是", "1", "yes", "Y", "true", "TRUE"]
    no = ["否", "0", "no", "N", "false", ""]
    parties = ["中共党员", "预备党员", "群众", "member", "probationary", "none", ""]
    workers = []
    for k in range(1, 41 + rng.randint(0, 20)):
        worker_id = f"W{k:03d}"
        outlet = rng.choice([*outlet_firm, ""])
        firm = outlet_firm[outlet] if outlet else rng.choice(firm_ids)
        party = rng.choice(parties)
        member = party in ("中共党员", "预备党员", "member", "probationary")
        relation = rng.choice(["流动", "已转入", "mobile", "local", ""]) if member else ""
        returned = _day(rng.choice([-100, -1, 0, 1, 5]), k) if member and rng.random() < 0.6 else ""
        insured = rng.random() < 0.7
        insured_on = _day(rng.choice([-300, 0, 1, 10]), k) if insured and rng.random() < 0.7 else ""
        observer = rng.random() < 0.5
        registered = _day(rng.choice([-50, -1, 0, 1]), k) if observer and rng.random() < 0.7 else ""
        workers.append(
            (
                worker_id,
                firm,
                f"骑手{k}",
                outlet,
                f"1380000{k:04d}",
                party,
                relation,
                returned,
                rng.choice(yes) if insured else rng.choice(no),
                insured_on,
                rng.choice(yes) if observer else rng.choice(no),
                registered,
                "东河社区" if registered else "",
            )
        )
    header = "人员编号,企业编号,姓名,网点编号,电话,政治面貌,组织关系,回归日期,职业伤害保障,参保日期,社区观察员,报到日期,报到社区"
    worker_path = folder / "从业人员.csv"
    worker_path.write_text(
        "\n".join([header, *(",".join(row) for row in workers)]) + "\n", encoding="utf-8-sig"
    )

    # --- reports: 随手拍 by workers (observers or not), by strangers, and other sources
    times = [
        ("2026-11-27 23:59:59", True),
        ("2026-11-28 00:00:00", False),
        ("2026-10-29 00:00:00", True),
        ("2026-10-28 23:59:59", False),
        ("2026/11/15 8:30", True),
        ("2026-11-01T09:00:00+08:00", True),
    ]
    reports = []
    reporters = [w[0] for w in workers] + ["X999", ""]
    for k in range(1, 61):
        stamp, _ = rng.choice(times)
        source = rng.choice(["随手拍", "随手拍", "observer", "12345", "网格巡查"])
        lon, lat = _away(rng.uniform(0, 900), rng.uniform(0, 360))
        reports.append(
            (
                f"R{k:03d}",
                source,
                "环境卫生",
                f"{lon:.7f}",
                f"{lat:.7f}",
                stamp,
                rng.choice(reporters),
            )
        )
    report_path = folder / "事项.csv"
    report_path.write_text(
        "\n".join(
            ["编号,来源,事项类别,经度,纬度,上报时间,reporter_id", *(",".join(r) for r in reports)]
        )
        + "\n",
        encoding="utf-8",
    )
    return DataSet(folder, grids, firm_path, outlet_path, worker_path, station_path, report_path)
