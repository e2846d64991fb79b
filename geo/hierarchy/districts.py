"""District outlines: reading them as map services publish them, cutting grids along them.

Chinese boundary services publish a district as a bare JSON array of Features in GCJ-02
(``adcode``, ``name``, ``center`` ...). ``read_district_outlines`` reads a folder of such
files into WGS-84. ``clip_to_districts`` cuts cells along district borders (a block on a
border becomes one grid per district); ``district_of_grids`` names, for grids without a
``district`` attribute, the district holding the largest part of each grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.inputs.coords import gcj02_to_wgs84, transform_geometry
from geo.inputs.vector import read_vector
from geo.store.schema import WGS84

BOUNDARIES_ENV = "GRIDMAP_BOUNDARIES"
"""Environment variable naming the folder of district outline files."""
DEFAULT_BOUNDARIES = Path("..") / "shared" / "data" / "boundaries"
"""The folder of outlines relative to the project root, when neither flag nor env names one."""


class BoundariesMissing(FileNotFoundError):
    """The folder of district outlines (or a file in it) is not there."""

    def __init__(self, path: Path, files: Sequence[str] = ()) -> None:
        super().__init__(str(path))
        self.path = path
        self.files = tuple(files)


def read_district_outlines(
    directory: Path, files: Sequence[str], *, gcj02: bool = True
) -> gpd.GeoDataFrame:
    """The districts of ``files`` in ``directory``: adcode (text), name, geometry (WGS-84,
    MultiPolygon), in file order, one row per feature.

    Raises ``BoundariesMissing`` naming the folder and the files it lacks.
    """
    directory = Path(directory)
    missing = [f for f in files if not (directory / f).is_file()]
    if not directory.is_dir() or missing:
        raise BoundariesMissing(directory, missing or list(files))
    parts = []
    for name in files:
        frame = read_vector(directory / name)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        if gcj02:
            geoms = transform_geometry(geoms, gcj02_to_wgs84)
        geoms = shapely.make_valid(geoms)
        parts.append(
            pd.DataFrame(
                {
                    "adcode": frame["adcode"].astype(str).to_numpy(object),
                    "name": frame["name"].astype(str).to_numpy(object),
                    "geometry": [_multipolygon(g) for g in geoms],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """The polygonal parts of ``geom`` as one MultiPolygon."""
    polygons = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
    if not polygons:  # a GeometryCollection from make_valid: keep its polygonal parts
        polygons = [
            q
            for p in shapely.get_parts(geom)
            for q in shapely.get_parts(p)
            if isinstance(q, shapely.Polygon)
        ]
    return shapely.MultiPolygon(polygons)


def clip_to_districts(
    cells: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, min_fraction: float = 0.15
) -> gpd.GeoDataFrame:
    """Each cell cut along district borders: one row per (cell, district) part.

    Columns: ``cell`` (the cell's row position), ``district`` (the district's name),
    ``fraction`` (the part's share of the cell's area) and the part's geometry (WGS-84,
    MultiPolygon). Parts smaller than ``min_fraction`` of their cell are dropped (a sliver
    along a border is no grid); parts outside every district are dropped.
    """
    # cut in WGS-84, the data's own coordinates (a round trip through a metric CRS would
    # move the shared edges); within one small cell a ratio of areas needs no projection
    cell_geoms = np.asarray(cells.to_crs(WGS84).geometry.values, dtype=object)
    district_geoms = np.asarray(districts.to_crs(WGS84).geometry.values, dtype=object)
    tree = shapely.STRtree(district_geoms)
    cell_idx, district_idx = tree.query(cell_geoms, predicate="intersects")
    pieces = shapely.intersection(cell_geoms[cell_idx], district_geoms[district_idx])
    fraction = shapely.area(pieces) / shapely.area(cell_geoms[cell_idx])
    keep = (fraction >= min_fraction) & (fraction > 0)  # a shared edge is no part
    parts = gpd.GeoDataFrame(
        {
            "cell": cell_idx[keep],
            "district": districts["name"].to_numpy(object)[district_idx[keep]],
            "fraction": fraction[keep],
        },
        geometry=[_multipolygon(g) for g in pieces[keep]],
        crs=WGS84,
    )
    return parts.sort_values(["cell", "district"], kind="stable").reset_index(drop=True)


def district_of_grids(grids: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """Per grid (index of ``grids``) the name of the district covering most of its area;
    None for a grid outside every district. Equal shares go to the first name in sort order."""
    parts = clip_to_districts(grids, districts, min_fraction=0.0)
    parts = parts.sort_values(["cell", "fraction", "district"], ascending=[True, False, True])
    best = parts.drop_duplicates("cell")
    out = pd.Series([None] * len(grids), index=grids.index, dtype=object)
    out.iloc[best["cell"].to_numpy()] = best["district"].to_numpy(object)
    return out
