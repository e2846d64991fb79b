"""Checking the rows of a staff file (contract section 4)."""

from __future__ import annotations

import pandas as pd

from geo.config import load_config
from geo.inputs.importers.checks import _column, _lookup_values, _required_text, _stored_grids
from geo.inputs.importers.problems import _Checker
from geo.store.base import Store


def _prepare_staff(store: Store, frame: pd.DataFrame, check: _Checker, **_: object) -> pd.DataFrame:
    config = load_config()
    staff_ids = _required_text(frame, "staff_id", check)
    names = _required_text(frame, "name", check)
    roles = _lookup_values(frame, "role", check, config.roles, required=True)
    grid_ids = _required_text(frame, "grid_id", check)
    known = set(check.cached("grids", lambda: _stored_grids(store))["grid_id"].tolist())
    unknown = ~pd.isna(grid_ids) & ~pd.Series(grid_ids, dtype=object).isin(known).to_numpy()
    check.add_mask(
        unknown, "grid_id", "imp_unknown_grid", lambda pos: {"value": repr(grid_ids[pos])}
    )
    columns = {
        "staff_id": staff_ids,
        "name": names,
        "role": roles,
        "grid_id": grid_ids,
        "department": _column(frame, "department"),
        "phone": _column(frame, "phone"),
    }
    return pd.DataFrame({k: v for k, v in columns.items() if v is not None})
