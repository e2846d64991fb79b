"""The store contract, run against the GeoPackage store and the PostGIS store alike."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import MultiPolygon, Point, box

from geo.access import audit_chain
from geo.store import open_store
from geo.store.base import Store
from geo.store.geopackage import GeoPackageStore
from geo.store.schema import SCHEMA_VERSION, TABLES, WGS84

STORES = ["gpkg", "postgis"]


@pytest.fixture(params=STORES)
def store(request, tmp_path) -> Store:
    """An empty store of each kind: a GeoPackage in tmp_path, a PostGIS schema."""
    if request.param == "gpkg":
        return open_store(str(tmp_path / "gridmap.gpkg"))
    return open_store(request.getfixturevalue("pg_location"))


def _grids() -> gpd.GeoDataFrame:
    """Two unit squares side by side, sharing the edge x=1, WGS-84."""
    return gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2"],
            "name": ["一网格", "二网格"],
            "community": ["A", "A"],
            "street": ["S", "S"],
            "party_branch": ["支部", None],
            "district": ["新城区", None],  # schema 7: optional
        },
        geometry=[MultiPolygon([box(0, 0, 1, 1)]), MultiPolygon([box(1, 0, 2, 1)])],
        crs=WGS84,
    )


def _households() -> gpd.GeoDataFrame:
    """Three households: two in G1 (one on the shared edge), one unassigned, WGS-84."""
    return gpd.GeoDataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "grid_id": ["G1", "G1", None],
            "categories": ["red;pink", "yellow", ""],
            "address": ["1号", "2号", "3号"],
            "building": ["1栋", None, None],
            "head_name": ["张三", "李四", "王五"],
            "phone": ["13800001234", None, None],
            "id_number": [None, None, None],
            "members": [1, 2, None],
            "last_verified": ["2026-11-01", None, "2026-10-01"],
        },
        geometry=[Point(0.5, 0.5), Point(1.0, 0.5), Point(5, 5)],
        crs=WGS84,
    )


SAMPLES: dict[str, pd.DataFrame] = {
    "grids": _grids(),
    "households": _households(),
    # a footprint and a point (schema 5, issue 17)
    "buildings": gpd.GeoDataFrame(
        {
            "building_id": ["B1", "B2"],
            "grid_id": ["G1", "G2"],
            "name": ["1号楼", "2栋"],
            "party_group": ["一号楼党小组", None],
            "units": [3, None],
            "floors": [6, 18],
        },
        geometry=[box(0.1, 0.1, 0.2, 0.2), Point(1.5, 0.5)],
        crs=WGS84,
    ),
    "visits": pd.DataFrame(
        {
            "visit_id": ["V1", "V2"],
            "household_id": ["H1", "H2"],
            "visited_at": ["2026-11-20 08:15:00", "2026-11-21 23:59:59"],
            "staff_id": ["S1", None],
            "kind": ["door", "phone"],
            "note": ["正常", None],
        }
    ),
    "verifications": pd.DataFrame(
        {
            "household_id": ["H1", "H1"],
            "verified_on": ["2026-10-02", "2026-11-01"],
            "actor": ["admin", "赵六"],
            "source": ["import", "web"],
        }
    ),
    "staff": pd.DataFrame(
        {
            "staff_id": ["S1", "S1"],
            "name": ["赵六", "赵六"],
            "role": ["grid_worker", "grid_worker"],
            "grid_id": ["G1", "G2"],
            "department": [None, "司法所"],
            "phone": ["1", "1"],
        }
    ),
    "reports": gpd.GeoDataFrame(
        {
            "report_id": ["R1"],
            "source": ["observer"],
            "category": ["road"],
            "description": ["井盖缺失"],
            "reporter_id": ["U1"],
            "reported_at": ["2026-11-20 09:00:00"],
            "responded_at": [None],
            "resolved_at": [None],
            "followed_up_at": [None],
            "satisfaction": [None],
            "photo": [None],
            "grid_id": ["G1"],
            "duplicate_of": [None],
            "owner_kind": ["staff"],
            "owner_id": ["S1"],
            "followup_method": [None],
            "followup_by": [None],
            "closed_at": [None],
        },
        geometry=[Point(0.25, 0.75)],
        crs=WGS84,
    ),
    "report_steps": pd.DataFrame(
        {
            "report_id": ["R1", "R1"],
            "step": ["reported", "responded"],
            "at": ["2026-11-20 09:00:00", "2026-11-20 10:00:00"],
            "actor": ["U1", "S1"],
            "note": [None, "已派单"],
            "recorded_at": ["2026-11-20 09:00:01", "2026-11-20 10:00:01"],
        }
    ),
    "photos": pd.DataFrame(
        {"report_id": ["R1"], "mime": ["image/jpeg"], "data": [b"\xff\xd8\x00binary"]}
    ),
    # new-employment groups (schema version 4)
    "firms": pd.DataFrame(
        {
            "firm_id": ["F1", "F2"],
            "name": ["顺丰速运", "美团外卖"],
            "sector": ["express", "food_delivery"],
            "party_org": ["顺丰党支部", None],
            "union": [None, "美团工会"],
        }
    ),
    "outlets": gpd.GeoDataFrame(
        {
            "outlet_id": ["O1"],
            "firm_id": ["F1"],
            "name": ["新华站"],
            "address": ["新华大街1号"],
            "party_org": [None],
            "grid_id": ["G1"],
        },
        geometry=[Point(0.4, 0.6)],
        crs=WGS84,
    ),
    "workers": pd.DataFrame(
        {
            "worker_id": ["W1", "W2"],
            "firm_id": ["F1", "F2"],
            "outlet_id": ["O1", None],
            "name": ["王骑手", "李师傅"],
            "phone": ["13900001111", None],
            "id_number": [None, None],
            "party": ["member", "none"],
            "party_relation": ["mobile", None],
            "returned_on": ["2026-11-01", None],
            "insured": [1, 0],
            "insured_on": ["2026-10-01", None],
            "observer": [1, 0],
            "registered_on": ["2026-11-02", None],
            "community": ["新华社区", None],
        }
    ),
    "stations": gpd.GeoDataFrame(
        {
            "station_id": ["S1"],
            "name": ["红蜂驿站"],
            "services": ["rest;water"],
            "host": ["社区党群服务中心"],
            "opened_on": ["2026-09-01"],
            "grid_id": ["G1"],
        },
        geometry=[Point(0.5, 0.6)],
        crs=WGS84,
    ),
    "boundary": gpd.GeoDataFrame(
        {"boundary_id": ["B1"], "name": ["某街道"], "adcode": ["110101"]},
        geometry=[MultiPolygon([box(0, 0, 2, 1), box(3, 3, 4, 4)])],
        crs=WGS84,
    ),
    "users": pd.DataFrame(
        {
            "username": ["admin"],
            "role": ["admin"],
            "community": [None],
            "grids": ["G1;G2"],
            "password_hash": ["$argon2id$x"],
            "disabled": [0],
            "failed_attempts": [3],
            "locked_until": [None],
            "created_at": ["2026-11-01 00:00:00"],
            "district": [None],
            "department": ["urban_management"],
        }
    ),
    # entry_hash: what append stores (the chain from GENESIS), checked by the round trip
    "audit_log": audit_chain.chained(
        pd.DataFrame(
            {
                "at": ["2026-11-20 09:00:00", "2026-11-20 09:00:00"],
                "actor": ["admin", "admin"],
                "action": ["import", "import"],
                "detail": ["grids", "grids"],
                "records": ["G1", "G1"],
            }
        ),
        audit_chain.GENESIS,
    ),
    "sessions": pd.DataFrame(
        {
            "session_id": ["s1"],
            "username": ["admin"],
            "grants": ["admin||"],
            "token_hash": ["ab" * 32],
            "ticket_hash": [None],
            "ticket_expires": ["2026-11-20 09:02:00"],
            "created_at": ["2026-11-20 09:00:00"],
            "expires_at": ["2026-11-20 17:00:00"],
            "revoked_at": [None],
            "revoked_why": [None],
        }
    ),
    "case_events": pd.DataFrame(
        {
            "report_id": ["R1", "R1"],
            "event_no": [1, 2],
            "event": ["assigned", "extended"],
            "at": ["2026-11-20 09:00:00", "2026-11-21 09:00:00"],
            "actor": ["system", "街道刘"],
            "actor_role": ["system", "street_leader"],
            "owner_kind": ["staff", None],
            "owner_id": ["S1", None],
            "from_kind": [None, None],
            "from_id": [None, None],
            "hours": [None, 48],
            "reason": [None, "需协调产权单位"],
            "request_seq": [None, 1],
            "recorded_at": ["2026-11-20 09:00:00", "2026-11-21 09:00:00"],
        }
    ),
    "case_reminders": pd.DataFrame(
        {
            "report_id": ["R1"],
            "due_at": ["2026-11-25 09:00:00"],
            "owner_kind": ["staff"],
            "owner_id": ["S1"],
            "sent_at": ["2026-11-24 09:00:00"],
            "status": ["sent"],
            "detail": [None],
        }
    ),
    "mediations": pd.DataFrame(
        {
            "report_id": ["R1"],
            "dispute_kind": ["neighbour"],
            "mediation_type": ["people"],
            "room": ["东河社区"],
            "opened_at": ["2026-11-20 10:00:00"],
            "opened_by": ["社区张"],
        }
    ),
    "mediation_sessions": pd.DataFrame(
        {
            "report_id": ["R1"],
            "session_no": [1],
            "held_at": ["2026-11-21 15:00:00"],
            "outcome": ["success"],
            "note": ["双方达成和解"],
            "recorded_by": ["社区张"],
            "recorded_at": ["2026-11-21 16:00:00"],
        }
    ),
    "mediation_mediators": pd.DataFrame(
        {
            "report_id": ["R1", "R1"],
            "session_no": [1, 1],
            "staff_id": ["S9", "S8"],
            "capacity": ["old_party_member", "judicial"],
        }
    ),
}


def test_samples_cover_every_table():
    assert sorted(SAMPLES) == sorted(TABLES)
    for name, frame in SAMPLES.items():
        assert list(frame.columns[: len(TABLES[name].column_names)]) == TABLES[name].column_names


def _write(store: Store, table: str, frame: pd.DataFrame) -> None:
    with store.transaction() as tx:
        if TABLES[table].key:
            tx.upsert(table, frame)
        else:
            tx.append(table, frame)


def _values(frame: pd.DataFrame) -> list[list]:
    """Attribute values as plain lists, missing values as None."""
    plain = pd.DataFrame(frame).drop(columns="geometry", errors="ignore").astype(object)
    return plain.where(plain.notna(), None).values.tolist()


def test_empty_store_reads_empty_and_creates_nothing(store):
    assert not store.exists()
    assert store.version() == 0
    frame = store.read("households")
    assert list(frame.columns) == [*TABLES["households"].column_names, "geometry"]
    assert frame.crs == WGS84
    assert len(frame) == 0
    assert store.count("visits") == 0
    assert store.visit_days("2026-11-01", "2026-11-30").empty
    assert store.last_visits("2026-11-30").empty
    assert store.last_verifications("2026-11-30").empty
    assert store.visit_day_masks("2026-11-30", 7).empty
    assert list(store.read_attributes("reports", ["report_id"]).columns) == ["report_id"]
    assert store.dangling_references("staff", "grid_id", "grids", "grid_id") == []
    assert not store.exists()


@pytest.mark.parametrize("table", sorted(TABLES))
def test_round_trip_of_every_table(store, table):
    sample = SAMPLES[table]
    _write(store, table, sample)
    back = store.read(table)
    assert list(back.columns) == list(sample.columns)
    assert _values(back) == _values(sample)
    if TABLES[table].geometry:
        assert back.crs == WGS84
        assert back.geometry.geom_equals(sample.geometry.reset_index(drop=True)).all()
    assert store.count(table) == len(sample)
    assert store.exists()


def test_both_stores_give_identical_frames(tmp_path, pg_location):  # noqa: F811
    stores = [open_store(str(tmp_path / "a.gpkg")), open_store(pg_location)]
    for s in stores:
        for table, frame in SAMPLES.items():
            _write(s, table, frame)
    for table in TABLES:
        gp, pg = (s.read(table) for s in stores)
        assert gp.dtypes.astype(str).to_dict() == pg.dtypes.astype(str).to_dict(), table
        assert _values(gp) == _values(pg), table
        if TABLES[table].geometry:
            assert gp.geometry.geom_equals(pg.geometry).all()
    for columns, where in [(["household_id"], {"grid_id": None}), (None, {"grid_id": ["G1"]})]:
        gp, pg = (s.read("households", columns, where) for s in stores)
        assert gp.dtypes.astype(str).to_dict() == pg.dtypes.astype(str).to_dict()
        assert _values(gp) == _values(pg)
    gp, pg = (s.visit_days("2026-11-20", "2026-11-21") for s in stores)
    assert _values(gp) == _values(pg)


def test_upsert_updates_only_the_given_columns(store):
    _write(store, "households", _households())
    with store.transaction() as tx:
        written = tx.upsert(
            "households", pd.DataFrame({"household_id": ["H2", "H4"], "phone": ["139", "137"]})
        )
    assert written == 2
    back = store.read("households").set_index("household_id")
    assert back.loc["H2", "phone"] == "139"
    assert back.loc["H2", "head_name"] == "李四"  # untouched
    assert back.loc["H2", "geometry"].equals(Point(1.0, 0.5))  # untouched
    assert back.loc["H4", "phone"] == "137"
    assert pd.isna(back.loc["H4", "head_name"])
    assert list(back.index) == ["H1", "H2", "H3", "H4"]


def test_upsert_of_a_key_twice_in_one_frame_keeps_the_last(store):
    frame = pd.DataFrame({"visit_id": ["V1", "V1"], "household_id": ["H1", "H2"]})
    _write(store, "visits", frame)
    assert store.read("visits")["household_id"].tolist() == ["H2"]


def test_upsert_reprojects_to_wgs84(store):
    mercator = _households().to_crs("EPSG:3857")
    _write(store, "households", mercator)
    back = store.read("households")
    assert back.crs == WGS84
    assert np.allclose(back.geometry.x, [0.5, 1.0, 5.0]) and np.allclose(
        back.geometry.y, [0.5, 0.5, 5.0]
    )


def test_replace_replaces_the_whole_table(store):
    _write(store, "visits", SAMPLES["visits"])
    with store.transaction() as tx:
        tx.replace("visits", pd.DataFrame({"visit_id": ["V9"], "household_id": ["H3"]}))
    assert store.read("visits")[["visit_id", "household_id"]].values.tolist() == [["V9", "H3"]]


def _digest(store: Store) -> str:
    return hashlib.sha256(store.path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "bad_write",
    [
        pytest.param(
            lambda tx: tx.upsert("visits", pd.DataFrame({"household_id": ["H1"]})), id="missing-key"
        ),
        pytest.param(lambda tx: tx.update("audit_log", {}, {"actor": "x"}), id="audit-update"),
        pytest.param(lambda tx: 1 / 0, id="python-error"),
    ],
)
def test_failed_transaction_leaves_the_store_exactly_as_it_was(store, bad_write):
    _write(store, "households", _households())
    _write(store, "audit_log", SAMPLES["audit_log"])
    before = {t: _values(store.read(t)) for t in TABLES}
    version = store.version()
    digest = _digest(store) if isinstance(store, GeoPackageStore) else None
    with pytest.raises(Exception), store.transaction() as tx:  # noqa: B017
        tx.upsert("households", pd.DataFrame({"household_id": ["H1", "H9"], "phone": ["0", "0"]}))
        tx.delete("households", {"household_id": "H2"})
        tx.set_grid_ids("households", ["H3"], ["G2"])
        bad_write(tx)
    assert {t: _values(store.read(t)) for t in TABLES} == before
    assert store.version() == version
    if digest is not None:
        assert _digest(store) == digest


def test_failed_first_transaction_leaves_no_store(store):
    with pytest.raises(ZeroDivisionError), store.transaction() as tx:
        tx.upsert("grids", _grids())
        raise ZeroDivisionError("boom")
    assert store.count("grids") == 0
    assert store.version() == 0
    assert not store.exists()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"grid_id": "G1"}, ["H1", "H2"]),
        ({"grid_id": None}, ["H3"]),
        ({"grid_id": ["G1", "G2"]}, ["H1", "H2"]),
        ({"grid_id": []}, []),
        ({"household_id": np.array(["H3", "H1"])}, ["H1", "H3"]),
        ({"household_id": pd.Series(["H2"])}, ["H2"]),
        ({"grid_id": "G1", "categories": "yellow"}, ["H2"]),
        ({"members": 2}, ["H2"]),
        ({"members": [1, 2]}, ["H1", "H2"]),
        ({"categories": ""}, ["H3"]),
        (None, ["H1", "H2", "H3"]),
    ],
)
def test_where_filters(store, where, expected):
    _write(store, "households", _households())
    frame = store.read("households", ["household_id"], where)
    assert frame["household_id"].tolist() == expected
    assert list(frame.columns) == ["household_id", "geometry"]
    with store.transaction() as tx:
        assert tx.read("households", ["household_id"], where)["household_id"].tolist() == expected


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        ("2026-11-20", "2026-11-20", [("H1", "2026-11-20"), ("H2", "2026-11-20")]),
        ("2026-11-21", "2026-11-21", [("H1", "2026-11-21")]),
        ("2026-11-19", "2026-11-19", [("H1", "2026-11-19")]),
        ("2026-11-18", "2026-11-18", []),
        (
            "2026-11-19",
            "2026-11-21",
            [
                ("H1", "2026-11-19"),
                ("H1", "2026-11-20"),
                ("H1", "2026-11-21"),
                ("H2", "2026-11-20"),
            ],
        ),
    ],
)
def test_visit_days_window_edges(store, first, last, expected):
    visits = pd.DataFrame(
        {
            "visit_id": ["a", "b", "c", "d", "e"],
            "household_id": ["H1", "H1", "H1", "H2", "H1"],
            "visited_at": [
                "2026-11-19 23:59:59",
                "2026-11-20 00:00:00",
                "2026-11-20 23:59:59",
                "2026-11-20 12:00:00",
                "2026-11-21 00:00:00",
            ],
        }
    )
    _write(store, "visits", visits)
    days = store.visit_days(first, last)
    assert list(days.columns) == ["household_id", "day"]
    assert sorted(days.itertuples(index=False, name=None)) == expected


def test_last_visits_stop_at_the_end_of_the_day(store):
    visits = pd.DataFrame(
        {
            "visit_id": ["a", "b", "c"],
            "household_id": ["H1", "H1", "H2"],
            "visited_at": ["2026-11-20 23:59:59", "2026-11-21 00:00:00", "2026-11-22 08:00:00"],
        }
    )
    _write(store, "visits", visits)
    last = store.last_visits("2026-11-20")
    assert last.values.tolist() == [["H1", "2026-11-20 23:59:59"]]
    assert sorted(store.last_visits("2026-11-22").values.tolist()) == [
        ["H1", "2026-11-21 00:00:00"],
        ["H2", "2026-11-22 08:00:00"],
    ]


def test_last_verifications_are_the_latest_on_or_before_the_day(store):
    history = pd.DataFrame(
        {
            "household_id": ["H1", "H1", "H2", "H3"],
            "verified_on": ["2026-11-01", "2026-11-20", "2026-11-21", "2026-10-01"],
        }
    )
    _write(store, "verifications", history)
    last = store.last_verifications("2026-11-20")
    assert list(last.columns) == ["household_id", "verified_on"]
    assert sorted(last.values.tolist()) == [["H1", "2026-11-20"], ["H3", "2026-10-01"]]
    assert sorted(store.last_verifications("2026-11-19").values.tolist()) == [
        ["H1", "2026-11-01"],
        ["H3", "2026-10-01"],
    ]
    assert store.last_verifications("2026-09-30").empty


def test_store_base_class_last_verifications_agrees(store):
    """The base-class default (for other stores) gives what the SQL override gives."""
    _write(store, "verifications", SAMPLES["verifications"])
    for day in ("2026-10-01", "2026-10-02", "2026-11-30"):
        assert Store.last_verifications(store, day).values.tolist() == (
            store.last_verifications(day).values.tolist()
        )


def test_dangling_references(store):
    _write(store, "grids", _grids())
    staff = SAMPLES["staff"].assign(grid_id=["G1", "G7"])
    _write(store, "staff", staff)
    assert store.dangling_references("staff", "grid_id", "grids", "grid_id") == ["G7"]


def test_version_bumps_once_per_committed_write(store):
    assert store.version() == 0
    _write(store, "grids", _grids())
    first = store.version()
    with store.transaction() as tx:
        tx.upsert("visits", SAMPLES["visits"])
        tx.update("visits", {"visit_id": "V1"}, {"note": "改"})
    second = store.version()
    with store.transaction() as tx:
        tx.read("grids")
    assert 0 < first < second == store.version()


def test_update_delete_and_set_grid_ids_return_and_change_rows(store):
    _write(store, "households", _households())
    with store.transaction() as tx:
        assert (
            tx.update("households", {"grid_id": "G1"}, {"address": "改", "members": np.int64(4)})
            == 2
        )
        assert tx.delete("households", {"household_id": ["H2", "H404"]}) == 1
        tx.set_grid_ids("households", ["H1", "H3"], [None, "G2"])
        assert tx.read("households", ["household_id", "grid_id"])["grid_id"].tolist()[1] == "G2"
    back = store.read("households")
    assert back["household_id"].tolist() == ["H1", "H3"]
    assert back["grid_id"].isna().tolist() == [True, False]
    assert back.loc[0, "address"] == "改" and back.loc[0, "members"] == 4


def test_audit_log_is_append_only(store):
    _write(store, "audit_log", SAMPLES["audit_log"])
    _write(store, "audit_log", SAMPLES["audit_log"])
    assert store.count("audit_log") == 4
    with pytest.raises(Exception, match="append-only"), store.transaction() as tx:  # noqa: B017
        tx.delete("audit_log", {})
    assert store.count("audit_log") == 4


def test_new_rows_read_back_in_frame_order(store):
    _write(
        store,
        "visits",
        pd.DataFrame({"visit_id": ["V5", "V1", "V9", "V1", "V3"], "note": list("abcde")}),
    )
    _write(store, "visits", pd.DataFrame({"visit_id": ["V0", "V9"], "note": ["f", "g"]}))
    back = store.read("visits", ["visit_id", "note"])
    assert back.values.tolist() == [["V5", "a"], ["V1", "d"], ["V9", "g"], ["V3", "e"], ["V0", "f"]]


@pytest.mark.parametrize("method", ["upsert", "replace"])
def test_polygons_are_stored_as_they_compare(store, method):
    """A plain Polygon may come back as a one-part MultiPolygon (PostGIS), never as another shape."""
    grids = _grids().set_geometry([box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=WGS84)
    with store.transaction() as tx:
        getattr(tx, method)("grids", grids)
    back = store.read("grids")
    assert back.geometry.geom_equals(grids.geometry).all()
    assert set(back.geom_type) <= {"Polygon", "MultiPolygon"}


@pytest.mark.parametrize(
    "geometry",
    [[Point(1, 2, 3), Point(4, 5)], [None, Point(4, 5)]],
    ids=["3d", "missing"],
)
def test_odd_point_geometries(store, geometry):
    """Z is dropped; a missing point reads back with NaN coordinates."""
    frame = gpd.GeoDataFrame({"household_id": ["A", "B"]}, geometry=geometry, crs=WGS84)
    _write(store, "households", frame)
    back = store.read("households")
    assert not back.geometry.has_z.any()
    first = (1.0, 2.0) if geometry[0] is not None and not geometry[0].is_empty else (np.nan, np.nan)
    np.testing.assert_array_equal(back.geometry.x, [first[0], 4.0])
    np.testing.assert_array_equal(back.geometry.y, [first[1], 5.0])


@pytest.mark.parametrize(
    ("table", "columns", "where"),
    [
        ("households", None, None),
        ("households", ["household_id", "members"], {"grid_id": "G1"}),
        ("households", ["household_id", "geom"], {"grid_id": []}),
        ("visits", ["visit_id"], None),
    ],
)
def test_read_attributes_is_read_without_geometry(store, table, columns, where):
    _write(store, table, SAMPLES[table])
    plain = store.read_attributes(table, columns, where)
    full = store.read(table, columns, where)
    assert type(plain) is pd.DataFrame
    expected = pd.DataFrame(full).drop(columns="geometry", errors="ignore")
    assert list(plain.columns) == list(expected.columns)
    assert _values(plain) == _values(expected)


def test_replace_takes_chunks(store):
    _write(store, "visits", SAMPLES["visits"])
    chunks = (pd.DataFrame({"visit_id": [f"C{i}", f"D{i}"]}) for i in range(3))
    with store.transaction() as tx:
        assert tx.replace("visits", chunks) == 6
    assert store.read("visits")["visit_id"].tolist() == ["C0", "D0", "C1", "D1", "C2", "D2"]


@pytest.mark.parametrize(
    ("last_day", "days", "expected"),
    [
        ("2026-11-20", 1, {"H1": 0b1, "H2": 0b1}),
        ("2026-11-21", 3, {"H1": 0b111, "H2": 0b010}),
        ("2026-11-21", 2, {"H1": 0b11, "H2": 0b10}),
        ("2026-11-18", 7, {}),
        ("2026-11-22", 62, {"H1": 0b1110, "H2": 0b0100}),
    ],
)
def test_visit_day_masks(store, last_day, days, expected):
    visits = pd.DataFrame(
        {
            "visit_id": ["a", "b", "c", "d", "e"],
            "household_id": ["H1", "H1", "H1", "H2", "H1"],
            "visited_at": [
                "2026-11-19 23:59:59",
                "2026-11-20 00:00:00",
                "2026-11-20 23:59:59",
                "2026-11-20 12:00:00",
                "2026-11-21 00:00:00",
            ],
        }
    )
    _write(store, "visits", visits)
    masks = store.visit_day_masks(last_day, days)
    assert list(masks.columns) == ["household_id", "mask"]
    assert masks["mask"].dtype == np.int64
    assert dict(zip(masks["household_id"], masks["mask"].tolist(), strict=True)) == expected


@pytest.mark.parametrize("ids", [["H1"], ["H2", "H9"], [], ["H1", "H2"]])
def test_household_ids_restrict_visit_and_verification_queries(store, ids):
    """Given household ids, the per-household queries return exactly those rows of the full
    answer (the SQL override and the base-class default alike)."""
    visits = pd.DataFrame(
        {
            "visit_id": ["a", "b", "c", "d"],
            "household_id": ["H1", "H1", "H2", "H3"],
            "visited_at": [
                "2026-11-19 10:00:00",
                "2026-11-20 23:59:59",
                "2026-11-20 12:00:00",
                "2026-11-18 08:00:00",
            ],
        }
    )
    _write(store, "visits", visits)
    history = pd.DataFrame(
        {
            "household_id": ["H1", "H1", "H2", "H3"],
            "verified_on": ["2026-11-01", "2026-11-20", "2026-11-21", "2026-10-01"],
        }
    )
    _write(store, "verifications", history)
    queries = [
        lambda s, only: type(s).last_visits(s, "2026-11-20", household_ids=only),
        lambda s, only: type(s).visit_day_masks(s, "2026-11-20", 7, household_ids=only),
        lambda s, only: type(s).last_verifications(s, "2026-11-20", household_ids=only),
        lambda s, only: Store.last_visits(s, "2026-11-20", household_ids=only),
        lambda s, only: Store.visit_day_masks(s, "2026-11-20", 7, household_ids=only),
        lambda s, only: Store.last_verifications(s, "2026-11-20", household_ids=only),
    ]
    for query in queries:
        full = sorted(query(store, None).values.tolist())
        assert {row[0] for row in full} >= {"H1", "H3"}  # H2 verified only after the day
        assert sorted(query(store, ids).values.tolist()) == [r for r in full if r[0] in ids]


def _older_geopackage(path) -> GeoPackageStore:
    """A GeoPackage as gridmap made it before the verifications table (schema version 1)."""
    import sqlite3

    store = GeoPackageStore(path)
    _write(store, "households", _households())
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TABLE verifications")
    con.execute("DELETE FROM gpkg_contents WHERE table_name = 'verifications'")
    con.execute("UPDATE gridmap_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    return store


def test_older_geopackage_reads_a_missing_table_as_empty(tmp_path):
    store = _older_geopackage(tmp_path / "old.gpkg")
    assert store.read("verifications").empty
    assert (
        list(store.read_attributes("verifications").columns) == TABLES["verifications"].column_names
    )
    assert store.count("verifications") == 0
    assert store.last_verifications("2026-11-30").empty
    assert len(store.read("households")) == 3


def test_older_geopackage_gains_missing_tables_on_first_write(tmp_path):
    import sqlite3

    path = tmp_path / "old.gpkg"
    store = _older_geopackage(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.upsert("verifications", SAMPLES["verifications"])
        raise RuntimeError("the edit fails")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # rolled back, table too
    _write(store, "verifications", SAMPLES["verifications"])
    assert _values(store.read("verifications")) == _values(SAMPLES["verifications"])
    con = sqlite3.connect(path)
    meta = dict(con.execute("SELECT key, value FROM gridmap_meta"))
    contents = con.execute(
        "SELECT data_type FROM gpkg_contents WHERE table_name = 'verifications'"
    ).fetchall()
    con.close()
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert contents == [("attributes",)]
    assert "verifications" in {name for name, *_ in pyogrio.list_layers(path)}


def test_a_writer_waits_for_the_lock_then_says_the_store_is_busy(tmp_path):
    """WAL: readers carry on while another writer holds the lock; a writer gives up after its
    wait with StoreBusy (a message for the clerk), having written nothing."""
    import sqlite3
    import time

    from geo.store.base import StoreBusy

    store = open_store(str(tmp_path / "busy.gpkg"))
    with store.transaction() as tx:
        tx.set_meta("probe", "1")
    assert sqlite3.connect(store.location).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    holder = sqlite3.connect(store.location, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert store.meta("probe") == "1"  # reading is not blocked
        started = time.monotonic()
        with pytest.raises(StoreBusy) as busy:
            with store.transaction(wait=0.3) as tx:
                tx.set_meta("probe", "2")
        assert 0.3 <= time.monotonic() - started < 5
        assert busy.value.message("zh-CN").startswith("数据正在导入，暂时无法保存（已等待 0.3 秒）")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.meta("probe") == "1"
