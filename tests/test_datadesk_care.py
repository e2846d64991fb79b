"""Re-verification (due list, saves, month progress), today's visits for the phone, accounts admin."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from datadesk import build_store, digest, write_csv  # noqa: F401

from geo.access.accounts_admin import (
    account_table,
    change_own_password,
    reset_password,
    set_enabled,
    unlock,
)
from geo.access.audit import read_audit
from geo.access.auth import AuthError, add_user, authenticate
from geo.care.coverage import EditRefused, log_visit
from geo.care.reverification import (
    due_for_reverification,
    month_progress,
    save_reverification,
)
from geo.care.today import today_visits
from geo.inputs.importers.core import import_file
from geo.metrics.contract import compute_metrics
from geo.store import open_store
from geo.timeutil import now_local

TODAY = now_local().date()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    location = build_store(folder)
    store = open_store(location)
    fresh = (TODAY - dt.timedelta(days=3)).isoformat()
    stale = (TODAY - dt.timedelta(days=40)).isoformat()
    older = (TODAY - dt.timedelta(days=90)).isoformat()
    households = write_csv(
        folder / "verified.csv",
        f"户编号,经度,纬度,核实日期\nH1,111.705,40.845,{stale}\nH2,111.715,40.845,{fresh}\n"
        f"H4,111.706,40.846,{older}\nH5,111.707,40.846,\n",
    )
    assert import_file(store, "households", households).ok
    return location


@pytest.fixture
def location(template, tmp_path) -> str:
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    return str(target)


# --- re-verification ----------------------------------------------------------------


def test_due_list_is_the_unfresh_households_oldest_first(location):
    due = due_for_reverification(open_store(location), TODAY, ["G1", "G2"])
    # H5 never verified first, then H4 (90 days), H1 (40); H2 is fresh; H3 is not in scope
    assert due["household_id"].tolist() == ["H5", "H4", "H1"]
    assert due["days_since"].tolist()[1:] == [90, 40]


def test_no_change_verifies_and_the_freshness_figure_rises(location):
    store = open_store(location)
    before = compute_metrics(store, TODAY)["freshness"]["verified_within_30_days"]
    assert save_reverification(store, "H1", {"address": "一号楼"}, "worker") == []  # as stored
    assert "H1" not in due_for_reverification(store, TODAY, ["G1"])["household_id"].tolist()
    assert compute_metrics(store, TODAY)["freshness"]["verified_within_30_days"] == before + 1


def test_no_change_at_all_is_a_plain_verification(location):
    store = open_store(location)
    assert save_reverification(store, "H4", {}, "worker") == []
    audit = read_audit(store)
    assert audit.iloc[-1]["action"] == "mark_verified"
    history = store.read("verifications", where={"household_id": "H4"})
    assert TODAY.isoformat() in history["verified_on"].tolist()


def test_changes_are_saved_with_history_and_audit_naming_fields_only(location):
    store = open_store(location)
    changed = save_reverification(
        store, "H4", {"categories": "红、粉", "members": "3", "phone": "138 0000 1111"}, "worker"
    )
    assert changed == ["categories", "members", "phone"]
    row = store.read("households", where={"household_id": "H4"}).iloc[0]
    assert (row["categories"], int(row["members"]), row["phone"]) == (
        "red;pink",
        3,
        "138 0000 1111",
    )
    assert row["last_verified"] == TODAY.isoformat()
    last = read_audit(store).iloc[-1]
    assert last["action"] == "reverify" and last["detail"] == "categories,members,phone"
    assert "138" not in str(last.to_dict())  # values are personal: never in the log


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"categories": "彩虹"}, "ds_rv_bad_category"),
        ({"members": "-1"}, "ds_rv_bad_members"),
        ({"members": "1000"}, "ds_rv_bad_members"),
        ({"phone": "=HYPERLINK(1)"}, "ds_rv_bad_phone"),
        ({"address": "x" * 201}, "ds_rv_long_address"),
        ({"head_name": "李四"}, "ds_rv_not_editable"),
    ],
)
def test_bad_edits_are_refused_and_write_nothing(location, changes, key):
    before = digest(location)
    with pytest.raises(EditRefused) as refused:
        save_reverification(open_store(location), "H4", changes, "worker")
    assert refused.value.key == key
    assert digest(location) == before


def test_month_progress_per_grid(location):
    store = open_store(location)
    save_reverification(store, "H4", {}, "worker")
    progress = month_progress(store, TODAY, ["G1", "G2"]).set_index("grid_id")
    assert progress.loc["G1", "households"] == 3  # H1, H4, H5
    assert progress.loc["G1", "verified"] == 1  # H4 today; H1 (40 days ago) was another month
    g2_fresh_this_month = (TODAY - dt.timedelta(days=3)).month == TODAY.month
    assert progress.loc["G2", "verified"] == int(g2_fresh_this_month)


# --- today's visits ---------------------------------------------------------------------


def test_today_red_first_with_colours(location, tmp_path):
    store = open_store(location)
    upload = write_csv(
        tmp_path / "c.csv",
        "户编号,经度,纬度,类别\nH4,111.706,40.846,粉\nH5,111.707,40.846,黄;红\nH6,111.708,40.846,黄\n",
    )
    assert import_file(store, "households", upload).ok
    rows = today_visits(store, TODAY, ["G1"])
    # H1 (red, visited long ago) and H5 (holds red) first, then yellow H6, then pink H4
    assert rows["first_category"].tolist() == ["red", "red", "yellow", "pink"]
    assert set(rows["household_id"][:2]) == {"H1", "H5"}
    assert rows["colour"].iloc[0].startswith("#")
    assert "H3" not in rows["household_id"].tolist()  # another grid


# --- accounts -----------------------------------------------------------------------------


@pytest.fixture
def accounts(location):
    store = open_store(location)
    add_user(store, "root", "admin", "root-password-1", actor="test")
    add_user(
        store, "clerk", "community_staff", "clerk-password-1", community="东门社区", actor="test"
    )
    return store


def test_account_table_has_no_hashes_and_shows_locks(accounts):
    for _ in range(5):
        with pytest.raises(AuthError):
            authenticate(accounts, "clerk", "wrong-password")
    table = account_table(accounts)
    assert "password_hash" not in table.columns
    assert table.set_index("username")["status"].to_dict() == {"clerk": "locked", "root": "active"}
    unlock(accounts, "clerk", "root")
    assert account_table(accounts).set_index("username")["status"]["clerk"] == "active"
    assert read_audit(accounts).iloc[-1]["action"] == "user_unlock"


def test_reset_password_is_returned_once_and_works(accounts):
    password = reset_password(accounts, "clerk", "root")
    assert len(password) == 12 and password not in str(read_audit(accounts).to_dict())
    assert authenticate(accounts, "clerk", password).username == "clerk"
    assert reset_password(accounts, "clerk", "root") != password


def test_change_own_password_checks_the_current_one(accounts):
    with pytest.raises(AuthError):
        change_own_password(accounts, "clerk", "not-it-at-all", "new-password-22")
    change_own_password(accounts, "clerk", "clerk-password-1", "new-password-22")
    assert authenticate(accounts, "clerk", "new-password-22").role == "community_staff"
    with pytest.raises(AuthError):
        change_own_password(accounts, "clerk", "new-password-22", "new-password-22")


def test_an_admin_cannot_disable_themselves_or_the_last_admin(accounts):
    with pytest.raises(AuthError) as own:
        set_enabled(accounts, "root", False, actor="root")
    assert own.value.msg.key == "ds_acc_not_self"
    add_user(accounts, "root2", "admin", "root-password-2", actor="test")
    set_enabled(accounts, "root", False, actor="root2")
    with pytest.raises(AuthError) as last:
        set_enabled(accounts, "root2", False, actor="someone")
    assert last.value.msg.key == "ds_acc_last_admin"
    set_enabled(accounts, "clerk", False, actor="root2")
    assert account_table(accounts).set_index("username")["status"]["clerk"] == "disabled"
    set_enabled(accounts, "clerk", True, actor="root2")
    assert account_table(accounts).set_index("username")["status"]["clerk"] == "active"


def test_a_household_visited_today_leaves_todays_list(location):
    store = open_store(location)
    assert "H1" in today_visits(store, TODAY, ["G1"])["household_id"].tolist()
    log_visit(store, "H1", now_local(), "home", None, None, "worker")
    assert "H1" not in today_visits(store, TODAY, ["G1"])["household_id"].tolist()
