"""``python -m bench --interactions``: seconds from a control to the updated view, per role, in Chromium.

Builds the demo street office (18,000 households unless told otherwise) in a scratch
store with one account per role, starts the app on a free loopback port (stopped by its
PID), and drives headless Chromium at 1500x1000 (390x844 for the grid worker's phone)
through the controls of a working day. Each interaction is timed from the moment the
control is used until the view has settled: the script run it caused has finished, no
element is stale, every map on the page has drawn (``data-gridmap-ready``) and nothing
changed for ``QUIET_MS``; that quiet period is not counted. Prints one line per
interaction and the slowest against the target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "bench-password-1"
TARGET_S = 1.0
QUIET_MS = 400  # the view must stay unchanged this long to count as settled (not timed)
DESKTOP = {"width": 1500, "height": 1000}
PHONE = {"width": 390, "height": 844}
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'

# Runs in the page: starts the clock, then watches every animation frame whether the view
# has settled (a run seen and finished, nothing stale, every map drawn); remembers since when.
_ARM = """(needRun) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const w = window.__gmBench = {t0: performance.now(), sawRun: !needRun, since: null, done: false};
  const running = () => ['running', 'rerunRequested'].includes(app.getAttribute('data-test-script-state'));
  const observer = new MutationObserver(() => {
    if (running()) w.sawRun = true; else if (w.sawRun) w.runEnd = performance.now();
  });
  observer.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  const maps = () => Array.from(document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]'));
  const drawn = (f) => {
    try { return f.contentDocument.documentElement.getAttribute('data-gridmap-ready') === '1'; }
    catch (e) { return false; }
  };
  const settled = () => w.sawRun && !running()
    && !document.querySelector('[data-stale="true"]')
    && maps().every(drawn);
  const tick = () => {
    const now = performance.now();
    if (settled()) { if (w.since === null) w.since = now; }
    else w.since = null;
    if (w.since !== null && now - w.since >= QUIET_MS) { w.done = true; observer.disconnect(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}""".replace("QUIET_MS", str(QUIET_MS))
_SECONDS = """() => [(window.__gmBench.since - window.__gmBench.t0) / 1000,
  window.__gmBench.runEnd ? (window.__gmBench.runEnd - window.__gmBench.t0) / 1000 : null]"""


@dataclass
class Result:
    """One timed interaction."""

    role: str
    page: str
    what: str
    seconds: float | None
    run_seconds: float | None = None  # until the script run ended (the rest: drawing)
    note: str = ""


# --- the app under test ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_store(location: str, households: int) -> None:
    """The demo street office plus one bench account per role (no demo mode)."""
    from geo.access.auth import add_user
    from geo.demo.build import build_demo
    from geo.store import open_store

    store = open_store(location)
    build_demo(store, households=households)
    grids = store.read_attributes("grids", ["grid_id", "community"])
    community = str(grids["community"].iloc[0])
    worker_grids = grids.loc[grids["community"] == community, "grid_id"].astype(str).tolist()[:2]
    for name, role, scope in (
        ("bench_admin", "admin", {}),
        ("bench_leader", "street_leader", {}),
        ("bench_community", "community_staff", {"community": community}),
        ("bench_worker", "grid_worker", {"grids": worker_grids}),
        ("bench_planner", "planner", {}),
        ("bench_meeting", "meeting", {}),
    ):
        add_user(store, name, role, PASSWORD, actor="bench", **scope)


@contextlib.contextmanager
def running_app(location: str) -> Iterator[str]:
    """``streamlit run app.py`` on ``location`` at a free loopback port; stopped by its PID."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GRIDMAP_DB": location}
    env.pop("GRIDMAP_TILES", None)
    log = Path(location).with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                "--server.headless", "true", "--server.address", "127.0.0.1",
                "--server.port", str(port), "--browser.gatherUsageStats", "false",
            ],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the app did not start within 60 s") from None
                time.sleep(0.2)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- driving Streamlit -------------------------------------------------------------------


def settle(page, timeout_s: float = 60) -> None:
    """Wait until the view has settled after whatever was just done (not timed)."""
    page.evaluate(_ARM, False)
    page.wait_for_function("() => window.__gmBench.done", timeout=timeout_s * 1000, polling=50)


def timed(page, action: Callable[[], object], timeout_s: float = 60) -> tuple[float, float | None]:
    """Seconds from ``action`` to the settled view it causes, and to the end of its script run.

    An action may be a pair (prepare, act): only ``act`` is timed (e.g. opening a select
    box's list is the user's reading time, choosing in it is the control).
    """
    if isinstance(action, tuple):
        prepare, action = action
        prepare()
    page.evaluate(_ARM, True)
    action()
    page.wait_for_function("() => window.__gmBench.done", timeout=timeout_s * 1000, polling=50)
    total, run = page.evaluate(_SECONDS)
    return round(total, 3), None if run is None else round(run, 3)


def sign_in(page, url: str, name: str) -> None:
    """Open the app and sign in as ``name`` (zh-CN labels); waits until the first page settled."""
    page.goto(url)
    page.locator('input[aria-label="用户名"]').fill(name)
    page.locator('input[aria-label="密码"]').fill(PASSWORD)
    page.evaluate(_ARM, True)
    page.get_by_role("button", name="登录").click()
    page.wait_for_function("() => window.__gmBench.done", timeout=90_000, polling=50)


def open_page(page, title: str) -> None:
    """Go to a page through the navigation (a reload would sign out), and let it settle."""
    link = page.get_by_test_id("stSidebarNavLink").filter(has_text=title).first
    if link.get_attribute("aria-current") == "page":
        return
    box = link.bounding_box()
    folded = box is None or box["x"] + box["width"] <= 0  # the phone layout folds the sidebar
    if folded:
        page.get_by_test_id("stExpandSidebarButton").click()
        page.wait_for_function(
            """(title) => Array.from(document.querySelectorAll('[data-testid="stSidebarNavLink"]'))
                .some(l => l.textContent.includes(title) && l.getBoundingClientRect().left >= 0)""",
            arg=title,
        )
    page.evaluate(_ARM, True)
    link.click()
    page.wait_for_function("() => window.__gmBench.done", timeout=90_000, polling=50)
    if folded:  # fold it again, as a phone user does, so it covers nothing
        page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
        page.wait_for_function(
            """() => document.querySelector('[data-testid="stSidebar"]')
                .getBoundingClientRect().right <= 0"""
        )


def choose(page, label: str, option: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """An action: pick ``option`` in the select box labelled ``label`` (opening it: untimed)."""

    def prepare() -> None:
        page.get_by_role("combobox", name=label, exact=True).first.click()
        page.get_by_role("option", name=option, exact=True).first.wait_for()

    return prepare, lambda: page.get_by_role("option", name=option, exact=True).first.click()


def pick(page, label: str, option: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """An action: add ``option`` to the multiselect labelled ``label`` (opening it: untimed)."""
    return choose(page, label, option)


def click_text(page, text: str) -> Callable[[], None]:
    """An action: click the control whose label is ``text`` (toggle, radio, checkbox)."""
    return lambda: page.get_by_text(text, exact=True).first.click()


def radio(page, label: str, option: str) -> Callable[[], None]:
    """An action: choose ``option`` of the radio group labelled ``label``."""
    group = page.locator('[data-testid="stRadio"]').filter(has_text=label).first
    return lambda: group.get_by_text(option, exact=True).first.click()


def press(page, name: str) -> Callable[[], None]:
    """An action: press the button called ``name``."""
    return lambda: page.get_by_role("button", name=name, exact=True).first.click()


def table_row(page, heading: str, row: int) -> Callable[[], None]:
    """An action: tick row ``row`` (0 = first) of the selectable table under ``heading``."""

    def act() -> None:
        grid = page.locator(
            f'xpath=//*[contains(normalize-space(.), "{heading}")]/following::*[@data-testid="stDataFrame"][1]'
        )
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 * (row + 1) + 17)

    return act


def click_grid(page, index: int) -> Callable[[], None]:
    """An action: click inside the ``index``-th grid of the page's map, away from any point or
    report marker (a click on those opens their popup instead)."""

    def act() -> None:
        page.query_selector(MAP_IFRAME).scroll_into_view_if_needed()
        frame = page.query_selector(MAP_IFRAME).content_frame()
        x, y = frame.evaluate(
            """(index) => {
              const grids = [], taken = [], map = window.map, households = window.gridmapHouseholds;
              map.eachLayer(l => {
                if (l.feature && l.feature.properties && l.feature.properties.i) grids.push(l);
                if (l instanceof L.Marker && l._gm !== undefined) taken.push(map.latLngToContainerPoint(l.getLatLng()));
              });
              if (map.hasLayer(households)) {
                for (let i = 0; i < households.size(); i++) taken.push(households.containerPoint(i));
              }
              const g = grids[index % grids.length], b = g.getBounds();
              let best = null, bestDistance = -1;
              for (let i = 2; i <= 8; i++) for (let j = 2; j <= 8; j++) {
                const p = map.latLngToContainerPoint([
                  b.getSouth() + (b.getNorth() - b.getSouth()) * i / 10,
                  b.getWest() + (b.getEast() - b.getWest()) * j / 10]);
                if (!g._containsPoint(map.containerPointToLayerPoint(p))) continue;
                let d = Infinity;
                for (const q of taken) d = Math.min(d, p.distanceTo(q));
                if (d > bestDistance) { bestDistance = d; best = p; }
              }
              return [best.x, best.y];
            }""",
            index,
        )
        box = page.query_selector(MAP_IFRAME).bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)

    return act


# --- the working day ---------------------------------------------------------------------

Step = tuple[str, Callable]  # (what, page -> action)


def type_in(page, label: str, text: str) -> Callable[[], None]:
    """An action: type ``text`` into the text input labelled ``label`` and press Enter."""

    def act() -> None:
        field = page.locator(f'input[aria-label="{label}"]')
        field.fill(text)
        field.press("Enter")

    return act


def file_report_steps(point: tuple[float, float]) -> list[Step]:
    """File a report at ``point``, then walk it through every step (the panel shows it)."""
    where = f"{point[0]:.6f}, {point[1]:.6f}"
    submit = "登记诉求|仍作为新诉求登记"
    return [
        ("填写位置", lambda p: type_in(p, "位置（经度, 纬度）", where)),
        (
            "登记诉求",
            lambda p: (
                lambda: p.get_by_role("button", name=re.compile(f"^({submit})$")).first.click()
            ),
        ),
        ("记录响应", lambda p: press(p, "记录响应")),
        ("记录办结", lambda p: press(p, "记录办结")),
        # choosing 满意 reruns nothing (it is read when the follow-up is recorded)
        ("满意 → 记录回访", lambda p: (radio(p, "回访满意度", "满意"), press(p, "记录回访"))),
    ]


def _plans(location: str) -> list[tuple[str, str, dict, list[tuple[str, list[Step]]]]]:
    """(account, role, viewport, [(page, steps)]) for every role of a working day."""
    from geo.store import open_store

    store = open_store(location)
    grids = store.read("grids", ["grid_id", "name", "community"])
    community = str(grids["community"].iloc[0])
    mine = grids[grids["community"] == community]
    second = mine.iloc[1]
    grid_label = f"{second['grid_id']} · {second['name']}"
    inside = [g.representative_point() for g in mine.geometry]
    leader_map: list[Step] = [
        ("社区 → " + community, lambda p: choose(p, "社区", community)),
        ("网格 → " + second["grid_id"], lambda p: choose(p, "网格", grid_label)),
        ("类别 + 独居老人", lambda p: pick(p, "关爱类别", "独居老人")),
        ("只看走访逾期户", lambda p: click_text(p, "只看走访逾期户")),
        ("网格着色 → 走访达标率", lambda p: choose(p, "网格着色", "走访达标率")),
        ("社区 → 全部", lambda p: choose(p, "社区", "全部")),
        ("叠加民情诉求", lambda p: click_text(p, "叠加民情诉求")),
        ("点击地图上的网格", lambda p: click_grid(p, 5)),
    ]
    leader_reports: list[Step] = [
        ("时间 → 近30天", lambda p: radio(p, "上报时间", "近30天")),
        ("选中列表第 1 行", lambda p: table_row(p, "诉求列表", 0)),
        *file_report_steps((inside[2].x, inside[2].y)),
    ]
    coverage: list[Step] = [
        ("层级 → 社区", lambda p: radio(p, "查看层级", "按社区")),
        ("层级 → 网格", lambda p: radio(p, "查看层级", "按网格")),
        ("选中走访清单第 1 行", lambda p: table_row(p, "走访工作清单", 0)),
        ("登记走访", lambda p: press(p, "登记走访")),
    ]
    aggregate_map: list[Step] = [
        ("网格着色 → 走访达标率", lambda p: choose(p, "网格着色", "走访达标率")),
        ("社区 → " + community, lambda p: choose(p, "社区", community)),
        ("网格 → " + second["grid_id"], lambda p: choose(p, "网格", grid_label)),
        ("社区 → 全部", lambda p: choose(p, "社区", "全部")),
    ]
    worker_grid = mine.iloc[0]
    return [
        (
            "bench_leader",
            "street_leader",
            DESKTOP,
            [("彩虹地图", leader_map), ("民情诉求", leader_reports), ("覆盖与走访", coverage)],
        ),
        (
            "bench_community",
            "community_staff",
            DESKTOP,
            [
                ("彩虹地图", leader_map[1:5]),
                ("民情诉求", [("选中列表第 1 行", lambda p: table_row(p, "诉求列表", 0))]),
                ("覆盖与走访", coverage[2:3]),
            ],
        ),
        (
            "bench_worker",
            "grid_worker (390x844)",
            PHONE,
            [
                (
                    "彩虹地图",
                    [
                        ("只看走访逾期户", lambda p: click_text(p, "只看走访逾期户")),
                        ("类别 + 独居老人", lambda p: pick(p, "关爱类别", "独居老人")),
                    ],
                ),
                (
                    "民情诉求",
                    file_report_steps(
                        (
                            worker_grid.geometry.representative_point().x,
                            worker_grid.geometry.representative_point().y,
                        )
                    ),
                ),
                ("覆盖与走访", coverage[2:]),
            ],
        ),
        ("bench_planner", "planner", DESKTOP, [("彩虹地图", aggregate_map)]),
        ("bench_meeting", "meeting", DESKTOP, [("彩虹地图", aggregate_map[:3])]),
        (
            "bench_leader",
            "leader, meeting mode",
            DESKTOP,
            [
                (
                    "彩虹地图",
                    [("会议模式", lambda p: click_text(p, "会议模式")), *aggregate_map[1:3]],
                )
            ],
        ),
        (
            "bench_admin",
            "admin",
            DESKTOP,
            [("审计日志", [("操作 → 登录", lambda p: choose(p, "操作", "登录"))])],
        ),
    ]


def run_interactions(
    url: str, location: str, roles: set[str] | None = None, rounds: int = 1
) -> list[Result]:
    """Every role's working day in Chromium, ``rounds`` times; one Result per interaction."""
    from playwright.sync_api import sync_playwright

    results: list[Result] = []
    plans = [
        p for p in _plans(location) if roles is None or p[1].split(" ")[0].rstrip(",") in roles
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for account, role, viewport, pages in [p for _ in range(rounds) for p in plans]:
            context = browser.new_context(viewport=viewport, locale="zh-CN")
            page = context.new_page()
            sign_in(page, url, account)
            for page_title, steps in pages:
                open_page(page, page_title)
                for what, make in steps:
                    try:
                        seconds, run = timed(page, make(page))
                        results.append(Result(role, page_title, what, seconds, run))
                    except Exception as exc:  # a failed step is a result, not a crash
                        results.append(
                            Result(role, page_title, what, None, None, type(exc).__name__)
                        )
                        settle(page)
                    print(_line(results[-1]), flush=True)
            context.close()
        browser.close()
    return results


def summary(results: list[Result]) -> list[tuple[str, str, str, float, float, int]]:
    """Per interaction: (role, page, what, median s, slowest s, rounds timed)."""
    import statistics

    rows: dict[tuple[str, str, str], list[float]] = {}
    for r in results:
        rows.setdefault((r.role, r.page, r.what), [])
        if r.seconds is not None:
            rows[(r.role, r.page, r.what)].append(r.seconds)
    return [
        (
            *key,
            statistics.median(times) if times else float("nan"),
            max(times, default=float("nan")),
            len(times),
        )
        for key, times in rows.items()
    ]


def _line(r: Result) -> str:
    seconds = "—" if r.seconds is None else f"{r.seconds:6.2f}"
    run = "" if r.run_seconds is None else f" (run {r.run_seconds:.2f})"
    flag = "" if r.seconds is None or r.seconds <= TARGET_S else "  over target"
    return f"{r.role:<22} {r.page:<8} {r.what:<24} {seconds} s{run}{flag}{'  ' + r.note if r.note else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench --interactions")
    parser.add_argument(
        "--households", type=int, default=None, help="demo size (default: the demo's)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--url", help="time an app already running here (with --db, holding the bench accounts)"
    )
    parser.add_argument("--db", help="the store of the app at --url")
    parser.add_argument("--only", help="only the roles named (comma-separated)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="walk every role's day this many times (median)"
    )
    args = parser.parse_args(argv)
    roles = set(args.only.split(",")) if args.only else None
    load_before = os.getloadavg()
    if args.url:
        results = run_interactions(args.url, args.db, roles, args.rounds)
    else:
        with tempfile.TemporaryDirectory(prefix="gridmap-interactions-") as tmp:
            location = str(Path(tmp) / "demo.gpkg")
            build_store(location, args.households)
            with running_app(location) as url:
                results = run_interactions(url, location, roles, args.rounds)
    rows = summary(results)
    print()
    print(f"median and slowest of {args.rounds} round(s), target {TARGET_S:g} s:")
    for role, page_title, what, median, worst, n in rows:
        flag = "  over target" if not median <= TARGET_S else ""
        print(f"{role:<22} {page_title:<8} {what:<24} {median:6.2f} {worst:6.2f} s ({n}){flag}")
    timed_rows = [r for r in rows if r[5]]
    slowest = max(timed_rows, key=lambda r: r[3], default=None)
    print(
        f"\n{len(timed_rows)} of {len(rows)} interactions timed; median over {TARGET_S:g} s: "
        f"{sum(r[3] > TARGET_S for r in timed_rows)}; slowest median "
        + (f"{slowest[3]:.2f} s ({slowest[0]}: {slowest[2]})" if slowest else "—")
        + f"; load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
        f" on {os.cpu_count()} CPUs"
    )
    if args.json:
        args.json.write_text(
            json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2),
            encoding="utf-8",
        )
    return 0 if all(r.seconds is not None for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
