"""Checking the rows of a reports file (contract section 4, with the case columns of issue
19: 负责方 ``owner`` and 回访方式 ``followup_method``, docs/contract-notes.md)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.cases.owners import owner_from_cell
from geo.cases.settings import case_settings
from geo.config import Config, load_config
from geo.inputs.importers.checks import (
    _column,
    _lookup_values,
    _parse_coordinates,
    _parse_dates,
    _place_points,
    _points_frame,
    _required_text,
    _texts,
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
    method = _lookup_values(
        frame, "followup_method", check, case_settings().return_visit_methods, required=False
    )
    owners = _owners(store, frame, check, config)
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
    if method is not None:  # a method tells how a return visit was made: it needs the visit
        visited = stamps["followed_up_at"]
        for pos in np.flatnonzero(pd.notna(method)):
            if visited is None or pd.isna(visited[pos]):
                check.add(check.rows[pos], "followup_method", "imp_method_without_visit")
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
    if owners is not None:  # an owner given: the case is not dispatched again
        columns["owner_kind"], columns["owner_id"] = owners
    if method is not None:
        columns["followup_method"] = method
    return _points_frame(columns, lon, lat)


def _owners(
    store: Store, frame: pd.DataFrame, check: _Checker, config: Config
) -> tuple[np.ndarray, np.ndarray] | None:
    """(owner_kind, owner_id) of each row from its 负责方 cell (``owner_from_cell``); None
    without the column. A cell naming no owner is a problem of its row."""
    if "owner" not in frame.columns:
        return None
    settings = case_settings()
    grids = store.read_attributes("grids", ["grid_id", "community"])
    staff = store.read_attributes("staff", ["staff_id", "role", "grid_id"])
    values = _texts(frame["owner"])
    kind = np.full(len(values), None, dtype=object)
    ident = np.full(len(values), None, dtype=object)
    for pos, value in enumerate(values):
        if value is None:
            continue
        try:
            owner = owner_from_cell(str(value), grids, staff, settings, config.roles)
        except ValueError as reason:
            check.add(
                check.rows[pos],
                "owner",
                str(reason),
                value=repr(str(value)[:60]),
                departments=", ".join(settings.department_roles),
            )
            continue
        kind[pos], ident[pos] = owner.kind, owner.id
    return kind, ident
