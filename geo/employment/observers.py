"""Observers (城市社区观察员) as a force: who may be named as a report's reporter, how they
are found (worker id or masked name), and how many reports they filed and saw resolved."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pandas as pd

from geo.access.privacy import mask_name
from geo.employment.metrics import observer_reports
from geo.employment.status import next_day, stored_text


def observer_choices(workers: pd.DataFrame, firms: pd.DataFrame) -> pd.DataFrame:
    """Observers as a report form offers them: ``worker_id`` and a ``label`` of id, masked
    name and firm (``KD-0003 · 张* · 顺丰速运``), sorted by id. No unmasked name leaves here."""
    if len(workers) == 0:
        return pd.DataFrame({"worker_id": [], "label": []}, dtype=object)
    observer = pd.to_numeric(workers.get("observer"), errors="coerce").fillna(0) == 1
    rows = workers[observer.to_numpy(bool)]
    firm_names = (
        dict(zip(stored_text(firms["firm_id"]), stored_text(firms["name"]), strict=True))
        if len(firms)
        else {}
    )
    ids = stored_text(rows["worker_id"])
    names = rows["name"].map(mask_name).fillna("") if "name" in rows else ""
    firm = stored_text(rows["firm_id"]).map(lambda f: firm_names.get(f, f))
    label = ids + " · " + names + " · " + firm
    out = pd.DataFrame({"worker_id": ids.to_numpy(object), "label": label.to_numpy(object)})
    return out.sort_values("worker_id", kind="stable").reset_index(drop=True)


def observers_in_scope(
    workers: pd.DataFrame, outlets: pd.DataFrame, grids: pd.DataFrame, grid_ids: set[str]
) -> pd.DataFrame:
    """The workers a viewer limited to ``grid_ids`` may name as a report's observer: those
    registered (``community``, 报到社区) with a community of those grids, and those of an
    outlet in those grids (as the new-employment page shows them that viewer).

    ``workers``: community, outlet_id; ``outlets``: outlet_id, grid_id; ``grids``:
    grid_id, community."""
    in_scope = stored_text(grids["grid_id"]).isin(grid_ids).to_numpy(bool)
    communities = set(stored_text(grids["community"])[in_scope]) - {""}
    here = stored_text(outlets["grid_id"]).isin(grid_ids).to_numpy(bool)
    outlet_ids = set(stored_text(outlets["outlet_id"])[here]) - {""}
    registered = stored_text(workers["community"]).isin(communities)
    keep = registered | stored_text(workers["outlet_id"]).isin(outlet_ids)
    return workers[keep.to_numpy(bool)]


def _fold(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def search_observers(choices: pd.DataFrame, query: str) -> pd.DataFrame:
    """The choices whose worker id or masked name contains ``query`` (case-insensitive).

    Searching by a full name does not find a masked one: that would reveal it.
    """
    query = _fold(query)
    if not query:
        return choices
    return choices[choices["label"].map(lambda label: query in _fold(label)).to_numpy(bool)]


def observer_report_counts(
    reports: pd.DataFrame,
    observers: set[str],
    first: dt.date,
    last: dt.date,
) -> dict[str, int]:
    """Reports observers filed on the days ``first``..``last``, and how many of them were
    resolved by the end of ``last``."""
    filed = observer_reports(reports, observers, first, last)
    resolved = 0
    if len(filed) and "resolved_at" in filed.columns:
        text = stored_text(filed["resolved_at"])
        resolved = int(((text != "") & (text < next_day(last))).sum())
    return {"filed": len(filed), "resolved": resolved}
