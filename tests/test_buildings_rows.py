"""The row rules of a buildings file: refusals, repairs and warnings, on small hand-built rows."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from geo.buildings.rows import BuildingRules, parse_count
from geo.i18n import t
from geo.inputs.importers.problems import ImportReport, _Checker

WGS84 = "EPSG:4326"
W, S = 111.70, 40.84  # the south-west corner of grid G1
D = 0.002  # a grid is D x D degrees


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Two grids side by side, G1 and G2, sharing the edge lon = W + D, WGS-84."""
    return gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"]},
        geometry=[box(W, S, W + D, S + D), box(W + D, S, W + 2 * D, S + D)],
        crs=WGS84,
    )


def table(**columns) -> pd.DataFrame:
    """A table file's rows (text cells, as the readers give them)."""
    n = len(next(iter(columns.values())))
    base = {"lon": [str(W + D / 2)] * n, "lat": [str(S + D / 2)] * n}
    return pd.DataFrame({**base, **columns})


class Recorded(_Checker):
    """The importer's checker, also keeping each problem's catalogue key and values."""

    def __init__(self, rows: np.ndarray) -> None:
        super().__init__(ImportReport("buildings", "b.csv", lang="en"), store=None, staging=None)
        self.rows = rows
        self.problems: list[tuple[int, str, str, dict]] = []

    def add(self, row: int, column: str, key: str, /, **values: object) -> None:
        self.problems.append((int(row), column, key, values))
        super().add(row, column, key, **values)


def prepare(rules: BuildingRules, frame: pd.DataFrame, first_row: int = 2, **kw):
    """Check ``frame`` as lines first_row.. of a file; (prepared or None, the checker)."""
    check = Recorded(np.arange(first_row, first_row + len(frame)))
    prepared = rules.prepare(frame, check, **kw)
    return prepared, check


def problems(check: Recorded) -> list[tuple[int, str, str]]:
    # the checker's report holds the same problems, as FILE:ROW: column: reason lines
    assert [(p.row, p.column) for p in check.report.problems] == [
        (row, column) for row, column, _, _ in check.problems
    ]
    return [(row, column, key) for row, column, key, _ in check.problems]


def test_good_rows_are_prepared(grids):
    frame = table(
        building_id=["B1", "B2", "B3"],
        grid_id=["G1", "G1", "G2"],
        name=["1号楼", "2栋", "1号楼"],  # the same name in another grid is another building
        party_group=["1号楼党小组", None, "  "],
        units=["3", "2个单元", None],
        floors=["6", "十八层", "11.0"],
    )
    frame.loc[2, "lon"] = str(W + 1.5 * D)
    prepared, check = prepare(BuildingRules(grids), frame)
    check.finish()
    assert check.problems == [] and check.report.warnings == []
    assert prepared["building_id"].tolist() == ["B1", "B2", "B3"]
    assert prepared["units"].tolist() == [3, 2, None]
    assert prepared["floors"].tolist() == [6, 18, 11]
    assert prepared["party_group"].tolist() == ["1号楼党小组", None, None]
    assert prepared.geometry.geom_type.tolist() == ["Point"] * 3
    assert prepared["lon"].tolist()[2] == pytest.approx(W + 1.5 * D)


@pytest.mark.parametrize(
    ("column", "value", "key"),
    [
        ("building_id", None, "imp_value_missing"),
        ("grid_id", None, "imp_value_missing"),
        ("name", None, "imp_value_missing"),
        ("grid_id", "G9", "imp_unknown_grid"),
        ("name", "楼" * 51, "bld_too_long"),
        ("party_group", "党" * 101, "bld_too_long"),
        ("units", "2.5", "bld_bad_count"),
        ("units", "0", "bld_bad_count"),
        ("units", "31", "bld_bad_count"),
        ("units", "三单元半", "bld_bad_count"),
        ("floors", "-1", "bld_bad_count"),
        ("floors", "151", "bld_bad_count"),
        ("lon", "abc", "imp_not_a_number"),
        ("lat", "95", "imp_out_of_range"),
        ("lon", None, "imp_coordinate_missing"),
    ],
)
def test_a_bad_cell_is_refused_at_its_row_and_column(grids, column, value, key):
    frame = table(building_id=["B1", "B2"], grid_id=["G1", "G1"], name=["1号楼", "2号楼"])
    frame[column] = frame.get(column, pd.Series([None, None]))
    frame.loc[1, column] = value
    prepared, check = prepare(BuildingRules(grids), frame)
    assert prepared is None
    assert problems(check) == [(3, column, key)]


def test_an_id_twice_and_a_name_twice_in_a_grid_are_refused(grids):
    frame = table(
        building_id=["B1", "B2", "B1", "B4"],
        grid_id=["G1", "G1", "G1", "G2"],
        name=["1号楼", "一号楼", "3号楼", "1号楼"],
    )
    prepared, check = prepare(BuildingRules(grids), frame)
    assert prepared is None
    assert problems(check) == [
        (4, "building_id", "imp_duplicate_id"),
        (3, "name", "bld_name_twice"),
    ]
    twice = check.problems[1][3]
    assert twice["first"] == 2 and twice["grid"] == "G1"


def test_ids_and_names_are_remembered_across_chunks(grids):
    rules = BuildingRules(grids)
    first, check = prepare(rules, table(building_id=["B1"], grid_id=["G1"], name=["1号楼"]))
    assert first is not None and check.problems == []
    _, check = prepare(
        rules,
        table(building_id=["B1", "B2"], grid_id=["G1", "G1"], name=["2号楼", "1#"]),
        first_row=3,
    )
    assert problems(check) == [
        (3, "building_id", "imp_duplicate_id"),
        (4, "name", "bld_name_twice"),
    ]


def test_a_name_stored_under_another_id_is_refused_once_the_file_is_read(grids):
    stored = pd.DataFrame(
        {"building_id": ["S1", "S2"], "grid_id": ["G1", "G1"], "name": ["1号楼", "2号楼"]}
    )
    rules = BuildingRules(grids, stored)
    frame = table(
        building_id=["B1", "S2", "S1"],
        grid_id=["G1", "G1", "G1"],
        # B1 takes 2号楼 from S2, which is renamed in the same file: no clash; 1号楼 is kept
        # by S1 itself
        name=["2号楼", "5号楼", "1号楼"],
    )
    _, check = prepare(rules, frame)
    rules.finish(check)
    assert check.problems == []

    rules = BuildingRules(grids, stored)
    _, check = prepare(rules, table(building_id=["B1"], grid_id=["G1"], name=["1栋"]))
    rules.finish(check)
    assert problems(check) == [(2, "name", "bld_name_stored")]
    assert check.problems[0][3]["other"] == "S1"


def test_replacing_ignores_the_stored_names(grids):
    rules = BuildingRules(grids, stored=None)
    _, check = prepare(rules, table(building_id=["B1"], grid_id=["G1"], name=["1号楼"]))
    rules.finish(check)
    assert check.problems == []


def vector(geoms: list, **columns) -> gpd.GeoDataFrame:
    n = len(geoms)
    data = {"building_id": [f"B{i}" for i in range(n)], "grid_id": ["G1"] * n}
    data["name"] = [f"{i}号楼" for i in range(n)]
    return gpd.GeoDataFrame({**data, **columns}, geometry=geoms, crs=WGS84)


def test_vector_points_and_footprints(grids):
    footprint = box(W + 0.0002, S + 0.0002, W + 0.0006, S + 0.0004)
    bowtie = Polygon(
        [
            (W + 0.001, S + 0.001),
            (W + 0.0012, S + 0.0012),
            (W + 0.0012, S + 0.001),
            (W + 0.001, S + 0.0012),
        ]
    )
    prepared, check = prepare(
        BuildingRules(grids), vector([Point(W + 0.001, S + 0.0015), footprint, bowtie])
    )
    assert check.problems == []
    assert prepared.geometry.geom_type.tolist() == ["Point", "MultiPolygon", "MultiPolygon"]
    assert prepared.geometry.iloc[2].is_valid  # repaired
    # a footprint's place is a point inside it (where the glyph is drawn)
    anchors = gpd.points_from_xy(prepared["lon"], prepared["lat"])
    assert footprint.contains(anchors[1])


@pytest.mark.parametrize(
    ("geom", "key"),
    [
        (LineString([(W, S), (W + 0.001, S + 0.001)]), "bld_not_point_or_polygon"),
        (Polygon([(W, S), (W + 0.001, S), (W + 0.002, S)]), "imp_polygon_unrepairable"),
        (Point(200, S), "imp_vertex_out_of_range"),
        (None, "imp_no_geometry"),
    ],
)
def test_bad_geometries_are_refused(grids, geom, key):
    prepared, check = prepare(BuildingRules(grids), vector([Point(W + 0.001, S + 0.001), geom]))
    assert prepared is None
    assert problems(check) == [(3, "geometry", key)]


def test_a_building_outside_its_grid_is_a_warning(grids):
    frame = table(building_id=["B1", "B2", "B3"], grid_id=["G1", "G2", "G2"], name=["1", "2", "3"])
    frame.loc[2, "lon"] = str(W + D)  # on the shared edge: the boundary counts as inside G2
    prepared, check = prepare(BuildingRules(grids), frame)
    assert check.problems == []
    assert len(prepared) == 3
    check.finish()
    assert check.report.warnings == [
        "b.csv: " + t("bld_warn_outside_grid", "en", count=1, ids="B2")
    ]


def test_gcj02_coordinates_are_converted(grids):
    frame = table(building_id=["B1"], grid_id=["G1"], name=["1号楼"])
    prepared, _ = prepare(BuildingRules(grids), frame, coords="gcj02")
    # GCJ-02 is offset a few hundred metres from WGS-84 in China
    assert abs(prepared["lon"].iloc[0] - (W + D / 2)) > 0.001


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6", 6),
        ("06", 6),
        ("６", 6),
        ("6层", 6),
        ("6F", 6),
        ("3个单元", 3),
        ("六", 6),
        ("十八层", 18),
    ]
    + [("6.0", 6), (None, None), ("", None), (" ", None)],
)
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["2.5", "abc", "6-7", "六层半"])
def test_parse_count_refuses(text):
    with pytest.raises(ValueError):
        parse_count(text)
