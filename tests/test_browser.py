"""Browser tests: the app in headless Chromium, offline, against a demo store (marker ``browser``)."""

import datetime as dt
import re
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import ADMIN
from shapely.geometry import box
from signin import browser_sign_in, sign_in_form

from geo.config import load_config
from geo.mapping import build_map, map_html
from geo.store import open_store

pytestmark = pytest.mark.browser

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
READY = "document.documentElement.getAttribute('data-gridmap-ready') === '1'"


def open_map(page, url: str, location: str | None = None, role: str = "admin", **scope):
    """Sign in (as the fixture's admin unless told), and return the map's iframe once the map has drawn."""
    if location is None:
        sign_in_form(page, url, ADMIN)
    else:
        browser_sign_in(page, url, location, role, **scope)
    iframe = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000)
    frame = iframe.content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    return frame


def click_grid(page, frame, index: int) -> str:
    """Click (with the mouse) inside the index-th grid, away from any household; returns its id."""
    x, y, grid_id = frame.evaluate(
        """(index) => {
          const grids = [], points = [], map = window.map, households = window.gridmapHouseholds;
          map.eachLayer(l => {
            if (l.feature && l.feature.properties && l.feature.properties.i) grids.push(l);
          });
          if (map.hasLayer(households)) {
            for (let i = 0; i < households.size(); i++) points.push(households.containerPoint(i));
          }
          const g = grids[index], b = g.getBounds();
          let best = null, bestDistance = -1;
          for (let i = 2; i <= 8; i++) for (let j = 2; j <= 8; j++) {
            const p = map.latLngToContainerPoint([
              b.getSouth() + (b.getNorth() - b.getSouth()) * i / 10,
              b.getWest() + (b.getEast() - b.getWest()) * j / 10]);
            let d = Infinity;
            for (const q of points) d = Math.min(d, p.distanceTo(q));
            if (d > bestDistance) { bestDistance = d; best = p; }
          }
          return [best.x, best.y, g.feature.properties.i];
        }""",
        index,
    )
    box_ = page.query_selector(MAP_IFRAME).bounding_box()
    page.mouse.click(box_["x"] + x, box_["y"] + y)
    return grid_id


def test_map_draws_every_household_offline(page, app_server, tmp_path):
    frame = open_map(page, app_server.url)
    stats = frame.evaluate("window.gridmapStats")
    store = open_store(app_server.location)
    assert stats["markers"] == store.count("households")
    assert stats["grids"] == store.count("grids")
    assert stats["pointsShown"] is True
    assert stats["pointsDrawn"] == store.count("households")  # the whole street office is in view
    assert frame.locator("canvas.gm-households").count() == 1
    assert frame.locator("canvas.leaflet-zoom-animated").count() >= 2  # grids and households

    legend = frame.locator("#gm-legend")
    categories = store.read("households", columns=["categories"])["categories"].fillna("")
    config = load_config()
    for cat in config.categories:
        row = legend.locator(f'[data-code="{cat.code}"]')
        assert cat.zh in row.inner_text()
        assert int(row.get_attribute("data-count")) == int(
            (";" + categories + ";").str.contains(f";{cat.code};").sum()
        )
    assert int(legend.locator('[data-code="ordinary"]').get_attribute("data-count")) == int(
        (categories == "").sum()
    )
    assert "普通户" in legend.inner_text()

    page.screenshot(path=str(tmp_path / "map.png"), full_page=True)
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_clicking_a_grid_drills_down(page, app_server, tmp_path):
    frame = open_map(page, app_server.url)
    grid_id = click_grid(page, frame, 2)
    # the page reruns with the grid selected: its key-figures heading names it
    page.locator("h3", has_text=f"{grid_id} · ").wait_for(timeout=30_000)
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    households = open_store(app_server.location).read(
        "households", columns=["household_id"], where={"grid_id": grid_id}
    )
    frame.wait_for_function(f"window.gridmapStats.markers === {len(households)}", timeout=30_000)
    page.get_by_text("网格党支部").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "grid.png"), full_page=True)


def scroll_page_by(page, dy: float) -> None:
    """Scroll the app's main area (not the window: Streamlit scrolls a container) by dy pixels."""
    page.evaluate(
        """(dy) => {
          let el = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
          while (el && !(el.scrollHeight > el.clientHeight && /(auto|scroll)/.test(getComputedStyle(el).overflowY))) {
            el = el.parentElement;
          }
          (el || document.scrollingElement).scrollTop += dy;
        }""",
        dy,
    )


def test_a_click_on_a_scrolled_page_opens_the_grid_under_the_pointer(page, app_server):
    # 4 of 4 clicks opened a neighbouring grid with the map partly off screen: Leaflet's
    # focus-on-mousedown scrolled the host page between mousedown and click
    page.set_viewport_size({"width": 1500, "height": 800})
    frame = open_map(page, app_server.url)
    box_ = page.query_selector(MAP_IFRAME).bounding_box()
    scroll_page_by(page, box_["y"] + 260)  # the map's top 260 px above the window, if it goes
    box_ = page.query_selector(MAP_IFRAME).bounding_box()
    assert box_["y"] < -100, f"the page did not scroll far enough: map top at {box_['y']}"
    x, y, grid_id = frame.evaluate(
        """(top) => {
          // a grid whose centre lies in the visible part, well inside the polygon
          const map = window.map, grids = [];
          map.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.i) grids.push(l); });
          for (const g of grids) {
            const p = map.latLngToContainerPoint(g.getBounds().getCenter());
            if (p.y < top + 60 || p.y > top + 600 || p.x < 80 || p.x > map.getSize().x - 300) continue;
            const ok = [[0, 0], [12, 0], [-12, 0], [0, 12], [0, -12]].every(([dx, dy]) =>
              g._containsPoint(map.containerPointToLayerPoint([p.x + dx, p.y + dy])));
            if (ok) return [p.x, p.y, g.feature.properties.i];
          }
          return null;
        }""",
        -box_["y"],
    )
    page.mouse.move(box_["x"] + x, box_["y"] + y)
    tooltip = frame.locator(".gm-tip")
    tooltip.wait_for(timeout=10_000)
    assert tooltip.inner_text().startswith(f"{grid_id} · ")
    page.mouse.click(box_["x"] + x, box_["y"] + y)
    heading = page.locator("h3", has_text=" · ").filter(has_text="关键指标").first
    heading.wait_for(timeout=30_000)
    assert heading.inner_text().startswith(f"{grid_id} · ")


@pytest.mark.parametrize("zoom_in", [0, 2])
def test_clicking_a_household_opens_its_popup_without_personal_fields(page, app_server, zoom_in):
    frame = open_map(page, app_server.url)
    if zoom_in:  # an animated zoom: the points are redrawn at the new scale, and hit-tested there
        frame.evaluate(
            """(levels) => new Promise(done => {
              window.map.once("moveend", () => requestAnimationFrame(done));
              window.map.setZoom(window.map.getZoom() + levels);
            })""",
            zoom_in,
        )
    x, y, household_id = frame.evaluate(
        """() => {
          const households = window.gridmapHouseholds, size = window.map.getSize();
          window.gmGridClicks = 0;
          window.map.eachLayer(l => {
            if (l.feature && l.feature.properties && l.feature.properties.i) l.on("click", () => window.gmGridClicks++);
          });
          // the household farthest from any other, clear of the controls and the legend
          const points = [];
          for (let i = 0; i < households.size(); i++) points.push(households.containerPoint(i));
          let best = -1, bestDistance = -1;
          points.forEach((p, i) => {
            if (p.x < 80 || p.y < 80 || p.x > size.x - 340 || p.y > size.y - 340) return;
            let d = Infinity;
            points.forEach((q, j) => { if (j !== i) d = Math.min(d, p.distanceTo(q)); });
            if (d > bestDistance) { bestDistance = d; best = i; }
          });
          const p = points[best];
          return [p.x + 1, p.y + 1, households._P.h.id.split("|")[best]];
        }"""
    )
    box_ = page.query_selector(MAP_IFRAME).bounding_box()
    page.mouse.click(box_["x"] + x, box_["y"] + y)
    frame.wait_for_selector(".leaflet-popup-content", timeout=10_000)
    text = frame.inner_text(".leaflet-popup-content")
    assert "户编号" in text and "最近走访" in text and household_id in text
    # the click stopped at the household: the grid below never saw it, so no drill-down rerun
    assert frame.evaluate("window.gmGridClicks") == 0
    phones = open_store(app_server.location).read("households", columns=["phone"])["phone"].dropna()
    assert not any(p in text for p in phones)
    assert not re.search(r"1[3-9]\d{9}", text)


def test_100k_households_draw_in_a_few_seconds(page, app_server):
    """A district-scale map page, served from the app's origin so its static files load."""
    n = 100_000
    rng = np.random.default_rng(3)
    grids = gpd.GeoDataFrame(
        {
            "grid_id": [f"G{i}" for i in range(100)],
            "name": [f"G{i}" for i in range(100)],
            "households": 1000,
        },
        geometry=[
            box(
                111.6 + (i % 10) * 0.01,
                40.8 + (i // 10) * 0.01,
                111.61 + (i % 10) * 0.01,
                40.81 + (i // 10) * 0.01,
            )
            for i in range(100)
        ],
        crs="EPSG:4326",
    )
    codes = np.array([None, None, None, "red", "yellow;pink", "green"], dtype=object)
    households = pd.DataFrame(
        {
            "household_id": [f"H{i:07d}" for i in range(n)],
            "categories": codes[rng.integers(0, len(codes), n)],
            "building": "1",
            "last_visit": "2026-11-20",
            "overdue": False,
            "lon": 111.6 + rng.random(n) * 0.1,
            "lat": 40.8 + rng.random(n) * 0.1,
        }
    )
    html = map_html(build_map(grids, households, as_of=dt.date(2026, 11, 27), points_min_zoom=0))
    url = f"{app_server.url}/__bench_map.html"
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    start = time.monotonic()
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)
    seconds = time.monotonic() - start
    assert page.evaluate("window.gridmapStats.markers") == n
    assert seconds < 10, f"100k households took {seconds:.1f} s to draw"


def test_the_offline_guard_catches_external_requests(page, app_server, offline):
    page.goto(app_server.url)
    page.evaluate("fetch('https://data.streamlit.io/metrics.json').catch(() => null)")
    page.wait_for_timeout(300)
    assert any("data.streamlit.io" in url for url in offline.external)
    offline.external.clear()  # this test made the request on purpose
