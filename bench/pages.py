"""The map page in Chromium against a real ``gridmap`` server: first load, drill-down, filters.

``python -m bench.pages --db STORE [--root CODE_DIR]`` starts ``streamlit run server.py``
from ``CODE_DIR`` (default: this checkout) on ``STORE``, opens the map page in headless
Chromium with every non-loopback request refused, and times what a leader does:

- ``page_first_load_s``: the very first page of the freshly started server, from
  navigation to the drawn map (the map script's ``data-gridmap-ready``) with the page's
  script run finished;
- ``page_drilldown_s``: choosing the first entry of the top drill-down selector;
- ``page_filter_s``: choosing one care category over the whole area;
- ``page_overdue_s``: switching on "only overdue" over the whole area;
- ``page_reopen_s``: the page opened again in a new tab (its data cached by then);
- ``app_rss_mb``: the server's resident memory (process and children) at the end.

An account is made on the store first (``gridmap user add``, role ``--role``, a random
password; the code in ``CODE_DIR`` makes it), and the first load is timed from the sign-in
form's submit (the first page of the session) to the drawn map. Prints one JSON object
(``PAGES_RESULT {...}``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
# the map has drawn and is not the one marked before the last action
NEW_MAP_READY = (
    "() => document.documentElement.getAttribute('data-gridmap-ready') === '1'"
    " && window.gridmapStats !== undefined && window.gridmapStats !== window.__benchSeen"
)
MAP_READY = "() => document.documentElement.getAttribute('data-gridmap-ready') === '1'"
MARK_MAP = "() => { window.__benchSeen = window.gridmapStats; }"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def app_server(
    location: str, root: Path = ROOT, port: int | None = None, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen, float]]:
    """``streamlit run server.py`` of the code in ``root`` on ``location``.

    Yields (url, process, seconds until the health check answered); stops it by its PID.
    """
    port = port or free_port()
    env = dict(os.environ, GRIDMAP_DB=location, PYTHONPATH=str(root))
    out = open(log or os.devnull, "wb")  # noqa: SIM115 - closed below
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(root / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    start = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early (see {log})")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer its health check in 120 s")
            time.sleep(0.1)
        yield url, process, round(time.perf_counter() - start, 3)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.close()


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants, MB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
    return round(total_kb / 1024, 1)


def offline(page) -> list[str]:
    """Refuse every request that leaves loopback; returns the list the refused URLs go to."""
    external: list[str] = []

    def guard(route, request) -> None:
        if request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            external.append(request.url)
            route.abort()

    page.route("**/*", guard)
    return external


def map_frame(page, timeout_s: float, new: bool = True):
    """The map iframe's frame once a map (``new``: drawn since the last ``mark``) is ready."""
    deadline = time.monotonic() + timeout_s
    ready = NEW_MAP_READY if new else MAP_READY
    while time.monotonic() < deadline:
        try:
            handles = page.query_selector_all(MAP_IFRAME)
        except Exception:  # the page navigating (the sign-in): look again
            handles = []
        for handle in handles:
            try:
                frame = handle.content_frame()
                if frame is not None and frame.evaluate(ready):
                    return frame
            except Exception:  # a frame being replaced: look again
                pass
        time.sleep(0.02)
    raise TimeoutError(f"no newly drawn map within {timeout_s:.0f} s")


SCRIPT_STATE = (
    "(document.querySelector('[data-testid=\"stApp\"]') || document.body)"
    ".getAttribute('data-test-script-state')"
)


def run_finished(page, timeout_s: float) -> None:
    """Wait until Streamlit's script run has ended (the app root's script state)."""
    page.wait_for_function(
        f"() => {SCRIPT_STATE} === 'notRunning'", timeout=timeout_s * 1000, polling=20
    )


def mark(page) -> None:
    """Remember the maps on the page, so that the next wait is for a new one."""
    for handle in page.query_selector_all(MAP_IFRAME):
        frame = handle.content_frame()
        if frame is not None:
            with contextlib.suppress(Exception):
                frame.evaluate(MARK_MAP)


RUNNING = f"() => ['running', 'rerunRequested'].includes({SCRIPT_STATE})"


def timed_step(page, action, timeout_s: float) -> float:
    """Seconds from ``action()`` to the page's script run finished with a drawn map: a newly
    drawn one when the map is redrawn, else the one on the page once the run has ended (a
    map whose data st_folium swaps in place keeps its document)."""
    with contextlib.suppress(Exception):  # a page navigating away: nothing to mark
        mark(page)
    start = time.perf_counter()
    action()
    with contextlib.suppress(Exception):  # the rerun starts (or a new map is already there)
        page.wait_for_function(RUNNING, timeout=5000, polling=10)
    run_finished(page, timeout_s)
    map_frame(page, timeout_s, new=False)
    return round(time.perf_counter() - start, 3)


def choose(page, label: str, option_index: int = 1, option_text: str | None = None) -> None:
    """Open the selectbox labelled ``label`` and pick an option (by text, else by position)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator('[role="combobox"], input').first.click()
    options = page.locator('[role="option"]')
    options.first.wait_for(timeout=30_000)
    target = (
        options.filter(has_text=option_text).first
        if option_text is not None
        else options.nth(option_index)
    )
    target.click()


def choose_multi(page, label: str, option_text: str) -> None:
    """Add ``option_text`` to the multiselect labelled ``label``."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label).first
    box.locator('[role="combobox"], input').first.click()
    page.locator('[role="option"]').filter(has_text=option_text).first.click()
    page.keyboard.press("Escape")


def toggle(page, label: str) -> None:
    """Flip the toggle labelled ``label``."""
    page.locator('[data-testid="stCheckbox"]').filter(has_text=label).first.locator(
        "label"
    ).first.click()


def add_account(location: str, root: Path, role: str) -> tuple[str, str]:
    """A new account of ``role`` on the store, made by the code in ``root``: (name, password)."""
    name = f"bench{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    subprocess.run(
        [sys.executable, "-m", "geo.cli", "user", "add", name, "--role", role, "--password-stdin"]
        + ["--db", location],
        cwd=root,
        env=dict(os.environ, PYTHONPATH=str(root)),
        input=password + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return name, password


def sign_in(page, url: str, name: str, password: str, timeout_s: float) -> None:
    """Open ``url`` and fill the sign-in form (not submitted: the caller times the submit)."""
    page.goto(url, wait_until="commit")
    page.locator('input[type="password"]').wait_for(timeout=timeout_s * 1000)
    page.locator('[data-testid="stTextInput"] input').first.fill(name)
    page.locator('input[type="password"]').fill(password)


def submit(page) -> None:
    """Submit the sign-in form."""
    page.locator('[data-testid="stFormSubmitButton"] button').first.click()


def measure(
    location: str,
    root: Path = ROOT,
    *,
    role: str = "street_leader",
    drill_label: str = "街道",
    category: str = "独居老人",
    overdue_label: str = "只看走访逾期户",
    category_label: str = "关爱类别",
    timeout_s: float = 180.0,
    log: Path | None = None,
    screenshots: Path | None = None,
) -> dict:
    """Every page step against a fresh server of the code in ``root``; None for a step that failed."""
    from playwright.sync_api import sync_playwright

    out: dict = {"root": str(root), "notes": []}
    name, password = add_account(location, root, role)
    with app_server(location, root, log=log) as (url, process, healthy_s):
        out["server_healthy_s"] = healthy_s
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
            page = context.new_page()
            external = offline(page)
            sign_in(page, url, name, password, timeout_s)
            steps = (
                ("page_first_load_s", lambda: submit(page)),
                ("page_drilldown_s", lambda: choose(page, drill_label)),
                ("page_back_to_all_s", lambda: choose(page, drill_label, option_index=0)),
                ("page_filter_s", lambda: choose_multi(page, category_label, category)),
                ("page_overdue_s", lambda: toggle(page, overdue_label)),
            )
            for key, action in steps:
                try:
                    out[key] = timed_step(page, action, timeout_s)
                except Exception as exc:  # a step that fails is a result, not a crash
                    out[key] = None
                    out["notes"].append(f"{key}: {type(exc).__name__}: {str(exc)[:200]}")
                if screenshots is not None:
                    page.screenshot(path=str(screenshots / f"{key}.png"))
            reopened = context.new_page()
            offline(reopened)
            try:
                out["page_reopen_s"] = timed_step(
                    reopened, lambda: reopened.goto(url, wait_until="commit"), timeout_s
                )
            except Exception as exc:
                out["page_reopen_s"] = None
                out["notes"].append(f"page_reopen_s: {type(exc).__name__}: {str(exc)[:200]}")
            if external:
                out["notes"].append(f"refused {len(external)} external request(s): {external[0]}")
            browser.close()
        out["app_rss_mb"] = tree_rss_mb(process.pid)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", required=True, help="the store the server opens")
    parser.add_argument("--root", type=Path, default=ROOT, help="the code to serve")
    parser.add_argument("--drill-label", default="街道")
    parser.add_argument("--role", default="street_leader", help="the account the bench signs in as")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--log", type=Path, help="the server's output goes here")
    parser.add_argument("--screenshots", type=Path, help="a PNG per step goes here")
    args = parser.parse_args(argv)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    result = measure(
        args.db,
        args.root.resolve(),
        role=args.role,
        drill_label=args.drill_label,
        timeout_s=args.timeout,
        log=args.log,
        screenshots=args.screenshots,
    )
    print("PAGES_RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
