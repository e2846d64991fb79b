"""Checking the rows of firms, outlets, workers and stations files (contract section 7).

The row rules are ``geo.employment.rows``; this module hands them a chunk's cells as the
framework reads them (text, dates parsed), the ids already stored (firms, outlets of
each firm), and adds what every kind shares: coordinates, placing points in grids.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.employment.columns import ALIASES, DATE_COLUMNS
from geo.employment.rows import check_firms, check_outlets, check_stations, check_workers
from geo.inputs.importers.checks import (
    _parse_coordinates,
    _parse_dates,
    _place_points,
    _texts,
)
from geo.inputs.importers.problems import _Checker
from geo.store.base import Store


def _cells(kind: str, frame: pd.DataFrame, check: _Checker) -> dict[str, np.ndarray]:
    """The chunk's section-7 columns as text (None where empty), date columns parsed."""
    cells: dict[str, np.ndarray] = {}
    for name in ALIASES[kind]:
        if name in ("lon", "lat") or name not in frame.columns:
            continue
        if name in DATE_COLUMNS[kind]:
            cells[name] = _parse_dates(frame, name, check, date_only=True)
        else:
            cells[name] = _texts(frame[name])
    return cells


def _stored_ids(store: Store, table: str, columns: list[str]) -> pd.DataFrame:
    return store.read_attributes(table, columns)


def _known_firms(store: Store, check: _Checker) -> pd.Index:
    """The firm ids in the store (read once per import)."""
    firms = check.cached("firms", lambda: _stored_ids(store, "firms", ["firm_id"]))
    return pd.Index(firms["firm_id"].astype(object).tolist(), dtype=object)


def _placed(
    kind: str,
    id_column: str,
    store: Store,
    frame: pd.DataFrame,
    check: _Checker,
    attributes: pd.DataFrame,
    coords: str,
    crs: str | None,
) -> pd.DataFrame:
    """``attributes`` with the point and the grid that contains it (outlets, stations)."""
    vector = isinstance(frame, gpd.GeoDataFrame)  # converted (CRS and datum) when read
    lon, lat, _ok = _parse_coordinates(
        frame, check, "wgs84" if vector else coords, None if vector else crs
    )
    if check.report.problems:
        return frame
    ids = attributes[id_column].to_numpy(dtype=object)
    grid_ids = _place_points(check, ids, lon, lat, kind)
    placed = attributes.assign(grid_id=grid_ids)
    return gpd.GeoDataFrame(placed, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _prepare_firms(store: Store, frame: pd.DataFrame, check: _Checker, **_: object) -> pd.DataFrame:
    return check_firms(_cells("firms", frame, check), check)


def _prepare_outlets(
    store: Store, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None, **_: object
) -> pd.DataFrame:
    cells = _cells("outlets", frame, check)
    attributes = check_outlets(cells, check, firms=_known_firms(store, check))
    return _placed("outlets", "outlet_id", store, frame, check, attributes, coords, crs)


def _prepare_workers(
    store: Store, frame: pd.DataFrame, check: _Checker, **_: object
) -> pd.DataFrame:
    outlets = check.cached(
        "outlets", lambda: _stored_ids(store, "outlets", ["outlet_id", "firm_id"])
    )
    outlet_firms = dict(
        zip(
            outlets["outlet_id"].astype(object).tolist(),
            outlets["firm_id"].astype(object).tolist(),
            strict=True,
        )
    )
    cells = _cells("workers", frame, check)
    return check_workers(cells, check, firms=_known_firms(store, check), outlet_firms=outlet_firms)


def _prepare_stations(
    store: Store, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None, **_: object
) -> pd.DataFrame:
    attributes = check_stations(_cells("stations", frame, check), check)
    return _placed("stations", "station_id", store, frame, check, attributes, coords, crs)
