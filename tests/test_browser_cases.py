"""Browser test of the case desk (marker ``browser``): a street leader opens 案件办理, picks a
case in the list, transfers it (转派) with a reason, and sees it in the case's timeline; the
transfer is in the store and the audit log. Offline: the ``page`` fixture fails the test on
any request that leaves the machine."""

from __future__ import annotations

import re

import pytest
from signin import browser_sign_in

from geo.store import open_store

pytestmark = pytest.mark.browser

REASON = "经现场核实，转城管中队处理"


def _wait_idle(page) -> None:
    page.wait_for_function(
        """() => !['running', 'rerunRequested'].includes(
             document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state'))""",
        timeout=60_000,
    )


def test_a_leader_transfers_a_case_on_the_desk(page, app_server, offline):
    browser_sign_in(page, app_server.url, app_server.location, "street_leader", "cases_leader")
    page.get_by_role("link", name="案件办理").click()
    page.get_by_text("案件详情与办理").wait_for(timeout=90_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    # the desk opens on the first action the rules allow: for a leader on an owned case, 转派
    page.get_by_text("交给", exact=True).wait_for(timeout=60_000)
    page.get_by_label("理由").fill(REASON)
    page.get_by_role("button", name="确认转派").click()
    done = page.get_by_text(re.compile(r"^R\d+：已转派"))
    done.wait_for(timeout=60_000)
    report_id = done.inner_text().split("：")[0].strip()
    _wait_idle(page)
    # the transfer is in the case's timeline: from the owner before it, with the reason
    events = open_store(app_server.location).read("case_events", where={"report_id": report_id})
    moves = events[events["event"].isin(["assigned", "transferred"])].sort_values("event_no")
    mine = moves[moves["actor"] == "cases_leader"]
    assert len(mine) == 1 and mine["event"].iloc[0] == "transferred"
    assert mine["reason"].iloc[0] == REASON and mine.index[0] == moves.index[-1]
    before = moves.iloc[-2]
    owner_before = (before["owner_kind"], before["owner_id"])
    assert (mine["from_kind"].iloc[0], mine["from_id"].iloc[0]) == owner_before
    after = open_store(app_server.location).read("reports", where={"report_id": report_id})
    assert (after["owner_kind"].iloc[0], after["owner_id"].iloc[0]) != owner_before
    log = open_store(app_server.location).read("audit_log", where={"action": "case_transfer"})
    assert report_id in log["records"].tolist() and "cases_leader" in log["actor"].tolist()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert offline.external == []
