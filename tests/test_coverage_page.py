"""AppTest of the coverage page: gaps, map and table, the work list, logging a visit."""

import datetime as dt
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from mappayload import sent_text
from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from geo.access.audit import read_audit
from geo.access.auth import add_user, load_viewer
from geo.buildings.linking import link_households
from geo.buildings.names import natural_key
from geo.care.coverage import coverage_gaps, visit_worklist
from geo.demo.build import build_demo
from geo.metrics.tables import grid_table
from geo.store import open_store
from geo.timeutil import now_local, today
from ui import session
from ui.coverage import hatch_lines, worklist_download
from ui.text import md

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/coverage.py"
PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")
WGS84 = "EPSG:4326"


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    """A demo store with 2,000 households, built once and copied per test."""
    path = tmp_path_factory.mktemp("template") / "demo.gpkg"
    build_demo(open_store(str(path)), households=2000)
    return path


@pytest.fixture
def demo_store(demo_template, tmp_path) -> str:
    """A private copy of the demo store (tests here write to it)."""
    target = tmp_path / "demo.gpkg"
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(demo_template) + suffix)
        if source.exists():
            shutil.copy(source, str(target) + suffix)
    return str(target)


def signed_in(location: str, username: str = "clerk", role: str = "admin", **scope) -> AppTest:
    """The app with ``username`` (created with ``role`` and scope if new) signed in, not yet run."""
    store = open_store(location)
    if store.read("users", where={"username": username}).empty:
        add_user(store, username, role, "a-long-password", **scope)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, username)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = username
    return at


def open_page(
    location: str, monkeypatch, username: str = "clerk", role: str = "admin", **scope
) -> AppTest:
    """The coverage page on ``location`` for a signed-in user, after its first run."""
    monkeypatch.setenv("GRIDMAP_DB", location)
    at = signed_in(location, username, role, **scope).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, first_column: str):
    return next(df.value for df in at.dataframe if df.value.columns[0] == first_column)


def map_script(at: AppTest) -> str:
    """Everything the map sends to the browser: the map itself and the page's view."""
    return sent_text(at)


def fill_form(at: AppTest, household: str, day: dt.date, kind: str = "home") -> None:
    at.text_input(key="coverage_form_household").set_value(household)
    at.date_input(key="coverage_form_day").set_value(day)
    at.radio(key="coverage_form_kind").set_value(kind)


def test_gaps_table_and_map_in_chinese(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch)
    assert at.title[0].value == "网格覆盖与走访"
    gaps = coverage_gaps(open_store(demo_store), today())
    cards = metrics(at)
    assert cards["无网格员的网格"] == str(len(gaps["no_grid_worker"]))
    assert cards["未建党支部的网格"] == str(len(gaps["no_party_branch"]))
    assert cards["不在任何网格内的户"] == str(len(gaps["unassigned"]))
    assert cards["相互重叠的网格（对）"] == str(len(gaps["overlaps"]))
    grids = table(at, "网格")
    expected = grid_table(open_store(demo_store), today())
    assert grids["网格"].tolist() == expected["grid_id"].tolist()
    assert grids["独居老人走访"].tolist() == pytest.approx(
        expected["visit_rate_red"].tolist(), nan_ok=True
    )
    assert grids["人员（一格多员）"].str.contains("网格长").all()
    assert {"网格党支部", "网格员人均户数", "信息更新率", "办结率", "超期诉求数"} <= set(
        grids.columns
    )
    if len(gaps["no_grid_worker"]):
        grid_id = gaps["no_grid_worker"]["grid_id"].iloc[0]
        assert any(md(grid_id) in w.value and "没有网格员" in w.value for w in at.warning)
    script = map_script(at)
    assert script.count('"i": "') + script.count('"i":"') >= len(expected)  # one feature per grid


def test_community_level(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch)
    at.radio(key="coverage_level").set_value("community").run()
    assert not at.exception
    communities = table(at, "社区")
    grids = open_store(demo_store).read("grids", ["grid_id", "community"])
    assert sorted(communities["社区"]) == sorted(grids["community"].unique())
    assert communities["网格数"].sum() == len(grids)


def test_page_shows_no_personal_fields(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch)
    worklist = table(at, "网格编号")
    assert worklist.columns.tolist() == [
        "网格编号", "网格名称", "网格员", "户编号", "类别", "楼栋", "上次走访", "应走访日期", "超期天数",
    ]  # fmt: skip
    households = open_store(demo_store).read(
        "households", ["head_name", "phone", "id_number", "address"]
    )
    # grid workers are staff, named on purpose; the demo draws staff and residents from one name pool
    frames = [df.value.drop(columns=["网格员"], errors="ignore") for df in at.dataframe]
    shown = " ".join(frame.to_csv() for frame in frames) + map_script(at)
    assert not PHONE.search(shown)
    assert not [v for v in households["id_number"].dropna() if v in shown]
    assert not [v for v in households["address"].dropna() if v in shown]
    assert not [v for v in households["head_name"].dropna() if len(v) >= 2 and v in shown]


def test_uncovered_part_of_a_loaded_boundary(demo_store, monkeypatch):
    store = open_store(demo_store)
    grids = store.read("grids", ["grid_id"])
    metric = grids.to_crs(grids.estimate_utm_crs())
    minx, miny, maxx, maxy = metric.total_bounds
    # the grids' outline plus a 200 m x 300 m strip east of them: 60,000 m² uncovered
    outline = shapely.union_all([*metric.geometry, box(maxx, miny, maxx + 200, miny + 300)])
    boundary = gpd.GeoDataFrame(
        {"boundary_id": ["B1"], "name": ["test"]}, geometry=[outline], crs=metric.crs
    )
    with store.transaction() as tx:
        tx.replace("boundary", boundary.to_crs(WGS84))
    at = open_page(demo_store, monkeypatch)
    card = metrics(at)["辖区未覆盖面积"]
    assert card == "0.060 km²"
    warning = next(w.value for w in at.warning if "不属于任何网格" in w.value)
    assert re.search(r"(59,9\d\d|60,0\d\d) m²", warning)
    script = map_script(at)
    assert "#c62828" in script and "辖区内未被网格覆盖" in script


def test_no_boundary_says_how_to_load_one(demo_store, monkeypatch):
    store = open_store(demo_store)
    with store.transaction() as tx:
        tx.delete(
            "boundary",
            {"boundary_id": store.read("boundary", ["boundary_id"])["boundary_id"].tolist()},
        )
    at = open_page(demo_store, monkeypatch)
    assert metrics(at)["辖区未覆盖面积"] == "—"
    assert any("尚未导入辖区边界" in c.value for c in at.caption)
    assert not any("gridmap" in c.value for c in at.caption)  # no developer command for a clerk


def test_logging_a_visit_updates_worklist_and_compliance(demo_store, monkeypatch):
    store = open_store(demo_store)
    due = visit_worklist(store, today())
    monthly = due[
        ~due["categories"].fillna("").str.contains("red|yellow")
    ]  # one visit satisfies these
    household = monthly["household_id"].iloc[0]
    grid_id = monthly["grid_id"].iloc[0]
    before = grid_table(store, today()).set_index("grid_id").loc[grid_id, "visit_compliant"]
    visits_before = store.count("visits")
    at = open_page(demo_store, monkeypatch)
    fill_form(at, household, today(), "phone")
    at.button(key="coverage_form_log").click().run()
    assert not at.exception
    assert any(household in s.value for s in at.success)
    assert store.count("visits") == visits_before + 1
    logged = store.read("visits", where={"household_id": household})
    assert "电话" in set(logged["kind"])
    assert household not in set(table(at, "网格编号")["户编号"])
    after = grid_table(store, today()).set_index("grid_id").loc[grid_id, "visit_compliant"]
    assert after == before + 1
    rate = table(at, "网格").set_index("网格").loc[grid_id, "走访达标率"]
    assert rate == pytest.approx(
        grid_table(store, today()).set_index("grid_id").loc[grid_id, "visit_rate"]
    )


@pytest.mark.parametrize(
    ("household", "day_offset", "message"),
    [
        ("H0000001", 1, "晚于现在"),
        ("NO-SUCH-HOUSEHOLD", 0, "没有这些户编号"),
    ],
)
def test_refused_visit_writes_nothing(demo_store, monkeypatch, household, day_offset, message):
    store = open_store(demo_store)
    at = open_page(demo_store, monkeypatch)
    version, visits = store.version(), store.count("visits")
    fill_form(at, household, today() + dt.timedelta(days=day_offset))
    at.button(key="coverage_form_log").click().run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert store.version() == version
    assert store.count("visits") == visits


def test_a_visit_logged_while_an_import_holds_the_store_says_so_and_keeps_the_form(
    demo_store, monkeypatch
):
    """The store's write lock taken by another writer (an import's final copy) past the wait:
    a Chinese message, no traceback, nothing written, the typed values still in the form."""
    import sqlite3

    from geo.store import geopackage as store_module

    store = open_store(demo_store)
    household = store.read("households", ["household_id"])["household_id"].iloc[0]
    at = open_page(demo_store, monkeypatch)
    fill_form(at, household, today(), "phone")
    at.text_input(key="coverage_form_note").set_value("老人说腿疼，下周再来")
    visits = store.count("visits")
    monkeypatch.setattr(store_module, "WRITE_WAIT_SECONDS", 0.5)
    importer = sqlite3.connect(demo_store, isolation_level=None)
    importer.execute("BEGIN IMMEDIATE")
    try:
        at.button(key="coverage_form_log").click().run()
    finally:
        importer.execute("ROLLBACK")
        importer.close()
    assert not at.exception
    assert any("数据正在导入，暂时无法保存" in e.value for e in at.error)
    assert store.count("visits") == visits
    assert at.text_input(key="coverage_form_household").value == household
    assert at.text_input(key="coverage_form_note").value == "老人说腿疼，下周再来"
    at.button(key="coverage_form_log").click().run()  # saving again once the import is done
    assert not at.exception
    assert store.count("visits") == visits + 1


def test_mark_reverified_today_raises_freshness(demo_store, monkeypatch):
    store = open_store(demo_store)
    households = store.read("households", ["household_id", "last_verified", "grid_id"])
    stale = households[
        households["last_verified"].fillna("") < (today() - dt.timedelta(days=40)).isoformat()
    ]
    household, grid_id = stale[["household_id", "grid_id"]].iloc[0]
    at = open_page(demo_store, monkeypatch)
    before = table(at, "网格").set_index("网格").loc[grid_id, "信息更新率"]
    at.text_input(key="coverage_form_household").set_value(household)
    at.button(key="coverage_form_verify").click().run()
    assert not at.exception
    assert any(household in s.value for s in at.success)
    row = store.read("households", ["last_verified"], where={"household_id": household})
    assert row["last_verified"].iloc[0] == today().isoformat()
    after = table(at, "网格").set_index("网格").loc[grid_id, "信息更新率"]
    in_grid = int((households["grid_id"] == grid_id).sum())
    assert after == pytest.approx(before + 1 / in_grid, abs=1e-4)  # rates are rounded to 4 places
    events = read_audit(store, action="mark_verified")
    assert events["records"].str.contains(household).any()
    assert events["actor"].tolist() == ["clerk"]  # edits are logged under the signed-in user


def test_worklist_download_is_audited(demo_store):
    store = open_store(demo_store)
    due = visit_worklist(store, today()).drop(columns=["address"])
    data = worklist_download(demo_store, due, "zh-CN", "tester", today())()
    assert data[:2] == b"PK"
    events = read_audit(store, action="export")
    assert events["actor"].tolist() == ["tester"]
    assert set(events["records"].iloc[0].split(";")) == set(due["household_id"])


@pytest.mark.parametrize("shape", [box(0, 0, 1, 1), box(0, 0, 4, 1), shapely.Point(0, 0).buffer(1)])
def test_hatch_lines_stay_inside_the_area(shape):
    lines = hatch_lines(shape, lines=20)
    assert not lines.is_empty
    assert shape.buffer(1e-9).covers(lines)
    assert 10 <= len(shapely.get_parts(lines)) <= 60


def test_hatch_of_nothing_is_empty():
    assert hatch_lines(shapely.Polygon()).is_empty


def test_a_grid_worker_sees_only_their_grid(demo_store, monkeypatch):
    store = open_store(demo_store)
    due = visit_worklist(store, today())
    grid_id = due["grid_id"].value_counts().index[0]
    at = open_page(demo_store, monkeypatch, "worker", "grid_worker", grids=[grid_id])
    assert set(table(at, "网格编号")["网格编号"]) == {grid_id}
    assert table(at, "网格")["网格"].tolist() == [grid_id]
    assert metrics(at)["辖区未覆盖面积"] == "—"  # the street's outline is not a grid worker's


def _walk_keys(location: str, rows) -> list[tuple]:
    """(building name's natural key, unit, floor, door) of work-list rows, from the store's
    buildings and the households' building and address (a grid worker's walk)."""
    buildings = open_store(location).read_attributes(
        "buildings", ["building_id", "grid_id", "name"]
    )
    links = link_households(rows.reset_index(drop=True), buildings)
    stored = dict(zip(buildings["building_id"], buildings["name"], strict=True))
    # a building the store does not know goes by the household's own text
    names = links["building_id"].map(stored).fillna(rows["building"].reset_index(drop=True))
    big = 10**6

    def number(v) -> int:
        return big if pd.isna(v) else int(v)

    return [
        ((0, natural_key(n)) if isinstance(n, str) else (1, ()), *map(number, (u, f, d)))
        for n, u, f, d in zip(names, links["unit"], links["floor"], links["door"], strict=True)
    ]


def test_a_grid_workers_list_goes_building_by_building(demo_store, monkeypatch):
    store = open_store(demo_store)
    due = visit_worklist(store, today())
    buildings = store.read_attributes("buildings", ["grid_id"])
    grid_id = due[due["grid_id"].isin(buildings["grid_id"])]["grid_id"].value_counts().index[0]
    at = open_page(demo_store, monkeypatch, "worker", "grid_worker", grids=[grid_id])
    shown = table(at, "网格编号")
    assert any("按走访路线排列" in c.value for c in at.caption)
    mine = due[due["grid_id"] == grid_id].set_index("household_id")
    assert sorted(shown["户编号"]) == sorted(mine.index)
    rows = mine.loc[shown["户编号"]].reset_index()
    keys = _walk_keys(demo_store, rows)
    assert len({k[0] for k in keys}) > 1  # several buildings to walk
    assert keys == sorted(keys)  # building, then unit, floor and door
    overdue = rows["days_overdue"].tolist()
    for i in range(1, len(keys)):
        if keys[i] == keys[i - 1]:  # the same door: the most overdue first
            assert overdue[i] <= overdue[i - 1]
    # a leader's whole list stays most overdue first; one grid chosen, it is that grid's walk
    at = open_page(demo_store, monkeypatch)
    whole = table(at, "网格编号")
    assert whole["超期天数"].tolist() == sorted(whole["超期天数"], reverse=True)
    assert not any("按走访路线排列" in c.value for c in at.caption)
    at.selectbox(key="coverage_worklist_grid").set_value(grid_id).run()
    assert table(at, "网格编号")["户编号"].tolist() == shown["户编号"].tolist()


def test_a_planner_sees_aggregates_only(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch, "planner", "planner")
    assert not any(df.value.columns[0] == "网格编号" for df in at.dataframe)  # no work list
    assert any("汇总视图" in info.value for info in at.info)
    assert len(table(at, "网格")) == open_store(demo_store).count("grids")


@pytest.mark.parametrize("button", ["coverage_form_log", "coverage_form_verify"])
def test_a_grid_worker_cannot_edit_another_grids_household(demo_store, monkeypatch, button):
    store = open_store(demo_store)
    households = store.read_attributes("households", ["household_id", "grid_id"])
    own, other = sorted(households["grid_id"].dropna().unique())[:2]
    household = households[households["grid_id"] == other]["household_id"].iloc[0]
    at = open_page(demo_store, monkeypatch, "worker", "grid_worker", grids=[own])
    version, visits = store.version(), store.count("visits")
    fill_form(at, household, today())
    at.button(key=button).click().run()
    assert not at.exception
    assert any("没有这些户编号" in e.value for e in at.error)  # reads as unknown, not "not yours"
    assert not any(household in s.value for s in at.success)
    assert store.version() == version
    assert store.count("visits") == visits


def test_a_grid_workers_visit_form_lists_only_their_grids_staff(demo_store, monkeypatch):
    staff = open_store(demo_store).read_attributes("staff", ["staff_id", "grid_id"])
    own = sorted(staff["grid_id"].unique())[0]
    mine = set(staff.loc[staff["grid_id"] == own, "staff_id"])
    others = set(staff["staff_id"]) - mine
    at = open_page(demo_store, monkeypatch, "worker", "grid_worker", grids=[own])
    options = " ".join(at.selectbox(key="coverage_form_staff").options)
    assert all(f"({s})" in options for s in mine)
    assert not any(f"({s})" in options for s in others)
