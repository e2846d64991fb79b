"""AppTest of the data-desk pages, run on their own (stage 2 registers them in app.py).

A page runs with the session state app.py sets after a sign-in (viewer, sign-in time,
user name). AppTest cannot drive a file uploader, so an upload is placed in the session
as the page's uploader would leave it (``ui.datadesk.UploadedCopy``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from datadesk import EAST, build_store, digest, write_csv  # noqa: F401
from streamlit.testing.v1 import AppTest

from geo.access.audit import read_audit
from geo.access.auth import add_user, authenticate, load_viewer
from geo.store import open_store
from geo.timeutil import now_local
from ui import datadesk as desk
from ui import session

ROOT = Path(__file__).resolve().parents[1]
DATA_PAGE = str(ROOT / "pages" / "data.py")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def location(template, tmp_path, monkeypatch) -> str:
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    monkeypatch.setenv("GRIDMAP_DB", str(target))
    return str(target)


def page_as(page: str, location: str, username: str, role: str, **scope) -> AppTest:
    """``page`` with ``username`` (created with ``role`` if new) signed in, not yet run."""
    store = open_store(location)
    if store.read("users", where={"username": username}).empty:
        add_user(store, username, role, "a-long-password", actor="test", **scope)
    at = AppTest.from_file(page, default_timeout=60)
    at.session_state[session.VIEWER_KEY] = load_viewer(store, username)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = username
    return at


def uploaded(location, viewer, kind, name, text, lang="zh-CN", **options) -> desk.UploadedCopy:
    """What the page keeps after "check and preview" of a file ``name`` holding ``text``."""
    # next to the test's store: pytest's tmp folder, removed with it
    folder = tempfile.mkdtemp(prefix="upload-", dir=Path(location).parent)
    opts = {"encoding": None, "coords": "wgs84", "crs": None, "replace": False, **options}
    copy = desk.UploadedCopy(folder, name, kind, opts)
    copy.path.write_text(text, encoding="utf-8")
    desk.preview_upload(location, viewer, copy, lang)
    return copy


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.error, *at.success, *at.info, *at.warning, *at.caption)]
    return "\n".join(str(p) for p in parts)


def test_aggregate_roles_see_a_notice(location):
    at = page_as(DATA_PAGE, location, "u_planner", "planner")
    at.run()
    assert not at.exception
    assert "汇总" in texts(at)
    assert not at.button and not at.get("download_button")


def test_a_grid_worker_may_export_but_not_import(location):
    at = page_as(DATA_PAGE, location, "u_worker", "grid_worker", grids=["G1"])
    at.run()
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "ds_kind"]  # no import
    assert [s.key for s in at.selectbox] == ["ds_export_table"]
    assert len(at.get("download_button")) == 1


def test_a_clerk_sees_their_kinds_and_the_templates(location):
    at = page_as(DATA_PAGE, location, "clerk", "community_staff", community=EAST)
    at.run()
    assert not at.exception
    kinds = at.selectbox(key="ds_kind").options
    assert "辖区边界" not in kinds and "住户" in kinds
    assert not [c for c in at.checkbox if c.key == "ds_replace"]  # no replace for a clerk
    downloads = [b for b in at.get("download_button") if b.proto.id]
    assert len(downloads) == 5 + 1  # five templates and the export


def test_preview_then_commit_writes_and_audits(location):
    store = open_store(location)
    at = page_as(DATA_PAGE, location, "clerk", "community_staff", community=EAST)
    viewer = load_viewer(store, "clerk")
    copy = uploaded(
        location,
        viewer,
        "households",
        "东门住户.csv",
        "户编号,经度,纬度\nH1,111.705,40.845\nH8,111.706,40.846\n",
    )
    at.session_state[desk.UPLOAD_KEY] = copy
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"行数": "2", "新增": "1", "更新": "0", "无变化": "1"}
    at.button(key="ds_commit").click().run()
    assert not at.exception
    assert "已导入" in texts(at)
    assert "H8" in store.read("households")["household_id"].tolist()
    last = read_audit(store).iloc[-1]
    assert (last["actor"], last["action"], last["detail"]) == (
        "clerk",
        "import",
        "households 东门住户.csv new=1 changed=0 unchanged=1",
    )
    assert not copy.path.exists()  # the copy with personal data is gone


def test_a_clerk_is_refused_on_another_communitys_grid_and_nothing_is_written(location):
    store = open_store(location)
    at = page_as(DATA_PAGE, location, "clerk", "community_staff", community=EAST)
    viewer = load_viewer(store, "clerk")
    copy = uploaded(
        location, viewer, "households", "h.csv", "户编号,经度,纬度\nH9,111.725,40.845\n"
    )
    at.session_state[desk.UPLOAD_KEY] = copy
    before = digest(location)
    at.run()
    assert not at.exception
    assert "1 处问题" in texts(at)
    problems = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert problems.iloc[0]["行号"] == "2" and problems.iloc[0]["列"] == "经度"
    assert "本社区" in problems.iloc[0]["原因"]
    assert not [b for b in at.button if b.key == "ds_commit"]  # no import button
    assert digest(location) == before


def test_a_file_made_bad_after_its_preview_is_refused_at_commit(location):
    store = open_store(location)
    at = page_as(DATA_PAGE, location, "leader", "street_leader")
    viewer = load_viewer(store, "leader")
    copy = uploaded(location, viewer, "visits", "v.csv", "户编号,走访时间\nH1,2026-11-20\n")
    at.session_state[desk.UPLOAD_KEY] = copy
    at.run()
    copy.path.write_text("户编号,走访时间\nH404,2026-11-20\n", encoding="utf-8")
    before = digest(location)
    at.button(key="ds_commit").click().run()
    assert not at.exception
    assert "未写入" in texts(at)
    assert digest(location) == before


def test_replace_needs_a_confirmation(location):
    store = open_store(location)
    at = page_as(DATA_PAGE, location, "root", "admin")
    viewer = load_viewer(store, "root")
    copy = uploaded(
        location,
        viewer,
        "households",
        "all.csv",
        "户编号,经度,纬度\nH1,111.705,40.845\n",
        replace=True,
    )
    at.session_state[desk.UPLOAD_KEY] = copy
    at.run()
    assert "删除 2 条" in texts(at)
    assert at.button(key="ds_commit").disabled
    at.checkbox(key="ds_replace_ok").check().run()
    at.button(key="ds_commit").click().run()
    assert store.read("households")["household_id"].tolist() == ["H1"]


def test_english(location):
    at = page_as(DATA_PAGE, location, "root", "admin")
    at.session_state[session.LANG_KEY] = "en"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Data desk"


# --- accounts -----------------------------------------------------------------------------

ACCOUNTS_PAGE = str(ROOT / "pages" / "accounts.py")


def test_a_grid_worker_sees_only_their_own_password(location):
    at = page_as(ACCOUNTS_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    assert not at.exception
    assert not at.dataframe  # no list of accounts
    at.text_input(key="acc_current").input("a-long-password")
    at.text_input(key="acc_new").input("another-password-9")
    at.text_input(key="acc_repeat").input("another-password-9")
    at.button(key="acc_own_submit").click().run()
    assert not at.exception
    assert "密码已修改" in texts(at)

    assert authenticate(open_store(location), "worker", "another-password-9").username == "worker"


def test_an_admin_adds_a_clerk_and_sees_the_password_once(location):
    at = page_as(ACCOUNTS_PAGE, location, "root", "admin")
    at.run()
    assert not at.exception
    at.text_input(key="acc_add_name").input("clerkeast")
    at.selectbox(key="acc_add_role").set_value("community_staff")
    at.selectbox(key="acc_add_community").set_value(EAST)
    at.button(key="acc_add_submit").click().run()
    assert not at.exception
    assert "已创建账号 clerkeast" in texts(at)
    password = at.code[0].value

    assert authenticate(open_store(location), "clerkeast", password).community == EAST
    at.run()
    assert not at.code  # shown once
    table = at.dataframe[0].value
    assert "clerkeast" in table["用户名"].tolist()
    actions = read_audit(open_store(location))["action"].tolist()
    assert "user_add" in actions


def test_an_admin_resets_and_disables(location):
    store = open_store(location)
    add_user(store, "w2", "grid_worker", "w2-password-1", grids=["G2"], actor="test")
    at = page_as(ACCOUNTS_PAGE, location, "root", "admin")
    at.run()
    at.selectbox(key="acc_pick").set_value("w2").run()
    at.button(key="acc_reset").click().run()
    assert not at.exception
    password = at.code[0].value

    assert authenticate(store, "w2", password).username == "w2"
    at.selectbox(key="acc_pick").set_value("w2").run()
    at.button(key="acc_disable").click().run()
    assert "已停用 w2" in texts(at)
    assert int(store.read("users", where={"username": "w2"}).iloc[0]["disabled"]) == 1
    at.selectbox(key="acc_pick").set_value("root").run()
    at.button(key="acc_disable").click().run()
    assert "不能停用自己的账号" in texts(at)


# --- re-verification and today's visits -------------------------------------------------------

VERIFY_PAGE = str(ROOT / "pages" / "verify.py")
TODAY_PAGE = str(ROOT / "pages" / "today.py")


def test_a_grid_worker_verifies_a_household_without_change(location):
    store = open_store(location)
    at = page_as(VERIFY_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    assert not at.exception
    assert at.selectbox(key="rv_pick").options[0].startswith("H1")  # G1 holds H1 only
    assert not [d for d in at.dataframe if d.key == "rv_progress"]  # no community table
    at.button(key="rv_same").click().run()
    assert not at.exception
    assert "H1 已核实" in texts(at)
    assert store.read("households", where={"household_id": "H1"}).iloc[0]["last_verified"]
    assert "所有住户均已在 30 天内核实" in texts(at)
    assert read_audit(store).iloc[-1]["actor"] == "worker"


def test_a_grid_worker_edits_and_saves(location):
    store = open_store(location)
    at = page_as(VERIFY_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    at.multiselect(key="rv_categories").select("pink")
    at.text_input(key="rv_members_H1").input("2")
    at.button(key="rv_save").click().run()
    assert not at.exception
    assert "H1 已核实并更新" in texts(at)
    row = store.read("households", where={"household_id": "H1"}).iloc[0]
    assert (row["categories"], int(row["members"])) == ("red;pink", 2)


def test_a_bad_edit_is_refused_on_the_page(location):
    at = page_as(VERIFY_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    before = digest(location)  # the account exists by now
    at.text_input(key="rv_members_H1").input("x")
    at.button(key="rv_save").click().run()
    assert "人数应为" in texts(at)
    assert digest(location) == before


def test_a_community_view_shows_progress_per_grid(location):
    at = page_as(VERIFY_PAGE, location, "clerk", "community_staff", community=EAST)
    at.run()
    assert not at.exception
    progress = next(
        d.value for d in at.dataframe if d.key == "rv_progress" or "网格" in d.value.columns
    )
    assert progress["网格"].tolist() == ["G1", "G2"]  # 东门's grids only
    assert {o.split(" ")[0] for o in at.selectbox(key="rv_pick").options} == {"H1", "H2"}


def test_today_lists_red_first_and_logs_in_two_taps(location):
    store = open_store(location)
    at = page_as(TODAY_PAGE, location, "worker", "grid_worker", grids=["G1", "G2"])
    at.run()
    assert not at.exception
    picks = [b for b in at.button if b.key.startswith("today_pick_")]
    assert picks[0].label.startswith("H1") and "独居老人" in picks[0].label  # red before yellow H2
    visits_before = len(store.read("visits"))
    picks[0].click().run()  # tap 1: the household
    at.button(key="today_kind_phone_0").click().run()  # tap 2: how it was visited
    assert not at.exception
    assert "已记录：H1（电话）" in texts(at)
    visits = store.read("visits")
    assert len(visits) == visits_before + 1
    assert visits.iloc[-1]["kind"] == "电话"
    # H1 (red, daily) is visited today: the list now starts with H2
    picks = [b for b in at.button if b.key.startswith("today_pick_")]
    assert picks[0].label.startswith("H2")


def test_today_for_a_clerk_is_one_grid_of_their_community(location):
    at = page_as(TODAY_PAGE, location, "clerk", "community_staff", community=EAST)
    at.run()
    assert not at.exception
    assert at.selectbox(key="today_grid").options == ["G1", "G2"]


def test_today_is_not_for_planners(location):
    at = page_as(TODAY_PAGE, location, "planner1", "planner")
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.key and b.key.startswith("today_")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("东门 住户（1）.CSV", "东门 住户(1).csv"),
        ("a/b\\c.xlsx", "c.xlsx"),
        ("<img src=x>.csv", "img src_x.csv"),
    ],
)
def test_an_uploaded_name_becomes_a_plain_file_name(name, expected):
    assert desk.safe_name(name) == expected


def test_the_preview_masks_personal_fields(location):
    store = open_store(location)
    at = page_as(DATA_PAGE, location, "root", "admin")
    viewer = load_viewer(store, "root")
    copy = uploaded(
        location,
        viewer,
        "households",
        "p.csv",
        "户编号,经度,纬度,户主姓名,电话,类别\nH8,111.706,40.846,张三丰,13812345678,红\n",
    )
    at.session_state[desk.UPLOAD_KEY] = copy
    at.run()
    assert not at.exception
    head = next(d.value for d in at.dataframe if "户主姓名" in d.value.columns)
    assert head.iloc[0]["户主姓名"] == "张**" and "1234" not in head.iloc[0]["电话"]
    assert head.iloc[0]["类别"] == "独居老人"  # a category's name, not its code


def test_the_uploader_speaks_of_files_not_photos(location):
    at = page_as(DATA_PAGE, location, "root", "admin")
    at.run()
    css = "\n".join(str(h.proto.body) for h in at.get("html"))
    assert '"选择文件"' in css and "选择照片" not in css
    assert "文件，且不超过 200 MB" in css


# --- 随手拍 on a phone ------------------------------------------------------------------------

SNAP_PAGE = str(ROOT / "pages" / "snap.py")


def test_a_grid_worker_files_at_a_household(location):
    store = open_store(location)
    at = page_as(SNAP_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    assert not at.exception
    assert at.button(key="snap_file").disabled  # nothing said yet
    assert at.selectbox(key="snap_source").value == "patrol"
    assert at.selectbox(key="snap_household").options == ["H1 · 一号楼"]  # the worker's grid only
    at.text_input(key="snap_category_0").input("楼道堆物").run()
    at.button(key="snap_file").click().run()
    assert not at.exception
    assert "已上报" in texts(at)
    reports = store.read("reports")
    assert reports["category"].tolist() == ["楼道堆物"]
    assert reports["grid_id"].tolist() == ["G1"] and reports["source"].tolist() == ["patrol"]
    assert round(reports.geometry.iloc[0].x, 3) == 111.705
    # the same matter again, at the same place: the guard offers to link it
    at.text_input(key="snap_category_1").input("楼道堆物").run()
    assert "可能是同一件事" in texts(at)
    at.button(key="snap_file").click().run()
    assert store.read("reports")["duplicate_of"].tolist()[-1] == reports["report_id"].iloc[0]


def test_a_position_outside_the_workers_grids_is_refused(location):
    store = open_store(location)
    at = page_as(SNAP_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    at.radio(key="snap_where").set_value("typed").run()
    at.text_input(key="snap_category_0").input("路灯不亮")
    at.text_input(key="snap_position_0").input("111.725, 40.845")  # G3, another community
    at.radio(key="snap_coords").set_value("wgs84").run()
    at.button(key="snap_file").click().run()
    assert not at.exception
    assert at.error and store.read("reports").empty


def test_a_tap_on_the_map_inside_the_workers_grid_is_filed_there(location):
    store = open_store(location)
    at = page_as(SNAP_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    at.radio(key="snap_where").set_value("map").run()
    assert not at.exception
    maps = [c for c in at.get("component_instance") if "folium" in str(c.proto).lower()]
    assert len(maps) == 1  # the reports page's picker (st_folium), the worker's grid drawn
    assert "点一下" in texts(at) and at.button(key="snap_file").disabled
    # what the map's click callback leaves (ui.reports.report_map's on_pick)
    at.session_state["snap_tapped_0"] = (111.7032, 40.8471, "wgs84")
    at.text_input(key="snap_category_0").input("井盖破损").run()
    assert "已选定位置：网格 G1" in texts(at)
    assert not at.button(key="snap_file").disabled
    at.button(key="snap_file").click().run()
    assert not at.exception and "已上报" in texts(at)
    filed = store.read("reports")
    assert filed["grid_id"].tolist() == ["G1"]
    point = filed.geometry.iloc[0]
    assert (round(point.x, 6), round(point.y, 6)) == (111.7032, 40.8471)
    assert "snap_tapped_1" not in at.session_state  # the next report starts without a tap


def test_a_tap_outside_the_workers_grids_is_refused_in_chinese(location):
    store = open_store(location)
    at = page_as(SNAP_PAGE, location, "worker", "grid_worker", grids=["G1"])
    at.run()
    at.radio(key="snap_where").set_value("map").run()
    at.session_state["snap_tapped_0"] = (111.725, 40.845, "wgs84")  # G3, another community
    at.text_input(key="snap_category_0").input("井盖破损").run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "不能在此处上报：该位置在其他网格，不在您负责的网格内。请转交社区或街道登记。"
        "请在地图上重新点选。"
    ]
    assert at.button(key="snap_file").disabled and store.read("reports").empty


def test_an_admin_moves_a_worker_to_another_grid(location):
    store = open_store(location)
    add_user(store, "w3", "grid_worker", "w3-password-1", grids=["G1"], actor="test")
    at = page_as(ACCOUNTS_PAGE, location, "root", "admin")
    at.run()
    at.selectbox(key="acc_pick").set_value("w3").run()
    assert at.multiselect(key="acc_role_grids_w3").value == ["G1"]
    at.multiselect(key="acc_role_grids_w3").set_value(["G2"])
    at.button(key="acc_role_submit").click().run()
    assert not at.exception
    assert "已修改 w3 的角色与范围" in texts(at)
    assert load_viewer(store, "w3").grids == ("G2",)
    assert read_audit(store).iloc[-1]["action"] == "user_role"


def test_the_preview_draws_the_file_on_a_map_without_its_texts(location):
    store = open_store(location)
    at = page_as(DATA_PAGE, location, "root", "admin")
    copy = uploaded(
        location,
        load_viewer(store, "root"),
        "households",
        "m.csv",
        "户编号,经度,纬度,地址\nHX<b>1,111.706,40.846,<img src=x>\nHX2,111.95,40.95,\n",
    )
    at.session_state[desk.UPLOAD_KEY] = copy
    at.run()
    assert not at.exception
    maps = [c for c in at.get("component_instance") if "folium" in str(c.proto).lower()]
    assert len(maps) == 1
    drawn = str(maps[0].proto)
    assert "111.95" in drawn and "40.95" in drawn  # the point outside every grid
    assert "HX" not in drawn and "img" not in drawn  # geometry only: no text of the file


def test_a_single_point_is_centred_not_fitted(location):
    # Leaflet cannot fit the empty bounds of one point (NaN centre: the map never draws)
    store = open_store(location)
    add_user(store, "root2", "admin", "a-long-password", actor="test")
    viewer = load_viewer(store, "root2")
    one = uploaded(location, viewer, "households", "1.csv", "户编号,经度,纬度\nH8,111.706,40.846\n")
    html = desk.preview_map(location, one.preview, viewer).get_root().render()
    assert "fitBounds" not in html and "40.846" in html
    two = uploaded(
        location,
        viewer,
        "households",
        "2.csv",
        "户编号,经度,纬度\nH8,111.706,40.846\nH9,111.8,40.9\n",
    )
    assert "fitBounds" in desk.preview_map(location, two.preview, viewer).get_root().render()


def test_stale_upload_copies_are_purged(tmp_path, monkeypatch):
    import os
    import time

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = tmp_path / f"{desk.UPLOAD_PREFIX}old"
    fresh = tmp_path / f"{desk.UPLOAD_PREFIX}fresh"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "h.csv").write_text("x", encoding="utf-8")
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert desk.purge_stale_uploads() == 1
    assert not old.exists() and fresh.exists()
