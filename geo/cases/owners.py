"""Who owns a case: a staff member (the grid's worker), a department, or a mediation room.

An owner is written ``kind:id``: ``staff:S00012`` (a person of the staff table),
``department:urban_management`` (a staff role that is a department: the unit of that role
covering the report's grid handles it), ``mediation:东河社区`` (the community's mediation
room). Auto-dispatch proposes one from the report's source, category and grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.cases.settings import CaseSettings

OWNER_KINDS = ("staff", "department", "mediation")


@dataclass(frozen=True)
class Owner:
    """The owner of a case: ``kind`` (staff/department/mediation) and its ``id``."""

    kind: str
    id: str

    def __post_init__(self) -> None:
        if self.kind not in OWNER_KINDS:
            raise ValueError(f"unknown owner kind {self.kind!r} (one of {', '.join(OWNER_KINDS)})")
        if not str(self.id).strip():
            raise ValueError("an owner needs an id")

    @property
    def key(self) -> str:
        """``kind:id``, the form shown to the notification hook and stored in the audit log."""
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, key: str) -> Owner:
        """The owner written ``kind:id``; ValueError when it is not one."""
        kind, sep, ident = str(key).partition(":")
        if not sep:
            raise ValueError(f"not an owner: {key!r} (expected kind:id, e.g. staff:S00012)")
        return cls(kind.strip(), ident.strip())

    @classmethod
    def of(cls, kind: object, ident: object) -> Owner | None:
        """The owner stored as (kind, id) columns; None when either is empty."""
        if not isinstance(kind, str) or not isinstance(ident, str) or not kind or not ident:
            return None
        return cls(kind, ident)


def _grid_people(staff: pd.DataFrame, roles: tuple[str, ...]) -> pd.DataFrame:
    """The person who owns each grid's cases: the first role of ``roles`` present in the grid;
    among several, the one covering the fewest grids (the grid's own worker rather than a
    neighbour's helping out), then the smallest staff_id. Columns grid_id, staff_id."""
    if staff.empty:
        return pd.DataFrame({"grid_id": [], "staff_id": []}, dtype=object)
    people = staff[staff["role"].isin(roles) & staff["grid_id"].notna()].copy()
    people["_rank"] = people["role"].map({r: i for i, r in enumerate(roles)})
    people["_load"] = people.groupby("staff_id")["grid_id"].transform("nunique")
    people = people.sort_values(["grid_id", "_rank", "_load", "staff_id"], kind="stable")
    return people.drop_duplicates("grid_id")[["grid_id", "staff_id"]].reset_index(drop=True)


def propose_owners(
    reports: pd.DataFrame,
    grids: pd.DataFrame,
    staff: pd.DataFrame,
    settings: CaseSettings,
) -> pd.DataFrame:
    """The proposed owner of each report: columns report_id, owner_kind, owner_id (None = none).

    ``reports`` holds report_id, source, category, grid_id; ``grids`` grid_id, community;
    ``staff`` staff_id, role, grid_id. In order: a report of a mediation source (矛盾纠纷)
    goes to its community's mediation room; a category configured to a department goes to
    that department; any other report to the grid's worker (then its grid leader). A report
    outside every grid, or in a grid with nobody, gets no owner: the desk dispatches it.
    """
    report_ids = reports["report_id"].to_numpy(object)
    grid_of = reports["grid_id"].astype(object).where(reports["grid_id"].notna(), None)
    community_of = grid_of.map(
        dict(zip(grids["grid_id"], grids["community"].astype(object), strict=True))
    )
    kind = np.full(len(reports), None, dtype=object)
    ident = np.full(len(reports), None, dtype=object)

    person = grid_of.map(
        _grid_people(staff, settings.grid_owner_roles).set_index("grid_id")["staff_id"]
    ).to_numpy(object)
    has_person = pd.notna(person)
    kind[has_person] = "staff"
    ident[has_person] = person[has_person]

    department = (
        reports["category"].astype(object).str.strip().map(settings.departments).to_numpy(object)
    )
    to_department = pd.notna(department)
    kind[to_department] = "department"
    ident[to_department] = department[to_department]

    community = community_of.to_numpy(object)
    to_room = reports["source"].isin(settings.mediation_sources).to_numpy(bool, copy=True)
    to_room &= np.array([isinstance(c, str) and c != "" for c in community], dtype=bool)
    kind[to_room] = "mediation"
    ident[to_room] = community[to_room]
    # a department needs a place to send its unit to: outside every grid the desk decides
    no_grid = grid_of.isna().to_numpy(bool)
    kind[no_grid] = None
    ident[no_grid] = None
    return pd.DataFrame(
        {
            "report_id": report_ids,
            "owner_kind": pd.Series(kind, dtype=object),  # object keeps None (not NaN)
            "owner_id": pd.Series(ident, dtype=object),
        }
    )


def propose_owner(
    report: dict, grids: pd.DataFrame, staff: pd.DataFrame, settings: CaseSettings
) -> Owner | None:
    """The proposed owner of one report (a mapping with source, category, grid_id)."""
    row = {"report_id": report.get("report_id", ""), **report}
    frame = pd.DataFrame([{k: row.get(k) for k in ("report_id", "source", "category", "grid_id")}])
    proposed = propose_owners(frame, grids, staff, settings).iloc[0]
    return Owner.of(proposed["owner_kind"], proposed["owner_id"])


def owner_choices(
    grid_id: str | None,
    grids: pd.DataFrame,
    staff: pd.DataFrame,
    settings: CaseSettings,
) -> list[Owner]:
    """Owners a case in ``grid_id`` may be given: the community's grid workers and leaders
    (the grid's own first), every department present in the staff table, the mediation room."""
    community = None
    if grid_id is not None:
        match = grids.loc[grids["grid_id"] == grid_id, "community"]
        community = match.iloc[0] if len(match) and isinstance(match.iloc[0], str) else None
    in_community = (
        grids.loc[grids["community"] == community, "grid_id"] if community else pd.Series([grid_id])
    )
    people = staff[staff["role"].isin(settings.grid_owner_roles)]
    own = people[people["grid_id"] == grid_id]
    near = people[people["grid_id"].isin(in_community) & ~people["staff_id"].isin(own["staff_id"])]
    rank = {r: i for i, r in enumerate(settings.grid_owner_roles)}
    ordered: list[str] = []
    for part in (own, near):
        part = part.assign(_rank=part["role"].map(rank)).sort_values(["_rank", "staff_id"])
        ordered += [s for s in part["staff_id"] if s not in ordered]
    present = set(staff["role"])
    choices = [Owner("staff", s) for s in ordered]
    choices += [Owner("department", r) for r in settings.department_roles if r in present]
    if community:
        choices.append(Owner("mediation", community))
    return choices


def department_unit(role: str, grid_id: str | None, staff: pd.DataFrame) -> str | None:
    """The name of the unit of department ``role`` covering ``grid_id`` (its staff's
    ``department``), else of any unit of that role; None when the staff table has none."""
    units = staff[(staff["role"] == role) & staff["department"].notna()]
    if units.empty:
        return None
    here = units[units["grid_id"] == grid_id]
    return str((here if len(here) else units).sort_values("staff_id")["department"].iloc[0])


OWNER_CELL_KINDS = ("grid", "staff", "department", "mediation")
"""How a reports file names a case's owner (负责方, docs/cases.md): ``grid:<grid_id>`` (that
grid's worker, as auto-dispatch would choose), ``staff:<staff_id>``, ``department:<code>``
(a staff role of ``department_roles``; its zh name, e.g. 城管, also counts) and
``mediation:<community>``; a bare value is a department (code or zh name) or a staff id."""


def owner_from_cell(
    text: str,
    grids: pd.DataFrame,
    staff: pd.DataFrame,
    settings: CaseSettings,
    role_names: dict[str, str],
) -> Owner:
    """The owner a reports file's 负责方 cell names; ValueError(reason) when it names none.

    ``role_names``: staff role code -> zh name (the configuration's ``[roles]``). The reason
    is a catalogue key: ``imp_owner_unknown`` (no such spelling, staff id, department or
    community), ``imp_owner_no_worker`` (``grid:`` of a grid nobody works in)."""
    value = str(text).strip()
    kind, sep, ident = value.partition(":")
    if not sep:
        kind, sep, ident = value.partition("：")  # a full-width colon typed in Chinese
    kind, ident = kind.strip().lower(), ident.strip()
    departments = {code: code for code in settings.department_roles}
    departments |= {role_names[c]: c for c in settings.department_roles if c in role_names}
    if not sep:  # bare: a department (code or zh name), else a staff id
        if value in departments or value.lower() in departments:
            return Owner("department", departments.get(value) or departments[value.lower()])
        kind, ident = "staff", value
    if kind == "department" and (ident in departments or ident.lower() in departments):
        return Owner("department", departments.get(ident) or departments[ident.lower()])
    if kind == "staff" and ident in set(staff["staff_id"].astype(str)):
        return Owner("staff", ident)
    if kind == "mediation" and ident in set(grids["community"].dropna().astype(str)):
        return Owner("mediation", ident)
    if kind == "grid" and ident in set(grids["grid_id"].astype(str)):
        person = _grid_people(staff, settings.grid_owner_roles)
        person = person.loc[person["grid_id"] == ident, "staff_id"]
        if person.empty:
            raise ValueError("imp_owner_no_worker")
        return Owner("staff", str(person.iloc[0]))
    raise ValueError("imp_owner_unknown")


def owners_of(kinds: Iterable[object], ids: Iterable[object]) -> list[Owner | None]:
    """Owners of parallel (kind, id) columns; None where either is empty."""
    return [Owner.of(k, i) for k, i in zip(kinds, ids, strict=True)]
