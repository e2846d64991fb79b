"""The audit page in Chinese: action names and details in words, not the stored codes."""

import re
from pathlib import Path

import pytest
from signin import sign_in
from streamlit.testing.v1 import AppTest

from geo.access.audit import log_event
from geo.access.privacy import PERSONAL_COLUMNS
from geo.demo.build import build_demo
from geo.store import open_store
from ui.audit import action_label, detail_text

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
CODE = re.compile(r"[a-z]+_[a-z_]+|\b(?:export|reveal|weekly|worklist|xlsx|attempt|role)\b")


@pytest.mark.parametrize(
    ("action", "detail", "label", "text"),
    [
        ("reveal", ",".join(PERSONAL_COLUMNS), "查看完整个人信息", "户主、电话、身份证号"),
        ("export", "weekly 2026-11-27 xlsx", "导出", "周报 2026-11-27（XLSX）"),
        ("export", "worklist 2026-11-27 xlsx", "导出", "走访工作清单 2026-11-27（XLSX）"),
        ("sign_in", "street_leader", "登录", "街道领导"),
        ("sign_in_failed", "attempt 2", "登录失败", "第 2 次失败"),
        ("user_add", "wang role=grid_worker", "新增账号", "wang（角色：网格员）"),
        ("log_visit", "入户 2026-11-27 10:00:00", "登记走访", "入户 2026-11-27 10:00:00"),
        ("import", "households 住户.csv", "导入", "住户：住户.csv"),
    ],
)
def test_events_in_words(action, detail, label, text):
    assert action_label(action, "zh-CN") == label
    assert detail_text(action, detail, "zh-CN") == text


def test_an_unknown_action_is_shown_as_stored():
    assert action_label("something_new", "zh-CN") == "something_new"


def test_the_audit_page_shows_no_stored_codes(tmp_path, monkeypatch):
    location = str(tmp_path / "demo.gpkg")
    store = open_store(location)
    build_demo(store, households=300)
    monkeypatch.setenv("GRIDMAP_DB", location)
    log_event(store, "clerk", "reveal", ",".join(PERSONAL_COLUMNS), "H0000001")
    log_event(store, "clerk", "export", "weekly 2026-11-27 xlsx", "")
    log_event(store, "clerk", "log_visit", "入户 2026-11-27 10:00:00", ["H0000001"])
    at = sign_in(AppTest.from_file(APP, default_timeout=60).run(), location)
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    shown = " ".join(table["操作"]) + " " + " ".join(table["内容"])
    shown = shown.replace("test_admin", "")  # an account name is data, not a code
    assert "查看完整个人信息" in shown and "户主、电话、身份证号" in shown and "登录" in shown
    assert not CODE.search(shown), CODE.search(shown)
    options = at.selectbox(key="audit_action").options
    assert "导出" in options and not any(CODE.search(o) for o in options)
