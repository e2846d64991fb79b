"""Glue for the coverage and weekly pages: cached loaders, the uncovered-area map layer,
audited downloads.

Caches are keyed on (location, data version[, as_of, lang]) like ``ui.data``: a visit
logged or a household re-verified bumps the version, so the next run recomputes.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from geo.access.audit import log_event
from geo.access.auth import Viewer
from geo.access.scope import GridScope
from geo.care.coverage import (
    boundary_coverage,
    coverage_gaps,
    staff_role_matrix,
    worklist_from_status,
    worklist_xlsx,
)
from geo.i18n import t
from geo.inputs.coords import transform_geometry, wgs84_to_gcj02
from geo.outputs.weekly.charts import map_png, trend_png
from geo.outputs.weekly.figures import weekly_figures
from geo.outputs.weekly.pdf import write_pdf
from geo.outputs.weekly.xlsx import write_xlsx
from geo.store import open_store
from ui import data, session

DEFAULT_ACTOR = "web"  # only when nobody is signed in (app.py signs in before any page)
UNCOVERED_COLOUR = "#c62828"
HATCH_LINES = 60  # hatch lines across the uncovered area's longer side


def actor() -> str:
    """Who the audit log names for edits and exports made in this session."""
    return session.user_name() or DEFAULT_ACTOR


def scoped_gaps(
    gaps: dict[str, pd.DataFrame], scope: tuple[str, ...] | None
) -> dict[str, pd.DataFrame]:
    """``coverage_gaps`` restricted to the grids in ``scope`` (None = all).

    Households outside every grid belong to no one's grids: only a whole-street viewer
    sees them. An overlap is shown when either grid is in scope.
    """
    if scope is None:
        return gaps
    inside = set(scope)
    out = dict(gaps)
    for key in ("no_party_branch", "no_grid_worker", "per_worker"):
        frame = gaps[key]
        out[key] = frame[frame["grid_id"].isin(inside)].reset_index(drop=True)
    overlaps = gaps["overlaps"]
    out["overlaps"] = overlaps[
        overlaps["grid_a"].isin(inside) | overlaps["grid_b"].isin(inside)
    ].reset_index(drop=True)
    out["unassigned"] = gaps["unassigned"].iloc[:0]
    return out


# Each loader takes the store's data version and keys its cache on the version of the part
# of the data it depends on (ui.data.stable_version): a visit logged leaves the gaps, the
# staff and the outline as they were, so they are not recomputed for it.


def _structure(location: str, version: int) -> int:
    return data.stable_version(location, version, data.STRUCTURE)


def gaps(location: str, version: int, as_of: dt.date) -> dict[str, pd.DataFrame]:
    """``geo.care.coverage.coverage_gaps`` as of ``as_of``."""
    return _gaps(location, _structure(location, version), as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def _gaps(location: str, version: int, as_of: dt.date) -> dict[str, pd.DataFrame]:
    del version
    return coverage_gaps(open_store(location), as_of)


def boundary_cover(location: str, version: int) -> dict[str, Any] | None:
    """``geo.care.coverage.boundary_coverage`` (None when no boundary is loaded)."""
    return _boundary_cover(location, _structure(location, version))


@st.cache_data(show_spinner=False, max_entries=4)
def _boundary_cover(location: str, version: int) -> dict[str, Any] | None:
    del version
    return boundary_coverage(open_store(location))


def role_matrix(location: str, version: int, by: str) -> pd.DataFrame:
    """``geo.care.coverage.staff_role_matrix`` per grid or community."""
    return _role_matrix(location, _structure(location, version), by)


@st.cache_data(show_spinner=False, max_entries=8)
def _role_matrix(location: str, version: int, by: str) -> pd.DataFrame:
    del version
    return staff_role_matrix(open_store(location), by=by)


def worklist(
    location: str,
    version: int,
    as_of: dt.date,
    scope: tuple[str, ...] | None = None,
    viewer: Viewer | None = None,
) -> pd.DataFrame:
    """``geo.care.coverage.visit_worklist`` as of ``as_of`` for the grids in ``scope`` (None = all).

    Built from the viewer's household statuses (``ui.data.household_statuses``: loaded for
    the viewer's scope only, and shared with the map page, so not computed twice).
    """
    status = data.household_statuses(location, version, as_of, viewer)
    if scope is not None:
        status = status[status["grid_id"].isin(scope)]
    return _worklist(location, data.household_version(location, version), as_of, scope, status)


@st.cache_data(show_spinner=False, max_entries=8)
def _worklist(
    location: str,
    version: int,
    as_of: dt.date,
    scope: tuple[str, ...] | None,
    _status: pd.DataFrame,
) -> pd.DataFrame:
    del version, scope  # cache key only (the statuses are those of this version and scope)
    return worklist_from_status(open_store(location), _status, as_of)


def staff_options(
    location: str, version: int, scope: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """staff_id, name and role of the staff assigned to the grids in ``scope`` (None = all).

    A grid worker's visit form lists the people of their own grids, not the whole street's.
    """
    return _staff_options(location, _structure(location, version), scope)


@st.cache_data(show_spinner=False, max_entries=8)
def _staff_options(location: str, version: int, scope: tuple[str, ...] | None) -> pd.DataFrame:
    del version
    where = None if scope is None else {"grid_id": list(scope)}
    staff = pd.DataFrame(open_store(location).read("staff", ["staff_id", "name", "role"], where))
    return staff.drop_duplicates("staff_id").sort_values("staff_id").reset_index(drop=True)


def _scoped(location: str, scope: tuple[str, ...] | None) -> Any:
    """The store, or the view of it holding only the grids in ``scope`` (None = all)."""
    store = open_store(location)
    return store if scope is None else GridScope(store, scope)


@st.cache_data(show_spinner=False, max_entries=8)
def weekly(
    location: str, version: int, as_of: dt.date, scope: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """``geo.outputs.weekly.pack.weekly_figures`` for the week ending ``as_of``, of the grids in ``scope``.

    A grid worker's or community clerk's pack is computed from their grids only
    (``geo.access.scope.GridScope``): no other grid's figures, names or shapes.
    """
    del version
    return weekly_figures(_scoped(location, scope), as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def weekly_images(
    location: str,
    version: int,
    as_of: dt.date,
    lang: str,
    scope: tuple[str, ...] | None = None,
) -> tuple[bytes, bytes]:
    """(trend chart PNG, grid map PNG) of the weekly pack, as drawn in the PDF (no personal data)."""
    figures = weekly(location, version, as_of, scope)
    trend = trend_png(figures["trend"], lang, 170, 80)
    grid_map = map_png(
        _scoped(location, scope), figures["grids"], figures["attention"], lang, 110, 95
    )
    return trend, grid_map


@st.cache_data(show_spinner=False, max_entries=4)
def weekly_file(
    location: str,
    version: int,
    as_of: dt.date,
    lang: str,
    suffix: str,
    scope: tuple[str, ...] | None = None,
) -> bytes:
    """The weekly pack as PDF or XLSX bytes (``suffix`` '.pdf' or '.xlsx'), of the grids in ``scope``."""
    figures = weekly(location, version, as_of, scope)
    with tempfile.TemporaryDirectory(prefix="gridmap-weekly-") as folder:
        out = Path(folder) / f"weekly{suffix}"
        if suffix == ".pdf":
            write_pdf(_scoped(location, scope), figures, out, lang)
        else:
            write_xlsx(figures, out, lang)
        return out.read_bytes()


def audited(
    location: str, who: str, detail: str, make: Callable[[], bytes], records: list[str] | str = ""
) -> Callable[[], bytes]:
    """A download's data callable: builds the bytes, then logs an 'export' audit event.

    Streamlit calls it only when the button is clicked (in a worker thread, so ``who``
    is captured beforehand); nothing is logged for a page that is merely viewed.
    """

    def build() -> bytes:
        data = make()
        log_event(open_store(location), who, "export", detail, records)
        return data

    return build


def worklist_download(
    location: str, frame: pd.DataFrame, lang: str, who: str, as_of: dt.date
) -> Callable[[], bytes]:
    """The data callable of the work-list download (XLSX, audited with the household ids)."""
    ids = frame["household_id"].astype(str).tolist()
    return audited(
        location, who, f"worklist {as_of.isoformat()} xlsx", lambda: worklist_xlsx(frame, lang), ids
    )


def weekly_download(
    location: str,
    version: int,
    as_of: dt.date,
    lang: str,
    suffix: str,
    who: str,
    scope: tuple[str, ...] | None = None,
) -> Callable[[], bytes]:
    """The data callable of a weekly-pack download of the grids in ``scope`` (audited)."""
    return audited(
        location,
        who,
        f"weekly {as_of.isoformat()} {suffix.lstrip('.')}",
        lambda: weekly_file(location, version, as_of, lang, suffix, scope),
    )


def community_polygons(polygons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Grid polygons dissolved by community (column ``community``; '' for grids without one)."""
    frame = polygons[["community", polygons.geometry.name]].copy()
    frame["community"] = frame["community"].fillna("").astype(str)
    return frame.dissolve(by="community", as_index=False)


def hatch_lines(area: shapely.Geometry, lines: int = HATCH_LINES) -> shapely.Geometry:
    """Diagonal hatch lines clipped to ``area`` (same CRS), ``lines`` across its longer side."""
    if area is None or area.is_empty:
        return shapely.MultiLineString([])
    minx, miny, maxx, maxy = area.bounds
    span = max(maxx - minx, maxy - miny)
    step = span / lines
    # 45° lines y = x + c for every c that crosses the bounding box
    offsets = np.arange(miny - maxx, maxy - minx + step, step)
    x0, x1 = minx - step, maxx + step
    segments = shapely.linestrings(
        np.stack(
            [
                np.column_stack([np.full_like(offsets, x0), x0 + offsets]),
                np.column_stack([np.full_like(offsets, x1), x1 + offsets]),
            ],
            axis=1,
        )
    )
    clipped = shapely.intersection(segments, area)
    return shapely.union_all(clipped[~shapely.is_empty(clipped)])


def add_uncovered_layer(
    fmap: folium.Map, uncovered: gpd.GeoDataFrame, lang: str, *, gcj02: bool = False
) -> None:
    """Draw the uncovered part of the boundary on ``fmap``: red outline, red hatching, tooltip."""
    if uncovered.empty or uncovered.geometry.iloc[0].is_empty:
        return
    area = uncovered.to_crs("EPSG:4326").geometry.iloc[0]
    if gcj02:  # the base map is GCJ-02: shift like the grids are shifted
        area = transform_geometry(area, wgs84_to_gcj02)
    area = shapely.set_precision(area, 1e-6)
    m2 = float(uncovered["area_m2"].iloc[0])
    tooltip = t("coverage_uncovered_tooltip", lang, m2=f"{m2:,.0f}")
    folium.GeoJson(
        shapely.geometry.mapping(area),
        name="uncovered",
        style_function=lambda _: {
            "color": UNCOVERED_COLOUR,
            "weight": 2,
            "dashArray": "6 4",
            "fillColor": UNCOVERED_COLOUR,
            "fillOpacity": 0.12,
        },  # fmt: skip
        tooltip=folium.Tooltip(tooltip, sticky=True),
    ).add_to(fmap)
    hatch = hatch_lines(area)
    if not hatch.is_empty:
        folium.GeoJson(
            shapely.geometry.mapping(hatch),
            name="uncovered-hatch",
            style_function=lambda _: {"color": UNCOVERED_COLOUR, "weight": 1, "opacity": 0.7},
            interactive=False,
        ).add_to(fmap)


def hide_household_legend(fmap: folium.Map) -> None:
    """Hide the household-category legend: the coverage map draws grids, not households."""
    fmap.get_root().header.add_child(folium.Element("<style>.gm-legend-main{display:none}</style>"))


def map_focus(grids: gpd.GeoDataFrame, cover: dict[str, Any] | None) -> gpd.GeoDataFrame:
    """What the coverage map zooms to: the grids and the uncovered part of the boundary."""
    parts = [np.asarray(grids.geometry.to_crs("EPSG:4326").values, dtype=object)]
    if cover is not None and not cover["geometry"].empty:
        parts.append(
            np.asarray(cover["geometry"].geometry.to_crs("EPSG:4326").values, dtype=object)
        )
    focus = np.concatenate(parts)
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(focus, crs="EPSG:4326"))
