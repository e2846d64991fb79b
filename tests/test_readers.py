"""Reading vector files and tables."""

import datetime as dt
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from shapely.geometry import Point, box

from geo.inputs.readers import ROW, ReadError
from geo.inputs.tables import read_table
from geo.inputs.vector import read_vector


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """These tests match English fragments; zh-CN, the default, is tested in test_import_messages."""
    monkeypatch.setenv("GRIDMAP_LANG", "en")


BOUNDARIES = Path("/work/shared/data/boundaries")
WGS84 = "EPSG:4326"


def _square_feature(grid_id: str, x: float) -> dict:
    return {
        "type": "Feature",
        "properties": {"grid_id": grid_id, "name": "东河一网格"},
        "geometry": box(x, 40.84, x + 0.01, 40.85).__geo_interface__,
    }


def _write_shapefile_zip(tmp_path: Path, encoding: str, keep_cpg: bool) -> Path:
    """A zipped shapefile with Chinese field names and values in ``encoding``."""
    grids = gpd.GeoDataFrame(
        {"网格编号": ["G1", "G2"], "网格名称": ["东河一网格", "东河二网格"]},
        geometry=[box(111.70, 40.84, 111.71, 40.85), box(111.71, 40.84, 111.72, 40.85)],
        crs=WGS84,
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(grids, folder / "grids.shp", encoding=encoding)
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            if part.suffix == ".cpg" and not keep_cpg:
                continue
            zf.write(part, f"网格/{part.name}")
    return archive


def test_bare_array_of_features_real_boundary():
    frame = read_vector(BOUNDARIES / "150100.json")
    assert len(frame) == 9
    assert frame.crs == WGS84
    assert "新城区" in frame["name"].tolist()
    assert frame[ROW].tolist() == list(range(1, 10))
    assert set(frame.geom_type) == {"MultiPolygon"}


def test_feature_collection_with_crs_member_cgcs2000(tmp_path):
    path = tmp_path / "grids.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
                "features": [_square_feature("0012", 111.70)],
            }
        ),
        encoding="utf-8",
    )
    frame = read_vector(path)
    assert frame.crs == WGS84
    assert frame["grid_id"].tolist() == ["0012"]
    assert frame.geometry.iloc[0].bounds == pytest.approx((111.70, 40.84, 111.71, 40.85))


def test_projected_crs_member_is_reprojected(tmp_path):
    path = tmp_path / "grids.geojson"
    square = box(500000, 4520000, 500100, 4520100)  # UTM 49N, near Hohhot
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "crs": {"type": "name", "properties": {"name": "EPSG:32649"}},
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"grid_id": "G1"},
                        "geometry": square.__geo_interface__,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    frame = read_vector(path)
    minx, miny, _, _ = frame.geometry.iloc[0].bounds
    assert minx == pytest.approx(111.0, abs=0.01)
    assert miny == pytest.approx(40.83, abs=0.02)


def test_explicit_crs_overrides(tmp_path):
    path = tmp_path / "points.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [500000, 4520000]},
                    }
                ],
            }
        )
    )
    frame = read_vector(path, crs="EPSG:32649")
    assert frame.geometry.iloc[0].x == pytest.approx(111.0, abs=0.01)


def test_geopackage_declared_crs(tmp_path):
    path = tmp_path / "grids.gpkg"
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1"]}, geometry=[box(111.70, 40.84, 111.71, 40.85)], crs=WGS84
    )
    pyogrio.write_dataframe(grids.to_crs("EPSG:32649"), path, layer="grids")
    frame = read_vector(path)
    assert frame.crs == WGS84
    assert frame.geometry.iloc[0].bounds == pytest.approx((111.70, 40.84, 111.71, 40.85), abs=1e-7)


def test_gbk_shapefile_zip_without_cpg_is_detected(tmp_path):
    frame = read_vector(_write_shapefile_zip(tmp_path, "GBK", keep_cpg=False))
    assert frame["网格名称"].tolist() == ["东河一网格", "东河二网格"]
    assert frame["网格编号"].tolist() == ["G1", "G2"]


@pytest.mark.parametrize("encoding", ["gbk", "GB18030", "cp936"])
def test_gbk_shapefile_zip_with_encoding_given(tmp_path, encoding):
    frame = read_vector(_write_shapefile_zip(tmp_path, "GBK", keep_cpg=False), encoding=encoding)
    assert frame["网格名称"].tolist() == ["东河一网格", "东河二网格"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_utf8_shapefile_with_cpg_and_names_cut_inside_a_character(tmp_path):
    """DBF names hold 10 bytes: GDAL cuts 网格编号 (12 bytes in UTF-8) to 网格编 + half a character."""
    archive = _write_shapefile_zip(tmp_path, "UTF-8", keep_cpg=True)
    assert read_vector(archive)["网格名"].tolist() == ["东河一网格", "东河二网格"]
    shp = tmp_path / "shp" / "grids.shp"
    assert read_vector(shp)["网格编"].tolist() == ["G1", "G2"]


def test_wrong_encoding_is_refused(tmp_path):
    with pytest.raises(ReadError, match="does not decode as utf-8"):
        read_vector(_write_shapefile_zip(tmp_path, "GBK", keep_cpg=False), encoding="utf-8")


def test_replacement_character_is_refused(tmp_path):
    path = tmp_path / "grids.geojson"
    feature = _square_feature("G1", 111.70)
    feature["properties"]["name"] = "东\ufffd网格"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8"
    )
    with pytest.raises(ReadError, match="U\\+FFFD.*name"):
        read_vector(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"type": "FeatureCollection", "features": []}', "no features"),
        (b'{"type": "Topology"}', "not GeoJSON"),
        (b"[1, 2]", "not a GeoJSON Feature"),
    ],
)
def test_bad_geojson_is_refused(tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_bytes(content)
    with pytest.raises(ReadError, match=message):
        read_vector(path)


def test_null_geometry_is_kept_as_missing(tmp_path):
    path = tmp_path / "grids.json"
    path.write_text(
        json.dumps(
            [
                _square_feature("G1", 111.70),
                {"type": "Feature", "properties": {"grid_id": "G2"}, "geometry": None},
            ]
        )
    )
    frame = read_vector(path)
    assert frame.geometry.isna().tolist() == [False, True]


CSV_TEXT = "户编号,经度,纬度,类别\n0012,111.70,40.84,红、粉\n\n0013,111.71,40.85,\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (CSV_TEXT.encode("utf-8"), None),
        (CSV_TEXT.encode("utf-8-sig"), None),
        (CSV_TEXT.encode("gbk"), None),
        (CSV_TEXT.encode("gbk"), "gbk"),
    ],
    ids=["utf8", "utf8-bom", "gbk-detected", "gbk-given"],
)
def test_csv_encodings_text_cells_and_line_numbers(tmp_path, data, encoding):
    path = tmp_path / "households.csv"
    path.write_bytes(data)
    frame = read_table(path, encoding=encoding)
    assert list(frame.columns) == ["户编号", "经度", "纬度", "类别", ROW]
    assert frame["户编号"].tolist() == ["0012", "0013"]  # ids stay text
    assert frame["类别"].tolist() == ["红、粉", None]
    assert frame[ROW].tolist() == [2, 4]  # the blank line 3 keeps its number


def test_csv_wrong_encoding_given(tmp_path):
    path = tmp_path / "households.csv"
    path.write_bytes(CSV_TEXT.encode("gbk"))
    with pytest.raises(ReadError, match="does not decode as utf-8"):
        read_table(path, encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "a.csv"),
        (b"\n\n", "b.csv"),
        (b"household_id\n", "c.csv"),
        (b"not a zip", "d.xlsx"),
        (b"x", "e.pdf"),
    ],
)
def test_empty_or_unreadable_tables(tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError):
        read_table(path)


def test_xlsx_keeps_date_cells_and_text(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["东河社区走访登记表"])  # a title row above the header
    sheet.append(["户编号", "走访时间", "人数", "经度"])
    sheet.append(["0012", dt.datetime(2026, 11, 20, 8, 15), 3, 111.705])
    sheet.append([None, None, None, None])
    sheet.append([13, dt.date(2026, 11, 21), 2.0, 111.7])
    path = tmp_path / "visits.xlsx"
    workbook.save(path)
    frame = read_table(path)
    assert frame["户编号"].tolist() == ["0012", "13"]
    assert frame["走访时间"].tolist() == [
        dt.datetime(2026, 11, 20, 8, 15),
        dt.datetime(2026, 11, 21),
    ]
    assert frame["人数"].tolist() == ["3", "2"]
    assert frame["经度"].tolist() == ["111.705", "111.7"]
    assert frame[ROW].tolist() == [3, 5]


def test_point_geometry_file(tmp_path):
    path = tmp_path / "households.geojson"
    gpd.GeoDataFrame({"household_id": ["H1"]}, geometry=[Point(111.7, 40.84)], crs=WGS84).to_file(
        path
    )
    frame = read_vector(path)
    assert frame.geometry.iloc[0].equals(Point(111.7, 40.84))
