"""Checking the rows of a households file (contract section 4)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.care.categories import join_codes, parse_categories
from geo.config import load_config
from geo.inputs.importers.checks import (
    _column,
    _parse_coordinates,
    _parse_dates,
    _place_points,
    _points_frame,
    _required_text,
    _texts,
)
from geo.inputs.importers.problems import _Checker
from geo.store.base import Store


def _prepare_households(
    store: Store, frame: pd.DataFrame, check: _Checker, *, coords: str, crs: str | None, **_: object
) -> pd.DataFrame:
    ids = _required_text(frame, "household_id", check)
    # vector files were converted (CRS and datum) when read
    vector = isinstance(frame, gpd.GeoDataFrame)
    lon, lat, _ok = _parse_coordinates(
        frame, check, "wgs84" if vector else coords, None if vector else crs
    )
    categories = None
    if "categories" in frame.columns:
        texts = _texts(frame["categories"])
        config = load_config()
        expected = ", ".join(f"{c.code} {c.colour_zh}" for c in config.categories)
        parsed: dict[object, tuple[list[str], list[str]]] = {}
        categories = np.full(len(texts), None, dtype=object)
        for pos, text in enumerate(texts):
            if text not in parsed:
                parsed[text] = parse_categories(text, config)
            codes, unknown = parsed[text]
            if unknown:
                check.add(
                    check.rows[pos],
                    "categories",
                    "imp_unknown_category",
                    value=repr(", ".join(unknown)),
                    expected=expected,
                )
            categories[pos] = join_codes(codes)
    members = None
    if "members" in frame.columns:
        texts = _texts(frame["members"])
        numbers = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(
            dtype=float
        )
        bad = ~pd.isna(texts) & ~(np.isfinite(numbers) & (numbers >= 0) & (np.mod(numbers, 1) == 0))
        check.add_mask(bad, "members", "imp_not_whole", lambda pos: {"value": repr(texts[pos])})
        members = pd.array(np.where(np.isfinite(numbers) & ~bad, numbers, np.nan), dtype="Int64")
        members = np.array([None if pd.isna(m) else int(m) for m in members], dtype=object)
    last_verified = _parse_dates(frame, "last_verified", check, date_only=True)
    if check.report.problems:
        return frame
    grid_ids = _place_points(check, ids, lon, lat, "households")
    if "grid_id" in frame.columns:
        given = _texts(frame["grid_id"])
        differs = ~pd.isna(given) & (given != grid_ids)
        check.warn("imp_warn_grid_disagrees", ids[differs])
    columns = {
        "household_id": ids,
        "grid_id": grid_ids,
        "categories": categories,
        "members": members,
        "last_verified": last_verified,
    }
    for name in ("address", "building", "head_name", "phone", "id_number"):
        columns[name] = _column(frame, name)
    return _points_frame(columns, lon, lat)
