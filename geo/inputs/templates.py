"""Templates a clerk fills in: one per kind, with the Chinese headers the importer reads.

A table kind (households, visits, staff, reports, buildings and the new-employment kinds
firms, outlets, workers, stations) is an XLSX: a header row in Chinese
(required columns marked ``*``, which the importer's header matching ignores), one
example row, drop-down lists on the coded columns (category, source, role, visit kind,
satisfaction; taken from the configuration, so they always match what the importer
accepts) and a second sheet explaining every column. A polygon kind (grids, boundary)
cannot be a spreadsheet: its template is a GeoJSON file with one example feature.
Every template imports cleanly as it is (tests/test_datadesk_templates.py).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from geo.cases.settings import case_settings
from geo.config import Config, load_config
from geo.employment.values import PARTY, RELATION, SECTOR
from geo.i18n import t
from geo.inputs.importers.columns import ALIASES, KINDS, POLYGON_KINDS, REQUIRED
from geo.outputs.xlsx import write_sheet
from geo.timeutil import today

REQUIRED_MARK = "*"
VALIDATED_ROWS = 2000
"""Rows below the header that carry the drop-down lists."""
LISTS_SHEET = "lists"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# the example polygon (a 0.01-degree square) and the point inside it used by every example
EXAMPLE_LON, EXAMPLE_LAT = 111.705, 40.845
EXAMPLE_SQUARE = [
    [111.70, 40.84],
    [111.71, 40.84],
    [111.71, 40.85],
    [111.70, 40.85],
    [111.70, 40.84],
]
VISIT_KIND_CHOICES = ("入户", "电话", "视频")  # geo.coverage.VISIT_KINDS as stored
YES_NO_CHOICES = ("是", "否")  # section 7's yes/no columns


@dataclass(frozen=True)
class Template:
    """A template file: its name and bytes."""

    file_name: str
    data: bytes
    media_type: str


def header_of(kind: str, column: str) -> str:
    """The Chinese header of ``column`` (the first Chinese spelling the importer accepts)."""
    spellings = ALIASES[kind].get(column, ())
    return next((s for s in spellings if _CJK.search(s)), column)


def template_columns(kind: str) -> list[str]:
    """The columns of ``kind``: required first, then the optional ones, in the contract's order."""
    required = list(REQUIRED[kind])
    return required + [c for c in ALIASES[kind] if c not in required]


def coded_choices(kind: str, config: Config | None = None) -> dict[str, list[str]]:
    """column -> the values its drop-down offers (Chinese names the importer accepts)."""
    config = config or load_config()
    choices = {
        "households": {"categories": [c.zh for c in config.categories]},
        "visits": {"kind": list(VISIT_KIND_CHOICES)},
        "staff": {"role": list(config.roles.values())},
        "reports": {
            "source": list(config.sources.values()),
            "satisfaction": list(config.satisfaction.values()),
            "followup_method": list(case_settings().return_visit_methods.values()),
        },
        "firms": {"sector": list(SECTOR.names.values())},
        "workers": {
            "party": list(PARTY.names.values()),
            "party_relation": list(RELATION.names.values()),
            "insured": list(YES_NO_CHOICES),
            "observer": list(YES_NO_CHOICES),
        },
    }
    return choices.get(kind, {})


def example_row(kind: str, day: dt.date | None = None) -> dict[str, object]:
    """The example row of ``kind`` (a household in grid G001, its visit, its grid worker...)."""
    day = day or today()
    stamp = f"{day.isoformat()} 09:30"
    later = f"{day.isoformat()} 10:15"
    config = load_config()
    rows: dict[str, dict[str, object]] = {
        "grids": {
            "grid_id": "G001",
            "name": "第一网格",
            "community": "示例社区",
            "street": "示例街道",
            "party_branch": "第一网格党支部",
        },
        "households": {
            "household_id": "H0001",
            "lon": EXAMPLE_LON,
            "lat": EXAMPLE_LAT,
            "categories": config.categories[0].zh,
            "address": "示例路1号1单元101",
            "building": "1号楼",
            "head_name": "张三",
            "phone": "13800000000",
            "id_number": None,
            "members": 1,
            "last_verified": day.isoformat(),
            "grid_id": "G001",
        },
        "visits": {
            "visit_id": "V0001",
            "household_id": "H0001",
            "visited_at": stamp,
            "staff_id": "S0001",
            "kind": VISIT_KIND_CHOICES[0],
            "note": "身体状况良好",
        },
        "staff": {
            "staff_id": "S0001",
            "name": "王芳",
            "role": next(iter(config.roles.values())),
            "grid_id": "G001",
            "department": "示例社区居委会",
            "phone": "13900000000",
        },
        "reports": {
            "report_id": "R0001",
            "source": next(iter(config.sources.values())),
            "category": "环境卫生",
            "lon": EXAMPLE_LON,
            "lat": EXAMPLE_LAT,
            "reported_at": stamp,
            "description": "楼道堆放杂物",
            "reporter_id": None,
            "responded_at": later,
            "resolved_at": None,
            "followed_up_at": None,
            "satisfaction": None,
            "photo": None,
            "owner": None,  # empty: dispatched on arrival (docs/cases.md)
            "followup_method": None,
        },
        "boundary": {"boundary_id": "150102", "name": "示例街道", "adcode": "150102"},
        "buildings": {
            "building_id": "B001",
            "grid_id": "G001",
            "name": "1号楼",
            "lon": EXAMPLE_LON,
            "lat": EXAMPLE_LAT,
            "party_group": "1号楼党小组",
            "units": 3,
            "floors": 6,
        },
        "firms": {
            "firm_id": "F001",
            "name": "示例快递公司",
            "sector": SECTOR.names["express"],
            "party_org": "示例快递公司党支部",
            "union": "示例快递公司工会",
        },
        "outlets": {
            "outlet_id": "O001",
            "firm_id": "F001",
            "lon": EXAMPLE_LON,
            "lat": EXAMPLE_LAT,
            "name": "示例快递示例路网点",
            "address": "示例路2号",
            "party_org": None,
        },
        "workers": {
            "worker_id": "W001",
            "firm_id": "F001",
            "name": "李四",
            "outlet_id": "O001",
            "phone": "13700000000",
            "id_number": None,
            "party": PARTY.names["member"],
            "party_relation": RELATION.names["local"],
            "returned_on": day.isoformat(),
            "insured": YES_NO_CHOICES[0],
            "insured_on": day.isoformat(),
            "observer": YES_NO_CHOICES[0],
            "registered_on": day.isoformat(),
            "community": "示例社区",
        },
        "stations": {
            "station_id": "Z001",
            "name": "示例红蜂驿站",
            "lon": EXAMPLE_LON,
            "lat": EXAMPLE_LAT,
            "services": "休息;饮水;充电",
            "host": "示例社区党群服务中心",
            "opened_on": day.isoformat(),
        },
    }
    return rows[kind]


def template_file(kind: str, lang: str = "zh-CN", day: dt.date | None = None) -> Template:
    """The template of ``kind``: XLSX for a table kind, GeoJSON for a polygon kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    name = t(f"ds_tpl_name_{kind}", lang)
    if kind in POLYGON_KINDS:
        return Template(f"{name}.geojson", _geojson(kind, day), "application/geo+json")
    return Template(
        f"{name}.xlsx",
        _xlsx(kind, lang, day),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def write_template(kind: str, out: str | Path, lang: str = "zh-CN") -> Path:
    """Write the template of ``kind`` to ``out`` (``gridmap template KIND --out FILE``); returns
    the path written: ``out`` with the template's own suffix when it asked for another one
    (a polygon kind is GeoJSON, never XLSX)."""
    template = template_file(kind, lang)
    out = Path(out)
    suffix = Path(template.file_name).suffix
    if out.suffix.lower() != suffix:
        out = out.with_suffix(suffix)
    out.write_bytes(template.data)
    return out


def _header(kind: str, column: str) -> str:
    mark = REQUIRED_MARK if column in REQUIRED[kind] else ""
    return mark + header_of(kind, column)


def _geojson(kind: str, day: dt.date | None) -> bytes:
    example = example_row(kind, day)
    feature = {
        "type": "Feature",
        "properties": {header_of(kind, c): example.get(c) for c in template_columns(kind)},
        "geometry": {"type": "Polygon", "coordinates": [EXAMPLE_SQUARE]},
    }
    data = {"type": "FeatureCollection", "features": [feature]}
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _xlsx(kind: str, lang: str, day: dt.date | None) -> bytes:
    columns = template_columns(kind)
    example = example_row(kind, day)
    frame = pd.DataFrame(
        [[example.get(c) for c in columns]], columns=[_header(kind, c) for c in columns]
    )
    choices = coded_choices(kind)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        sheet = write_sheet(writer, frame, t("ds_tpl_sheet_data", lang))
        sheet.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(
                12, 2 * len(header_of(kind, column)) + 4, len(str(example.get(column) or "")) + 4
            )
        _explain(writer, kind, columns, choices, lang)
        if choices:
            lists = pd.DataFrame(
                {header_of(kind, c): pd.Series(v, dtype=object) for c, v in choices.items()}
            )
            list_sheet = write_sheet(writer, lists, LISTS_SHEET)
            list_sheet.sheet_state = "hidden"
            for j, (column, values) in enumerate(choices.items(), start=1):
                letter = get_column_letter(j)
                target = get_column_letter(columns.index(column) + 1)
                validation = DataValidation(
                    type="list",
                    formula1=f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}",
                    allow_blank=True,
                    # several categories go in one cell (红;粉): a warning, not a refusal
                    errorStyle="warning" if column == "categories" else "stop",
                    showErrorMessage=True,
                    error=t("ds_tpl_choose", lang),
                )
                validation.add(f"{target}2:{target}{VALIDATED_ROWS + 1}")
                sheet.add_data_validation(validation)
    return buffer.getvalue()


def _explain(
    writer: pd.ExcelWriter,
    kind: str,
    columns: list[str],
    choices: dict[str, list[str]],
    lang: str,
) -> None:
    """A sheet saying, per column: its header, field, whether it is required, what it takes."""
    rows = [
        {
            t("ds_tpl_col_header", lang): header_of(kind, c),
            t("ds_tpl_col_field", lang): c,
            t("ds_tpl_col_required", lang): t("ds_yes" if c in REQUIRED[kind] else "ds_no", lang),
            t("ds_tpl_col_values", lang): "、".join(choices.get(c, [])),
        }
        for c in columns
    ]
    sheet = write_sheet(writer, pd.DataFrame(rows), t("ds_tpl_sheet_help", lang))
    for letter, width in zip("ABCD", (16, 16, 10, 80), strict=True):
        sheet.column_dimensions[letter].width = width
