"""The building layer in the map (build_map's payload) and the grid's tables by building."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from geo.buildings.figures import care_rank
from geo.buildings.read import linked, read_buildings
from geo.buildings.tables import building_table, grid_buildings, households_by_building
from geo.care.rules import household_status
from geo.config import load_config
from geo.demo.build import build_demo
from geo.i18n import t
from geo.metrics.tables import grid_table
from geo.outputs.map.build import BUILDING_TEXT, build_map
from geo.outputs.map.drilldown import grid_layer
from geo.outputs.map.leaflet import gridmap_layer, map_html
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("bm") / "demo.gpkg"))
    build_demo(store, seed=5, households=1500, as_of=AS_OF)
    grids = grid_layer(store.read("grids"), grid_table(store, AS_OF))
    buildings = read_buildings(store)
    rows = linked(household_status(store, AS_OF), buildings)
    return store, grids, buildings, rows


def _payload(fmap) -> dict:
    return json.loads(gridmap_layer(fmap).payload_json)


def test_the_map_carries_the_buildings_and_their_households(street):
    store, grids, buildings, rows = street
    payload = _payload(build_map(grids, rows, as_of=AS_OF, buildings=buildings))
    bd = payload["bd"]
    assert bd["n"] == len(buildings) == store.count("buildings")
    assert bd["id"] == buildings["building_id"].tolist()
    # each linked household is a member of exactly its building
    assert len(bd["m"]) == int(rows["building_id"].notna().sum())
    assert set(BUILDING_TEXT) <= set(payload["text"])
    assert payload["text"]["bld_visit_today"] == t("bld_visit_today", "zh-CN")
    ids = payload["h"]["id"].split("|")
    first = bd["o"][0], bd["o"][1]
    members = np.cumsum(bd["m"][first[0] : first[1]])
    linked_to_first = set(rows.loc[rows["building_id"] == bd["id"][0], "household_id"])
    assert {ids[i] for i in members} == linked_to_first


def test_without_buildings_there_is_no_building_layer(street):
    _, grids, _, rows = street
    assert _payload(build_map(grids, rows, as_of=AS_OF))["bd"] is None


def test_no_personal_field_reaches_the_page(street):
    store, grids, buildings, rows = street
    html = map_html(build_map(grids, rows, as_of=AS_OF, buildings=buildings))
    personal = store.read_attributes("households", ["head_name", "phone", "id_number"])
    for column in personal.columns:
        for value in personal[column].dropna().astype(str).head(200):
            assert value not in html, column
    # party groups travel as a flag only: their names stay in the store
    for name in buildings["party_group"].dropna().head(50):
        assert name not in html


def test_the_grid_table_lists_cared_for_first_then_by_building(street):
    _, _, buildings, rows = street
    config = load_config()
    grid_id = rows.loc[rows["building_id"].notna(), "grid_id"].iloc[0]
    mine = rows[rows["grid_id"] == grid_id]
    here = buildings[buildings["grid_id"] == grid_id]
    names = pd.Series(here["name"].to_numpy(), index=here["building_id"])
    personal = pd.DataFrame({"household_id": mine["household_id"]}).assign(
        head_name="", phone="", id_number=""
    )
    table = households_by_building(mine, personal, names, "zh-CN", config)
    assert len(table) == len(mine)
    by_id = mine.set_index("household_id")
    ordered = by_id.loc[table[t("map_household_id", "zh-CN")]]
    ranks = care_rank(ordered["categories"], config)
    assert (np.diff(ranks) >= 0).all()  # red first, then each category, ordinary last
    red = ordered[ranks == 0]
    # within a rank: by building (2号楼 before 10号楼), so each building's rows are together
    seen = red["building_id"].map(names).fillna("~").tolist()
    assert seen == sorted(
        seen, key=lambda n: (n == "~", int("".join(c for c in n if c.isdigit()) or 0))
    )
    first = table.iloc[0]
    row = by_id.loc[first[t("map_household_id", "zh-CN")]]
    assert first[t("bld_col_unit", "zh-CN")] == (
        str(int(row["unit"])) if pd.notna(row["unit"]) else ""
    )
    assert first[t("map_building", "zh-CN")] == names.get(row["building_id"], row["building"])


def test_the_buildings_table_counts_the_rows(street):
    _, _, buildings, rows = street
    config = load_config()
    grid_id = rows.loc[rows["building_id"].notna(), "grid_id"].iloc[0]
    mine = rows[rows["grid_id"] == grid_id]
    figures = grid_buildings(buildings[buildings["grid_id"] == grid_id], mine, config)
    table = building_table(figures, "en", config)
    assert table[t("map_households", "en")].sum() == mine["building_id"].notna().sum()
    assert (
        table[t("bld_col_visit_today", "en")].sum()
        == mine.loc[mine["building_id"].notna(), "overdue"].sum()
    )
    numbers = [int("".join(c for c in n if c.isdigit())) for n in table["Building"]]
    assert numbers == sorted(numbers)  # natural order of the names
