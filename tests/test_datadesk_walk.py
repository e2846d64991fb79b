"""The issue's walk, page by page (AppTest; stage 2 repeats it in Chromium through app.py):
an admin creates a community clerk and a grid worker; the clerk fills the households
template, uploads it, is pointed at a bad row, fixes it in the problems sheet, imports; the
grid worker logs two of today's visits and re-verifies a household; metrics and the audit
log show all of it."""

from __future__ import annotations

import io
import shutil
import tempfile

import openpyxl
import pytest
from datadesk import EAST, build_store  # noqa: F401
from streamlit.testing.v1 import AppTest
from test_datadesk_pages import ACCOUNTS_PAGE, DATA_PAGE, TODAY_PAGE, VERIFY_PAGE, page_as

from geo.access.audit import read_audit
from geo.access.auth import authenticate, load_viewer
from geo.inputs.problem_sheet import problems_xlsx
from geo.inputs.templates import template_file
from geo.metrics.contract import compute_metrics
from geo.store import open_store
from geo.timeutil import now_local
from ui import datadesk as desk
from ui import session


@pytest.fixture
def location(tmp_path, monkeypatch) -> str:
    folder = tmp_path / "store"
    folder.mkdir()
    location = build_store(folder)
    monkeypatch.setenv("GRIDMAP_DB", location)
    return location


def signed_in(page: str, location: str, username: str) -> AppTest:
    at = AppTest.from_file(page, default_timeout=60)
    at.session_state[session.VIEWER_KEY] = load_viewer(open_store(location), username)
    at.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    at.session_state[session.USER_KEY] = username
    return at


def create_account(admin: AppTest, name: str, role: str, **scope) -> str:
    admin.text_input(key="acc_add_name").input(name)
    admin.selectbox(key="acc_add_role").set_value(role)
    if "community" in scope:
        admin.selectbox(key="acc_add_community").set_value(scope["community"])
    if "grids" in scope:
        admin.multiselect(key="acc_add_grids").set_value(scope["grids"])
    admin.button(key="acc_add_submit").click().run()
    assert not admin.exception
    return admin.code[0].value  # the first password, shown once


def test_the_walk(location, tmp_path):
    store = open_store(location)
    # 1. the admin creates a community clerk and a grid worker
    admin = page_as(ACCOUNTS_PAGE, location, "root", "admin")
    admin.run()
    clerk_password = create_account(admin, "clerk1", "community_staff", community=EAST)
    worker_password = create_account(admin, "worker1", "grid_worker", grids=["G1"])
    assert authenticate(store, "clerk1", clerk_password).community == EAST
    assert authenticate(store, "worker1", worker_password).grids == ("G1",)

    # 2. the clerk fills the households template (one row with a typo in its longitude)
    template = template_file("households")
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    sheet = book.worksheets[0]
    sheet.delete_rows(2)  # the example row
    sheet.append(["H21", "111.7051", "40.8451", "独居老人", "一号楼101"])
    sheet.append(["H22", "111.70S", "40.8452", "空巢、留守老人 (65岁以上)", "一号楼102"])
    filled = tmp_path / template.file_name
    book.save(filled)

    # 3. uploads it: the preview points at row 3, column 经度, and nothing is written
    clerk = signed_in(DATA_PAGE, location, "clerk1")
    viewer = load_viewer(store, "clerk1")
    options = {"encoding": None, "coords": "wgs84", "crs": None, "replace": False}
    copy = desk.UploadedCopy(tempfile.mkdtemp(dir=tmp_path), filled.name, "households", options)
    shutil.copy(filled, copy.path)
    desk.preview_upload(location, viewer, copy, "zh-CN")
    clerk.session_state[desk.UPLOAD_KEY] = copy
    clerk.run()
    assert not clerk.exception
    problems = next(df.value for df in clerk.dataframe if "原因" in df.value.columns)
    assert problems[["行号", "列"]].values.tolist() == [["3", "*经度"]]

    # 4. fixes the row in the problems sheet and uploads that
    fixed_book = openpyxl.load_workbook(
        io.BytesIO(problems_xlsx(copy.path, copy.preview.problems(), copy.preview.report.headers))
    )
    rows = fixed_book.worksheets[0]
    header = [c.value for c in rows[1]]
    rows.cell(row=3, column=header.index("*经度") + 1).value = "111.7052"
    del fixed_book[fixed_book.sheetnames[1]]
    fixed = tmp_path / "fixed.xlsx"
    fixed_book.save(fixed)
    copy2 = desk.UploadedCopy(tempfile.mkdtemp(dir=tmp_path), "fixed.xlsx", "households", options)
    shutil.copy(fixed, copy2.path)
    desk.preview_upload(location, viewer, copy2, "zh-CN")
    clerk.session_state[desk.UPLOAD_KEY] = copy2
    clerk.run()
    assert {m.label: m.value for m in clerk.metric}["新增"] == "2"
    clerk.button(key="ds_commit").click().run()
    assert "已导入" in "\n".join(s.value for s in clerk.success)

    # 5. the grid worker logs two of today's visits (H21 is red: on the list, first)
    worker = signed_in(TODAY_PAGE, location, "worker1")
    worker.run()
    for _ in range(2):
        first = next(b for b in worker.button if b.key == "today_pick_0")
        first.click().run()
        worker.button(key="today_kind_home_0").click().run()
        assert not worker.exception
    logged = read_audit(store)
    assert logged[logged["action"] == "log_visit"]["actor"].tolist() == ["worker1", "worker1"]

    # 6. and re-verifies a household
    verify = signed_in(VERIFY_PAGE, location, "worker1")
    verify.run()
    verify.button(key="rv_same").click().run()
    assert not verify.exception

    # 7. the metrics and the audit log show all of it
    metrics = compute_metrics(store, now_local().date())
    assert metrics["households"]["total"] == 5
    assert metrics["freshness"]["verified_within_30_days"] >= 1
    actions = read_audit(store)["action"].tolist()
    for action in ("user_add", "import", "log_visit", "mark_verified"):
        assert action in actions
