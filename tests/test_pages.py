"""AppTest smoke tests: every registered page runs, and the map page shows what it should."""

import ast
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from mappayload import drawn_payload, sent_text
from signin import sign_in
from streamlit.testing.v1 import AppTest

from geo.demo.build import build_demo
from geo.store import open_store
from ui.mapview import grid_id_from_tooltip

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")  # a mobile number standing alone


def registered_pages() -> list[str]:
    """Page files named in app.py's PAGES table."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    names = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("pages/")
    ]
    return list(dict.fromkeys(names))  # a file is also named in AGGREGATE_FORMS


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    """A small demo store (8 grids, 600 households)."""
    location = str(tmp_path_factory.mktemp("store") / "demo.gpkg")
    build_demo(open_store(location), households=600)
    return location


@pytest.fixture
def app(demo_store, monkeypatch) -> AppTest:
    """The app on the demo store, signed in as an admin (every page registered)."""
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    return sign_in(AppTest.from_file(APP, default_timeout=60).run(), demo_store)


def map_args(at: AppTest) -> dict:
    """The arguments of the st_folium component (its script holds the whole map)."""
    components = at.get("component_instance")
    assert len(components) == 1
    return json.loads(components[0].proto.json_args)


def map_payload(at: AppTest) -> dict:
    """The map as drawn: the map's payload with the page's view applied."""
    return drawn_payload(at)


def test_every_page_file_is_registered():
    assert sorted(registered_pages()) == sorted(
        f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")
    )


@pytest.mark.parametrize("page", registered_pages())
def test_every_page_runs(app, page):
    app.switch_page(page).run()
    assert not app.exception


def test_map_page_draws_every_household_in_chinese(app, demo_store):
    assert not app.exception
    assert app.title[0].value == "网格民情地图"
    payload = map_payload(app)
    assert payload["h"]["n"] == open_store(demo_store).count("households")
    assert len(payload["g"]["features"]) == open_store(demo_store).count("grids")
    assert "独居老人" in payload["legend"]
    args = map_args(app)
    assert args["returned_objects"] == ["last_object_clicked_tooltip"]  # pans never rerun the page
    assert all(link.startswith("/app/static/") for link in args["js_links"] + args["css_links"])


def test_map_payload_holds_no_personal_fields(app, demo_store):
    households = open_store(demo_store).read(
        "households", columns=["head_name", "phone", "id_number"]
    )
    script = sent_text(app)
    assert not PHONE.search(script)
    leaked = [
        v for column in ("phone", "id_number") for v in households[column].dropna() if v in script
    ]
    assert leaked == []
    names = set(households["head_name"].dropna())
    assert not any(name in script for name in names if len(name) >= 2)


def test_switching_to_english(app):
    app.selectbox(key="ui_lang").set_value("en").run()
    assert not app.exception
    assert app.title[0].value == "Grid community map"
    assert "elderly living alone" in map_payload(app)["legend"]


def test_drill_down_to_a_grid_shows_masked_households(app, demo_store):
    grid_id = open_store(demo_store).read("grids", columns=["grid_id"])["grid_id"].iloc[0]
    app.selectbox(key="map_grid").set_value(grid_id).run()
    assert not app.exception
    payload = map_payload(app)
    in_grid = open_store(demo_store).read(
        "households", columns=["household_id"], where={"grid_id": grid_id}
    )
    assert payload["h"]["n"] == len(in_grid)
    assert [f["properties"]["i"] for f in payload["g"]["features"] if f["properties"]["s"]] == [
        grid_id
    ]
    tables = [df.value for df in app.dataframe]
    households = next(t for t in tables if "户编号" in t.columns)
    assert len(households) == len(in_grid)
    phones = households["电话"].astype(str)
    assert phones.str.fullmatch(r"(\d{3}\*{4}\d{4})?").all()
    ids = households["身份证号"].astype(str)
    assert ids.str.fullmatch(r"(\d{6}\*{8}[\dX]{4})?").all()
    assert households["户主"].astype(str).str.fullmatch(r"(.\*+)?").all()
    assert {"最近走访", "下次应走访"} <= set(households.columns)


def test_filters_only_overdue_and_a_category(app):
    everyone = map_payload(app)["h"]["n"]
    app.toggle(key="map_only_overdue").set_value(True).run()
    overdue = map_payload(app)["h"]
    assert 0 < overdue["n"] < everyone
    assert all(c & 128 for c in overdue["c"])
    app.toggle(key="map_only_overdue").set_value(False)
    app.multiselect(key="map_categories").set_value(["red"]).run()
    reds = map_payload(app)["h"]
    assert 0 < reds["n"] < everyone and all(c & 1 for c in reds["c"])


def test_report_overlay(app, demo_store):
    app.toggle(key="map_show_reports").set_value(True).run()
    assert not app.exception
    reports = map_payload(app)["r"]
    assert 0 < reports["n"] <= open_store(demo_store).count("reports")
    app.toggle(key="map_reports_heat").set_value(True).run()
    assert map_payload(app)["heat"] is True


def test_level_of_detail_ships_points_only_for_a_chosen_grid(demo_store, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    monkeypatch.setenv("GRIDMAP_MAP_MAX_POINTS", "100")
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), demo_store)
    assert not at.exception
    payload = map_payload(at)
    assert payload["h"]["n"] == 0
    assert sum(f["properties"]["k"] for f in payload["g"]["features"]) == open_store(
        demo_store
    ).count("households")
    assert any("600" in info.value for info in at.info)
    grid_id = open_store(demo_store).read("grids", columns=["grid_id"])["grid_id"].iloc[0]
    at.selectbox(key="map_grid").set_value(grid_id).run()
    in_grid = open_store(demo_store).read(
        "households", columns=["household_id"], where={"grid_id": grid_id}
    )
    assert map_payload(at)["h"]["n"] == len(in_grid) > 0


def _map_figures(at: AppTest) -> tuple[list[str], dict[str, str]]:
    """The key-figure cards and the legend's counts (data-code -> count) of the map page."""
    legend = map_payload(at)["legend"]
    counts = dict(re.findall(r'data-code="([^"]+)"[^>]*>.*?<b>(\d+)</b>', legend))
    return [m.value for m in at.metric], counts


@pytest.fixture
def counted_statuses(monkeypatch) -> list:
    """Every ``where`` household_status is called with by the map page's loader."""
    import streamlit as st

    from ui import data

    calls = []
    real = data.household_status

    def counting(store, as_of, where=None):
        calls.append(where)
        return real(store, as_of, where=where)

    st.cache_data.clear()  # a cached frame would hide the calls
    monkeypatch.setattr(data, "household_status", counting)
    yield calls
    st.cache_data.clear()


def test_grid_totals_above_max_points_load_no_household_of_the_grids(
    tmp_path, monkeypatch, counted_statuses
):
    location = str(tmp_path / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=600)
    loose = store.read("households", columns=["household_id"])["household_id"].iloc[:3].tolist()
    with store.transaction() as tx:  # unassigned households count for the whole area
        tx.set_grid_ids("households", loose, [None] * len(loose))
    monkeypatch.setenv("GRIDMAP_DB", location)
    full = sign_in(AppTest.from_file(APP, default_timeout=60).run(), location)
    expected = {}
    for street in ("", full.selectbox(key="map_street").value):  # the one street: preselected
        full.selectbox(key="map_street").set_value(street).run()
        assert not full.exception
        assert map_payload(full)["h"]["n"] == (600 if street == "" else 597)
        expected[street] = _map_figures(full)
    assert counted_statuses == [None]  # the full computation, for reference

    counted_statuses.clear()
    monkeypatch.setenv("GRIDMAP_MAP_MAX_POINTS", "100")
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), location)
    assert not at.exception
    assert counted_statuses == []  # a street: no household loaded at all
    for street in (at.selectbox(key="map_street").value, ""):
        at.selectbox(key="map_street").set_value(street).run()
        assert not at.exception
        assert map_payload(at)["h"]["n"] == 0
        cards, legend = expected[street]
        lod_cards, lod_legend = _map_figures(at)
        assert lod_cards == cards
        assert "several" in legend and "several" not in lod_legend  # the grids do not count it
        assert lod_legend == {k: v for k, v in legend.items() if k != "several"}
        assert int(lod_legend["overdue"]) > 0 and int(lod_legend["ordinary"]) > 0
    assert counted_statuses == [{"grid_id": None}]  # the whole area: only the unassigned ones

    community = sorted(c for c in store.read("grids", columns=["community"])["community"] if c)[0]
    at.selectbox(key="map_community").set_value(community).run()
    in_community = store.read("grids", columns=["grid_id"], where={"community": community})
    assert counted_statuses[1:] == [{"grid_id": sorted(in_community["grid_id"])}]
    assert map_payload(at)["h"]["n"] > 0


def test_a_whole_area_filter_above_max_points_draws_its_counts_per_grid_not_points(
    tmp_path, monkeypatch, counted_statuses
):
    """Issue 16: a category or "only overdue" over a whole area above the point budget sends
    no household: the grids carry how many of their households the filter leaves (as when
    the points are drawn), and the tiles and the legend count the same households."""
    location = str(tmp_path / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=600)
    loose = store.read("households", columns=["household_id"])["household_id"].iloc[:3].tolist()
    with store.transaction() as tx:  # unassigned households count for the whole area
        tx.set_grid_ids("households", loose, [None] * len(loose))
    monkeypatch.setenv("GRIDMAP_DB", location)

    def filtered(at: AppTest, step: str) -> AppTest:
        at.selectbox(key="map_street").set_value("").run()
        if step in ("category", "both"):
            code = at.multiselect(key="map_categories").options[0]
            at.multiselect(key="map_categories").select(code).run()
        if step in ("overdue", "both"):
            at.toggle(key="map_only_overdue").set_value(True).run()
        assert not at.exception
        return at

    import streamlit as st

    for step in ("category", "overdue", "both"):
        st.cache_data.clear()
        monkeypatch.delenv("GRIDMAP_MAP_MAX_POINTS", raising=False)
        full = filtered(sign_in(AppTest.from_file(APP, default_timeout=60).run(), location), step)
        drawn = map_payload(full)
        assert 0 < drawn["h"]["n"] < 590  # every household is a point: the filter's are drawn
        counts = {f["properties"]["i"]: f["properties"]["k"] for f in drawn["g"]["features"]}
        order = [f["properties"]["i"] for f in drawn["g"]["features"]]
        per_grid = pd.Series([order[g] for g in drawn["h"]["g"] if g >= 0]).value_counts()
        assert counts == {g: int(per_grid.get(g, 0)) for g in order}
        cards, legend = _map_figures(full)

        st.cache_data.clear()
        counted_statuses.clear()
        monkeypatch.setenv("GRIDMAP_MAP_MAX_POINTS", "590")  # 600 households: above it
        lod = filtered(sign_in(AppTest.from_file(APP, default_timeout=60).run(), location), step)
        payload = map_payload(lod)
        assert payload["h"]["n"] == 0 and payload["h"]["id"] == ""  # no household sent
        assert {f["properties"]["i"]: f["properties"]["k"] for f in payload["g"]["features"]} == (
            counts
        )
        assert _map_figures(lod) == (cards, legend)
        assert None not in counted_statuses  # no status frame of every household
        assert any(f"{drawn['h']['n']:,}" in info.value for info in lod.info)


def test_empty_store_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DB", str(tmp_path / "none.gpkg"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "gridmap demo" in at.info[0].value
    assert not (tmp_path / "none.gpkg").exists()  # looking creates nothing


@pytest.mark.parametrize(
    ("tooltip", "expected"),
    [
        ("XC-DH-01 · 东河社区第1网格社区: 东河社区户数: 300", "XC-DH-01"),
        ("G 7 · x", "G 7"),
        ("no separator here", None),
        (" · nameless", None),
    ],
)
def test_grid_id_from_tooltip(tooltip, expected):
    assert grid_id_from_tooltip(tooltip) == expected


def viewing_app(location: str, role: str, *, meeting: bool = False, **scope) -> AppTest:
    """The app signed in (session state, as app.py keeps it) as a ``role`` account, on the map."""
    from signin import ensure_user

    from geo.access.auth import load_viewer
    from geo.timeutil import now_local
    from ui import session

    name = ensure_user(location, f"view_{role}_{len(scope)}", role, **scope)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[session.VIEWER_KEY] = load_viewer(open_store(location), name)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = name
    at.session_state[session.MEETING_KEY] = meeting
    at.run()
    assert not at.exception
    return at


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def aggregate_table(at: AppTest, first_column: str) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if df.value.columns[0] == first_column)


@pytest.fixture(scope="module")
def reports_store(tmp_path_factory) -> str:
    """A demo store with open reports (2,000 households: grids with 1 or 2 open reports)."""
    location = str(tmp_path_factory.mktemp("reports") / "demo.gpkg")
    build_demo(open_store(location), households=2000)
    return location


def suppressed(count: int) -> str:
    return "<3" if 0 < count < 3 else f"{count:,}"


def raw_figures(location: str) -> pd.DataFrame:
    from geo.metrics.tables import grid_table
    from geo.timeutil import today

    return grid_table(open_store(location), today())


@pytest.mark.parametrize("role", ["street_leader", "community_staff", "planner"])
def test_meeting_tiles_show_the_figure_the_table_adds_up_to(reports_store, monkeypatch, role):
    demo_store = reports_store
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    grids = raw_figures(demo_store)
    community = sorted(grids["community"].unique())[0]
    scope = {"community": community} if role == "community_staff" else {}
    at = viewing_app(demo_store, role, meeting=role != "planner", **scope)
    in_scope = grids if not scope else grids[grids["community"] == community]
    expected = int(in_scope["reports_open"].sum())
    assert expected >= 3 and tiles(at)["未办结诉求"] == suppressed(expected)
    table = aggregate_table(at, "社区")  # the communities' figures, summed before suppression
    cells = table["未办结诉求"].tolist()
    if "<3" not in cells:
        assert sum(int(c.replace(",", "")) for c in cells) == expected
    # one grid: its tile and its table cell agree ("<3" for 1 or 2, never 0)
    small = in_scope[in_scope["reports_open"].between(1, 2)]
    assert len(small), "the demo has grids with 1 or 2 open reports"
    grid_id = small["grid_id"].iloc[0]
    at.selectbox(key="map_community").set_value(small["community"].iloc[0]).run()
    at.selectbox(key="map_grid").set_value(grid_id).run()
    assert not at.exception
    assert tiles(at)["未办结诉求"] == "<3"
    row = aggregate_table(at, "网格").set_index("网格").loc[grid_id]
    assert row["未办结诉求"] == "<3"


def test_a_grid_worker_in_meeting_mode_walks_every_grid_without_a_crash(reports_store, monkeypatch):
    demo_store = reports_store
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    grids = raw_figures(demo_store)
    own = grids.sort_values("reports_open")["grid_id"].iloc[-2:].tolist()
    at = viewing_app(demo_store, "grid_worker", meeting=True, grids=own)
    for grid_id in ["", *own]:
        at.selectbox(key="map_grid").set_value(grid_id).run()
        assert not at.exception
        expected = int(
            grids[grids["grid_id"].isin([grid_id] if grid_id else own)]["reports_open"].sum()
        )
        assert tiles(at)["未办结诉求"] == suppressed(expected)
    payload = map_payload(at)
    assert payload["h"]["n"] == 0
    for page in ("pages/coverage.py", "pages/weekly.py"):
        at.switch_page(page).run()
        assert not at.exception


def test_filters_reach_the_tiles_and_the_table(demo_store, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    at = viewing_app(demo_store, "street_leader")
    grid_id = raw_figures(demo_store).sort_values("n_red")["grid_id"].iloc[-1]
    at.selectbox(key="map_grid").set_value(grid_id).run()
    everyone = tiles(at)["户数"]
    at.multiselect(key="map_categories").set_value(["red"])
    at.toggle(key="map_only_overdue").set_value(True).run()
    assert not at.exception
    drawn = map_payload(at)["h"]["n"]
    table = next(df.value for df in at.dataframe if "户编号" in df.value.columns)
    assert 0 < drawn < int(everyone.replace(",", ""))
    assert tiles(at)["户数"] == f"{drawn:,}" == f"{len(table):,}"
    assert tiles(at)["关爱户"] == f"{drawn:,}" and tiles(at)["走访达标率"] == "0.0%"
    assert table["类别"].str.contains("独居老人").all() and (table["走访已逾期"] == "是").all()


def test_cared_for_households_are_listed_first(demo_store, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    at = viewing_app(demo_store, "street_leader")
    at.selectbox(key="map_grid").set_value(raw_figures(demo_store)["grid_id"].iloc[0]).run()
    table = next(df.value for df in at.dataframe if "户编号" in df.value.columns)
    ordinary = (table["类别"] == "普通户").to_numpy()
    assert ordinary.any() and not ordinary.all()
    assert not ordinary[: (~ordinary).sum()].any()  # every cared-for household before the rest


def test_choosing_every_community_resets_the_grid(demo_store, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    at = viewing_app(demo_store, "street_leader")
    grids = raw_figures(demo_store)
    at.selectbox(key="map_community").set_value(grids["community"].iloc[0]).run()
    at.selectbox(key="map_grid").set_value(grids["grid_id"].iloc[0]).run()
    at.selectbox(key="map_community").set_value("").run()
    assert not at.exception
    assert at.selectbox(key="map_grid").value == ""
    assert tiles(at)["网格数"] == str(len(grids))
