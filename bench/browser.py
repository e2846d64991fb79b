"""Time-to-drawn-map in headless Chromium, served from loopback with every other request refused."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves <workdir>/... and the repository's static/ at /app/static/ (as Streamlit does)."""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0]
        if clean.startswith("/app/static/"):
            return str(ROOT / "static" / clean[len("/app/static/") :])
        return super().translate_path(path)

    def log_message(self, *args) -> None:  # quiet
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """A loopback HTTP server for ``directory``; yields its base URL."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def draw_times(
    base_url: str, pages: dict[str, tuple[str, str]], timeout_s: float
) -> dict[str, tuple[float | None, str]]:
    """Seconds from navigation to a drawn map for each page: name -> (path, ready JS expression).

    Returns name -> (seconds or None, note). A page that issues a non-loopback request
    fails (the maps must work offline).
    """
    from playwright.sync_api import sync_playwright

    results: dict[str, tuple[float | None, str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, (path, ready) in pages.items():
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            external: list[str] = []

            def guard(route, request, external=external):
                if request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
                    route.continue_()
                else:
                    external.append(request.url)
                    route.abort()

            page.route("**/*", guard)
            start = time.perf_counter()
            try:
                page.goto(f"{base_url}/{path}", wait_until="load", timeout=timeout_s * 1000)
                remaining = max(1.0, timeout_s - (time.perf_counter() - start))
                page.wait_for_function(ready, timeout=remaining * 1000, polling=50)
                # one more frame so the canvas has been painted
                page.evaluate(
                    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                elapsed = time.perf_counter() - start
                note = (
                    ""
                    if not external
                    else f"blocked {len(external)} external request(s), e.g. {external[0]}"
                )
                results[name] = (None, note) if external else (round(elapsed, 3), "")
            except Exception as exc:  # a timeout is a result, not a crash
                results[name] = (None, f"not drawn within {timeout_s:.0f} s ({type(exc).__name__})")
            finally:
                page.close()
        browser.close()
    return results
