"""No traceback reaches a user: a short Chinese message with a reference, the trace in the log."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import pytest
from signin import sign_in
from streamlit.testing.v1 import AppTest

from geo.demo.build import build_demo
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
REFERENCE = re.compile(r"参考编号 (E-[0-9A-F]{8})")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    location = str(tmp_path_factory.mktemp("errors") / "demo.gpkg")
    build_demo(open_store(location), households=300)
    return location


@pytest.mark.parametrize(
    "failure",
    [
        sqlite3.OperationalError("database is locked"),
        PermissionError("/srv/gridmap/data/gridmap.gpkg: AccessDenied"),
        ValueError("invalid literal for int() with base 10: '<3'"),
    ],
    ids=["locked", "denied", "value"],
)
def test_an_unexpected_error_shows_a_reference_and_logs_the_trace(
    demo_store, monkeypatch, caplog, failure
):
    from ui import data

    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), demo_store)

    def fails(*args, **kwargs):
        raise failure

    monkeypatch.setattr(data, "grid_figures", fails)
    with caplog.at_level(logging.ERROR, logger="gridmap.errors"):
        at.run()
    assert not at.exception  # no traceback element
    messages = [e.value for e in at.error]
    assert len(messages) == 1 and "请稍后重试" in messages[0]
    reference = REFERENCE.search(messages[0]).group(1)
    assert str(failure) not in messages[0] and demo_store not in messages[0]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info[1] is failure  # the trace, under the reference
    assert "语言" in " ".join(w.label for w in at.sidebar.selectbox)  # the app still stands


def test_error_details_are_off_for_whatever_escapes():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"


def test_server_py_hands_streamlit_the_error_handler():
    from ui import errors

    source = (ROOT / "server.py").read_text(encoding="utf-8")
    assert "on_script_error=errors.on_script_error" in source
    assert errors.on_script_error(RuntimeError("x")) is True  # Streamlit draws nothing itself
