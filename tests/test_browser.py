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
from geo.outputs.map.build import build_map
from geo.outputs.map.leaflet import map_html
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


_WATCH_RUNS = """() => {
  window.__gmSawRun = false;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__gmSawRun = true;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_RUN_DONE = """() => window.__gmSawRun && !['running', 'rerunRequested'].includes(
  document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'))"""


def rerun_after(page, action) -> None:
    """Do ``action`` (which reruns the script) and wait until that rerun has finished."""
    page.evaluate(_WATCH_RUNS)
    action()
    page.wait_for_function(_RUN_DONE, timeout=60_000)


def map_frame(page):
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    return frame


def test_a_filter_updates_the_drawn_map_without_reloading_it(page, app_server):
    frame = open_map(page, app_server.url)
    frame.evaluate("window.__sameMap = true")
    zoom = frame.evaluate("window.map.getZoom()")
    rerun_after(page, lambda: page.get_by_text("只看走访逾期户", exact=True).click())
    frame = map_frame(page)
    overdue = open_store(app_server.location).read("households", ["household_id"])
    from geo.care.rules import household_status
    from geo.timeutil import today

    status = household_status(open_store(app_server.location), today())
    expected = int(status["overdue"].fillna(False).astype(bool).sum())
    assert 0 < expected < len(overdue)
    frame.wait_for_function(f"window.gridmapStats.markers === {expected}", timeout=30_000)
    assert frame.evaluate("window.__sameMap") is True  # the same map, updated in place
    assert frame.evaluate("window.map.getZoom()") == zoom  # a filter keeps the view


def standalone_map(page, app_server, fmap, name: str):
    """Open a map built by build_map as its own page on the app's origin (its static files load)."""
    url = f"{app_server.url}/__{name}.html"
    html = map_html(fmap)
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)


def checkerboard(columns: int = 12, rows: int = 4) -> gpd.GeoDataFrame:
    """columns x rows square grids of 0.004 degrees (about 330 m), in one community."""
    n = columns * rows
    cells = [(i % columns, i // columns) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "grid_id": [f"G{i:02d}" for i in range(n)],
            "name": [str(i + 1) for i in range(n)],
            "community": "东风社区",
            "households": 200,
            "visit_rate": [0.5 + 0.5 * ((x + y) % 5) / 4 for x, y in cells],
        },
        geometry=[
            box(111.6 + x * 0.004, 40.8 + y * 0.004, 111.604 + x * 0.004, 40.804 + y * 0.004)
            for x, y in cells
        ],
        crs="EPSG:4326",
    )


def households_in(grids: gpd.GeoDataFrame, per_grid: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for grid_id, geom in zip(grids["grid_id"], grids.geometry, strict=True):
        minx, miny, maxx, maxy = geom.bounds
        for j in range(per_grid):
            rows.append(
                {
                    "household_id": f"{grid_id}-{j}",
                    "grid_id": grid_id,
                    "categories": ["red", "yellow", None][j % 3],
                    "building": "1",
                    "last_visit": "2026-11-20",
                    "overdue": j % 4 == 0,
                    "lon": minx + (maxx - minx) * rng.uniform(0.2, 0.8),
                    "lat": miny + (maxy - miny) * rng.uniform(0.2, 0.8),
                }
            )
    return pd.DataFrame(rows)


def test_legends_leave_every_grid_label_clear(page, app_server):
    page.set_viewport_size({"width": 1040, "height": 640})
    grids = checkerboard(13, 6)  # about the map's shape: the grids reach its corners
    standalone_map(
        page,
        app_server,
        build_map(grids, households_in(grids), fill="visit_rate", as_of=dt.date(2026, 11, 27)),
        "legends",
    )
    covered = page.evaluate(
        """() => {
          const boxes = ['gm-legend', 'gm-legend-fill']
            .map(id => document.getElementById(id))
            .filter(e => e && e.offsetWidth)
            .map(e => e.getBoundingClientRect());
          const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
          const labels = Array.from(document.querySelectorAll('.gm-label span')).map(e => e.getBoundingClientRect());
          return [boxes.length, labels.length, labels.filter(l => boxes.some(b => hit(l, b))).length];
        }"""
    )
    assert covered[0] == 2 and covered[1] == len(grids)  # both legends, every label shown
    assert covered[2] == 0


def test_a_top_row_tooltip_stays_inside_the_map(page, app_server):
    page.set_viewport_size({"width": 1040, "height": 640})
    grids = checkerboard(4, 12)  # tall: the top row touches the map's top edge
    standalone_map(page, app_server, build_map(grids, households_in(grids, 0)), "tooltips")
    for corner in ("topleft", "topright"):
        x, y, grid_id = page.evaluate(
            """(corner) => {
              // just inside the top row's first or last grid, by the map's edge
              const map = window.gridmapMap; let best = null;
              map.eachLayer(l => {
                if (!(l.feature && l.feature.properties && l.feature.properties.i)) return;
                const b = l.getBounds();
                const p = map.latLngToContainerPoint([b.getNorth(), corner === 'topleft' ? b.getWest() : b.getEast()]);
                const score = p.y * 10000 + (corner === 'topleft' ? p.x : -p.x);
                if (!best || score < best[3]) {
                  best = [p.x + (corner === 'topleft' ? 12 : -12), p.y + 10, l.feature.properties.i, score];
                }
              });
              return best.slice(0, 3);
            }""",
            corner,
        )
        box_ = page.query_selector(".folium-map").bounding_box()
        page.mouse.move(box_["x"] + x, box_["y"] + y)
        tip = page.locator(".gm-tip", has_text=f"{grid_id} · ")
        tip.wait_for(timeout=10_000)
        inside = tip.evaluate(
            """(t) => { const r = t.getBoundingClientRect();
              const m = window.gridmapMap.getContainer().getBoundingClientRect();
              return [r.top >= m.top, r.left >= m.left, r.right <= m.right, r.bottom <= m.bottom]; }"""
        )
        assert inside == [True, True, True, True], corner


def test_a_community_users_first_map_frames_their_community(page, app_server):
    community = open_store(app_server.location).read("grids", ["community"])["community"].iloc[0]
    frame = open_map(
        page, app_server.url, app_server.location, "community_staff", community=community
    )
    filled = frame.evaluate(
        """() => { const map = window.map; let bounds = null;
          map.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.i)
            bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds().getSouthWest(), l.getBounds().getNorthEast()); });
          const a = map.latLngToContainerPoint(bounds.getNorthWest()), b = map.latLngToContainerPoint(bounds.getSouthEast());
          const size = map.getSize();
          return [(b.x - a.x) / size.x, (b.y - a.y) / size.y, a.x >= 0 && a.y >= 0 && b.x <= size.x && b.y <= size.y]; }"""
    )
    width, height, inside = filled
    assert inside  # the whole community in view ...
    # ... filling the map (80% of its width with whole zoom levels before; 96% now)
    assert max(width, height) > 0.9


def test_the_heat_map_is_scaled_to_the_data(page, app_server, tmp_path):
    # the demo street office's 450 reports: red nearly everywhere when each cell saturated at 1
    from geo.demo.build import build_demo

    store = open_store(str(tmp_path / "demo.gpkg"))
    build_demo(store)
    grids, reports = store.read("grids"), store.read("reports")
    points = pd.DataFrame(
        {
            "report_id": reports["report_id"],
            "state": "open",
            "category": reports["category"],
            "source": reports["source"],
            "reported_at": reports["reported_at"],
            "lon": reports.geometry.x,
            "lat": reports.geometry.y,
        }
    )
    page.set_viewport_size({"width": 1040, "height": 640})
    fmap = build_map(grids, households_in(grids, 0), points, heat=True, as_of=dt.date(2026, 11, 27))
    standalone_map(page, app_server, fmap, "heat")
    page.wait_for_function("!!document.querySelector('canvas.leaflet-heatmap-layer')")
    coloured, red = page.evaluate(
        """() => { const c = document.querySelector('canvas.leaflet-heatmap-layer');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let coloured = 0, red = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] < 40) continue;
            coloured++;
            if (d[i] > 200 && d[i + 1] < 90 && d[i + 2] < 90) red++;
          }
          return [coloured, red]; }"""
    )
    assert coloured > 0
    assert red / coloured < 0.07  # the densest cells are red (14.5% of the heat before), not most


def test_the_tooltip_names_the_grid_the_pointer_stopped_on(page, app_server):
    # Leaflet's canvas drops mousemoves within 32 ms of the last one it handled: a pointer
    # stopping just after crossing into a grid kept the previous grid's tooltip
    page.set_viewport_size({"width": 1040, "height": 640})
    grids = checkerboard()
    standalone_map(page, app_server, build_map(grids, households_in(grids, 0)), "hover")
    shown = page.evaluate(
        """() => new Promise(done => {
          const map = window.gridmapMap, at = id => {
            let layer = null;
            map.eachLayer(l => { if (l.feature && l.feature.properties && l.feature.properties.i === id) layer = l; });
            return map.latLngToContainerPoint(layer.getBounds().getCenter());
          };
          const canvas = document.querySelector('.leaflet-overlay-pane canvas');
          const box = map.getContainer().getBoundingClientRect();
          const move = p => canvas.dispatchEvent(new MouseEvent('mousemove', {
            bubbles: true, clientX: box.left + p.x, clientY: box.top + p.y}));
          move(at('G00'));
          move(at('G01'));  // the pointer stops in the next grid, a moment later
          setTimeout(() => done(Array.from(document.querySelectorAll('.gm-tip'))
            .filter(t => getComputedStyle(t).opacity !== '0').map(t => t.innerText.split(' ')[0])), 300);
        })"""
    )
    assert shown == ["G01"]
