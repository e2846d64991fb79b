"""Every data string on every page is shown as text: markup in every text field of every
kind (links, images, raw HTML, autolinks, Streamlit directives) never renders as Markdown.

AppTest sees the Markdown sources Streamlit sends: each body, label and help text that holds
data must hold it escaped (``ui.text.md``). The browser test (test_browser_hostile.py)
checks what Chromium makes of it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile import (
    ADMIN,
    CLERK,
    COMMUNITY,
    ESCAPED,
    GRID_ID,
    HOUSEHOLD_ID,
    PLANNER,
    UNESCAPED,
    WORKER,
    build_hostile_store,
    payload,
)
from signin import sign_in
from streamlit.testing.v1 import AppTest

from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = ["pages/map.py", "pages/reports.py", "pages/coverage.py", "pages/weekly.py"]
# the data desk's pages show households, reports and accounts: the same rule (not for
# planners, whose form of them is the aggregate page without a file; accounts is theirs too)
DESK_PAGES = ["pages/today.py", "pages/verify.py", "pages/snap.py", "pages/data.py"]
PLAIN_TEXT = {"code", "text", "dataframe", "component_instance", "arrow_data_frame"}
ROLES = [
    ("admin", ADMIN),
    ("community_staff", CLERK),
    ("grid_worker", WORKER),
    ("planner", PLANNER),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> str:
    """The hostile demo store (module-scoped: tests that write use their own copy)."""
    return build_hostile_store(str(tmp_path_factory.mktemp("hostile") / "hostile.gpkg"))


def _nodes(node) -> list:
    out = [node]
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            out += _nodes(child)
    return out


def markdown_texts(at: AppTest) -> list[str]:
    """Every text Streamlit renders as Markdown: bodies, labels, help, st.table cells."""
    texts = []
    for node in _nodes(at._tree):
        if getattr(node, "type", None) in PLAIN_TEXT:
            continue
        proto = getattr(node, "proto", None)
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        for field, value in proto.ListFields():
            if field.name in {"body", "label", "help"} and isinstance(value, str):
                texts.append(value)
    for table in at.table:
        texts += [str(v) for v in table.value.to_numpy().ravel()]
    return texts


def check(at: AppTest, where: str) -> int:
    """Assert no markup survived; returns how many texts hold escaped data (evidence)."""
    assert not at.exception, where
    texts = markdown_texts(at)
    live = [text for text in texts if UNESCAPED.search(text)]
    assert live == [], where
    return sum(ESCAPED in text for text in texts)


def _signed_in(location: str, monkeypatch, role: str, name: str) -> AppTest:
    monkeypatch.setenv("GRIDMAP_DB", location)
    at = AppTest.from_file(APP, default_timeout=120).run()
    return sign_in(at, location, role, name=name)


@pytest.mark.parametrize(("role", "name"), ROLES, ids=[r for r, _ in ROLES])
def test_every_page_shows_hostile_data_as_text(hostile, monkeypatch, role, name):
    at = _signed_in(hostile, monkeypatch, role, name)
    evidence = {"sidebar": check(at, "first page")}
    pages = PAGES + DESK_PAGES + ["pages/accounts.py"]
    pages += ["pages/audit.py"] if role == "admin" else []
    if role == "planner":  # these are the aggregate form, a page without a file
        pages = [p for p in pages if p != "pages/reports.py" and p not in DESK_PAGES]
    for page in pages:
        at.switch_page(page).run()
        evidence[page] = check(at, page)
    assert evidence["sidebar"] > 0 or role != "admin"  # the account's own name, escaped
    if role != "planner":  # the grid names of the map's tables and lists
        assert evidence["pages/coverage.py"] > 0 or role != "admin"


@pytest.mark.parametrize(("role", "name"), ROLES[:3], ids=[r for r, _ in ROLES[:3]])
def test_map_drill_down_shows_names_and_party_branch_as_text(hostile, monkeypatch, role, name):
    at = _signed_in(hostile, monkeypatch, role, name)
    if COMMUNITY in at.selectbox(key="map_community").options:
        at.selectbox(key="map_community").set_value(COMMUNITY).run()
        check(at, "community")
    at.selectbox(key="map_grid").set_value(GRID_ID).run()
    assert check(at, "grid") > 0  # the grid's name and party branch, escaped
    if role == "admin":
        at.selectbox(key="map_reveal_household").set_value(HOUSEHOLD_ID)
        at.button(key="map_reveal").click().run()
        check(at, "reveal")  # st.table renders Markdown


def test_report_detail_and_filing_show_text(hostile, monkeypatch, tmp_path):
    import shutil

    location = str(tmp_path / "copy.gpkg")
    for suffix in ("", "-wal", "-shm"):
        if Path(hostile + suffix).exists():
            shutil.copy(hostile + suffix, location + suffix)
    at = _signed_in(location, monkeypatch, "admin", ADMIN)
    at.switch_page("pages/reports.py").run()
    at.radio(key="rep_window").set_value("custom").run()
    for report_id in at.selectbox(key="rep_detail").options[:5]:
        at.selectbox(key="rep_detail").set_value(report_id).run()
        assert check(at, f"detail {report_id}") > 0
    grids = open_store(location).read("grids", where={"grid_id": GRID_ID})
    point = grids.geometry.iloc[0].representative_point()
    at.selectbox(key="rep_category").set_value("__other__").run()
    at.text_input(key="rep_category_text").input(payload(0))
    at.text_area(key="rep_description").input(payload(1))
    at.text_input(key="rep_reporter").input(payload(2))
    at.text_input(key="rep_location").input(f"{point.x:.6f}, {point.y:.6f}")
    at.run()
    check(at, "form")
    at.button(key="rep_submit").click().run()
    assert len(at.success) and check(at, "filed") > 0


def test_coverage_form_echoes_a_typed_id_as_text(hostile, monkeypatch):
    at = _signed_in(hostile, monkeypatch, "admin", ADMIN)
    at.switch_page("pages/coverage.py").run()
    assert check(at, "coverage") > 0  # the warnings list grid names
    at.text_input(key="coverage_form_household").set_value(payload(0) + HOUSEHOLD_ID)
    at.button(key="coverage_form_log").click().run()
    assert len(at.error) and check(at, "refused id") > 0
