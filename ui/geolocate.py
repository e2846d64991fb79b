"""The phone's own position, when the browser allows it: a button in a small component.

The component (``static/gridmap/geolocate/index.html``) asks ``navigator.geolocation`` when
tapped, which browsers allow only on HTTPS or on the machine itself, and only when the
person agrees. Browsers give WGS-84 (GPS) coordinates.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

_FOLDER = Path(__file__).resolve().parents[1] / "static" / "gridmap" / "geolocate"
_component = None


def _geolocate():
    """The component, declared on first use (nothing runs at import time)."""
    global _component
    if _component is None:
        _component = components.declare_component("gridmap_geolocate", path=str(_FOLDER))
    return _component


def phone_position(label: str, key: str) -> tuple[float, float, float] | str | None:
    """(lon, lat, accuracy in metres) once the person tapped and the browser answered; the
    browser's refusal code as text when it refused; None before any tap."""
    value = _geolocate()(label=label, key=key, default=None)
    if not isinstance(value, dict):
        return None
    if "error" in value:
        return str(value["error"])
    try:
        lon, lat = float(value["lon"]), float(value["lat"])
        accuracy = float(value.get("accuracy") or 0.0)
    except (KeyError, TypeError, ValueError):
        return "invalid"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return "invalid"
    return lon, lat, accuracy
