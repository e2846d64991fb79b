"""Issue 15's "Done when", tried as new users would, in one Chromium session of one server.

A fresh demo store whose first admin is made with the CLI (``gridmap user add``). In the
browser, with every request off the machine refused: the admin creates a community clerk
and a grid worker (reading the passwords shown once); the clerk downloads the households
template, fills it (openpyxl) with two rows one of which is bad, uploads it, sees the
problem row pointed to (the store's bytes unchanged), fixes it, uploads it again, sees the
preview with its progress bar, commits; the grid worker, at 390x844, sees today's due
visits, logs two and re-verifies a household; then the map draws the new households,
``gridmap metrics --json`` counts the visits and the verification, and the audit log shows
the accounts, the import (file name and counts), the visits and the verification.
Screenshots go to ``$DATADESK_SHOTS`` (else the test's tmp folder).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import openpyxl
import pytest
from conftest import LOCAL_HOSTS, ROOT, start_server, stop_server
from datadesk import digest
from playwright.sync_api import expect
from signin import sign_in_form

from geo.inputs.assign import assign_to_grids
from geo.store import open_store

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1500, "height": 1000}
MIN_TOUCH_PX = 44
ADMIN, ADMIN_PASSWORD = "chief", "first-admin-pass-1"
CLERK, WORKER = "clerk_dm", "worker_dm"
ORANGE = "残疾人及失能家庭"  # a visit a month: one visit makes a household compliant
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
MAP_READY = "document.documentElement.getAttribute('data-gridmap-ready') === '1'"
WIDEST = """() => {
  let widest = 0;
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > widest) widest = r.right;
  }
  return {widest, scroll: document.scrollingElement.scrollWidth,
          client: document.scrollingElement.clientWidth};
}"""
_WATCH_RUNS = """() => {
  window.__gmSawRun = false;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__gmSawRun = true;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_RUN_DONE = """() => window.__gmSawRun && !['running', 'rerunRequested'].includes(
  document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'))"""


def cli(*args: str, stdin: str | None = None) -> str:
    """``gridmap ARGS`` (this checkout's code); its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    return done.stdout


def metrics(location: str) -> dict:
    return json.loads(cli("metrics", "--db", location, "--json"))


def settled_digest(location: str) -> str:
    """The store's hash after folding its WAL into the file (so a later checkpoint by a
    reader cannot change the bytes of a store nobody wrote to)."""
    with sqlite3.connect(location) as con:
        busy, _log, _moved = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0
    return digest(location)


def rerun_after(page, action) -> None:
    """Do ``action`` (a widget change that reruns the script) and wait until that run ended."""
    page.evaluate(_WATCH_RUNS)
    action()
    page.wait_for_function(_RUN_DONE, timeout=60_000)


def cells(page, header: str | None = None) -> list[str]:
    """The text of the drawn cells of the dataframe with a column ``header`` (else the page's
    only one), read from its accessible table."""
    frames = page.locator('[data-testid="stDataFrame"]')
    if header:
        frames = frames.filter(has=page.locator("th", has_text=header))
    table = frames.locator('[role="gridcell"]')
    table.first.wait_for(state="attached", timeout=30_000)
    return table.all_text_contents()


@pytest.fixture(scope="module")
def walk_store(tmp_path_factory):
    """A fresh demo store whose first admin was made with the CLI; (folder, location, grid,
    community) with the grid the worker and the clerk's new households are in."""
    folder = tmp_path_factory.mktemp("walk")
    location = str(folder / "walk.gpkg")
    cli("demo", "--db", location, "--households", "400")
    cli("user", "add", "--db", location, "--role", "admin", ADMIN, "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n")  # fmt: skip
    grids = open_store(location).read("grids", ["grid_id", "community"]).sort_values("grid_id")
    grid = grids.iloc[0]
    return folder, location, grid, str(grid["community"])


@pytest.fixture(scope="module")
def walk_server(walk_store):
    folder, location, _grid, _community = walk_store
    running = start_server(location, folder, name="walk")
    yield running
    stop_server(running.process)


def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("DATADESK_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(chromium, viewport: dict, refused: list[str], **options):
    """A fresh browser context (its own cookies) refusing every request off the machine."""
    context = chromium.new_context(viewport=viewport, locale="zh-CN", **options)

    def guard(route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in {"http", "https", "ws", "wss"} and url.hostname not in LOCAL_HOSTS:
            refused.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    return context, context.new_page()


_IDLE = """() => !['running', 'rerunRequested'].includes(
  document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'))"""


def idle(page) -> None:
    """Wait until no run of the page's script is under way (widgets are not redrawn under us)."""
    page.wait_for_function(_IDLE, timeout=60_000)


def finger_sized(page, locator) -> None:
    """``locator`` becomes at least MIN_TOUCH_PX high (the page's phone CSS arrives with the
    run that draws it, so it is waited for, not read at once)."""
    page.wait_for_function(
        "([e, px]) => e.getBoundingClientRect().height >= px",
        arg=[locator.element_handle(), MIN_TOUCH_PX],
        timeout=10_000,
    )


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the select box (or multiselect) with ``key``."""
    idle(page)
    box = page.locator(f'[class*="st-key-{key}"] [role="combobox"]')
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def add_account(page, name: str, role_label: str, community: str = "", grid: str = "") -> str:
    """Fill the accounts page's "new account" form; returns the password shown once."""
    idle(page)
    page.locator('[class*="st-key-acc_add_name"] input').fill(name)
    choose(page, "acc_add_role", role_label)
    if community:
        choose(page, "acc_add_community", community)
    if grid:
        choose(page, "acc_add_grids", grid)
        page.keyboard.press("Escape")
    page.get_by_role("button", name="创建账号").click()
    page.get_by_text(f"已创建账号 {name}").wait_for(timeout=60_000)
    password = page.locator('[data-testid="stCode"] code').first.inner_text().strip()
    assert len(password) >= 12
    return password


def fill_template(template: Path, out: Path, rows: list[list[object]]) -> Path:
    """The downloaded template with its example row replaced by ``rows`` (as a clerk types)."""
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    sheet.delete_rows(2, sheet.max_row)
    for row in rows:
        sheet.append([row.get(h.lstrip("*")) for h in header])
    book.save(out)
    return out


def upload_and_check(page, path: Path) -> None:
    """Choose ``path`` in the data page's uploader (removing the file chosen before), wait until
    the page has it (its button turns on), then press "check and preview"."""
    button = page.get_by_role("button", name="检查并预览")
    uploader = page.locator('[class*="st-key-ds_file_upload"]')
    idle(page)
    if uploader.get_by_test_id("stFileUploaderDeleteBtn").count():
        uploader.get_by_test_id("stFileUploaderDeleteBtn").first.click()
        expect(button).to_be_disabled(timeout=30_000)
    uploader.locator('input[type="file"]').set_input_files(str(path))
    expect(button).to_be_enabled(timeout=30_000)
    idle(page)
    button.click()


def test_the_data_desk_walk(chromium, walk_store, walk_server, tmp_path):
    folder, location, grid, community = walk_store
    url = walk_server.url
    refused: list[str] = []
    before = metrics(location)

    # --- the admin creates a community clerk and a grid worker -------------------------
    admin_context, admin = new_page(chromium, DESKTOP, refused)
    sign_in_form(admin, f"{url}/accounts", ADMIN, ADMIN_PASSWORD)
    admin.get_by_role("button", name="创建账号").wait_for(timeout=60_000)
    clerk_password = add_account(admin, CLERK, "社区工作人员", community=community)
    worker_password = add_account(admin, WORKER, "网格员", grid=str(grid["grid_id"]))

    # --- the clerk: template, a bad row, its fix, the preview with its bar, the commit --
    clerk_context, clerk = new_page(chromium, DESKTOP, refused)
    sign_in_form(clerk, f"{url}/data", CLERK, clerk_password)
    clerk.get_by_role("tab", name="模板下载").wait_for(timeout=60_000)
    clerk.get_by_role("tab", name="模板下载").click()
    with clerk.expect_download() as download:
        clerk.get_by_role("button", name="下载“住户”模板（XLSX）").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)
    inside = grid.geometry.representative_point()
    spots = [(round(inside.x + dx, 6), round(inside.y, 6)) for dx in (0.0, 0.0002)]
    assert (
        list(assign_to_grids(*zip(*spots, strict=True), open_store(location).read("grids")))
        == [grid["grid_id"]] * 2
    )
    rows = [
        {"户编号": "HWALK1", "经度": spots[0][0], "纬度": spots[0][1], "类别": ORANGE,
         "地址": "新楼1单元101", "人数": 1},
        {"户编号": "HWALK2", "经度": spots[1][0], "纬度": spots[1][1], "类别": "没有这一类",
         "地址": "新楼1单元102", "人数": 2},
    ]  # fmt: skip
    bad = fill_template(template, tmp_path / "东河新住户.xlsx", rows)
    clerk.get_by_role("tab", name="导入").click()
    choose(clerk, "ds_kind", "住户")
    unchanged = settled_digest(location)
    upload_and_check(clerk, bad)
    clerk.get_by_text("文件有 1 处问题").wait_for(timeout=60_000)
    problem = cells(clerk, "原因")
    assert problem[:2] == ["3", "类别"], problem  # spreadsheet row 3, the column as spelled
    assert "没有这一类" in problem[2]
    clerk.get_by_role("button", name="下载问题表（XLSX，问题写在出错的行旁）").wait_for()
    clerk.wait_for_timeout(300)  # the run's fade-out (the picture only)
    clerk.screenshot(path=str(shots(tmp_path) / "walk-1500-problems.png"), full_page=True)
    assert digest(location) == unchanged  # the bad file left the store byte for byte

    rows[1]["类别"] = ORANGE  # the clerk fixes the row the page pointed to
    fixed = fill_template(template, tmp_path / "东河新住户_改正.xlsx", rows)
    upload_and_check(clerk, fixed)
    clerk.get_by_text(f"预览：{fixed.name}").wait_for(timeout=60_000)
    bar = clerk.locator('[data-testid="stProgress"]')
    bar.wait_for(timeout=30_000)
    assert clerk.get_by_text("文件已检查完毕").is_visible()
    assert bar.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    clerk.get_by_role("button", name="确认导入").wait_for(timeout=30_000)
    clerk.wait_for_timeout(300)
    clerk.screenshot(path=str(shots(tmp_path) / "walk-1500-preview-bar.png"), full_page=True)
    clerk.get_by_role("button", name="确认导入").click()
    clerk.get_by_text(f"已导入 {fixed.name}：2 行").wait_for(timeout=60_000)
    clerk_context.close()

    # --- the grid worker on a phone: today's visits, two logged, one re-verification ----
    worker_context, worker = new_page(
        chromium, PHONE, refused, device_scale_factor=2, has_touch=True
    )
    sign_in_form(worker, f"{url}/today", WORKER, worker_password)
    rows_shown = worker.locator('[class*="st-key-today_pick_"] button')
    rows_shown.first.wait_for(timeout=60_000)
    layout = worker.evaluate(WIDEST)
    assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
    assert layout["widest"] <= PHONE["width"] + 0.5, layout
    worker.screenshot(path=str(shots(tmp_path) / "walk-390-today.png"), full_page=True)
    logged = ["HWALK1", "HWALK2"]  # the clerk's new households are due: a first visit each
    for household in logged:
        row = worker.locator('[class*="st-key-today_row_"]').filter(has_text=household)
        pick = row.locator('[class*="st-key-today_pick_"] button')
        finger_sized(worker, pick)
        idle(worker)
        pick.tap()  # tap 1
        home = row.locator('[class*="st-key-today_kind_home_"] button')
        home.wait_for(timeout=30_000)
        finger_sized(worker, home)
        home.tap()  # tap 2
        worker.get_by_text(f"已记录：{household}").wait_for(timeout=30_000)
        expect(  # the list moves on: the household visited today leaves it
            worker.locator('[class*="st-key-today_row_"]').filter(has_text=household)
        ).to_have_count(0, timeout=30_000)
    worker.goto(f"{url}/verify")  # the session's cookie keeps the worker signed in
    same = worker.get_by_role("button", name="已核实，无变化")
    same.wait_for(timeout=60_000)
    finger_sized(worker, same)
    layout = worker.evaluate(WIDEST)
    assert layout["scroll"] <= layout["client"] <= PHONE["width"], layout
    same.tap()
    verified = worker.get_by_text("已核实（无变化）")
    verified.wait_for(timeout=30_000)
    verified_id = verified.inner_text().split(" ")[0]
    worker.screenshot(path=str(shots(tmp_path) / "walk-390-verified.png"), full_page=True)
    worker_context.close()

    # --- the map, the metrics and the audit log show all of it -------------------------
    admin.goto(f"{url}/")
    frame = admin.wait_for_selector(MAP_IFRAME, state="visible", timeout=60_000).content_frame()
    frame.wait_for_function(MAP_READY, timeout=60_000)
    nearest = frame.evaluate(
        """(spots) => {
          const h = window.gridmapHouseholds;
          return spots.map(([lon, lat]) => {
            let best = Infinity;
            for (let i = 0; i < h.size(); i++) {
              const p = h.latLng(i);
              best = Math.min(best, Math.max(Math.abs(p.lng - lon), Math.abs(p.lat - lat)));
            }
            return best;
          });
        }""",
        spots,
    )
    # both new households are drawn where the file put them (the payload rounds to ~1 m)
    assert max(nearest) < 1e-5, nearest

    after = metrics(location)
    assert after["households"]["total"] == before["households"]["total"] + 2
    visits_before, visits_after = before["visits"]["overall"], after["visits"]["overall"]
    # two more households owe visits, and the two visits logged make both compliant
    assert visits_after["required"] == visits_before["required"] + 2
    assert visits_after["compliant"] == visits_before["compliant"] + 2
    orange_before = before["visits"]["by_category"]["orange"]
    orange_after = after["visits"]["by_category"]["orange"]
    assert orange_after["compliant"] == orange_before["compliant"] + 2
    assert (
        after["freshness"]["verified_within_30_days"]
        == before["freshness"]["verified_within_30_days"] + 1
    )

    admin.goto(f"{url}/audit")
    admin.get_by_text("条记录").first.wait_for(timeout=60_000)

    table = admin.locator('[data-testid="stDataFrame"]')

    def audit_shows(actor: str, *texts: str) -> None:
        """The log filtered to ``actor`` shows each of ``texts`` (its table's cell texts)."""
        choose(admin, "audit_actor", actor)
        for text in texts:
            expect(table).to_contain_text(text, timeout=30_000)

    audit_shows(ADMIN, f"{CLERK}（角色：社区工作人员）", f"{WORKER}（角色：网格员）")
    audit_shows(CLERK, f"住户：{fixed.name} new=2 changed=0 unchanged=0")
    audit_shows(WORKER, "登记走访", *logged, "标记已核实", verified_id)
    admin.screenshot(path=str(shots(tmp_path) / "walk-1500-audit.png"), full_page=True)
    admin_context.close()
    assert refused == []
