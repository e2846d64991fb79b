"""AppTest of the new-employment page (新就业群体) for every role: key figures, the map's
layer, tables, gap lists with masked workers, the audited reveal, and a planner's or a
meeting's page without any worker-level data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from mappayload import component_args, sent_text
from streamlit.testing.v1 import AppTest

from geo.access.audit import read_audit
from geo.access.auth import add_user, load_viewer
from geo.demo.build import build_demo
from geo.store import open_store
from geo.timeutil import now_local
from ui import session

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/new_employment.py"
PHONE = re.compile(r"(?<![\d.])1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("employment_page") / "demo.gpkg"
    build_demo(open_store(str(path)), households=2000)
    return path


@pytest.fixture
def demo_store(demo_template, tmp_path) -> str:
    target = tmp_path / "demo.gpkg"
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(demo_template) + suffix)
        if source.exists():
            shutil.copy(source, str(target) + suffix)
    return str(target)


def open_page(location: str, monkeypatch, role: str, *, meeting: bool = False, **scope) -> AppTest:
    monkeypatch.setenv("GRIDMAP_DB", location)
    store = open_store(location)
    name = f"emp_{role}"
    if store.read("users", where={"username": name}).empty:
        add_user(store, name, role, "a-long-password", **scope)
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, name)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = name
    at.session_state[session.MEETING_KEY] = meeting
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _everything(at: AppTest) -> str:
    """Every text the page sends: markdown, captions, metrics, tables, the map."""
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [df.value.to_json(force_ascii=False) for df in at.dataframe]
    parts += [str(r.options) for r in at.radio]
    parts.append(sent_text(at))
    return "\n".join(parts)


def _workers(location: str):
    return open_store(location).read_attributes("workers")


def test_a_street_leader_sees_figures_map_tables_and_masked_gap_lists(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch, "street_leader")
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["企业"] == "8" and tiles["从业人员"] == str(len(_workers(demo_store)))
    assert set(tiles) == {"企业", "网点", "从业人员", "已回归党员", "参保率", "已报到观察员"}
    sent = sent_text(at)
    assert "gridmapEmploymentDraw(" in sent
    links = component_args(at)["js_links"]
    assert "/app/static/gridmap/employment.js" in links
    # the canvas layers' shared helper once, loaded (in order) before the layers using it
    helper = links.index("/app/static/gridmap/canvaslayer.js")
    assert links.count(links[helper]) == 1
    for layer in ("rainbow.js", "buildings.js", "employment.js"):
        assert helper < links.index(f"/app/static/gridmap/{layer}")
    payload = json.JSONDecoder().raw_decode(
        sent[sent.index(",", sent.index("gridmapEmploymentDraw(")) + 1 :].lstrip()
    )[0]
    assert payload["o"]["n"] == open_store(demo_store).count("outlets")
    assert payload["s"]["n"] == open_store(demo_store).count("stations")
    # the observers' reports of the last 30 days are drawn for a viewer who may see reports
    reports = open_store(demo_store).read_attributes("reports", ["report_id"])["report_id"]
    assert any(report_id in sent for report_id in reports)
    firm_table = next(df.value for df in at.dataframe if df.value.columns[0] == "企业编号")
    assert len(firm_table) == 8
    # the uninsured workers' list: masked names and phones
    at.radio(key="employment_gap").set_value("uninsured_workers").run()
    rows = next(df.value for df in at.dataframe if df.value.columns[0] == "人员编号")
    workers = _workers(demo_store).set_index("worker_id")
    assert len(rows) > 0
    for worker_id, name in zip(rows["人员编号"], rows["姓名"], strict=True):
        full = workers.loc[worker_id, "name"]
        assert name != full and name.startswith(full[0]) and "*" in name
    assert not PHONE.search(_everything(at))


def test_reveal_shows_one_worker_and_writes_the_audit_log(demo_store, monkeypatch):
    at = open_page(demo_store, monkeypatch, "street_leader")
    workers = _workers(demo_store)
    worker = workers.iloc[0]
    at.text_input(key="emp_reveal_id").input(worker["worker_id"]).run()
    at.button(key="emp_reveal").click().run()
    assert not at.exception
    shown = at.table[0].value.to_json(force_ascii=False)
    assert worker["name"] in shown
    audit = read_audit(open_store(demo_store), action="reveal")
    assert audit["records"].tolist()[-1] == worker["worker_id"]
    assert audit["actor"].tolist()[-1] == "emp_street_leader"
    assert worker["name"] not in audit.to_json(force_ascii=False)  # the log names, never copies


def test_a_grid_worker_sees_only_the_outlets_of_their_grids(demo_store, monkeypatch):
    outlets = open_store(demo_store).read_attributes("outlets")
    grid = outlets["grid_id"].dropna().iloc[0]
    mine = set(outlets.loc[outlets["grid_id"] == grid, "outlet_id"])
    at = open_page(demo_store, monkeypatch, "grid_worker", grids=[grid])
    at.tabs  # noqa: B018  (the tables are drawn in every tab)
    table = next(df.value for df in at.dataframe if df.value.columns[0] == "网点编号")
    assert set(table["网点编号"]) == mine
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["网点"] == str(len(mine))
    assert any("所辖网格" in c.value for c in at.caption)
    # a worker outside the grid cannot be revealed
    workers = _workers(demo_store)
    other = workers.loc[~workers["outlet_id"].isin(mine), "worker_id"].iloc[0]
    at.text_input(key="emp_reveal_id").input(other).run()
    at.button(key="emp_reveal").click().run()
    assert at.error and not at.table
    assert read_audit(open_store(demo_store), action="reveal").empty


@pytest.mark.parametrize(
    "role, meeting", [("planner", False), ("street_leader", True), ("meeting", False)]
)
def test_aggregate_viewers_get_no_worker_level_data(demo_store, monkeypatch, role, meeting):
    at = open_page(demo_store, monkeypatch, role, meeting=meeting)
    text = _everything(at)
    workers = _workers(demo_store)
    for name in workers["name"]:
        assert name not in text
    for worker_id in workers["worker_id"]:
        assert worker_id not in text
    assert not PHONE.search(text)
    assert not any(getattr(w, "key", None) == "emp_reveal_id" for w in at.text_input)
    assert not any(getattr(r, "key", None) == "employment_gap" for r in at.radio)
    gaps = next(df.value for df in at.dataframe if df.value.columns[0] == "清单")
    assert len(gaps) == 5
    assert "gridmapEmploymentDraw(" in sent_text(at)
    assert "gridmapDraw" in sent_text(at)
    # no report row either: the observers' reports are not drawn
    reports = open_store(demo_store).read_attributes("reports", ["report_id"])["report_id"]
    assert not any(report_id in text for report_id in reports)


def test_community_staff_and_admin_pages_run(demo_store, monkeypatch):
    grids = open_store(demo_store).read_attributes("grids", ["grid_id", "community"])
    at = open_page(demo_store, monkeypatch, "community_staff", community=grids["community"].iloc[0])
    assert any("所辖网格" in c.value for c in at.caption)
    at = open_page(demo_store, monkeypatch, "admin")
    assert not any("所辖网格" in c.value for c in at.caption)


def test_a_store_without_new_employment_data_says_how_to_import(tmp_path, monkeypatch):
    location = str(tmp_path / "empty.gpkg")
    build_demo(open_store(location), households=300)
    with open_store(location).transaction() as tx:
        for table in ("workers", "outlets", "stations", "firms"):
            tx.replace(table, open_store(location).read(table).iloc[:0])
    at = open_page(location, monkeypatch, "street_leader")
    assert any("gridmap import firms" in m.value for m in at.info)
