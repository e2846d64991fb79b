"""Checking the polygons of a street boundary file (contract section 4)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.inputs.importers.checks import _column, _repair_polygons
from geo.inputs.importers.problems import _Checker
from geo.inputs.readers import WGS84
from geo.store.base import Store


def _prepare_boundary(
    store: Store, frame: pd.DataFrame, check: _Checker, **_: object
) -> pd.DataFrame:
    geoms = _repair_polygons(frame, check)
    if check.report.problems:
        return frame
    adcode = _column(frame, "adcode")
    given = _column(frame, "boundary_id")
    ids = np.array([str(r) for r in check.rows], dtype=object)
    if given is not None:
        ids = np.where(pd.isna(given), ids, given)
    elif adcode is not None:
        ids = np.where(pd.isna(adcode), ids, adcode)
    if len(set(ids)) < len(ids):  # repeated adcodes (e.g. parts listed separately): number them
        ids = np.array([str(r) for r in check.rows], dtype=object)
    columns = {"boundary_id": ids, "name": _column(frame, "name"), "adcode": adcode}
    return gpd.GeoDataFrame(
        {k: v for k, v in columns.items() if v is not None},
        geometry=gpd.GeoSeries(geoms, crs=WGS84),
        crs=WGS84,
    )
