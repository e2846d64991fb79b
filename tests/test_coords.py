"""WGS-84 / GCJ-02 / BD-09 conversions."""

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from geo.inputs.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

TIANANMEN_WGS84 = (116.397128, 39.916527)
# the published GCJ-02 value of this point (Gaode shows the square at ~116.4034, 39.9179)
TIANANMEN_GCJ02 = (116.403372, 39.917931)


def test_forward_matches_published_reference():
    lon, lat = wgs84_to_gcj02(*TIANANMEN_WGS84)
    assert lon == pytest.approx(TIANANMEN_GCJ02[0], abs=2e-6)
    assert lat == pytest.approx(TIANANMEN_GCJ02[1], abs=2e-6)


def test_gcj02_round_trip_within_1e6_degree():
    lon, lat = wgs84_to_gcj02(*TIANANMEN_WGS84)
    back_lon, back_lat = gcj02_to_wgs84(lon, lat)
    assert abs(back_lon - TIANANMEN_WGS84[0]) < 1e-6
    assert abs(back_lat - TIANANMEN_WGS84[1]) < 1e-7


def test_round_trip_vectorised_over_china():
    rng = np.random.default_rng(3)
    lon = rng.uniform(75, 135, 10_000)
    lat = rng.uniform(18, 53, 10_000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back_lon - lon)) < 1e-7
    assert np.max(np.abs(back_lat - lat)) < 1e-7


def test_offset_is_a_few_hundred_metres_in_hohhot():
    lon, lat = wgs84_to_gcj02(111.70, 40.84)
    metres = np.hypot((lon - 111.70) * 111_320 * np.cos(np.radians(40.84)), (lat - 40.84) * 110_540)
    assert 100 < metres < 1000


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9)])
def test_outside_china_gcj02_equals_wgs84(lon, lat):
    assert out_of_china(lon, lat)
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_bd09_round_trips():
    gcj = wgs84_to_gcj02(*TIANANMEN_WGS84)
    bd = gcj02_to_bd09(*gcj)
    assert bd[0] - gcj[0] == pytest.approx(0.0065, abs=2e-4)
    back = bd09_to_gcj02(*bd)
    assert np.allclose(back, gcj, atol=1e-5)
    assert np.allclose(bd09_to_wgs84(*wgs84_to_bd09(*TIANANMEN_WGS84)), TIANANMEN_WGS84, atol=1e-5)


def test_transform_geometry_moves_every_vertex():
    square = Polygon([(111.70, 40.84), (111.71, 40.84), (111.71, 40.85), (111.70, 40.85)])
    moved = transform_geometry(square, wgs84_to_gcj02)
    expected = np.column_stack(wgs84_to_gcj02(*np.asarray(square.exterior.coords).T))
    assert np.allclose(np.asarray(moved.exterior.coords), expected)
    back = transform_geometry(np.array([moved]), gcj02_to_wgs84)
    assert shapely.equals_exact(back[0], square, tolerance=1e-7)
