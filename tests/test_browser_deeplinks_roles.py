"""Deep links on a freshly started server for the roles issues 16 and 19 added (marker
``browser``): a department account, whose home is the case desk, and a district leader."""

from __future__ import annotations

import pytest
from signin import PASSWORD, ensure_user
from test_browser_deeplinks import _deep_link

from geo.access.auth import add_user
from geo.demo.build import build_demo
from geo.store import open_store

pytestmark = pytest.mark.browser

DESK = "案件办理（接诉即办）"
REFUSED = "无权查看此页面"
CASES = [
    ("department", "/", (DESK, None)),
    ("department", "/cases", (DESK, None)),
    ("department", "/reports", ("民情诉求", REFUSED)),
    ("department", "/no-such-page", ("页面不存在", "不对应任何页面")),
    ("district_leader", "/", ("网格民情地图", None)),
    ("district_leader", "/cases", (DESK, None)),
    ("district_leader", "/audit", ("审计日志", REFUSED)),
]


@pytest.fixture(scope="module")
def store_location(tmp_path_factory) -> str:
    """A small demo store whose grids name a district, with the two accounts."""
    location = str(tmp_path_factory.mktemp("deeplinks_roles") / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=300)
    with store.transaction() as tx:
        for grid_id in store.read_attributes("grids", ["grid_id"])["grid_id"]:
            tx.update("grids", {"grid_id": grid_id}, {"district": "新城区"})
    ensure_user(location, "deep_district_leader", "district_leader", district="新城区")
    add_user(
        store,
        "deep_department",
        "department",
        PASSWORD,
        actor="test",
        department="urban_management",
    )
    return location


@pytest.mark.parametrize(("role", "path", "landing"), CASES)
def test_a_deep_link_as_the_first_request_for_the_new_roles(
    chromium, store_location, tmp_path, role, path, landing
):
    home = "/cases" if role == "department" else "/map"  # the case desk is a department's home
    _deep_link(chromium, store_location, tmp_path, role, path, "server.py", landing, home)
