"""Markup in the data, in a real browser (marker ``browser``): every page shows it as text.

No live link or image to evil.example, no script run (no JavaScript dialog), no request
leaving the machine (the ``page`` fixture aborts and records any), on every page and in
the map, for a hostile store (tests/hostile.py) seen by an admin whose own name is hostile.
"""

from __future__ import annotations

import re

import pytest
from conftest import start_server, stop_server
from hostile import ADMIN, GRID_ID, PAYLOADS, build_hostile_store
from signin import sign_in_form
from test_browser import MAP_IFRAME, READY, click_grid

pytestmark = pytest.mark.browser

LIVE = """() => {
  const bad = [];
  const docs = [document, ...Array.from(document.querySelectorAll('iframe'))
    .map(f => { try { return f.contentDocument; } catch (e) { return null; } }).filter(Boolean)];
  for (const doc of docs) {
    for (const a of doc.querySelectorAll('a[href]'))
      // (a heading's own anchor, "#...", is a place on this page, not a link out)
      if (/evil/.test(a.getAttribute('href')) && !a.getAttribute('href').startsWith('#'))
        bad.push('link ' + a.getAttribute('href'));
    for (const img of doc.querySelectorAll('img'))
      if (/evil|^x$/.test(img.getAttribute('src') || '')) bad.push('img ' + img.getAttribute('src'));
    for (const s of doc.querySelectorAll('script'))  // the map's own script holds the names as data
      if (/alert\\(/.test(s.textContent) && !/gridmapDraw\\(/.test(s.textContent))
        bad.push('script ' + s.textContent.slice(0, 60));
    for (const el of doc.querySelectorAll('[onerror]')) bad.push('onerror ' + el.outerHTML.slice(0, 60));
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A server (server.py) on the hostile demo store."""
    workdir = tmp_path_factory.mktemp("hostile-browser")
    location = build_hostile_store(str(workdir / "hostile.gpkg"))
    server = start_server(location, workdir, name="hostile")
    try:
        yield server
    finally:
        stop_server(server.process)


def _text(page) -> str:
    """What a reader sees (the invisible word joiners of ``ui.text.md`` left out)."""
    return page.inner_text("body").replace("\u2060", "")


def _settled(page) -> None:
    page.locator("h1").first.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")


def test_every_page_shows_markup_from_the_data_as_text(page, hostile_server, tmp_path):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in_form(page, hostile_server.url, ADMIN)
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    seen_as_text = set()
    for path in ["/", "/reports", "/cases", "/coverage", "/weekly", "/audit"]:
        if path != "/":
            page.goto(hostile_server.url + path)
        _settled(page)
        assert page.evaluate(LIVE) == [], path
        body = _text(page)
        seen_as_text |= {p for p in PAYLOADS if p in body}
        page.screenshot(path=str(tmp_path / f"hostile{path.replace('/', '_')}.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
    # the drill-down into the hostile grid: its name and party branch, as text
    page.goto(hostile_server.url)
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    assert click_grid(page, frame, 0) == GRID_ID  # a click on the map opens the grid
    page.locator("h3", has_text=GRID_ID.split(":")[0]).wait_for(timeout=60_000)
    _settled(page)
    assert page.evaluate(LIVE) == []
    body = _text(page)
    seen_as_text |= {p for p in PAYLOADS if p in body}
    page.screenshot(path=str(tmp_path / "hostile_grid.png"), full_page=True)
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(READY, timeout=60_000)
    # a grid's tooltip is HTML that Leaflet opens on hover: its names are escaped in it
    tooltips = frame.evaluate(
        """() => { const out = []; window.map.eachLayer(l => {
             const tip = l.getTooltip && l.getTooltip();
             if (tip) out.push(String(tip.getContent())); }); return out; }"""
    )
    assert tooltips and any("evil.example" in tip for tip in tooltips)
    assert [tip for tip in tooltips if re.search(r"<(?:img|script|a)\b", tip)] == []
    assert page.evaluate(LIVE) == []
    assert dialogs == []
    # the payloads reached the pages as the text they are (tables draw on a canvas: not here)
    assert {PAYLOADS[0], PAYLOADS[2]} <= seen_as_text and len(seen_as_text) >= 3
