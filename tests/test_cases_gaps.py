"""Issue 19's gaps closed: the owner in the map's report popups, a reports file with 负责方 and
回访方式 columns, the cases lines of ``gridmap metrics`` and the desk's timeline cut at the
reference time."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest
from mappayload import drawn_payload
from streamlit.testing.v1 import AppTest
from test_cases_department import _file, _seed

from geo import cli
from geo.access.auth import add_user, load_viewer
from geo.cases.timeline import case_timeline
from geo.inputs.importers.core import import_file
from geo.metrics.text import format_metrics
from geo.outputs.map.payloads import report_payload
from geo.store import open_store
from geo.timeutil import now_local
from ui import session

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


@pytest.fixture
def location(tmp_path, monkeypatch) -> str:
    """Three grids and their people; no reports."""
    location = str(tmp_path / "gaps.gpkg")
    monkeypatch.setenv("GRIDMAP_DB", location)
    _seed(open_store(location))
    return location


# --- 2. owners on the map -------------------------------------------------------------------


def test_report_payload_carries_the_owner_label():
    reports = pd.DataFrame(
        {
            "report_id": ["R1", "R2"],
            "state": ["open", "open"],
            "category": ["x", "y"],
            "reported_at": ["2026-11-26 09:00:00"] * 2,
            "lon": [111.701, 111.702],
            "lat": [40.841, 40.841],
            "owner": ["王芳 (S1)", None],
        }
    )
    assert report_payload(reports)["own"] == ["王芳 (S1)", ""]
    assert report_payload(reports.drop(columns="owner"))["own"] == ["", ""]


def test_the_map_shows_each_reports_owner_as_the_desk_does(location):
    store = open_store(location)
    mine = _file(store, 111.705, "环境卫生")  # G1: 王芳 (S1)
    city = _file(store, 111.725, "违章停车")  # G3: 城管
    add_user(store, "boss", "street_leader", "correct-horse-9", actor="test")
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, "boss")
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = "boss"
    at.run()
    at.toggle(key="map_show_reports").set_value(True).run()
    assert not at.exception
    drawn = drawn_payload(at)
    owners = dict(zip(drawn["r"]["id"], drawn["r"]["own"], strict=True))
    assert owners == {mine: "王芳", city: "城管"}  # a person by name: no staff id on the map
    assert "map_report_owner" in drawn["text"] and drawn["text"]["map_report_owner"] == "负责方"


# --- 3. the importer ------------------------------------------------------------------------

HEADER = "编号,来源,事项类别,经度,纬度,上报时间,回访时间,负责方,回访方式\n"


def _csv(tmp_path, name: str, rows: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_a_reports_file_with_owners_and_return_visit_methods(location, tmp_path, capsys):
    path = _csv(
        tmp_path,
        "reports.csv",
        "R1,12345热线,环境卫生,111.705,40.845,2026-11-20 09:00,,,\n"
        "R2,12345热线,环境卫生,111.705,40.845,2026-11-20 09:00,2026-11-22 10:00,"
        "department:urban_management,电话\n"
        "R3,12345热线,占道经营,111.715,40.845,2026-11-20 09:00,,grid:G2,\n"
        "R4,12345热线,环境卫生,111.725,40.845,2026-11-20 09:00,2026-11-22 10:00,城管,wechat\n"
        "R5,12345热线,环境卫生,111.725,40.845,2026-11-20 09:00,,staff:S1,\n",
    )
    assert cli.main(["import", "reports", str(path), "--db", location]) == 0
    rows = open_store(location).read_attributes("reports").set_index("report_id")
    owners = list(zip(rows["owner_kind"], rows["owner_id"], strict=True))
    assert owners == [
        ("staff", "S1"),  # none given: dispatched to G1's worker
        ("department", "urban_management"),
        ("staff", "S2"),  # grid:G2 -> its worker, although 占道经营 would go to 城管
        ("department", "urban_management"),
        ("staff", "S1"),  # kept, although G3's own worker is S3
    ]
    assert rows["followup_method"].tolist()[1] == "phone"
    assert rows["followup_method"].tolist()[3] == "wechat"
    events = open_store(location).read("case_events")
    assert events["report_id"].tolist() == ["R1"]  # only the row without an owner dispatched


def test_a_bad_owner_or_method_names_file_row_column_and_writes_nothing(location, tmp_path):
    path = _csv(
        tmp_path,
        "bad.csv",
        "R1,12345热线,环境卫生,111.705,40.845,2026-11-20 09:00,,警察局,\n"
        "R2,12345热线,环境卫生,111.705,40.845,2026-11-20 09:00,,grid:G9,电话\n"
        "R3,12345热线,环境卫生,111.705,40.845,2026-11-20 09:00,2026-11-22 10:00,,飞鸽\n",
    )
    before = hashlib.sha256(open(location, "rb").read()).hexdigest()
    report = import_file(open_store(location), "reports", path, lang="zh-CN")
    lines = report.problem_lines()
    assert len(report.problems) == 4
    assert any("bad.csv:2" in line and "负责方" in line and "警察局" in line for line in lines)
    assert any("bad.csv:3" in line and "grid:G9" in line for line in lines)
    assert any("bad.csv:3" in line and "回访方式" in line and "回访时间" in line for line in lines)
    assert any("bad.csv:4" in line and "飞鸽" in line and "电话" in line for line in lines)
    assert hashlib.sha256(open(location, "rb").read()).hexdigest() == before


# --- 4. gridmap metrics -------------------------------------------------------------------


def test_metrics_text_has_the_cases_lines(location, capsys):
    from geo.cases import actions
    from geo.cases.owners import Owner
    from geo.cases.rules import Actor

    store = open_store(location)
    done = _file(store, 111.705, "环境卫生", hours_ago=50)
    _file(store, 111.715, "环境卫生", hours_ago=130)  # overdue
    _file(store, 111.725, "违章停车")  # 城管
    leader = Actor("街道刘", "street_leader")
    actions.transfer_case(store, done, Owner("department", "urban_management"), "城管职责", leader)
    for step in ("responded", "resolved"):
        actions.record_case_step(store, done, step, leader)
    actions.record_case_step(
        store, done, "followed_up", leader, method="phone", by="街道刘", satisfaction="satisfied"
    )
    assert cli.main(["metrics", "--db", location]) == 0
    out = capsys.readouterr().out
    block = out[out.index("案件办理（接诉即办）") :]
    rows = {
        line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1]
        for line in block.splitlines()[2:]
        if line.strip() and not line.startswith("-")
    }
    assert rows["在办案件"] == "2" and rows["逾期（按延期后时限）"] == "1"
    assert rows["转派"] == "1" and rows["批准延期"] == "0" and rows["回访"] == "1"
    assert rows["其中电话回访"] == "1" and rows["其中微信回访"] == "0"
    assert rows["回访率（一事一回访）"] == "100.0%" and rows["矛盾纠纷调解案件"] == "0"
    assert cli.main(["metrics", "--db", location, "--lang", "en"]) == 0
    english = capsys.readouterr().out
    assert "Cases (12345 desk)" in english and "Transfers" in english
    # the same figures as the JSON's cases section, in the text
    result = {"as_of": "x", "grids": [], "cases": None}
    assert "案件办理" not in format_metrics(result)


# --- 6. the desk's timeline ---------------------------------------------------------------


def test_the_timeline_lists_nothing_later_than_the_reference_time():
    steps = pd.DataFrame(
        {
            "step": ["reported", "responded", "resolved"],
            "at": ["2026-12-01 08:00:00", "2026-12-01 09:00:00", "2026-12-01 20:09:44"],
            "actor": ["desk", "王芳", "王芳"],
            "note": [None, None, None],
        }
    )
    events = pd.DataFrame(
        {
            "event": ["assigned", "transferred"],
            "at": ["2026-12-01 08:00:00", "2026-12-01 19:00:00"],
            "actor": ["system", "街道刘"],
            "reason": [None, "城管职责"],
            "hours": [None, None],
            "owner_kind": ["staff", "department"],
            "owner_id": ["S1", "urban_management"],
            "from_kind": [None, "staff"],
            "from_id": [None, "S1"],
            "event_no": [1, 2],
        }
    )
    now = dt.datetime(2026, 12, 1, 10, 30)
    cut = case_timeline(steps, events, until=now)
    assert cut["name"].tolist() == ["reported", "assigned", "responded"]
    assert (cut["at"] <= "2026-12-01 10:30:00").all()
    assert len(case_timeline(steps, events)) == 5


def test_a_demo_built_on_its_as_of_day_stamps_nothing_after_the_build(tmp_path, monkeypatch):
    """The demo used to stamp the whole as-of day: at 08:00 its reports, steps and case
    events reached into the evening, and the desk listed them. Built at 08:00 of its as-of
    day, nothing is stamped later; the same build as of a past day keeps the whole day."""
    from geo.demo import build as demo_build

    as_of = dt.date(2026, 11, 27)
    monkeypatch.setattr(demo_build, "now_local", lambda: dt.datetime(2026, 11, 27, 8, 0))
    store = open_store(str(tmp_path / "live.gpkg"))
    demo_build.build_demo(store, households=3000, as_of=as_of)
    cut = "2026-11-27 08:00:00"
    reports = store.read_attributes("reports")
    stamps = ["reported_at", "responded_at", "resolved_at", "followed_up_at", "closed_at"]
    assert all((reports[c].dropna().astype(str) <= cut).all() for c in stamps)
    assert (store.read_attributes("report_steps")["at"].astype(str) <= cut).all()
    assert (store.read_attributes("case_events")["at"].astype(str) <= cut).all()
    assert (store.read_attributes("mediation_sessions")["held_at"].astype(str) <= cut).all()
    assert len(reports) == 75  # a report drawn for later that day arrived the day before

    monkeypatch.setattr(demo_build, "now_local", lambda: dt.datetime(2026, 11, 30, 8, 0))
    past = open_store(str(tmp_path / "past.gpkg"))
    demo_build.build_demo(past, households=3000, as_of=as_of)
    later = past.read_attributes("report_steps")["at"].astype(str)
    assert (later > cut).any() and (later < "2026-11-28").all()  # the whole day, no later
