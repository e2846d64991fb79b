"""The new-employment page's glue: cached loaders scoped to the viewer, the map, the audited
reveal of a worker's personal fields.

The section's rules run once per data version and day (``geo.employment.metrics``); a
community or grid worker gets the result restricted to their grids (outlets and stations
in them, the workers of those outlets). Worker names, phones and ID numbers leave this
module masked, except through ``reveal_worker``, which writes the audit log first.
"""

from __future__ import annotations

import datetime as dt

import folium
import pandas as pd
import streamlit as st

from geo.access.audit import log_event
from geo.access.auth import Viewer
from geo.care import coverage_view as cv
from geo.care.rules import HOUSEHOLD_STATUS_COLUMNS
from geo.config import load_config
from geo.employment.layers import EmploymentLayer, employment_payload
from geo.employment.load import load_frames
from geo.employment.metrics import (
    OBSERVER_SOURCE,
    EmploymentStatus,
    employment_status,
    observer_ids,
    restrict_to_grids,
)
from geo.employment.observers import (
    observer_choices,
    observer_report_counts,
    observers_in_scope,
)
from geo.employment.status import stored_text
from geo.employment.view import map_focus
from geo.i18n import t
from geo.outputs.map.build import build_map
from geo.outputs.map.tiles import TileProvider
from geo.store import open_store
from ui import data, session
from ui.data import AccessDenied
from ui.mapview import hide_household_legend

PERSONAL = ("name", "phone", "id_number")
REVEALED_HEADERS = (
    ("worker_id", "emp_col_worker_id"),
    ("name", "emp_col_worker_name"),
    ("phone", "emp_col_phone"),
    ("id_number", "emp_col_id_number"),
)
"""What a reveal shows: (field, catalogue key of its header)."""


def _who(viewer: Viewer | None) -> Viewer:
    return viewer if viewer is not None else session.viewer()


@st.cache_data(show_spinner=False, max_entries=4)
def _status(location: str, version: int, as_of: dt.date) -> tuple[EmploymentStatus, pd.DataFrame]:
    del version  # cache key only
    frames = load_frames(open_store(location))
    status = employment_status(frames, as_of, reach_m=load_config().station_reach_m)
    return status, frames.stations


def status_of(
    location: str, version: int, as_of: dt.date, viewer: Viewer | None = None
) -> tuple[EmploymentStatus, pd.DataFrame]:
    """The section's status as of ``as_of``, restricted to the viewer's grids, and every
    station (opened or not): stations are public places, and the one that serves a grid's
    outlets may stand in the next grid."""
    scope = data.grid_scope(location, version, _who(viewer))
    status, stations = _status(location, version, as_of)
    if scope is None:
        return status, stations
    return restrict_to_grids(status, {g for g in scope if g is not None}), stations


def has_data(location: str) -> bool:
    """Whether the store holds any firm, outlet, worker or station."""
    store = open_store(location)
    return any(store.count(t) for t in ("firms", "outlets", "workers", "stations"))


def employment_map(
    location: str,
    version: int,
    as_of: dt.date,
    status: EmploymentStatus,
    stations: pd.DataFrame,
    reports: pd.DataFrame | None,
    tiles: TileProvider | None,
    lang: str,
) -> folium.Map:
    """The grids (no fill), the observers' reports, and the new-employment layer on top."""
    polygons = data.grid_polygons(location, version)
    figures = data.grid_figures(location, version, as_of)
    drawn = cv.coverage_layer(polygons, figures, "grid")
    none = cv.no_households(HOUSEHOLD_STATUS_COLUMNS)
    focus = map_focus(polygons, status)
    fmap = build_map(
        drawn,
        none,
        reports,
        fill="none",
        lang=lang,
        as_of=as_of,
        tiles=tiles,
        summary=none.drop(columns=["grid_id"]),
        focus=focus,
    )
    hide_household_legend(fmap)
    payload = employment_payload(
        status,
        stations,
        lang=lang,
        gcj02=bool(tiles and tiles.gcj02),
        reach_m=load_config().station_reach_m,
    )
    EmploymentLayer(payload).add_to(fmap)
    return fmap


def reveal_worker(location: str, worker_id: str, viewer: Viewer | None = None) -> dict:
    """One worker's unmasked name, phone and ID number; the reveal is written to the audit log.

    Raises AccessDenied unless the role may reveal and the worker is in its scope (a worker
    of an outlet in the viewer's grids, or anyone for a whole-street viewer).
    """
    viewer = _who(viewer)
    if not viewer.may_reveal:
        raise AccessDenied(f"{viewer.role} may not reveal personal fields")
    version = data.data_version(location)
    status, _ = status_of(location, version, session.as_of(), viewer)
    workers = status.workers
    ids = stored_text(workers["worker_id"]) if len(workers) else pd.Series(dtype=object)
    if worker_id not in set(ids):
        raise AccessDenied(f"worker {worker_id} is outside {viewer.username}'s scope")
    store = open_store(location)
    log_event(store, viewer.username, "reveal", "worker:" + ",".join(PERSONAL), worker_id)
    row = workers[(ids == worker_id).to_numpy(bool)].iloc[0]
    return {
        column: (None if column not in row or pd.isna(row[column]) else str(row[column]))
        for column in ("worker_id", *PERSONAL)
    }


def map_caption(status: EmploymentStatus, reports: pd.DataFrame | None, lang: str) -> str:
    """What the map shows, in words."""
    reach = load_config().station_reach_m
    text = t("emp_map_caption", lang, km=f"{reach / 1000:g}")
    if reports is not None:
        text += " " + t("emp_map_reports_caption", lang, count=len(reports))
    return text


OBSERVER_KEY = "rep_observer"  # the report form's observer picker (ui.report_intake)


@st.cache_data(show_spinner=False, max_entries=4)
def _observer_choices(location: str, version: int, scope: data.Scope) -> pd.DataFrame:
    del version  # cache key only
    store = open_store(location)
    workers = store.read_attributes("workers")
    if scope is not None:
        workers = observers_in_scope(
            workers,
            store.read_attributes("outlets", ["outlet_id", "grid_id"]),
            store.read_attributes("grids", ["grid_id", "community"]),
            set(scope),
        )
    return observer_choices(workers, store.read_attributes("firms"))


def observer_picker(location: str, version: int, lang: str, viewer: Viewer | None = None) -> bool:
    """On the report form of an observer (随手拍) report: the registered observers to name as
    the reporter, found by typing a worker id or a masked name (labels carry no full name);
    a viewer limited to some grids is offered those of their scope (``observers_in_scope``).
    A picked observer is the report's ``reporter_id`` (before the form's free reporter field).
    False when the store keeps no observer (nothing drawn)."""
    scope = data.grid_scope(location, version, _who(viewer))
    choices = _observer_choices(location, version, scope)
    if choices.empty:
        return False
    labels = dict(zip(choices["worker_id"], choices["label"], strict=True))
    st.selectbox(
        t("emp_observer_pick", lang),
        ["", *choices["worker_id"]],
        format_func=lambda w: t("emp_observer_none", lang) if w == "" else labels[w],
        key=OBSERVER_KEY,
        help=t("emp_observer_pick_help", lang),
    )
    return True


def picked_observer() -> str | None:
    """The observer picked on the report form (None: none picked, or not an observer report)."""
    state = st.session_state
    if state.get("rep_source") != OBSERVER_SOURCE:
        return None
    return str(state.get(OBSERVER_KEY) or "").strip() or None


def observer_summary(location: str, version: int, as_of: dt.date, lang: str) -> str | None:
    """Observers as a force, in one line for the reports page: reports they filed in the last
    7 and 30 days and how many of the 7 days' were resolved (None without observers)."""
    status, _ = _status(location, version, as_of)
    observers = observer_ids(status.workers)
    if not observers:
        return None
    reports = load_frames(open_store(location)).reports
    week = observer_report_counts(reports, observers, as_of - dt.timedelta(days=6), as_of)
    return t(
        "emp_observers_line",
        lang,
        filed=week["filed"],
        resolved=week["resolved"],
        month=len(status.observer_reports),
    )
