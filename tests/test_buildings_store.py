"""The buildings table (schema version 5): points and footprints in both stores, and a store an
older gridmap wrote gains the table in place, in the same transaction as its first write."""

from __future__ import annotations

import hashlib
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pg import pg_location  # noqa: F401  (fixture)

from geo.store import open_store, pg_migrations
from geo.store.schema import SCHEMA_VERSION, TABLES, WGS84


def _buildings() -> gpd.GeoDataFrame:
    footprint = shapely.box(116.4000, 39.9000, 116.4003, 39.9002)
    return gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2"],
            "grid_id": ["G1", "G1"],
            "name": ["1号楼", "2号楼"],
            "party_group": ["一号楼党小组", None],
            "units": [3, None],
            "floors": [6, 18],
        },
        geometry=gpd.GeoSeries([footprint, shapely.Point(116.401, 39.901)], crs=WGS84),
        crs=WGS84,
    )


def _check_round_trip(store) -> None:
    with store.transaction() as tx:
        tx.upsert("buildings", _buildings())
    back = store.read("buildings")
    assert back["building_id"].tolist() == ["B1", "B2"]
    assert back["party_group"].tolist()[0] == "一号楼党小组"
    assert pd.isna(back["party_group"].tolist()[1])
    assert back["units"].tolist()[0] == 3 and pd.isna(back["units"].tolist()[1])
    assert back["floors"].tolist() == [6, 18]
    assert back.geometry.geom_type.tolist() == ["Polygon", "Point"]
    assert back.geometry.iloc[0].equals_exact(_buildings().geometry.iloc[0], 1e-9)
    assert back.geometry.iloc[1].equals_exact(_buildings().geometry.iloc[1], 1e-9)


def test_geopackage_keeps_points_and_footprints(tmp_path):
    _check_round_trip(open_store(str(tmp_path / "b.gpkg")))


def test_postgis_keeps_points_and_footprints(pg_location):  # noqa: F811
    _check_round_trip(open_store(pg_location))


def _schema_3_geopackage(path) -> None:
    """A GeoPackage as gridmap wrote it before buildings (schema version 3)."""
    store = open_store(str(path))
    with store.transaction() as tx:
        tx.append("audit_log", pd.DataFrame({"action": ["start"]}))
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TABLE buildings")
    con.execute("DELETE FROM gpkg_contents WHERE table_name = 'buildings'")
    con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = 'buildings'")
    con.execute("UPDATE gridmap_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()


def test_a_schema_3_geopackage_reads_no_buildings_then_gains_them_on_first_write(tmp_path):
    path = tmp_path / "old.gpkg"
    _schema_3_geopackage(path)
    store = open_store(str(path))
    assert store.read("buildings").empty
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert("buildings", _buildings())
        raise RuntimeError("the import fails")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # no table left behind
    _check_round_trip(store)
    con = sqlite3.connect(path)
    meta = dict(con.execute("SELECT key, value FROM gridmap_meta"))
    kind = con.execute(
        "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = 'buildings'"
    ).fetchall()
    con.close()
    assert (
        meta["schema_version"] == str(SCHEMA_VERSION) and SCHEMA_VERSION >= 5
    )  # buildings came in 5
    assert kind == [(TABLES["buildings"].geometry,)]


def test_a_postgis_database_of_migration_3_gains_the_buildings_on_first_write(pg_location):  # noqa: F811
    import psycopg

    from geo.store import postgis as store_postgis

    store = open_store(pg_location)
    with store.transaction() as tx:
        tx.append("audit_log", pd.DataFrame({"action": ["start"]}))
    with psycopg.connect(pg_location) as conn:
        conn.execute("DROP TABLE buildings")
        conn.execute("DELETE FROM gridmap_migrations WHERE version > 3")
        conn.execute("UPDATE gridmap_meta SET value = '3' WHERE key = 'schema_version'")
    store_postgis._UPGRADED.discard(pg_location)  # as a freshly started server
    store_postgis._TABLES_READY.discard((pg_location, "buildings"))
    assert store.read("buildings").empty
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert("buildings", _buildings())
        raise RuntimeError("the import fails")
    with psycopg.connect(pg_location) as conn:
        exists = conn.execute("SELECT to_regclass('buildings') IS NOT NULL").fetchone()[0]
    assert not exists  # the migration rolled back with the write
    store_postgis._UPGRADED.discard(pg_location)
    _check_round_trip(store)
    with psycopg.connect(pg_location) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM gridmap_migrations ORDER BY 1")]
        meta = conn.execute(
            "SELECT value FROM gridmap_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert versions == sorted(pg_migrations.MIGRATIONS) and 5 in versions
    assert meta == (str(pg_migrations.LATEST),)


def test_gdal_reads_the_buildings_layer(tmp_path):
    import pyogrio

    path = tmp_path / "b.gpkg"
    store = open_store(str(path))
    with store.transaction() as tx:
        tx.upsert("buildings", _buildings())
    frame = pyogrio.read_dataframe(path, layer="buildings")
    assert frame["building_id"].tolist() == ["B1", "B2"]
    assert frame.crs.to_epsg() == 4326
    assert frame.geom_type.tolist() == ["Polygon", "Point"]
