"""Streamlit glue of the reports page: the cached report table, filters, countdown, the clickable map.

Descriptions and reporter ids are loaded here for this page's table and detail view
only; the map payload is built from id, category, source, state and reported_at.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from streamlit_folium import st_folium

from geo.access.auth import Viewer
from geo.i18n import t
from geo.inputs.coords import wgs84_to_gcj02
from geo.metrics.contract import granted_extensions
from geo.outputs.map.build import build_map
from geo.outputs.map.leaflet import GridmapLayer, detach_view
from geo.outputs.map.tiles import TileProvider
from geo.reports.states import report_states
from geo.reports.workflow import to_wgs84
from geo.store import open_store
from geo.timeutil import end_of_day, format_timestamp, now_local, today
from ui import data, session
from ui.data import AccessDenied
from ui.mapview import setup_map_assets

WINDOWS = ("24h", "7d", "30d", "custom")
WINDOW_SPANS = {
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
    "30d": dt.timedelta(days=30),
}
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
MAP_COLUMNS = ["report_id", "state", "category", "source", "reported_at", "lon", "lat"]
MAP_OPTIONAL = ["map_owner"]  # the case's owner by name (ui.cases.with_owner_labels), if added
_HOUSEHOLD_COLUMNS = [
    "household_id",
    "grid_id",
    "categories",
    "building",
    "last_visit",
    "overdue",
    "lon",
    "lat",
]
_SEEN_CLICK = "_rep_seen_click_{}"
_PICKED_ICON = (
    '<div style="width:14px;height:14px;border-radius:50%;background:#1d4ed8;border:3px solid #fff;'
    'box-shadow:0 0 0 2px #1d4ed8,0 1px 5px rgba(0,0,0,.55)"></div>'
)
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
# inside the map's frame (the page's CSS does not reach it): 44 px zoom buttons for a finger
_TOUCH_CSS = (
    "<style>.leaflet-bar a, .leaflet-touch .leaflet-bar a "
    "{width:44px;height:44px;line-height:44px;font-size:22px}</style>"
)


@st.cache_data(show_spinner=False, max_entries=8)
def _report_table(location: str, version: int, scope: tuple[str, ...] | None) -> pd.DataFrame:
    del version  # cache key only
    store = open_store(location)
    reports = store.read("reports", where=None if scope is None else {"grid_id": list(scope)})
    geoms = np.asarray(reports.geometry.values, dtype=object)
    frame = pd.DataFrame(reports.drop(columns=reports.geometry.name))
    frame["lon"] = shapely.get_x(geoms) if len(frame) else pd.Series(dtype=float)
    frame["lat"] = shapely.get_y(geoms) if len(frame) else pd.Series(dtype=float)
    grids = store.read_attributes("grids", ["grid_id", "name", "community"])
    grids = grids.rename(columns={"name": "grid_name"})
    return frame.merge(grids, on="grid_id", how="left")


def report_table(location: str, version: int, viewer: Viewer | None = None) -> pd.DataFrame:
    """The reports in the viewer's scope (no photo bytes) with lon/lat and their grid's name and community.

    Descriptions and reporter ids are included: they are for this page's table and
    detail only. Raises ``AccessDenied`` for aggregate-only viewers.
    """
    viewer = viewer if viewer is not None else session.viewer()
    if viewer.aggregates_only:
        raise AccessDenied(f"{viewer.role} sees aggregates only: no report rows")
    return _report_table(location, version, data.grid_scope(location, version, viewer))


@st.cache_data(show_spinner=False, max_entries=4)
def duplicate_pool(
    location: str, version: int, scope: tuple[str, ...] | None = None
) -> gpd.GeoDataFrame:
    """The reports in ``scope`` (None = all) as the duplicate guard needs them (EPSG:4326).

    Ids, category and times, no description. Scoped where it is read, like every other
    loader: a grid worker is never shown (nor can link to) another grid's reports; the
    whole-street roles still see duplicates filed across a grid boundary.
    """
    del version
    return open_store(location).read(
        "reports",
        ["report_id", "category", "reported_at", "resolved_at", "duplicate_of"],
        None if scope is None else {"grid_id": list(scope)},
    )


def reference_time(as_of: dt.date) -> tuple[dt.datetime, dt.datetime | None]:
    """The moment states are judged at: now when the as-of day is today (a live countdown), else its end.

    Returns (reference, now-or-None) where the second is what ``report_states`` takes.
    """
    if as_of >= today():
        # stamps are whole seconds and "happened" means strictly before: a report filed
        # this very second must count, so judge at the start of the next second
        now = now_local() + dt.timedelta(seconds=1)
        return now, now
    return end_of_day(as_of), None


@st.cache_data(show_spinner=False, max_entries=4)
def extensions(location: str, version: int) -> pd.DataFrame:
    """The approved extensions of cases (overdue and the countdown use the limit in force)."""
    del version  # cache key only
    return granted_extensions(open_store(location))


def with_states(
    reports: pd.DataFrame,
    as_of: dt.date,
    now: dt.datetime | None,
    granted: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Reports reported by the reference time with ``state`` and ``hours_left`` (the limit
    in force: ``granted`` extensions move it)."""
    states = report_states(reports, as_of, now=now, extensions=granted)
    return states[states["state"].notna()].reset_index(drop=True)


def window_bounds(
    window: str, reference: dt.datetime, custom: tuple[dt.date, dt.date] | None = None
) -> tuple[str, str]:
    """(since, until) stored-text bounds, both inclusive, of a time window ending at ``reference``."""
    if window == "custom":
        if not custom:
            raise ValueError("a custom window needs a first and a last day")
        first, last = sorted(custom)
        return f"{first:%Y-%m-%d} 00:00:00", f"{last:%Y-%m-%d} 23:59:59"
    return format_timestamp(reference - WINDOW_SPANS[window]), format_timestamp(reference)


def filter_reports(
    reports: pd.DataFrame,
    *,
    since: str,
    until: str,
    sources: list[str] = (),
    categories: list[str] = (),
    states: list[str] = (),
    community: str = "",
    grid_id: str = "",
) -> pd.DataFrame:
    """The reports reported in [since, until] that pass every filter (an empty filter lets all pass)."""
    reported = reports["reported_at"].astype("string")
    keep = (reported >= since).fillna(False).to_numpy(bool) & (reported <= until).fillna(
        False
    ).to_numpy(bool)
    for column, chosen in (("source", sources), ("category", categories), ("state", states)):
        if chosen:
            keep &= reports[column].isin(list(chosen)).to_numpy(bool)
    if community:
        keep &= (reports["community"] == community).fillna(False).to_numpy(bool)
    if grid_id:
        keep &= (reports["grid_id"] == grid_id).fillna(False).to_numpy(bool)
    return reports[keep]


def by_urgency(reports: pd.DataFrame) -> pd.DataFrame:
    """Unresolved reports first, least time left (most overdue) first; then the rest, newest first."""
    pending = reports["hours_left"].notna()
    return pd.concat(
        [
            reports[pending].sort_values(["hours_left", "report_id"]),
            reports[~pending].sort_values(["reported_at", "report_id"], ascending=False),
        ]
    )


def detail_choices(shown_ids: list[str], visible_ids: set[str], selected: str | None) -> list[str]:
    """The reports the detail panel offers: those shown, plus the selected one when the
    filters hide it (just filed, or picked before a filter changed), first."""
    if selected in visible_ids and selected not in shown_ids:
        return [selected, *shown_ids]
    return list(shown_ids)


def countdown(hours_left: float, lang: str) -> str:
    """'12 h left' / 'overdue by 1 d 3 h' for an unresolved report; '' once resolved (NaN)."""
    if hours_left is None or pd.isna(hours_left):
        return ""
    hours = int(abs(hours_left) // 1)
    days, rest = divmod(hours, 24)
    span = t("rep_span_days", lang, d=days, h=rest) if days else t("rep_span_hours", lang, h=rest)
    return (
        t("rep_left", lang, span=span) if hours_left >= 0 else t("rep_overdue_by", lang, span=span)
    )


def parse_lonlat(text: str) -> tuple[float, float]:
    """(lon, lat) from typed or pasted text such as '111.66, 40.82' (Gaode/Baidu copy lon,lat).

    A pair written latitude first (as Google shows it) is recognised when only the second
    number can be a longitude (|value| > 90) and swapped. ValueError when it is not a pair.
    """
    numbers = re.findall(
        _NUMBER, unicodedata.normalize("NFKC", str(text or ""))
    )  # full-width digits and commas
    if len(numbers) != 2:
        raise ValueError(text)
    first, second = float(numbers[0]), float(numbers[1])
    if abs(first) <= 90 < abs(second):
        first, second = second, first
    return first, second


def common_categories(reports: pd.DataFrame, lang: str, limit: int = 12) -> list[str]:
    """The most frequent report categories in the store, else the catalogue's default list."""
    if len(reports):
        counts = reports["category"].dropna().astype(str).value_counts()
        if len(counts):
            return counts.index[:limit].tolist()
    return [c.strip() for c in t("rep_default_categories", lang).split(",") if c.strip()]


def report_photo(location: str, report_id: str) -> bytes | None:
    """The stored photo of a report, or None."""
    photos = open_store(location).read("photos", where={"report_id": report_id})
    if photos.empty:
        return None
    data = photos["data"].iloc[0]
    return bytes(data) if data is not None else None


def actor_name() -> str | None:
    """The signed-in user's name once sign-in exists (``ui.session.user_name()``), else None."""
    user_name = getattr(session, "user_name", None)
    name = user_name() if callable(user_name) else None
    return name or None


def _without_household_legend(fmap: folium.Map) -> None:
    """Drop the household legend: this map draws no households, so it would list zero counts."""
    for child in fmap._children.values():
        if isinstance(child, GridmapLayer):
            payload = json.loads(child.payload_json)
            payload["legend"] = ""
            child.payload_json = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _picked_marker(
    picked: tuple[float, float] | None, coords: str, gcj02_map: bool
) -> folium.FeatureGroup:
    """The chosen location as a marker in the map's datum (an empty group when nothing is chosen)."""
    group = folium.FeatureGroup(name="picked")
    if picked:
        lon, lat = to_wgs84(picked[0], picked[1], coords)
        if gcj02_map:
            x, y = wgs84_to_gcj02([lon], [lat])
            lon, lat = float(x[0]), float(y[0])
        # a marker-pane icon, so it sits above grid labels and report markers; clicks pass through
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(html=_PICKED_ICON, icon_size=(20, 20), icon_anchor=(10, 10)),
            z_index_offset=5000,
            interactive=False,
            keyboard=False,
        ).add_to(group)
    return group


def _clicked_point(key: str, on_pick: Callable[[tuple[float, float]], None]) -> None:
    """st_folium's change callback: a click on the map (its value is in the session under key)."""
    clicked = (st.session_state.get(key) or {}).get("last_clicked")
    if clicked:
        point = (round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6))
        st.session_state[_SEEN_CLICK.format(key)] = point  # handled: not returned again
        on_pick(point)


def report_map(
    grids: gpd.GeoDataFrame,
    reports: pd.DataFrame | None,
    *,
    lang: str,
    as_of: dt.date,
    heat: bool,
    tiles: TileProvider | None,
    picked: tuple[float, float] | None,
    picked_coords: str,
    key: str,
    height: int = 560,
    on_pick: Callable[[tuple[float, float]], None] | None = None,
    touch: bool = False,
) -> tuple[float, float] | None:
    """Draw the reports (None: none, no legend) over the grids; return (lon, lat) of a new click
    on the map, else None.

    Only ``last_clicked`` comes back to Python, so pans and zooms never rerun the page;
    a click reruns it once. The returned point is in the map's datum (GCJ-02 on Gaode tiles).
    The chosen location and the reports (the view) are passed as ``feature_group_to_add``
    so a new location, a filter or a step keeps the map mounted. ``on_pick``: called with a
    clicked point as a widget callback, before the run the click causes. ``touch``: a
    phone's map (随手拍): zoom buttons of a finger's size.
    """
    setup_map_assets()
    households = pd.DataFrame({column: pd.Series(dtype=object) for column in _HOUSEHOLD_COLUMNS})
    if reports is None:
        shown = None
    else:
        columns = MAP_COLUMNS + [c for c in MAP_OPTIONAL if c in reports.columns]
        shown = reports[columns].rename(columns={"map_owner": "owner"})
    fmap = build_map(grids, households, shown, lang=lang, as_of=as_of, tiles=tiles, heat=heat)
    _without_household_legend(fmap)
    if touch:
        fmap.get_root().header.add_child(folium.Element(_TOUCH_CSS))
    out = st_folium(
        fmap,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_clicked"],
        feature_group_to_add=[
            detach_view(fmap),
            _picked_marker(picked, picked_coords, bool(tiles and tiles.gcj02)),
        ],
        on_change=None if on_pick is None else lambda: _clicked_point(key, on_pick),
    )
    clicked = (out or {}).get("last_clicked")
    seen_key = _SEEN_CLICK.format(key)
    if not clicked:
        return None
    point = (round(float(clicked["lng"]), 6), round(float(clicked["lat"]), 6))
    if point == st.session_state.get(seen_key):
        return None
    st.session_state[seen_key] = point
    return point
