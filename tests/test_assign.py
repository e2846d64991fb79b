"""Point-in-grid assignment and grid overlaps."""

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from geo.inputs.assign import assign_to_grids, overlapping_grids

WGS84 = "EPSG:4326"


@pytest.fixture
def two_grids() -> gpd.GeoDataFrame:
    """Two small squares in Hohhot sharing the edge x=111.71, listed out of id order, WGS-84."""
    return gpd.GeoDataFrame(
        {"grid_id": ["G2", "G1"]},
        geometry=[box(111.71, 40.84, 111.72, 40.85), box(111.70, 40.84, 111.71, 40.85)],
        crs=WGS84,
    )


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        (111.705, 40.845, "G1"),  # inside G1
        (111.715, 40.845, "G2"),  # inside G2
        (111.71, 40.845, "G1"),  # shared edge: the smallest grid_id
        (111.70, 40.845, "G1"),  # outer boundary counts as inside
        (111.72, 40.85, "G2"),  # corner
        (111.69, 40.845, None),  # outside
        (np.nan, 40.845, None),  # missing coordinate
    ],
)
def test_assign_to_grids(two_grids, x, y, expected):
    assert assign_to_grids([x], [y], two_grids).tolist() == [expected]


def test_assign_no_grids_or_points(two_grids):
    assert assign_to_grids([111.705], [40.845], two_grids.iloc[:0]).tolist() == [None]
    assert assign_to_grids([], [], two_grids).tolist() == []


def test_assign_places_200k_points_in_3000_grids():
    """200k points into 3,000 grids, each in the grid it lies in (speed: ``python -m bench``)."""
    grids = gpd.GeoDataFrame(
        {"grid_id": [f"G{i:04d}" for i in range(3000)]},
        geometry=[
            box(
                111.6 + (i % 60) * 0.002,
                40.8 + (i // 60) * 0.002,
                111.6 + (i % 60 + 1) * 0.002,
                40.8 + (i // 60 + 1) * 0.002,
            )
            for i in range(3000)
        ],
        crs=WGS84,
    )
    rng = np.random.default_rng(1)
    xs = rng.uniform(111.6, 111.72, 200_000)
    ys = rng.uniform(40.8, 40.9, 200_000)
    result = assign_to_grids(xs, ys, grids)
    assert not any(r is None for r in result)
    col = ((xs - 111.6) // 0.002).astype(int)
    row = ((ys - 40.8) // 0.002).astype(int)
    inner = (np.abs((xs - 111.6) / 0.002 - np.round((xs - 111.6) / 0.002)) > 1e-6) & (
        np.abs((ys - 40.8) / 0.002 - np.round((ys - 40.8) / 0.002)) > 1e-6
    )
    expected = np.array([f"G{i:04d}" for i in row * 60 + col], dtype=object)
    assert (result[inner] == expected[inner]).all()


def test_overlapping_grids_in_square_metres(two_grids):
    third = gpd.GeoDataFrame(
        {"grid_id": ["G0"]}, geometry=[box(111.705, 40.84, 111.715, 40.85)], crs=WGS84
    )
    grids = gpd.GeoDataFrame(
        {"grid_id": [*two_grids["grid_id"], "G0"]},
        geometry=[*two_grids.geometry, *third.geometry],
        crs=WGS84,
    )
    overlaps = overlapping_grids(grids)
    assert overlaps[["grid_a", "grid_b"]].values.tolist() == [["G0", "G1"], ["G0", "G2"]]
    # 0.005 deg x 0.01 deg at 40.845 N: ~421 m x ~1111 m
    assert overlaps["area_m2"].iloc[0] == pytest.approx(421.2 * 1110.5, rel=0.01)


def test_shared_edges_and_slivers_are_not_overlaps(two_grids):
    assert overlapping_grids(two_grids).empty
    sliver = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"]},
        geometry=[box(111.70, 40.84, 111.71, 40.85), box(111.709999995, 40.84, 111.72, 40.85)],
        crs=WGS84,
    )
    assert overlapping_grids(sliver).empty  # ~0.4 mm x 1.1 km = 0.5 m²
