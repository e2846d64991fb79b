"""The map page with buildings (AppTest): what reaches the browser follows the viewer's
scope, and a grid opens by building (street -> community -> grid -> building -> household)."""

from __future__ import annotations

import pytest
from mappayload import component_args, drawn_payload, sent_text
from test_pages import demo_store, viewing_app  # noqa: F401  (fixture)

from geo.store import open_store


def _buildings(location: str):
    return open_store(location).read_attributes("buildings", ["building_id", "grid_id", "name"])


def test_a_grid_worker_is_sent_the_buildings_of_their_grid_only(demo_store, monkeypatch):  # noqa: F811
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    buildings = _buildings(demo_store)
    grid_id = buildings["grid_id"].iloc[0]
    at = viewing_app(demo_store, "grid_worker", grids=[grid_id])
    bd = drawn_payload(at)["bd"]
    assert sorted(bd["id"]) == sorted(buildings.loc[buildings["grid_id"] == grid_id, "building_id"])
    others = buildings.loc[buildings["grid_id"] != grid_id, "building_id"]
    text = sent_text(at)
    assert not any(f'"{b}"' in text for b in others)


@pytest.mark.parametrize("role", ["planner", "meeting"])
def test_an_aggregate_viewer_is_sent_no_building(demo_store, monkeypatch, role):  # noqa: F811
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    at = viewing_app(demo_store, role)
    args = component_args(at)
    assert '"bd":null' in args["script"].replace(" ", "") or '"bd"' not in args["script"]
    text = sent_text(at)
    assert not any(f'"{b}"' in text for b in _buildings(demo_store)["building_id"])


def test_a_grid_opens_by_building(demo_store, monkeypatch):  # noqa: F811
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    buildings = _buildings(demo_store)
    grid_id = buildings["grid_id"].value_counts().index[0]
    mine = buildings[buildings["grid_id"] == grid_id]
    at = viewing_app(demo_store, "street_leader")
    at.selectbox(key="map_grid").set_value(grid_id).run()
    assert not at.exception
    table = next(df.value for df in at.dataframe if "今日需走访" in df.value.columns)
    assert sorted(table["楼栋"]) == sorted(mine["name"])
    households = next(df.value for df in at.dataframe if "户编号" in df.value.columns)
    assert table["户数"].sum() <= len(households)
    building_id = mine["building_id"].iloc[0]
    at.selectbox(key="map_building").set_value(building_id).run()
    assert not at.exception
    opened = next(df.value for df in at.dataframe if "户编号" in df.value.columns)
    row = table.set_index("楼栋").loc[mine["name"].iloc[0]]
    assert len(opened) == row["户数"]
    assert set(opened["楼栋"]) == {mine["name"].iloc[0]}
    ordinary = (opened["类别"] == "普通户").to_numpy()
    assert not ordinary[: (~ordinary).sum()].any()  # cared-for first
    # the households' personal fields stay masked
    assert not opened["电话"].str.fullmatch(r"1\d{10}").any()


def test_links_are_cached_per_household_set_and_per_buildings():
    import pandas as pd

    from ui.buildings import linked

    households = pd.DataFrame(
        {"household_id": ["H1"], "grid_id": ["G1"], "building": ["1栋"], "address": [None]}
    )

    def buildings(building_id: str) -> pd.DataFrame:
        return pd.DataFrame({"building_id": [building_id], "grid_id": ["G1"], "name": ["1号楼"]})

    first = linked("cache-test", 1, households, buildings("B1"))
    second = linked("cache-test", 1, households, buildings("B9"))
    assert first["building_id"].tolist() == ["B1"]
    assert second["building_id"].tolist() == ["B9"]  # not the first call's cached links
