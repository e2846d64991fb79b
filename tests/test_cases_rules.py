"""Who may do what with a case, and when: transfer, extension, return visit, closing."""

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from geo.cases.owners import Owner
from geo.cases.rules import (
    MAX_REASON_CHARS,
    Actor,
    CaseError,
    check_assign,
    check_close,
    check_extension_decision,
    check_extension_request,
    check_return_visit,
    check_transfer,
    check_work_step,
    grants_directly,
    is_owner,
)
from geo.cases.settings import case_settings
from geo.cases.timeline import CaseStatus

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = case_settings()
WORKER = Actor("王芳", "grid_worker", staff_id="S1")
OTHER_WORKER = Actor("李强", "grid_worker", staff_id="S2")
CLERK = Actor("社区张", "community_staff", community="东河社区")
LEADER = Actor("街道刘", "street_leader")
CITY_MGMT = Actor("城管赵", "department", department="urban_management")
PLANNER = Actor("规划", "planner")
SYSTEM = Actor("system", "system")


def case(**changes) -> CaseStatus:
    """An open case owned by grid worker S1, nothing done yet."""
    base = CaseStatus(
        report_id="R1",
        owner=Owner("staff", "S1"),
        responded=False,
        resolved=False,
        followed_up=False,
        closed=False,
        extensions=0,
        extension_hours=0.0,
        pending_request=None,
        pending_hours=None,
        next_seq=2,
    )
    return replace(base, **changes)


def refused(key: str, call, *args) -> None:
    with pytest.raises(CaseError) as caught:
        call(*args)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("actor", "owner", "expected"),
    [
        (WORKER, Owner("staff", "S1"), True),
        (OTHER_WORKER, Owner("staff", "S1"), False),
        (CITY_MGMT, Owner("department", "urban_management"), True),
        (CITY_MGMT, Owner("department", "police"), False),
        (WORKER, Owner("department", "urban_management"), False),
        (CLERK, Owner("mediation", "东河社区"), True),
        (CLERK, Owner("mediation", "北垣社区"), False),
        (LEADER, Owner("staff", "S1"), False),  # a manager, not the owner
        (WORKER, None, False),
    ],
)
def test_is_owner(actor, owner, expected):
    assert is_owner(actor, owner) is expected


def test_first_owner_by_system_or_manager():
    unowned = case(owner=None)
    check_assign(unowned, Owner("staff", "S1"), SYSTEM, SETTINGS)
    check_assign(unowned, Owner("staff", "S1"), CLERK, SETTINGS)
    refused(
        "case_err_assign_not_allowed", check_assign, unowned, Owner("staff", "S1"), WORKER, SETTINGS
    )
    refused("case_err_has_owner", check_assign, case(), Owner("staff", "S2"), LEADER, SETTINGS)


@pytest.mark.parametrize("actor", [WORKER, CLERK, LEADER])
def test_transfer_by_owner_or_manager_keeps_the_trimmed_reason(actor):
    to = Owner("department", "urban_management")
    assert check_transfer(case(), to, "  属城管职责  ", actor, SETTINGS) == "属城管职责"


@pytest.mark.parametrize(
    ("changes", "to", "reason", "actor", "key"),
    [
        ({}, Owner("department", "urban_management"), "", WORKER, "case_err_transfer_reason"),
        ({}, Owner("department", "urban_management"), "   ", WORKER, "case_err_transfer_reason"),
        ({}, Owner("department", "urban_management"), None, LEADER, "case_err_transfer_reason"),
        ({}, Owner("staff", "S1"), "again", LEADER, "case_err_same_owner"),
        ({}, Owner("staff", "S2"), "not mine", OTHER_WORKER, "case_err_transfer_not_allowed"),
        ({}, Owner("staff", "S2"), "x", PLANNER, "case_err_transfer_not_allowed"),
        ({"resolved": True}, Owner("staff", "S2"), "late", LEADER, "case_err_transfer_resolved"),
        ({"closed": True}, Owner("staff", "S2"), "late", LEADER, "case_err_closed"),
        (
            {},
            Owner("staff", "S2"),
            "x" * (MAX_REASON_CHARS + 1),
            LEADER,
            "case_err_reason_too_long",
        ),
    ],
)
def test_transfer_refusals(changes, to, reason, actor, key):
    refused(key, check_transfer, case(**changes), to, reason, actor, SETTINGS)


def test_department_may_hand_back_its_own_case():
    owned = case(owner=Owner("department", "urban_management"))
    assert check_transfer(owned, Owner("staff", "S1"), "属小区内部事务", CITY_MGMT, SETTINGS)


def test_extension_request_by_owner_and_grant_by_approver_only():
    assert check_extension_request(case(), 48, "等材料", WORKER, SETTINGS) == "等材料"
    assert not grants_directly(WORKER, SETTINGS) and not grants_directly(CLERK, SETTINGS)
    assert grants_directly(LEADER, SETTINGS)
    waiting = case(pending_request=3, pending_hours=48.0)
    # a clerk manages cases but does not approve extensions: an approver role is needed
    refused("case_err_not_approver", check_extension_decision, waiting, True, None, CLERK, SETTINGS)
    refused(
        "case_err_not_approver", check_extension_decision, waiting, True, None, WORKER, SETTINGS
    )
    assert check_extension_decision(waiting, True, None, LEADER, SETTINGS) is None
    assert check_extension_decision(waiting, False, "理由不足", LEADER, SETTINGS) == "理由不足"
    refused(
        "case_err_refusal_reason", check_extension_decision, waiting, False, " ", LEADER, SETTINGS
    )
    refused(
        "case_err_no_pending_extension",
        check_extension_decision,
        case(),
        True,
        None,
        LEADER,
        SETTINGS,
    )


@pytest.mark.parametrize(
    ("changes", "hours", "reason", "actor", "key"),
    [
        ({}, 48, "", WORKER, "case_err_extension_reason"),
        ({}, 0, "x", WORKER, "case_err_extension_hours"),
        ({}, -5, "x", WORKER, "case_err_extension_hours"),
        ({}, SETTINGS.max_extension_hours + 1, "x", WORKER, "case_err_extension_hours"),
        ({}, 12.5, "x", WORKER, "case_err_extension_hours"),
        ({}, 24, "x", OTHER_WORKER, "case_err_extend_not_allowed"),
        ({}, 24, "x", PLANNER, "case_err_extend_not_allowed"),
        ({"resolved": True}, 24, "x", WORKER, "case_err_extend_resolved"),
        ({"extensions": SETTINGS.max_extensions}, 24, "x", LEADER, "case_err_max_extensions"),
        (
            {"pending_request": 3, "pending_hours": 24.0},
            24,
            "x",
            WORKER,
            "case_err_extension_pending",
        ),
    ],
)
def test_extension_request_refusals(changes, hours, reason, actor, key):
    refused(key, check_extension_request, case(**changes), hours, reason, actor, SETTINGS)


def test_extension_at_the_maximum_hours_is_allowed():
    assert (
        check_extension_request(case(), SETTINGS.max_extension_hours, "x", LEADER, SETTINGS) == "x"
    )


def test_granting_a_request_after_the_case_was_resolved_is_refused():
    waiting = case(pending_request=3, pending_hours=48.0, resolved=True)
    refused(
        "case_err_extend_resolved", check_extension_decision, waiting, True, None, LEADER, SETTINGS
    )


def test_work_steps_by_owner_or_manager():
    check_work_step(case(), WORKER, SETTINGS)
    check_work_step(case(), CLERK, SETTINGS)
    refused("case_err_step_not_allowed", check_work_step, case(), OTHER_WORKER, SETTINGS)
    moved = case(owner=Owner("department", "urban_management"))
    check_work_step(moved, CITY_MGMT, SETTINGS)
    refused("case_err_step_not_allowed", check_work_step, moved, WORKER, SETTINGS)


def test_return_visit_rules():
    done = case(resolved=True)
    assert check_return_visit(done, "phone", " 社区张 ", CLERK, SETTINGS) == "社区张"
    assert check_return_visit(done, "visit", "王芳", WORKER, SETTINGS) == "王芳"
    refused("case_err_return_visit_method", check_return_visit, done, "email", "x", CLERK, SETTINGS)
    refused("case_err_return_visit_method", check_return_visit, done, None, "x", CLERK, SETTINGS)
    refused("case_err_return_visit_by", check_return_visit, done, "phone", "  ", CLERK, SETTINGS)
    handled = case(resolved=True, owner=Owner("department", "urban_management"))
    # the department that handled the case never makes its own return visit
    refused(
        "case_err_return_visit_not_allowed",
        check_return_visit,
        handled,
        "phone",
        "x",
        CITY_MGMT,
        SETTINGS,
    )
    refused(
        "case_err_return_visit_not_allowed",
        check_return_visit,
        done,
        "phone",
        "x",
        PLANNER,
        SETTINGS,
    )


def test_no_close_without_a_return_visit():
    refused(
        "case_err_close_without_return_visit", check_close, case(resolved=True), CLERK, SETTINGS
    )
    refused("case_err_close_unresolved", check_close, case(), CLERK, SETTINGS)
    refused(
        "case_err_close_not_allowed",
        check_close,
        case(resolved=True, followed_up=True),
        WORKER,
        SETTINGS,
    )
    check_close(case(resolved=True, followed_up=True), CLERK, SETTINGS)
    refused(
        "case_err_closed",
        check_close,
        case(resolved=True, followed_up=True, closed=True),
        LEADER,
        SETTINGS,
    )


def test_nothing_is_recorded_on_a_closed_case():
    closed = case(resolved=True, followed_up=True, closed=True)
    refused("case_err_closed", check_work_step, closed, LEADER, SETTINGS)
    refused("case_err_closed", check_extension_request, closed, 24, "x", LEADER, SETTINGS)
    refused("case_err_closed", check_return_visit, closed, "phone", "x", LEADER, SETTINGS)


def _draft_keys() -> set[str]:
    keys = set(tomllib.loads((ROOT / "geo" / "messages.toml").read_text(encoding="utf-8")))
    draft = ROOT / "notes-messages.toml"
    if draft.exists():
        keys |= set(tomllib.loads(draft.read_text(encoding="utf-8")))
    return keys


def test_every_refusal_names_a_catalogue_message():
    import re

    used = set()
    for path in (ROOT / "geo" / "cases").glob("*.py"):
        used |= set(re.findall(r'"(case_(?:err|hook)_[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used and sorted(used - _draft_keys()) == []
