"""AppTest of the weekly page: the pack on screen equals geo.outputs.weekly.pack, downloads are audited."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from geo.access.audit import read_audit
from geo.access.auth import add_user, load_viewer
from geo.demo.build import build_demo
from geo.outputs.weekly.figures import TOP_GRIDS, figure_label, figure_texts, weekly_figures
from geo.store import open_store
from geo.timeutil import now_local, today
from ui import session
from ui.coverage import weekly_download

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/weekly.py"
PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    """A demo store with 2,000 households."""
    location = str(tmp_path_factory.mktemp("weekly") / "demo.gpkg")
    build_demo(open_store(location), households=2000)
    return location


@pytest.fixture
def page(demo_store, monkeypatch) -> AppTest:
    """The weekly page on the demo store, after its first run."""
    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    store = open_store(demo_store)
    if store.read("users", where={"username": "leader"}).empty:
        add_user(store, "leader", "street_leader", "a-long-password")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, "leader")
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = "leader"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def test_headline_tiles_equal_the_pack(page, demo_store):
    figures = weekly_figures(open_store(demo_store), today())
    assert page.title[0].value == f"{figures['street']}网格民情周报"
    shown = {m.label: (m.value, m.proto.delta) for m in page.metric}
    expected = {}
    for figure in figures["headline"]:
        value, change, _ = figure_texts(figure, "zh-CN")
        expected[figure_label(figure.key, "zh-CN")] = (value, change)
    assert shown == expected
    assert any("▲" in delta or "▼" in delta for _, delta in shown.values())


def test_small_counts_are_never_shown(page):
    for metric in page.metric:
        assert metric.value not in {"1", "2"}
        if metric.value.startswith("<") or metric.value.startswith("n<"):
            assert metric.proto.delta == ""  # a change would reveal the suppressed count


def test_attention_trend_map_and_downloads(page):
    attention = next(df.value for df in page.dataframe if "评分" in df.value.columns)
    assert 0 < len(attention) <= TOP_GRIDS
    assert attention["评分"].is_monotonic_decreasing
    assert (attention["原因"].str.len() > 0).all()  # every listed grid says why
    assert len(page.get("image")) == 2  # the trend chart and the map image
    assert len(page.get("download_button")) == 2
    text = " ".join(df.value.to_csv() for df in page.dataframe)
    assert not PHONE.search(text)


def test_english(page):
    page.session_state[session.LANG_KEY] = "en"  # the sidebar's language selector writes this
    page.run()
    assert not page.exception
    assert page.title[0].value.endswith("weekly grid review")
    assert "Visit compliance" in {m.label for m in page.metric}


@pytest.mark.parametrize(("suffix", "magic"), [(".pdf", b"%PDF"), (".xlsx", b"PK")])
def test_downloads_are_audited(demo_store, suffix, magic):
    store = open_store(demo_store)
    before = len(read_audit(store, action="export"))
    data = weekly_download(demo_store, store.version(), today(), "zh-CN", suffix, "tester")()
    assert data.startswith(magic)
    events = read_audit(store, action="export")
    assert len(events) == before + 1
    assert events["actor"].iloc[-1] == "tester"
    assert suffix.lstrip(".") in events["detail"].iloc[-1]
    if suffix == ".pdf":
        text = re.sub(r"[\s\x00]+", "", PdfReader(io.BytesIO(data)).pages[0].extract_text())
        assert "网格民情周报" in text


def test_a_grid_workers_pack_holds_only_their_grids(demo_store, monkeypatch):
    """Tiles, attention list, map and both downloads: computed from the worker's grid alone."""
    import openpyxl

    from geo.access.scope import GridScope

    monkeypatch.setenv("GRIDMAP_DB", demo_store)
    store = open_store(demo_store)
    grids = store.read_attributes("grids", ["grid_id", "name"])
    own = grids["grid_id"].iloc[2]
    if store.read("users", where={"username": "worker_w"}).empty:
        add_user(store, "worker_w", "grid_worker", "a-long-password", grids=[own])
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, "worker_w")
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = "worker_w"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    others = [g for g in grids["grid_id"] if g != own]
    shown = " ".join(df.value.to_csv() for df in at.dataframe)
    assert not any(g in shown for g in others)
    mine = weekly_figures(GridScope(store, [own]), today())
    everyone = weekly_figures(store, today())["metrics"]["households"]["total"]
    assert mine["metrics"]["households"]["total"] < everyone
    tiles = {m.label: m.value for m in at.metric}
    value, _, _ = figure_texts(mine["headline"][0], "zh-CN")
    assert tiles[figure_label(mine["headline"][0].key, "zh-CN")] == value
    xlsx = weekly_download(demo_store, store.version(), today(), "zh-CN", ".xlsx", "w", (own,))()
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = " ".join(str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r)
    assert own in cells and not any(g in cells for g in others)
    pdf = weekly_download(demo_store, store.version(), today(), "zh-CN", ".pdf", "w", (own,))()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert not any(g in text for g in others)
