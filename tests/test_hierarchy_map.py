"""Issue 16: the map page's drill-down at every level of a city (AppTest), and the district
leader's pages.

The store is the street-office demo with its eight grids given districts and streets by hand:
XC-DH-01..04 新城区/东风路街道/东河社区, XC-DH-05..06 新城区/海拉尔东路街道/北垣社区 and
XC-DH-07..08 回民区/环河街街道/光明社区. A store whose grids name no district keeps today's page.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from mappayload import drawn_payload, sent_text
from signin import sign_in
from streamlit.testing.v1 import AppTest

from geo.demo.build import build_demo
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PLACES = {
    "XC-DH-01": ("新城区", "东风路街道", "东河社区"),
    "XC-DH-02": ("新城区", "东风路街道", "东河社区"),
    "XC-DH-03": ("新城区", "东风路街道", "东河社区"),
    "XC-DH-04": ("新城区", "东风路街道", "东河社区"),
    "XC-DH-05": ("新城区", "海拉尔东路街道", "北垣社区"),
    "XC-DH-06": ("新城区", "海拉尔东路街道", "北垣社区"),
    "XC-DH-07": ("回民区", "环河街街道", "光明社区"),
    "XC-DH-08": ("回民区", "环河街街道", "光明社区"),
}


def _city(location: str) -> None:
    store = open_store(location)
    build_demo(store, households=2400)
    grids = store.read("grids")
    grids["district"] = grids["grid_id"].map(lambda g: PLACES[g][0])
    grids["street"] = grids["grid_id"].map(lambda g: PLACES[g][1])
    grids["community"] = grids["grid_id"].map(lambda g: PLACES[g][2])
    with store.transaction() as tx:
        tx.replace("grids", grids)


@pytest.fixture(scope="module")
def city_store(tmp_path_factory) -> str:
    location = str(tmp_path_factory.mktemp("city") / "city.gpkg")
    _city(location)
    return location


@pytest.fixture(scope="module")
def street_store(tmp_path_factory) -> str:
    location = str(tmp_path_factory.mktemp("street") / "street.gpkg")
    build_demo(open_store(location), households=2400)
    return location


def _app(location: str, monkeypatch, role: str = "admin", **scope) -> AppTest:
    monkeypatch.setenv("GRIDMAP_DB", location)
    at = AppTest.from_file(APP, default_timeout=90).run()
    return sign_in(at, location, role, **scope)


def _households_by_grid(location: str) -> pd.Series:
    return open_store(location).read_attributes("households", ["grid_id"])["grid_id"].value_counts()


def _table(at: AppTest, first_column: str) -> pd.DataFrame:
    return next(df.value for df in at.dataframe if df.value.columns[0] == first_column)


def _tile(at: AppTest, label: str) -> int:
    value = next(m.value for m in at.metric if m.label == label)
    return int(str(value).replace(",", ""))


def _areas(at: AppTest) -> list[str]:
    return [f["properties"]["i"] for f in drawn_payload(at)["g"]["features"]]


def test_a_street_office_store_keeps_todays_page_and_a_city_gains_the_district_level(
    street_store, city_store, monkeypatch
):
    street = _app(street_store, monkeypatch)
    assert not street.exception
    assert "map_district" not in [s.key for s in street.selectbox]
    assert not [b for b in street.button if str(b.key).startswith("map_crumb_")]
    assert sorted(_areas(street)) == sorted(PLACES)  # its grids, as today
    assert drawn_payload(street)["h"]["n"] == 2400
    city = _app(city_store, monkeypatch)
    assert not city.exception
    assert city.selectbox(key="map_district").options == ["全部", "回民区", "新城区"]
    assert _areas(city) == ["回民区", "新城区"]  # the city's districts as areas, no grid
    assert drawn_payload(city)["h"]["n"] == 0  # no household drawn above the street


def test_drilling_down_each_levels_figures_are_the_sums_of_its_children(city_store, monkeypatch):
    per_grid = _households_by_grid(city_store)
    at = _app(city_store, monkeypatch)
    districts = _table(at, "区县").set_index("区县")
    assert districts.loc["新城区", "户数"] == per_grid[[g for g in PLACES if g < "XC-DH-07"]].sum()
    assert districts.loc["回民区", "网格数"] == 2
    assert districts["户数"].sum() == _tile(at, "户数")  # the city is the sum of its districts

    at.selectbox(key="map_district").set_value("新城区").run()
    assert not at.exception
    assert _areas(at) == ["东风路街道", "海拉尔东路街道"]
    streets = _table(at, "街道").set_index("街道")
    assert streets["户数"].sum() == districts.loc["新城区", "户数"] == _tile(at, "户数")
    assert [b.label for b in at.button if str(b.key).startswith("map_crumb_")] == ["全市", "新城区"]

    at.selectbox(key="map_street").set_value("海拉尔东路街道").run()
    assert not at.exception
    assert sorted(_areas(at)) == ["XC-DH-05", "XC-DH-06"]  # the street's grids
    payload = drawn_payload(at)
    assert payload["h"]["n"] == per_grid[["XC-DH-05", "XC-DH-06"]].sum()  # its households only
    communities = _table(at, "社区").set_index("社区")
    assert communities["户数"].sum() == streets.loc["海拉尔东路街道", "户数"]

    at.selectbox(key="map_community").set_value("北垣社区").run()
    assert not at.exception
    grids = _table(at, "网格").set_index("网格")
    assert grids["户数"].sum() == communities.loc["北垣社区", "户数"] == _tile(at, "户数")

    at.selectbox(key="map_grid").set_value("XC-DH-06").run()
    assert not at.exception
    households = next(df.value for df in at.dataframe if "户编号" in df.value.columns)
    assert len(households) == grids.loc["XC-DH-06", "户数"]
    crumbs = [b.label.replace("\\", "") for b in at.button if str(b.key).startswith("map_crumb_")]
    assert crumbs == ["全市", "新城区", "海拉尔东路街道", "北垣社区", "XC-DH-06"]

    # a breadcrumb goes back up: the district, its streets drawn again
    at.button(key="map_crumb_1").click().run()
    assert not at.exception
    assert at.selectbox(key="map_district").value == "新城区"
    assert at.selectbox(key="map_street").value == ""
    assert _areas(at) == ["东风路街道", "海拉尔东路街道"]


def test_a_district_leader_sees_only_their_district(city_store, monkeypatch):
    at = _app(city_store, monkeypatch, "district_leader", district="回民区")
    assert not at.exception
    assert at.selectbox(key="map_district").options == ["全部", "回民区"]
    assert at.selectbox(key="map_district").value == "回民区"  # starts at their district
    # one street office in the district: it opens there (as one street office's store does)
    assert at.selectbox(key="map_street").value == "环河街街道"
    assert sorted(_areas(at)) == ["XC-DH-07", "XC-DH-08"]
    mine = _households_by_grid(city_store)[["XC-DH-07", "XC-DH-08"]].sum()
    assert drawn_payload(at)["h"]["n"] == mine
    text = sent_text(at)
    assert "新城区" not in text and not any(g in text for g in PLACES if g < "XC-DH-07")
    at.button(key="map_crumb_0").click().run()  # up to the city: only their district in it
    assert not at.exception
    assert _areas(at) == ["回民区"]
    assert _table(at, "区县")["区县"].tolist() == ["回民区"]


PAGES = [
    "pages/map.py",
    "pages/coverage.py",
    "pages/reports.py",
    "pages/cases.py",
    "pages/weekly.py",
    "pages/data.py",
    "pages/new_employment.py",
    "pages/accounts.py",
    "pages/snap.py",
    "pages/today.py",
    "pages/verify.py",
]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_for_a_district_leader_without_another_districts_grids(
    city_store, monkeypatch, page
):
    at = _app(city_store, monkeypatch, "district_leader", name="dl_hm", district="回民区")
    at.switch_page(page).run()
    assert not at.exception
    others = [g for g in PLACES if g < "XC-DH-07"]
    shown = " ".join(df.value.astype(str).to_csv() for df in at.dataframe) + " ".join(
        str(m.value) for m in at.markdown
    )
    assert not any(g in shown for g in others), page
    for box in at.selectbox:
        assert not any(g in map(str, box.options) for g in others), (page, box.key)


def test_coverage_and_the_weekly_pack_cover_the_chosen_area(city_store, monkeypatch):
    from geo.hierarchy.tree import Node

    at = _app(city_store, monkeypatch)
    at.switch_page("pages/coverage.py").run()
    assert not at.exception
    assert at.selectbox(key="coverage_area").options == [
        "全市",
        "回民区",
        "回民区 › 环河街街道",
        "新城区",
        "新城区 › 东风路街道",
        "新城区 › 海拉尔东路街道",
    ]
    at.selectbox(key="coverage_area").set_value(Node("street", ("新城区", "海拉尔东路街道"))).run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if df.value.columns[0] == "网格")
    assert sorted(table["网格"]) == ["XC-DH-05", "XC-DH-06"]

    at.switch_page("pages/weekly.py").run()
    assert not at.exception
    at.selectbox(key="weekly_area").set_value(Node("district", ("回民区",))).run()
    assert not at.exception
    assert "回民区" in at.title[0].value
    shown = " ".join(df.value.astype(str).to_csv() for df in at.dataframe)
    assert not any(g in shown for g in PLACES if g < "XC-DH-07")
    assert any(g in shown for g in ("XC-DH-07", "XC-DH-08")) or not at.dataframe


def test_a_planner_sees_the_citys_areas_in_the_aggregate_form(city_store, monkeypatch):
    at = _app(city_store, monkeypatch, "planner")
    assert not at.exception
    assert _areas(at) == ["回民区", "新城区"]
    assert drawn_payload(at)["h"]["n"] == 0
    at.selectbox(key="map_district").set_value("新城区").run()
    assert not at.exception
    assert _areas(at) == ["东风路街道", "海拉尔东路街道"]
    text = sent_text(at)
    names = open_store(city_store).read_attributes("households", ["head_name"])["head_name"]
    assert not any(n in text for n in names.dropna() if len(n) >= 2)


def test_the_accounts_page_offers_a_district_only_where_grids_name_districts(
    city_store, street_store, monkeypatch
):
    """A street office's admin is not asked for a district (no grid names one); a city's is."""
    street = _app(street_store, monkeypatch)
    street.switch_page("pages/accounts.py").run()
    assert not street.exception
    assert "acc_add_district" not in [s.key for s in street.selectbox]
    city = _app(city_store, monkeypatch)
    city.switch_page("pages/accounts.py").run()
    assert not city.exception
    assert set(city.selectbox(key="acc_add_district").options) >= {"新城区", "回民区"}
