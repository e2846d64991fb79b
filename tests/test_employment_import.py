"""Importing firms, outlets, workers and stations (contract section 7) through the one import
path and `gridmap import`: the independent data set imports on both stores; every refusal of
section 7 names the file, row and column and leaves the store byte for byte as it was; an
older store (schema 3) gains the new tables in place, in the transaction of its first write."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from employment_dataset import write_dataset
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import box

from geo.cli import main
from geo.inputs.importers.core import import_file
from geo.store import open_store
from geo.store.schema import SCHEMA_VERSION, TABLES

NEW_TABLES = ("firms", "outlets", "workers", "stations")
G1 = box(111.70, 40.84, 111.71, 40.85)


def digest(path: Path) -> str:
    """The store's bytes (file and WAL)."""
    h = hashlib.sha256(path.read_bytes())
    wal = Path(f"{path}-wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


def _write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A store with grid G1, firms F1 (express) and F2, outlets O1 (F1) and O2 (F2)."""
    folder = tmp_path_factory.mktemp("employment")
    path = folder / "store.gpkg"
    grids = _write(
        folder,
        "g.json",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"grid_id": "G1"},
                        "geometry": G1.__geo_interface__,
                    }
                ],
            }
        ),
    )
    firms = _write(folder, "f.csv", "企业编号,企业名称,行业\nF1,顺丰,快递\nF2,美团,外卖\n")
    outlets = _write(
        folder, "o.csv", "网点编号,企业编号,经度,纬度\nO1,F1,111.705,40.845\nO2,F2,111.706,40.846\n"
    )
    for kind, file in (("grids", grids), ("firms", firms), ("outlets", outlets)):
        assert main(["import", kind, str(file), "--db", str(path)]) == 0, kind
    return path


@pytest.fixture
def store_path(template, tmp_path) -> Path:
    path = tmp_path / "store.gpkg"
    shutil.copyfile(template, path)
    return path


# kind, file name, text, (row, column) that must be named
REFUSALS = {
    "firm missing the sector column": ("firms", "f.csv", "firm_id,name\nF3,京东\n", (1, "sector")),
    "firm of an unknown sector": (
        "firms",
        "f.csv",
        "firm_id,name,sector\nF3,京东,餐饮\n",
        (2, "sector"),
    ),
    "firm id twice": (
        "firms",
        "f.csv",
        "firm_id,name,sector\nF3,京东,快递\nF3,京东物流,express\n",
        (3, "firm_id"),
    ),
    "firm without a name": ("firms", "f.csv", "firm_id,name,sector\nF3,,快递\n", (2, "name")),
    "outlet of an unknown firm": (
        "outlets",
        "o.csv",
        "outlet_id,firm_id,lon,lat\nO3,F9,111.705,40.845\n",
        (2, "firm_id"),
    ),
    "outlet latitude out of range": (
        "outlets",
        "o.csv",
        "outlet_id,firm_id,lon,lat\nO3,F1,111.705,95\n",
        (2, "lat"),
    ),
    "outlet longitude not a number": (
        "outlets",
        "o.csv",
        "outlet_id,firm_id,lon,lat\nO3,F1,东经111,40.845\n",
        (2, "lon"),
    ),
    "outlet without coordinates column": (
        "outlets",
        "o.csv",
        "outlet_id,firm_id,lon\nO3,F1,111.705\n",
        (1, "lat"),
    ),
    "worker of an unknown firm": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name\nW1,F9,张三\n",
        (2, "firm_id"),
    ),
    "worker at an unknown outlet": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,outlet_id\nW1,F1,张三,O9\n",
        (2, "outlet_id"),
    ),
    "worker at an outlet of another firm": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,outlet_id\nW1,F1,张三,O1\nW2,F1,李四,O2\n",
        (3, "outlet_id"),
    ),
    "party relation on a non-member": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,party,party_relation\nW1,F1,张三,群众,流动\n",
        (2, "party_relation"),
    ),
    "returned_on on a non-member": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,party,returned_on\nW1,F1,张三,,2026-11-01\n",
        (2, "returned_on"),
    ),
    "registered_on on a worker who is no observer": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,observer,registered_on\nW1,F1,张三,否,2026-11-01\n",
        (2, "registered_on"),
    ),
    "unknown party": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,party\nW1,F1,张三,党员\nW2,F1,李四,共青团员\n",
        (3, "party"),
    ),
    "unknown relation": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,party,party_relation\nW1,F1,张三,中共党员,挂靠\n",
        (2, "party_relation"),
    ),
    "insured none of the yes/no spellings": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,insured\nW1,F1,张三,是\nW2,F1,李四,也许\n",
        (3, "insured"),
    ),
    "observer none of the yes/no spellings": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,observer\nW1,F1,张三,2\n",
        (2, "observer"),
    ),
    "unparseable date": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name,insured,insured_on\nW1,F1,张三,是,2026-13-45\n",
        (2, "insured_on"),
    ),
    "worker id twice": (
        "workers",
        "w.csv",
        "worker_id,firm_id,name\nW1,F1,张三\nW1,F1,李四\n",
        (3, "worker_id"),
    ),
    "unknown service": (
        "stations",
        "s.csv",
        "station_id,name,lon,lat,services\nS1,红蜂驿站,111.705,40.845,休息;洗车\n",
        (2, "services"),
    ),
    "station without a name": (
        "stations",
        "s.csv",
        "station_id,name,lon,lat\nS1,,111.705,40.845\n",
        (2, "name"),
    ),
    "station opened on no date": (
        "stations",
        "s.csv",
        "station_id,name,lon,lat,opened_on\nS1,红蜂驿站,111.705,40.845,去年\n",
        (2, "opened_on"),
    ),
    "empty file": ("stations", "s.csv", "", (1, None)),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_names_row_and_column_and_writes_nothing(case, store_path, capsys):
    kind, name, text, (row, column) = REFUSALS[case]
    path = _write(store_path.parent, name, text)
    before = digest(store_path)
    capsys.readouterr()
    code = main(["import", kind, str(path), "--db", str(store_path), "--lang", "en"])
    out = capsys.readouterr()
    printed = out.out + out.err
    assert code != 0
    expected = f"{path}:{row}: " + (f"{column}: " if column else "")
    assert expected in printed, printed
    assert "nothing was imported" in printed
    assert digest(store_path) == before


def test_refusals_speak_chinese_by_default(store_path):
    path = _write(
        store_path.parent,
        "w.csv",
        "人员编号,企业编号,姓名,政治面貌,组织关系\nW1,F1,张三,群众,流动\n",
    )
    report = import_file(open_store(str(store_path)), "workers", path)
    assert not report.ok
    assert any(
        ":2: 组织关系 (party_relation): 组织关系只填党员" in line for line in report.problem_lines()
    )


def test_a_refused_import_on_postgis_leaves_the_store_as_it_was(pg_location):  # noqa: F811
    folder = Path(__import__("tempfile").mkdtemp())
    firms = _write(folder, "f.csv", "firm_id,name,sector\nF1,顺丰,快递\n")
    assert main(["import", "firms", str(firms), "--db", pg_location]) == 0
    store = open_store(pg_location)
    version, before = store.version(), store.read("firms")
    bad = _write(
        folder, "w.csv", "worker_id,firm_id,name,observer,registered_on\nW1,F1,张三,,2026-11-01\n"
    )
    assert main(["import", "workers", str(bad), "--db", pg_location]) != 0
    assert store.version() == version
    assert store.count("workers") == 0
    pd.testing.assert_frame_equal(store.read("firms"), before)


def test_outlets_and_stations_are_placed_and_replaced_grids_place_them_again(store_path):
    store = open_store(str(store_path))
    outlets = store.read("outlets")
    assert dict(zip(outlets["outlet_id"], outlets["grid_id"], strict=True)) == {
        "O1": "G1",
        "O2": "G1",
    }
    moved = _write(
        store_path.parent,
        "g2.json",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"grid_id": "G9"},
                        "geometry": box(111.7055, 40.8455, 111.71, 40.85).__geo_interface__,
                    }
                ],
            }
        ),
    )
    assert main(["import", "grids", str(moved), "--db", str(store_path), "--replace"]) == 0
    outlets = store.read("outlets").astype(object)
    outlets = outlets.where(outlets.notna(), None)
    assert dict(zip(outlets["outlet_id"], outlets["grid_id"], strict=True)) == {
        "O1": None,
        "O2": "G9",
    }


def test_gcj02_coordinates_are_converted_on_import(store_path):
    from geo.inputs.coords import gcj02_to_wgs84

    path = _write(
        store_path.parent, "s.csv", "驿站编号,驿站名称,经度,纬度\nS1,红蜂驿站,111.705,40.845\n"
    )
    assert (
        main(["import", "stations", str(path), "--db", str(store_path), "--coords", "gcj02"]) == 0
    )
    point = open_store(str(store_path)).read("stations").geometry.iloc[0]
    lon, lat = gcj02_to_wgs84(111.705, 40.845)
    assert (round(point.x, 9), round(point.y, 9)) == (round(float(lon), 9), round(float(lat), 9))


@pytest.mark.parametrize("where", ["gpkg", "postgis"])
def test_the_independent_data_set_imports_on_both_stores(where, tmp_path, request):
    files = write_dataset(tmp_path / "files")
    db = str(tmp_path / "store.gpkg") if where == "gpkg" else request.getfixturevalue("pg_location")
    for kind in ("grids", "firms", "outlets", "workers", "stations", "reports"):
        assert main(["import", kind, str(getattr(files, kind)), "--db", db]) == 0, kind
    store = open_store(db)
    workers = store.read("workers")
    assert set(workers["insured"].dropna().astype(int)) <= {0, 1}
    assert store.count("firms") > 0 and store.count("stations") > 0
    assert len(workers) == len(set(workers["worker_id"]))


# --- an older store gains the new tables in place ----------------------------------------


def _schema_3_geopackage(path: Path) -> None:
    """A GeoPackage as gridmap wrote it before the new-employment tables (schema version 3)."""
    store = open_store(str(path))
    with store.transaction() as tx:
        tx.append("audit_log", pd.DataFrame({"action": ["start"]}))
    con = sqlite3.connect(path, isolation_level=None)
    for name in NEW_TABLES:
        for trigger in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (name,)
        ).fetchall():
            con.execute(f'DROP TRIGGER "{trigger[0]}"')
        con.execute(f'DROP TABLE IF EXISTS "rtree_{name}_geom"')
        con.execute(f'DROP TABLE "{name}"')
        con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (name,))
        con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (name,))
    con.execute("UPDATE gridmap_meta SET value = '3' WHERE key = 'schema_version'")
    con.execute("VACUUM")
    con.close()


def test_a_schema_3_geopackage_reads_then_gains_the_tables_on_its_first_write(tmp_path):
    path = tmp_path / "old.gpkg"
    _schema_3_geopackage(path)
    store = open_store(str(path))
    assert all(store.read(name).empty for name in NEW_TABLES)  # reading never migrates
    before = digest(path)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert(
            "firms", pd.DataFrame({"firm_id": ["F1"], "name": ["顺丰"], "sector": ["express"]})
        )
        raise RuntimeError("the write fails")
    assert digest(path) == before  # rolled back: no table, no version
    firms = _write(tmp_path, "f.csv", "firm_id,name,sector\nF1,顺丰,快递\n")
    outlets = _write(tmp_path, "o.csv", "outlet_id,firm_id,lon,lat\nO1,F1,111.705,40.845\n")
    assert main(["import", "firms", str(firms), "--db", str(path)]) == 0
    assert main(["import", "outlets", str(outlets), "--db", str(path)]) == 0
    con = sqlite3.connect(path)
    version = con.execute("SELECT value FROM gridmap_meta WHERE key = 'schema_version'").fetchone()
    kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents"))
    con.close()
    assert version == (str(SCHEMA_VERSION),) and SCHEMA_VERSION >= 4  # section 7 came in 4
    assert {name: kinds[name] for name in NEW_TABLES} == {
        "firms": "attributes",
        "outlets": "features",
        "workers": "attributes",
        "stations": "features",
    }
    assert {"outlets", "stations"} <= {name for name, *_ in pyogrio.list_layers(path)}
    assert pyogrio.read_dataframe(path, layer="outlets")["outlet_id"].tolist() == ["O1"]


def test_a_database_of_migration_3_gains_the_tables_on_its_first_write(pg_location):  # noqa: F811
    import psycopg

    from geo.store import pg_migrations
    from geo.store import postgis as store_postgis

    store = open_store(pg_location)
    with store.transaction() as tx:
        tx.append("audit_log", pd.DataFrame({"action": ["start"]}))
    with psycopg.connect(pg_location) as conn:
        for name in NEW_TABLES:
            conn.execute(f"DROP TABLE {name}")
        conn.execute("DELETE FROM gridmap_migrations WHERE version > 3")
        conn.execute("UPDATE gridmap_meta SET value = '3' WHERE key = 'schema_version'")
    # as a freshly started server that finds the old schema
    store_postgis._UPGRADED.discard(pg_location)
    for name in NEW_TABLES:
        store_postgis._TABLES_READY.discard((pg_location, name))
    assert all(store.read(name).empty for name in NEW_TABLES)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert(
            "firms", pd.DataFrame({"firm_id": ["F1"], "name": ["顺丰"], "sector": ["express"]})
        )
        raise RuntimeError("the write fails")
    with psycopg.connect(pg_location) as conn:
        assert conn.execute("SELECT to_regclass('firms')").fetchone() == (None,)  # rolled back
    folder = Path(__import__("tempfile").mkdtemp())
    firms = _write(folder, "f.csv", "firm_id,name,sector\nF1,顺丰,快递\n")
    assert main(["import", "firms", str(firms), "--db", pg_location]) == 0
    with psycopg.connect(pg_location) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM gridmap_migrations ORDER BY 1")]
        meta = conn.execute(
            "SELECT value FROM gridmap_meta WHERE key = 'schema_version'"
        ).fetchone()
    assert versions == sorted(pg_migrations.MIGRATIONS) and 4 in versions
    assert meta == (str(pg_migrations.LATEST),)
    assert store.read("firms")["sector"].tolist() == ["express"]
    assert set(TABLES) >= set(NEW_TABLES)
