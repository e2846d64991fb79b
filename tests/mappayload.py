"""Test helpers: what a page's map sends to the browser, and what it shows.

A page sends the map itself (``gridmapDraw(map, payload)`` in the component's ``script``)
and, apart, the view of the page's choices (``gridmapView(map, view)`` in its
``feature_group``, see geo.outputs.map.leaflet.split_payload). ``drawn_payload`` puts them back together
as rainbow.js does: the households the view's filter lets through, the grids' fill,
selection and counts, the legends and the reports.
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

OVERDUE = 128


def component_args(at: AppTest) -> dict:
    """The arguments of the page's one st_folium component."""
    components = at.get("component_instance")
    assert len(components) == 1
    return json.loads(components[0].proto.json_args)


def _call_argument(script: str, function: str) -> dict | None:
    if f"{function}(" not in script:
        return None
    start = script.index(",", script.index(f"{function}(")) + 1
    return json.JSONDecoder().raw_decode(script[start:].lstrip())[0]


def sent_text(at: AppTest) -> str:
    """Everything the map component sends to the browser: the map and its view."""
    args = component_args(at)
    return (args.get("script") or "") + (args.get("feature_group") or "")


def _visible(h: dict, show: dict | None) -> list[int]:
    """Indices of the households rainbow.js draws (its filterMask)."""
    if not show:
        return list(range(h["n"]))
    grids = None
    if show.get("grids") is not None:
        grids = set(show["grids"]) | ({-1} if show.get("loose") else set())
    keep = []
    for i in range(h["n"]):
        mask = h["c"][i]
        if show.get("cats") and not mask & show["cats"]:
            continue
        if show.get("overdue") and not mask & OVERDUE:
            continue
        if grids is not None and h["g"][i] not in grids:
            continue
        keep.append(i)
    return keep


def drawn_payload(at: AppTest) -> dict:
    """The map's payload as drawn: with its view applied (households filtered)."""
    args = component_args(at)
    payload = _call_argument(args["script"], "gridmapDraw")
    view = _call_argument(args.get("feature_group") or "", "gridmapView")
    if view is None:  # the whole payload in one (a map not split by the page)
        return payload
    for key in ("legend", "fillLegend", "reportLegend", "r", "heat", "show", "focus"):
        payload[key] = view.get(key)
    selected = set(view.get("sel") or [])
    for i, feature in enumerate(payload["g"]["features"]):
        properties = feature["properties"]
        properties["c"] = view["fill"][i]
        properties["k"] = view["k"][i]
        properties["s"] = 1 if properties["i"] in selected else 0
    h = payload["h"]
    keep = _visible(h, view.get("show"))
    ids = h["id"].split("|") if h["id"] else []
    payload["h"] = {
        **h,
        "n": len(keep),
        "x": [h["x"][i] for i in keep],
        "y": [h["y"][i] for i in keep],
        "c": [h["c"][i] for i in keep],
        "b": [h["b"][i] for i in keep],
        "v": [h["v"][i] for i in keep],
        "g": [h["g"][i] for i in keep],
        "id": "|".join(ids[i] for i in keep),
    }
    return payload
