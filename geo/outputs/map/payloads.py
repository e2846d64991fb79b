"""The map's payloads: households as one compact payload (about 30 bytes a household, never names, phones or ID numbers), grids as GeoJSON with their tooltips, reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.config import Config, load_config
from geo.i18n import DEFAULT_LANGUAGE, t
from geo.outputs.figures import rate_text, ratio_text
from geo.outputs.map.legend import REPORT_STATES, category_bitmask, fill_class

COORD_SCALE = 1e-5  # ~1.1 m: household points are shipped as integers of this many degrees


OVERDUE_BIT = 128


def _xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat arrays of a frame with lon/lat columns or a point geometry."""
    if "lon" in frame.columns and "lat" in frame.columns:
        return frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return shapely.get_x(geoms), shapely.get_y(geoms)


def _to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from geo.inputs.coords import wgs84_to_gcj02

    return wgs84_to_gcj02(lon, lat)


def _days_before(values: pd.Series, as_of: dt.date) -> np.ndarray:
    """Whole days from each date/timestamp to ``as_of`` (-1 where missing)."""
    days = pd.to_datetime(
        values.astype("string").str.slice(0, 10), errors="coerce", format="%Y-%m-%d"
    )
    delta = (pd.Timestamp(as_of) - days).dt.days
    return delta.fillna(-1).astype(int).to_numpy()


def household_payload(
    households: pd.DataFrame,
    as_of: dt.date,
    *,
    gcj02: bool = False,
    config: Config | None = None,
    grid_order: Sequence[str] = (),
) -> dict:
    """The compact household payload: integer offsets, bitmask, ids, buildings, last visit.

    ``households`` has household_id, categories, building, last_visit, overdue and
    lon/lat (or point geometry), and grid_id. Care households come last so they are drawn
    on top. ``g``: each household's grid as an index into ``grid_order`` (-1: none of them).
    """
    config = config or load_config()
    n = len(households)
    if n == 0:
        return {
            "n": 0,
            "x0": 0,
            "y0": 0,
            "s": COORD_SCALE,
            "x": [],
            "y": [],
            "c": [],
            "id": "",
            "b": [],
            "bl": [],
            "v": [],
            "g": [],
        }
    lon, lat = _xy(households)
    if gcj02:
        lon, lat = _to_gcj(lon, lat)
    mask = category_bitmask(households["categories"], config)
    if "overdue" in households.columns:
        mask = mask | (
            households["overdue"].fillna(False).astype(bool).to_numpy() * OVERDUE_BIT
        ).astype(np.uint8)
    order = np.argsort((mask & (OVERDUE_BIT - 1)) > 0, kind="stable")
    x0 = math.floor(float(np.nanmin(lon)) * 1000) / 1000
    y0 = math.floor(float(np.nanmin(lat)) * 1000) / 1000
    xs = np.rint((lon[order] - x0) / COORD_SCALE).astype(np.int64)
    ys = np.rint((lat[order] - y0) / COORD_SCALE).astype(np.int64)
    ids = households["household_id"].astype(str).to_numpy()[order]
    if "building" in households.columns:
        buildings = households["building"].fillna("").astype(str).to_numpy()[order]
    else:
        buildings = np.full(n, "", dtype=object)
    building_labels, building_index = np.unique(buildings, return_inverse=True)
    if "last_visit" in households.columns:
        visit_days = _days_before(households["last_visit"], as_of)[order]
    else:
        visit_days = np.full(n, -1)
    position = {g: i for i, g in enumerate(grid_order)}
    if "grid_id" in households.columns:
        grid_index = households["grid_id"].map(position).fillna(-1).astype(int).to_numpy()[order]
    else:
        grid_index = np.full(n, -1)
    return {
        "n": n,
        "x0": x0,
        "y0": y0,
        "s": COORD_SCALE,
        "x": xs.tolist(),
        "y": ys.tolist(),
        "c": mask[order].tolist(),
        "id": "|".join(ids),
        "b": building_index.tolist(),
        "bl": building_labels.tolist(),
        "v": visit_days.tolist(),
        "g": grid_index.tolist(),
    }


def _pct(value: object) -> str:
    return rate_text(value)  # one rounding everywhere (geo.outputs.figures)


def _num(value: object) -> str:
    if isinstance(value, str):  # a count suppressed for a wide audience ("<3"): shown as such
        return value
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(v) else f"{v:.0f}" if v == int(v) else f"{v:.1f}"


def _grid_tooltip(row: Mapping[str, object], lang: str) -> str:
    """Grid tooltip HTML; its text starts with '<grid_id> · ' (drill-down parses it)."""
    esc = html.escape
    lines = [f"<b>{esc(str(row['grid_id']))} · {esc(str(row.get('name') or ''))}</b>"]
    if row.get("community"):
        lines.append(f"{t('map_community', lang)}: {esc(str(row['community']))}")
    figures = [
        ("map_households", _num(row.get("households"))),
        ("map_fill_visit_rate", _pct(row.get("visit_rate"))),
        ("map_fill_freshness_rate", _pct(row.get("freshness_rate"))),
        ("map_fill_reports_overdue", _num(row.get("reports_overdue"))),
        ("map_fill_completion_rate", _pct(row.get("completion_rate"))),
        ("map_fill_satisfaction_rate", _pct(row.get("satisfaction_rate"))),
        ("map_fill_households_per_worker", ratio_text(row.get("households_per_worker"))),
    ]
    lines += [f"{t(key, lang)}: {value}" for key, value in figures]
    return "<br>".join(lines)


_TOOLTIP_COLUMNS = (
    "grid_id",
    "name",
    "community",
    "households",
    "visit_rate",
    "freshness_rate",
    "reports_overdue",
    "completion_rate",
    "satisfaction_rate",
    "households_per_worker",
)

# the grids' shapes as sent (GeoJSON geometry, label point, community outlines), by their
# WKB, projection and communities: the same grids give the same shapes on every run
_SHAPES: OrderedDict[bytes, tuple[list[dict], np.ndarray, np.ndarray, list[dict]]] = OrderedDict()
_SHAPES_MAX = 8


def _shapes(
    grids: gpd.GeoDataFrame, communities: np.ndarray, gcj02: bool
) -> tuple[list[dict], np.ndarray, np.ndarray, list[dict]]:
    """(GeoJSON geometries, label x, label y, community labels) of ``grids``, cached."""
    raw = np.asarray(grids.geometry.values, dtype=object)
    digest = hashlib.sha256(str((grids.crs, gcj02)).encode())
    for part in shapely.to_wkb(raw):
        digest.update(part or b"")
    digest.update("\x1f".join(map(str, communities)).encode())
    key = digest.digest()
    if key in _SHAPES:
        _SHAPES.move_to_end(key)
        return _SHAPES[key]
    geoms = np.asarray(grids.geometry.to_crs("EPSG:4326").values, dtype=object)
    if gcj02:
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(_to_gcj(xy[:, 0], xy[:, 1])))
    geoms = shapely.set_precision(geoms, 1e-6)
    label_points = shapely.point_on_surface(geoms)
    shapes = (
        [shapely.geometry.mapping(g) for g in geoms],
        shapely.get_x(label_points),
        shapely.get_y(label_points),
        _community_labels(geoms, communities),
    )
    _SHAPES[key] = shapes
    while len(_SHAPES) > _SHAPES_MAX:
        _SHAPES.popitem(last=False)
    return shapes


def grid_payload(
    grids: gpd.GeoDataFrame,
    *,
    fill: str = "none",
    lang: str = DEFAULT_LANGUAGE,
    selected: Sequence[str] = (),
    gcj02: bool = False,
    counts: pd.Series | None = None,
) -> tuple[dict, list[tuple[str, str]]]:
    """GeoJSON of the grids (id, name, fill colour, tooltip, label point), and the fill legend.

    ``counts`` (grid_id -> households drawn) labels each grid when points are hidden;
    default: the grid's ``households`` column.
    """
    if grids.empty:
        return {"type": "FeatureCollection", "features": [], "communities": []}, []
    colours, legend = fill_class(
        grids[fill] if fill in grids.columns else pd.Series(np.nan, index=grids.index), fill
    )
    selected_set = set(selected)
    names = (
        grids["name"].fillna("").astype(str)
        if "name" in grids.columns
        else pd.Series("", index=grids.index)
    )
    # an area above the grids (a district, a street: geo.outputs.map.drilldown.node_layer)
    # is labelled with its own name; its "name" is the level, read in its tooltip
    labels = grids["label"].fillna("").astype(str) if "label" in grids.columns else None
    communities = (
        grids["community"].fillna("").astype(str)
        if "community" in grids.columns
        else pd.Series("", index=grids.index)
    )
    geometries, lx, ly, community_labels = _shapes(grids, communities.to_numpy(object), gcj02)
    # plain per-grid records (a grid's Series per row costs seconds at a city's 3,000 grids)
    present = [c for c in _TOOLTIP_COLUMNS if c in grids.columns]
    records = pd.DataFrame(grids[present]).to_dict("records")
    name_of, community_of = names.tolist(), communities.tolist()
    label_of = labels.tolist() if labels is not None else None
    features = []
    for i, row in enumerate(records):
        grid_id = str(row["grid_id"])
        features.append(
            {
                "type": "Feature",
                "geometry": geometries[i],
                "properties": {
                    "i": grid_id,
                    "n": label_of[i]
                    if label_of is not None
                    else _short_name(name_of[i], community_of[i]) or grid_id,
                    "fn": label_of[i] if label_of is not None else name_of[i] or grid_id,
                    "c": colours[i],
                    "k": _count(row, counts),
                    "s": 1 if row["grid_id"] in selected_set else 0,
                    "t": _grid_tooltip(row, lang),
                    "lx": round(float(lx[i]), 6),
                    "ly": round(float(ly[i]), 6),
                },
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    collection["communities"] = community_labels
    return collection, legend


def _count(row: Mapping[str, object], counts: pd.Series | None) -> int | str | None:
    if counts is not None:
        return int(counts.get(row["grid_id"], 0))
    value = row.get("households")
    if isinstance(value, str):  # suppressed ("<3"): labelled as such, never parsed
        return value
    return int(value) if value is not None and pd.notna(value) else None


def _short_name(name: str, community: str) -> str:
    """The grid label: its name without the community prefix the community label already shows."""
    if community and name.startswith(community) and len(name) > len(community):
        return name[len(community) :]
    return name


def _community_labels(geoms: np.ndarray, communities: np.ndarray) -> list[dict]:
    """One label point and outline per community (the union of its grids)."""
    labels = []
    for community in pd.unique(communities):
        if not community:
            continue
        area = shapely.union_all(geoms[communities == community], grid_size=1e-6)
        point = shapely.point_on_surface(area)
        labels.append(
            {
                "n": str(community),
                "lx": round(point.x, 6),
                "ly": round(point.y, 6),
                "b": shapely.geometry.mapping(shapely.set_precision(area.boundary, 1e-6)),
            }
        )
    return labels


def report_payload(
    reports: pd.DataFrame, *, lang: str = DEFAULT_LANGUAGE, gcj02: bool = False
) -> dict:
    """Reports as points with a state index into REPORT_STATES (no description, no reporter);
    ``own``: each case's owner as the case desk shows it (the ``owner`` column that
    ``ui.cases.with_owner_labels`` adds; '' without one)."""
    if reports is None or len(reports) == 0:
        return {"n": 0, "lon": [], "lat": [], "st": [], "id": [], "cat": [], "at": [], "own": []}
    lon, lat = _xy(reports)
    if gcj02:
        lon, lat = _to_gcj(lon, lat)
    states = (
        reports["state"]
        .astype(str)
        .map({s: i for i, s in enumerate(REPORT_STATES)})
        .fillna(0)
        .astype(int)
    )
    config = load_config()
    source = (
        reports["source"].map(
            lambda s: t(f"map_source_{s}", lang) if s in config.sources else str(s or "")
        )
        if "source" in reports.columns
        else ""
    )
    category = (
        reports["category"].fillna("").astype(str)
        if "category" in reports.columns
        else pd.Series("", index=reports.index)
    )
    label = (category + " · " + source) if isinstance(source, pd.Series) else category
    reported = (
        reports["reported_at"].astype("string").str.slice(0, 16).fillna("")
        if "reported_at" in reports.columns
        else pd.Series("", index=reports.index)
    )
    return {
        "n": len(reports),
        "lon": np.round(lon, 6).tolist(),
        "lat": np.round(lat, 6).tolist(),
        "st": states.tolist(),
        "id": reports["report_id"].astype(str).tolist(),
        "cat": label.tolist(),
        "at": reported.tolist(),
        "own": (
            reports["owner"].fillna("").astype(str).tolist()
            if "owner" in reports.columns
            else [""] * len(reports)
        ),
    }
