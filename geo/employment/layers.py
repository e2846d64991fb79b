"""The new-employment layer of the map: outlets, stations and their reach as a payload that
``static/gridmap/employment.js`` draws on one canvas (no Leaflet marker per outlet).

The payload holds firm-level and station data only (names, positions, counts): no worker
is in it, so it may reach every viewer of the page.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from jinja2 import Template

from geo.employment.metrics import EmploymentStatus
from geo.employment.status import STATION_REACH_M, lonlat, open_stations, stored_text
from geo.employment.values import SECTOR, split_services
from geo.i18n import DEFAULT_LANGUAGE, t
from geo.outputs.map.leaflet import STATIC_URL, GridmapLayer, canvas_script

SECTOR_COLOURS = {
    "express": "#9c5a1e",  # parcel brown
    "food_delivery": "#d99400",  # amber
    "ride_hailing": "#e8590c",  # orange
    "taxi": "#0f766e",  # teal
    "freight": "#55606e",  # slate
    "other": "#7048b6",  # violet
}
STATION_HEX = "#c62828"
BEYOND_HEX = "#7f0000"
TEXT_KEYS = (
    "emp_map_firm",
    "emp_map_party_org",
    "emp_map_nearest",
    "emp_map_no_station",
    "emp_map_workers",
    "emp_map_beyond",
    "emp_map_host",
    "emp_map_services",
    "emp_map_opened",
    "emp_map_planned",
    "emp_map_yes",
    "emp_map_no",
)


def _coords(frame: pd.DataFrame, gcj02: bool) -> tuple[list[float], list[float]]:
    lon, lat = lonlat(frame)
    if gcj02 and len(lon):
        from geo.inputs.coords import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(lon, lat)
    return np.round(lon, 6).tolist(), np.round(lat, 6).tolist()


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns or len(frame) == 0:
        return [""] * len(frame)
    return stored_text(frame[column]).tolist()


def employment_payload(
    status: EmploymentStatus,
    stations: pd.DataFrame,
    *,
    lang: str = DEFAULT_LANGUAGE,
    gcj02: bool = False,
    reach_m: float = STATION_REACH_M,
) -> dict:
    """What ``gridmapEmploymentDraw`` draws: firms (sector colour, glyph), outlets (position,
    firm, near, party organisation, workers, distance), every station (open or being built)
    and the legend. ``status`` as ``metrics.employment_status``; ``stations`` all of them."""
    firms = status.firms
    firm_ids = _texts(firms, "firm_id")
    firm_index = {f: i for i, f in enumerate(firm_ids)}
    sector_label = {code: t(f"emp_sector_{code}", lang) for code in SECTOR.names}
    firm_rows = []
    for i, firm_id in enumerate(firm_ids):
        name = _texts(firms, "name")[i] or firm_id
        sector = _texts(firms, "sector")[i]
        firm_rows.append(
            {
                "id": firm_id,
                "name": name,
                "glyph": name[:1],
                "sector": sector,
                "sectorLabel": sector_label.get(sector, sector),
                "colour": SECTOR_COLOURS.get(sector, SECTOR_COLOURS["other"]),
            }
        )
    outlets = status.outlets
    workers = status.workers
    per_outlet = (
        stored_text(workers["outlet_id"]).value_counts()
        if len(workers) and "outlet_id" in workers.columns
        else pd.Series(dtype=np.int64)
    )
    o_lon, o_lat = _coords(outlets, gcj02)
    o_ids = _texts(outlets, "outlet_id")
    distance = outlets["nearest_station_m"].to_numpy(float) if len(outlets) else np.array([])
    outlet_payload = {
        "n": len(outlets),
        "lon": o_lon,
        "lat": o_lat,
        "id": o_ids,
        "name": _texts(outlets, "name"),
        "f": [firm_index.get(f, -1) for f in _texts(outlets, "firm_id")],
        "near": outlets["near"].astype(int).tolist() if len(outlets) else [],
        "org": outlets["has_party_org"].astype(int).tolist() if len(outlets) else [],
        "d": np.where(np.isfinite(distance), np.round(distance), -1).astype(int).tolist(),
        "w": [int(per_outlet.get(o, 0)) for o in o_ids],
    }
    stations = stations.reset_index(drop=True)
    open_ids = set(_texts(open_stations(stations, status.as_of), "station_id"))
    s_lon, s_lat = _coords(stations, gcj02)
    s_ids = _texts(stations, "station_id")
    separator = t("map_list_separator", lang)
    station_payload = {
        "n": len(stations),
        "lon": s_lon,
        "lat": s_lat,
        "id": s_ids,
        "name": _texts(stations, "name"),
        "open": [int(s in open_ids) for s in s_ids],
        "opened": _texts(stations, "opened_on"),
        "host": _texts(stations, "host"),
        "services": [
            separator.join(t(f"emp_service_{code}", lang) for code in split_services(value or None))
            for value in _texts(stations, "services")
        ],
    }
    return {
        "reach": float(reach_m),
        "firms": firm_rows,
        "o": outlet_payload,
        "s": station_payload,
        "text": {key: t(key, lang) for key in TEXT_KEYS},
        "legend": legend_html(firm_rows, outlet_payload, station_payload, reach_m, lang),
    }


def legend_html(
    firms: list[dict], outlets: dict, stations: dict, reach_m: float, lang: str = DEFAULT_LANGUAGE
) -> str:
    """The layer's legend: outlets by firm (sector colour), stations, reach, beyond reach."""
    counts = pd.Series(outlets["f"], dtype=np.int64).value_counts() if outlets["n"] else {}
    rows = [f'<div class="gm-legend-title">{html.escape(t("emp_map_legend_outlets", lang))}</div>']
    for i, firm in enumerate(firms):
        rows.append(
            f'<div class="gm-legend-row" data-code="firm-{html.escape(firm["id"])}">'
            f'<span class="gm-swatch gm-square" style="background:{firm["colour"]}"></span>'
            f'<span class="gm-text">{html.escape(firm["name"])} · {html.escape(firm["sectorLabel"])}</span>'
            f"<b>{int(counts.get(i, 0))}</b></div>"
        )
    beyond = outlets["n"] - sum(outlets["near"])
    n_open = sum(stations["open"])
    rows += [
        f'<div class="gm-legend-row" data-code="beyond"><span class="gm-swatch gm-beyond"></span>'
        f'<span class="gm-text">{html.escape(t("emp_map_legend_beyond", lang, km=f"{reach_m / 1000:g}"))}</span>'
        f"<b>{beyond}</b></div>",
        f'<div class="gm-legend-row" data-code="stations"><span class="gm-swatch gm-hexagon" style="background:{STATION_HEX}"></span>'
        f'<span class="gm-text">{html.escape(t("emp_map_legend_stations", lang, km=f"{reach_m / 1000:g}"))}</span>'
        f"<b>{n_open}</b></div>",
    ]
    if stations["n"] > n_open:
        rows.append(
            f'<div class="gm-legend-row" data-code="planned"><span class="gm-swatch gm-hexagon gm-planned"></span>'
            f'<span class="gm-text">{html.escape(t("emp_map_legend_planned", lang))}</span>'
            f"<b>{stations['n'] - n_open}</b></div>"
        )
    return "".join(rows)


class EmploymentLayer(GridmapLayer):
    """Draws the payload with ``gridmapEmploymentDraw`` from ``static/gridmap/employment.js``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        gridmapEmploymentDraw({{ this._parent.get_name() }}, {{ this.payload_json }});
        {% endmacro %}
        """
    )
    default_js = [canvas_script(), ("gridmap_employment", f"{STATIC_URL}/gridmap/employment.js")]
    default_css = [("gridmap_employment_css", f"{STATIC_URL}/gridmap/employment.css")]

    def __init__(self, payload: dict) -> None:
        super().__init__(payload)
        self._name = "EmploymentLayer"
