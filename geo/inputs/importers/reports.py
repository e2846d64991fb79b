"""Checking the rows of a reports file (contract section 4)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.config import load_config
from geo.inputs.importers.checks import (
    _column,
    _lookup_values,
    _parse_coordinates,
    _parse_dates,
    _place_points,
    _points_frame,
    _required_text,
    _warn_timelines,
)
from geo.inputs.importers.problems import _Checker
from geo.store.base import Store

# other spellings clerks use for a report's source (the zh names in the config also count)
SOURCE_SPELLINGS = {
    "12345热线": "hotline",
    "热线": "hotline",
    "网格员巡查": "patrol",
    "巡查": "patrol",
}


def _prepare_reports(
    store: Store, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None, **_: object
) -> pd.DataFrame:
    config = load_config()
    ids = _required_text(frame, "report_id", check)
    source = _lookup_values(
        frame, "source", check, config.sources, required=True, extra=SOURCE_SPELLINGS
    )
    category = _required_text(frame, "category", check)
    satisfaction = _lookup_values(frame, "satisfaction", check, config.satisfaction, required=False)
    # vector files were converted (CRS and datum) when read
    vector = isinstance(frame, gpd.GeoDataFrame)
    lon, lat, _ok = _parse_coordinates(
        frame, check, "wgs84" if vector else coords, None if vector else crs
    )
    stamps = {
        "reported_at": _parse_dates(frame, "reported_at", check, required=True),
        "responded_at": _parse_dates(frame, "responded_at", check),
        "resolved_at": _parse_dates(frame, "resolved_at", check),
        "followed_up_at": _parse_dates(frame, "followed_up_at", check),
    }
    if check.report.problems:
        return frame
    _warn_timelines(ids, stamps, check)
    grid_ids = _place_points(check, ids, lon, lat, "reports")
    columns = {
        "report_id": ids,
        "source": source,
        "category": category,
        "satisfaction": satisfaction,
        "grid_id": grid_ids,
        **stamps,
    }
    for name in ("description", "reporter_id", "photo"):
        columns[name] = _column(frame, name)
    return _points_frame(columns, lon, lat)
