"""Browser test (issue 16): the city demo drilled from the city to a household in Chromium.

City (four districts drawn as areas) → a district (its street offices) → a street (its
grids and households) → a community → a grid → a household's popup; each click opens the
area that was clicked (the heading names it). Screenshots of each level, desktop 1500x1000,
in ``$CITY_SHOTS`` (default: the test's tmp folder). Needs the Hohhot outlines
(tests/boundaries.py: skipped without them unless GRIDMAP_REQUIRE_BOUNDARIES=1).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from boundaries import require_boundaries
from conftest import ADMIN, start_server, stop_server
from signin import ensure_user, sign_in_form

from geo.hierarchy.citydemo import build_city_demo
from geo.store import open_store

pytestmark = pytest.mark.browser

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
READY = "document.documentElement.getAttribute('data-gridmap-ready') === '1'"
HOUSEHOLDS = 6000


@pytest.fixture(scope="module")
def city_server(tmp_path_factory) -> Iterator[object]:
    folder = require_boundaries()
    workdir = tmp_path_factory.mktemp("city")
    location = str(workdir / "city.gpkg")
    build_city_demo(open_store(location), folder, seed=7, households=HOUSEHOLDS)
    ensure_user(location, ADMIN, "admin")
    server = start_server(location, workdir)
    try:
        yield server
    finally:
        stop_server(server.process)


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CITY_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _map(page):
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    return frame


def _areas(frame) -> list[str]:
    return frame.evaluate(
        """() => { const out = [];
          window.map.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.i)
            out.push(l.feature.properties.i); });
          return out; }"""
    )


def _click_area(page, frame, name: str) -> None:
    """Click inside the area ``name`` at its label point (inside the polygon, clear of points)."""
    x, y = frame.evaluate(
        """(name) => { let hit = null;
          window.map.eachLayer(l => { const p = l.feature && l.feature.properties;
            if (p && p.i === name) hit = window.map.latLngToContainerPoint([p.ly, p.lx]); });
          return [hit.x, hit.y]; }""",
        name,
    )
    box = _map_box(page)
    page.mouse.click(box["x"] + x, box["y"] + y)


def _map_box(page) -> dict:
    """The map's box, scrolled into the window first (Streamlit scrolls its main area)."""
    page.query_selector(MAP_IFRAME).scroll_into_view_if_needed()
    return page.query_selector(MAP_IFRAME).bounding_box()


def _shot(page, path: Path) -> None:
    """The window with the map in it."""
    _map_box(page)
    page.screenshot(path=str(path))


def _heading(page, text: str) -> None:
    page.locator("h3", has_text=text).first.wait_for(timeout=60_000)


def test_the_city_drills_down_to_a_household(page, city_server, tmp_path):
    shots = _shots(tmp_path)
    page.set_viewport_size({"width": 1500, "height": 1000})
    sign_in_form(page, city_server.url, ADMIN)
    frame = _map(page)
    grids = open_store(city_server.location).read_attributes(
        "grids", ["grid_id", "district", "street", "community"]
    )
    assert sorted(_areas(frame)) == sorted(grids["district"].unique())
    _heading(page, "全市 关键指标")
    _shot(page, shots / "city-1-city.png")

    district = "赛罕区"  # not the first area: the click must open the one clicked
    _click_area(page, frame, district)
    _heading(page, f"{district} 关键指标")
    frame = _map(page)
    mine = grids[grids["district"] == district]
    assert sorted(_areas(frame)) == sorted(mine["street"].unique())
    _shot(page, shots / "city-2-district.png")

    street = sorted(mine["street"].unique())[-1]
    _click_area(page, frame, street)
    _heading(page, f"{street} 关键指标")
    frame = _map(page)
    in_street = mine[mine["street"] == street]
    assert sorted(_areas(frame)) == sorted(in_street["grid_id"])
    _shot(page, shots / "city-3-street.png")

    community = sorted(in_street["community"].unique())[0]
    choose = page.locator('[class*="st-key-map_community"] input[role="combobox"]')
    choose.click()
    choose.fill(community)
    page.keyboard.press("Enter")
    _heading(page, f"{community} 关键指标")
    frame = _map(page)
    _shot(page, shots / "city-4-community.png")

    grid_id = sorted(in_street.loc[in_street["community"] == community, "grid_id"])[0]
    _click_area(page, frame, grid_id)
    _heading(page, f"{grid_id} · ")
    frame = _map(page)
    households = open_store(city_server.location).read_attributes(
        "households", ["household_id"], where={"grid_id": grid_id}
    )
    frame.wait_for_function(f"window.gridmapStats.markers === {len(households)}", timeout=30_000)
    _shot(page, shots / "city-5-grid.png")

    # a household: its building's glyph opens the building's flats (one cell per household)
    building_id = frame.evaluate(
        """(grid) => { const l = window.gridmapBuildingLayer, m = window.map;
          m._gm.auto = false;  // as a user's pan: no re-framing after it
          for (let i = 0; i < l.size(); i++) if (l.id(i).startsWith(grid + "-") && l.counts(i).households) {
            m.panTo(l.latLng(i), {animate: false}); return l.id(i); }
          return null; }""",
        grid_id,
    )
    assert building_id, f"no building with households in {grid_id}"
    page.wait_for_timeout(300)
    x, y = frame.evaluate(
        """(id) => { const l = window.gridmapBuildingLayer;
          for (let i = 0; i < l.size(); i++) if (l.id(i) === id) {
            const p = l.containerPoint(i); return [p.x, p.y]; } return null; }""",
        building_id,
    )
    box = _map_box(page)
    page.mouse.click(box["x"] + x, box["y"] + y)
    flats = frame.locator(f'.gm-bld[data-building="{building_id}"] .gm-flat[data-i]')
    flats.first.wait_for(timeout=10_000)
    assert flats.count() >= 1
    flats.first.click()
    _shot(page, shots / "city-6-household.png")
    # the click stayed on the building: no drill-down rerun left the grid
    assert page.locator("h3", has_text=f"{grid_id} · ").count() == 1
