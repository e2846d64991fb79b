"""Checking the polygons of a grids file (contract section 4)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.i18n import t
from geo.inputs.assign import overlapping_grids
from geo.inputs.importers.checks import _column, _repair_polygons, _required_text, _stored_grids
from geo.inputs.importers.problems import SHOW_FIRST, _Checker
from geo.inputs.readers import WGS84
from geo.store.base import Store


def _prepare_grids(
    store: Store, frame: pd.DataFrame, check: _Checker, *, replace: bool, **_: object
) -> pd.DataFrame:
    ids = _required_text(frame, "grid_id", check)
    geoms = _repair_polygons(frame, check)
    if check.report.problems:
        return frame
    columns = {"grid_id": ids}
    for name in ("name", "community", "street", "party_branch", "district"):
        columns[name] = _column(frame, name)
    grids = gpd.GeoDataFrame(
        {k: v for k, v in columns.items() if v is not None},
        geometry=gpd.GeoSeries(geoms, crs=WGS84),
        crs=WGS84,
    )
    others = _stored_grids(store) if not replace else None
    combined = grids[["grid_id", "geometry"]]
    if others is not None and len(others):
        others = others[~others["grid_id"].isin(set(ids))]
        combined = pd.concat([combined, others[["grid_id", "geometry"]]], ignore_index=True)
    overlaps = overlapping_grids(gpd.GeoDataFrame(combined, geometry="geometry", crs=WGS84))
    if len(overlaps):
        shown = "; ".join(
            f"{a} & {b} ({area:.0f} m²)"
            for a, b, area in overlaps.head(SHOW_FIRST).itertuples(index=False)
        )
        check.report.warnings.append(
            f"{check.report.file}: "
            + t("imp_warn_overlaps", check.report.lang, count=len(overlaps), pairs=shown)
            + (" ..." if len(overlaps) > SHOW_FIRST else "")
        )
    return grids
