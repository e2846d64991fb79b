"""Issue 16: the district (区县) of grids and of district leaders (schema 7), on both stores.

A grids file may name each grid's district; a district leader sees their district's grids and
everything below, never another district's data; an older store gains the columns in place
in its first write's transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import MultiPolygon, Point, box

from geo.access import auth
from geo.access.scope import GridScope
from geo.cli import main
from geo.inputs.importers.core import import_file
from geo.metrics.contract import compute_metrics
from geo.store import open_store
from geo.store.schema import SCHEMA_VERSION

PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    monkeypatch.setenv("GRIDMAP_LANG", "en")


def _grids() -> gpd.GeoDataFrame:
    """Three grids: two in 新城区 (one on the border with 回民区), one in 回民区."""
    return gpd.GeoDataFrame(
        {
            "grid_id": ["XC-1", "XC-2", "HM-1"],
            "name": ["一网格", "二网格", "三网格"],
            "community": ["东河社区", "东河社区", "光明社区"],
            "street": ["东风路街道", "东风路街道", "环河街街道"],
            "district": ["新城区", "新城区", "回民区"],
        },
        geometry=[MultiPolygon([box(i, 0, i + 1, 1)]) for i in range(3)],
        crs="EPSG:4326",
    )


def _households() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4"],
            "grid_id": ["XC-1", "XC-2", "HM-1", None],
            "categories": ["elderly_alone", "disabled", "elderly_alone", "disabled"],
            "head_name": ["张三", "李四", "王五", "赵六"],
        },
        geometry=[Point(0.5, 0.5), Point(1.5, 0.5), Point(2.5, 0.5), Point(5, 5)],
        crs="EPSG:4326",
    )


@pytest.fixture(params=["gpkg", "postgis"])
def store(request, tmp_path):
    if request.param == "gpkg":
        store = open_store(str(tmp_path / "h.gpkg"))
    else:
        store = open_store(request.getfixturevalue("pg_location"))
    with store.transaction() as tx:
        tx.upsert("grids", _grids())
        tx.upsert("households", _households())
    return store


# --- schema 7: an older store upgraded in place by its first write ----------------------


def _make_schema_6(store) -> None:
    """Take the store back to schema 6: no grids.district, no users.district."""
    if store.location.startswith("postgresql://"):
        import psycopg

        from geo.store import postgis as store_postgis

        with psycopg.connect(store.location) as conn:
            conn.execute("ALTER TABLE grids DROP COLUMN district")
            conn.execute("ALTER TABLE users DROP COLUMN district")
            conn.execute("DELETE FROM gridmap_migrations WHERE version > 6")
            conn.execute("UPDATE gridmap_meta SET value = '6' WHERE key = 'schema_version'")
        store_postgis._UPGRADED.discard(store.location)
        for table in ("grids", "users"):
            store_postgis._TABLES_READY.discard((store.location, table))
        return
    con = sqlite3.connect(store.location, isolation_level=None)
    con.execute("ALTER TABLE grids DROP COLUMN district")
    con.execute("ALTER TABLE users DROP COLUMN district")
    con.execute("UPDATE gridmap_meta SET value = '6' WHERE key = 'schema_version'")
    con.close()


def test_an_older_store_reads_then_gains_the_district_in_its_first_write(store):
    _make_schema_6(store)
    grids = store.read("grids")
    assert grids["district"].isna().all()  # read as missing, nothing migrated by a read
    assert store.meta("schema_version") == "6"
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert("grids", _grids())
        raise RuntimeError("the write fails")
    assert store.meta("schema_version") == "6"  # rolled back with the write
    with store.transaction() as tx:
        tx.upsert("grids", _grids())
    assert store.meta("schema_version") == str(SCHEMA_VERSION) and SCHEMA_VERSION >= 7
    assert store.read("grids").set_index("grid_id")["district"].to_dict() == {
        "XC-1": "新城区",
        "XC-2": "新城区",
        "HM-1": "回民区",
    }
    auth.add_user(store, "zhou", "district_leader", PASSWORD, district="回民区")
    assert auth.load_viewer(store, "zhou").district == "回民区"


# --- the importer ------------------------------------------------------------------------


def _write_geojson(path, rows, district_header=None) -> None:
    features = []
    for i, (gid, district) in enumerate(rows):
        props = {"网格编号": gid, "社区": "东河社区"}
        if district_header:
            props[district_header] = district
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]],
                },
            }
        )
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )


@pytest.mark.parametrize("header", ["district", "区县", "所属区县", "区"])
def test_a_grids_file_names_the_district_under_a_chinese_header(tmp_path, header):
    store = open_store(str(tmp_path / "i.gpkg"))
    path = tmp_path / "grids.geojson"
    _write_geojson(path, [("G1", "新城区"), ("G2", "回民区")], header)
    report = import_file(store, "grids", path)
    assert not report.problems
    got = store.read("grids").set_index("grid_id")["district"].to_dict()
    assert got == {"G1": "新城区", "G2": "回民区"}


def test_a_grids_file_without_the_column_keeps_working_and_keeps_stored_districts(tmp_path):
    store = open_store(str(tmp_path / "i.gpkg"))
    first = tmp_path / "a.geojson"
    _write_geojson(first, [("G1", "新城区")], "区县")
    assert not import_file(store, "grids", first).problems
    again = tmp_path / "b.geojson"
    _write_geojson(again, [("G1", None), ("G2", None)])  # an old file: no district column
    assert not import_file(store, "grids", again).problems
    got = store.read("grids").set_index("grid_id")["district"]
    assert got["G1"] == "新城区" and pd.isna(got["G2"])


# --- the district leader ---------------------------------------------------------------


def test_a_district_leader_needs_a_known_district(store):
    with pytest.raises(auth.AuthError, match="needs --district"):
        auth.add_user(store, "a", "district_leader", PASSWORD)
    with pytest.raises(auth.AuthError, match="unknown district"):
        auth.add_user(store, "a", "district_leader", PASSWORD, district="赛罕区")
    auth.add_user(store, "a", "district_leader", PASSWORD, district="新城区")
    viewer = auth.authenticate(store, "a", PASSWORD)
    assert (viewer.role, viewer.district) == ("district_leader", "新城区")
    assert viewer.may_reveal and not viewer.aggregates_only  # masked like a street leader


def test_a_district_leader_never_sees_another_districts_data(store):
    auth.add_user(store, "xc", "district_leader", PASSWORD, district="新城区")
    auth.add_user(store, "hm", "district_leader", PASSWORD, district="回民区")
    xc, hm = auth.load_viewer(store, "xc"), auth.load_viewer(store, "hm")
    grids = store.read_attributes("grids", ["grid_id", "community", "district"])
    assert sorted(xc.grid_filter(grids)) == ["XC-1", "XC-2"]
    assert hm.grid_filter(grids) == ["HM-1"]
    seen = GridScope(store, xc.grid_filter(grids))
    assert sorted(seen.read("households")["household_id"]) == ["H1", "H2"]  # not H3, not H4
    figures = compute_metrics(GridScope(store, hm.grid_filter(grids)), dt.date(2026, 11, 30))
    assert figures["households"]["total"] == 1 and figures["grids"]["total"] == 1
    # a session granted for one district is not valid for another
    assert auth.grants(xc) != auth.grants(hm)
    auth.set_role(store, "xc", "district_leader", district="回民区")
    assert auth.load_viewer(store, "xc").grid_filter(grids) == ["HM-1"]


def test_other_roles_grants_read_as_before(store):
    auth.add_user(store, "w", "grid_worker", PASSWORD, grids=["XC-1"])
    assert auth.grants(auth.load_viewer(store, "w")) == "grid_worker||XC-1"


def test_cli_adds_a_district_leader(store, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["user", "add", "zhao", "--role", "district_leader", "--district", "新城区"]
    assert main([*args, "--password-stdin", "--db", store.location]) == 0
    assert main(["user", "list", "--db", store.location]) == 0
    assert "zhao\tdistrict_leader\t新城区\t" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["user", "add", "qian", "--role", "district_leader"]
    assert main([*args, "--password-stdin", "--db", store.location]) == 1
    assert "district_leader needs --district" in capsys.readouterr().err
