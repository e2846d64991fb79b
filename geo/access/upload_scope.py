"""Who may upload what: a community clerk's file may touch only their own community.

Admins and street leaders import anything. A community clerk (``community_staff``)
imports grids of their community, households and reports that lie in its grids, visits of
its households and staff of its grids; a row reaching another community refuses the whole
file (nothing written), as does a replace of a whole table or a boundary. The check runs
on the importer's checked rows (``upload_vet`` is the preview's ``vet``), so a household
is judged by the grid it is placed in, not by what a ``grid_id`` column claims.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from geo.access.auth import Viewer
from geo.i18n import Msg
from geo.inputs.importers.columns import HEADER_ROW
from geo.inputs.importers.problems import ImportReport, Problem
from geo.inputs.readers import FILE_LEVEL
from geo.store.base import Store
from geo.store.staging import Staging

IMPORT_ROLES = frozenset({"admin", "street_leader", "community_staff"})
"""Roles that may upload files at all (grid workers log visits one by one)."""
UNBOUNDED_ROLES = frozenset({"admin", "street_leader"})
NO_ROW = 0
"""The row of a problem whose spreadsheet line is not known (a visits file without ids;
``Staging.lines`` gives 0 then)."""
SHOWN = 200
"""Rows out of scope listed one by one (the rest are counted in one more line)."""

Vet = Callable[[Staging, ImportReport], list[Problem]]


class UploadRefused(PermissionError):
    """This account may not upload files at all; ``msg`` says so."""

    def __init__(self, viewer: Viewer) -> None:
        super().__init__(viewer.role)
        self.msg = Msg("ds_scope_role")


CLERK_UPLOADS = ("grids", "households", "visits", "staff", "reports")
"""The kinds a community clerk may upload; any other kind is refused for a clerk."""


def may_import(viewer: Viewer) -> bool:
    """Whether ``viewer`` may upload files (in some scope)."""
    return viewer.role in IMPORT_ROLES and not viewer.presenting


def upload_vet(store: Store, viewer: Viewer, kind: str, *, replace: bool = False) -> Vet | None:
    """The scope check of ``viewer``'s upload (None: no limit); raises ``UploadRefused``."""
    if not may_import(viewer):
        raise UploadRefused(viewer)
    if viewer.role in UNBOUNDED_ROLES:
        return None
    grids = store.read_attributes("grids", ["grid_id", "community"])
    own = set(viewer.grid_filter(grids) or [])

    def vet(staging: Staging, report: ImportReport) -> list[Problem]:
        return scope_problems(store, viewer, own, kind, staging, report, replace=replace)

    return vet


def scope_problems(
    store: Store,
    viewer: Viewer,
    own_grids: set[str],
    kind: str,
    staging: Staging,
    report: ImportReport,
    *,
    replace: bool,
) -> list[Problem]:
    """Problems for every staged row outside ``own_grids`` (the clerk's community)."""
    lang = report.lang

    def problem(row: int, column: str, key: str, **values: object) -> Problem:
        return Problem(report.file, row, column, Msg(key, **values).text(lang))

    if replace:
        return [problem(HEADER_ROW, FILE_LEVEL, "ds_scope_replace")]
    if kind == "boundary":
        return [problem(HEADER_ROW, FILE_LEVEL, "ds_scope_boundary")]
    if staging.columns is None:
        return []
    problems: list[Problem] = []
    community = viewer.community or ""
    if kind == "grids":
        rows = staging.lines(["grid_id", "community"])
        foreign = rows[rows["community"].fillna("") != community]
        problems += [
            problem(r, "community", "ds_scope_grid_community", id=g, community=community)
            for r, g in zip(foreign["_row"], foreign["grid_id"], strict=True)
        ]
        stored = _stored(store, "grids", "grid_id", rows["grid_id"])
        taken = rows[rows["grid_id"].isin(set(stored["grid_id"]) - own_grids)]
        problems += [
            problem(r, "grid_id", "ds_scope_grid_taken", id=g)
            for r, g in zip(taken["_row"], taken["grid_id"], strict=True)
        ]
    elif kind in ("households", "reports"):
        key = "household_id" if kind == "households" else "report_id"
        rows = staging.lines([key, "grid_id"])
        outside = rows[~rows["grid_id"].isin(own_grids)]
        problems += [
            problem(r, "lon", "ds_scope_point_outside", id=i)
            for r, i in zip(outside["_row"], outside[key], strict=True)
        ]
        stored = _stored(store, kind, key, rows[key])
        foreign = set(stored.loc[~stored["grid_id"].isin(own_grids), key])
        taken = rows[rows[key].isin(foreign)]
        problems += [
            problem(r, key, "ds_scope_record_taken", id=i)
            for r, i in zip(taken["_row"], taken[key], strict=True)
        ]
    elif kind == "visits":
        rows = staging.lines(["household_id"])
        stored = _stored(store, "households", "household_id", rows["household_id"])
        mine = set(stored.loc[stored["grid_id"].isin(own_grids), "household_id"])
        foreign = rows[~rows["household_id"].isin(mine)]
        problems += [
            problem(r, "household_id", "ds_scope_visit_household", id=h)
            for r, h in zip(foreign["_row"], foreign["household_id"], strict=True)
        ]
    elif kind == "staff":
        rows = staging.lines(["staff_id", "grid_id"])
        foreign = rows[~rows["grid_id"].isin(own_grids)]
        problems += [
            problem(r, "grid_id", "ds_scope_staff_grid", id=s, grid=g)
            for r, s, g in zip(
                foreign["_row"], foreign["staff_id"], foreign["grid_id"], strict=True
            )
        ]
    else:  # a kind this rule does not know yet is not for a clerk
        return [problem(HEADER_ROW, FILE_LEVEL, "ds_scope_boundary")]
    if len(problems) > SHOWN:
        more = len(problems) - SHOWN
        problems = problems[:SHOWN] + [problem(NO_ROW, FILE_LEVEL, "ds_scope_more", count=more)]
    return problems


def _stored(store: Store, table: str, key: str, ids: pd.Series) -> pd.DataFrame:
    """Stored rows of ``table`` with these ids (key and grid_id)."""
    wanted = [str(i) for i in ids.dropna().unique()]
    columns = [key, "grid_id"] if table != "grids" else ["grid_id"]
    return store.read_attributes(table, columns, where={key: wanted})
