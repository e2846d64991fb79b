"""The city demo over Hohhot's real district outlines: structure, places, determinism."""

import datetime as dt
import hashlib

import numpy as np
import pandas as pd
import pytest
import shapely
from boundaries import require_boundaries

from geo.hierarchy.citydemo import (
    DISTRICTS,
    boundaries_folder,
    build_city_demo,
    city_demo_data,
    read_city_outlines,
)
from geo.hierarchy.districts import BoundariesMissing
from geo.hierarchy.rollup import roll_up
from geo.hierarchy.tree import Hierarchy
from geo.metrics.contract import compute_metrics
from geo.metrics.tables import grid_table
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)
N = 4000


@pytest.fixture(scope="module")
def outlines():
    return read_city_outlines(require_boundaries())


@pytest.fixture(scope="module")
def city(outlines):
    return city_demo_data(outlines, seed=3, households=N, as_of=AS_OF)


def test_four_districts_with_several_streets_of_several_communities(city):
    grids = city.grids
    assert sorted(grids["district"].unique()) == sorted(d.name for d in DISTRICTS)
    streets = grids.groupby("district")["street"].nunique()
    assert (streets >= 3).all()
    per_street = grids.groupby(["district", "street"])["community"].nunique()
    assert (per_street >= 2).all()
    assert (grids.groupby("community")["grid_id"].size() >= 2).all()
    assert grids["grid_id"].is_unique
    assert grids.groupby("community")["street"].nunique().max() == 1  # names unique citywide
    for district in DISTRICTS:  # real street office names of each district
        assert set(grids.loc[grids["district"] == district.name, "street"]) <= set(district.streets)


def test_every_grid_lies_in_its_own_district(city, outlines):
    by_name = dict(zip(outlines["name"], outlines.geometry, strict=True))
    for district, part in city.grids.groupby("district"):
        outline = by_name[district].buffer(1e-7)
        assert shapely.covers(outline, np.asarray(part.geometry.values, dtype=object)).all()
    assert city.grids.geometry.is_valid.all()
    # grids do not overlap (a block on a border became one grid per side)
    metric = city.grids.to_crs("EPSG:32649").geometry
    assert metric.area.sum() == pytest.approx(metric.union_all().area, rel=1e-6)


def test_households_and_reports_lie_in_their_grid(city):
    grids = city.grids.set_index("grid_id").geometry
    homes = city.households
    assert len(homes) == N and homes["household_id"].is_unique
    polygons = np.asarray(grids.reindex(homes["grid_id"]).values, dtype=object)
    assert shapely.contains_xy(polygons, homes.geometry.x, homes.geometry.y).all()
    reports = city.reports
    polygons = np.asarray(grids.reindex(reports["grid_id"]).values, dtype=object)
    assert shapely.contains_xy(polygons, reports.geometry.x, reports.geometry.y).all()
    assert set(reports["source"]) == {"observer", "hotline", "dispute", "petition", "patrol"}


def test_households_live_in_buildings_with_addresses(city):
    homes = city.households
    assert homes["building"].str.fullmatch(r"\d+号楼").all()
    assert homes["address"].str.contains(r"小区\d+号楼\d+单元\d+$").all()
    # households of one building stand together (a few metres), also in grids cut by a border
    spread = homes.assign(x=homes.geometry.x, y=homes.geometry.y).groupby(["grid_id", "building"])
    assert (spread["x"].std().fillna(0) < 0.0005).mean() > 0.95


def test_departments_name_the_district_of_the_staff(city):
    district = city.grids.set_index("grid_id")["district"]
    police = city.staff[city.staff["role"] == "police"]
    first = police.drop_duplicates("staff_id")
    for dept, grid_id in zip(first["department"], first["grid_id"], strict=True):
        assert dept.startswith(f"呼和浩特市公安局{district[grid_id]}分局")


def test_the_same_seed_builds_the_same_city(outlines, city):
    again = city_demo_data(outlines, seed=3, households=N, as_of=AS_OF)
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.grids.drop(columns="geometry")),
        pd.DataFrame(city.grids.drop(columns="geometry")),
    )
    assert again.grids.geometry.equals(city.grids.geometry)
    assert np.array_equal(again.households.geometry.x, city.households.geometry.x)
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.households.drop(columns="geometry")),
        pd.DataFrame(city.households.drop(columns="geometry")),
    )
    other = city_demo_data(outlines, seed=4, households=N, as_of=AS_OF)
    assert not np.array_equal(other.households.geometry.x, city.households.geometry.x)


def test_a_built_store_rolls_up_to_the_metrics(tmp_path):
    folder = require_boundaries()
    store = open_store(str(tmp_path / "city.gpkg"))
    counts = build_city_demo(store, folder, seed=5, households=2500, as_of=AS_OF)
    assert counts["households"] == 2500 and counts["boundary"] == 4 and counts["visits"] > 0
    grids = city_demo_data(read_city_outlines(folder), 5, 2500, AS_OF).grids
    tree = Hierarchy(grids[["grid_id", "district", "street", "community"]])
    figures = grid_table(store, AS_OF)
    city_row = roll_up(figures, tree, "city").iloc[0]
    metrics = compute_metrics(store, AS_OF)
    assert city_row["households"] == metrics["households"]["total"]
    assert city_row["visit_compliant"] == metrics["visits"]["overall"]["compliant"]
    assert city_row["reports_total"] == metrics["reports"]["total"]
    districts = roll_up(figures, tree, "district")
    assert districts["households"].sum() == 2500 and len(districts) == 4


def test_without_the_outlines_nothing_is_written(tmp_path):
    store = open_store(str(tmp_path / "s.gpkg"))
    with store.transaction() as tx:
        tx.set_meta("probe", "1")
    before = hashlib.sha256(store.path.read_bytes()).hexdigest()
    with pytest.raises(BoundariesMissing) as missing:
        build_city_demo(store, tmp_path / "no-outlines", households=100)
    assert missing.value.path == tmp_path / "no-outlines"
    assert hashlib.sha256(store.path.read_bytes()).hexdigest() == before


def test_the_outlines_folder_comes_from_flag_env_or_next_to_the_project(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDMAP_BOUNDARIES", raising=False)
    assert (
        boundaries_folder(None, root=tmp_path / "gridmap")
        == tmp_path / "shared" / "data" / "boundaries"
    )
    monkeypatch.setenv("GRIDMAP_BOUNDARIES", str(tmp_path / "env"))
    assert boundaries_folder(None, root=tmp_path / "gridmap") == tmp_path / "env"
    assert boundaries_folder(tmp_path / "flag") == tmp_path / "flag"


def test_gridmap_demo_city_writes_the_city_with_the_street_demos_hooks(tmp_path, monkeypatch):
    """``gridmap demo --city``: districts on the grids, buildings, cases and the new-employment
    groups from the street demo's hooks, one demo account per role (a district leader too)."""
    from geo.access import auth
    from geo.cli import main

    folder = require_boundaries()
    location = str(tmp_path / "city.gpkg")
    monkeypatch.setenv(auth.DEMO_PASSWORD_ENV, "demo password 1")
    args = ["demo", "--city", "--households", "3000", "--seed", "3", "--with-users"]
    assert main([*args, "--boundaries", str(folder), "--db", location]) == 0
    store = open_store(location)
    grids = store.read_attributes("grids", ["grid_id", "district"])
    assert sorted(grids["district"].unique()) == sorted(d.name for d in DISTRICTS)
    for table in ("buildings", "case_events", "firms", "outlets", "workers", "stations"):
        assert store.count(table) > 0, table
    households = store.read_attributes("households", ["building"])
    assert households["building"].notna().all()
    roles = {r.username: r.role for r in store.read("users").itertuples()}
    assert sorted(roles.values()) == sorted(auth.ROLES)
    leader = auth.load_viewer(store, "demo_district")
    assert leader.district in set(grids["district"])
    assert set(leader.grid_filter(grids)) == set(
        grids.loc[grids["district"] == leader.district, "grid_id"]
    )


def test_gridmap_demo_city_without_the_outlines_says_where_it_looked(tmp_path, capsys):
    from geo.cli import main

    location = str(tmp_path / "city.gpkg")
    missing = tmp_path / "nowhere"
    assert main(["demo", "--city", "--boundaries", str(missing), "--db", location]) == 1
    err = capsys.readouterr().err
    assert str(missing) in err and "150102.json" in err
    assert open_store(location).count("households") == 0
