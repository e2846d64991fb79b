"""The demo's buildings: deterministic, along the streets, consistent with the addresses."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.buildings.linking import link_households
from geo.demo.build import build_demo
from geo.demo.buildings import demo_buildings
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A 6,000-household demo street office: grids, households, and their buildings."""
    store = open_store(str(tmp_path_factory.mktemp("bd") / "demo.gpkg"))
    build_demo(store, seed=7, households=6000, as_of=AS_OF)
    grids, households = store.read("grids"), store.read("households")
    return grids, households, demo_buildings(7, grids, households)


def test_same_seed_same_buildings_other_seed_other_party_groups(demo):
    grids, households, buildings = demo
    again = demo_buildings(7, grids, households)
    pd.testing.assert_frame_equal(
        pd.DataFrame(buildings.drop(columns="geometry")),
        pd.DataFrame(again.drop(columns="geometry")),
    )
    assert buildings.geometry.equals(again.geometry)
    other = demo_buildings(8, grids, households)
    assert other["party_group"].isna().tolist() != buildings["party_group"].isna().tolist()


def test_footprints_lie_in_their_grid_clear_of_each_other(demo):
    grids, _, buildings = demo
    polygons = dict(zip(grids["grid_id"], grids.geometry, strict=True))
    assert all(
        polygons[g].contains(f)
        for g, f in zip(buildings["grid_id"], buildings.geometry, strict=True)
    )
    tree = shapely.STRtree(buildings.geometry.values)
    left, right = tree.query(buildings.geometry.values, predicate="intersects")
    assert int((left < right).sum()) == 0
    anchors = gpd.points_from_xy(buildings["lon"], buildings["lat"])
    assert all(f.contains(a) for f, a in zip(buildings.geometry, anchors, strict=True))
    # slabs along the block's east-west street: their long side runs roughly east-west
    metric = buildings.to_crs(buildings.estimate_utm_crs())
    corners = np.stack([shapely.get_coordinates(g)[:3] for g in metric.geometry])
    edges = np.diff(corners, axis=1)  # two sides of each rectangle
    lengths = np.hypot(edges[..., 0], edges[..., 1])
    longest = edges[np.arange(len(edges)), lengths.argmax(axis=1)]
    angle = np.degrees(np.arctan2(np.abs(longest[:, 1]), np.abs(longest[:, 0])))
    assert (angle < 20).mean() > 0.9


def test_most_buildings_have_a_party_group_and_a_few_are_missing(demo):
    _, households, buildings = demo
    share = buildings["party_group"].notna().mean()
    assert 0.75 < share < 0.95
    named = households.groupby(["grid_id", "building"]).ngroups
    assert 1 <= named - len(buildings) <= named // 100  # the survey gap
    assert buildings["building_id"].is_unique
    assert not buildings.duplicated(["grid_id", "name"]).any()


def test_every_household_sits_in_a_unit_and_floor_of_its_building(demo):
    _, households, buildings = demo
    links = link_households(households, buildings)
    linked = links["building_id"].notna()
    assert (links.loc[linked, "link"] == "name").all()  # the households' 3号楼 is the name
    missing = households.loc[~linked.to_numpy(), ["grid_id", "building"]].drop_duplicates()
    assert len(missing) == households.groupby(["grid_id", "building"]).ngroups - len(buildings)
    joined = links[linked].join(
        buildings.set_index("building_id")[["units", "floors"]], on="building_id"
    )
    assert joined[["unit", "floor", "door"]].notna().all().all()
    assert (joined["unit"] <= joined["units"]).all() and (joined["floor"] <= joined["floors"]).all()
    # a full building fills every unit and floor: the glyph's grid is the addresses' grid
    full = joined.groupby("building_id").agg(
        units=("units", "first"),
        floors=("floors", "first"),
        top=("floor", "max"),
        u=("unit", "max"),
    )
    assert ((full["top"] == full["floors"]) & (full["u"] == full["units"])).mean() > 0.8


def test_build_demo_stores_the_buildings_and_links_every_household(tmp_path):
    store = open_store(str(tmp_path / "d.gpkg"))
    counts = build_demo(store, seed=3, households=800, as_of=AS_OF)
    assert counts["buildings"] == store.count("buildings") > 0
    stored = store.read("buildings")
    assert set(stored.geom_type) <= {"Polygon", "MultiPolygon"}  # footprints
    households = store.read("households")
    links = link_households(households, stored)
    named = links["link"] != "none"
    # every household naming a building is linked, but those of the few buildings left out
    # on purpose (for gridmap check); the addresses place each in a unit and a floor
    linked = links["building_id"].notna()
    assert linked.sum() >= 0.9 * named.sum()
    assert links.loc[linked, "unit"].notna().all() and links.loc[linked, "floor"].notna().all()
