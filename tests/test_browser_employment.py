"""Browser test of the new-employment page (marker ``browser``): the outlets, the stations and
their reach are drawn on the map, offline, from the app's own static files."""

import pytest
from conftest import ADMIN
from signin import sign_in_form

from geo.store import open_store

pytestmark = pytest.mark.browser

MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def test_outlets_and_stations_are_drawn(page, app_server, offline):
    store = open_store(app_server.location)
    sign_in_form(page, app_server.url, ADMIN)
    page.get_by_role("link", name="新就业群体").click()
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(
        "() => document.documentElement.getAttribute('data-gridmap-employment')", timeout=60_000
    )
    stats = frame.evaluate("() => window.gridmapEmploymentStats")
    assert stats["outlets"] == store.count("outlets") > 0
    assert stats["stations"] == store.count("stations") > 0
    assert stats["outletsDrawn"] > 0 and stats["stationsDrawn"] > 0
    assert stats["circlesDrawn"] > 0  # the reach of the open stations
    # the layer's canvas holds coloured pixels (not only an empty transparent surface)
    painted = frame.evaluate(
        """() => {
          const c = document.querySelector('.leaflet-gmEmployment-pane canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
          return n;
        }"""
    )
    assert painted > 1000
    legend = frame.inner_text("#gm-legend-employment")
    assert "红蜂驿站" in legend and "顺丰速运" in legend
    assert offline.external == []


def test_an_outlet_under_the_pointer_shows_it_can_be_clicked(page, app_server, offline):
    """Over an outlet the cursor is a pointer and the grid's tooltip steps aside (the
    households' layer, empty on this page, must not take the hover away); a click opens
    the outlet's popup."""
    sign_in_form(page, app_server.url, ADMIN)
    page.get_by_role("link", name="新就业群体").click()
    iframe = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000)
    frame = iframe.content_frame()
    frame.wait_for_function(
        "() => document.documentElement.getAttribute('data-gridmap-employment')"
        " && document.documentElement.getAttribute('data-gridmap-ready') === '1'",
        timeout=60_000,
    )
    # an outlet drawn inside the map, clear of the legends and controls
    x, y = frame.evaluate(
        """() => {
          const E = window.gridmapEmployment, size = window.gridmapMap.getSize();
          for (let i = 0; i < E._pts.o.length; i++) {
            const p = E._pts.o[i];
            const target = document.elementFromPoint(p.x, p.y);
            if (p.x > 60 && p.y > 60 && p.x < size.x - 60 && p.y < size.y - 60 &&
                target && !target.closest(".leaflet-control-container") &&
                E.hit(p).kind === "o") return [p.x, p.y];
          }
          return null;
        }"""
    )
    box = iframe.bounding_box()
    page.mouse.move(box["x"] + x - 4, box["y"] + y - 4)
    page.mouse.move(box["x"] + x, box["y"] + y)
    frame.wait_for_timeout(300)
    assert frame.evaluate("getComputedStyle(window.gridmapMap.getContainer()).cursor") == "pointer"
    assert frame.evaluate(
        "() => [...document.querySelectorAll('.gm-tip')].every("
        "t => getComputedStyle(t).visibility === 'hidden')"
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    popup = frame.wait_for_selector(".gm-popup .leaflet-popup-content", timeout=5_000)
    assert "顺丰" in popup.inner_text() or "km" in popup.inner_text()
    assert offline.external == []
