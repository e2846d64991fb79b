"""The kinds of import and their columns: accepted header spellings, required columns, row keys."""

from __future__ import annotations

import re
import unicodedata

from geo.buildings import spec as buildings_spec
from geo.employment import columns as employment
from geo.i18n import Msg, t
from geo.inputs.importers.problems import ImportReport

# new-employment groups (contract section 7): their columns live in geo.employment.columns
KINDS = (
    "grids",
    "households",
    "visits",
    "staff",
    "reports",
    "boundary",
    "buildings",
    *employment.KINDS,
)


HEADER_ROW = 1
"""Problems about columns (missing, doubled) point at the header line."""


# canonical column -> accepted header spellings besides the canonical name
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "grids": {
        "grid_id": ("网格编号", "网格id", "网格代码"),
        "name": ("网格名称", "名称"),
        "community": ("社区", "所属社区", "社区名称"),
        "street": ("街道", "所属街道"),
        "party_branch": ("网格党支部", "党支部"),
        # the hierarchy (issue 16): optional, city > district > street > community > grid
        "district": ("区县", "所属区县", "区/县", "县区", "区", "所属区", "行政区"),
    },
    "households": {
        "household_id": ("户编号", "户号"),
        "lon": ("经度", "longitude", "lng"),
        "lat": ("纬度", "latitude"),
        "categories": ("类别", "人员类别", "类型"),
        "address": ("地址", "住址"),
        "building": ("楼栋", "楼号"),
        "head_name": ("户主姓名", "户主"),
        "phone": ("电话", "联系电话", "手机"),
        "id_number": ("身份证号", "身份证号码"),
        "members": ("人数", "家庭人数"),
        "last_verified": ("核实日期", "核实时间"),
        "grid_id": ("网格编号",),
    },
    "visits": {
        "visit_id": ("走访编号", "记录编号"),
        "household_id": ("户编号", "户号"),
        "visited_at": ("走访时间", "走访日期"),
        "staff_id": ("人员编号", "走访人员编号"),
        "kind": ("方式", "走访方式"),
        "note": ("备注", "情况记录"),
    },
    "staff": {
        "staff_id": ("人员编号",),
        "name": ("姓名",),
        "role": ("角色", "职务"),
        "grid_id": ("网格编号",),
        "department": ("部门", "单位"),
        "phone": ("电话", "联系电话", "手机"),
    },
    "reports": {
        "report_id": ("编号", "事项编号"),
        "source": ("来源", "事项来源"),
        "category": ("事项类别", "类别"),
        "lon": ("经度", "longitude", "lng"),
        "lat": ("纬度", "latitude"),
        "reported_at": ("上报时间",),
        "description": ("描述", "事项描述"),
        "reporter_id": ("上报人", "上报人编号"),
        "responded_at": ("响应时间",),
        "resolved_at": ("办结时间",),
        "followed_up_at": ("回访时间",),
        "satisfaction": ("满意度",),
        "photo": ("照片",),
        # cases (issue 19): who owns the case, how the return visit was made
        "owner": ("负责方",),
        "followup_method": ("回访方式",),
    },
    "boundary": {
        "boundary_id": ("id", "编号"),
        "name": ("名称",),
        "adcode": ("行政区划代码", "code"),
    },
    "buildings": buildings_spec.ALIASES,
    **employment.ALIASES,
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "grids": ("grid_id",),
    "households": ("household_id", "lon", "lat"),
    "visits": ("household_id", "visited_at"),
    "staff": ("staff_id", "name", "role", "grid_id"),
    "reports": ("report_id", "source", "category", "lon", "lat", "reported_at"),
    "boundary": (),
    "buildings": buildings_spec.REQUIRED,
    **employment.REQUIRED,
}


POINT_KINDS = ("households", "reports", *employment.POINT_KINDS)
POLYGON_KINDS = ("grids", "boundary")
PLACED_KINDS = (*POINT_KINDS, "buildings")
"""Kinds whose place is a vector file's geometry, or a table's lon/lat."""


PREPARE_KEYS: dict[str, tuple[str, ...]] = {
    "grids": ("grid_id",),
    "households": ("household_id",),
    "visits": ("visit_id",),
    "staff": ("staff_id", "grid_id"),
    "reports": ("report_id",),
    "boundary": (),
    "buildings": (),  # geo.buildings.rows finds a building_id twice itself
    **employment.KEYS,
}
"""The columns whose values may not repeat within a file."""


def _header_key(text: object) -> str:
    """A header as compared: NFKC (full-width brackets/letters), no BOM, no spaces, lower case."""
    key = unicodedata.normalize("NFKC", str(text)).replace("\ufeff", "")
    return re.sub(r"\s+", "", key).strip("*").lower()


def _canonical_columns(
    kind: str, header: list[str], report: ImportReport, *, vector: bool = False
) -> tuple[dict[str, str], list[str]]:
    """Header -> canonical column, and the headers not used; problems for missing or doubled columns."""
    lookup: dict[str, str] = {}
    for canonical, spellings in ALIASES[kind].items():
        for spelling in (canonical, *spellings):
            lookup[_header_key(spelling)] = canonical
    renames: dict[str, str] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for column in header:
        key = _header_key(column)
        canonical = lookup.get(key)
        if canonical is None:
            # "经度(GCJ-02)" or "网格编号(grid_id)": try outside and inside the brackets
            outside = re.sub(r"\(.*?\)", "", key)
            inside = re.findall(r"\((.*?)\)", key)
            canonical = lookup.get(outside) or next(
                (lookup[k] for k in inside if k in lookup), None
            )
        if canonical is None and 8 <= len(key.encode("utf-8")) <= 10:
            # a DBF field name cut at 10 bytes (网格党支部 in UTF-8 is 15): a unique prefix
            matches = {c for spelling, c in lookup.items() if spelling.startswith(key)}
            canonical = matches.pop() if len(matches) == 1 else None
        if canonical is None:
            ignored.append(str(column))
            continue
        if canonical in seen:
            report.add_problem(
                HEADER_ROW,
                str(column),
                Msg("imp_second_column", canonical=canonical, first=seen[canonical]).text(
                    report.lang
                ),
            )
            continue
        seen[canonical] = str(column)
        renames[column] = canonical
    report.headers = dict(seen)
    if ignored and kind != "boundary":  # boundary files carry many properties nobody needs
        report.warnings.append(
            f"{report.file}: "
            + t("imp_warn_unused_columns", report.lang, columns=", ".join(ignored))
        )
    vector_points = kind in PLACED_KINDS and vector
    for column in REQUIRED[kind]:
        if column in seen or (vector_points and column in ("lon", "lat")):
            continue
        spellings = " / ".join((column, *ALIASES[kind][column][:1]))
        report.add_problem(
            HEADER_ROW, column, t("imp_required_missing", report.lang, spellings=spellings)
        )
    return renames, ignored
