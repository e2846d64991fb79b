"""geo.hierarchy.districts: outlines as boundary services publish them, grids cut along them."""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from boundaries import URBAN_FILES, require_boundaries
from shapely.geometry import box

from geo.hierarchy.districts import (
    BoundariesMissing,
    clip_to_districts,
    district_of_grids,
    read_district_outlines,
)
from geo.inputs.coords import wgs84_to_gcj02

WGS84 = "EPSG:4326"


@pytest.fixture
def two_districts() -> gpd.GeoDataFrame:
    """甲区 west of lon 111.70, 乙区 east of it: 0.02 x 0.02 degree squares near Hohhot."""
    return gpd.GeoDataFrame(
        {"adcode": ["1", "2"], "name": ["甲区", "乙区"]},
        geometry=[box(111.68, 40.80, 111.70, 40.82), box(111.70, 40.80, 111.72, 40.82)],
        crs=WGS84,
    )


def test_a_cell_on_the_border_becomes_one_part_per_district(two_districts):
    cells = gpd.GeoDataFrame(
        geometry=[box(111.695, 40.81, 111.705, 40.811), box(111.685, 40.81, 111.69, 40.811)],
        crs=WGS84,
    )
    parts = clip_to_districts(cells, two_districts)
    assert parts[["cell", "district"]].values.tolist() == [[0, "乙区"], [0, "甲区"], [1, "甲区"]]
    assert parts.loc[parts["cell"] == 0, "fraction"].sum() == pytest.approx(1.0, abs=1e-6)
    for _, part in parts.iterrows():
        outline = two_districts.loc[two_districts["name"] == part["district"]].geometry.iloc[0]
        assert outline.buffer(1e-9).covers(part.geometry)
    # the two halves of the border cell make up the cell
    halves = shapely.union_all(parts.loc[parts["cell"] == 0].geometry.values)
    assert halves.symmetric_difference(cells.geometry.iloc[0]).area < 1e-12


def test_a_sliver_over_the_border_is_dropped(two_districts):
    cells = gpd.GeoDataFrame(geometry=[box(111.699, 40.81, 111.7001, 40.811)], crs=WGS84)
    parts = clip_to_districts(cells, two_districts, min_fraction=0.15)
    assert parts["district"].tolist() == ["甲区"]  # 9% of it lies in 乙区: no grid there


def test_district_of_grids_takes_the_larger_part_and_none_outside(two_districts):
    grids = gpd.GeoDataFrame(
        {"grid_id": ["mostly_east", "west", "outside", "edge_only"]},
        geometry=[
            box(111.698, 40.81, 111.706, 40.811),
            box(111.681, 40.81, 111.69, 40.811),
            box(111.80, 40.81, 111.81, 40.811),
            box(111.72, 40.81, 111.73, 40.811),  # touches 乙区's east edge only
        ],
        crs=WGS84,
    )
    assert district_of_grids(grids, two_districts).tolist() == ["乙区", "甲区", None, None]


def test_outlines_in_gcj02_are_read_into_wgs84(tmp_path):
    square = np.array([[111.68, 40.80], [111.70, 40.80], [111.70, 40.82], [111.68, 40.82]])
    gx, gy = wgs84_to_gcj02(square[:, 0], square[:, 1])
    ring = [[float(x), float(y)] for x, y in zip(gx, gy, strict=True)]
    feature = {
        "type": "Feature",
        "properties": {"adcode": 150102, "name": "新城区", "center": [111.68, 40.82]},
        "geometry": {"type": "MultiPolygon", "coordinates": [[ring + [ring[0]]]]},
    }
    (tmp_path / "150102.json").write_text(json.dumps([feature], ensure_ascii=False), "utf-8")
    outlines = read_district_outlines(tmp_path, ["150102.json"])
    assert outlines["adcode"].tolist() == ["150102"] and outlines["name"].tolist() == ["新城区"]
    xs, ys = shapely.get_coordinates(outlines.geometry.iloc[0]).T
    assert np.allclose(sorted(set(np.round(xs, 6))), [111.68, 111.70], atol=1e-6)
    assert np.allclose(sorted(set(np.round(ys, 6))), [40.80, 40.82], atol=1e-6)


def test_a_missing_folder_or_file_is_named(tmp_path):
    with pytest.raises(BoundariesMissing) as missing:
        read_district_outlines(tmp_path / "nowhere", ["150102.json"])
    assert missing.value.path == tmp_path / "nowhere"
    (tmp_path / "150102.json").write_text("[]", "utf-8")
    with pytest.raises(BoundariesMissing) as missing:
        read_district_outlines(tmp_path, ["150102.json", "150103.json"])
    assert missing.value.files == ("150103.json",)


def test_the_real_hohhot_outlines_read_as_four_valid_districts():
    folder = require_boundaries()
    outlines = read_district_outlines(folder, URBAN_FILES)
    assert outlines["name"].tolist() == ["新城区", "回民区", "玉泉区", "赛罕区"]
    assert outlines["adcode"].tolist() == ["150102", "150103", "150104", "150105"]
    assert outlines.geometry.is_valid.all()
    assert (outlines.geometry.geom_type == "MultiPolygon").all()
    # the four urban districts meet in the city centre and hardly overlap
    metric = outlines.to_crs("EPSG:32649")
    pairs = [
        metric.geometry.iloc[i].intersection(metric.geometry.iloc[j]).area
        for i in range(4)
        for j in range(i + 1, 4)
    ]
    assert max(pairs) < 0.01 * metric.geometry.area.min()
    centre = shapely.Point(111.67, 40.82).buffer(0.05)
    assert all(g.intersects(centre) for g in outlines.geometry)
