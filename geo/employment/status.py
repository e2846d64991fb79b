"""Per-row flags of contract section 7 as the data stood at the end of the as-of day.

The one place the section's rules live: ``worker_status`` (member, returned, mobile,
insured, observer, registered), ``outlet_status`` (party organisation, distance to the
nearest counted station, near) and ``open_stations``. The metrics count these flags;
the page's gap lists and the weekly pack filter them.

Dates are stored as ``YYYY-MM-DD`` text: "on or before the as-of day" is text before the
next day (a timestamp stored by mistake compares correctly too).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod, Transformer

from geo.employment.values import PARTY_MEMBERS
from geo.timeutil import day_text

STATION_REACH_M = 1000.0
"""Default reach of a station (configuration ``station_reach_m``)."""
DISTANCE_TOLERANCE_M = 0.001
"""Exactly the reach is near. A millimetre absorbs floating-point round-off of the
geodesic (a point constructed exactly 1,000 m away may come back as 1000.0000000002 m);
it is below the precision of any coordinate a clerk types (1e-8 degree is about 1 mm)."""
GEOD = Geod(ellps="WGS84")


def stored_text(series: pd.Series) -> pd.Series:
    """Stored text with missing values as ''."""
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def next_day(as_of: dt.date) -> str:
    """The first day after ``as_of`` as stored text: anything before it has happened."""
    return day_text(as_of + dt.timedelta(days=1))


def on_or_before(series: pd.Series, as_of: dt.date) -> np.ndarray:
    """True where the stored date is present and on or before ``as_of``."""
    text = stored_text(series)
    return ((text != "") & (text < next_day(as_of))).to_numpy(bool)


def _yes(series: pd.Series) -> np.ndarray:
    """Stored yes/no (1/0, None = no) as booleans."""
    return (pd.to_numeric(series, errors="coerce").fillna(0).to_numpy(float) == 1).astype(bool)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column, or an all-empty one when the frame lacks it."""
    if name in frame.columns:
        return frame[name].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype=object)


def lonlat(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of a point frame (``lon``/``lat`` columns or point geometry)."""
    if "lon" in frame.columns and "lat" in frame.columns:
        return (frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    if len(frame) == 0:
        return np.array([], dtype=float), np.array([], dtype=float)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return shapely.get_x(geoms), shapely.get_y(geoms)


def worker_status(workers: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """``workers`` (index 0..n-1) with the flags of section 7 as of the end of ``as_of``.

    member: party member or probationary; returned: a member whose ``returned_on`` is on
    or before the day; mobile: a member whose relation is mobile; insured: insured yes
    and ``insured_on`` empty or on or before the day; observer: observer yes; registered:
    an observer whose ``registered_on`` is on or before the day.
    """
    out = workers.reset_index(drop=True).copy()
    member = stored_text(_column(out, "party")).isin(PARTY_MEMBERS).to_numpy(bool)
    out["member"] = member
    out["returned"] = member & on_or_before(_column(out, "returned_on"), as_of)
    out["mobile"] = member & (stored_text(_column(out, "party_relation")) == "mobile").to_numpy(
        bool
    )
    insured_on = stored_text(_column(out, "insured_on"))
    out["insured_now"] = _yes(_column(out, "insured")) & (
        (insured_on == "").to_numpy(bool) | on_or_before(_column(out, "insured_on"), as_of)
    )
    observer = _yes(_column(out, "observer"))
    out["is_observer"] = observer
    out["registered"] = observer & on_or_before(_column(out, "registered_on"), as_of)
    return out


def open_stations(stations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Stations counted on ``as_of``: no ``opened_on``, or opened on or before it."""
    opened = _column(stations, "opened_on")
    counted = (stored_text(opened) == "").to_numpy(bool) | on_or_before(opened, as_of)
    return stations.reset_index(drop=True)[counted]


BRUTE_FORCE_PAIRS = 200_000
"""Up to this many point x station pairs every geodesic is computed; past it, candidates first."""
CANDIDATE_MARGIN = 0.05
"""Projected distances may be this much (relative, plus 10 m) off the geodesic ones: a
station is a candidate when its projected distance is within that of the nearest one."""


def nearest_station(
    lon: np.ndarray, lat: np.ndarray, station_lon: np.ndarray, station_lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (WGS-84 ellipsoid, metres) from each point to the nearest station
    (inf when there is none), and that station's position (-1 when none).

    Small inputs compute every pair. Large ones (a city's outlets and stations) first find
    candidates in a local azimuthal equidistant projection (an STRtree), then measure only
    those on the ellipsoid: the answer is the same, the work is per point, not per pair.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    station_lon = np.asarray(station_lon, dtype=float)
    station_lat = np.asarray(station_lat, dtype=float)
    nearest = np.full(len(lon), np.inf)
    which = np.full(len(lon), -1, dtype=np.int64)
    if len(lon) == 0 or len(station_lon) == 0:
        return nearest, which
    if len(lon) * len(station_lon) <= BRUTE_FORCE_PAIRS:
        for pos, (s_lon, s_lat) in enumerate(zip(station_lon, station_lat, strict=True)):
            _, _, dist = GEOD.inv(np.full(len(lon), s_lon), np.full(len(lat), s_lat), lon, lat)
            dist = np.asarray(dist, dtype=float)
            closer = dist < nearest
            nearest[closer] = dist[closer]
            which[closer] = pos
        return nearest, which
    return _nearest_by_candidates(lon, lat, station_lon, station_lat)


def _nearest_by_candidates(
    lon: np.ndarray, lat: np.ndarray, station_lon: np.ndarray, station_lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    nearest = np.full(len(lon), np.inf)
    which = np.full(len(lon), -1, dtype=np.int64)
    usable = np.isfinite(lon) & np.isfinite(lat)
    centre_lon, centre_lat = float(np.mean(station_lon)), float(np.mean(station_lat))
    local = Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lat_0={centre_lat} +lon_0={centre_lon} +datum=WGS84 +units=m",
        always_xy=True,
    )
    sx, sy = local.transform(station_lon, station_lat)
    px, py = local.transform(lon[usable], lat[usable])
    tree = shapely.STRtree(shapely.points(sx, sy))
    points = shapely.points(px, py)
    _, projected = tree.query_nearest(points, return_distance=True, all_matches=False)
    reach = projected * (1 + CANDIDATE_MARGIN) + 10.0
    point_pos, station_pos = tree.query(points, predicate="dwithin", distance=reach)
    rows = np.flatnonzero(usable)[point_pos]
    _, _, dist = GEOD.inv(station_lon[station_pos], station_lat[station_pos], lon[rows], lat[rows])
    dist = np.asarray(dist, dtype=float)
    # the smallest distance per point: sort by (point, distance), keep each point's first
    order = np.lexsort((dist, rows))
    first = np.ones(len(order), dtype=bool)
    first[1:] = rows[order][1:] != rows[order][:-1]
    best = order[first]
    nearest[rows[best]] = dist[best]
    which[rows[best]] = station_pos[best]
    return nearest, which


def nearest_distance_m(
    lon: np.ndarray, lat: np.ndarray, station_lon: np.ndarray, station_lat: np.ndarray
) -> np.ndarray:
    """Geodesic distance in metres from each point to the nearest station (inf when none)."""
    return nearest_station(lon, lat, station_lon, station_lat)[0]


def outlet_status(
    outlets: pd.DataFrame,
    firms: pd.DataFrame,
    stations: pd.DataFrame,
    as_of: dt.date,
    reach_m: float = STATION_REACH_M,
) -> pd.DataFrame:
    """``outlets`` (index 0..n-1) with ``has_party_org`` (its own or its firm's),
    ``nearest_station_m`` and ``nearest_station_id`` (the nearest station counted on
    ``as_of``; inf and None when there is none) and ``near`` (within ``reach_m``, exactly
    the reach included)."""
    out = outlets.reset_index(drop=True).copy()
    firm_org = stored_text(_column(firms, "party_org"))
    with_org = set(stored_text(_column(firms, "firm_id"))[firm_org != ""].tolist())
    own = (stored_text(_column(out, "party_org")) != "").to_numpy(bool)
    by_firm = stored_text(_column(out, "firm_id")).isin(with_org).to_numpy(bool)
    out["has_party_org"] = own | by_firm
    counted = open_stations(stations, as_of)
    s_lon, s_lat = lonlat(counted)
    o_lon, o_lat = lonlat(out)
    nearest, which = nearest_station(o_lon, o_lat, s_lon, s_lat)
    station_ids = _column(counted, "station_id").to_numpy(object)
    out["nearest_station_m"] = nearest
    out["nearest_station_id"] = np.where(
        which >= 0, station_ids[np.clip(which, 0, None)] if len(station_ids) else None, None
    )
    out["near"] = nearest <= reach_m + DISTANCE_TOLERANCE_M
    return out
