"""The st_folium wrapper: draws a map without rerunning the page on pans and zooms."""

from __future__ import annotations

from collections.abc import Callable

import folium
import streamlit as st
from streamlit_folium import st_folium

from geo.outputs.map.leaflet import STATIC_URL, detach_view, use_local_assets

_CLICK_KEY = "_gm_last_tooltip_{}"


def setup_map_assets() -> None:
    """Serve Leaflet and plugins from the app's own static files (idempotent)."""
    use_local_assets(STATIC_URL)


def show_map(
    fmap: folium.Map,
    *,
    key: str,
    height: int = 640,
    on_grid: Callable[[str], None] | None = None,
) -> str | None:
    """Draw ``fmap``; return the grid id of a grid polygon the user has just clicked, else None.

    ``on_grid``: called with the clicked grid's id as a widget callback, before the run the
    click causes, so that run already shows the grid chosen (one run, no second one).

    Only the clicked polygon's tooltip is returned to Python, so panning and zooming never
    rerun the page; a click on a grid reruns it once (drill-down). Household clicks open a
    popup in the browser only. The view (filters, selection, fill, reports, legends) is sent
    apart from the map (``geo.outputs.map.leaflet.detach_view``): changing it updates the drawn map in
    place instead of reloading it.
    """
    setup_map_assets()
    out = st_folium(
        fmap,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_object_clicked_tooltip"],
        feature_group_to_add=detach_view(fmap),
        on_change=None if on_grid is None else lambda: _clicked_grid(key, on_grid),
    )
    tooltip = (out or {}).get("last_object_clicked_tooltip")
    seen_key = _CLICK_KEY.format(key)
    if not tooltip:
        st.session_state[seen_key] = None
        return None
    if tooltip == st.session_state.get(seen_key):
        return None
    st.session_state[seen_key] = tooltip
    return grid_id_from_tooltip(tooltip)


def _clicked_grid(key: str, on_grid: Callable[[str], None]) -> None:
    """st_folium's change callback: the clicked grid (its value is in the session under key)."""
    tooltip = (st.session_state.get(key) or {}).get("last_object_clicked_tooltip")
    grid_id = grid_id_from_tooltip(tooltip) if tooltip else None
    if grid_id:
        st.session_state[_CLICK_KEY.format(key)] = tooltip  # handled: not returned again
        on_grid(grid_id)


def grid_id_from_tooltip(tooltip: str) -> str | None:
    """The grid id at the start of a grid tooltip's text ('<grid_id> · <name> ...')."""
    head, sep, _ = tooltip.partition(" · ")
    return (head.strip() or None) if sep else None


def hide_household_legend(fmap: folium.Map) -> None:
    """Hide the household-category legend of a map that draws no households."""
    fmap.get_root().header.add_child(folium.Element("<style>.gm-legend-main{display:none}</style>"))
