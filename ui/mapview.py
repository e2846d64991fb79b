"""The st_folium wrapper: draws a map without rerunning the page on pans and zooms."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from geo.mapping import STATIC_URL, use_local_assets

_CLICK_KEY = "_gm_last_tooltip_{}"


def setup_map_assets() -> None:
    """Serve Leaflet and plugins from the app's own static files (idempotent)."""
    use_local_assets(STATIC_URL)


def show_map(fmap: folium.Map, *, key: str, height: int = 640) -> str | None:
    """Draw ``fmap``; return the grid id of a grid polygon the user has just clicked, else None.

    Only the clicked polygon's tooltip is returned to Python, so panning and zooming never
    rerun the page; a click on a grid reruns it once (drill-down). Household clicks open a
    popup in the browser only.
    """
    setup_map_assets()
    out = st_folium(
        fmap,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_object_clicked_tooltip"],
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


def grid_id_from_tooltip(tooltip: str) -> str | None:
    """The grid id at the start of a grid tooltip's text ('<grid_id> · <name> ...')."""
    head, sep, _ = tooltip.partition(" · ")
    return (head.strip() or None) if sep else None


def hide_household_legend(fmap: folium.Map) -> None:
    """Hide the household-category legend of a map that draws no households."""
    fmap.get_root().header.add_child(folium.Element("<style>.gm-legend-main{display:none}</style>"))
