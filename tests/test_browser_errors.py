"""An error in a real server (marker ``browser``): the user reads a short Chinese message with
a reference; the server log holds the same reference with the trace. No traceback, no
exception text, no "Ask Google / Ask ChatGPT" link reaches the browser."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import ADMIN, start_server, stop_server
from signin import sign_in_form

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"参考编号 (E-[0-9A-F]{8})")
LEAKS = ["Traceback", "Error", "sqlite", "Ask Google", "Ask ChatGPT", ".gpkg", 'File "']


def test_a_broken_store_gives_a_reference_not_a_traceback(page, app_server, tmp_path):
    location = str(tmp_path / "copy.gpkg")
    for suffix in ("", "-wal", "-shm"):
        try:
            shutil.copy(app_server.location + suffix, location + suffix)
        except FileNotFoundError:
            pass
    server = start_server(location, tmp_path, name="broken")
    try:
        sign_in_form(page, server.url + "/coverage", ADMIN)
        page.locator("h1", has_text="网格覆盖与走访").wait_for(timeout=60_000)
        page.get_by_label("户编号").fill("H0000001")
        # the store breaks under the running app (a disk fault, a copy over it ...)
        for suffix in ("-wal", "-shm"):
            shutil.rmtree(location + suffix, ignore_errors=True)
        with open(location, "r+b") as store_file:
            store_file.write(b"this is no database" * 64)
        page.get_by_role("button", name="登记走访").click()  # a widget callback reads the store
        page.get_by_text("参考编号").first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        body = page.inner_text("body")
        references = REFERENCE.findall(body)
        assert references
        assert [leak for leak in LEAKS if leak in body] == []
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(tmp_path / "error.png"), full_page=True)
    finally:
        stop_server(server.process)
    log = server.log.read_text(errors="replace")
    for reference in references:
        at = log.index(f"reference {reference}")
        assert "Traceback" in log[at : at + 4000]  # the trace follows its reference
