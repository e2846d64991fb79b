"""The data desk in Chromium, signed in through the app: the phone pages at 390x844 and an upload.

At 390x844 a grid worker's pages have no element wider than the viewport, no horizontal
scroll, and touch targets at least 44 px high; two taps log a visit. Screenshots are
written next to the test's tmp folder (``$DATADESK_SHOTS`` to keep them).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import LOCAL_HOSTS, start_server, stop_server
from signin import ensure_user, sign_in_form

from geo.demo.build import build_demo
from geo.store import open_store

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
MIN_TOUCH_PX = 44


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo store with a grid worker (first grid of the first community) and an admin."""
    folder = tmp_path_factory.mktemp("datadesk-browser")
    location = str(folder / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=600)
    first_grid = sorted(store.read_attributes("grids", ["grid_id"])["grid_id"])[0]
    ensure_user(location, "worker", "grid_worker", grids=[first_grid])
    ensure_user(location, "root", "admin")
    return folder, location


@pytest.fixture(scope="module")
def server(demo):
    """The app (server.py) on the demo store; stopped by its PID afterwards."""
    folder, location = demo
    running = start_server(location, folder, name="datadesk")
    yield running
    stop_server(running.process)


def open_as(chromium, server, path: str, user: str, viewport: dict):
    """A new browser context signed in as ``user`` on the page ``/path``; (context, page)."""
    context = chromium.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=2)
    page = context.new_page()
    sign_in_form(page, f"{server.url}/{path}", user)
    return context, page


def shots_dir(tmp_path) -> Path:
    folder = Path(os.environ.get("DATADESK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


WIDEST = """() => {
  let widest = 0, name = '';
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > widest) { widest = r.right; name = el.tagName + '.' + el.className; }
  }
  return {widest, name, scroll: document.scrollingElement.scrollWidth,
          client: document.scrollingElement.clientWidth};
}"""


def test_phone_view_at_390_logs_a_visit_in_two_taps(chromium, server, demo, tmp_path):
    context, page = open_as(chromium, server, "today", "worker", PHONE)
    rows = page.locator('[class*="st-key-today_pick_"] button')
    rows.first.wait_for(timeout=60_000)
    assert rows.count() > 0
    page.screenshot(path=str(shots_dir(tmp_path) / "today-390.png"), full_page=True)
    layout = page.evaluate(WIDEST)
    assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
    assert layout["widest"] <= PHONE["width"] + 0.5, layout
    heights = [
        b["height"] for b in rows.evaluate_all("els => els.map(e => e.getBoundingClientRect())")
    ]
    assert min(heights) >= MIN_TOUCH_PX
    household = rows.first.inner_text().split(" ")[0]
    rows.first.click()  # tap 1
    kind = page.locator('[class*="st-key-today_kind_home_0"] button')
    kind.wait_for(timeout=30_000)
    assert kind.bounding_box()["height"] >= MIN_TOUCH_PX
    page.get_by_text("备注").wait_for(timeout=30_000)
    page.wait_for_timeout(300)  # let the rerun's fade-out end (the picture only)
    page.screenshot(path=str(shots_dir(tmp_path) / "today-390-open.png"), full_page=True)
    kind.click()  # tap 2
    page.get_by_text("已记录").wait_for(timeout=30_000)
    # the list is redrawn after the message: wait until its first row is another household
    page.wait_for_function(
        """(id) => {
          const b = document.querySelector('[class*="st-key-today_pick_0"] button');
          return !b || !b.innerText.startsWith(id);
        }""",
        arg=household,
        timeout=30_000,
    )
    page.screenshot(path=str(shots_dir(tmp_path) / "today-390-logged.png"), full_page=True)
    visits = open_store(demo[1]).read("visits", where={"household_id": household})
    assert visits["kind"].tolist()[-1] == "入户"
    context.close()


def test_upload_preview_commit_in_the_browser(chromium, server, demo, tmp_path):
    location = demo[1]
    store = open_store(location)
    home = store.read("households", ["household_id"]).iloc[0].geometry
    good = tmp_path / "新住户.csv"
    good.write_text(
        f"户编号,经度,纬度,类别\nHNEW1,{home.x},{home.y},红\nHNEW2,{home.x},{home.y},黄\n",
        encoding="utf-8",
    )
    bad = tmp_path / "坏文件.csv"
    bad.write_text(f"户编号,经度,纬度,类别\nHBAD1,东经,{home.y},红\n", encoding="utf-8")
    context, page = open_as(chromium, server, "data", "root", {"width": 1500, "height": 1000})
    page.get_by_text("检查并预览").wait_for(timeout=60_000)
    page.locator('[class*="st-key-ds_kind"]').click()
    page.get_by_role("option", name="住户").click()
    # a bad file: its problem in a table, a download, nothing written (the store's write
    # counter and its rows; the byte-for-byte hash is asserted without a server running,
    # in test_datadesk_pages, since a server's reader may fold the WAL into the file)
    before = (store.version(), store.count("households"), store.count("audit_log"))
    page.locator('[class*="st-key-ds_file_upload"] input[type="file"]').set_input_files(str(bad))
    page.get_by_text("坏文件.csv").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="检查并预览").click()
    page.get_by_text("处问题").wait_for(timeout=60_000)
    page.get_by_role("button", name="下载问题表").wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-problems.png"), full_page=True)
    assert (store.version(), store.count("households"), store.count("audit_log")) == before
    # a good file: the counts, then the import
    page.locator('[class*="st-key-ds_file_upload"] input[type="file"]').set_input_files(str(good))
    page.get_by_text("新住户.csv").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)  # the upload's own rerun, before the button reads the file
    page.get_by_role("button", name="检查并预览").click()
    try:
        page.get_by_text("预览：新住户.csv").wait_for(timeout=60_000)
        page.get_by_role("button", name="确认导入").wait_for(timeout=30_000)
        # the map: the file's two points (blue) over the stored grids (grey outlines)
        drawn = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').locator(
            "path.leaflet-interactive"
        )
        drawn.first.wait_for(timeout=60_000)
        assert drawn.count() > 2
    except Exception:
        page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-stuck.png"), full_page=True)
        raise
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-preview.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("已导入").wait_for(timeout=60_000)
    ids = set(open_store(location).read("households", ["household_id"])["household_id"])
    assert {"HNEW1", "HNEW2"} <= ids
    context.close()


def test_data_page_templates(chromium, server, tmp_path):
    context, page = open_as(chromium, server, "data", "root", {"width": 1500, "height": 1000})
    page.get_by_text("检查并预览").wait_for(timeout=60_000)
    page.get_by_role("tab", name="模板下载").click()
    button = page.get_by_role("button", name="下载“住户”模板（XLSX）")
    button.wait_for(timeout=30_000)
    page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-templates.png"), full_page=True)
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / "template.xlsx"
    download.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"  # an XLSX (a zip)
    context.close()


def test_reverification_on_a_phone(chromium, server, demo, tmp_path):
    context, page = open_as(chromium, server, "verify", "worker", PHONE)
    same = page.get_by_role("button", name="已核实，无变化")
    same.wait_for(timeout=60_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots_dir(tmp_path) / "verify-390.png"), full_page=True)
    layout = page.evaluate(WIDEST)
    assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
    assert same.bounding_box()["height"] >= MIN_TOUCH_PX
    same.click()
    page.get_by_text("已核实（无变化）").wait_for(timeout=30_000)
    actions = open_store(demo[1]).read("audit_log")["action"].tolist()
    assert "mark_verified" in actions[-3:]
    context.close()


def test_quick_report_on_a_phone(chromium, server, demo, tmp_path):
    context, page = open_as(chromium, server, "snap", "worker", PHONE)
    what = page.get_by_label("什么事")
    what.wait_for(timeout=60_000)
    what.fill("楼道堆物")
    what.press("Enter")
    file = page.get_by_role("button", name="上报")
    page.wait_for_function(
        "() => { const b = [...document.querySelectorAll('button')]"
        ".find(x => x.innerText === '上报'); return b && !b.disabled; }",
        timeout=30_000,
    )
    page.screenshot(path=str(shots_dir(tmp_path) / "snap-390.png"), full_page=True)
    layout = page.evaluate(WIDEST)
    assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
    assert file.bounding_box()["height"] >= MIN_TOUCH_PX
    file.click()
    page.get_by_text("已上报").wait_for(timeout=30_000)
    assert "楼道堆物" in open_store(demo[1]).read("reports")["category"].tolist()
    context.close()


def test_quick_report_at_the_phones_position(chromium, server, demo, tmp_path):
    store = open_store(demo[1])
    grid = store.read("grids", ["grid_id"]).sort_values("grid_id").iloc[0]
    inside = grid.geometry.representative_point()  # in the worker's own grid
    context = chromium.new_context(
        viewport=PHONE,
        locale="zh-CN",
        device_scale_factor=2,
        geolocation={"longitude": inside.x, "latitude": inside.y, "accuracy": 12},
        permissions=["geolocation"],
    )
    page = context.new_page()
    sign_in_form(page, f"{server.url}/snap", "worker")
    what = page.get_by_label("什么事")
    what.wait_for(timeout=60_000)
    what.fill("路灯不亮")
    what.press("Enter")
    page.get_by_text("手机定位").click()
    locate = page.frame_locator('iframe[title="ui.geolocate.gridmap_geolocate"]').get_by_role(
        "button", name="获取我的位置"
    )
    locate.wait_for(timeout=60_000)
    locate.click()
    page.get_by_text("已定位").wait_for(timeout=30_000)
    page.screenshot(path=str(shots_dir(tmp_path) / "snap-390-here.png"), full_page=True)
    page.get_by_role("button", name="上报").click()
    page.get_by_text("已上报").wait_for(timeout=30_000)
    filed = open_store(demo[1]).read("reports")
    filed = filed[filed["category"] == "路灯不亮"]
    assert len(filed) == 1
    assert abs(filed.geometry.iloc[0].x - inside.x) < 1e-6
    assert filed["grid_id"].iloc[0] == grid["grid_id"]
    context.close()


MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
MAP_READY = "document.documentElement.getAttribute('data-gridmap-ready') === '1'"


def refuse_external(context, refused: list[str]) -> None:
    """Abort (and record) every request that would leave the machine."""

    def guard(route) -> None:
        if urlparse(route.request.url).hostname not in LOCAL_HOSTS and urlparse(
            route.request.url
        ).scheme in {"http", "https", "ws", "wss"}:
            refused.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)


def test_quick_report_by_a_tap_on_the_map(chromium, server, demo, tmp_path):
    store = open_store(demo[1])
    grid = store.read("grids", ["grid_id"]).sort_values("grid_id").iloc[0]
    inside = grid.geometry.representative_point()  # in the worker's own grid
    context = chromium.new_context(
        viewport=PHONE, locale="zh-CN", device_scale_factor=2, has_touch=True
    )
    refused: list[str] = []
    refuse_external(context, refused)
    page = context.new_page()
    sign_in_form(page, f"{server.url}/snap", "worker")
    what = page.get_by_label("什么事")
    what.wait_for(timeout=60_000)
    what.fill("井盖破损")
    what.press("Enter")
    page.get_by_text("在地图上点选").click()
    frame = page.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(MAP_READY, timeout=60_000)
    page.get_by_text("在地图上点一下事发位置").wait_for(timeout=30_000)
    x, y = frame.evaluate(
        "([lon, lat]) => { const p = window.map.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [inside.x, inside.y],
    )
    page.locator(MAP_IFRAME).scroll_into_view_if_needed()
    box = page.query_selector(MAP_IFRAME).bounding_box()  # in the viewport, after the scroll
    assert 0 < x < box["width"] and 0 < y < box["height"], (x, y, box)
    # the zoom buttons are a finger's size (the map's own frame gets the touch CSS)
    zoom = frame.locator(".leaflet-control-zoom-in")
    assert zoom.bounding_box()["height"] >= MIN_TOUCH_PX
    page.touchscreen.tap(box["x"] + x, box["y"] + y)  # the tap
    page.get_by_text("已选定位置：网格").wait_for(timeout=30_000)
    # the tapped point is drawn as the picker's marker (the reports page's)
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=30_000)
    page.get_by_text("已选定位置：网格").scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # the rerun's fade-out (the picture only)
    page.screenshot(path=str(shots_dir(tmp_path) / "snap-390-map.png"), full_page=True)
    layout = page.evaluate(WIDEST)
    assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
    assert layout["widest"] <= PHONE["width"] + 0.5, layout
    file = page.get_by_role("button", name="上报")
    assert file.bounding_box()["height"] >= MIN_TOUCH_PX
    file.click()
    page.get_by_text("已上报").wait_for(timeout=30_000)
    filed = open_store(demo[1]).read("reports")
    filed = filed[filed["category"] == "井盖破损"]
    assert len(filed) == 1 and filed["grid_id"].iloc[0] == grid["grid_id"]
    point = filed.geometry.iloc[0]
    # within about two screen pixels of the target at the map's zoom (~4 m a pixel or less)
    assert abs(point.x - inside.x) < 1e-4 and abs(point.y - inside.y) < 1e-4, (point, inside)
    assert refused == []
    context.close()


_WATCH_BAR = """() => {
  window.__gmBar = [];
  const seen = () => {
    for (const b of document.querySelectorAll('[data-testid="stProgress"] [role="progressbar"]'))
      window.__gmBar.push(Number(b.getAttribute('aria-valuenow')));
  };
  new MutationObserver(seen).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow']});
}"""


def test_the_preview_of_a_big_file_moves_a_progress_bar(chromium, server, demo, tmp_path):
    store = open_store(demo[1])
    minx, miny, maxx, maxy = store.read("grids", ["grid_id"]).total_bounds
    rows = 60_000
    big = tmp_path / "大文件.csv"
    with big.open("w", encoding="utf-8") as out:
        out.write("户编号,经度,纬度,类别,地址\n")
        for i in range(rows):
            x = minx + (maxx - minx) * ((i * 7919) % rows) / rows
            y = miny + (maxy - miny) * ((i * 104729) % rows) / rows
            out.write(f"HBIG{i:06d},{x:.6f},{y:.6f},黄,某路{i % 90 + 1}号\n")
    context, page = open_as(chromium, server, "data", "root", {"width": 1500, "height": 1000})
    page.get_by_text("检查并预览").wait_for(timeout=60_000)
    page.locator('[class*="st-key-ds_kind"]').click()
    page.get_by_role("option", name="住户").click()
    page.locator('[class*="st-key-ds_file_upload"] input[type="file"]').set_input_files(str(big))
    page.get_by_text("大文件.csv").first.wait_for(timeout=60_000)
    button = page.get_by_role("button", name="检查并预览")
    page.wait_for_timeout(500)  # the upload's own rerun, before the button reads the file
    page.evaluate(_WATCH_BAR)
    button.click()
    # while the file is checked: the bar stands part way, saying what is being done
    page.get_by_text("正在与库中已有记录比对").wait_for(timeout=120_000)
    page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-preview-progress.png"))
    page.get_by_text("预览：大文件.csv").wait_for(timeout=120_000)
    page.get_by_text("文件已检查完毕").wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-preview-checked.png"))
    values = page.evaluate("window.__gmBar")
    assert any(0 < v < 100 for v in values), values  # the bar moved with the checking
    assert values[-1] == 100
    context.close()
