"""Every bad file of the contract (section 4) shows its problems in the preview and writes nothing;
the problems XLSX holds the file's rows with each problem next to its row, and no formula."""

from __future__ import annotations

import io
import shutil

import openpyxl
import pytest
from datadesk import (  # noqa: F401
    G1,
    build_store,
    digest,
    feature,
    write_csv,
    write_geojson,
)
from shapely.geometry import Polygon

from geo.inputs.preview import preview_file, problems_frame
from geo.inputs.problem_sheet import problems_xlsx
from geo.store import open_store


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def location(template, tmp_path) -> str:
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    return str(target)


def _csv(text):
    return lambda folder: write_csv(folder / "bad.csv", text)


def _bytes(name, data):
    def make(folder):
        path = folder / name
        path.write_bytes(data)
        return path

    return make


def _grids(geom):
    return lambda folder: write_geojson(
        folder / "bad.geojson", [feature({"网格编号": "G8"}, G1), feature({"网格编号": "G9"}, geom)]
    )


# (kind, file maker, spreadsheet row, column as the file spells it)
BAD_FILES = {
    "missing required column": ("households", _csv("户编号,经度\nH7,111.705\n"), 1, "lat"),
    "duplicate id": (
        "households",
        _csv("户编号,经度,纬度\nH7,111.705,40.845\nH7,111.706,40.845\n"),
        3,
        "户编号",
    ),
    "unreadable coordinate": ("households", _csv("户编号,经度,纬度\nH7,东经,40.845\n"), 2, "经度"),
    "out-of-range coordinate": ("households", _csv("户编号,经度,纬度\nH7,111.7,95\n"), 2, "纬度"),
    "unknown category": (
        "households",
        _csv("户编号,经度,纬度,类别\nH7,111.7,40.8,彩\n"),
        2,
        "类别",
    ),
    "unknown role": ("staff", _csv("人员编号,姓名,角色,网格编号\nS1,王芳,厨师,G1\n"), 2, "角色"),
    "unknown source": (
        "reports",
        _csv("编号,来源,事项类别,经度,纬度,上报时间\nR1,微博,环境,111.705,40.845,2026-11-20\n"),
        2,
        "来源",
    ),
    "unparseable date": ("visits", _csv("户编号,走访时间\nH1,上周三\n"), 2, "走访时间"),
    "visit of an unknown household": (
        "visits",
        _csv("户编号,走访时间\nH404,2026-11-20\n"),
        2,
        "户编号",
    ),
    "staff in an unknown grid": (
        "staff",
        _csv("人员编号,姓名,角色,网格编号\nS1,王芳,网格员,G404\n"),
        2,
        "网格编号",
    ),
    "polygon that cannot be repaired": (
        "grids",
        _grids(Polygon([(111.7, 40.8), (111.71, 40.8), (111.72, 40.8), (111.7, 40.8)])),
        2,
        "geometry",
    ),
    "empty file": ("households", _bytes("empty.csv", b""), 1, "-"),
    "unreadable file": ("households", _bytes("broken.xlsx", b"PK\x03\x04 not a workbook"), 1, "-"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_every_bad_file_shows_its_problem_and_writes_nothing(location, tmp_path, case):
    kind, make, row, column = BAD_FILES[case]
    path = make(tmp_path)
    before = digest(location)
    preview = preview_file(open_store(location), kind, path, lang="en")
    assert not preview.ok
    frame = problems_frame(preview.problems(), preview.report.headers)
    assert (row, column) in list(zip(frame["row"], frame["column"], strict=True)), frame
    assert all(frame["reason"].str.len() > 0)
    sheet = problems_xlsx(path, preview.problems(), preview.report.headers, lang="en")
    assert openpyxl.load_workbook(io.BytesIO(sheet)).sheetnames[-1] == "Problems"
    assert digest(location) == before


def _all_cells(data: bytes):
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


def test_problems_xlsx_writes_the_problem_next_to_each_bad_row(location, tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        "户编号,经度,纬度,类别,身份证号\n"
        "H7,111.705,40.845,红,150102199001011234\n"
        "H8,abc,40.845,彩,150102199001011235\n"
        "H9,111.706,40.845,黄,\n",
    )
    preview = preview_file(open_store(location), "households", path)
    data = problems_xlsx(path, preview.problems(), preview.report.headers)
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = [[c.value for c in r] for r in book["文件内容"].iter_rows()]
    assert rows[0] == ["问题", "行号", "户编号", "经度", "纬度", "类别", "身份证号"]
    assert rows[1][0] is None and rows[3][0] is None  # good rows: no problem written
    assert "经度" in rows[2][0] and "类别" in rows[2][0]  # both problems of line 3
    assert rows[2][1:] == ["3", "H8", "abc", "40.845", "彩", "150102199001011235"]
    listed = [[c.value for c in r] for r in book["问题清单"].iter_rows()]
    assert listed[0] == ["行号", "列", "原因"]
    assert [r[:2] for r in listed[1:]] == [["3", "经度"], ["3", "类别"]]


def test_problems_xlsx_has_no_formula_cell(location, tmp_path):
    path = write_csv(
        tmp_path / "evil.csv",
        "户编号,经度,纬度,地址,户主姓名\n"
        '"=HYPERLINK(""http://evil.example"",""x"")",111.705,40.845,=1+1,+cmd\n'
        "H2,abc,40.845,@SUM(A1),-2+3\n",
    )
    preview = preview_file(open_store(location), "households", path)
    assert not preview.ok
    data = problems_xlsx(path, preview.problems(), preview.report.headers)
    cells = _all_cells(data)
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells}
    assert "=1+1" in texts and '=HYPERLINK("http://evil.example","x")' in texts
    assert all(
        c.quotePrefix
        for c in cells
        if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))
    )


def test_a_fixed_problems_sheet_imports(location, tmp_path):
    """Download, fix the row the sheet points at, upload the sheet itself: it passes."""
    path = write_csv(tmp_path / "bad.csv", "户编号,经度,纬度\nH7,111.705,40.845\nH8,abc,40.845\n")
    preview = preview_file(open_store(location), "households", path)
    data = problems_xlsx(path, preview.problems(), preview.report.headers)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book["文件内容"]
    sheet.cell(row=3, column=4).value = "111.706"  # 经度 of H8
    del book["问题清单"]
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    again = preview_file(open_store(location), "households", fixed)
    assert again.ok, again.problems()
    assert again.summary.new == 2
