"""The phone view 今日走访 and the data page in Chromium (served alone until stage 2 registers them).

At 390x844 a grid worker's list has no element wider than the viewport, no horizontal
scroll, and touch targets at least 44 px high; two taps log a visit. Screenshots are
written next to the test's tmp folder (``$DATADESK_SHOTS`` to keep them).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from conftest import start_server, stop_server
from datadesk import digest  # noqa: F401
from signin import ensure_user

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


def serve(monkeypatch, demo, page: str, user: str):
    folder, location = demo
    monkeypatch.setenv("DATADESK_PAGE", page)
    monkeypatch.setenv("DATADESK_USER", user)
    return start_server(
        location, folder, script="tests/datadesk_harness.py", name=page.replace("/", "_")
    )


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


def test_phone_view_at_390_logs_a_visit_in_two_taps(chromium, monkeypatch, demo, tmp_path):
    server = serve(monkeypatch, demo, "pages/today.py", "worker")
    try:
        context = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
        page = context.new_page()
        page.goto(server.url)
        rows = page.locator('[class*="st-key-today_pick_"] button')
        rows.first.wait_for(timeout=60_000)
        count_before = rows.count()
        assert count_before > 0
        page.screenshot(path=str(shots_dir(tmp_path) / "today-390.png"), full_page=True)
        layout = page.evaluate(WIDEST)
        assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
        assert layout["widest"] <= PHONE["width"] + 0.5, layout
        heights = [
            b["height"] for b in rows.evaluate_all("els => els.map(e => e.getBoundingClientRect())")
        ]
        assert min(heights) >= MIN_TOUCH_PX
        first_label = rows.first.inner_text()
        rows.first.click()  # tap 1
        kind = page.locator('[class*="st-key-today_kind_home_0"] button')
        kind.wait_for(timeout=30_000)
        assert kind.bounding_box()["height"] >= MIN_TOUCH_PX
        page.get_by_text("备注").wait_for(timeout=30_000)
        page.wait_for_timeout(300)  # let the rerun's fade-out end (the picture only)
        page.screenshot(path=str(shots_dir(tmp_path) / "today-390-open.png"), full_page=True)
        kind.click()  # tap 2
        page.get_by_text("已记录").wait_for(timeout=30_000)
        household = first_label.split(" ")[0]
        # the list is redrawn after the message: wait until its first row is another household
        page.wait_for_function(
            """(id) => {
              const b = document.querySelector('[class*="st-key-today_pick_0"] button');
              return b && !b.innerText.startsWith(id);
            }""",
            arg=household,
            timeout=30_000,
        )
        page.screenshot(path=str(shots_dir(tmp_path) / "today-390-logged.png"), full_page=True)
        visits = open_store(demo[1]).read("visits", where={"household_id": household})
        assert visits["kind"].tolist()[-1] == "入户"
        context.close()
    finally:
        stop_server(server.process)


def test_upload_preview_commit_in_the_browser(chromium, monkeypatch, demo, tmp_path):
    folder, location = demo
    store = open_store(location)
    home = store.read("households", ["household_id"]).iloc[0].geometry
    good = tmp_path / "新住户.csv"
    good.write_text(
        f"户编号,经度,纬度,类别\nHNEW1,{home.x},{home.y},红\nHNEW2,{home.x},{home.y},黄\n",
        encoding="utf-8",
    )
    bad = tmp_path / "坏文件.csv"
    bad.write_text(f"户编号,经度,纬度,类别\nHBAD1,东经,{home.y},红\n", encoding="utf-8")
    # earlier tests wrote: fold their WAL into the file now, so that no reader's checkpoint
    # changes the file's bytes while the hash below is compared (no server is running here)
    with sqlite3.connect(location) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    server = serve(monkeypatch, demo, "pages/data.py", "root")
    try:
        context = chromium.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.goto(server.url)
        page.get_by_text("检查并预览").wait_for(timeout=60_000)
        page.locator('[class*="st-key-ds_kind"]').click()
        page.get_by_role("option", name="住户").click()
        # a bad file: its problem in a table, a download, nothing written
        before = digest(location)
        page.locator('[class*="st-key-ds_file_upload"] input[type="file"]').set_input_files(
            str(bad)
        )
        page.get_by_text("坏文件.csv").first.wait_for(timeout=30_000)
        page.get_by_role("button", name="检查并预览").click()
        page.get_by_text("处问题").wait_for(timeout=60_000)
        page.get_by_role("button", name="下载问题表").wait_for(timeout=30_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-problems.png"), full_page=True)
        assert digest(location) == before
        # a good file: the counts, then the import
        page.locator('[class*="st-key-ds_file_upload"] input[type="file"]').set_input_files(
            str(good)
        )
        page.get_by_text("新住户.csv").first.wait_for(timeout=30_000)
        page.get_by_role("button", name="检查并预览").click()
        page.get_by_role("button", name="确认导入").wait_for(timeout=60_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-preview.png"), full_page=True)
        page.get_by_role("button", name="确认导入").click()
        page.get_by_text("已导入").wait_for(timeout=60_000)
        ids = set(open_store(location).read("households", ["household_id"])["household_id"])
        assert {"HNEW1", "HNEW2"} <= ids
        context.close()
    finally:
        stop_server(server.process)


def test_data_page_desktop_screenshot(chromium, monkeypatch, demo, tmp_path):
    server = serve(monkeypatch, demo, "pages/data.py", "root")
    try:
        context = chromium.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        page.goto(server.url)
        page.get_by_text("检查并预览").wait_for(timeout=60_000)
        page.get_by_role("tab", name="模板下载").click()
        page.get_by_role("button", name="下载“住户”模板（XLSX）").wait_for(timeout=30_000)
        page.screenshot(path=str(shots_dir(tmp_path) / "data-1500-templates.png"), full_page=True)
        context.close()
    finally:
        stop_server(server.process)


def test_reverification_on_a_phone(chromium, monkeypatch, demo, tmp_path):
    server = serve(monkeypatch, demo, "pages/verify.py", "worker")
    try:
        context = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
        page = context.new_page()
        page.goto(server.url)
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
        assert actions[-1] == "mark_verified"
        context.close()
    finally:
        stop_server(server.process)


def test_quick_report_on_a_phone(chromium, monkeypatch, demo, tmp_path):
    server = serve(monkeypatch, demo, "pages/snap.py", "worker")
    try:
        context = chromium.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=2)
        page = context.new_page()
        page.goto(server.url)
        page.get_by_label("什么事").wait_for(timeout=60_000)
        page.get_by_label("什么事").fill("楼道堆物")
        page.get_by_label("什么事").press("Enter")
        file = page.get_by_role("button", name="上报")
        page.wait_for_function(
            "() => { const b = [...document.querySelectorAll('button')].find(x => x.innerText === '上报');"
            " return b && !b.disabled; }",
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
    finally:
        stop_server(server.process)
