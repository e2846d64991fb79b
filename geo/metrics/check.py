"""Data-quality findings (``gridmap check``): gaps a street office should fix.

Households and reports outside every grid, grids that overlap, grids with no grid
worker or party branch, stale household verification, rows that name unknown
households or grids, (once buildings are stored) households whose building is unknown or
not given, and (once new-employment data is stored) outlets and workers naming firms or
outlets that are not stored, workers at another firm's outlet, outlets and stations outside
every grid or with no place, one ID number under several worker ids, and observer reports
whose reporter is no stored observer. Findings are facts about the stored data; nothing is
changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import shapely

from geo.asof import stored_text
from geo.buildings.linking import link_households
from geo.config import load_config
from geo.employment.metrics import OBSERVER_SOURCE
from geo.i18n import t
from geo.store.base import Store
from geo.timeutil import day_text

SEVERITIES = ("error", "warning", "info")
_SHOWN_IDS = 10


@dataclass
class Finding:
    """One data-quality finding: what kind, how serious, a message, and the ids concerned."""

    kind: str
    severity: str
    message: str
    ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (kind, severity, message, ids)."""
        return asdict(self)

    def __str__(self) -> str:
        shown = ", ".join(self.ids[:_SHOWN_IDS])
        more = f" … (+{len(self.ids) - _SHOWN_IDS})" if len(self.ids) > _SHOWN_IDS else ""
        return f"[{self.severity}] {self.kind}: {self.message}" + (
            f": {shown}{more}" if self.ids else ""
        )


def _ids(series: pd.Series) -> list[str]:
    return sorted(str(v) for v in series)


def run_checks(store: Store, as_of: dt.date, lang: str = "zh-CN") -> list[Finding]:
    """Every finding about the store as of ``as_of`` (messages in ``lang``), errors first."""
    from geo.inputs.assign import overlapping_grids

    config = load_config()
    findings: list[Finding] = []
    grids = store.read("grids", ["grid_id", "party_branch"])
    grid_ids = set(stored_text(grids["grid_id"]))

    households = store.read_attributes("households", ["household_id", "grid_id", "last_verified"])
    household_grid = stored_text(households["grid_id"])
    outside = households.loc[(household_grid == "").to_numpy(), "household_id"]
    if len(outside):
        findings.append(
            Finding(
                "household_outside_grids",
                "warning",
                t("check_household_outside", lang, n=len(outside)),
                _ids(outside),
            )
        )
    unknown = households.loc[
        ((household_grid != "") & ~household_grid.isin(grid_ids)).to_numpy(), "household_id"
    ]
    if len(unknown):
        findings.append(
            Finding(
                "household_unknown_grid",
                "error",
                t("check_household_unknown_grid", lang, n=len(unknown)),
                _ids(unknown),
            )
        )

    for row in overlapping_grids(grids).itertuples(index=False):
        area = f"{row.area_m2:,.0f}"
        findings.append(
            Finding(
                "grids_overlap",
                "warning",
                t("check_grids_overlap", lang, a=row.grid_a, b=row.grid_b, area=area),
                [str(row.grid_a), str(row.grid_b)],
            )
        )

    staff = store.read_attributes("staff", ["staff_id", "role", "grid_id"])
    worker_grids = set(
        stored_text(staff.loc[(stored_text(staff["role"]) == "grid_worker").to_numpy(), "grid_id"])
    )
    no_worker = sorted(g for g in grid_ids if g and g not in worker_grids)
    if no_worker:
        findings.append(
            Finding(
                "grid_without_worker",
                "warning",
                t("check_grid_without_worker", lang, n=len(no_worker)),
                no_worker,
            )
        )
    no_branch = _ids(
        stored_text(grids["grid_id"])[(stored_text(grids["party_branch"]) == "").to_numpy()]
    )
    if no_branch:
        findings.append(
            Finding(
                "grid_without_party_branch",
                "warning",
                t("check_grid_without_party_branch", lang, n=len(no_branch)),
                no_branch,
            )
        )

    first_fresh = day_text(as_of - dt.timedelta(days=config.freshness_days - 1))
    next_day = day_text(as_of + dt.timedelta(days=1))
    verified = stored_text(households["last_verified"])
    stale = households.loc[
        ((verified == "") | (verified < first_fresh) | (verified >= next_day)).to_numpy(),
        "household_id",
    ]
    if len(stale):
        share = f"{len(stale) / len(households):.1%}"
        findings.append(
            Finding(
                "stale_verification",
                "warning",
                t(
                    "check_stale_verification",
                    lang,
                    n=len(stale),
                    share=share,
                    days=config.freshness_days,
                ),
                _ids(stale),
            )
        )

    for kind, table, column, ref_table, ref_column, key in (
        (
            "visit_unknown_household",
            "visits",
            "household_id",
            "households",
            "household_id",
            "check_visit_unknown_household",
        ),
        ("staff_unknown_grid", "staff", "grid_id", "grids", "grid_id", "check_staff_unknown_grid"),
        (
            "report_unknown_grid",
            "reports",
            "grid_id",
            "grids",
            "grid_id",
            "check_report_unknown_grid",
        ),
    ):
        dangling = store.dangling_references(table, column, ref_table, ref_column)
        if dangling:
            findings.append(
                Finding(kind, "error", t(key, lang, n=len(dangling)), [str(v) for v in dangling])
            )

    reports = store.read_attributes("reports", ["report_id", "grid_id"])
    unassigned = reports.loc[(stored_text(reports["grid_id"]) == "").to_numpy(), "report_id"]
    if len(unassigned):
        findings.append(
            Finding(
                "report_unassigned",
                "warning",
                t("check_report_unassigned", lang, n=len(unassigned)),
                _ids(unassigned),
            )
        )

    findings += _building_findings(store, lang)
    findings += _employment_findings(store, lang)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: order[f.severity])


def _building_findings(store: Store, lang: str) -> list[Finding]:
    """Households naming a building that none of the stored ones is (by id, or by name or
    number within their grid), and households naming none; only once buildings are stored."""
    buildings = store.read_attributes("buildings", ["building_id", "grid_id", "name"])
    if buildings.empty:
        return []
    homes = store.read_attributes("households", ["household_id", "grid_id", "building", "address"])
    how = link_households(homes, buildings)["link"].to_numpy()
    findings = []
    for state, kind, severity in (
        ("unknown", "household_unknown_building", "warning"),
        ("none", "household_without_building", "info"),
    ):
        ids = homes.loc[how == state, "household_id"]
        if len(ids):
            findings.append(
                Finding(kind, severity, t(f"check_{kind}", lang, n=len(ids)), _ids(ids))
            )
    return findings


def _unknown(values: pd.Series, known: set[str]) -> pd.Series:
    """True where a value is given and not among ``known``."""
    return (values != "") & ~values.isin(known)


def _named(values: pd.Series) -> str:
    """The distinct values a message names: the first few, then …"""
    distinct = sorted(set(values))
    return ", ".join(distinct[:_SHOWN_IDS]) + (" …" if len(distinct) > _SHOWN_IDS else "")


def _employment_findings(store: Store, lang: str) -> list[Finding]:
    """Section 7's tables as they stand together. An import checks each file against what
    was stored then, but a later ``--replace`` of firms or outlets, or an outlet moved to
    another firm, leaves outlets and workers pointing at nothing: the figures then count
    them under no firm or outlet. Nothing when no new-employment data is stored."""
    if not any(store.count(table) for table in ("firms", "outlets", "workers", "stations")):
        return []
    firms = set(stored_text(store.read_attributes("firms", ["firm_id"])["firm_id"]))
    outlets = store.read("outlets", ["outlet_id", "firm_id", "grid_id"])
    stations = store.read("stations", ["station_id", "grid_id"])
    workers = store.read_attributes(
        "workers", ["worker_id", "firm_id", "outlet_id", "id_number", "observer"]
    )
    reports = store.read_attributes("reports", ["report_id", "source", "reporter_id"])
    outlet_ids, outlet_firms = stored_text(outlets["outlet_id"]), stored_text(outlets["firm_id"])
    worker_ids = stored_text(workers["worker_id"])
    worker_firms, worker_outlets = (
        stored_text(workers["firm_id"]),
        stored_text(workers["outlet_id"]),
    )
    findings: list[Finding] = []

    def add(kind: str, severity: str, rows: pd.Series, **values: object) -> None:
        if len(rows):
            message = t(f"check_{kind}", lang, n=len(rows), **values)
            findings.append(Finding(kind, severity, message, _ids(rows)))

    bad = _unknown(outlet_firms, firms).to_numpy(bool)
    add("outlet_unknown_firm", "error", outlet_ids[bad], ids=_named(outlet_firms[bad]))
    bad = _unknown(worker_firms, firms).to_numpy(bool)
    add("worker_unknown_firm", "error", worker_ids[bad], ids=_named(worker_firms[bad]))
    bad = _unknown(worker_outlets, set(outlet_ids)).to_numpy(bool)
    add("worker_unknown_outlet", "error", worker_ids[bad], ids=_named(worker_outlets[bad]))
    # an outlet re-imported under another firm keeps its workers at the old one
    owner = worker_outlets.map(dict(zip(outlet_ids, outlet_firms, strict=True)))
    bad = (owner.notna() & (worker_firms != "") & (owner != worker_firms)).to_numpy(bool)
    add("worker_outlet_of_other_firm", "error", worker_ids[bad])

    for kind, frame in (("outlet", outlets), ("station", stations)):
        ids = stored_text(frame[f"{kind}_id"])
        geoms = frame.geometry.to_numpy()
        # not drawn and no reach measured: the importer requires a place, a store may lack it
        nowhere = (shapely.is_missing(geoms) | shapely.is_empty(geoms)).astype(bool)
        add(f"{kind}_without_place", "error", ids[nowhere])
        outside = (stored_text(frame["grid_id"]) == "").to_numpy(bool) & ~nowhere
        add(f"{kind}_outside_grids", "warning", ids[outside])

    # one person under several worker ids is counted once per id in every figure
    numbers = stored_text(workers["id_number"]).str.upper().str.replace(r"\s", "", regex=True)
    twice = ((numbers != "") & numbers.duplicated(keep=False)).to_numpy(bool)
    add("worker_id_number_twice", "warning", worker_ids[twice], people=numbers[twice].nunique())

    # an observer's report counts only when its reporter is a stored observer (section 7)
    observer = pd.to_numeric(workers["observer"], errors="coerce").fillna(0).to_numpy() == 1
    reporter = stored_text(reports["reporter_id"])
    by_observer = (stored_text(reports["source"]) == OBSERVER_SOURCE) & (reporter != "")
    bad = (by_observer & ~reporter.isin(set(worker_ids[observer]))).to_numpy(bool)
    add("report_reporter_not_observer", "warning", stored_text(reports["report_id"])[bad])
    return findings
