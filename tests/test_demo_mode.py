"""Demo mode: a store built by `gridmap demo` (synthetic data) opens signed in as the demo
street leader; importing real data or creating a real account ends it for good."""

from pathlib import Path

import pytest
from signin import PASSWORD, ensure_user
from streamlit.testing.v1 import AppTest

from geo.access.auth import DEMO_VIEWER, add_demo_users, demo_viewer
from geo.demo.build import build_demo
from geo.inputs.importers.core import import_file
from geo.store import open_store
from ui.text import md

APP = str(Path(__file__).resolve().parents[1] / "app.py")


@pytest.fixture
def demo(tmp_path) -> str:
    """A small demo store with its demo accounts, as `gridmap serve` builds it."""
    location = str(tmp_path / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=600)
    add_demo_users(store, PASSWORD)
    return location


def test_a_demo_store_opens_as_the_demo_street_leader(demo):
    viewer = demo_viewer(open_store(demo))
    assert viewer is not None and (viewer.username, viewer.role) == (DEMO_VIEWER, "street_leader")


def test_no_demo_viewer_without_demo_accounts(tmp_path):
    store = open_store(str(tmp_path / "plain.gpkg"))
    build_demo(store, households=300)
    assert demo_viewer(store) is None


def test_creating_a_real_account_ends_demo_mode(demo):
    ensure_user(demo, "wang", "planner")
    assert demo_viewer(open_store(demo)) is None


def test_importing_real_data_ends_demo_mode(demo, tmp_path):
    rows = open_store(demo).read("households", ["household_id"]).head(1)
    point = rows.geometry.iloc[0]
    csv = tmp_path / "h.csv"
    csv.write_text(
        f"household_id,lon,lat\n{rows['household_id'].iloc[0]},{point.x},{point.y}\n",
        encoding="utf-8",
    )
    assert import_file(open_store(demo), "households", csv).ok
    assert demo_viewer(open_store(demo)) is None


def test_app_on_a_demo_store_shows_the_map_then_sign_in_after_sign_out(demo, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DB", demo)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.get("component_instance")) == 1  # the rainbow map, no sign-in needed
    assert any(md("demo_leader") in m.value for m in at.sidebar.markdown)  # escaped Markdown
    at.sidebar.button(key="auth_sign_out").click().run()
    assert at.title[0].value == "登录"
    assert len(at.get("component_instance")) == 0


def test_app_requires_sign_in_once_demo_mode_ended(demo, monkeypatch):
    ensure_user(demo, "li", "street_leader")
    monkeypatch.setenv("GRIDMAP_DB", demo)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == "登录"
    assert len(at.get("component_instance")) == 0
