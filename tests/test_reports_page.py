"""AppTest of the reports page: it renders on demo data, files reports, refuses bad input, walks the workflow."""

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import shapely
from mappayload import drawn_payload, sent_text
from PIL import Image
from streamlit.testing.v1 import AppTest

from geo.access.auth import add_user, load_viewer
from geo.demo.build import build_demo
from geo.reports.workflow import file_report
from geo.store import open_store
from geo.timeutil import format_timestamp, now_local
from ui import session
from ui.reports import by_urgency, countdown, filter_reports, parse_lonlat, window_bounds
from ui.text import md

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = "pages/reports.py"
OUTSIDE = "111.679, 40.84"  # ~800 m west of the demo street office: outside every grid, near it


@pytest.fixture
def demo_store(tmp_path, monkeypatch) -> str:
    """A demo store (2,000 households, its reports) that this test may write to."""
    location = str(tmp_path / "demo.gpkg")
    build_demo(open_store(location), households=2000)
    monkeypatch.setenv("GRIDMAP_DB", location)
    return location


ACTOR = "wangfang"


def signed_in_app(
    location: str, username: str = ACTOR, role: str = "street_leader", **scope
) -> AppTest:
    """The app with ``username`` (added to the store) signed in, on the reports page."""
    store = open_store(location)
    add_user(store, username, role, "correct-horse-9", **scope)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, username)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = username
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


@pytest.fixture
def page(demo_store) -> AppTest:
    """The reports page, signed in as a street leader, after its first run."""
    return signed_in_app(demo_store)


def inside_point(location: str, index: int = 0) -> tuple[str, str]:
    """'lon, lat' of a point well inside the index-th grid, and that grid's id."""
    grids = open_store(location).read("grids", columns=["grid_id"])
    point = shapely.point_on_surface(grids.geometry.iloc[index])
    return f"{point.x:.6f}, {point.y:.6f}", grids["grid_id"].iloc[index]


def fill_form(at: AppTest, *, where: str, category: str = "测试类别") -> None:
    at.selectbox(key="rep_category").set_value("__other__").run()
    at.text_input(key="rep_category_text").input(category)
    at.text_area(key="rep_description").input("楼道灯坏了")
    at.text_input(key="rep_location").input(where)


def map_payload(at: AppTest) -> dict:
    """The map as drawn: the map's payload with the page's view applied."""
    return drawn_payload(at)


def test_page_renders_demo_reports_of_the_last_7_days(page, demo_store):
    assert page.title[0].value == "民情诉求受理与办理"
    reports = open_store(demo_store).read_attributes(
        "reports", ["report_id", "reported_at", "description"]
    )
    now = now_local()
    since, until = format_timestamp(now - dt.timedelta(days=7)), format_timestamp(now)
    # the demo's day runs to midnight: reports stamped later today have not happened yet
    recent = set(
        reports.loc[
            (reports["reported_at"] >= since) & (reports["reported_at"] <= until), "report_id"
        ]
    )
    table = next(df.value for df in page.dataframe if "办结时限" in df.value.columns)
    assert set(table["编号"]) == recent and recent
    payload = map_payload(page)
    assert sorted(payload["r"]["id"]) == sorted(recent)
    # no households, so no household legend listing zeros
    assert payload["h"]["n"] == 0 and payload["legend"] == ""


def test_map_payload_carries_no_description_or_reporter(page, demo_store):
    script = sent_text(page)
    reports = open_store(demo_store).read_attributes("reports", ["description", "reporter_id"])
    leaked = [
        v
        for column in ("description", "reporter_id")
        for v in reports[column].dropna()
        if v in script
    ]
    assert leaked == []
    assert json.loads(page.get("component_instance")[0].proto.json_args)["returned_objects"] == [
        "last_clicked"
    ]


def test_filing_a_valid_report_places_it_in_its_grid(page, demo_store):
    store = open_store(demo_store)
    where, grid_id = inside_point(demo_store)
    before = store.count("reports")
    fill_form(page, where=where)
    page.button(key="rep_submit").click().run()
    assert not page.exception
    assert store.count("reports") == before + 1
    filed = store.read_attributes("reports", where={"category": "测试类别"})
    assert filed["grid_id"].tolist() == [grid_id] and filed["description"].tolist() == [
        "楼道灯坏了"
    ]
    workers = store.read_attributes(
        "staff", ["name"], where={"grid_id": grid_id, "role": "grid_worker"}
    )["name"]
    message = page.success[0].value
    # the message is Markdown: data in it is escaped (ui.text.md)
    assert md(grid_id) in message and all(md(name) in message for name in workers) and len(workers)
    # the detail view opens on the new report
    assert page.selectbox(key="rep_detail").value == filed["report_id"].iloc[0]
    assert page.text_input(key="rep_location").value == ""  # the form is cleared for the next one


def test_a_report_outside_every_grid_is_filed_unassigned(page, demo_store):
    fill_form(page, where=OUTSIDE)
    page.button(key="rep_submit").click().run()
    filed = open_store(demo_store).read_attributes("reports", where={"category": "测试类别"})
    assert len(filed) == 1 and filed["grid_id"].isna().all()
    assert "未入格" in page.warning[0].value


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("", "请先在地图上点选位置"),
        ("abc", "位置格式不对"),
        ("200, 95", "超出经纬度范围"),  # refused by geo.reports.workflow.file_report
        ("116.397, 39.909", "不在受理范围内"),  # Beijing: far outside the street office
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(page, demo_store, where, expected):
    store = open_store(demo_store)
    version, count = store.version(), store.count("reports")
    fill_form(page, where=where)
    page.button(key="rep_submit").click().run()
    assert not page.exception
    assert any(expected in error.value for error in page.error)
    assert store.version() == version and store.count("reports") == count


def test_same_report_nearby_is_offered_as_a_duplicate_and_linked(page, demo_store):
    store = open_store(demo_store)
    where, _ = inside_point(demo_store, 3)
    fill_form(page, where=where)
    page.button(key="rep_submit").click().run()
    first = store.read_attributes("reports", where={"category": "测试类别"})["report_id"].iloc[0]
    lon, lat = parse_lonlat(where)
    fill_form(page, where=f"{lon + 0.0001:.6f}, {lat:.6f}")  # about 8 m east
    page.run()
    assert any("同类诉求" in w.value for w in page.warning)
    assert page.selectbox(key="rep_link_to").value == first
    page.button(key="rep_link").click().run()
    rows = store.read_attributes("reports", where={"category": "测试类别"})
    assert len(rows) == 2
    assert rows.loc[rows["report_id"] != first, "duplicate_of"].tolist() == [first]


def test_a_grid_worker_is_not_offered_another_grids_report_as_a_duplicate(demo_store):
    store = open_store(demo_store)
    where, other_grid = inside_point(demo_store, 3)
    own_grid = inside_point(demo_store, 0)[1]
    lon, lat = parse_lonlat(where)
    filed = file_report(
        store, source="hotline", category="测试类别", lon=lon, lat=lat, actor="someone"
    )
    assert filed.grid_id == other_grid != own_grid
    at = signed_in_app(demo_store, "worker1", "grid_worker", grids=[own_grid])
    fill_form(at, where=f"{lon + 0.0001:.6f}, {lat:.6f}")  # about 8 m away, same category
    at.run()
    assert not at.exception
    assert not any("同类诉求" in w.value for w in at.warning)
    assert not any(filed.report_id in str(df.value.to_dict()) for df in at.dataframe)


def test_workflow_buttons_go_forward_and_refusals_write_nothing(page, demo_store):
    """响应 and 办结 through the case actions (the desk's code path); the return visit and
    结案 on the case desk, opened on the same case: a return visit needs its method and the
    resident's answer, and closing comes after it."""
    store = open_store(demo_store)
    where, _ = inside_point(demo_store, 1)
    fill_form(page, where=where)
    page.button(key="rep_submit").click().run()
    report_id = page.selectbox(key="rep_detail").value

    version = store.version()
    page.button(key="rep_do_resolved").click().run()
    assert any("应先“响应”" in e.value for e in page.error)
    assert store.version() == version

    page.button(key="rep_do_responded").click().run()
    assert "已记录“响应”" in page.success[0].value
    page.button(key="rep_do_resolved").click().run()
    assert not any(b.key == "rep_do_followed_up" for b in page.button)  # not recorded here
    page.button(key="rep_to_desk").click().run()
    assert not page.exception
    assert page.title[0].value == "案件办理（接诉即办）"
    assert page.selectbox(key="case_selected").value == report_id  # the same case, open
    offered = page.segmented_control(key=f"case_action_{report_id}")
    assert "结案" not in offered.options  # not before the return visit
    page.switch_page("pages/cases.py").run()  # AppTest's own page follows st.switch_page
    assert page.selectbox(key="case_selected").value == report_id
    page.segmented_control(key=f"case_action_{report_id}").set_value("followed_up").run()
    version = store.version()
    page.button(key="case_do_followed_up").click().run()  # no answer chosen
    assert any("满意" in e.value for e in page.error)
    assert store.version() == version
    page.radio(key="case_method").set_value("phone")
    page.radio(key="case_satisfaction").set_value("satisfied")
    page.button(key="case_do_followed_up").click().run()
    row = store.read_attributes("reports", where={"report_id": report_id}).iloc[0]
    assert row["satisfaction"] == "satisfied" and isinstance(row["followed_up_at"], str)
    assert row["followup_method"] == "phone"
    steps = store.read_attributes("report_steps", where={"report_id": report_id})
    assert sorted(steps["step"]) == sorted(["reported", "responded", "resolved", "followed_up"])
    assert set(steps["actor"]) == {ACTOR}  # the signed-in user
    page.segmented_control(key=f"case_action_{report_id}").set_value("closed").run()
    page.button(key="case_do_closed").click().run()
    assert isinstance(
        store.read_attributes("reports", where={"report_id": report_id}).iloc[0]["closed_at"], str
    )


def test_filing_and_steps_while_an_import_holds_the_store_say_so_and_keep_the_form(
    page, demo_store, monkeypatch
):
    import sqlite3

    from geo.store import geopackage as store_module

    store = open_store(demo_store)
    where, _ = inside_point(demo_store, 1)
    fill_form(page, where=where)
    page.button(key="rep_submit").click().run()
    report_id = page.selectbox(key="rep_detail").value
    monkeypatch.setattr(store_module, "WRITE_WAIT_SECONDS", 0.3)
    fill_form(page, where=where, category="另一件事")
    reports, version = store.count("reports"), store.version()
    importer = sqlite3.connect(demo_store, isolation_level=None)
    importer.execute("BEGIN IMMEDIATE")  # an import's final copy holds the write lock
    try:
        page.button(key="rep_submit").click().run()
        assert not page.exception
        assert any("数据正在导入，暂时无法保存" in w.value for w in page.warning)
        assert page.text_area(key="rep_description").value == "楼道灯坏了"  # kept
        page.selectbox(key="rep_detail").set_value(report_id).run()
        page.button(key="rep_do_responded").click().run()
        assert not page.exception
        assert any("数据正在导入，暂时无法保存" in w.value for w in page.warning)
    finally:
        importer.execute("ROLLBACK")
        importer.close()
    assert (store.count("reports"), store.version()) == (reports, version)
    page.button(key="rep_do_responded").click().run()  # pressed again once the import is done
    assert "已记录“响应”" in page.success[0].value


def test_filters_narrow_the_table(page, demo_store):
    page.radio(key="rep_window").set_value("30d").run()
    everything = next(df.value for df in page.dataframe if "办结时限" in df.value.columns)
    page.multiselect(key="rep_f_sources").set_value(["hotline"]).run()
    hotline = next(df.value for df in page.dataframe if "办结时限" in df.value.columns)
    assert 0 < len(hotline) < len(everything)
    assert set(hotline["来源"]) == {"12345热线"}


def test_a_grid_worker_sees_only_their_grids_reports(demo_store):
    grid_id = (
        open_store(demo_store).read_attributes("reports", ["grid_id"])["grid_id"].dropna().iloc[0]
    )
    at = signed_in_app(demo_store, "worker1", "grid_worker", grids=[grid_id])
    at.radio(key="rep_window").set_value("30d").run()
    table = next(df.value for df in at.dataframe if "办结时限" in df.value.columns)
    assert len(table) and set(table["网格"]) == {grid_id}
    assert set(map_payload(at)["r"]["id"]) == set(table["编号"])


def test_a_grid_worker_files_in_their_own_grids_and_keeps_seeing_the_report(demo_store):
    store = open_store(demo_store)
    own_point, own_grid = inside_point(demo_store, 0)
    other_point, other_grid = inside_point(demo_store, 5)
    at = signed_in_app(demo_store, "worker2", "grid_worker", grids=[own_grid])
    version = store.version()
    fill_form(at, where=other_point)
    at.button(key="rep_submit").click().run()
    assert any("不在您负责的网格内" in e.value for e in at.error), [e.value for e in at.error]
    assert not any(other_grid in e.value for e in at.error)
    assert store.version() == version

    fill_form(at, where=own_point)
    at.button(key="rep_submit").click().run()
    name = store.read_attributes("grids", ["name"], where={"grid_id": own_grid})["name"].iloc[0]
    message = at.success[0].value
    assert md(f"归属网格 {own_grid} · {name}，") in message  # Markdown-escaped (ui.text.md)
    filed = store.read_attributes("reports", where={"category": "测试类别"})["report_id"].iloc[0]
    table = next(df.value for df in at.dataframe if "办结时限" in df.value.columns)
    assert filed in set(table["编号"])  # still in the filer's own list
    assert at.selectbox(key="rep_detail").value == filed


def test_heat_map_and_custom_range(page):
    page.toggle(key="rep_heat").set_value(True).run()
    assert map_payload(page)["heat"] is True
    page.radio(key="rep_window").set_value("custom").run()
    assert not page.exception
    assert len(page.date_input(key="rep_range").value) == 2


def png_bytes() -> bytes:
    """A real 4x3 PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("photo", "images"), [(png_bytes(), 1), (b"\x89PNG\r\n\x1a\n" + bytes(64), 0)]
)
def test_detail_shows_the_photo_and_timeline(page, demo_store, photo, images):
    png = photo
    where, _ = inside_point(demo_store, 2)
    lon, lat = parse_lonlat(where)
    store = open_store(demo_store)
    filed = file_report(
        store,
        source="hotline",
        category="供暖问题",
        lon=lon,
        lat=lat,
        actor="clerk",
        photo=png if images else None,
    )
    if not images:  # a damaged photo is refused at intake now: one kept before that
        with store.transaction() as tx:
            tx.update(
                "reports", {"report_id": filed.report_id}, {"photo": f"photos/{filed.report_id}"}
            )
            tx.append(
                "photos",
                pd.DataFrame([{"report_id": filed.report_id, "mime": "image/png", "data": png}]),
            )
    page.run()
    page.selectbox(key="rep_detail").set_value(filed.report_id).run()
    assert not page.exception
    assert len(page.get("image")) == images
    if not images:  # a damaged photo is named, not a crash
        assert any("无法显示" in c.value for c in page.caption)
    timeline = next(df.value for df in page.dataframe if "环节" in df.value.columns)
    assert timeline["经办人"].tolist() == ["clerk"]


def test_english(page):
    page.session_state["ui_lang"] = "en"  # the sidebar's language choice
    page.run()
    assert not page.exception
    assert page.title[0].value == "Citizen reports: intake and follow-through"


# --- pure helpers of ui.reports ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("111.662, 40.816", (111.662, 40.816)),
        ("111.662，40.816", (111.662, 40.816)),  # full-width comma from a Chinese keyboard
        ("111.662 40.816", (111.662, 40.816)),
        ("１１１.６６２，４０.８１６", (111.662, 40.816)),  # full-width digits (IME)
        ("40.816, 111.662", (111.662, 40.816)),  # latitude first (as Google shows it)
        ("-0.5, 51.5", (-0.5, 51.5)),
    ],
)
def test_parse_lonlat(text, expected):
    assert parse_lonlat(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "111.6", "1, 2, 3"])
def test_parse_lonlat_refuses(text):
    with pytest.raises(ValueError):
        parse_lonlat(text)


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (100.5, "剩余4天4小时"),
        (5.2, "剩余5小时"),
        (0.0, "剩余0小时"),
        (-27.9, "超期1天3小时"),
        (float("nan"), ""),
    ],
)
def test_countdown(hours, expected):
    assert countdown(hours, "zh-CN") == expected


def test_window_bounds_and_filter():
    reference = dt.datetime(2026, 11, 27, 12, 0)
    assert window_bounds("24h", reference) == ("2026-11-26 12:00:00", "2026-11-27 12:00:00")
    assert window_bounds("custom", reference, (dt.date(2026, 11, 20), dt.date(2026, 11, 10))) == (
        "2026-11-10 00:00:00",
        "2026-11-20 23:59:59",
    )
    reports = pd.DataFrame(
        {
            "report_id": ["A", "B", "C"],
            "reported_at": ["2026-11-26 11:59:59", "2026-11-26 12:00:00", "2026-11-27 09:00:00"],
            "source": ["hotline", "observer", "observer"],
            "category": ["x", "x", "y"],
            "state": ["open", "overdue", "resolved"],
            "community": ["C1", None, "C1"],
            "grid_id": ["G1", None, "G2"],
            "hours_left": [10.0, -3.0, float("nan")],
        }
    )
    since, until = window_bounds("24h", reference)
    assert filter_reports(reports, since=since, until=until)["report_id"].tolist() == ["B", "C"]
    assert filter_reports(reports, since=since, until=until, community="C1")[
        "report_id"
    ].tolist() == ["C"]
    assert filter_reports(
        reports, since="", until="9", states=["open", "overdue"], sources=["observer"]
    )["report_id"].tolist() == ["B"]
    assert by_urgency(reports)["report_id"].tolist() == ["B", "A", "C"]


def test_the_table_key_changes_with_the_rows_and_their_order():
    from ui.tables import row_key

    assert row_key("t", ["R1", "R2"]) == row_key("t", ["R1", "R2"])
    assert row_key("t", ["R1", "R2"]) != row_key("t", ["R2", "R1"])  # reordered by a step
    assert row_key("t", ["R1", "R2"]) != row_key("t", ["R1", "R2", "R3"])


def test_a_selection_is_acted_upon_once():
    from ui.tables import newly_picked

    picked, seen = newly_picked("k1", [1], ["R1", "R2"], None)
    assert picked == "R2"
    assert newly_picked("k1", [1], ["R1", "R2"], seen)[0] is None  # the same click, next run
    assert newly_picked("k1", [0], ["R1", "R2"], seen)[0] == "R1"
    assert newly_picked("k1", [], ["R1", "R2"], seen)[0] is None


@pytest.mark.parametrize(
    ("shown", "selected", "expected"),
    [
        (["R1", "R2"], "R2", ["R1", "R2"]),
        (["R1", "R2"], "R3", ["R3", "R1", "R2"]),  # filtered out but visible: kept, first
        (["R1", "R2"], "R9", ["R1", "R2"]),  # not visible to this viewer (or gone)
        ([], None, []),
    ],
)
def test_detail_choices(shown, selected, expected):
    from ui.reports import detail_choices

    assert detail_choices(shown, {"R1", "R2", "R3"}, selected) == expected


def test_a_grid_worker_filing_in_another_grid_is_refused_without_naming_it(demo_store):
    # issue 18: a grid worker files within reach of their own grids (else the report would
    # vanish from their list); the refusal names neither that grid nor who answers for it
    store = open_store(demo_store)
    grids = store.read_attributes("grids", ["grid_id"])["grid_id"]
    own, other = grids.iloc[0], grids.iloc[1]
    at = signed_in_app(demo_store, "worker_outside", "grid_worker", grids=[own])
    where, located = inside_point(demo_store, 1)
    assert located == other
    version = store.version()
    fill_form(at, where=where)
    at.button(key="rep_submit").click().run()
    assert not at.exception
    assert store.version() == version  # nothing filed
    assert any("不在您负责的网格内" in e.value for e in at.error)
    staff = store.read_attributes("staff", ["staff_id", "name"], where={"grid_id": other})
    shown = " ".join(
        e.value for kind in ("success", "info", "warning", "error") for e in getattr(at, kind)
    )
    leaked = [
        v for v in [*staff["name"], *staff["staff_id"], other] if v in shown or md(v) in shown
    ]
    assert leaked == []
