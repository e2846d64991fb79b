"""The gap lists a party-building officer acts on, from the per-row flags of ``status``.

Outlet gaps (no party organisation of their own nor of their firm; beyond every counted
station's reach) and worker gaps (not insured as of the day; observers not registered
with a community; mobile party members not yet brought back). Each list is a frame of
the rows to act on, sorted by firm id then id. Worker lists carry name and phone as
stored: the caller masks them (``mask_workers``) unless the viewer revealed them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geo.access.privacy import mask_id_number, mask_name, mask_phone

Flags = Callable[[pd.DataFrame], np.ndarray]


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].fillna(False).astype(bool).to_numpy()


OUTLET_GAPS: dict[str, Flags] = {
    "outlets_without_party_org": lambda o: ~_flag(o, "has_party_org"),
    "outlets_beyond_reach": lambda o: ~_flag(o, "near"),
}
WORKER_GAPS: dict[str, Flags] = {
    "uninsured_workers": lambda w: ~_flag(w, "insured_now"),
    "observers_not_registered": lambda w: _flag(w, "is_observer") & ~_flag(w, "registered"),
    "mobile_not_returned": lambda w: _flag(w, "mobile") & ~_flag(w, "returned"),
}
GAPS = (*OUTLET_GAPS, *WORKER_GAPS)
OUTLET_COLUMNS = ["outlet_id", "name", "firm", "grid_id", "address", "nearest_station_m"]
WORKER_COLUMNS = ["worker_id", "name", "phone", "firm", "outlet"]
WORKER_EXTRA = {"uninsured_workers": ["insured_on"], "mobile_not_returned": ["party"]}
_WORKER_MASKS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def _names(frame: pd.DataFrame, key: str) -> dict[str, str]:
    """id -> name (the id where the name is empty)."""
    if len(frame) == 0:
        return {}
    ids = frame[key].astype(str)
    names = frame["name"] if "name" in frame.columns else ids
    names = names.astype(object).where(names.notna(), ids).astype(str)
    return dict(zip(ids, names, strict=True))


def _named(values: pd.Series, names: dict[str, str]) -> pd.Series:
    return values.astype(object).map(
        lambda v: None if v is None or v != v else names.get(str(v), str(v))
    )


def gap_list(
    gap: str, outlets: pd.DataFrame, workers: pd.DataFrame, firms: pd.DataFrame
) -> pd.DataFrame:
    """The rows of the gap list ``gap`` (one of ``GAPS``); ``outlets``/``workers`` as
    ``status.outlet_status``/``status.worker_status`` return them."""
    outlet_gap = gap in OUTLET_GAPS
    source = outlets if outlet_gap else workers
    columns = OUTLET_COLUMNS if outlet_gap else WORKER_COLUMNS + WORKER_EXTRA.get(gap, [])
    if len(source) == 0:
        return pd.DataFrame(columns=columns)
    flags = (OUTLET_GAPS if outlet_gap else WORKER_GAPS)[gap]
    rows = source[flags(source)].copy()
    rows["firm"] = _named(rows["firm_id"], _names(firms, "firm_id"))
    if not outlet_gap:
        outlet = (
            rows["outlet_id"] if "outlet_id" in rows.columns else pd.Series(None, index=rows.index)
        )
        rows["outlet"] = _named(outlet, _names(outlets, "outlet_id"))
    for column in columns:
        if column not in rows.columns:
            rows[column] = None
    key = "outlet_id" if outlet_gap else "worker_id"
    # firms in id order, as the firm table lists them
    return rows.sort_values(["firm_id", key], kind="stable")[columns].reset_index(drop=True)


def gap_counts(outlets: pd.DataFrame, workers: pd.DataFrame) -> dict[str, int]:
    """How many rows each gap list holds."""
    counts = {g: int(f(outlets).sum()) if len(outlets) else 0 for g, f in OUTLET_GAPS.items()}
    counts |= {g: int(f(workers).sum()) if len(workers) else 0 for g, f in WORKER_GAPS.items()}
    return counts


def mask_workers(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every worker's name, phone and ID number masked (张*, 138****1234)."""
    out = frame.copy()
    for column, mask in _WORKER_MASKS.items():
        if column in out.columns:
            out[column] = out[column].map(mask)
    return out
