import datetime as dt
import io
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from geo.care.coverage import (
    EditRefused,
    boundary_coverage,
    coverage_gaps,
    grid_overlaps,
    log_visit,
    mark_verified,
    staff_role_matrix,
    uncovered_area,
    uncovered_geometry,
    visit_worklist,
    worklist_xlsx,
)
from geo.inputs.coords import gcj02_to_wgs84, transform_geometry
from geo.metrics.contract import compute_metrics
from geo.store import open_store
from geo.timeutil import now_local

WGS84 = "EPSG:4326"
UTM49N = "EPSG:32649"  # Hohhot lies in UTM zone 49 (108°E-114°E)
X0, Y0 = 560_000.0, 4_520_000.0  # a point in Hohhot, in UTM 49N metres
GEOD = Geod(ellps="WGS84")
XINCHENG = Path("/work/shared/data/boundaries/150102.json")
AS_OF = dt.date(2026, 11, 27)


def _squares(
    boxes: list[tuple[float, float, float, float]], ids: list[str] | None = None
) -> gpd.GeoDataFrame:
    """Rectangles given in metres from (X0, Y0) in UTM 49N, returned in WGS-84."""
    geoms = [shapely.segmentize(box(X0 + a, Y0 + b, X0 + c, Y0 + d), 50) for a, b, c, d in boxes]
    frame = gpd.GeoDataFrame(
        {"grid_id": ids or [f"G{i}" for i in range(len(boxes))]}, geometry=geoms, crs=UTM49N
    )
    return frame.to_crs(WGS84)


def _geodesic_m2(geom: shapely.Geometry) -> float:
    """Area on the WGS-84 ellipsoid (the reference the equal-area projection must match)."""
    return abs(GEOD.geometry_area_perimeter(geom)[0])


@pytest.fixture
def boundary() -> gpd.GeoDataFrame:
    """A 2000 m x 1000 m street outline, built in UTM 49N, stored in WGS-84."""
    frame = _squares([(0, 0, 2000, 1000)])
    return frame.rename(columns={"grid_id": "boundary_id"})


# UTM's scale factor (0.9996..1.0004) makes its planar areas differ from the true ones by
# up to ~0.1%; the equal-area measurement is compared against the ellipsoid at 2e-3.
@pytest.mark.parametrize(
    ("grid_boxes", "uncovered_m2", "outside_m2"),
    [
        ([], 2_000_000, 0),
        ([(0, 0, 2000, 1000)], 0, 0),
        ([(0, 0, 1000, 1000)], 1_000_000, 0),
        ([(0, 0, 1000, 1000), (1000, 0, 1500, 500)], 750_000, 0),
        # overlapping grids are counted once
        ([(0, 0, 1200, 1000), (800, 0, 2000, 1000)], 0, 0),
        # a grid spilling outside the outline covers only its inside part
        ([(1500, 0, 2500, 1000)], 1_500_000, 500_000),
    ],
)
def test_uncovered_area_of_known_squares(boundary, grid_boxes, uncovered_m2, outside_m2):
    grids = (
        _squares(grid_boxes)
        if grid_boxes
        else gpd.GeoDataFrame({"grid_id": []}, geometry=[], crs=WGS84)
    )
    result = uncovered_area(boundary, grids)
    true_boundary = _geodesic_m2(boundary.geometry.iloc[0])
    assert result["boundary_m2"] == pytest.approx(true_boundary, rel=1e-6)
    assert result["boundary_m2"] == pytest.approx(2_000_000, rel=2e-3)
    assert result["uncovered_m2"] == pytest.approx(uncovered_m2, rel=2e-3, abs=1.0)
    assert result["covered_m2"] == pytest.approx(2_000_000 - uncovered_m2, rel=2e-3, abs=1.0)
    assert result["uncovered_share"] == pytest.approx(uncovered_m2 / 2_000_000, abs=1e-4)
    assert result["outside_m2"] == pytest.approx(outside_m2, rel=2e-3, abs=1.0)


def test_uncovered_geometry_is_the_part_in_no_grid_in_wgs84(boundary):
    grids = _squares([(0, 0, 1000, 1000)])
    uncovered = uncovered_geometry(boundary, grids)
    assert uncovered.crs.to_epsg() == 4326
    geom = uncovered.geometry.iloc[0]
    assert _geodesic_m2(geom) == pytest.approx(1_000_000, rel=2e-3)
    assert uncovered["area_m2"].iloc[0] == pytest.approx(
        uncovered_area(boundary, grids)["uncovered_m2"]
    )
    # it is the right half: its centre lies 1500 m east of the outline's corner
    centre = gpd.GeoSeries([geom.centroid], crs=WGS84).to_crs(UTM49N).iloc[0]
    assert (centre.x - X0, centre.y - Y0) == pytest.approx((1500, 500), abs=2)


def test_an_outline_without_a_crs_is_refused(boundary):
    with pytest.raises(ValueError, match="CRS"):
        uncovered_area(boundary.set_crs(None, allow_override=True), _squares([(0, 0, 10, 10)]))


@pytest.fixture
def xincheng() -> gpd.GeoDataFrame:
    """新城区, Hohhot, as published (bare array of Features, GCJ-02), converted to WGS-84."""
    if not XINCHENG.exists():
        pytest.skip(f"{XINCHENG} not available")
    features = json.loads(XINCHENG.read_text(encoding="utf-8"))
    frame = gpd.GeoDataFrame.from_features(features, crs=WGS84)
    frame["geometry"] = transform_geometry(frame.geometry.values, gcj02_to_wgs84)
    return frame


def test_real_district_outline_half_covered(xincheng):
    outline = shapely.union_all(xincheng.geometry.values)
    minx, miny, maxx, maxy = outline.bounds
    mid = (minx + maxx) / 2
    # two grids over the western half (split north/south), densified so that their edges
    # follow the meridian and parallels like the reference computation below
    west = [
        shapely.segmentize(box(minx - 0.01, miny - 0.01, mid, (miny + maxy) / 2), 0.002),
        shapely.segmentize(box(minx - 0.01, (miny + maxy) / 2, mid, maxy + 0.01), 0.002),
    ]
    grids = gpd.GeoDataFrame({"grid_id": ["W1", "W2"]}, geometry=west, crs=WGS84)
    result = uncovered_area(xincheng, grids)
    east = outline.intersection(
        shapely.segmentize(box(mid, miny - 0.01, maxx + 0.01, maxy + 0.01), 0.002)
    )
    assert result["boundary_m2"] == pytest.approx(_geodesic_m2(outline), rel=1e-5)
    assert 600e6 < result["boundary_m2"] < 800e6  # 新城区 is about 700 km²
    assert result["uncovered_m2"] == pytest.approx(_geodesic_m2(east), rel=1e-3)
    assert result["uncovered_share"] == pytest.approx(
        _geodesic_m2(east) / _geodesic_m2(outline), abs=1e-3
    )
    drawn = uncovered_geometry(xincheng, grids)
    assert drawn.crs.to_epsg() == 4326
    assert drawn.geometry.iloc[0].bounds[0] == pytest.approx(mid, abs=1e-6)


def test_gcj02_outline_is_shifted_from_wgs84(xincheng):
    """The conversion matters: the published outline sits a few hundred metres off."""
    raw = gpd.GeoDataFrame.from_features(
        json.loads(XINCHENG.read_text(encoding="utf-8")), crs=WGS84
    )
    shift = raw.to_crs(UTM49N).centroid.distance(xincheng.to_crs(UTM49N).centroid).iloc[0]
    assert 100 < shift < 1000


@pytest.mark.parametrize(
    ("grid_boxes", "pairs"),
    [
        ([(0, 0, 1000, 1000), (1000, 0, 2000, 1000)], []),  # sharing an edge is no overlap
        ([(0, 0, 1000, 1000), (900, 0, 2000, 1000)], [("G0", "G1", 100_000)]),
        ([(0, 0, 1000, 1000), (2000, 0, 3000, 1000)], []),
        (
            [(0, 0, 1000, 1000), (500, 0, 1500, 1000), (0, 0, 200, 200)],
            [("G0", "G1", 500_000), ("G0", "G2", 40_000)],
        ),
    ],
)
def test_grid_overlaps(grid_boxes, pairs):
    overlaps = grid_overlaps(_squares(grid_boxes))
    assert overlaps[["grid_a", "grid_b"]].values.tolist() == [[a, b] for a, b, _ in pairs]
    assert overlaps["overlap_m2"].tolist() == pytest.approx([m2 for *_, m2 in pairs], rel=2e-3)


# --- store-backed gap lists, work list and edits ---------------------------------------


def _day(offset: int) -> str:
    return f"{AS_OF + dt.timedelta(days=offset):%Y-%m-%d} 10:00:00"


@pytest.fixture
def store(tmp_path):
    """Two grids (G2: no party branch, no grid worker), five households, one outside."""
    store = open_store(str(tmp_path / "cov.gpkg"))
    grids = _squares([(0, 0, 1000, 1000), (1000, 0, 2000, 1000)], ["G1", "G2"])
    grids["name"] = ["一网格", "二网格"]
    grids["community"] = "东风社区"
    grids["party_branch"] = ["一网格党支部", None]
    hh = [
        ("H1", "G1", "red", 100, 100),
        ("H2", "G1", "pink", 200, 200),
        ("H3", "G2", "pink", 1200, 200),
        ("H4", "G2", None, 1300, 300),
        ("H5", None, "orange", 5000, 5000),
    ]
    points = gpd.GeoSeries([Point(X0 + x, Y0 + y) for *_, x, y in hh], crs=UTM49N).to_crs(WGS84)
    households = gpd.GeoDataFrame(
        {
            "household_id": [h[0] for h in hh],
            "grid_id": [h[1] for h in hh],
            "categories": [h[2] for h in hh],
            "address": [f"{h[0]}地址" for h in hh],
            "last_verified": ["2026-10-01"] * len(hh),
        },
        geometry=points.values,
        crs=WGS84,
    )
    # H1 (red) visited the last 5 days only: overdue since the 7-day rule broke;
    # H2 (pink) visited 29 days ago: due tomorrow; H3 (pink) 31 days ago: 1 day overdue
    visits = [("H1", _day(-d)) for d in range(5)] + [("H2", _day(-29)), ("H3", _day(-31))]
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S1"],
            "name": ["王小明", "李红", "赵警官", "王小明"],
            "role": ["grid_worker", "grid_worker", "police", "grid_worker"],
            "grid_id": ["G1", "G1", "G2", "G1"],
        }
    ).drop_duplicates(["staff_id", "grid_id"])
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("households", households)
        tx.upsert(
            "visits",
            pd.DataFrame(
                {
                    "visit_id": [f"V{i}" for i in range(len(visits))],
                    "household_id": [v[0] for v in visits],
                    "visited_at": [v[1] for v in visits],
                }
            ),
        )
        tx.upsert("staff", staff)
    return store


def test_boundary_coverage_of_a_loaded_outline(store, boundary):
    assert boundary_coverage(store) is None  # no boundary loaded yet
    outline = boundary.assign(name="新华街道")
    outline["geometry"] = shapely.multipolygons([outline.geometry.iloc[0]])
    with store.transaction() as tx:
        tx.upsert("boundary", outline)
        # make G2 half as wide: 500 m x 1000 m of the outline stays uncovered
        tx.upsert("grids", _squares([(1000, 0, 1500, 1000)], ["G2"]))
    result = boundary_coverage(store)
    assert result["uncovered_m2"] == pytest.approx(500_000, rel=2e-3)
    assert result["uncovered_share"] == pytest.approx(0.25, abs=1e-4)
    assert result["geometry"].crs.to_epsg() == 4326


def test_staff_role_matrix_counts_roles_per_grid(store):
    matrix = staff_role_matrix(store)
    assert matrix.index.tolist() == ["G1", "G2"]
    assert matrix.loc["G1", ["grid_worker", "police"]].tolist() == [2, 0]
    assert matrix.loc["G2", ["grid_worker", "police"]].tolist() == [0, 1]
    assert matrix.columns[0] == "grid_worker" and "volunteer" in matrix.columns
    assert int(matrix.to_numpy().sum()) == 3


def test_staff_role_matrix_by_community_sums_its_grids(store):
    matrix = staff_role_matrix(store, by="community")
    assert matrix.index.tolist() == ["东风社区"]
    assert matrix.loc["东风社区", ["grid_worker", "police", "lawyer"]].tolist() == [2, 1, 0]


def test_coverage_gaps_name_the_grids_that_lack_what(store):
    gaps = coverage_gaps(store, AS_OF)
    assert gaps["no_party_branch"]["grid_id"].tolist() == ["G2"]
    assert gaps["no_grid_worker"]["grid_id"].tolist() == ["G2"]
    assert gaps["unassigned"]["household_id"].tolist() == ["H5"]
    assert gaps["overlaps"].empty
    per_worker = gaps["per_worker"].set_index("grid_id")
    assert per_worker.loc["G1", "households_per_worker"] == 1.0  # 2 households, 2 workers
    assert pd.isna(per_worker.loc["G2", "households_per_worker"])
    assert gaps["per_worker"]["grid_id"].iloc[0] == "G2"  # no worker at all comes first


def test_visit_worklist_lists_due_and_overdue_households_most_overdue_first(store):
    worklist = visit_worklist(store, AS_OF)
    rows = worklist.set_index("household_id")
    assert "H2" not in rows.index  # due tomorrow, not today
    assert "H4" not in rows.index  # ordinary household, no rule
    assert rows.loc["H3", "days_overdue"] == 1
    assert rows.loc["H3", "grid_workers"] is None or pd.isna(rows.loc["H3", "grid_workers"])
    assert rows.loc["H1", "grid_workers"] == "王小明（S1）、李红（S2）"
    assert rows.loc["H1", "grid_name"] == "一网格"
    assert worklist["days_overdue"].is_monotonic_decreasing
    assert set(worklist.columns) >= {"next_due", "last_visit", "categories", "grid_id"}
    assert "lon" not in worklist.columns and "head_name" not in worklist.columns
    # the next morning H2 is due
    assert "H2" in set(visit_worklist(store, AS_OF + dt.timedelta(days=1))["household_id"])


def test_visit_worklist_reads_only_the_grids_asked_for(store):
    whole = visit_worklist(store, AS_OF)
    grid_id = whole["grid_id"].dropna().iloc[0]
    scoped = visit_worklist(store, AS_OF, where={"grid_id": [grid_id]})
    assert len(scoped) and set(scoped["grid_id"]) == {grid_id}
    assert (
        scoped["household_id"].tolist()
        == whole.loc[whole["grid_id"] == grid_id, "household_id"].tolist()
    )
    assert visit_worklist(store, AS_OF, where={"grid_id": []}).empty


def test_worklist_xlsx_has_translated_headers_and_the_rows(store):
    worklist = visit_worklist(store, AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(worklist_xlsx(worklist)))
    sheet = book["走访工作清单"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["网格编号", "网格名称", "网格员", "户编号"]
    assert sheet.max_row == len(worklist) + 1
    categories = {sheet.cell(row=r, column=5).value for r in range(2, sheet.max_row + 1)}
    assert "独居老人" in categories


def test_a_logged_visit_counts_in_the_metrics_at_once(store):
    before = compute_metrics(store, AS_OF)["visits"]["by_category"]["pink"]
    visit_id = log_visit(store, "H3", _day(0)[:10], "电话", "S3", "电话回访", actor="clerk")
    after = compute_metrics(store, AS_OF)["visits"]["by_category"]["pink"]
    assert after["compliant"] == before["compliant"] + 1
    stored = store.read("visits", where={"visit_id": visit_id})
    assert stored[["household_id", "visited_at", "kind", "staff_id", "note"]].iloc[0].tolist() == [
        "H3",
        f"{AS_OF:%Y-%m-%d} 00:00:00",
        "电话",
        "S3",
        "电话回访",
    ]
    audit = store.read("audit_log")
    assert audit[["actor", "action", "records"]].iloc[-1].tolist() == ["clerk", "log_visit", "H3"]
    assert "H3" not in set(visit_worklist(store, AS_OF)["household_id"])


def test_marking_verified_makes_households_fresh_at_once(store):
    before = compute_metrics(store, AS_OF)["freshness"]["verified_within_30_days"]
    changed = mark_verified(store, ["H1", "H2", "H1"], AS_OF, actor="clerk")
    assert changed == 2
    assert compute_metrics(store, AS_OF)["freshness"]["verified_within_30_days"] == before + 2
    assert store.read("audit_log")["action"].iloc[-1] == "mark_verified"


def test_marking_verified_keeps_a_history_for_past_days(store):
    """Verified 2026-11-01 and 2026-11-20: fresh as of 11-10 from the history, not as of 12-25."""
    mark_verified(store, ["H1"], dt.date(2026, 11, 1), actor="clerk")
    mark_verified(store, ["H1"], "2026-11-20", actor="王小明")
    history = store.read("verifications")
    assert history[["household_id", "verified_on", "actor", "source"]].values.tolist() == [
        ["H1", "2026-11-01", "clerk", "web"],
        ["H1", "2026-11-20", "王小明", "web"],
    ]
    # the others were last verified 2026-10-01 (fresh until 10-30) and have no history
    for day, fresh in [
        ("2026-10-31", 0),  # 10-01 is 31 days back, and H1's verifications were later
        ("2026-11-10", 1),  # 11-20 had not happened yet: 11-01 counts
        ("2026-11-27", 1),
        ("2026-12-19", 1),  # the 30th day counting 11-20
        ("2026-12-20", 0),
        ("2026-12-25", 0),
    ]:
        figures = compute_metrics(store, dt.date.fromisoformat(day))["freshness"]
        assert figures["verified_within_30_days"] == fresh, day


FUTURE = (now_local() + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("household", "when", "kind", "staff", "key"),
    [
        ("H1", FUTURE, "入户", None, "edit_future"),
        ("H9", _day(0), "入户", None, "edit_unknown_household"),
        ("H1", _day(0), "上门", None, "edit_bad_kind"),
        ("H1", "昨天", "入户", None, "edit_bad_time"),
        ("H1", "", "入户", None, "edit_missing_time"),
        ("H1", _day(0), "入户", "S9", "edit_unknown_staff"),
    ],
)
def test_invalid_visits_are_refused_and_nothing_is_written(
    store, household, when, kind, staff, key
):
    version = store.version()
    with pytest.raises(EditRefused) as refused:
        log_visit(store, household, when, kind, staff, None, actor="clerk")
    assert refused.value.key == key
    assert isinstance(refused.value, ValueError)
    assert refused.value.message("en") and str(refused.value)
    assert store.version() == version


@pytest.mark.parametrize(
    ("ids", "day", "key"),
    [
        (["H1", "H9", "H8"], AS_OF, "edit_unknown_household"),
        (["H1"], (now_local() + dt.timedelta(days=1)).date(), "edit_future"),
        ([], AS_OF, "edit_no_households"),
        (["H1"], "2026-13-01", "edit_bad_time"),
    ],
)
def test_invalid_verifications_are_refused_and_nothing_is_written(store, ids, day, key):
    version = store.version()
    with pytest.raises(EditRefused) as refused:
        mark_verified(store, ids, day, actor="clerk")
    assert refused.value.key == key
    assert store.version() == version
    assert (
        store.read("households", where={"household_id": "H1"})["last_verified"].iloc[0]
        == "2026-10-01"
    )


def test_unknown_households_are_named_in_the_message(store):
    with pytest.raises(EditRefused, match="H9、H8"):
        mark_verified(store, ["H1", "H9", "H8"], AS_OF, actor="clerk")


def test_english_kind_spellings_are_stored_in_chinese(store):
    visit_id = log_visit(store, "H1", _day(0), "video", None, "", actor="clerk")
    assert store.read("visits", where={"visit_id": visit_id})["kind"].iloc[0] == "视频"
