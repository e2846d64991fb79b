"""Who may see what: the ui.data loaders return only the viewer's scope, aggregates to planners."""

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.access.audit import read_audit
from geo.access.auth import Viewer
from geo.access.privacy import suppress_table
from geo.store import open_store
from ui import data

AS_OF = dt.date(2026, 11, 27)
WGS84 = "EPSG:4326"
# household id -> grid (None = outside every grid)
HOMES = {"A1": "G1", "A2": "G1", "A3": "G1", "B1": "G2", "C1": "G3", "C2": "G3", "U1": None}


@pytest.fixture
def location(tmp_path) -> str:
    """Three unit-square grids (G1, G2 in 东河社区; G3 in 北垣社区), seven households, a report per grid."""
    store = open_store(str(tmp_path / "access.gpkg"))
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "name": ["东河一", "东河二", "北垣一"],
            "community": ["东河社区", "东河社区", "北垣社区"],
            "street": "新城街道",
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)],
        crs=WGS84,
    )
    x = {"G1": 0.5, "G2": 1.5, "G3": 2.5, None: 9.0}
    households = gpd.GeoDataFrame(
        {
            "household_id": list(HOMES),
            "grid_id": list(HOMES.values()),
            "categories": ["red", None, "yellow", "red", None, None, None],
            "head_name": ["张三丰", "李四", "王五", "赵六", "钱七", "孙八", "周九"],
            "phone": [f"1381234{i:04d}" for i in range(7)],
            "id_number": [f"15010219900101{i:04d}" for i in range(7)],
            "last_verified": "2026-11-20",
        },
        geometry=[Point(x[g] + i * 0.01, 0.5) for i, g in enumerate(HOMES.values())],
        crs=WGS84,
    )
    reports = gpd.GeoDataFrame(
        {
            "report_id": ["R1", "R2", "R3"],
            "source": "hotline",
            "category": "路灯",
            "reported_at": "2026-11-25 09:00:00",
            "grid_id": ["G1", "G2", "G3"],
        },
        geometry=[Point(0.2, 0.2), Point(1.2, 0.2), Point(2.2, 0.2)],
        crs=WGS84,
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("households", households)
        tx.upsert("reports", reports)
    return store.location


def version(location: str) -> int:
    return data.data_version(location)


WORKER = Viewer("wang", "grid_worker", None, ("G1",))
STAFF = Viewer("li", "community_staff", "东河社区")
LEADER = Viewer("zhao", "street_leader")
PLANNER = Viewer("plan", "planner")
MEETING = Viewer("screen", "meeting")
PRESENTING = Viewer("wang", "grid_worker", None, ("G1",), presenting=True)


@pytest.mark.parametrize(
    ("viewer", "households", "grids"),
    [
        (WORKER, {"A1", "A2", "A3"}, {"G1"}),
        (Viewer("wu", "grid_worker", None, ("G2", "G3")), {"B1", "C1", "C2"}, {"G2", "G3"}),
        (STAFF, {"A1", "A2", "A3", "B1"}, {"G1", "G2"}),
        (LEADER, set(HOMES), {"G1", "G2", "G3"}),
        (Viewer("root", "admin"), set(HOMES), {"G1", "G2", "G3"}),
    ],
)
def test_household_roles_load_exactly_their_scope(location, viewer, households, grids):
    v = version(location)
    assert set(data.household_statuses(location, v, AS_OF, viewer)["household_id"]) == households
    assert set(data.grid_polygons(location, v, viewer)["grid_id"]) == grids
    assert set(data.grid_figures(location, v, AS_OF, viewer)["grid_id"]) == grids
    assert set(data.report_points(location, v, AS_OF, viewer)["grid_id"]) == grids


@pytest.mark.parametrize(
    ("viewer", "grid_ids", "households"),
    [
        (LEADER, ["G3"], {"C1", "C2"}),
        (LEADER, [None], {"U1"}),
        (LEADER, ["G2", None, "G1"], {"A1", "A2", "A3", "B1", "U1"}),
        (LEADER, [], set()),
        (WORKER, ["G1", "G3"], {"A1", "A2", "A3"}),  # G3 lies outside: never loaded
        (WORKER, [None], set()),  # neither are the unassigned ones
    ],
)
def test_household_statuses_of_chosen_grids_stay_within_the_scope(
    location, viewer, grid_ids, households
):
    v = version(location)
    chosen = data.household_statuses(location, v, AS_OF, viewer, grid_ids=grid_ids)
    assert set(chosen["household_id"]) == households
    if households:  # the rows are those of the whole scope's computation
        everyone = data.household_statuses(location, v, AS_OF, viewer).set_index("household_id")
        mine = chosen.set_index("household_id").sort_index()
        pd.testing.assert_frame_equal(mine, everyone.loc[mine.index].sort_index())


def test_a_grid_workers_community_row_adds_up_only_their_grids(location):
    communities = data.community_figures(location, version(location), AS_OF, WORKER)
    assert communities[["community", "households"]].values.tolist() == [["东河社区", 3]]


@pytest.mark.parametrize("viewer", [PLANNER, MEETING, PRESENTING])
def test_aggregate_viewers_get_no_household_or_report_rows(location, viewer):
    v = version(location)
    for load in (data.household_statuses, data.report_points):
        with pytest.raises(data.AccessDenied):
            load(location, v, AS_OF, viewer)
    with pytest.raises(data.AccessDenied):
        data.grid_households_masked(location, "G1", viewer)
    with pytest.raises(data.AccessDenied):
        data.reveal_household(location, "A1", viewer)


@pytest.mark.parametrize("viewer", [PLANNER, MEETING])
def test_aggregate_figures_hold_no_ids_names_or_coordinates_and_suppress_small_counts(
    location, viewer
):
    v = version(location)
    grids = data.grid_figures(location, v, AS_OF, viewer)
    communities = data.community_figures(location, v, AS_OF, viewer)
    text = grids.to_csv() + communities.to_csv()
    assert not any(h in text for h in HOMES)
    assert not any(name in text for name in ("张三丰", "李四", "13812340000"))
    assert "geometry" not in grids.columns and "lon" not in grids.columns
    by_grid = dict(zip(grids["grid_id"], grids["households"], strict=True))
    assert by_grid == {"G1": 3, "G2": "<3", "G3": "<3"}
    assert pd.isna(
        grids.loc[grids["grid_id"] == "G2", "freshness_rate"]
    ).all()  # a rate over 1 household


def test_presenting_keeps_the_scope(location):
    grids = data.grid_figures(location, version(location), AS_OF, PRESENTING)
    assert grids["grid_id"].tolist() == ["G1"]


def test_masked_households_only_inside_the_scope(location):
    masked = data.grid_households_masked(location, "G1", WORKER)
    assert masked["head_name"].tolist() == ["张**", "李*", "王*"]
    assert masked["phone"].str.fullmatch(r"138\*{4}\d{4}").all()
    assert masked["id_number"].str.fullmatch(r"150102\*{8}\d{4}").all()
    with pytest.raises(data.AccessDenied):
        data.grid_households_masked(location, "G2", WORKER)


def test_a_reveal_is_audited_and_only_inside_the_scope(location):
    store = open_store(location)
    revealed = data.reveal_household(location, "A1", WORKER)
    assert revealed == {
        "household_id": "A1",
        "head_name": "张三丰",
        "phone": "13812340000",
        "id_number": "150102199001010000",
    }
    events = read_audit(store, action="reveal")
    assert events[["actor", "records"]].values.tolist() == [["wang", "A1"]]
    assert "13812340000" not in events.to_csv()  # the log names the fields, never their values
    with pytest.raises(data.AccessDenied):
        data.reveal_household(location, "C1", WORKER)
    with pytest.raises(data.AccessDenied):
        data.reveal_household(location, "U1", STAFF)  # outside every grid: street-wide roles only
    assert len(read_audit(store, action="reveal")) == 1


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([0, 1, 2, 3], [0, "<3", "<3", 3]),
        ([5, 10, 0, 2], [5, 10, 0, "<3"]),
    ],
)
def test_suppress_table(counts, expected):
    figures = pd.DataFrame({"households": counts, "grid_workers": [1, 1, 2, 1], "fresh": counts})
    out = suppress_table(figures)
    assert out["households"].tolist() == expected
    assert out["grid_workers"].tolist() == [1, 1, 2, 1]  # staff numbers are not about residents


def test_a_reports_only_write_does_not_recompute_the_household_figures(location, monkeypatch):
    import streamlit as st

    from geo.care.coverage import log_visit
    from geo.reports.workflow import record_step

    calls = []  # every computation of the households' figures (counters or statuses)
    counters, statuses = data.household_counters_of, data.household_status
    monkeypatch.setattr(
        data,
        "household_counters_of",
        lambda store, as_of: calls.append("counters") or counters(store, as_of),
    )
    monkeypatch.setattr(
        data,
        "household_status",
        lambda store, as_of, where=None: calls.append("status") or statuses(store, as_of, where),
    )
    st.cache_data.clear()
    leader = Viewer("leader", "street_leader")
    store = open_store(location)
    before = data.data_version(location)
    first = data.grid_figures(location, before, AS_OF, leader)
    assert len(calls) == 1

    record_step(store, "R1", "responded", "clerk", at=dt.datetime(2026, 11, 26, 10, 0))
    after = data.data_version(location)
    data.note_reports_only_write(location, before, after)
    figures = data.grid_figures(location, after, AS_OF, leader)
    assert len(calls) == 1  # the households are as they were: their counters are kept
    assert int(figures["reports_responded"].sum()) == int(first["reports_responded"].sum()) + 1
    pd.testing.assert_series_equal(figures["households"], first["households"])

    # a write to households (a visit): everything is recomputed
    log_visit(store, "A1", dt.datetime(2026, 11, 27, 9, 0), "home", None, None, "clerk")
    data.grid_figures(location, data.data_version(location), AS_OF, leader)
    assert len(calls) == 2
    st.cache_data.clear()


def test_only_a_single_step_of_the_version_is_taken_as_reports_only():
    data.note_reports_only_write("somewhere", 10, 12)  # someone else wrote meanwhile
    assert data.household_version("somewhere", 12) == 12
    data.note_reports_only_write("somewhere", 12, 13)
    data.note_reports_only_write("somewhere", 13, 14)
    assert data.household_version("somewhere", 14) == 12


def test_a_visit_leaves_the_gaps_and_staff_uncomputed_but_the_work_list_fresh(
    location, monkeypatch
):
    import streamlit as st

    from geo.care.coverage import log_visit
    from ui import coverage as cov

    calls = {"gaps": 0, "worklist": 0}
    real_gaps, real_worklist = cov.coverage_gaps, cov.worklist_from_status

    def counting_gaps(store, as_of):
        calls["gaps"] += 1
        return real_gaps(store, as_of)

    def counting_worklist(store, status, as_of):
        calls["worklist"] += 1
        return real_worklist(store, status, as_of)

    monkeypatch.setattr(cov, "coverage_gaps", counting_gaps)
    monkeypatch.setattr(cov, "worklist_from_status", counting_worklist)
    leader = Viewer("leader", "street_leader")
    st.cache_data.clear()
    before = data.data_version(location)
    cov.gaps(location, before, AS_OF)
    cov.worklist(location, before, AS_OF, viewer=leader)
    log_visit(open_store(location), "A1", dt.datetime(2026, 11, 27, 9, 0), "home", None, None, "c")
    after = data.data_version(location)
    data.note_write(location, before, after, (data.STRUCTURE,))
    cov.gaps(location, after, AS_OF)
    cov.worklist(location, after, AS_OF, viewer=leader)
    assert calls == {"gaps": 1, "worklist": 2}
    st.cache_data.clear()


def test_a_visit_recomputes_only_that_households_status(location, monkeypatch):
    import streamlit as st

    from geo.care.coverage import log_visit, mark_verified
    from geo.care.rules import household_status

    wheres = []
    real = data.household_status
    monkeypatch.setattr(
        data,
        "household_status",
        lambda store, as_of, where=None: wheres.append(where) or real(store, as_of, where),
    )
    st.cache_data.clear()
    leader = Viewer("leader", "street_leader")
    store = open_store(location)
    version = data.data_version(location)
    data.household_statuses(location, version, AS_OF, leader)
    for edit in (
        lambda: log_visit(store, "A1", dt.datetime(2026, 11, 27, 9, 0), "home", None, None, "c"),
        lambda: mark_verified(store, ["B1"], AS_OF, "c"),
    ):
        before = data.data_version(location)
        edit()
        after = data.data_version(location)
        data.note_household_edit(location, before, after, ["A1" if len(wheres) == 1 else "B1"])
        patched = data.household_statuses(location, after, AS_OF, leader)
        fresh = household_status(store, AS_OF)
        pd.testing.assert_frame_equal(patched.reset_index(drop=True), fresh)
    # the whole street once, then one household per edit
    assert wheres == [None, {"household_id": ["A1"]}, {"household_id": ["B1"]}]
    st.cache_data.clear()


@pytest.fixture
def folds(monkeypatch) -> list[str]:
    """Every fold of the visits by the ui.data loaders: 'status' (the per-household frame of
    a scope) or 'counters' (the lean fold of every household, at level of detail)."""
    import streamlit as st

    calls: list[str] = []
    counters, statuses = data.household_counters_of, data.household_status
    monkeypatch.setattr(
        data,
        "household_counters_of",
        lambda store, as_of: calls.append("counters") or counters(store, as_of),
    )
    monkeypatch.setattr(
        data,
        "household_status",
        lambda store, as_of, where=None: calls.append("status") or statuses(store, as_of, where),
    )
    st.cache_data.clear()
    yield calls
    st.cache_data.clear()


@pytest.mark.parametrize("viewer", [WORKER, STAFF, LEADER], ids=lambda v: v.role)
def test_one_fold_gives_a_viewers_points_and_grid_figures(location, folds, viewer, monkeypatch):
    from geo.metrics.tables import grid_table

    monkeypatch.setenv("GRIDMAP_CARE_STATE", "off")  # no care state: every figure is a fold
    v = version(location)
    figures = data.grid_figures(location, v, AS_OF, viewer)
    statuses = data.household_statuses(location, v, AS_OF, viewer)
    data.community_figures(location, v, AS_OF, viewer)
    assert folds == ["status"]  # the frame of the viewer's scope, once: no second fold
    everyone = grid_table(open_store(location), AS_OF)
    expected = everyone[everyone["grid_id"].isin(set(figures["grid_id"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(figures, expected)
    assert int(figures["households"].sum()) == len(statuses[statuses["grid_id"].notna()])


@pytest.mark.parametrize("viewer", [WORKER, STAFF, LEADER], ids=lambda v: v.role)
def test_with_the_care_state_grid_figures_are_read_without_any_household_status(
    location, folds, viewer
):
    """Issue 16: below the point budget too, a scope's grid figures are read from the care
    state's counters: no household's status is made for them (a city's level draws none)."""
    from geo.metrics.tables import grid_table

    v = version(location)
    figures = data.grid_figures(location, v, AS_OF, viewer)
    data.community_figures(location, v, AS_OF, viewer)
    assert folds == ["counters"]
    everyone = grid_table(open_store(location), AS_OF)
    expected = everyone[everyone["grid_id"].isin(set(figures["grid_id"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(figures, expected)
    statuses = data.household_statuses(location, v, AS_OF, viewer)
    assert int(figures["households"].sum()) == len(statuses[statuses["grid_id"].notna()])


def test_above_the_level_of_detail_limit_the_figures_load_no_household_frame(
    location, folds, monkeypatch
):
    monkeypatch.setenv("GRIDMAP_MAP_MAX_POINTS", "2")
    v = version(location)
    data.grid_figures(location, v, AS_OF, STAFF)  # 4 households in scope: above the limit
    assert folds == ["counters"]
