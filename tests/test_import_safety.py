"""Hostile and treacherous files: limits checked before anything is expanded, no silent blanks,
no doubled headers, chunked reading that still sees the whole file. Every refusal names the
file, row and column in Chinese and leaves the store byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from shapely.geometry import box

from geo.config import load_config
from geo.inputs import readers, tables, vector
from geo.inputs.importers.core import import_file
from geo.inputs.importers.problems import MAX_PROBLEMS
from geo.store import open_store

G1 = box(111.70, 40.84, 111.71, 40.85)


def digest(path: Path) -> str:
    """The store's bytes (file and WAL)."""
    h = hashlib.sha256(path.read_bytes())
    wal = Path(f"{path}-wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store with grid G1 and households H1 (address 东风路1号), H2."""
    folder = tmp_path_factory.mktemp("safety")
    path = folder / "store.gpkg"
    store = open_store(str(path))
    grids = folder / "g.json"
    grids.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"grid_id": "G1"},
                        "geometry": G1.__geo_interface__,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    assert import_file(store, "grids", grids).ok
    hh = folder / "hh.csv"
    hh.write_text(
        "household_id,lon,lat,address\nH1,111.705,40.845,东风路1号\nH2,111.706,40.846,东风路2号\n",
        encoding="utf-8",
    )
    assert import_file(store, "households", hh).ok
    return path


@pytest.fixture
def store_path(template, tmp_path) -> Path:
    path = tmp_path / "store.gpkg"
    shutil.copyfile(template, path)
    return path


@pytest.fixture
def limits(monkeypatch, tmp_path):
    """Set ``[limits]`` through GRIDMAP_CONFIG, as an operator would."""

    def apply(**values: float) -> None:
        config = tmp_path / "limits.toml"
        config.write_text(
            "[limits]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()), encoding="utf-8"
        )
        monkeypatch.setenv("GRIDMAP_CONFIG", str(config))
        load_config.cache_clear()

    yield apply
    load_config.cache_clear()


def refused(store_path: Path, kind: str, path: Path, **kwargs) -> list[str]:
    """The problem lines of an import that must be refused, the store checked unchanged."""
    before = digest(store_path)
    report = import_file(open_store(str(store_path)), kind, path, **kwargs)
    assert not report.ok and report.written == 0
    assert digest(store_path) == before
    return report.problem_lines()


# --- limits (hostile files) -------------------------------------------------------------


def test_a_csv_header_of_a_million_columns_is_refused_before_it_is_read(store_path, tmp_path):
    path = tmp_path / "wide.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(f"c{i}" for i in range(1_000_000)) + "\n")
        out.write(",".join("1" for _ in range(1_000_000)) + "\n")
    started = time.perf_counter()
    lines = refused(store_path, "households", path)
    assert time.perf_counter() - started < 5  # refused from the first block, not parsed
    assert lines == [f"{path}:1: -: 表头有 >500 列，超过上限 500 列：请只保留需要的列"]


def test_the_column_limit_is_configuration(store_path, tmp_path, limits):
    path = tmp_path / "hh.csv"
    path.write_text("household_id,lon,lat,address\nH9,111.705,40.845,x\n", encoding="utf-8")
    limits(max_columns=3)
    assert "超过上限 3 列" in refused(store_path, "households", path)[0]
    limits(max_columns=4)
    assert import_file(open_store(str(store_path)), "households", path).ok


def test_an_xlsx_with_too_many_columns_is_refused(store_path, tmp_path, limits):
    limits(max_columns=10)
    book = openpyxl.Workbook()
    book.active.append([f"c{i}" for i in range(40)])
    book.active.append(list(range(40)))
    path = tmp_path / "wide.xlsx"
    book.save(path)
    assert "表头有 40 列，超过上限 10 列" in refused(store_path, "households", path)[0]


def _shapefile_zip(tmp_path: Path, *, padding: int = 0) -> Path:
    """A zipped shapefile of one grid; ``padding`` bytes of zeros added as an extra entry."""
    shp = tmp_path / "grids.shp"
    frame = gpd.GeoDataFrame(
        {"grid_id": ["G7"]}, geometry=[box(111.8, 40.9, 111.81, 40.91)], crs=4326
    )
    pyogrio.write_dataframe(frame, shp, encoding="UTF-8")
    path = tmp_path / "grids.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in tmp_path.glob("grids.*"):
            if part.suffix != ".zip":
                archive.write(part, part.name)
        if padding:
            with archive.open("grids.sbn", "w") as extra:  # a sibling the reader would extract
                block = bytes(1 << 20)
                for _ in range(padding // len(block)):
                    extra.write(block)
    return path


def test_a_zip_entry_over_the_limit_is_refused_before_extracting(
    store_path, tmp_path, limits, monkeypatch
):
    limits(max_zip_entry_mb=1, max_zip_total_mb=100)
    path = _shapefile_zip(tmp_path, padding=8 << 20)  # 8 MiB of zeros: a few KB zipped
    assert path.stat().st_size < 100_000
    extracted: list[str] = []
    monkeypatch.setattr(
        vector, "_extract_bounded", lambda a, info, t: extracted.append(info.filename)
    )
    lines = refused(store_path, "grids", path)
    assert lines == [
        f"{path}:1: -: 压缩包中的 grids.sbn 解压后有 8 MB，超过单个文件上限 1 MB：未解压，未导入"
    ]
    assert extracted == []  # nothing was written to disk


def test_a_zip_over_the_total_limit_is_refused(store_path, tmp_path, limits):
    limits(max_zip_entry_mb=100, max_zip_total_mb=4)
    path = _shapefile_zip(tmp_path, padding=8 << 20)
    assert "压缩包解压后共 8 MB，超过上限 4 MB" in refused(store_path, "grids", path)[0]


def test_a_zip_within_the_limits_imports(store_path, tmp_path):
    path = _shapefile_zip(tmp_path)
    report = import_file(open_store(str(store_path)), "grids", path)
    assert report.ok, report.problem_lines()


def test_an_entry_that_lies_about_its_size_is_refused_not_unpacked(tmp_path):
    path = tmp_path / "lie.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.dbf", bytes(3 << 20))
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        info.file_size = 100  # what a forged directory claims: zipfile stops there
        with pytest.raises(readers.ReadError, match="不是可读取的 .zip 文件"):
            vector._extract_bounded(archive, info, tmp_path / "out.dbf")
    assert (tmp_path / "out.dbf").stat().st_size <= 100


# --- no doubled headers -------------------------------------------------------------------


@pytest.mark.parametrize("header", ["address,address", "household_id,household_id"])
def test_a_csv_with_a_doubled_header_is_refused(store_path, tmp_path, header):
    path = tmp_path / "dup.csv"
    first, second = header.split(",")
    cols = (
        ["household_id", "lon", "lat", first]
        if first != "household_id"
        else ["household_id", "lon", "lat"]
    )
    path.write_text(
        ",".join([*cols, second])
        + "\n"
        + ",".join(["H1", "111.705", "40.845", *(["x"] if first != "household_id" else []), "y"])
        + "\n",
        encoding="utf-8",
    )
    lines = refused(store_path, "households", path)
    position = cols.index(second) + 1
    assert lines == [
        f"{path}:1: {second}: 列名重复：第 {position} 列和第 {len(cols) + 1} 列都叫“{second}”，无法判断用哪一列"
    ]


def test_an_xlsx_with_a_doubled_header_is_refused(store_path, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["household_id", "lon", "lat", "地址", "地址"])
    book.active.append(["H1", 111.705, 40.845, "a", "b"])
    path = tmp_path / "dup.xlsx"
    book.save(path)
    assert "列名重复：第 4 列和第 5 列都叫“地址”" in refused(store_path, "households", path)[0]


def test_a_shapefile_with_a_doubled_field_is_refused(store_path, tmp_path):
    frame = gpd.GeoDataFrame(
        {"grid_id": ["G7"], "name": ["甲"]}, geometry=[box(111.8, 40.9, 111.81, 40.91)], crs=4326
    )
    shp = tmp_path / "g.shp"
    pyogrio.write_dataframe(frame, shp, encoding="UTF-8")
    dbf = tmp_path / "g.dbf"
    data = bytearray(dbf.read_bytes())
    data[64 : 64 + 11] = b"grid_id".ljust(11, b"\x00")  # the second field renamed like the first
    dbf.write_bytes(bytes(data))
    lines = refused(store_path, "grids", shp)
    assert lines == [f"{shp}:1: grid_id: 列名重复：第 1 列和第 2 列都叫“grid_id”，无法判断用哪一列"]


# --- no silent blanks (XLSX) ------------------------------------------------------------------


def test_a_formula_without_a_saved_value_is_refused_naming_row_and_column(store_path, tmp_path):
    book = openpyxl.Workbook()  # openpyxl saves formulas without their results, as some tools do
    sheet = book.active
    sheet.append(["户编号", "经度", "纬度", "地址"])
    sheet.append(["H1", 111.705, 40.845, '=CONCAT("东风路","1号")'])
    sheet.append(["H2", 111.706, 40.846, "东风路2号"])
    path = tmp_path / "formula.xlsx"
    book.save(path)
    lines = refused(store_path, "households", path)
    assert lines == [
        f"{path}:2: 地址 (address): 单元格 D2 是公式，但文件中没有保存计算结果：请在 Excel 中打开并保存后再导入（或把公式换成数值）"
    ]
    stored = open_store(str(store_path)).read("households", ["household_id", "address"])
    assert stored.set_index("household_id")["address"]["H1"] == "东风路1号"  # not overwritten


def test_a_formula_with_a_saved_value_imports_its_value(store_path, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["household_id", "lon", "lat", "address"])
    sheet.append(["H1", 111.705, 40.845, "=X"])
    path = tmp_path / "cached.xlsx"
    book.save(path)
    # write the cached value into the sheet XML, as Excel does when it saves
    with zipfile.ZipFile(path) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    sheet_xml = sheet_xml.replace("<f>X</f><v></v>", "<f>X</f><v>东风路9号</v>").replace(
        "<f>X</f><v/>", "<f>X</f><v>东风路9号</v>"
    )
    if "东风路9号" not in sheet_xml:
        sheet_xml = sheet_xml.replace("<f>X</f>", "<f>X</f><v>东风路9号</v>")
    sheet_xml = sheet_xml.replace('t="n"><f>X', 't="str"><f>X').replace(
        '<c r="D2"><f>', '<c r="D2" t="str"><f>'
    )
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    report = import_file(open_store(str(store_path)), "households", path)
    assert report.ok, report.problem_lines()
    stored = open_store(str(store_path)).read("households", ["household_id", "address"])
    assert stored.set_index("household_id")["address"]["H1"] == "东风路9号"


def test_a_merged_cell_in_a_data_column_is_refused_naming_each_covered_cell(store_path, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["住户表"])  # a merged title row above the header is fine
    sheet.merge_cells("A1:D1")
    sheet.append(["户编号", "经度", "纬度", "地址"])
    sheet.append(["H1", 111.705, 40.845, "东风路"])
    sheet.append(["H2", 111.706, 40.846, None])
    sheet.merge_cells("D3:D4")  # H2's address is the lower half of a merged cell
    path = tmp_path / "merged.xlsx"
    book.save(path)
    lines = refused(store_path, "households", path)
    assert lines == [
        f"{path}:4: 地址 (address): 单元格 D4 属于合并单元格（值只在 D3 中），导入后会变成空值：请取消合并，并在每一行填写"
    ]
    stored = open_store(str(store_path)).read("households", ["household_id", "address"])
    assert stored.set_index("household_id")["address"]["H2"] == "东风路2号"


def test_merged_cells_in_a_column_not_imported_do_not_matter(store_path, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户编号", "经度", "纬度", "备注"])
    sheet.append(["H1", 111.705, 40.845, "同上"])
    sheet.append(["H2", 111.706, 40.846, None])
    sheet.merge_cells("D2:D3")
    path = tmp_path / "merged-unused.xlsx"
    book.save(path)
    report = import_file(open_store(str(store_path)), "households", path)
    assert report.ok, report.problem_lines()


# --- chunks ------------------------------------------------------------------------------------


def test_chunked_reading_sees_the_whole_file(store_path, tmp_path, monkeypatch):
    """Problems, duplicates and warnings across chunk boundaries are found as in one piece."""
    monkeypatch.setattr(tables, "CHUNK_ROWS", 2)
    monkeypatch.setattr(tables.open_table, "__defaults__", (None, 2))
    rows = [f"H{i},111.705,40.845" for i in range(10, 17)] + [
        "H10,111.705,40.845",
        "H20,112.5,41.5",
        "H21,112.5,41.5",
    ]
    path = tmp_path / "hh.csv"
    path.write_text("household_id,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = import_file(open_store(str(store_path)), "households", path)
    assert report.problem_lines() == [f"{path}:9: household_id: 编号重复：H10（第 2 行已有）"]
    rows[7] = "H17,111.705,40.845"
    path.write_text("household_id,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    report = import_file(open_store(str(store_path)), "households", path)
    assert report.ok and report.written == 10
    # one warning for the file, counting the rows of every chunk
    assert report.warnings == [f"{path}: 2 户不在任何网格内（未入格）：H20, H21"]
    stored = open_store(str(store_path)).read("households", ["household_id", "address"])
    assert len(stored) == 12
    assert stored.set_index("household_id")["address"]["H1"] == "东风路1号"  # column absent: kept


def test_problems_past_the_cap_are_counted(store_path, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "household_id,lon,lat\n" + "".join(f"H{i},x,40.8\n" for i in range(MAX_PROBLEMS + 7)),
        encoding="utf-8",
    )
    report = import_file(open_store(str(store_path)), "households", path)
    assert report.problem_count == MAX_PROBLEMS + 7
    assert report.problem_lines()[-1] == "……另有 7 个问题未列出"
