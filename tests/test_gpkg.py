import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo.store import gpkg


def test_points_round_trip_through_blobs():
    x = np.array([111.70, -0.5, 180.0])
    y = np.array([40.84, 0.25, -90.0])
    xs, ys = gpkg.decode_points(gpkg.encode_points(x, y))
    assert xs.tolist() == x.tolist()
    assert ys.tolist() == y.tolist()


def test_polygon_blob_has_envelope_and_round_trips():
    poly = MultiPolygon([box(1, 2, 3, 4)])
    (blob,) = gpkg.encode_geometries(np.array([poly], dtype=object))
    assert blob[:2] == b"GP" and (blob[3] >> 1) & 0x07 == 1
    (back,) = gpkg.decode_geometries([blob])
    assert back.equals(poly)


def test_decode_points_falls_back_for_other_blobs():
    (blob,) = gpkg.encode_geometries(np.array([Point(3, 4)], dtype=object))  # with an envelope
    xs, ys = gpkg.decode_points([blob, None])
    assert xs[0] == 3 and ys[0] == 4
    assert np.isnan(xs[1])


def test_registered_st_functions_read_envelopes():
    import sqlite3

    con = sqlite3.connect(":memory:")
    gpkg.register_functions(con)
    (blob,) = gpkg.encode_geometries(np.array([box(1, 2, 3, 4)], dtype=object))
    row = con.execute(
        "SELECT ST_MinX(?), ST_MaxX(?), ST_MinY(?), ST_MaxY(?), ST_IsEmpty(?)", [blob] * 5
    ).fetchone()
    assert row == (1.0, 3.0, 2.0, 4.0, 0)
    (empty,) = gpkg.encode_geometries(np.array([shapely.Polygon()], dtype=object))
    assert con.execute("SELECT ST_IsEmpty(?)", [empty]).fetchone()[0] == 1


def test_store_keeps_a_missing_point_as_null(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.store import open_store

    store = open_store(str(tmp_path / "p.gpkg"))
    frame = gpd.GeoDataFrame(
        {"household_id": ["A", "B", "C"]}, geometry=[Point(1, 2), Point(), None], crs="EPSG:4326"
    )
    with store.transaction() as tx:
        tx.upsert("households", frame)
    back = store.read("households", ["household_id"])
    assert back.geometry.iloc[0] == Point(1, 2)
    assert back.geometry.iloc[1:].isna().all()
