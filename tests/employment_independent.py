"""An independent implementation of contract section 7's ``new_employment`` section.

Written from the contract text alone, reading the files themselves (openpyxl, csv, json);
it imports nothing of gridmap. Distances: the geodesic on the WGS-84 ellipsoid (pyproj's
Geod); "exactly 1,000 m is near" is read as the distance rounded to the millimetre.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import openpyxl
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
YES = {"是", "yes", "true", "1", "y"}
NO = {"否", "no", "false", "0", "n", ""}
MEMBER = {"中共党员", "member", "预备党员", "probationary"}
MOBILE = {"流动", "mobile"}
OBSERVER_SOURCES = {"随手拍", "observer"}


def _day(text: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    m = re.match(r"(\d{4})\D(\d{1,2})\D(\d{1,2})", text)
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _stamp(text: str) -> dt.datetime:
    """Local time of a report; a +08:00 offset is already local (Asia/Shanghai)."""
    m = re.match(r"(\d{4})\D(\d{1,2})\D(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", text)
    return dt.datetime(
        int(m[1]), int(m[2]), int(m[3]), int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    )


def _yes(text: str) -> bool:
    value = (text or "").strip().lower()
    assert value in YES | NO, value
    return value in YES


def _csv(path: Path, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


def new_employment(files, as_of: dt.date) -> dict:
    """The section from the files of ``employment_dataset.write_dataset``."""
    book = openpyxl.load_workbook(files.firms, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    firms = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    firm_org = {f["企业编号"]: bool((f["党组织"] or "").strip()) for f in firms}

    outlets = _csv(files.outlets, "gbk")
    workers = _csv(files.workers, "utf-8-sig")
    stations = json.loads(files.stations.read_text(encoding="utf-8"))
    reports = _csv(files.reports, "utf-8")

    counted = [
        s["geometry"]["coordinates"]
        for s in stations
        if _day(s["properties"]["建成日期"]) is None or _day(s["properties"]["建成日期"]) <= as_of
    ]

    def near(outlet: dict) -> bool:
        lon, lat = float(outlet["经度"]), float(outlet["纬度"])
        return any(round(GEOD.inv(s[0], s[1], lon, lat)[2], 3) <= 1000.0 for s in counted)

    members = [w for w in workers if w["政治面貌"].strip() in MEMBER]
    insured = [
        w
        for w in workers
        if _yes(w["职业伤害保障"]) and (_day(w["参保日期"]) is None or _day(w["参保日期"]) <= as_of)
    ]
    observers = [w for w in workers if _yes(w["社区观察员"])]
    observer_ids = {w["人员编号"] for w in observers}
    first = dt.datetime.combine(as_of - dt.timedelta(days=29), dt.time())
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    return {
        "firms": len(firms),
        "firms_with_party_org": sum(firm_org.values()),
        "outlets": len(outlets),
        "outlets_with_party_org": sum(
            1 for o in outlets if o["党组织"].strip() or firm_org.get(o["企业编号"], False)
        ),
        "outlets_near_station": sum(1 for o in outlets if near(o)),
        "workers": len(workers),
        "party_members": len(members),
        "party_members_returned": sum(
            1 for w in members if _day(w["回归日期"]) is not None and _day(w["回归日期"]) <= as_of
        ),
        "party_members_mobile": sum(1 for w in members if w["组织关系"].strip() in MOBILE),
        "insured": len(insured),
        "insured_rate": round(len(insured) / len(workers), 4) if workers else None,
        "observers": len(observers),
        "observers_registered": sum(
            1 for w in observers if _day(w["报到日期"]) is not None and _day(w["报到日期"]) <= as_of
        ),
        "observer_reports_30d": sum(
            1
            for r in reports
            if r["来源"] in OBSERVER_SOURCES
            and r["reporter_id"] in observer_ids
            and first <= _stamp(r["上报时间"]) < end
        ),
        "stations": len(counted),
    }
