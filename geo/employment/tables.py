"""The page's tables: figures by firm and by outlet (from ``metrics.employment_status``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.employment.metrics import EmploymentStatus
from geo.employment.status import stored_text

FIRM_COLUMNS = [
    "firm_id",
    "name",
    "sector",
    "party_org",
    "outlets",
    "outlets_with_party_org",
    "outlets_beyond_reach",
    "workers",
    "party_members",
    "party_members_returned",
    "party_members_mobile",
    "insured",
    "insured_rate",
    "observers",
    "observers_registered",
    "observer_reports_30d",
]
OUTLET_COLUMNS = [
    "outlet_id",
    "name",
    "firm",
    "grid_id",
    "party_org",
    "nearest_station",
    "nearest_station_m",
    "near",
    "workers",
    "insured",
    "party_members",
    "observers",
]


def _count_by(frame: pd.DataFrame, key: str, flag: str | None = None) -> pd.Series:
    """Rows (or rows where ``flag`` holds) per value of ``key``."""
    if len(frame) == 0:
        return pd.Series(dtype=np.int64)
    keys = stored_text(frame[key])
    if flag is not None:
        keys = keys[frame[flag].astype(bool).to_numpy()]
    return keys.value_counts()


def firm_table(status: EmploymentStatus) -> pd.DataFrame:
    """One row per firm: its outlets, workers, party members, insurance and observers."""
    firms = status.firms
    ids = stored_text(firms["firm_id"]) if len(firms) else pd.Series(dtype=object)
    out = pd.DataFrame({"firm_id": ids.to_numpy(object)})
    for column in ("name", "sector", "party_org"):
        out[column] = (
            firms[column].astype(object).where(firms[column].notna(), None).to_numpy(object)
            if column in firms.columns
            else None
        )
    outlets, workers = status.outlets, status.workers
    if len(outlets):
        outlets = outlets.assign(_beyond=~outlets["near"].astype(bool))
    counts = {
        "outlets": _count_by(outlets, "firm_id"),
        "outlets_with_party_org": _count_by(outlets, "firm_id", "has_party_org"),
        "outlets_beyond_reach": _count_by(outlets, "firm_id", "_beyond"),
        "workers": _count_by(workers, "firm_id"),
        "party_members": _count_by(workers, "firm_id", "member"),
        "party_members_returned": _count_by(workers, "firm_id", "returned"),
        "party_members_mobile": _count_by(workers, "firm_id", "mobile"),
        "insured": _count_by(workers, "firm_id", "insured_now"),
        "observers": _count_by(workers, "firm_id", "is_observer"),
        "observers_registered": _count_by(workers, "firm_id", "registered"),
    }
    for column, series in counts.items():
        out[column] = out["firm_id"].map(series).fillna(0).astype(np.int64)
    reports = status.observer_reports
    if len(reports) and len(workers):
        firm_of = dict(
            zip(stored_text(workers["worker_id"]), stored_text(workers["firm_id"]), strict=True)
        )
        per_firm = stored_text(reports["reporter_id"]).map(firm_of).value_counts()
    else:
        per_firm = pd.Series(dtype=np.int64)
    out["observer_reports_30d"] = out["firm_id"].map(per_firm).fillna(0).astype(np.int64)
    out["insured_rate"] = (out["insured"] / out["workers"].where(out["workers"] > 0)).round(4)
    return out[FIRM_COLUMNS]


def outlet_table(status: EmploymentStatus) -> pd.DataFrame:
    """One row per outlet: firm, grid, party organisation (its own or the firm's), nearest
    counted station and its distance, and the outlet's workers."""
    outlets = status.outlets
    if len(outlets) == 0:
        return pd.DataFrame(columns=OUTLET_COLUMNS)
    firms = status.firms
    firm_names = (
        dict(zip(stored_text(firms["firm_id"]), stored_text(firms["name"]), strict=True))
        if len(firms)
        else {}
    )
    firm_orgs = (
        dict(
            zip(
                stored_text(firms["firm_id"]),
                stored_text(firms.get("party_org", pd.Series(None, index=firms.index))),
                strict=True,
            )
        )
        if len(firms)
        else {}
    )
    stations = status.stations
    station_names = (
        dict(zip(stored_text(stations["station_id"]), stored_text(stations["name"]), strict=True))
        if len(stations) and "name" in stations.columns
        else {}
    )
    ids = stored_text(outlets["outlet_id"])
    firm_ids = stored_text(outlets["firm_id"])
    own = (
        stored_text(outlets["party_org"])
        if "party_org" in outlets.columns
        else ids.map(lambda _: "")
    )
    org = np.where(own != "", own, firm_ids.map(lambda f: firm_orgs.get(f, "")))
    workers = status.workers
    out = pd.DataFrame(
        {
            "outlet_id": ids.to_numpy(object),
            "name": outlets["name"].astype(object).to_numpy(object)
            if "name" in outlets.columns
            else None,
            "firm": firm_ids.map(lambda f: firm_names.get(f, f)).to_numpy(object),
            "grid_id": outlets["grid_id"].astype(object).to_numpy(object)
            if "grid_id" in outlets.columns
            else None,
            "party_org": np.where(org != "", org, None),
            "nearest_station": outlets["nearest_station_id"]
            .map(lambda s: station_names.get(str(s), s) if s is not None else None)
            .to_numpy(object),
            "nearest_station_m": np.where(
                np.isfinite(outlets["nearest_station_m"]),
                np.round(outlets["nearest_station_m"]),
                np.nan,
            ),
            "near": outlets["near"].astype(bool).to_numpy(),
        }
    )
    for column, flag in (
        ("workers", None),
        ("insured", "insured_now"),
        ("party_members", "member"),
        ("observers", "is_observer"),
    ):
        if len(workers) and "outlet_id" in workers.columns:
            per = _count_by(workers[workers["outlet_id"].notna()], "outlet_id", flag)
        else:
            per = pd.Series(dtype=np.int64)
        out[column] = out["outlet_id"].map(per).fillna(0).astype(np.int64)
    return out[OUTLET_COLUMNS]
