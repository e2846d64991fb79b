"""The building glyph layer in Chromium: a grid's buildings drawn as glyphs, a click opens the
unit x floor grid of a building (marker ``browser``).

The layer is driven on its own page (Leaflet, ``buildings.js`` and a payload built by
``geo.buildings.glyph`` from a demo street office), opened from the file system: nothing is
served, nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from geo.buildings.glyph import building_payload, glyph_counts
from geo.buildings.linking import link_households
from geo.care.rules import household_status
from geo.config import load_config
from geo.demo.build import build_demo
from geo.demo.buildings import demo_buildings
from geo.i18n import t
from geo.outputs.map.legend import MAX_CATEGORIES
from geo.outputs.map.payloads import household_payload
from geo.store import open_store

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "static"
AS_OF = dt.date(2026, 11, 27)
TEXT_KEYS = (
    "map_household_id",
    "map_categories",
    "map_last_visit",
    "map_never_visited",
    "map_legend_ordinary",
    "map_overdue_visit",
    "map_list_separator",
)


def _text(lang: str = "zh-CN") -> dict[str, str]:
    text = {key: t(key, lang) for key in TEXT_KEYS}
    catalogue = tomllib.loads((ROOT / "geo" / "messages.toml").read_text(encoding="utf-8"))
    text |= {key: t(key, lang) for key in catalogue if key.startswith("bld_")}
    return text


@pytest.fixture(scope="module")
def grid_payload(tmp_path_factory):
    """The households and buildings of one demo grid (the first with an overdue household)."""
    store = open_store(str(tmp_path_factory.mktemp("bb") / "demo.gpkg"))
    build_demo(store, seed=7, households=1500, as_of=AS_OF)
    buildings = demo_buildings(7, store.read("grids"), store.read("households"))
    status = household_status(store, AS_OF)
    linked = pd.concat([status, link_households(status, buildings)], axis=1)
    grid_id = linked.loc[linked["overdue"] & linked["building_id"].notna(), "grid_id"].iloc[0]
    mine = linked[linked["grid_id"] == grid_id]
    h = household_payload(mine, AS_OF)
    chosen = buildings[buildings["grid_id"] == grid_id].reset_index(drop=True)
    bd = building_payload(chosen, mine, h["id"].split("|"))
    config = load_config()
    payload = {
        "asOf": AS_OF.isoformat(),
        "cats": [
            {"code": c.code, "hex": c.hex, "label": c.label("zh-CN")}
            for c in config.categories[:MAX_CATEGORIES]
        ],
        "ordinary": config.ordinary_hex,
        "text": _text(),
        "h": h,
        "bd": bd,
    }
    return payload, chosen, mine


def _page_html(payload: dict, zoom: float) -> str:
    data = json.dumps(payload, ensure_ascii=False).replace("<", "\\u003c")
    return f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{(STATIC / "leaflet" / "leaflet.css").as_uri()}">
<link rel="stylesheet" href="{(STATIC / "gridmap" / "rainbow.css").as_uri()}">
<link rel="stylesheet" href="{(STATIC / "gridmap" / "buildings.css").as_uri()}">
<script src="{(STATIC / "leaflet" / "leaflet.js").as_uri()}"></script>
<script src="{(STATIC / "gridmap" / "canvaslayer.js").as_uri()}"></script>
<script src="{(STATIC / "gridmap" / "buildings.js").as_uri()}"></script>
<style>html, body, #map {{ margin: 0; height: 100%; }}</style></head>
<body><div id="map" class="gm-map"></div><script>
  var P = {data};
  var map = L.map("map", {{ maxZoom: 20, zoomSnap: 0.25, fadeAnimation: false }});
  var stats = {{}};
  var layer = window.gridmapBuildings(map, P, stats, null);
  var bounds = L.latLngBounds([]);
  for (var i = 0; i < layer.size(); i++) bounds.extend(layer.latLng(i));
  map.setView(bounds.getCenter(), {zoom}, {{ animate: false }});
  layer.addTo(map);
  window.gm = {{ map: map, layer: layer, stats: stats }};
  document.documentElement.setAttribute("data-ready", "1");
</script></body></html>"""


def _open(page, tmp_path, payload: dict, width: int = 1500, height: int = 1000, zoom=18.5):
    """The page at ``zoom`` on the grid's buildings (18.5: a grid filling a desktop map)."""
    page.set_viewport_size({"width": width, "height": height})
    html = tmp_path / "buildings.html"
    html.write_text(_page_html(payload, zoom), encoding="utf-8")
    page.goto(html.as_uri())
    page.wait_for_function("document.documentElement.getAttribute('data-ready') === '1'")
    page.wait_for_function("window.gm.stats.buildingsDrawn > 0")


def _click_building(page, index: int) -> None:
    x, y = page.evaluate(
        "(i) => { const p = window.gm.layer.containerPoint(i); return [p.x, p.y]; }", index
    )
    page.mouse.click(x, y)


def test_each_building_is_one_glyph_whose_counts_are_its_households(page, tmp_path, grid_payload):
    payload, chosen, mine = grid_payload
    _open(page, tmp_path, payload)
    stats = page.evaluate("window.gm.stats")
    assert stats["buildings"] == len(chosen) == stats["buildingsDrawn"]
    assert page.locator("canvas.gm-buildings").count() == 1  # one canvas, no marker per building
    assert page.locator(".leaflet-marker-icon").count() == 0
    expected = glyph_counts(payload["bd"], payload["h"]["c"])
    shown = page.evaluate(
        "() => Array.from({length: window.gm.layer.size()}, (_, i) => window.gm.layer.counts(i))"
    )
    for (building_id, row), glyph in zip(expected.iterrows(), shown, strict=True):
        assert glyph["cats"] == [int(row[f"c{b}"]) for b in range(MAX_CATEGORIES)], building_id
        assert (glyph["households"], glyph["overdue"]) == (row["households"], row["overdue"])
    assert sum(g["households"] for g in shown) == mine["building_id"].notna().sum()


@pytest.mark.parametrize(("width", "height"), [(1500, 1000), (390, 844)])
def test_clicking_a_building_opens_its_unit_by_floor_grid(
    page, tmp_path, grid_payload, width, height
):
    payload, chosen, mine = grid_payload
    _open(page, tmp_path, payload, width, height, zoom=18 if width < 500 else 18.5)
    # the building with the most households needing a visit today
    overdue = mine[mine["overdue"]].groupby("building_id").size()
    building_id = overdue.idxmax()
    index = payload["bd"]["id"].index(building_id)
    _click_building(page, index)
    grid = page.locator(f'.gm-bld[data-building="{building_id}"]')
    grid.wait_for(timeout=10_000)
    row = chosen.set_index("building_id").loc[building_id]
    assert row["name"] in grid.locator(".gm-bld-head").inner_text()
    floors = grid.locator("tr[data-floor]")
    assert floors.count() == row["floors"]
    assert floors.first.get_attribute("data-floor") == str(row["floors"])  # top floor on top
    assert grid.locator("th.gm-bld-unit").count() == row["units"]
    households = mine[mine["building_id"] == building_id]
    assert grid.locator(".gm-flat[data-i]").count() == len(households)
    assert grid.locator(".gm-flat-due").count() == overdue[building_id]
    assert f"今日需走访 {overdue[building_id]} 户" in grid.inner_text()
    # each overdue household sits at its door: 2单元501 in unit 2's column, floor 5's row
    due = households[households["overdue"]].iloc[0]
    room = f"{int(due['floor'])}{int(due['door']):02d}"
    cell = grid.locator(f'tr[data-floor="{int(due["floor"])}"] .gm-flat-due', has_text=room)
    assert cell.count() >= 1
    page.screenshot(path=str(tmp_path / f"building-{width}.png"))
    doors = grid.locator(".gm-bld-door")  # the doors to knock on today, listed
    assert doors.count() == overdue[building_id]
    assert f"{int(due['unit'])}单元{room}" in grid.locator(".gm-bld-due").inner_text()
    cell.first.click()
    detail = grid.locator(".gm-bld-detail")
    assert due["household_id"] in detail.inner_text()
    assert "走访逾期" in detail.inner_text() or "逾期" in detail.inner_text()
    page.screenshot(path=str(tmp_path / f"building-{width}-picked.png"))


def test_zoomed_in_buildings_are_drawn_as_their_grids_and_still_open(page, tmp_path, grid_payload):
    payload, _, _ = grid_payload
    _open(page, tmp_path, payload, zoom=20)
    assert page.evaluate("window.gm.stats.buildingsDrawn") >= 1
    index = page.evaluate(
        """() => { const l = window.gm.layer, s = window.gm.map.getSize();
          for (let i = 0; i < l.size(); i++) { const p = l.containerPoint(i);
            if (p.x > 0 && p.y > 0 && p.x < s.x && p.y < s.y) return i; } return -1; }"""
    )
    _click_building(page, index)
    page.locator(".gm-bld").wait_for(timeout=10_000)
    page.screenshot(path=str(tmp_path / "deep.png"))


def test_a_filter_redraws_the_glyphs_with_only_the_households_let_through(
    page, tmp_path, grid_payload
):
    payload, _, mine = grid_payload
    _open(page, tmp_path, payload)
    red = page.evaluate(
        """() => {
          const H = P.h, visible = new Uint8Array(H.n);
          for (let i = 0; i < H.n; i++) visible[i] = H.c[i] & 1 ? 1 : 0;
          window.gm.layer.setVisible(visible);
          return Array.from({length: window.gm.layer.size()}, (_, i) => window.gm.layer.counts(i));
        }"""
    )
    assert sum(g["households"] for g in red) == int(
        (mine["building_id"].notna() & mine["categories"].fillna("").str.contains("red")).sum()
    )
    assert all(g["cats"][0] == g["households"] for g in red)  # only red households counted
    drawn = page.evaluate("window.gm.stats.buildingsDrawn")
    assert drawn == sum(1 for g in red if g["households"])


def test_a_hostile_building_name_is_shown_as_text(page, tmp_path, grid_payload):
    payload, _, _ = grid_payload
    hostile = '<img src=x onerror="window.hacked=1">[x](http://example.com)'
    payload = {**payload, "bd": {**payload["bd"], "nm": [hostile] * payload["bd"]["n"]}}
    _open(page, tmp_path, payload)
    _click_building(page, 0)
    head = page.locator(".gm-bld-head")
    head.wait_for(timeout=10_000)
    assert hostile in head.inner_text()
    assert page.locator(".gm-bld img").count() == 0
    assert page.evaluate("window.hacked") is None


# --- in the app: the map page of a demo street office ------------------------------------


def _shot(page, tmp_path: Path, name: str, full_page: bool = False) -> None:
    """A screenshot in tmp_path, or in $GRIDMAP_SHOTS when set (to look at them)."""
    folder = Path(os.environ.get("GRIDMAP_SHOTS") or tmp_path)
    page.screenshot(path=str(folder / name), full_page=full_page)


def _app_grid(page, app_server):
    """Sign in, open the map, click into a grid; (frame, grid id) once the grid is framed."""
    from test_browser import MAP_IFRAME, READY, click_grid, open_map

    frame = open_map(page, app_server.url)
    grid_id = click_grid(page, frame, 2)
    page.locator("h3", has_text=f"{grid_id} · ").wait_for(timeout=30_000)
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    frame.wait_for_function("window.gridmapStats.buildingsDrawn > 0", timeout=30_000)
    return frame, grid_id


def _linked_grid(location: str, grid_id: str) -> pd.DataFrame:
    from geo.buildings.read import linked, read_buildings
    from geo.timeutil import today

    store = open_store(location)
    rows = linked(household_status(store, today()), read_buildings(store))
    return rows[rows["grid_id"] == grid_id]


@pytest.mark.parametrize(("width", "height"), [(1500, 1000), (390, 844)])
def test_in_the_app_a_grid_worker_clicks_a_building_and_sees_its_doors(
    page, app_server, tmp_path, width, height
):
    from test_browser import MAP_IFRAME, READY

    page.set_viewport_size({"width": 1500, "height": 1000})
    frame, grid_id = _app_grid(page, app_server)
    if width < 500:  # a grid worker's phone: the chosen grid, on a narrow screen
        page.set_viewport_size({"width": width, "height": height})
        page.query_selector(MAP_IFRAME).scroll_into_view_if_needed()
        frame.wait_for_function(
            "window.map.getSize().x < 500 && window.gridmapStats.buildingsDrawn > 0",
            timeout=30_000,
        )
        page.wait_for_timeout(1500)  # the map re-frames its grid for the new size
        frame.wait_for_function(READY, timeout=60_000)
    mine = _linked_grid(app_server.location, grid_id)
    stats = frame.evaluate("window.gridmapStats")
    in_glyphs = frame.evaluate(
        """() => { const l = window.gridmapBuildingLayer; let n = 0;
          for (let i = 0; i < l.size(); i++) n += l.counts(i).households; return n; }"""
    )
    # the grid's households: those in a building in its glyph, the others as points
    assert stats["markers"] == len(mine)
    assert in_glyphs == int(mine["building_id"].notna().sum())
    _shot(page, tmp_path, f"app-grid-{width}.png")
    # the building of this grid with the most households needing a visit today
    due = mine[mine["overdue"] & mine["building_id"].notna()].groupby("building_id").size()
    building_id = due.idxmax() if len(due) else mine["building_id"].dropna().iloc[0]
    frame.evaluate(
        """(id) => { const l = window.gridmapBuildingLayer;
          window.map._gm.auto = false;  // as a user's touch: no re-framing after this pan
          for (let i = 0; i < l.size(); i++) if (l.id(i) === id) window.map.panTo(l.latLng(i), {animate: false}); }""",
        building_id,
    )
    page.wait_for_timeout(300)
    x, y = frame.evaluate(
        """(id) => { const l = window.gridmapBuildingLayer;
          for (let i = 0; i < l.size(); i++) if (l.id(i) === id) {
            const p = l.containerPoint(i); return [p.x, p.y]; } return null; }""",
        building_id,
    )
    page.query_selector(MAP_IFRAME).scroll_into_view_if_needed()
    box_ = page.query_selector(MAP_IFRAME).bounding_box()
    page.mouse.click(box_["x"] + x, box_["y"] + y)
    grid = frame.locator(f'.gm-bld[data-building="{building_id}"]')
    grid.wait_for(timeout=10_000)
    households = mine[mine["building_id"] == building_id]
    assert grid.locator(".gm-flat[data-i]").count() == len(households)
    # nothing covers the open popup (the legends): every cell can be seen and clicked
    covered = frame.evaluate(
        """() => Array.from(document.querySelectorAll(".gm-bld .gm-flat, .gm-bld-detail, .gm-bld-head")).filter(c => {
          const r = c.getBoundingClientRect();
          // its middle and its far corner: neither under a legend
          return [[r.left + r.width / 2, r.top + r.height / 2], [r.right - 3, r.bottom - 3]].some(([x, y]) => {
            if (y < 0 || x < 0 || y > window.innerHeight || x > window.innerWidth) return false;
            for (const box of [c.closest(".leaflet-popup-content"), c.closest(".gm-bld-scroll")]) {
              if (!box) continue;
              const b = box.getBoundingClientRect();  // scrolled away inside the popup
              if (x < b.left || x > b.right || y < b.top || y > b.bottom) return false;
            }
            const e = document.elementFromPoint(x, y);  // covered by anything but the popup
            return !e || !e.closest(".gm-bld-popup");
          });
        }).map(c => {
          const r = c.getBoundingClientRect(), e = document.elementFromPoint(r.right - 3, r.bottom - 3);
          return c.className + " under " + (e ? e.className : "nothing");
        })"""
    )
    assert covered == []
    n_due = int(households["overdue"].sum())
    assert grid.locator(".gm-flat-due").count() == n_due
    if n_due:
        assert f"今日需走访 {n_due} 户" in grid.inner_text()
        assert grid.locator(".gm-bld-door").count() == n_due
    # no personal field in the popup
    phones = open_store(app_server.location).read_attributes("households", ["phone"])["phone"]
    text = grid.inner_text()
    assert not any(p in text for p in phones.dropna())
    # the click stayed on the building: no drill-down rerun left the grid
    assert page.locator("h3", has_text=f"{grid_id} · ").count() == 1
    _shot(page, tmp_path, f"app-building-{width}.png")
    # under the map: the grid's buildings, then its households by building
    heading = page.get_by_text("本网格楼栋").first
    heading.wait_for(timeout=30_000)
    heading.scroll_into_view_if_needed()
    _shot(page, tmp_path, f"app-tables-{width}.png")
