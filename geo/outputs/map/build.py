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
import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from geo.config import Config, load_config
from geo.i18n import DEFAULT_LANGUAGE, t
from geo.outputs.figures import rate_text, ratio_text

STATIC_URL = "/app/static"
COORD_SCALE = 1e-5  # ~1.1 m: household points are shipped as integers of this many degrees
MAX_CATEGORIES = 7  # bits 0..6 of the category bitmask; bit 7 marks "visit overdue"
OVERDUE_BIT = 128
FILL_MEASURES = (
    "none",
    "visit_rate",
    "reports_overdue",
    "completion_rate",
    "satisfaction_rate",
    "freshness_rate",
    "households_per_worker",
)
REPORT_STATES = ("open", "overdue", "resolved", "followed_up")
REPORT_COLOURS = {
    "open": "#f39c12",
    "overdue": "#c0392b",
    "resolved": "#16a085",
    "followed_up": "#7f8c8d",
}
NO_DATA_HEX = "#d9d9d9"
# Sequential classes, good -> bad; rates are fractions, the others counts.
_GOOD_TO_BAD = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
_FILL_BREAKS: dict[str, tuple[Sequence[float], bool]] = {
    # measure: (class upper bounds, higher is better)
    "visit_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "freshness_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "reports_overdue": ((0, 1, 3, 6), False),
    "completion_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "satisfaction_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "households_per_worker": ((100, 200, 300, 500), False),
}
_RATE_MEASURES = {"visit_rate", "freshness_rate", "completion_rate", "satisfaction_rate"}
POINTS_ALWAYS_LIMIT = 20_000  # up to this many points are drawn at every zoom
POINTS_MIN_ZOOM = 15  # above it, points only from this zoom (grid aggregates below)


@dataclass(frozen=True)
class TileProvider:
    """A base map: tile URL templates (drawn in order), attribution, and its datum."""

    name: str
    urls: tuple[str, ...]
    attribution: str
    max_zoom: int = 18
    subdomains: str = "abc"
    gcj02: bool = False  # Gaode tiles are GCJ-02: everything drawn on them is converted


@dataclass(frozen=True)
class HouseholdFilter:
    """Which of the households on a map are drawn (applied in the browser, so that changing
    it never reloads the map). Empty = every household given to ``build_map``."""

    categories: tuple[str, ...] = ()  # any of these category codes
    only_overdue: bool = False
    grid_ids: tuple[str, ...] | None = None  # these grids' households (None: every one)
    unassigned: bool = True  # with grid_ids: also the households outside every grid


# payload keys that change with the page's choices (filters, selection, fill, overlay): a
# page sends them apart from the rest (split_payload), so the map is not rebuilt for them
VIEW_KEYS = ("legend", "fillLegend", "reportLegend", "r", "heat", "show", "focus")
# per-grid properties that are part of the view: fill colour, selected, count label
_VIEW_PROPERTIES = {"c": "", "s": 0, "k": None}


def tile_provider(
    name: str | None, *, tianditu_key: str | None = None, url: str | None = None
) -> TileProvider | None:
    """The base map called ``name`` (none/osm/tianditu/gaode/url), or None for no base map.

    Raises ValueError for an unknown name, Tianditu without a key, or ``url`` without a URL.
    """
    name = (name or "none").strip().lower()
    if name in {"", "none", "off"}:
        return None
    if name in {"osm", "openstreetmap"}:
        return TileProvider(
            "osm",
            ("https://tile.openstreetmap.org/{z}/{x}/{y}.png",),
            "&copy; OpenStreetMap contributors",
            max_zoom=19,
            subdomains="abc",
        )
    if name == "tianditu":
        if not tianditu_key:
            raise ValueError("Tianditu tiles need a key (GRIDMAP_TIANDITU_KEY)")
        base = "https://t{s}.tianditu.gov.cn/DataServer?T=%s&x={x}&y={y}&l={z}&tk=" + tianditu_key
        return TileProvider(
            "tianditu", (base % "vec_w", base % "cva_w"), "&copy; 天地图", 18, "01234567"
        )
    if name in {"gaode", "amap"}:
        return TileProvider(
            "gaode",
            (
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            ),
            "&copy; 高德地图",
            18,
            "1234",
            gcj02=True,
        )
    if name in {"url", "intranet"}:
        if not url:
            raise ValueError("an intranet base map needs a tile URL (GRIDMAP_TILE_URL)")
        return TileProvider(
            "url", (url,), "", 19, "abc", gcj02=bool(os.environ.get("GRIDMAP_TILE_GCJ02"))
        )
    raise ValueError(f"unknown base map {name!r} (none, osm, tianditu, gaode, url)")


def tile_provider_from_env() -> TileProvider | None:
    """The base map configured by the environment (none when unset: nothing leaves the machine).

    ``GRIDMAP_TILES`` = none | osm | tianditu | gaode | url; ``GRIDMAP_TIANDITU_KEY`` for
    Tianditu; ``GRIDMAP_TILE_URL`` (``{z}/{x}/{y}`` template) for an intranet tile server,
    with ``GRIDMAP_TILE_GCJ02=1`` when its tiles are in GCJ-02.
    """
    return tile_provider(
        os.environ.get("GRIDMAP_TILES"),
        tianditu_key=os.environ.get("GRIDMAP_TIANDITU_KEY"),
        url=os.environ.get("GRIDMAP_TILE_URL"),
    )


def use_local_assets(base_url: str = STATIC_URL) -> None:
    """Point folium's class-level script/stylesheet lists at the vendored copies.

    Process-wide and idempotent. jQuery, Bootstrap and Font Awesome are dropped: the
    maps built here use none of them.
    """
    folium.Map.default_js = [("leaflet", f"{base_url}/leaflet/leaflet.js")]
    folium.Map.default_css = [("leaflet_css", f"{base_url}/leaflet/leaflet.css")]
    GridmapLayer.default_js = [
        ("leaflet_heat", f"{base_url}/leaflet.heat/leaflet-heat.js"),
        ("gridmap_rainbow", f"{base_url}/gridmap/rainbow.js"),
    ]
    GridmapLayer.default_css = [("gridmap_css", f"{base_url}/gridmap/rainbow.css")]


class GridmapLayer(JSCSSMixin, MacroElement):
    """Draws the payload with ``gridmapDraw`` from the vendored ``rainbow.js``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridmapDraw({{ this._parent.get_name() }}, {{ this.payload_json }});
        {% endmacro %}
        """
    )
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, payload: dict) -> None:
        super().__init__()
        self._name = "GridmapLayer"
        # data inside a script: "<" written as \u003c, so no "</script>" in a name can end it
        self.payload_json = (
            json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )


class GridmapView(MacroElement):
    """A view (``split_payload``) for the map ``GridmapLayer`` drew; added to a FeatureGroup of
    that map, whose script can be sent on its own (st_folium's ``feature_group_to_add``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridmapView({{ this._parent._parent.get_name() }}, {{ this.view_json }});
        {% endmacro %}
        """
    )

    def __init__(self, view: dict) -> None:
        super().__init__()
        self._name = "GridmapView"
        self.view_json = json.dumps(view, ensure_ascii=False, separators=(",", ":"))


def gridmap_layer(fmap: folium.Map) -> GridmapLayer | None:
    """The GridmapLayer of a map built by ``build_map`` (None for any other map)."""
    return next((c for c in fmap._children.values() if isinstance(c, GridmapLayer)), None)


def detach_view(fmap: folium.Map) -> folium.FeatureGroup:
    """Part ``fmap``'s payload (``split_payload``): the map keeps what stays the same, the
    returned FeatureGroup holds the view, to be sent apart; add other changing layers to it."""
    group = folium.FeatureGroup(name="gridmap-view")
    layer = gridmap_layer(fmap)
    if layer is not None:
        base, view = split_payload(json.loads(layer.payload_json))
        layer.payload_json = json.dumps(base, ensure_ascii=False, separators=(",", ":"))
        group.add_child(GridmapView(view))
    return group


# --- payload pieces ------------------------------------------------------------------


def _xy(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat arrays of a frame with lon/lat columns or a point geometry."""
    if "lon" in frame.columns and "lat" in frame.columns:
        return frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    return shapely.get_x(geoms), shapely.get_y(geoms)


def _to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from geo.inputs.coords import wgs84_to_gcj02

    return wgs84_to_gcj02(lon, lat)


def category_bitmask(categories: pd.Series, config: Config | None = None) -> np.ndarray:
    """uint8 bitmask per household: bit i = the i-th configured category (';'-joined codes)."""
    config = config or load_config()
    text = categories.fillna("").astype(str)
    padded = ";" + text + ";"
    mask = np.zeros(len(text), dtype=np.uint8)
    for i, code in enumerate(config.category_codes[:MAX_CATEGORIES]):
        mask |= padded.str.contains(f";{code};", regex=False).to_numpy(bool).astype(np.uint8) << i
    return mask


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


def fill_class(values: pd.Series, measure: str) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Fill colour per grid for ``measure``, and the legend rows (colour, range text)."""
    if measure == "none" or measure not in _FILL_BREAKS:
        return np.full(len(values), "", dtype=object), []
    breaks, higher_better = _FILL_BREAKS[measure]
    colours = _GOOD_TO_BAD[::-1] if higher_better else _GOOD_TO_BAD
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(float)
    # right-closed classes for counts (0 | 1 | 2-3 ...), left-closed for rates (<50% ...)
    idx = np.searchsorted(
        np.asarray(breaks, float),
        numeric,
        side="left" if measure not in _RATE_MEASURES else "right",
    )
    out = np.where(
        np.isnan(numeric), NO_DATA_HEX, np.asarray(colours, dtype=object)[np.clip(idx, 0, 4)]
    )
    return out.astype(object), _fill_legend_rows(breaks, colours, measure)


def _fmt(value: float, measure: str) -> str:
    return f"{value:.0%}" if measure in _RATE_MEASURES else f"{value:g}"


def _fill_legend_rows(
    breaks: Sequence[float], colours: Sequence[str], measure: str
) -> list[tuple[str, str]]:
    rows = []
    lows = [None, *breaks]
    highs = [*breaks, None]
    for colour, low, high in zip(colours, lows, highs, strict=True):
        if measure in _RATE_MEASURES:
            text = (
                f"< {_fmt(high, measure)}"
                if low is None
                else f"≥ {_fmt(low, measure)}"
                if high is None
                else f"{_fmt(low, measure)} – {_fmt(high, measure)}"
            )
        else:
            if low is None:
                text = f"≤ {_fmt(high, measure)}"
            elif high is None:
                text = f"> {_fmt(low, measure)}"
            elif high - low <= 1:
                text = _fmt(high, measure)
            else:
                text = f"{_fmt(low + 1, measure)} – {_fmt(high, measure)}"
        rows.append((colour, text))
    return rows


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


def _grid_tooltip(row: pd.Series, lang: str) -> str:
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
    geoms = np.asarray(grids.geometry.to_crs("EPSG:4326").values, dtype=object)
    if gcj02:
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(_to_gcj(xy[:, 0], xy[:, 1])))
    geoms = shapely.set_precision(geoms, 1e-6)
    label_points = shapely.point_on_surface(geoms)
    lx, ly = shapely.get_x(label_points), shapely.get_y(label_points)
    colours, legend = fill_class(
        grids[fill] if fill in grids.columns else pd.Series(np.nan, index=grids.index), fill
    )
    selected_set = set(selected)
    names = (
        grids["name"].fillna("").astype(str)
        if "name" in grids.columns
        else pd.Series("", index=grids.index)
    )
    communities = (
        grids["community"].fillna("").astype(str)
        if "community" in grids.columns
        else pd.Series("", index=grids.index)
    )
    features = []
    for i, (idx, row) in enumerate(grids.iterrows()):  # grids are a few hundred: per-row is fine
        del idx
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geoms[i]),
                "properties": {
                    "i": str(row["grid_id"]),
                    "n": _short_name(names.iloc[i], communities.iloc[i]) or str(row["grid_id"]),
                    "fn": names.iloc[i] or str(row["grid_id"]),
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
    collection["communities"] = _community_labels(geoms, communities.to_numpy(object))
    return collection, legend


def _count(row: pd.Series, counts: pd.Series | None) -> int | str | None:
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
    """Reports as points with a state index into REPORT_STATES (no description, no reporter)."""
    if reports is None or len(reports) == 0:
        return {"n": 0, "lon": [], "lat": [], "st": [], "id": [], "cat": [], "at": []}
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
    }


def legend_html(
    households: pd.DataFrame | None,
    lang: str = DEFAULT_LANGUAGE,
    config: Config | None = None,
    counts: Mapping[str, int] | None = None,
) -> str:
    """The colour legend with the number of households per colour (ordinary grey included).

    ``counts`` (instead of ``households``): households per category code and "ordinary",
    optionally "several" and "overdue" (rows whose count is absent are left out), e.g.
    summed from ``grid_table`` when the households themselves are not loaded.
    """
    config = config or load_config()
    if counts is None:
        counts = legend_counts(households if households is not None else pd.DataFrame(), config)
    rows = [f'<div class="gm-legend-title">{html.escape(t("map_legend_title", lang))}</div>']
    for cat in config.categories[:MAX_CATEGORIES]:
        rows.append(
            _legend_row(cat.hex, cat.label(lang), int(counts.get(cat.code, 0)), code=cat.code)
        )
    rows.append(
        _legend_row(
            config.ordinary_hex,
            t("map_legend_ordinary", lang),
            int(counts.get("ordinary", 0)),
            code="ordinary",
        )
    )
    if "several" in counts:
        rows.append(
            f'<div class="gm-legend-row" data-code="several"><span class="gm-swatch gm-ring"></span>'
            f'<span class="gm-text">{html.escape(t("map_legend_several", lang))}</span><b>{int(counts["several"])}</b></div>'
        )
    if "overdue" in counts:
        rows.append(
            f'<div class="gm-legend-row" data-code="overdue"><span class="gm-swatch gm-overdue"></span>'
            f'<span class="gm-text">{html.escape(t("map_legend_overdue", lang))}</span><b>{int(counts["overdue"])}</b></div>'
        )
    return "".join(rows)


def legend_counts(households: pd.DataFrame, config: Config | None = None) -> dict[str, int]:
    """The legend's counts of ``households``: per category code, ordinary, several (and overdue
    when the frame has that column)."""
    config = config or load_config()
    mask = (
        category_bitmask(households["categories"], config)
        if len(households)
        else np.zeros(0, np.uint8)
    )
    counts = {
        cat.code: int(((mask >> i) & 1).sum())
        for i, cat in enumerate(config.categories[:MAX_CATEGORIES])
    }
    counts["ordinary"] = int((mask == 0).sum())
    counts["several"] = (
        int((np.unpackbits(mask[:, None], axis=1).sum(axis=1) >= 2).sum()) if len(mask) else 0
    )
    if "overdue" in households.columns:
        counts["overdue"] = int(households["overdue"].fillna(False).astype(bool).sum())
    return counts


def _legend_row(hex_colour: str, label: str, count: int, *, code: str) -> str:
    return (
        f'<div class="gm-legend-row" data-code="{code}" data-count="{count}">'
        f'<span class="gm-swatch" style="background:{hex_colour}"></span>'
        f'<span class="gm-text">{html.escape(label)}</span><b>{count}</b></div>'
    )


def fill_legend_html(rows: list[tuple[str, str]], fill: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The grid fill colour scale (empty when the grids are not filled)."""
    if not rows:
        return ""
    parts = [f'<div class="gm-legend-title">{html.escape(t("map_fill_" + fill, lang))}</div>']
    parts += [
        f'<div class="gm-legend-row"><span class="gm-swatch gm-square" style="background:{c}"></span>{html.escape(text)}</div>'
        for c, text in rows
    ]
    parts.append(
        f'<div class="gm-legend-row"><span class="gm-swatch gm-square" style="background:{NO_DATA_HEX}"></span>'
        f"{html.escape(t('map_legend_no_data', lang))}</div>"
    )
    return "".join(parts)


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
    those drawn, for the legend and the counts.

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
                "map_overdue_visit",
                "map_households",
                "map_list_separator",
            )
        },
        "pointsMinZoom": points_min_zoom,
        "bounds": bounds,
        "focus": focus_bounds,
        "g": grid_geojson,
        "h": household_payload(
            households,
            as_of,
            gcj02=gcj02,
            config=config,
            grid_order=[f["properties"]["i"] for f in grid_geojson["features"]],
        ),
        "show": _show_payload(show, grid_geojson, config),
        "r": report_payload(reports, lang=lang, gcj02=gcj02) if reports is not None else None,
        "heat": bool(heat),
        "legend": legend_html(summary, lang, config, counts=summary_counts),
        "fillLegend": fill_legend_html(fill_rows, fill, lang),
        "reportLegend": _report_legend(reports, lang) if reports is not None else "",
    }
    GridmapLayer(payload).add_to(fmap)
    return fmap


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


def split_payload(payload: dict) -> tuple[dict, dict]:
    """(the map itself, the view): ``payload`` of ``build_map`` parted so that the first stays
    the same while a page's choices change (``VIEW_KEYS`` and per-grid fill colour, selection
    and count go to the view, as ``fill``, ``sel`` and ``k`` lists in feature order)."""
    base = {k: v for k, v in payload.items() if k not in VIEW_KEYS}
    view = {k: payload.get(k) for k in VIEW_KEYS}
    features = payload["g"]["features"]
    view["fill"] = [f["properties"].get("c", "") for f in features]
    view["sel"] = [f["properties"]["i"] for f in features if f["properties"].get("s")]
    view["k"] = [f["properties"].get("k") for f in features]
    base["g"] = {
        **payload["g"],
        "features": [
            {**f, "properties": {**f["properties"], **_VIEW_PROPERTIES}} for f in features
        ],
    }
    return base, view


def _report_legend(reports: pd.DataFrame, lang: str) -> str:
    counts = reports["state"].value_counts() if len(reports) else pd.Series(dtype=int)
    rows = [f'<div class="gm-legend-title">{html.escape(t("map_legend_reports", lang))}</div>']
    for state in REPORT_STATES:
        rows.append(
            f'<div class="gm-legend-row" data-code="report-{state}"><span class="gm-swatch gm-diamond" '
            f'style="background:{REPORT_COLOURS[state]}"></span>{html.escape(t("map_state_" + state, lang))}'
            f"<b>{int(counts.get(state, 0))}</b></div>"
        )
    return "".join(rows)


def map_html(fmap: folium.Map) -> str:
    """The map as one standalone HTML page (what a browser would load)."""
    return fmap.get_root().render()
