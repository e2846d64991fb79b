"""Fixtures for browser tests (marker ``browser``): a running app on a demo store, and Chromium.

The demo store gets an admin account (``ADMIN``); ``signin.browser_sign_in`` signs a page in.

The app is started as a subprocess whose PID we keep, waited on through
``/_stcore/health`` and stopped by that PID. Every browser page fails the test on any
request that leaves the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEMO_HOUSEHOLDS = 3000
ADMIN = "test_admin"  # the account app_server creates (password: signin.PASSWORD)


@dataclass
class AppServer:
    """A running ``streamlit run server.py`` on a demo store."""

    url: str
    location: str
    process: subprocess.Popen
    log: Path


@dataclass
class Offline:
    """Requests the page tried to send off the machine (all of them are aborted)."""

    external: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"the app did not answer its health check in {timeout} s:\n{log.read_text(errors='replace')}"
    )


def start_server(
    location: str, workdir: Path, script: str = "server.py", name: str = "server"
) -> AppServer:
    """``streamlit run <script>`` on ``location``, on a free localhost port, healthy; stop it with
    ``stop_server``. server.py is how ``gridmap serve`` runs the app (cookie routes included)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / f"{name}-{port}.log"
    env = {**os.environ, "GRIDMAP_DB": location}
    env.pop("GRIDMAP_TILES", None)  # no base map: nothing may leave the machine
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / script),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(url, process, log)
    except BaseException:
        stop_server(process)
        raise
    return AppServer(url, location, process, log)


def stop_server(process: subprocess.Popen) -> None:
    """Stop a server started by ``start_server`` (by its PID)."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> Iterator[AppServer]:
    """The app on a small demo store, on a free localhost port; stopped (by PID) afterwards."""
    from signin import ensure_user

    from geo.demo.build import build_demo
    from geo.store import open_store

    workdir = tmp_path_factory.mktemp("app")
    location = str(workdir / "demo.gpkg")
    build_demo(open_store(location), households=DEMO_HOUSEHOLDS)
    ensure_user(
        location, ADMIN, "admin"
    )  # tests sign in (signin.browser_sign_in); more accounts on demand
    server = start_server(location, workdir)
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by playwright (never ``playwright install``)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("GRIDMAP_REQUIRE_BROWSER") == "1":  # CI: a missing browser is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def offline() -> Offline:
    """The off-machine requests seen by ``page`` (asserted empty after the test)."""
    return Offline()


@pytest.fixture
def page(chromium, offline) -> Iterator[object]:
    """A fresh browser page that aborts and records every request leaving the machine."""
    context = chromium.new_context(viewport={"width": 1500, "height": 1800}, locale="zh-CN")

    def guard(route) -> None:
        url = route.request.url
        if (
            urlparse(url).scheme in {"http", "https", "ws", "wss"}
            and urlparse(url).hostname not in LOCAL_HOSTS
        ):
            offline.external.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    # requests that bypass routing (e.g. from service workers) are caught here
    page.on(
        "request",
        lambda request: (
            offline.external.append(request.url)
            if urlparse(request.url).scheme in {"http", "https"}
            and urlparse(request.url).hostname not in LOCAL_HOSTS
            else None
        ),
    )
    yield page
    context.close()
    assert offline.external == [], f"requests left the machine: {offline.external}"
