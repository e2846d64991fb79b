"""Cached loaders, scoped to who is looking: what a role may not see is never loaded.

Every cache is keyed on the store's data version (a write shows at once) and on the
viewer's scope: the tuple of grid ids in scope, or None for the whole street office. The
filter is applied in the query (``where={"grid_id": [...]}``), so a grid worker's session
never holds another grid's households or reports. Aggregate-only viewers (planner,
meeting, or anyone with the meeting switch on) get grid/community figures with small
counts suppressed; the household and report loaders refuse them (``AccessDenied``).

Each public loader takes ``viewer`` (default: the signed-in viewer of this session, with
the meeting switch applied), so a page cannot forget to pass it. Keys are never a hashed
DataFrame (Streamlit hashes big frames from a sample and could return a stale result).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import OrderedDict
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geo.access.audit import log_event
from geo.access.auth import Viewer
from geo.access.privacy import PERSONAL_COLUMNS, mask_frame, suppress_table, suppress_totals
from geo.buildings.read import read_buildings
from geo.care.rules import household_status
from geo.care.status import shown_from_counters
from geo.carestate.load import load_state
from geo.config import load_config
from geo.metrics.contract import granted_extensions, household_counters_of
from geo.metrics.tables import _community_table_from, grid_table, grid_table_of
from geo.outputs import figures as fig
from geo.reports.states import report_states
from geo.store import open_store
from ui import session

_REPORT_COLUMNS = [
    "report_id",
    "source",
    "category",
    "reported_at",
    "responded_at",
    "resolved_at",
    "followed_up_at",
    "satisfaction",
    "grid_id",
    "duplicate_of",
    "owner_kind",  # the case's owner (issue 19): labelled by ui.cases.with_owner_labels
    "owner_id",
]
Scope = tuple[str | None, ...] | None


def map_max_points() -> int:
    """Above this many households a map draws points only for a chosen community or grid,
    and nothing loads every household's status (``GRIDMAP_MAP_MAX_POINTS``, 150,000)."""
    return int(os.environ.get("GRIDMAP_MAP_MAX_POINTS", "150000"))


class AccessDenied(PermissionError):
    """The viewer's role may not load this (household-level data for an aggregate viewer)."""


def data_version(location: str) -> int:
    """The store's current data version (changes with every committed write)."""
    return open_store(location).version()


# Parts of the data a write can leave as it was, so that what depends on them only is not
# recomputed: STRUCTURE = grids, staff, the boundary and which grid each household is in;
# HOUSEHOLDS = that and every household figure (households, visits, verifications).
# (location, version) -> {part: an earlier version with the same part}
STRUCTURE = "structure"
HOUSEHOLDS = "households"
_SAME_PARTS: dict[tuple[str, int], dict[str, int]] = {}


def stable_version(location: str, version: int, part: str) -> int:
    """The oldest data version whose ``part`` (STRUCTURE or HOUSEHOLDS) equals ``version``'s."""
    return _SAME_PARTS.get((location, version), {}).get(part, version)


def household_version(location: str, version: int) -> int:
    """The oldest data version whose households, visits, grids and staff equal ``version``'s."""
    return stable_version(location, version, HOUSEHOLDS)


def note_write(location: str, before: int, after: int, keeps: Sequence[str]) -> None:
    """Record that the write taking the store from ``before`` to ``after`` left ``keeps`` as
    they were (a visit keeps STRUCTURE; a report keeps STRUCTURE and HOUSEHOLDS).

    Only a step of exactly one version counts: had anyone else written meanwhile, the
    version would have moved further, and every figure is recomputed.
    """
    if after == before + 1:
        _SAME_PARTS[(location, after)] = {
            part: stable_version(location, before, part) for part in keeps
        }


# A visit logged or a household re-verified changes those households' statuses only: the
# statuses of the version after are the ones before with their rows computed again.
# (location, household version after) -> (household version before, household ids)
_EDITS: dict[tuple[str, int], tuple[int, tuple[str, ...]]] = {}
_PATCHED: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_PATCHED_MAX = 8
_CHAIN_MAX = 20  # edits carried over in a row before statuses are computed afresh


def note_household_edit(
    location: str, before: int, after: int, household_ids: Sequence[str]
) -> None:
    """Record that the write from ``before`` to ``after`` was a visit or a re-verification of
    ``household_ids``: grids and staff stay as they were, and only those households'
    statuses are computed again (a step of exactly one version only, as ``note_write``)."""
    if after != before + 1:
        return
    note_write(location, before, after, (STRUCTURE,))
    _EDITS[(location, after)] = (household_version(location, before), tuple(household_ids))


def _statuses(
    location: str, households: int, as_of: dt.date, scope: Scope, depth: int = 0
) -> pd.DataFrame:
    """``_household_statuses`` of a household version, carried over single-household edits."""
    edit = _EDITS.get((location, households))
    if edit is None or depth > _CHAIN_MAX:
        return _household_statuses(location, households, as_of, scope)
    key = (location, households, as_of, scope)
    if key in _PATCHED:
        _PATCHED.move_to_end(key)
        return _PATCHED[key]
    previous, ids = edit
    frame = _statuses(location, previous, as_of, scope, depth + 1)
    edited = frame["household_id"].isin(ids).to_numpy()
    fresh = (
        household_status(
            open_store(location),
            as_of,
            where={"household_id": frame.loc[edited, "household_id"].tolist()},
        )
        if edited.any()
        else frame.iloc[:0]
    )
    order = frame["household_id"]
    patched = (
        pd.concat([frame[~edited], fresh[frame.columns]], ignore_index=True)
        .set_index("household_id")
        .loc[order]
        .reset_index()
    )
    _PATCHED[key] = patched
    while len(_PATCHED) > _PATCHED_MAX:
        _PATCHED.popitem(last=False)
    return patched


def note_reports_only_write(location: str, before: int, after: int) -> None:
    """``note_write`` for a write that touched reports only (filed, a workflow step)."""
    note_write(location, before, after, (STRUCTURE, HOUSEHOLDS))


@st.cache_data(show_spinner=False, max_entries=8)
def _household_counters(location: str, household_version: int, as_of: dt.date) -> pd.DataFrame:
    del household_version  # cache key only
    return household_counters_of(open_store(location), as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def _filtered_rows(
    location: str,
    household_version: int,
    as_of: dt.date,
    scope: Scope,
    categories: tuple[str, ...],
    only_overdue: bool,
) -> pd.DataFrame:
    counters = _household_counters(location, household_version, as_of)
    if scope is not None:
        counters = counters[counters["_grid"].isin(scope)]
    return shown_from_counters(counters, load_config().category_codes, categories, only_overdue)


def filtered_households(
    location: str,
    version: int,
    as_of: dt.date,
    categories: Sequence[str],
    only_overdue: bool,
    viewer: Viewer | None = None,
) -> pd.DataFrame:
    """The households of the viewer's scope a filter leaves, as lean status rows (grid_id,
    categories, required, compliant, overdue, fresh; ``geo.care.status.shown_from_counters``):
    no id, no place, made from the grid counters' per-household rows (the care state), for
    counts of a whole area over ``map_max_points``. Raises AccessDenied for aggregate-only
    viewers."""
    viewer = _who(viewer)
    _refuse_aggregate_only(viewer)
    scope = grid_scope(location, version, viewer)
    return _filtered_rows(
        location,
        household_version(location, version),
        as_of,
        scope,
        tuple(sorted(set(categories))),
        bool(only_overdue),
    )


def households_total(location: str, version: int, viewer: Viewer | None = None) -> int:
    """How many households the viewer's scope holds (unassigned ones too for the whole area)."""
    scope = grid_scope(location, version, viewer)
    return _households_in(location, stable_version(location, version, STRUCTURE), scope)


def _who(viewer: Viewer | None) -> Viewer:
    return viewer if viewer is not None else session.viewer()


@st.cache_data(show_spinner=False, max_entries=4)
def _grid_communities(location: str, version: int) -> pd.DataFrame:
    del version  # cache key only
    # the district too: a district leader's scope (issue 16)
    return open_store(location).read_attributes("grids", ["grid_id", "community", "district"])


def grid_scope(location: str, version: int, viewer: Viewer | None = None) -> Scope:
    """The sorted grid ids ``viewer`` may see, or None for all (unassigned rows included)."""
    grids = _grid_communities(location, stable_version(location, version, STRUCTURE))
    ids = _who(viewer).grid_filter(grids)
    return None if ids is None else tuple(sorted(ids))


def _where(scope: Scope) -> dict | None:
    return None if scope is None else {"grid_id": list(scope)}


def _refuse_aggregate_only(viewer: Viewer) -> None:
    if viewer.aggregates_only:
        raise AccessDenied(f"{viewer.role} sees aggregates only: no household or report rows")


@st.cache_data(show_spinner=False, max_entries=8)
def _households_in(location: str, version: int, scope: Scope) -> int:
    del version  # cache key only (which grid each household is in is part of STRUCTURE)
    store = open_store(location)
    if scope is None:
        return store.count("households")
    return len(store.read_attributes("households", ["household_id"], where=_where(scope)))


@st.cache_data(show_spinner=False, max_entries=8)
def _grid_polygons(location: str, version: int, scope: Scope) -> gpd.GeoDataFrame:
    del version
    return open_store(location).read("grids", where=_where(scope))


def grid_polygons(location: str, version: int, viewer: Viewer | None = None) -> gpd.GeoDataFrame:
    """Grid polygons in scope with their attributes, EPSG:4326."""
    scope = grid_scope(location, version, viewer)
    return _grid_polygons(location, stable_version(location, version, STRUCTURE), scope)


@st.cache_data(show_spinner=False, max_entries=8)
def _grid_figures(
    location: str, version: int, as_of: dt.date, scope: Scope, suppressed: bool
) -> pd.DataFrame:
    households = household_version(location, version)
    store = open_store(location)
    if load_state(store) is None and _households_in(
        location, stable_version(location, version, STRUCTURE), scope
    ) <= (map_max_points()):
        # no care state: the viewer's pages hold the per-household frame of their scope (map
        # points and legend, work list): the grid figures are summed from it, the visits
        # folded once; a frame of the scope's households gives the scope's grid rows exactly
        figures = grid_table_of(store, as_of, _statuses(location, households, as_of, scope))
    else:  # the counters are read from the care state (no fold; no household's status),
        # or, at level of detail without one, the lean fold of every household
        figures = grid_table(store, as_of, _household_counters(location, households, as_of))
    if scope is not None:
        figures = figures[figures["grid_id"].isin(scope)].reset_index(drop=True)
    return suppress_table(figures) if suppressed else figures


def grid_figures(
    location: str, version: int, as_of: dt.date, viewer: Viewer | None = None
) -> pd.DataFrame:
    """``geo.metrics.tables.grid_table`` as of ``as_of`` for the grids in scope.

    For aggregate-only viewers small counts are ``"<3"`` (``geo.access.privacy.suppress_table``).
    """
    viewer = _who(viewer)
    scope = grid_scope(location, version, viewer)
    return _grid_figures(location, version, as_of, scope, viewer.aggregates_only)


def grid_counts(location: str, version: int, as_of: dt.date, scope: Scope) -> pd.DataFrame:
    """The raw grid figures of ``scope`` (``grid_scope``), never shown as they are: for sums
    that are suppressed afterwards for aggregate-only viewers (``ui.hierarchy``)."""
    return _grid_figures(location, version, as_of, scope, False)


def scope_totals(
    location: str,
    version: int,
    as_of: dt.date,
    grid_ids: Sequence[str] | None = None,
    households: pd.DataFrame | None = None,
    viewer: Viewer | None = None,
) -> dict[str, object]:
    """``geo.outputs.figures.scope_totals`` of the chosen grids (default: every grid in scope).

    Summed from the raw grid figures, then suppressed for aggregate-only viewers: the one
    place a page's totals are suppressed, after all summing. ``households``: the filtered
    household status rows a page shows (not for aggregate-only viewers).
    """
    viewer = _who(viewer)
    scope = grid_scope(location, version, viewer)
    raw = _grid_figures(location, version, as_of, scope, False)
    if grid_ids is not None:
        raw = raw[raw["grid_id"].isin(list(grid_ids))]
    if viewer.aggregates_only:
        if households is not None:
            raise AccessDenied(f"{viewer.role} sees aggregates only: no household rows")
        return suppress_totals(fig.scope_totals(raw))
    return fig.scope_totals(raw, households)


@st.cache_data(show_spinner=False, max_entries=8)
def _community_figures(
    location: str, version: int, as_of: dt.date, scope: Scope, suppressed: bool
) -> pd.DataFrame:
    # the grid figures in scope (cached: the map page has them already; grid_table is the
    # slow part at 1M) summed by community: a grid worker's community row is their grids' sum
    figures = _community_table_from(_grid_figures(location, version, as_of, scope, False))
    return suppress_table(figures) if suppressed else figures


def community_figures(
    location: str, version: int, as_of: dt.date, viewer: Viewer | None = None
) -> pd.DataFrame:
    """``geo.metrics.tables.community_table`` as of ``as_of``, summed over the grids in scope."""
    viewer = _who(viewer)
    scope = grid_scope(location, version, viewer)
    return _community_figures(location, version, as_of, scope, viewer.aggregates_only)


@st.cache_data(show_spinner=False, max_entries=8)
def _household_statuses(location: str, version: int, as_of: dt.date, scope: Scope) -> pd.DataFrame:
    del version
    store = open_store(location)
    if scope is None or None not in scope:
        return household_status(store, as_of, where=_where(scope))
    # SQL's IN never matches NULL: the unassigned households are a query of their own
    ids = [g for g in scope if g is not None]
    parts = [household_status(store, as_of, where={"grid_id": None})]
    if ids:
        parts.append(household_status(store, as_of, where={"grid_id": ids}))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def household_statuses(
    location: str,
    version: int,
    as_of: dt.date,
    viewer: Viewer | None = None,
    grid_ids: Sequence[str | None] | None = None,
) -> pd.DataFrame:
    """The per-household frame (``geo.care.rules.household_status``, no personal fields) of
    the households in scope: the map's points and legend and the work list read it, and the
    grid figures of the same scope are summed from it (``_grid_figures``).

    ``grid_ids``: only the households of these grids (None in it: the unassigned ones),
    within the viewer's scope; default all in scope. Raises AccessDenied for
    aggregate-only viewers.
    """
    viewer = _who(viewer)
    _refuse_aggregate_only(viewer)
    scope = grid_scope(location, version, viewer)
    if grid_ids is not None:
        wanted = list(dict.fromkeys(grid_ids))
        if scope is not None:  # unassigned households lie outside every limited scope
            allowed = set(scope)
            wanted = [g for g in wanted if g in allowed]
        # sorted (None first) so one choice is one cache entry whatever the order asked
        scope = tuple(sorted(wanted, key=lambda g: (g is not None, g or "")))
    return _statuses(location, household_version(location, version), as_of, scope)


@st.cache_data(show_spinner=False, max_entries=8)
def _buildings(location: str, version: int, scope: Scope) -> gpd.GeoDataFrame:
    del version
    return read_buildings(open_store(location), where=_where(scope))


def buildings(location: str, version: int, viewer: Viewer | None = None) -> gpd.GeoDataFrame:
    """The buildings of the grids in scope, with their anchors (``geo.buildings.read``).
    Raises AccessDenied for aggregate-only viewers (a building's glyph is its households)."""
    viewer = _who(viewer)
    _refuse_aggregate_only(viewer)
    return _buildings(location, version, grid_scope(location, version, viewer))


@st.cache_data(show_spinner=False, max_entries=8)
def _report_points(location: str, version: int, as_of: dt.date, scope: Scope) -> pd.DataFrame:
    del version
    reports = open_store(location).read("reports", columns=_REPORT_COLUMNS, where=_where(scope))
    if reports.empty:
        return pd.DataFrame(columns=[*_REPORT_COLUMNS, "state", "lon", "lat"])
    geoms = np.asarray(reports.geometry.values, dtype=object)
    frame = pd.DataFrame(reports.drop(columns=reports.geometry.name))
    frame["lon"] = shapely.get_x(geoms)
    frame["lat"] = shapely.get_y(geoms)
    frame = report_states(frame, as_of, extensions=granted_extensions(open_store(location)))
    return frame[frame["state"].notna()].reset_index(drop=True)


def report_points(
    location: str, version: int, as_of: dt.date, viewer: Viewer | None = None
) -> pd.DataFrame:
    """Reports in scope reported by the end of ``as_of`` with their state and lon/lat (no description).

    Raises AccessDenied for aggregate-only viewers.
    """
    viewer = _who(viewer)
    _refuse_aggregate_only(viewer)
    return _report_points(location, version, as_of, grid_scope(location, version, viewer))


def _in_scope(location: str, grid_id: str | None, viewer: Viewer) -> bool:
    scope = grid_scope(location, data_version(location), viewer)
    return scope is None or grid_id in scope


def households_in_scope(
    location: str, household_ids: list[str], viewer: Viewer | None = None
) -> bool:
    """True when every one of ``household_ids`` exists and lies in ``viewer``'s scope.

    Edits (logging a visit, marking re-verified) check this first, so a grid worker can
    neither change another grid's households nor learn that an id exists there.
    """
    viewer = _who(viewer)
    if viewer.aggregates_only:
        return False
    ids = list(dict.fromkeys(str(h) for h in household_ids))
    rows = open_store(location).read_attributes(
        "households", ["household_id", "grid_id"], where={"household_id": ids}
    )
    if len(rows) != len(ids):
        return False
    scope = grid_scope(location, data_version(location), viewer)
    return scope is None or bool(rows["grid_id"].isin(scope).all())


def grid_households_masked(
    location: str, grid_id: str, viewer: Viewer | None = None
) -> pd.DataFrame:
    """Personal fields of one grid's households, masked before they leave this function.

    Raises AccessDenied for aggregate-only viewers and for a grid outside the scope.
    """
    viewer = _who(viewer)
    _refuse_aggregate_only(viewer)
    if not _in_scope(location, grid_id, viewer):
        raise AccessDenied(f"grid {grid_id} is outside {viewer.username}'s scope")
    households = open_store(location).read_attributes(
        "households", ["household_id", *PERSONAL_COLUMNS], where={"grid_id": grid_id}
    )
    return mask_frame(pd.DataFrame(households))


def reveal_household(location: str, household_id: str, viewer: Viewer | None = None) -> dict:
    """One household's unmasked name, phone and ID number; the reveal is written to the audit log.

    Raises AccessDenied unless the role may reveal and the household is in its scope. The
    audit row names the viewer, the household and the fields (never their values).
    """
    viewer = _who(viewer)
    if not viewer.may_reveal:
        raise AccessDenied(f"{viewer.role} may not reveal personal fields")
    store = open_store(location)
    rows = store.read_attributes(
        "households",
        ["household_id", "grid_id", *PERSONAL_COLUMNS],
        where={"household_id": household_id},
    )
    if rows.empty or not _in_scope(location, rows["grid_id"].iloc[0], viewer):
        raise AccessDenied(f"household {household_id} is outside {viewer.username}'s scope")
    log_event(store, viewer.username, "reveal", ",".join(PERSONAL_COLUMNS), household_id)
    row = rows.iloc[0]
    return {
        column: (None if pd.isna(row[column]) else str(row[column]))
        for column in ("household_id", *PERSONAL_COLUMNS)
    }
