"""The rainbow map as a folium/Leaflet map: grids, households by care category, reports.

Built for district scale: households travel to the browser as one compact payload
(integer coordinate offsets, a category bitmask, '|'-joined ids, a building index and
the days since the last visit: about 30 bytes a household) and are drawn on a canvas by
``static/gridmap/rainbow.js``, with the colour looked up in JavaScript: no per-feature
style function, no per-marker Python. The payload holds household id, building,
categories and last visit only: never names, phones or ID numbers.

Every script and stylesheet is served locally (``use_local_assets``), so the map works
with no internet. ``build_map`` is pure (no Streamlit): pages and the bench call it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.buildings.glyph import building_payload
from geo.config import Config, load_config
from geo.i18n import DEFAULT_LANGUAGE, t
from geo.outputs.map.leaflet import STATIC_URL, GridmapLayer, use_local_assets
from geo.outputs.map.legend import (
    FILL_MEASURES,
    MAX_CATEGORIES,
    REPORT_COLOURS,
    REPORT_STATES,
    _report_legend,
    fill_legend_html,
    legend_html,
)
from geo.outputs.map.payloads import _to_gcj, _xy, grid_payload, household_payload, report_payload
from geo.outputs.map.tiles import TileProvider

POINTS_ALWAYS_LIMIT = 20_000  # up to this many points are drawn at every zoom
POINTS_MIN_ZOOM = 15  # above it, points only from this zoom (grid aggregates below)


@dataclass(frozen=True)
class HouseholdFilter:
    """Which of the households on a map are drawn (applied in the browser, so that changing
    it never reloads the map). Empty = every household given to ``build_map``."""

    categories: tuple[str, ...] = ()  # any of these category codes
    only_overdue: bool = False
    grid_ids: tuple[str, ...] | None = None  # these grids' households (None: every one)
    unassigned: bool = True  # with grid_ids: also the households outside every grid


def _bounds(
    grids: gpd.GeoDataFrame, households: pd.DataFrame, gcj02: bool
) -> list[list[float]] | None:
    if not grids.empty:
        minx, miny, maxx, maxy = grids.to_crs("EPSG:4326").total_bounds
    elif len(households):
        lon, lat = _xy(households)
        minx, miny, maxx, maxy = np.nanmin(lon), np.nanmin(lat), np.nanmax(lon), np.nanmax(lat)
    else:
        return None
    if gcj02:
        (minx, maxx), (miny, maxy) = _to_gcj(np.array([minx, maxx]), np.array([miny, maxy]))
    return [[float(miny), float(minx)], [float(maxy), float(maxx)]]


def build_map(
    grids: gpd.GeoDataFrame,
    households: pd.DataFrame,
    reports: pd.DataFrame | None = None,
    *,
    fill: str = "none",
    lang: str = DEFAULT_LANGUAGE,
    as_of: dt.date | None = None,
    selected_grids: Sequence[str] = (),
    focus: gpd.GeoDataFrame | None = None,
    tiles: TileProvider | None = None,
    heat: bool = False,
    points_min_zoom: int | None = None,
    assets_url: str = STATIC_URL,
    summary: pd.DataFrame | None = None,
    summary_counts: Mapping[str, int] | None = None,
    show: HouseholdFilter | None = None,
    buildings: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The rainbow map.

    ``grids``: GeoDataFrame with grid_id, name, community, households and the fill
    measures (``grid_table`` joined to the grid polygons). ``households``: one row per
    household to draw (household_id, categories, building, last_visit, overdue,
    lon/lat or point geometry). ``reports``: report_id, state, category, source,
    reported_at, lon/lat or geometry; None = no overlay. ``focus``: polygons to zoom to
    (default: all grids). ``points_min_zoom``: zoom from which points replace the grid
    aggregates (default: always for up to 20,000 points, else 15). ``summary``: the
    households the legend and the per-grid counts describe when only some are drawn
    (level of detail at 1M households: aggregates for all, points for a chosen area).
    ``summary_counts``: the legend's counts (``legend_html``) when the households are not
    loaded at all; the grids are then labelled with their ``households`` column.
    ``show``: which of ``households`` are drawn (default all); ``summary`` should then hold
    those drawn, for the legend and the counts. ``buildings``: drawn as building glyphs
    (``static/gridmap/buildings.js``) with their linked households (``geo.buildings.read``:
    ``households`` then carry building_id, unit, floor, door); None = no building layer.

    Everything that follows a page's choices (``VIEW_KEYS``: filter, selection, fill, focus,
    reports, legends) can be sent apart (``split_payload``): the rest, the map itself, stays
    the same while the choices change.
    """
    if fill not in FILL_MEASURES:
        raise ValueError(f"unknown fill measure {fill!r}: one of {', '.join(FILL_MEASURES)}")
    use_local_assets(assets_url)
    config = load_config()
    as_of = as_of or dt.date.today()
    gcj02 = bool(tiles and tiles.gcj02)
    max_zoom = tiles.max_zoom if tiles else 19
    # the map itself frames every grid; the chosen ones (focus) are part of the view
    bounds = _bounds(grids, households, gcj02)
    focus_bounds = (
        _bounds(focus, pd.DataFrame(), gcj02) if focus is not None and len(focus) else None
    )
    center = (
        [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
        if bounds
        else [39.9, 116.4]
    )
    fmap = folium.Map(
        location=center,
        zoom_start=15,
        tiles=None,
        prefer_canvas=True,
        max_zoom=max_zoom,
        min_zoom=3,
        # fractional zoom: the chosen area fills the map instead of a third of it
        zoom_snap=0.25,
        zoom_delta=0.5,
        control_scale=False,  # a metric-only scale is added by rainbow.js
        # with no tile layer Leaflet has no zoom range unless the map itself sets one
        maxZoom=max_zoom,
        minZoom=3,
    )
    if tiles:
        for url in tiles.urls:
            folium.TileLayer(
                tiles=url,
                attr=tiles.attribution or tiles.name,
                max_zoom=max_zoom,
                subdomains=tiles.subdomains,
                name=tiles.name,
                control=False,
            ).add_to(fmap)
    if bounds:
        fmap.fit_bounds(bounds, padding=(12, 12))
    summary = households if summary is None else summary
    counts = (
        summary["grid_id"].value_counts()
        if summary_counts is None and "grid_id" in summary.columns
        else None
    )
    grid_geojson, fill_rows = grid_payload(
        grids, fill=fill, lang=lang, selected=selected_grids, gcj02=gcj02, counts=counts
    )
    n_points = len(households)
    if points_min_zoom is None:
        points_min_zoom = 0 if n_points <= POINTS_ALWAYS_LIMIT else POINTS_MIN_ZOOM
    grid_order = [f["properties"]["i"] for f in grid_geojson["features"]]
    h = household_payload(households, as_of, gcj02=gcj02, config=config, grid_order=grid_order)
    payload_ids = h["id"].split("|") if h["n"] else []
    payload = {
        "lang": lang,
        "asOf": as_of.isoformat(),
        "cats": [
            {"code": c.code, "hex": c.hex, "label": c.label(lang)}
            for c in config.categories[:MAX_CATEGORIES]
        ],
        "ordinary": config.ordinary_hex,
        "reportColours": [REPORT_COLOURS[s] for s in REPORT_STATES],
        "reportLabels": [t(f"map_state_{s}", lang) for s in REPORT_STATES],
        "text": {
            key: t(key, lang)
            for key in (
                "map_household_id",
                "map_building",
                "map_categories",
                "map_last_visit",
                "map_never_visited",
                "map_legend_ordinary",
                "map_report_id",
                "map_report_state",
                "map_reported_at",
                "map_report_owner",
                "map_overdue_visit",
                "map_households",
                "map_list_separator",
            )
        }
        | ({key: t(key, lang) for key in BUILDING_TEXT} if buildings is not None else {}),
        "pointsMinZoom": points_min_zoom,
        "bounds": bounds,
        "focus": focus_bounds,
        "g": grid_geojson,
        "h": h,
        "show": _show_payload(show, grid_geojson, config),
        "bd": _building_payload(buildings, households, payload_ids, grid_order, gcj02),
        "r": report_payload(reports, lang=lang, gcj02=gcj02) if reports is not None else None,
        "heat": bool(heat),
        "legend": legend_html(summary, lang, config, counts=summary_counts),
        "fillLegend": fill_legend_html(fill_rows, fill, lang),
        "reportLegend": _report_legend(reports, lang) if reports is not None else "",
    }
    GridmapLayer(payload).add_to(fmap)
    return fmap


BUILDING_TEXT = (
    "bld_unit",
    "bld_floor",
    "bld_unit_floor",
    "bld_room",
    "bld_households",
    "bld_cared_for",
    "bld_visit_today",
    "bld_due_doors",
    "bld_party_group",
    "bld_no_party_group",
    "bld_place_unknown",
    "bld_no_households",
    "bld_pick_household",
)
"""The catalogue strings buildings.js shows."""


def _building_payload(
    buildings: gpd.GeoDataFrame | None,
    households: pd.DataFrame,
    payload_ids: list[str],
    grid_order: list[str],
    gcj02: bool,
) -> dict | None:
    """The building glyphs' payload (``geo.buildings.glyph``), None without buildings."""
    if buildings is None or len(buildings) == 0:
        return None
    linked = households if "building_id" in households.columns else None
    if linked is None or not len(payload_ids):
        linked = pd.DataFrame(
            {
                c: pd.Series(dtype=object)
                for c in ("household_id", "building_id", "unit", "floor", "door")
            }
        )
    return building_payload(buildings, linked, payload_ids, grid_order=grid_order, gcj02=gcj02)


def _show_payload(show: HouseholdFilter | None, grid_geojson: dict, config: Config) -> dict | None:
    """The household filter as rainbow.js applies it: a category bitmask, the overdue flag,
    and indices into the grid features (None: every household)."""
    if show is None or show == HouseholdFilter():
        return None
    codes = config.category_codes[:MAX_CATEGORIES]
    mask = 0
    for code in show.categories:
        if code in codes:
            mask |= 1 << codes.index(code)
    grids = None
    if show.grid_ids is not None:
        wanted = set(show.grid_ids)
        features = grid_geojson["features"]
        grids = [i for i, f in enumerate(features) if f["properties"]["i"] in wanted]
    return {
        "cats": mask,
        "overdue": bool(show.only_overdue),
        "grids": grids,
        "loose": bool(show.unassigned),
    }
