"""Importing files into the store: every refusal, warning, alias and encoding of contract section 4."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import Point, Polygon, box

from geo import cli
from geo.inputs.coords import gcj02_to_wgs84, wgs84_to_gcj02
from geo.inputs.importers.core import import_file
from geo.inputs.importers.problems import ImportReport, Problem
from geo.inputs.vector import read_vector
from geo.store import open_store


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """These tests match English fragments; zh-CN, the default, is tested in test_import_messages."""
    monkeypatch.setenv("GRIDMAP_LANG", "en")


WGS84 = "EPSG:4326"
BOUNDARIES = Path("/work/shared/data/boundaries")
G1 = box(111.70, 40.84, 111.71, 40.85)
G2 = box(111.71, 40.84, 111.72, 40.85)


def _feature(props: dict, geom) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": None if geom is None else geom.__geo_interface__,
    }


def write_json(path: Path, features: list[dict], *, bare: bool = False) -> Path:
    """GeoJSON: a FeatureCollection, or a bare array of Features."""
    data = features if bare else {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def digest(store_path: Path) -> str:
    """A hash of the store's bytes: the file, and its WAL where committed pages may wait.

    A reader may create an empty WAL file (SQLite does for WAL databases); it holds nothing.
    """
    h = hashlib.sha256(store_path.read_bytes())
    wal = Path(str(store_path) + "-wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


@pytest.fixture(scope="module")
def template_store(tmp_path_factory) -> Path:
    """A store holding grids G1, G2 (sharing the edge lon 111.71) and households H1-H3."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "store.gpkg"
    store = open_store(str(path))
    grids = write_json(
        folder / "grids.geojson",
        [
            _feature({"grid_id": "G1", "name": "一网格", "party_branch": "一支部"}, G1),
            _feature({"grid_id": "G2", "name": "二网格", "party_branch": ""}, G2),
        ],
    )
    assert import_file(store, "grids", grids).ok
    households = write_csv(
        folder / "hh.csv",
        "household_id,lon,lat,categories\n"
        "H1,111.705,40.845,red\nH2,111.715,40.845,pink;blue\nH3,111.80,40.80,\n",
    )
    assert import_file(store, "households", households).ok
    return path


@pytest.fixture
def store_path(template_store: Path, tmp_path: Path) -> Path:
    """A private copy of the template store (its last connection closed, so the file is whole)."""
    path = tmp_path / "store.gpkg"
    shutil.copyfile(template_store, path)
    return path


@pytest.fixture
def store(store_path):
    return open_store(str(store_path))


def by_id(frame, key):
    """Rows by id; NULLs (NaN in pandas) as None."""
    frame = frame.astype(object).where(frame.notna(), None)
    return {row[key]: row for row in frame.to_dict("records")}


# --- successful imports -----------------------------------------------------------------


def test_grids_stored_as_multipolygons_with_audit(store):
    grids = store.read("grids")
    assert sorted(grids["grid_id"]) == ["G1", "G2"]
    assert set(grids.geom_type) == {"MultiPolygon"}
    assert by_id(grids, "grid_id")["G2"]["party_branch"] is None  # empty = no branch
    audit = store.read("audit_log")
    assert audit[["actor", "action", "detail", "records"]].values.tolist() == [
        ["cli", "import", "grids grids.geojson", "2"],
        ["cli", "import", "households hh.csv", "3"],
    ]
    assert dt.datetime.strptime(audit["at"].iloc[0], "%Y-%m-%d %H:%M:%S")


def test_gbk_csv_with_chinese_headers_and_boundary_points(store, tmp_path):
    text = (
        " 户编号 ,经度（lon）,纬度,类别,户主姓名,人数,核实日期,网格编号\n"
        "0012,111.71,40.845,红、粉,张三,2,2026/11/3,G2\n"  # on the shared edge -> G1
        "0013,111.72,40.85,空巢、留守老人 (65岁以上),李四,1,2026-11-20 09:00,G2\n"  # outer corner of G2
        "0014,111.90,40.80,紫,王五,,,\n"
    )
    report = import_file(store, "households", write_csv(tmp_path / "户.csv", text, "gbk"))
    assert report.ok, report.problems
    assert report.written == 3
    households = by_id(store.read("households"), "household_id")
    assert households["0012"]["grid_id"] == "G1"
    assert households["0012"]["categories"] == "red;pink"
    assert households["0012"]["head_name"] == "张三"
    assert households["0012"]["members"] == 2
    assert households["0012"]["last_verified"] == "2026-11-03"
    assert households["0013"]["grid_id"] == "G2"
    assert households["0013"]["categories"] == "yellow"
    assert households["0013"]["last_verified"] == "2026-11-20"
    assert households["0014"]["grid_id"] is None
    outside = [w for w in report.warnings if "outside every grid" in w]
    assert outside and "1 households" in outside[0] and "0014" in outside[0]
    disagree = [w for w in report.warnings if "disagrees" in w]
    assert disagree and "0012" in disagree[0] and "0013" not in disagree[0]


def test_utf8_bom_csv(store, tmp_path):
    path = write_csv(tmp_path / "hh.csv", "户编号,经度,纬度\nH9,111.701,40.841\n", "utf-8-sig")
    assert import_file(store, "households", path).ok
    assert by_id(store.read("households"), "household_id")["H9"]["grid_id"] == "G1"


def test_upsert_updates_only_the_columns_in_the_file(store, tmp_path):
    path = write_csv(
        tmp_path / "phones.csv",
        "household_id,lon,lat,phone\nH1,111.715,40.845,13800000000\nH4,111.701,40.841,139\n",
    )
    assert import_file(store, "households", path).ok
    households = by_id(store.read("households"), "household_id")
    assert households["H1"]["categories"] == "red"  # not in the file: kept
    assert households["H1"]["phone"] == "13800000000"
    assert households["H1"]["grid_id"] == "G2"  # moved with its location
    assert len(households) == 4


def test_imported_verifications_join_the_history(store, tmp_path):
    first = write_csv(
        tmp_path / "hh1.csv",
        "户编号,经度,纬度,核实日期\nH1,111.705,40.845,2026/11/1\nH2,111.715,40.845,\n",
    )
    assert import_file(store, "households", first, actor="clerk").ok
    second = write_csv(
        tmp_path / "hh2.csv", "household_id,lon,lat,last_verified\nH1,111.705,40.845,2026-11-20\n"
    )
    assert import_file(store, "households", second).ok
    assert import_file(store, "households", second).ok  # the same file again adds nothing
    history = store.read("verifications")
    assert history[["household_id", "verified_on", "actor", "source"]].values.tolist() == [
        ["H1", "2026-11-01", "clerk", "import"],
        ["H1", "2026-11-20", "cli", "import"],
    ]  # H2 has no date: no verification
    assert by_id(store.read("households"), "household_id")["H1"]["last_verified"] == "2026-11-20"


def test_households_without_a_date_column_leave_the_history_alone(store, tmp_path):
    path = write_csv(tmp_path / "hh.csv", "household_id,lon,lat\nH1,111.705,40.845\n")
    assert import_file(store, "households", path).ok
    assert store.count("verifications") == 0


def test_replace_replaces_the_table(store, tmp_path):
    path = write_csv(tmp_path / "hh.csv", "household_id,lon,lat\nH7,111.705,40.845\n")
    assert import_file(store, "households", path, replace=True).written == 1
    assert store.read("households")["household_id"].tolist() == ["H7"]


def test_gcj02_coordinates_are_converted(store, tmp_path):
    lon, lat = wgs84_to_gcj02(111.7095, 40.845)  # WGS-84 in G1; its GCJ-02 form lies in G2
    assert lon > 111.71
    path = write_csv(
        tmp_path / "gaode.csv", f"household_id,lon,lat\nH5,{float(lon)!r},{float(lat)!r}\n"
    )
    assert import_file(store, "households", path, coords="gcj02").ok
    h5 = store.read("households", where={"household_id": "H5"})
    assert h5["grid_id"].tolist() == ["G1"]
    assert h5.geometry.x.iloc[0] == pytest.approx(111.7095, abs=1e-7)


def test_xlsx_visits_with_real_date_cells_and_deterministic_ids(store, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["户编号", "走访时间", "人员编号", "方式", "备注"])
    sheet.append(["H1", dt.datetime(2026, 11, 20, 8, 15), "S1", "入户", "身体好"])
    sheet.append(["H2", dt.date(2026, 11, 21), "S1", "电话", None])
    sheet.append(["H2", "2026/7/12 8:05", None, None, None])
    path = tmp_path / "走访.xlsx"
    workbook.save(path)
    first = import_file(store, "visits", path)
    assert first.ok, first.problems
    visits = store.read("visits")
    assert sorted(visits["visited_at"]) == [
        "2026-07-12 08:05:00",
        "2026-11-20 08:15:00",
        "2026-11-21 00:00:00",
    ]
    assert visits["visit_id"].str.startswith("V").all()
    again = import_file(store, "visits", path)
    assert again.ok
    assert store.count("visits") == 3  # same file twice: no double counting
    assert sorted(store.read("visits")["visit_id"]) == sorted(visits["visit_id"])


def test_staff_with_chinese_roles(store, tmp_path):
    text = "人员编号,姓名,角色,网格编号,部门\nS1,赵六,网格员,G1,社区\nS1,赵六,网格员,G2,社区\nS2,钱七,police,G1,派出所\n"
    report = import_file(store, "staff", write_csv(tmp_path / "staff.csv", text, "gbk"))
    assert report.ok, report.problems
    staff = store.read("staff")
    assert sorted(zip(staff["staff_id"], staff["grid_id"], staff["role"], strict=True)) == [
        ("S1", "G1", "grid_worker"),
        ("S1", "G2", "grid_worker"),
        ("S2", "G1", "police"),
    ]


def test_reports_with_chinese_values_and_timeline_warnings(store, tmp_path):
    text = (
        "编号,来源,事项类别,经度,纬度,上报时间,响应时间,办结时间,回访时间,满意度\n"
        "R1,随手拍,环境卫生,111.705,40.845,2026-11-20 08:00,2026-11-20 09:00,2026-11-21 10:00,2026-11-22,满意\n"
        "R2,12345,噪音,111.715,40.845,2026-11-20 08:00,,,2026-11-22,\n"  # follow-up, no resolution
        "R3,12345热线,噪音,111.715,40.845,2026-11-20 08:00,2026-11-19,2026-11-20 07:00,,不满意\n"
    )
    report = import_file(store, "reports", write_csv(tmp_path / "reports.csv", text))
    assert report.ok, report.problems
    reports = by_id(store.read("reports"), "report_id")
    assert reports["R1"]["source"] == "observer"
    assert reports["R2"]["source"] == reports["R3"]["source"] == "hotline"
    assert reports["R1"]["satisfaction"] == "satisfied"
    assert reports["R3"]["satisfaction"] == "unsatisfied"
    assert reports["R1"]["grid_id"] == "G1"
    assert reports["R1"]["followed_up_at"] == "2026-11-22 00:00:00"
    warnings = "\n".join(report.warnings)
    assert "follow-up without a resolution: R2" in warnings
    assert "before the report: R3" in warnings


def test_importing_grids_reassigns_stored_households_and_reports(store, tmp_path):
    path = write_json(
        tmp_path / "g3.geojson", [_feature({"grid_id": "G3"}, box(111.79, 40.79, 111.81, 40.81))]
    )
    assert import_file(store, "grids", path).ok
    assert by_id(store.read("households"), "household_id")["H3"]["grid_id"] == "G3"
    replacement = write_json(
        tmp_path / "g0.geojson", [_feature({"grid_id": "G0"}, box(111.70, 40.84, 111.72, 40.85))]
    )
    assert import_file(store, "grids", replacement, replace=True).ok
    grid_ids = by_id(store.read("households"), "household_id")
    assert {k: v["grid_id"] for k, v in grid_ids.items()} == {"H1": "G0", "H2": "G0", "H3": None}


def test_overlapping_grids_warn(store, tmp_path):
    path = write_json(
        tmp_path / "g3.geojson", [_feature({"grid_id": "G3"}, box(111.705, 40.84, 111.715, 40.85))]
    )
    report = import_file(store, "grids", path)
    assert report.ok
    assert any("2 pairs of grids overlap" in w and "G1 & G3" in w for w in report.warnings)


def test_bare_array_grids_with_invalid_polygon_repaired(tmp_path):
    store = open_store(str(tmp_path / "s.gpkg"))
    bowtie = Polygon([(111.70, 40.84), (111.71, 40.85), (111.71, 40.84), (111.70, 40.85)])
    path = write_json(
        tmp_path / "grids.json",
        [_feature({"网格编号": "G1", "社区": "东河社区"}, bowtie)],
        bare=True,
    )
    report = import_file(store, "grids", path)
    assert report.ok, report.problems
    grid = store.read("grids")
    assert grid.geom_type.tolist() == ["MultiPolygon"]
    assert grid.geometry.iloc[0].is_valid
    assert grid["community"].tolist() == ["东河社区"]


def test_gbk_shapefile_zip_without_cpg_given_encoding(tmp_path):
    grids = gpd.GeoDataFrame(
        {"网格编号": ["G1"], "网格名称": ["东河一网格"]}, geometry=[G1], crs=WGS84
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(grids.to_crs("EPSG:4490"), folder / "grids.shp", encoding="GBK")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            if part.suffix != ".cpg":
                zf.write(part, part.name)
    store = open_store(str(tmp_path / "s.gpkg"))
    report = import_file(store, "grids", archive, encoding="gbk")
    assert report.ok, report.problems
    stored = store.read("grids")
    assert stored["name"].tolist() == ["东河一网格"]
    assert stored.geometry.iloc[0].bounds == pytest.approx(G1.bounds)


def test_vector_households_in_gcj02(tmp_path, store):
    lon, lat = wgs84_to_gcj02(111.705, 40.845)
    path = write_json(
        tmp_path / "hh.geojson", [_feature({"户编号": "H8"}, Point(float(lon), float(lat)))]
    )
    assert import_file(store, "households", path, coords="gcj02").ok
    h8 = store.read("households", where={"household_id": "H8"})
    assert h8.geometry.x.iloc[0] == pytest.approx(111.705, abs=1e-7)
    assert h8["grid_id"].tolist() == ["G1"]


def test_boundary_from_real_gcj02_file(tmp_path):
    store = open_store(str(tmp_path / "s.gpkg"))
    report = import_file(store, "boundary", BOUNDARIES / "150102.json", coords="gcj02")
    assert report.ok, report.problems
    boundary = store.read("boundary")
    assert boundary[["boundary_id", "name", "adcode"]].values.tolist() == [
        ["150102", "新城区", "150102"]
    ]
    assert boundary.geom_type.tolist() == ["MultiPolygon"]
    raw = read_vector(BOUNDARIES / "150102.json")
    shift = (
        raw.geometry.iloc[0].representative_point().x
        - boundary.geometry.iloc[0].representative_point().x
    )
    assert 0.001 < abs(shift) < 0.01  # moved by the GCJ-02 offset (hundreds of metres)
    assert import_file(store, "boundary", BOUNDARIES / "150100.json", coords="gcj02").written == 9
    assert store.count("boundary") == 9  # replaced whole


# --- refusals ---------------------------------------------------------------------------

HH = "household_id,lon,lat,categories,last_verified,members\n"

REFUSALS = [
    # kind, file name, content, expected (row, column, reason fragment)
    ("households", "a.csv", "household_id,lon\nH9,111.7\n", (1, "lat", "required column missing")),
    (
        "households",
        "a.csv",
        HH + "H9,111.7,40.84,,,\nH9,111.7,40.84,,,\n",
        (3, "household_id", "duplicate id H9 (already on line 2)"),
    ),
    ("households", "a.csv", HH + "H9,181,40.84,,,\n", (2, "lon", "outside [-180, 180]")),
    ("households", "a.csv", HH + "H9,111.7,-91,,,\n", (2, "lat", "outside [-90, 90]")),
    ("households", "a.csv", HH + "H9,abc,40.84,,,\n", (2, "lon", "not a number: 'abc'")),
    ("households", "a.csv", HH + "H9,,40.84,,,\n", (2, "lon", "coordinate missing")),
    ("households", "a.csv", HH + ",111.7,40.84,,,\n", (2, "household_id", "value missing")),
    (
        "households",
        "a.csv",
        HH + "H9,111.7,40.84,红;black,,\n",
        (2, "categories", "unknown category 'black'"),
    ),
    (
        "households",
        "a.csv",
        HH + "H9,111.7,40.84,,2026-13-01,\n",
        (2, "last_verified", "not a valid date"),
    ),
    (
        "households",
        "a.csv",
        HH + "H9,111.7,40.84,,yesterday,\n",
        (2, "last_verified", "not a date"),
    ),
    ("households", "a.csv", HH + "H9,111.7,40.84,,,two\n", (2, "members", "not a whole number")),
    (
        "visits",
        "v.csv",
        "household_id,visited_at\nH404,2026-11-20\n",
        (2, "household_id", "unknown household 'H404'"),
    ),
    (
        "visits",
        "v.csv",
        "household_id,visited_at\nH1,20/11/2026\n",
        (2, "visited_at", "not a date"),
    ),
    ("visits", "v.csv", "household_id,visited_at\nH1,\n", (2, "visited_at", "date missing")),
    (
        "visits",
        "v.csv",
        "visit_id,household_id,visited_at\nV1,H1,2026-11-20\nV1,H2,2026-11-20\n",
        (3, "visit_id", "duplicate id V1"),
    ),
    (
        "staff",
        "s.csv",
        "staff_id,name,role,grid_id\nS1,赵六,网格员,G9\n",
        (2, "grid_id", "unknown grid 'G9'"),
    ),
    (
        "staff",
        "s.csv",
        "staff_id,name,role,grid_id\nS1,赵六,mayor,G1\n",
        (2, "role", "unknown role 'mayor'"),
    ),
    (
        "staff",
        "s.csv",
        "staff_id,name,role,grid_id\nS1,赵六,网格员,G1\nS1,赵六,网格长,G1\n",
        (3, "staff_id", "duplicate id S1 + G1"),
    ),
    (
        "staff",
        "s.csv",
        "staff_id,name,grid_id\nS1,赵六,G1\n",
        (1, "role", "required column missing"),
    ),
    (
        "reports",
        "r.csv",
        "report_id,source,category,lon,lat,reported_at\nR1,微信,噪音,111.7,40.84,2026-11-20\n",
        (2, "source", "unknown source '微信'"),
    ),
    (
        "reports",
        "r.csv",
        "report_id,source,category,lon,lat,reported_at,satisfaction\nR1,12345,噪音,111.7,40.84,2026-11-20,还行\n",
        (2, "satisfaction", "unknown satisfaction '还行'"),
    ),
    (
        "reports",
        "r.csv",
        "report_id,source,category,lon,lat,reported_at\nR1,12345,噪音,111.7,40.84,soon\n",
        (2, "reported_at", "not a date"),
    ),
    (
        "reports",
        "r.csv",
        "report_id,source,category,lon,lat,reported_at,resolved_at\nR1,12345,噪音,111.7,40.84,2026-11-20,2026-02-30\n",
        (2, "resolved_at", "not a valid date"),
    ),
    ("households", "e.csv", "", (1, "-", "the file is empty")),
    ("households", "e.csv", "household_id,lon,lat\n", (1, "-", "no data rows")),
    ("households", "e.xlsx", "not a workbook", (1, "-", "not a readable .xlsx")),
    ("grids", "g.csv", "grid_id\nG5\n", (1, "-", "need a vector file")),
]


@pytest.mark.parametrize(
    ("kind", "name", "content", "expected"),
    REFUSALS,
    ids=[f"{r[0]}-{r[3][1]}-{r[3][2][:20]}" for r in REFUSALS],
)
def test_refusal_names_file_row_column_and_leaves_store_identical(
    store_path, tmp_path, kind, name, content, expected
):
    before = digest(store_path)
    path = write_csv(tmp_path / name, content)
    report = import_file(open_store(str(store_path)), kind, path)
    assert report.written == 0
    row, column, reason = expected
    matching = [
        p for p in report.problems if p.row == row and p.column == column and reason in p.reason
    ]
    assert matching, [str(p) for p in report.problems]
    assert str(matching[0]).startswith(f"{path}:{row}: {column}: ")
    assert digest(store_path) == before


GRID_REFUSALS = [
    ([_feature({"grid_id": "G5"}, None)], (1, "geometry", "no geometry")),
    (
        [
            _feature({"grid_id": "G5"}, box(0, 0, 1, 1)),
            _feature({"grid_id": "G6"}, Point(111.7, 40.8)),
        ],
        (2, "geometry", "not a polygon"),
    ),
    (
        [_feature({"grid_id": "G5"}, Polygon([(111.7, 40.8), (111.71, 40.8), (111.72, 40.8)]))],
        (1, "geometry", "cannot be repaired"),
    ),
    (
        [_feature({"grid_id": "G5"}, Polygon([(111.7, 40.8), (181.0, 40.8), (111.72, 40.9)]))],
        (1, "geometry", "outside [-180, 180] x [-90, 90]"),
    ),
    (
        [
            _feature({"grid_id": "G5"}, box(111.7, 40.8, 111.71, 40.81)),
            _feature({"grid_id": "G6"}, box(111.7, 90.5, 111.71, 91.0)),
        ],
        (2, "geometry", "outside [-180, 180] x [-90, 90]"),
    ),
    ([_feature({"name": "x"}, box(0, 0, 1, 1))], (1, "grid_id", "required column missing")),
    (
        [_feature({"grid_id": "G5"}, G1), _feature({"grid_id": "G5"}, G2)],
        (2, "grid_id", "duplicate id G5"),
    ),
]


@pytest.mark.parametrize(
    ("features", "expected"), GRID_REFUSALS, ids=[g[1][2] for g in GRID_REFUSALS]
)
def test_grid_refusals_leave_store_identical(store_path, tmp_path, features, expected):
    before = digest(store_path)
    path = write_json(tmp_path / "bad.json", features, bare=True)
    report = import_file(open_store(str(store_path)), "grids", path)
    row, column, reason = expected
    assert any(
        p.row == row and p.column == column and reason in p.reason for p in report.problems
    ), report.problems
    assert digest(store_path) == before


def test_every_problem_is_collected(store_path, tmp_path):
    before = digest(store_path)
    text = HH + "H9,181,40.84,,,\nH10,111.7,x,紫,2026/11/31,\nH9,111.7,40.84,black,,\n"
    report = import_file(
        open_store(str(store_path)), "households", write_csv(tmp_path / "many.csv", text)
    )
    found = sorted((p.row, p.column) for p in report.problems)
    assert found == [
        (2, "lon"),
        (3, "last_verified"),
        (3, "lat"),
        (4, "categories"),
        (4, "household_id"),
    ]
    assert digest(store_path) == before


def test_refusal_on_a_new_store_creates_nothing(tmp_path):
    path = tmp_path / "new.gpkg"
    report = import_file(
        open_store(str(path)), "households", write_csv(tmp_path / "a.csv", HH + "H1,999,40,,,\n")
    )
    assert not report.ok
    assert not path.exists()


def test_problem_text_format():
    assert (
        str(Problem("hh.csv", 7, "lat", "not a number: 'x'")) == "hh.csv:7: lat: not a number: 'x'"
    )
    assert ImportReport("households", "hh.csv").ok


def test_cli_exits_non_zero_and_prints_problems(store_path, tmp_path, capsys):
    before = digest(store_path)
    bad = write_csv(tmp_path / "bad.csv", "户编号,经度,纬度\nH9,111.7,95\n")
    status = cli.main(["import", "households", str(bad), "--db", str(store_path)])
    assert status != 0
    err = capsys.readouterr().err
    assert (
        f"{bad}:2: 纬度 (lat): 95.0 is outside [-90, 90]" in err
    )  # the header as the clerk typed it
    assert "nothing was imported" in err
    assert digest(store_path) == before


def test_cli_imports_with_gcj02(store_path, tmp_path, capsys):
    good = write_csv(tmp_path / "ok.csv", "户编号,经度,纬度\nH9,111.7,40.84\n")
    assert (
        cli.main(["import", "households", str(good), "--db", str(store_path), "--coords", "gcj02"])
        == 0
    )
    assert "1 row(s) imported" in capsys.readouterr().out
    x = (
        open_store(str(store_path))
        .read("households", where={"household_id": "H9"})
        .geometry.x.iloc[0]
    )
    assert x == pytest.approx(gcj02_to_wgs84(111.7, 40.84)[0], abs=1e-9)
    assert abs(x - 111.7) > 1e-3


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_utf8_shapefile_with_chinese_names_cut_at_ten_bytes(tmp_path):
    grids = gpd.GeoDataFrame(
        {"网格编号": ["G1"], "网格名称": ["东河一网格"], "网格党支部": ["东河一支部"]},
        geometry=[G1],
        crs=WGS84,
    )
    pyogrio.write_dataframe(grids, tmp_path / "grids.shp", encoding="UTF-8")
    store = open_store(str(tmp_path / "s.gpkg"))
    report = import_file(store, "grids", tmp_path / "grids.shp")
    assert report.ok, report.problems
    stored = store.read("grids")
    assert stored[["grid_id", "name", "party_branch"]].values.tolist() == [
        ["G1", "东河一网格", "东河一支部"]
    ]


def test_same_imports_into_postgis(pg_location, tmp_path):  # noqa: F811
    """The importer only uses the Store interface: PostGIS gets the same rows and refusals."""
    store = open_store(pg_location)
    grids = write_json(
        tmp_path / "grids.json",
        [_feature({"网格编号": "G1"}, G1), _feature({"网格编号": "G2"}, G2)],
        bare=True,
    )
    assert import_file(store, "grids", grids).ok
    text = "户编号,经度,纬度,类别\n0012,111.71,40.845,红\n0013,111.715,40.845,\n"
    assert import_file(store, "households", write_csv(tmp_path / "h.csv", text, "gbk")).ok
    households = by_id(store.read("households"), "household_id")
    assert {k: v["grid_id"] for k, v in households.items()} == {"0012": "G1", "0013": "G2"}
    visits = write_csv(
        tmp_path / "v.csv", "household_id,visited_at\n0012,2026-11-20\n0099,2026-11-20\n"
    )
    report = import_file(store, "visits", visits)
    assert [str(p) for p in report.problems] == [
        f"{visits}:3: household_id: unknown household '0099' (not in the store: import households first)"
    ]
    assert store.count("visits") == 0


def test_table_with_projected_crs_option(store, tmp_path):
    path = write_csv(tmp_path / "utm.csv", "household_id,lon,lat\nH6,500000,4520000\n")
    assert import_file(store, "households", path, crs="EPSG:32649").ok
    h6 = store.read("households", where={"household_id": "H6"})
    assert h6.geometry.x.iloc[0] == pytest.approx(111.0, abs=1e-6)
    refused = import_file(store, "households", path, crs="EPSG:999999")
    assert [p.column for p in refused.problems] == ["-"]
    assert "unknown coordinate system" in refused.problems[0].reason


def test_numeric_ids_in_geojson_are_stored_as_text(tmp_path):
    store = open_store(str(tmp_path / "s.gpkg"))
    path = write_json(tmp_path / "g.json", [_feature({"grid_id": 7, "name": 1.5}, G1)], bare=True)
    assert import_file(store, "grids", path).ok
    assert store.read("grids")[["grid_id", "name"]].values.tolist() == [["7", "1.5"]]
    staff = write_csv(tmp_path / "s.csv", "staff_id,name,role,grid_id\n001,赵六,网格长,7\n")
    assert import_file(store, "staff", staff).ok
    assert store.read("staff")[["staff_id", "grid_id"]].values.tolist() == [["001", "7"]]
