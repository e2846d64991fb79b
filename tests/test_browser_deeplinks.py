"""Deep links on a freshly started server (marker ``browser``): every URL, every role.

Each case starts its own server and makes the deep link its very first request, in a fresh
browser context: Streamlit's legacy ``pages/`` routing would otherwise run the page file
alone (a menu of raw file names, no sidebar, no sign-in gate; a planner's traceback). The
app's own navigation must answer: the sign-in form, then the page the URL names (or the
role's aggregate form, or a notice), in Chinese, with no "Page not found" dialog and no
traceback.
"""

from __future__ import annotations

import pytest
from conftest import start_server, stop_server
from signin import PASSWORD, ensure_user

from geo.demo.build import build_demo
from geo.store import open_store

pytestmark = pytest.mark.browser

ROLES = ["admin", "street_leader", "community_staff", "grid_worker", "planner", "meeting"]
PATHS = ["/", "/map", "/reports", "/coverage", "/weekly", "/audit", "/no-such-page"]
ENGLISH = ["Page not found", "Traceback", "Ask Google", "Ask ChatGPT", "AccessDenied", "Error"]
LEGACY_MENU = ["app", "audit", "coverage", "map", "reports", "weekly"]


@pytest.fixture(scope="module")
def store_location(tmp_path_factory) -> str:
    """A small demo store with one account per role."""
    location = str(tmp_path_factory.mktemp("deeplinks") / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=300)
    grids = store.read_attributes("grids", ["grid_id", "community"])
    scopes = {
        "community_staff": {"community": grids["community"].iloc[0]},
        "grid_worker": {"grids": [grids["grid_id"].iloc[0]]},
    }
    for role in ROLES:
        ensure_user(location, f"deep_{role}", role, **scopes.get(role, {}))
    return location


def expected(role: str, path: str, street: str) -> tuple[str, str | None]:
    """(title of the page a role lands on, a text it shows) for a URL path."""
    aggregate = role in ("planner", "meeting")
    return {
        "/": ("网格民情地图", None),
        "/map": ("网格民情地图", None),
        "/reports": ("民情诉求", "汇总") if aggregate else ("民情诉求受理与办理", None),
        "/coverage": ("网格覆盖与走访", None),
        "/weekly": (f"{street}网格民情周报", None),
        "/audit": ("审计日志", None if role == "admin" else "无权查看此页面"),
        "/no-such-page": ("页面不存在", "不对应任何页面"),
    }[path]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("role", ROLES)
def test_a_deep_link_as_the_first_request_signs_in_then_opens_its_page(
    chromium, store_location, tmp_path, role, path
):
    _deep_link(chromium, store_location, tmp_path, role, path, "server.py")


@pytest.mark.parametrize(
    ("role", "path"), [("planner", "/reports"), ("grid_worker", "/coverage"), ("admin", "/audit")]
)
def test_started_without_server_py_the_page_files_still_go_through_app_py(
    chromium, store_location, tmp_path, role, path
):
    """``streamlit run app.py``: the legacy routing runs the page file, which hands over."""
    _deep_link(chromium, store_location, tmp_path, role, path, "app.py")


def _deep_link(
    chromium,
    store_location,
    tmp_path,
    role: str,
    path: str,
    script: str,
    landing: tuple[str, str | None] | None = None,
    home: str = "/map",
) -> None:
    """``landing``: (title, text) the role lands on, when not ``expected``'s; ``home``: the
    path of the role's home page (shown at ``/``, as ``/map`` is for most roles)."""
    server = start_server(store_location, tmp_path, script=script, name=f"deep-{role}")
    context = chromium.new_context(viewport={"width": 1500, "height": 1000}, locale="zh-CN")
    dialogs: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + path)  # the server's very first request
        page.get_by_label("用户名").wait_for(timeout=60_000)
        body = page.inner_text("body")
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert nav.count() == 0 or not any(n in nav.inner_text() for n in LEGACY_MENU)
        assert "语言" in body  # the app's sidebar, drawn by app.py
        page.get_by_label("用户名").fill(f"deep_{role}")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        street = open_store(store_location).read_attributes("grids", ["street"])["street"].iloc[0]
        title, text = landing or expected(role, path, street)
        page.locator("h1", has_text=title).first.wait_for(timeout=60_000)
        if text:
            page.get_by_text(text).first.wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        body = page.inner_text("body")
        leaked = [word for word in ENGLISH if word in body]
        assert leaked == []
        assert page.locator('[data-testid="stException"]').count() == 0
        if path not in ("/", home, "/no-such-page"):
            assert page.url.endswith(path)  # the page the link named, at its own address
        assert dialogs == []
    finally:
        context.close()
        stop_server(server.process)
    assert "gridmap.errors" not in server.log.read_text(errors="replace")  # no error reported
