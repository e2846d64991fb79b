"""Case actions on both stores (schema version 6): the 12345 desk's walk-through, refusals that
write nothing, and an older store upgraded in place by its first case write."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import geopandas as gpd
import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import box

from geo.cases import actions
from geo.cases.owners import Owner
from geo.cases.rules import Actor, CaseError
from geo.cases.settings import case_settings
from geo.reports import workflow as rp
from geo.store import open_store
from geo.store.schema import SCHEMA_VERSION
from geo.timeutil import now_local

SETTINGS = case_settings()
CLERK = Actor("社区张", "community_staff", community="东河社区")
LEADER = Actor("街道刘", "street_leader")
WORKER = Actor("王芳", "grid_worker", staff_id="S1")
CITY = Actor("城管赵", "department", department="urban_management")
CASE_TABLES = ("case_events", "case_reminders", "mediations", "mediation_sessions")
CASE_COLUMNS = ("owner_kind", "owner_id", "followup_method", "followup_by", "closed_at")


def _seed(store) -> None:
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "community": ["东河社区", "东河社区"]},
        geometry=[box(111.70, 40.84, 111.71, 40.85), box(111.71, 40.84, 111.72, 40.85)],
        crs="EPSG:4326",
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S7", "S8", "S9"],
            "name": ["王芳", "赵城管", "司法所李", "老党员孙"],
            "role": ["grid_worker", "urban_management", "judicial", "volunteer"],
            "grid_id": ["G1", "G1", "G1", "G1"],
            "department": [None, "城管中队", "司法所", None],
        }
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("staff", staff)


@pytest.fixture(params=["gpkg", "postgis"])
def store(request, tmp_path):
    """A store of each kind with two grids of 东河社区 and its people."""
    if request.param == "gpkg":
        store = open_store(str(tmp_path / "c.gpkg"))
    else:
        store = open_store(request.getfixturevalue("pg_location"))
    _seed(store)
    return store


def _file(store, source="hotline", category="环境卫生", hours_ago=30) -> str:
    filed = rp.file_report(
        store,
        source=source,
        category=category,
        lon=111.705,
        lat=40.845,
        actor="desk",
        reported_at=now_local() - dt.timedelta(hours=hours_ago),
    )
    actions.dispatch_new(store)
    return filed.report_id


def _fingerprint(store) -> str:
    if not store.location.startswith("postgresql://"):
        return hashlib.sha256(open(store.location, "rb").read()).hexdigest()
    parts = [
        store.read(t).drop(columns="geometry", errors="ignore").to_csv()
        for t in ("reports", "report_steps", "audit_log", *CASE_TABLES)
    ]
    return hashlib.sha256("".join(parts).encode()).hexdigest()


def _report(store, report_id: str) -> dict:
    return store.read("reports", where={"report_id": report_id}).iloc[0].to_dict()


def test_a_12345_case_from_arrival_to_close(store):
    """Auto-dispatched to the grid worker, 转派 to urban management, extended once with the
    leader's approval, resolved, closed only after a phone return visit."""
    rid = _file(store)
    assert (_report(store, rid)["owner_kind"], _report(store, rid)["owner_id"]) == ("staff", "S1")
    actions.transfer_case(
        store, rid, Owner("department", "urban_management"), "属占道经营，转城管", WORKER
    )
    assert _report(store, rid)["owner_id"] == "urban_management"
    assert actions.request_extension(store, rid, 48, "需协调产权单位", CITY) is False
    with pytest.raises(CaseError) as refused:
        actions.decide_extension(store, rid, True, None, CLERK)
    assert refused.value.key == "case_err_not_approver"
    actions.decide_extension(store, rid, True, "同意", LEADER)
    actions.record_case_step(store, rid, "responded", CITY)
    actions.record_case_step(store, rid, "resolved", CITY)
    before = _fingerprint(store)
    with pytest.raises(CaseError) as refused:
        actions.record_case_step(store, rid, "closed", CLERK)
    assert refused.value.key == "case_err_close_without_return_visit"
    with pytest.raises(CaseError) as refused:  # the department does not visit its own case
        actions.record_case_step(
            store, rid, "followed_up", CITY, method="phone", by="赵", satisfaction="satisfied"
        )
    assert refused.value.key == "case_err_return_visit_not_allowed"
    assert _fingerprint(store) == before  # refused: nothing written
    actions.record_case_step(
        store, rid, "followed_up", CLERK, method="phone", by="社区张", satisfaction="satisfied"
    )
    actions.record_case_step(store, rid, "closed", CLERK)

    report = _report(store, rid)
    assert report["followup_method"] == "phone" and report["followup_by"] == "社区张"
    assert report["satisfaction"] == "satisfied" and report["closed_at"]
    events = store.read("case_events", where={"report_id": rid})
    assert events["event"].tolist() == [
        "assigned",
        "transferred",
        "extension_requested",
        "extended",
    ]
    assert events["event_no"].tolist() == [1, 2, 3, 4]
    moved = events.iloc[1]
    assert (moved["from_kind"], moved["from_id"]) == ("staff", "S1")
    assert moved["reason"] == "属占道经营，转城管"
    assert events.iloc[3]["hours"] == 48 and events.iloc[3]["request_seq"] == 3
    steps = store.read("report_steps", where={"report_id": rid})["step"].tolist()
    assert steps == ["reported", "responded", "resolved", "followed_up", "closed"]
    log = store.read("audit_log")
    mine = log[log["records"] == rid]
    assert mine["action"].tolist() == [
        "case_transfer",
        "case_extension_request",
        "case_extended",
    ]
    assert mine["detail"].tolist()[0] == "staff:S1 -> department:urban_management"
    with pytest.raises(CaseError) as refused:
        actions.transfer_case(store, rid, Owner("staff", "S1"), "x", CLERK)
    assert refused.value.key == "case_err_closed"


def test_extension_moves_the_limit_and_overdue(store):
    """A case past 120 h is overdue; an approved extension of 24 h makes it not overdue."""
    from geo.cases.limits import case_clock

    rid = _file(store, hours_ago=125)
    clock = lambda: case_clock(  # noqa: E731
        store.read_attributes("reports"),
        store.read("case_events"),
        SETTINGS,
        now_local().date(),
        now=now_local(),  # the live countdown
    ).iloc[0]
    assert bool(clock()["overdue"])
    actions.request_extension(store, rid, 24, "等待维修材料", LEADER)  # an approver: granted
    assert not bool(clock()["overdue"]) and bool(clock()["nearing"])


def test_a_neighbour_dispute_mediated_in_two_sessions(store):
    rid = _file(store, source="dispute", category="邻里纠纷", hours_ago=50)
    assert _report(store, rid)["owner_kind"] == "mediation"
    assert _report(store, rid)["owner_id"] == "东河社区"
    with pytest.raises(CaseError) as refused:
        actions.record_session(
            store, rid, now_local(), "success", [("S9", "old_party_member")], CLERK
        )
    assert refused.value.key == "case_err_no_mediation"
    actions.open_mediation(store, rid, "邻里", "人民调解", CLERK)
    first = actions.record_session(
        store,
        rid,
        now_local() - dt.timedelta(hours=30),
        "未成功",
        [("S9", "老党员"), ("S8", "judicial")],
        CLERK,
        note="双方分歧较大",
    )
    second = actions.record_session(
        store,
        rid,
        now_local() - dt.timedelta(hours=2),
        "success",
        [("S9", "old_party_member"), ("S8", "judicial")],
        CLERK,
    )
    assert (first, second) == (1, 2)
    with pytest.raises(CaseError) as refused:
        actions.record_session(store, rid, now_local(), "failed", [("S9", "volunteer")], CLERK)
    assert refused.value.key == "case_err_mediation_concluded"
    record = store.read("mediations").iloc[0]
    assert (record["dispute_kind"], record["mediation_type"], record["room"]) == (
        "neighbour",
        "people",
        "东河社区",
    )
    sessions = store.read("mediation_sessions")
    assert sessions["outcome"].tolist() == ["failed", "success"]
    mediators = store.read("mediation_mediators")
    rows = zip(mediators["session_no"], mediators["staff_id"], mediators["capacity"], strict=True)
    assert sorted(rows) == [
        (1, "S8", "judicial"),
        (1, "S9", "old_party_member"),
        (2, "S8", "judicial"),
        (2, "S9", "old_party_member"),
    ]


def test_reminders_call_the_hook_once_per_limit(store):
    rid = _file(store, hours_ago=100)  # 20 h left of 120: nearing
    calls: list[tuple[str, str]] = []
    sent = actions.run_reminders(store, SETTINGS, notify=lambda c, o: calls.append((c, o)))
    assert calls == [(rid, "staff:S1")] and sent["status"].tolist() == ["sent"]
    actions.run_reminders(store, SETTINGS, notify=lambda c, o: calls.append((c, o)))
    assert len(calls) == 1  # the same limit is reminded once
    actions.request_extension(store, rid, 4, "再等等", LEADER)
    actions.run_reminders(store, SETTINGS, notify=lambda c, o: calls.append((c, o)))
    assert len(calls) == 2  # the new limit arms one new reminder
    assert len(store.read("case_reminders")) == 2


# --- an older store (schema 3, before cases) upgraded in place by its first case write ---


def _make_older(store) -> None:
    """Take the store back to schema 3: no case tables, no case columns on reports."""
    if store.location.startswith("postgresql://"):
        import psycopg

        from geo.store import postgis as store_postgis

        with psycopg.connect(store.location) as conn:
            for table in (*CASE_TABLES, "mediation_mediators"):
                conn.execute(f"DROP TABLE {table}")
            for column in CASE_COLUMNS:
                conn.execute(f"ALTER TABLE reports DROP COLUMN {column}")
            conn.execute("DELETE FROM gridmap_migrations WHERE version > 3")
            conn.execute("UPDATE gridmap_meta SET value = '3' WHERE key = 'schema_version'")
        store_postgis._UPGRADED.discard(store.location)
        for table in (*CASE_TABLES, "mediation_mediators", "reports"):
            store_postgis._TABLES_READY.discard((store.location, table))
        return
    con = sqlite3.connect(store.location, isolation_level=None)
    for table in (*CASE_TABLES, "mediation_mediators"):
        con.execute(f"DROP TABLE {table}")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))
    for column in CASE_COLUMNS:
        con.execute(f"ALTER TABLE reports DROP COLUMN {column}")
    con.execute("UPDATE gridmap_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()


def test_older_store_reads_then_upgrades_on_the_first_case_write(store):
    filed = rp.file_report(
        store,
        source="hotline",
        category="环境卫生",
        lon=111.705,
        lat=40.845,
        actor="desk",
        reported_at=now_local() - dt.timedelta(hours=3),
    )
    _make_older(store)
    reports = store.read("reports")
    assert reports["owner_kind"].isna().all() and reports["closed_at"].isna().all()
    assert store.read("case_events").empty and store.read("mediations").empty
    before = _fingerprint(store)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        actions.dispatch_unowned(tx, now_local())
        raise RuntimeError("the write fails")
    assert _fingerprint(store) == before  # rolled back: still schema 3
    assert store.meta("schema_version") == "3"
    assert actions.dispatch_new(store) == 1
    assert store.meta("schema_version") == str(SCHEMA_VERSION)
    report = _report(store, filed.report_id)
    assert (report["owner_kind"], report["owner_id"]) == ("staff", "S1")
    assert store.read("case_events")["event"].tolist() == ["assigned"]


def test_metrics_overdue_counts_from_the_limit_in_force(store):
    """Contract §6 (docs/contract-notes.md): an approved extension moves the limit for the
    as-of days from its approval on; a request still waiting moves nothing."""
    from geo.metrics.contract import compute_metrics

    rid = _file(store, hours_ago=24 * 8)  # eight days old, not resolved
    today = now_local().date()
    overdue = lambda day: compute_metrics(store, day)["reports"]["overdue"]  # noqa: E731
    assert overdue(today) == 1
    actions.request_extension(store, rid, 48, "需协调产权单位", CLERK)  # waits for the leader
    assert overdue(today) == 1
    actions.decide_extension(store, rid, True, None, LEADER)
    assert overdue(today) == 1  # 8 days > 120 h + 48 h
    actions.request_extension(store, rid, 72, "涉及多个部门会商", LEADER)  # granted at once
    assert overdue(today) == 0  # 192 h, judged at the end of today: 120 + 48 + 72 = 240 h
    assert overdue(today - dt.timedelta(days=1)) == 1  # approved today: not yet yesterday


def test_cli_cases_remind_calls_the_hook_once_per_limit(tmp_path, monkeypatch, capsys):
    """`gridmap cases remind` with a command hook (a local stub that appends what it gets):
    dispatches the report that arrived, sends one reminder, and nothing more on a rerun."""
    import json
    import sys

    from geo.cli import main

    location = str(tmp_path / "cli.gpkg")
    store = open_store(location)
    _seed(store)
    received = tmp_path / "received.jsonl"
    stub = f"import sys; open({str(received)!r}, 'a').write(sys.stdin.read() + '\\n')"
    config = tmp_path / "hook.toml"
    config.write_text(
        f"[cases.hook]\ncommand = {json.dumps([sys.executable, '-c', stub])}\n", encoding="utf-8"
    )
    monkeypatch.setenv("GRIDMAP_CONFIG", str(config))
    case_settings.cache_clear()
    try:
        filed = rp.file_report(
            store,
            source="hotline",
            category="环境卫生",
            lon=111.705,
            lat=40.845,
            actor="desk",
            reported_at=now_local() - dt.timedelta(hours=100),
        )
        assert main(["cases", "remind", "--db", location]) == 0
        assert "新派单 1 件；提醒已发送 1 条，未送达 0 条" in capsys.readouterr().out
        lines = received.read_text(encoding="utf-8").splitlines()
        assert [json.loads(x) for x in lines] == [
            {"case_id": filed.report_id, "owner_id": "staff:S1"}  # ids only: no personal data
        ]
        assert main(["cases", "remind", "--db", location]) == 0
        assert "新派单 0 件；提醒已发送 0 条" in capsys.readouterr().out
        assert len(received.read_text(encoding="utf-8").splitlines()) == 1
    finally:
        case_settings.cache_clear()


def test_cli_cases_remind_reports_a_failed_hook_and_exits_non_zero(tmp_path, capsys, monkeypatch):
    from geo.cli import main

    location = str(tmp_path / "cli.gpkg")
    store = open_store(location)
    _seed(store)
    config = tmp_path / "hook.toml"
    config.write_text('[cases.hook]\ncommand = ["/nonexistent/notify"]\n', encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_CONFIG", str(config))
    case_settings.cache_clear()
    try:
        _file(store, hours_ago=100)
        assert main(["cases", "remind", "--db", location]) == 1
        err = capsys.readouterr().err
        assert "提醒未送达" in err and "staff:S1" in err
        assert store.read("case_reminders")["status"].tolist() == ["failed"]
    finally:
        case_settings.cache_clear()


def test_the_desk_the_leaders_view_and_metrics_agree_on_the_demo(tmp_path):
    """As of a past day: the desk's list of all open cases, the per-owner counts and
    `gridmap metrics --json` count the same open and overdue cases, and the contract's
    overdue (limit in force) is the cases section's."""
    import json

    from geo.cases.limits import case_clock
    from geo.cases.views import desk_cases, pending_extensions
    from geo.cases.workload import cases_per_owner
    from geo.cli import main
    from geo.demo.build import build_demo

    as_of = dt.date(2026, 11, 27)
    location = str(tmp_path / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=3000, as_of=as_of)
    assert main(["metrics", "--json", "--db", location, "--as-of", "2026-11-27"]) == 0
    reports = store.read_attributes("reports")
    counted = reports[reports["duplicate_of"].isna()].reset_index(drop=True)
    events = store.read_attributes("case_events")
    clock = case_clock(counted, events, SETTINGS, as_of)
    listed = desk_cases(counted, clock, pending_extensions(events), None)
    per_owner = cases_per_owner(counted, clock)
    from geo.metrics.contract import compute_metrics

    metrics = compute_metrics(store, as_of)
    cases = metrics["cases"]
    assert cases["open"] == len(listed) == int(per_owner["open"].sum()) > 0
    assert cases["overdue"] == int(listed["overdue"].sum()) == int(per_owner["overdue"].sum())
    assert metrics["reports"]["overdue"] == cases["overdue"]
    assert cases["transfers"] > 0 and cases["extensions"] > 0 and cases["closed"] > 0
    assert sum(cases["return_visits_by_method"].values()) == cases["return_visits"]
    assert cases["mediation"]["cases"] == sum(
        c["cases"] for c in cases["mediation"]["by_community"].values()
    )
    json.dumps(metrics)  # plain JSON: no numpy numbers


def test_weekly_pack_shows_the_return_visits_by_method_and_the_nearing_cases(tmp_path):
    """The week's case figures in the XLSX sheet and the PDF: return visits by method, the
    return-visit rate, the cases nearing their limit, reminders; small counts hidden."""
    import re

    import openpyxl
    from pypdf import PdfReader

    from geo.demo.build import build_demo
    from geo.metrics.contract import compute_metrics
    from geo.outputs.weekly.figures import weekly_figures
    from geo.outputs.weekly.pack import write_weekly
    from geo.outputs.weekly.xlsx import Hidden, weekly_sheets

    as_of = dt.date(2026, 11, 27)
    store = open_store(str(tmp_path / "demo.gpkg"))
    build_demo(store, households=3000, as_of=as_of)
    figures = weekly_figures(store, as_of)
    week = figures["cases"]
    whole = compute_metrics(store, as_of)["cases"]
    assert week["open"] == whole["open"] and week["overdue"] == whole["overdue"]
    assert week["return_visits"] <= whole["return_visits"] and week["return_visits"] > 0
    sheet = weekly_sheets(figures)["案件办理"].set_index("指标")["本周"]
    phone = week["return_visits_by_method"]["phone"]
    shown = sheet.loc["　其中电话回访"]
    assert shown == phone if phone == 0 or phone >= 3 else isinstance(shown, Hidden)
    assert sheet.loc["回访率（一事一回访）"] == round(week["followup_rate"], 3)
    assert "临期" in sheet.index and "本周发送提醒" in sheet.index
    out = write_weekly(store, as_of, tmp_path / "weekly.pdf")
    text = re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(out).pages))
    assert "案件办理（本周）" in text and f"回访率{100 * week['followup_rate']:.1f}%" in text
    book = openpyxl.load_workbook(write_weekly(store, as_of, tmp_path / "weekly.xlsx"))
    assert "案件办理" in book.sheetnames
