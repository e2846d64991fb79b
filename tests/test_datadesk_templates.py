"""Templates: Chinese headers, one example row, drop-down lists; a filled template imports cleanly."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from geo.config import load_config
from geo.inputs.importers.columns import KINDS, REQUIRED
from geo.inputs.importers.core import import_file
from geo.inputs.templates import LISTS_SHEET, header_of, template_columns, template_file
from geo.store import open_store

ORDER = [
    *("grids", "households", "visits", "staff", "reports", "boundary", "buildings"),
    *(
        "firms",
        "outlets",
        "workers",
        "stations",
    ),  # section 7: firms before their outlets and workers
]


def _save(tmp_path, kind, lang="zh-CN"):
    template = template_file(kind, lang)
    path = tmp_path / template.file_name
    path.write_bytes(template.data)
    return path


def test_every_kind_has_a_template():
    assert sorted(ORDER) == sorted(KINDS)


def test_the_round_trip_every_template_imports_cleanly(tmp_path):
    store = open_store(str(tmp_path / "store.gpkg"))
    for kind in ORDER:  # in the order a new street office fills them
        report = import_file(store, kind, _save(tmp_path, kind), lang="en")
        assert report.ok, (kind, report.problem_lines())
        assert report.written == 1, kind
        # every column is one the importer reads (no "columns not used"), the example is
        # coherent (no point outside every grid, no odd timeline)
        assert report.warnings == [], (kind, report.warnings)
    households = store.read("households")
    assert households["grid_id"].tolist() == ["G001"]  # the example point lies in the example grid
    assert households["categories"].tolist() == ["red"]
    assert store.read("staff")["role"].tolist() == ["grid_worker"]
    assert store.read("reports")["source"].tolist() == ["observer"]
    assert store.read("firms")["sector"].tolist() == ["express"]
    workers = store.read("workers")
    assert workers[["party", "party_relation"]].values.tolist() == [["member", "local"]]
    assert store.read("buildings")["grid_id"].tolist() == ["G001"]


def test_a_filled_template_imports_its_rows(tmp_path):
    store = open_store(str(tmp_path / "store.gpkg"))
    assert import_file(store, "grids", _save(tmp_path, "grids")).ok
    path = _save(tmp_path, "households")
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    sheet.append(["H0002", 111.706, 40.846, "低保、特困等特殊群体;孕妇", None, None, None, None])
    sheet.append(["H0003", "111.7071", "40.8471", "空巢、留守老人 (65岁以上)"])
    book.save(path)
    report = import_file(store, "households", path, lang="en")
    assert report.ok, report.problem_lines()
    stored = store.read("households").set_index("household_id")["categories"].to_dict()
    assert stored == {"H0001": "red", "H0002": "pink;blue", "H0003": "yellow"}


@pytest.mark.parametrize(
    "kind",
    [
        "households",
        "visits",
        "staff",
        "reports",
        "buildings",
        "firms",
        "outlets",
        "workers",
        "stations",
    ],
)
def test_xlsx_headers_are_chinese_and_required_ones_marked(kind):
    book = openpyxl.load_workbook(io.BytesIO(template_file(kind).data))
    sheet = book.worksheets[0]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    expected = [
        ("*" if c in REQUIRED[kind] else "") + header_of(kind, c) for c in template_columns(kind)
    ]
    assert header == expected
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in header)
    assert sheet.max_row == 2  # the header and one example row
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def _validations(kind):
    book = openpyxl.load_workbook(io.BytesIO(template_file(kind).data))
    sheet = book.worksheets[0]
    lists = book[LISTS_SHEET]
    assert lists.sheet_state == "hidden"
    header = [c.value.lstrip("*") for c in next(sheet.iter_rows(max_row=1))]
    found = {}
    for validation in sheet.data_validations.dataValidation:
        column = header[
            openpyxl.utils.column_index_from_string(
                str(validation.sqref).split(":")[0].rstrip("0123456789")
            )
            - 1
        ]
        ref = validation.formula1.split("!")[1].replace("$", "")
        values = [c.value for row in lists[ref] for c in row]
        found[column] = (validation.type, values)
    return found


def test_drop_downs_on_the_coded_columns():
    config = load_config()
    assert _validations("households") == {"类别": ("list", [c.zh for c in config.categories])}
    assert _validations("staff") == {"角色": ("list", list(config.roles.values()))}
    assert _validations("visits") == {"方式": ("list", ["入户", "电话", "视频"])}
    assert _validations("reports") == {
        "来源": ("list", list(config.sources.values())),
        "满意度": ("list", list(config.satisfaction.values())),
        "回访方式": ("list", ["实地", "微信", "电话"]),  # issue 19: [cases.return_visit_methods]
    }


@pytest.mark.parametrize("kind", ["grids", "boundary"])
def test_polygon_kinds_get_a_geojson_template(kind):
    template = template_file(kind)
    assert template.file_name.endswith(".geojson")
    data = json.loads(template.data)
    assert len(data["features"]) == 1
    assert set(data["features"][0]["properties"]) == {
        header_of(kind, c) for c in template_columns(kind)
    }


def test_template_names_in_english(tmp_path):
    assert template_file("households", "en").file_name == "households-template.xlsx"
    assert template_file("households").file_name == "住户导入模板.xlsx"


def test_write_template_keeps_the_templates_own_format(tmp_path):
    from geo.inputs.templates import write_template

    assert write_template("households", tmp_path / "h.xlsx") == tmp_path / "h.xlsx"
    assert write_template("grids", tmp_path / "g.xlsx") == tmp_path / "g.geojson"
    assert json.loads((tmp_path / "g.geojson").read_text(encoding="utf-8"))["features"]
    assert openpyxl.load_workbook(tmp_path / "h.xlsx").worksheets[0].max_row == 2


def test_gridmap_template_command(tmp_path, capsys):
    from geo.cli import main

    assert main(["template", "households", "--out", str(tmp_path / "h.xlsx")]) == 0
    assert "模板已写入" in capsys.readouterr().out
    store = open_store(str(tmp_path / "store.gpkg"))
    assert main(["template", "grids", "--out", str(tmp_path / "g.xlsx"), "--lang", "en"]) == 0
    assert "GeoJSON" in capsys.readouterr().out
    assert import_file(store, "grids", tmp_path / "g.geojson").ok
    assert import_file(store, "households", tmp_path / "h.xlsx").ok
