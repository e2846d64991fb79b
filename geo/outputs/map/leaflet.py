"""The Leaflet side of the map: locally served assets, the gridmap layer and view elements, the payload split sent to the browser, the map's HTML."""

from __future__ import annotations

import json

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

STATIC_URL = "/app/static"


# payload keys that change with the page's choices (filters, selection, fill, overlay): a
# page sends them apart from the rest (split_payload), so the map is not rebuilt for them
VIEW_KEYS = ("legend", "fillLegend", "reportLegend", "r", "heat", "show", "focus")
# per-grid properties that are part of the view: fill colour, selected, count label
_VIEW_PROPERTIES = {"c": "", "s": 0, "k": None}


def canvas_script(base_url: str = STATIC_URL) -> tuple[str, str]:
    """The canvas layers' shared helper (``static/gridmap/canvaslayer.js``): listed before
    every script that uses it (folium keeps one link per name, at its first place)."""
    return ("gridmap_canvas", f"{base_url}/gridmap/canvaslayer.js")


def use_local_assets(base_url: str = STATIC_URL) -> None:
    """Point folium's class-level script/stylesheet lists at the vendored copies.

    Process-wide and idempotent. jQuery, Bootstrap and Font Awesome are dropped: the
    maps built here use none of them.
    """
    folium.Map.default_js = [("leaflet", f"{base_url}/leaflet/leaflet.js")]
    folium.Map.default_css = [("leaflet_css", f"{base_url}/leaflet/leaflet.css")]
    GridmapLayer.default_js = [
        ("leaflet_heat", f"{base_url}/leaflet.heat/leaflet-heat.js"),
        canvas_script(base_url),
        ("gridmap_rainbow", f"{base_url}/gridmap/rainbow.js"),
        ("gridmap_buildings", f"{base_url}/gridmap/buildings.js"),
    ]
    GridmapLayer.default_css = [
        ("gridmap_css", f"{base_url}/gridmap/rainbow.css"),
        ("gridmap_buildings_css", f"{base_url}/gridmap/buildings.css"),
    ]


class _ScriptText(Element):
    """A script's text, rendered as it is. (branca's ``MacroElement.render`` wraps a macro's
    output in ``Element(text)``, which compiles the text as a Jinja template: seconds for
    a payload of a few megabytes, and a payload's text is data, not a template.)"""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        """The text itself."""
        del kwargs
        return self.text


class _DataScript:
    """A MacroElement whose script carries data (a payload): rendered as text, never as a
    template. branca's ``MacroElement.render`` wraps the macro's output in ``Element(text)``,
    which compiles it with Jinja: a name reading ``{{ ... }}`` in an imported file or a report
    would be evaluated on the server, and a large payload takes seconds to compile."""

    def render(self, **kwargs) -> None:
        """As ``JSCSSMixin.render`` and ``MacroElement.render``, the script added as text."""
        figure = self.get_root()  # type: ignore[attr-defined]
        assert isinstance(figure, Figure), "rendered within a Figure"
        for name, url in getattr(self, "default_js", []):
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in getattr(self, "default_css", []):
            figure.header.add_child(CssLink(url), name=name)
        script = self._template.module.__dict__["script"]  # type: ignore[attr-defined]
        figure.script.add_child(_ScriptText(script(self, kwargs)), name=self.get_name())  # type: ignore[attr-defined]
        for element in self._children.values():  # type: ignore[attr-defined]
            element.render(**kwargs)


class GridmapLayer(_DataScript, JSCSSMixin, MacroElement):
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
        # the payload as built, while payload_json is the text made of it (detach_view then
        # splits the dict instead of parsing megabytes of JSON back)
        self._built = (payload, self.payload_json)

    def payload(self) -> dict:
        """The payload this layer draws (parsed again only if payload_json was replaced)."""
        built, text = self._built
        return built if text is self.payload_json else json.loads(self.payload_json)


class GridmapView(_DataScript, MacroElement):
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
        base, view = split_payload(layer.payload())
        layer.payload_json = json.dumps(base, ensure_ascii=False, separators=(",", ":"))
        group.add_child(GridmapView(view))
    return group


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


def map_html(fmap: folium.Map) -> str:
    """The map as one standalone HTML page (what a browser would load)."""
    return fmap.get_root().render()
