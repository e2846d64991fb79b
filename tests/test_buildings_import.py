"""`gridmap import buildings FILE`: the buildings kind through the one import path (formats,
every refusal with the store left byte for byte as it was, warnings, both stores)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import LineString, Point, box
from test_importers import G1, G2, _feature, digest, write_csv, write_json

from geo import cli
from geo.inputs.importers.core import import_file
from geo.store import open_store


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    monkeypatch.setenv("GRIDMAP_LANG", "en")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store with grids G1, G2 and building B1 (1号楼 of G1)."""
    folder = tmp_path_factory.mktemp("bt")
    path = folder / "store.gpkg"
    store = open_store(str(path))
    grids = write_json(
        folder / "g.geojson", [_feature({"grid_id": "G1"}, G1), _feature({"grid_id": "G2"}, G2)]
    )
    assert import_file(store, "grids", grids).ok
    first = write_csv(
        folder / "b1.csv", "building_id,grid_id,name,lon,lat\nB1,G1,1号楼,111.702,40.842\n"
    )
    assert import_file(store, "buildings", first).ok
    return path


@pytest.fixture
def store_path(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.gpkg"
    shutil.copyfile(template, path)
    return path


def _rows(store) -> dict[str, dict]:
    frame = store.read("buildings")
    frame = frame.astype(object).where(frame.notna(), None)
    return {r["building_id"]: r for r in frame.to_dict("records")}


def test_a_csv_with_chinese_headers_through_the_command_line(store_path, tmp_path, capsys):
    path = write_csv(
        tmp_path / "楼栋.csv",
        "楼栋编号,网格编号,楼栋名称,经度,纬度,党小组,单元数,层数\n"
        "B2,G1,2栋,111.703,40.843,二号楼党小组,3个单元,6层\n"
        "B3,G2,1号楼,111.715,40.845,,,十八\n",
        "gbk",
    )
    code = cli.main(["import", "buildings", str(path), "--db", str(store_path)])
    assert code == 0, capsys.readouterr().err
    rows = _rows(open_store(str(store_path)))
    assert sorted(rows) == ["B1", "B2", "B3"]  # upserted next to the stored B1
    assert rows["B2"]["party_group"] == "二号楼党小组"
    assert (rows["B2"]["units"], rows["B2"]["floors"]) == (3, 6)
    # the same name in another grid is another building; empty party group = none
    assert (rows["B3"]["name"], rows["B3"]["party_group"], rows["B3"]["floors"]) == (
        "1号楼",
        None,
        18,
    )
    assert rows["B3"]["geometry"].equals_exact(Point(111.715, 40.845), 1e-9)
    audit = open_store(str(store_path)).read("audit_log")
    assert audit["detail"].iloc[-1] == "buildings 楼栋.csv"


def test_geojson_footprints_and_points(store_path, tmp_path):
    footprint = box(111.7030, 40.8430, 111.7033, 40.8432)
    path = write_json(
        tmp_path / "b.geojson",
        [
            _feature({"楼栋编号": "B2", "所属网格": "G1", "楼栋名称": "2号楼"}, footprint),
            _feature(
                {"楼栋编号": "B3", "所属网格": "G1", "楼栋名称": "3号楼"}, Point(111.704, 40.844)
            ),
        ],
    )
    report = import_file(open_store(str(store_path)), "buildings", path)
    assert report.ok, report.problem_lines()
    rows = _rows(open_store(str(store_path)))
    assert rows["B2"]["geometry"].equals(footprint)
    assert rows["B3"]["geometry"].geom_type == "Point"


def test_xlsx_and_geopackage(store_path, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["building_id", "grid_id", "name", "lon", "lat", "floors"])
    sheet.append(["B4", "G2", "4号楼", 111.716, 40.846, 7])
    book.save(tmp_path / "b.xlsx")
    store = open_store(str(store_path))
    assert import_file(store, "buildings", tmp_path / "b.xlsx").ok
    frame = gpd.GeoDataFrame(
        {"building_id": ["B5"], "grid_id": ["G2"], "name": ["5号楼"]},
        geometry=[box(111.717, 40.847, 111.7173, 40.8472)],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "b.gpkg", driver="GPKG")
    assert import_file(store, "buildings", tmp_path / "b.gpkg").ok
    rows = _rows(store)
    assert rows["B4"]["floors"] == 7
    assert rows["B5"]["geometry"].geom_type in ("Polygon", "MultiPolygon")


HEADER = "building_id,grid_id,name,lon,lat,party_group,units,floors\n"
REFUSALS = [
    # (rows after the header, [(line, column, fragment)])
    (",G1,2号楼,111.703,40.843,,,\n", [(2, "building_id", "value missing")]),
    ("B2,,2号楼,111.703,40.843,,,\n", [(2, "grid_id", "value missing")]),
    ("B2,G1,,111.703,40.843,,,\n", [(2, "name", "value missing")]),
    ("B2,G9,2号楼,111.703,40.843,,,\n", [(2, "grid_id", "G9")]),
    (
        "B2,G1,2号楼,111.703,40.843,,,\nB2,G1,3号楼,111.704,40.843,,,\n",
        [(3, "building_id", "B2")],
    ),
    (
        "B2,G1,2号楼,111.703,40.843,,,\nB3,G1,2栋,111.704,40.843,,,\n",
        [(3, "name", "twice in grid G1")],
    ),
    ("B2,G1,一号楼,111.703,40.843,,,\n", [(2, "name", "stored building B1")]),
    ("B2,G1," + "楼" * 51 + ",111.703,40.843,,,\n", [(2, "name", "51 characters")]),
    ("B2,G1,2号楼,111.703,40.843," + "党" * 101 + ",,\n", [(2, "party_group", "at most 100")]),
    ("B2,G1,2号楼,111.703,40.843,,三个半,\n", [(2, "units", "whole number")]),
    ("B2,G1,2号楼,111.703,40.843,,,151\n", [(2, "floors", "1 to 150")]),
    ("B2,G1,2号楼,east,40.843,,,\n", [(2, "lon", "")]),
    ("B2,G1,2号楼,211.703,40.843,,,\n", [(2, "lon", "")]),
]


@pytest.mark.parametrize(("rows", "expected"), REFUSALS)
def test_every_refusal_leaves_the_store_as_it_was(store_path, tmp_path, capsys, rows, expected):
    path = write_csv(tmp_path / "b.csv", HEADER + rows)
    before = digest(store_path)
    code = cli.main(["import", "buildings", str(path), "--db", str(store_path), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 1
    assert digest(store_path) == before
    report = import_file(open_store(str(store_path)), "buildings", path)
    assert [(p.row, p.column) for p in report.problems] == [(r, c) for r, c, _ in expected]
    for problem, (_, _, fragment) in zip(report.problems, expected, strict=True):
        assert fragment in problem.reason
        assert f"{path}:{problem.row}: {problem.column}: " in err
    assert digest(store_path) == before


def test_a_missing_required_column_is_refused(store_path, tmp_path):
    path = write_csv(tmp_path / "b.csv", "building_id,grid_id,lon,lat\nB2,G1,111.703,40.843\n")
    before = digest(store_path)
    report = import_file(open_store(str(store_path)), "buildings", path)
    assert [(p.row, p.column) for p in report.problems] == [(1, "name")]
    assert digest(store_path) == before


@pytest.mark.parametrize(
    ("geom", "fragment"),
    [
        (LineString([(111.703, 40.843), (111.704, 40.844)]), "not a point or a polygon"),
        (None, ""),
    ],
)
def test_a_vector_file_of_other_geometries_is_refused(store_path, tmp_path, geom, fragment):
    path = write_json(
        tmp_path / "b.geojson",
        [_feature({"building_id": "B2", "grid_id": "G1", "name": "2"}, geom)],
    )
    before = digest(store_path)
    report = import_file(open_store(str(store_path)), "buildings", path)
    assert [(p.row, p.column) for p in report.problems] == [(1, "geometry")]  # feature 1
    assert fragment in report.problems[0].reason
    assert digest(store_path) == before


def test_a_building_outside_its_grid_is_imported_with_a_warning(store_path, tmp_path):
    path = write_csv(tmp_path / "b.csv", HEADER + "B2,G2,2号楼,111.703,40.843,,,\n")
    report = import_file(open_store(str(store_path)), "buildings", path)
    assert report.ok
    assert any("not inside the grid they name" in w and "B2" in w for w in report.warnings)
    assert _rows(open_store(str(store_path)))["B2"]["grid_id"] == "G2"  # the grid named


def test_replace_drops_the_stored_buildings_and_frees_their_names(store_path, tmp_path):
    path = write_csv(tmp_path / "b.csv", HEADER + "B9,G1,1栋,111.703,40.843,,,\n")
    store = open_store(str(store_path))
    assert not import_file(store, "buildings", path).ok  # 1栋 = 1号楼, stored as B1
    assert import_file(store, "buildings", path, replace=True).ok
    assert sorted(_rows(store)) == ["B9"]


def test_the_same_import_and_refusal_in_postgis(pg_location, tmp_path):  # noqa: F811
    store = open_store(pg_location)
    grids = write_json(
        tmp_path / "g.geojson", [_feature({"grid_id": "G1"}, G1), _feature({"grid_id": "G2"}, G2)]
    )
    assert import_file(store, "grids", grids).ok
    footprint = box(111.7030, 40.8430, 111.7033, 40.8432)
    good = write_json(
        tmp_path / "b.geojson",
        [
            _feature({"building_id": "B1", "grid_id": "G1", "name": "1号楼"}, footprint),
            _feature(
                {"building_id": "B2", "grid_id": "G2", "name": "1号楼"}, Point(111.715, 40.845)
            ),
        ],
    )
    assert import_file(store, "buildings", good).ok
    rows = _rows(store)
    assert rows["B1"]["geometry"].equals(footprint)
    assert shapely.get_type_id(rows["B2"]["geometry"]) == 0
    bad = write_csv(tmp_path / "b.csv", HEADER + "B3,G1,1栋,111.703,40.843,,,\n")
    version = store.version()
    report = import_file(store, "buildings", bad)
    assert [(p.row, p.column) for p in report.problems] == [(2, "name")]
    assert store.version() == version and sorted(_rows(store)) == ["B1", "B2"]
