"""Households linked to stored buildings when the data is read, and `gridmap check` listing
those whose building is unknown (small hand-built cases)."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from geo import cli
from geo.buildings.read import linked, read_buildings
from geo.care.rules import household_status
from geo.metrics.check import run_checks
from geo.store import open_store

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)
G1 = box(111.70, 40.84, 111.71, 40.85)
G2 = box(111.71, 40.84, 111.72, 40.85)


def _store(path, with_buildings: bool = True):
    store = open_store(str(path))
    grids = gpd.GeoDataFrame({"grid_id": ["G1", "G2"]}, geometry=[G1, G2], crs=WGS84)
    households = gpd.GeoDataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
            "grid_id": ["G1", "G2", "G1", "G1", "G1", "G2"],
            # 1栋 is 1号楼 of its own grid; B2 an id (of another grid); 5号楼 is nowhere;
            # H4 names none; H6's address says 一号楼 (the name in G2)
            "building": ["1栋", "1号楼", "5号楼", None, "B2", None],
            "address": [None, None, None, "某路8号", None, "锦绣小区一号楼2单元501"],
        },
        geometry=[Point(111.705, 40.845)] * 1
        + [Point(111.715, 40.845)]
        + [Point(111.705, 40.845)] * 3
        + [Point(111.715, 40.845)],
        crs=WGS84,
    )
    buildings = gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2"],
            "grid_id": ["G1", "G2"],
            "name": ["1号楼", "1号楼"],  # one name in two grids: two buildings
        },
        geometry=[box(111.703, 40.843, 111.7033, 40.8432), Point(111.715, 40.845)],
        crs=WGS84,
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("households", households)
        if with_buildings:
            tx.upsert("buildings", buildings)
    return store


def test_households_are_linked_by_id_or_by_name_within_their_grid(tmp_path):
    store = _store(tmp_path / "s.gpkg")
    frame = linked(household_status(store, AS_OF), read_buildings(store)).set_index("household_id")
    assert frame["building_id"].to_dict() == {
        "H1": "B1",
        "H2": "B2",
        "H3": None,
        "H4": None,
        "H5": "B2",
        "H6": "B2",
    }
    assert frame["link"].to_dict() == {
        "H1": "name",
        "H2": "name",
        "H3": "unknown",
        "H4": "none",
        "H5": "id",
        "H6": "name",
    }
    assert (frame.loc["H6", "unit"], frame.loc["H6", "floor"], frame.loc["H6", "door"]) == (2, 5, 1)


def test_the_anchor_of_a_footprint_lies_inside_it(tmp_path):
    buildings = read_buildings(_store(tmp_path / "s.gpkg")).set_index("building_id")
    assert G1.contains(Point(buildings.loc["B1", "lon"], buildings.loc["B1", "lat"]))
    assert box(111.703, 40.843, 111.7033, 40.8432).contains(
        Point(buildings.loc["B1", "lon"], buildings.loc["B1", "lat"])
    )
    assert (buildings.loc["B2", "lon"], buildings.loc["B2", "lat"]) == (111.715, 40.845)


def test_check_lists_unknown_buildings_and_households_without_one(tmp_path, capsys):
    path = tmp_path / "s.gpkg"
    _store(path)
    code = cli.main(["check", "--json", "--db", str(path), "--as-of", AS_OF.isoformat()])
    assert code == 0
    found = {f["kind"]: f for f in json.loads(capsys.readouterr().out)}
    assert found["household_unknown_building"]["ids"] == ["H3"]
    assert found["household_unknown_building"]["severity"] == "warning"
    assert found["household_without_building"]["ids"] == ["H4"]
    assert found["household_without_building"]["severity"] == "info"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_store_without_buildings_has_no_building_findings(tmp_path, lang):
    store = _store(tmp_path / "s.gpkg", with_buildings=False)
    kinds = {f.kind for f in run_checks(store, AS_OF, lang)}
    assert not kinds & {"household_unknown_building", "household_without_building"}


def test_importing_buildings_after_households_links_them_anew(tmp_path):
    store = _store(tmp_path / "s.gpkg")
    more = gpd.GeoDataFrame(
        {"building_id": ["B5"], "grid_id": ["G1"], "name": ["5号楼"]},
        geometry=[Point(111.706, 40.846)],
        crs=WGS84,
    )
    with store.transaction() as tx:
        tx.upsert("buildings", more)
    assert "household_unknown_building" not in {f.kind for f in run_checks(store, AS_OF, "en")}
    frame = linked(household_status(store, AS_OF), read_buildings(store)).set_index("household_id")
    assert frame.loc["H3", "building_id"] == "B5"
