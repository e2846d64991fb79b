"""Base-map tiles: the configured or named tile provider (local tile servers on air-gapped intranets, datum of the tiles)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class TileProvider:
    """A base map: tile URL templates (drawn in order), attribution, and its datum."""

    name: str
    urls: tuple[str, ...]
    attribution: str
    max_zoom: int = 18
    subdomains: str = "abc"
    gcj02: bool = False  # Gaode tiles are GCJ-02: everything drawn on them is converted


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
