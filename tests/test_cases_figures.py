"""Case and mediation figures on small data sets worked out by hand."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.cases.figures import case_figures, mediation_room_figures, mediation_totals
from geo.cases.mediation import (
    check_mediation,
    check_session,
    code_of,
    mediation_states,
    propose_kind,
)
from geo.cases.owners import Owner
from geo.cases.reminders import REMINDER_COLUMNS
from geo.cases.rules import CaseError
from geo.cases.settings import case_settings
from geo.cases.timeline import event_row

SETTINGS = case_settings()
MED = SETTINGS.mediation
AS_OF = dt.date(2026, 11, 27)
NOW = dt.datetime(2026, 11, 30, 9)
REPORT_COLUMNS = [
    "report_id",
    "source",
    "category",
    "grid_id",
    "reported_at",
    "responded_at",
    "resolved_at",
    "followed_up_at",
    "satisfaction",
    "duplicate_of",
    "owner_kind",
    "owner_id",
    "followup_method",
    "closed_at",
]


@pytest.fixture
def grids() -> pd.DataFrame:
    """G1, G2 in 东河社区; G3 in 北垣社区."""
    return pd.DataFrame(
        {"grid_id": ["G1", "G2", "G3"], "community": ["东河社区", "东河社区", "北垣社区"]}
    )


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=REPORT_COLUMNS[: len(rows[0])])
    for column in REPORT_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame.astype(object).where(frame.notna(), None)


# --- mediation room -------------------------------------------------------------------------

DISPUTES = [
    # id, source, category, grid, reported, responded, resolved, followed_up, satisfaction, dup
    (
        "D1",
        "dispute",
        "邻里纠纷",
        "G1",
        "2026-11-01 09:00:00",
        "2026-11-01 10:00:00",
        "2026-11-05 10:00:00",
        "2026-11-06 10:00:00",
        "satisfied",
        None,
    ),
    (
        "D2",
        "dispute",
        "家庭纠纷",
        "G2",
        "2026-11-10 09:00:00",
        "2026-11-10 10:00:00",
        "2026-11-15 10:00:00",
        "2026-11-16 10:00:00",
        "unsatisfied",
        None,
    ),
    (
        "D3",
        "dispute",
        "物业纠纷",
        "G1",
        "2026-11-20 09:00:00",
        "2026-11-20 10:00:00",
        None,
        None,
        None,
        None,
    ),
    ("D4", "dispute", "劳资纠纷", "G3", "2026-11-20 09:00:00", None, None, None, None, None),
    (
        "D5",
        "dispute",
        "邻里纠纷",
        "G3",
        "2026-11-03 09:00:00",
        "2026-11-03 10:00:00",
        "2026-11-08 10:00:00",
        "2026-11-09 10:00:00",
        "satisfied",
        None,
    ),
    (
        "D6",
        "petition",
        "物业纠纷",
        "G2",
        "2026-11-11 09:00:00",
        "2026-11-11 10:00:00",
        "2026-11-14 10:00:00",
        None,
        None,
        None,
    ),
    (
        "D7",
        "dispute",
        "邻里纠纷",
        "G1",
        "2026-11-28 09:00:00",
        None,
        None,
        None,
        None,
        None,
    ),  # after the as-of day
    (
        "D8",
        "dispute",
        "邻里纠纷",
        "G1",
        "2026-11-01 09:30:00",
        None,
        None,
        None,
        None,
        "D1",
    ),  # linked duplicate
    (
        "D9",
        "dispute",
        "邻里纠纷",
        None,
        "2026-11-02 09:00:00",
        None,
        None,
        None,
        None,
        None,
    ),  # outside every grid
    (
        "D10",
        "hotline",
        "环境卫生",
        "G1",
        "2026-11-02 09:00:00",
        None,
        None,
        None,
        None,
        None,
    ),  # not a dispute
    (
        "D11",
        "dispute",
        "邻里纠纷",
        "G2",
        "2026-11-25 09:00:00",
        None,
        None,
        None,
        None,
        None,
    ),  # session after as-of
]
MEDIATIONS = pd.DataFrame(
    [
        ("D1", "neighbour", "people", "东河社区", "2026-11-01 10:00:00"),
        ("D2", "marriage_family", "judicial", "东河社区", "2026-11-10 10:00:00"),
        ("D3", "property", "people", "东河社区", "2026-11-20 10:00:00"),
        ("D5", "neighbour", "people", "北垣社区", "2026-11-03 10:00:00"),
        ("D6", "property", "administrative", "东河社区", "2026-11-11 10:00:00"),
        ("D11", "neighbour", "people", "东河社区", "2026-11-25 10:00:00"),
    ],
    columns=["report_id", "dispute_kind", "mediation_type", "room", "opened_at"],
)
SESSIONS = pd.DataFrame(
    [
        ("D1", 1, "2026-11-02 15:00:00", "failed"),
        ("D1", 2, "2026-11-04 15:00:00", "success"),
        ("D2", 1, "2026-11-12 15:00:00", "litigation"),
        ("D3", 1, "2026-11-22 15:00:00", "failed"),
        ("D5", 1, "2026-11-05 15:00:00", "failed"),
        ("D6", 1, "2026-11-13 15:00:00", "success"),
        ("D11", 1, "2026-11-28 15:00:00", "success"),
    ],
    columns=["report_id", "session_no", "held_at", "outcome"],
)


def test_mediation_room_figures_by_hand(grids):
    table = mediation_room_figures(_frame(DISPUTES), grids, MEDIATIONS, SESSIONS, SETTINGS, AS_OF)
    rows = table.set_index("community")
    assert table["community"].tolist() == ["东河社区", "北垣社区"]  # sorted by text
    east, north = rows.loc["东河社区"], rows.loc["北垣社区"]
    # 东河: D1 success (2 sessions), D2 litigation, D3 ongoing, D6 success (a petition with a
    # record), D11 ongoing (its session comes after the as-of day)
    assert [
        east[c] for c in ("cases", "mediated", "success", "failed", "litigation", "ongoing")
    ] == [5, 4, 2, 0, 1, 2]
    assert east["success_rate"] == pytest.approx(0.6667)  # 2 of 3 concluded
    assert (east["response_rate"], east["completion_rate"], east["satisfaction_rate"]) == (
        0.8,
        0.6,
        0.5,
    )
    assert [east[f"kind_{k}"] for k in ("neighbour", "marriage_family", "property", "labour")] == [
        2,
        1,
        2,
        0,
    ]
    # 北垣: D5 failed (its report resolved after one failed session), D4 not yet taken up
    assert [
        north[c] for c in ("cases", "mediated", "success", "failed", "litigation", "ongoing")
    ] == [2, 1, 0, 1, 0, 1]
    assert (north["success_rate"], north["response_rate"], north["satisfaction_rate"]) == (
        0.0,
        0.5,
        1.0,
    )
    assert [north[f"kind_{k}"] for k in ("neighbour", "labour")] == [
        1,
        1,
    ]  # D4's kind from its category
    totals = mediation_totals(table, SETTINGS)
    assert {
        k: totals[k] for k in ("cases", "mediated", "success", "failed", "litigation", "ongoing")
    } == {"cases": 7, "mediated": 5, "success": 2, "failed": 1, "litigation": 1, "ongoing": 3}
    assert (
        totals["success_rate"],
        totals["response_rate"],
        totals["completion_rate"],
        totals["satisfaction_rate"],
    ) == (0.5, 0.7143, 0.5714, 0.6667)
    assert totals["by_kind"] == {
        "neighbour": 3,
        "marriage_family": 1,
        "environment": 0,
        "owners_committee": 0,
        "property": 2,
        "labour": 1,
        "other": 0,
    }


def test_mediation_figures_of_an_empty_street(grids):
    empty = _frame([DISPUTES[9]])  # one hotline report, no dispute
    table = mediation_room_figures(
        empty, grids, MEDIATIONS.iloc[:0], SESSIONS.iloc[:0], SETTINGS, AS_OF
    )
    assert table.empty
    totals = mediation_totals(table, SETTINGS)
    assert totals["cases"] == 0 and totals["success_rate"] is None


def test_mediation_states_as_of_a_day():
    resolved = pd.Series({"D1": True, "D3": False, "D5": True})
    records = pd.DataFrame({"report_id": ["D1", "D3", "D5", "D9"]})
    states = mediation_states(records, SESSIONS, resolved, "2026-11-04", MED)
    # before 11-04: D1 had one failed session and (the caller says) is resolved -> failed;
    # D5's session comes later, D3 and D9 have none
    assert states.to_dict() == {"D1": "failed", "D3": "none", "D5": "none", "D9": "none"}
    states = mediation_states(records, SESSIONS, resolved, "2026-11-28", MED)
    assert states.to_dict() == {"D1": "success", "D3": "ongoing", "D5": "failed", "D9": "none"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("neighbour", "neighbour"),
        ("邻里", "neighbour"),
        (" 婚姻家庭 ", "marriage_family"),
        ("拆迁", None),
    ],
)
def test_dispute_kind_by_code_or_name(value, expected):
    assert code_of(value, MED.kinds) == expected


def test_kind_proposed_from_category():
    assert propose_kind("邻里纠纷", MED) == "neighbour" and propose_kind("别的", MED) == "other"


def test_check_mediation_record():
    assert check_mediation("邻里", "人民调解", MED) == ("neighbour", "people")
    with pytest.raises(CaseError) as caught:
        check_mediation("拆迁", "people", MED)
    assert caught.value.key == "case_err_dispute_kind"
    with pytest.raises(CaseError) as caught:
        check_mediation("neighbour", "仲裁", MED)
    assert caught.value.key == "case_err_mediation_type"


REPORT = {"report_id": "D1", "reported_at": "2026-11-01 09:00:00", "closed_at": None}
STAFF = ["S1", "S7", "S9"]


def _session(
    sessions, at, outcome="success", mediators=(("S7", "老党员"), ("S9", "judicial")), report=REPORT
):
    return check_session(report, sessions, at, outcome, mediators, STAFF, NOW, MED)


def test_session_accepted_with_capacities_by_name_or_code():
    outcome, pairs = _session(SESSIONS.iloc[:0], dt.datetime(2026, 11, 2, 15), "调解成功")
    assert outcome == "success" and pairs == [("S7", "old_party_member"), ("S9", "judicial")]


@pytest.mark.parametrize(
    ("sessions", "at", "outcome", "mediators", "report", "key"),
    [
        (
            SESSIONS.iloc[:0],
            dt.datetime(2026, 11, 2),
            "draw",
            (("S7", "老党员"),),
            REPORT,
            "case_err_session_outcome",
        ),
        (
            SESSIONS.iloc[:0],
            dt.datetime(2026, 12, 2),
            "failed",
            (("S7", "老党员"),),
            REPORT,
            "case_err_session_future",
        ),
        (
            SESSIONS.iloc[:0],
            dt.datetime(2026, 10, 31),
            "failed",
            (("S7", "老党员"),),
            REPORT,
            "case_err_session_before_report",
        ),
        (
            SESSIONS.iloc[:1],
            dt.datetime(2026, 11, 2, 9),
            "failed",
            (("S7", "老党员"),),
            REPORT,
            "case_err_session_order",
        ),
        (
            SESSIONS.iloc[:2],
            dt.datetime(2026, 11, 6),
            "failed",
            (("S7", "老党员"),),
            REPORT,
            "case_err_mediation_concluded",
        ),
        (
            SESSIONS.iloc[:0],
            dt.datetime(2026, 11, 2),
            "failed",
            (("S404", "老党员"),),
            REPORT,
            "case_err_unknown_mediator",
        ),
        (
            SESSIONS.iloc[:0],
            dt.datetime(2026, 11, 2),
            "failed",
            (("S7", "族长"),),
            REPORT,
            "case_err_mediator_capacity",
        ),
        (SESSIONS.iloc[:0], dt.datetime(2026, 11, 2), "failed", (), REPORT, "case_err_no_mediator"),
        (
            SESSIONS.iloc[:0],
            dt.datetime(2026, 11, 2),
            "failed",
            (("S7", "老党员"),),
            {**REPORT, "closed_at": "2026-11-20 09:00:00"},
            "case_err_closed",
        ),
    ],
)
def test_session_refusals(sessions, at, outcome, mediators, report, key):
    with pytest.raises(CaseError) as caught:
        _session(sessions, at, outcome, mediators, report)
    assert caught.value.key == key


def test_a_failed_session_lets_the_mediation_go_on():
    outcome, _ = _session(SESSIONS.iloc[:1], dt.datetime(2026, 11, 4, 15))
    assert outcome == "success"


# --- case figures ---------------------------------------------------------------------------

CASES = [
    # id, source, category, grid, reported, responded, resolved, followed_up, satisfaction, dup, owner kind, owner id, method, closed
    (
        "A1",
        "hotline",
        "环境卫生",
        "G1",
        "2026-11-20 09:00:00",
        "2026-11-20 10:00:00",
        "2026-11-22 10:00:00",
        "2026-11-23 10:00:00",
        "satisfied",
        None,
        "staff",
        "S1",
        "phone",
        "2026-11-24 10:00:00",
    ),
    (
        "A2",
        "observer",
        "设施损坏",
        "G1",
        "2026-11-20 10:00:00",
        "2026-11-20 11:00:00",
        None,
        None,
        None,
        None,
        "department",
        "urban_management",
        None,
        None,
    ),
    (
        "A3",
        "dispute",
        "邻里纠纷",
        "G2",
        "2026-11-10 09:00:00",
        "2026-11-10 10:00:00",
        "2026-11-12 10:00:00",
        "2026-11-13 10:00:00",
        "satisfied",
        None,
        "mediation",
        "东河社区",
        "wechat",
        None,
    ),
    (
        "A4",
        "hotline",
        "环境卫生",
        None,
        "2026-11-21 08:00:00",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ),
    (
        "A5",
        "hotline",
        "噪音扰民",
        "G2",
        "2026-11-26 09:00:00",
        None,
        None,
        None,
        None,
        None,
        "department",
        "police",
        None,
        None,
    ),
    (
        "A6",
        "hotline",
        "环境卫生",
        "G1",
        "2026-11-28 09:00:00",
        None,
        None,
        None,
        None,
        None,
        "staff",
        "S1",
        None,
        None,
    ),
    (
        "A7",
        "patrol",
        "设施损坏",
        "G3",
        "2026-11-01 09:00:00",
        "2026-11-01 10:00:00",
        "2026-11-02 10:00:00",
        "2026-11-03 10:00:00",
        "satisfied",
        None,
        "staff",
        "S3",
        None,
        None,
    ),
]


def _event(report_id, seq, event, at, **values):
    return event_row(
        report_id, seq, event, dt.datetime.fromisoformat(at), "x", "system", NOW, **values
    )


EVENTS = pd.DataFrame(
    [
        _event("A1", 1, "assigned", "2026-11-20 09:00:00", owner=Owner("staff", "S1")),
        _event("A2", 1, "assigned", "2026-11-20 10:00:00", owner=Owner("staff", "S1")),
        _event(
            "A2",
            2,
            "transferred",
            "2026-11-20 12:00:00",
            owner=Owner("department", "urban_management"),
            previous=Owner("staff", "S1"),
            reason="市政设施",
        ),
        _event("A2", 3, "extended", "2026-11-24 09:00:00", hours=72, reason="等材料"),
        _event("A3", 1, "assigned", "2026-11-10 09:00:00", owner=Owner("mediation", "东河社区")),
        _event("A5", 1, "assigned", "2026-11-26 09:00:00", owner=Owner("staff", "S2")),
        _event(
            "A5",
            2,
            "transferred",
            "2026-11-28 09:00:00",
            owner=Owner("department", "police"),
            previous=Owner("staff", "S2"),
            reason="夜间噪音",
        ),
    ]
)
REMINDERS = pd.DataFrame(
    [
        (
            "A2",
            "2026-11-28 10:00:00",
            "department",
            "urban_management",
            "2026-11-27 10:00:00",
            "sent",
            None,
        ),
        ("A4", "2026-11-26 08:00:00", None, None, "2026-11-25 08:00:00", "failed", "503"),
        ("A6", "2026-12-03 09:00:00", "staff", "S1", "2026-12-02 09:00:00", "sent", None),
    ],
    columns=list(REMINDER_COLUMNS),
)


def test_case_figures_by_hand():
    figures = case_figures(_frame(CASES), EVENTS, REMINDERS, SETTINGS, AS_OF)
    assert figures == {
        "owned": 5,  # A5 is the staff S2's on 11-27 (its transfer comes later); A7 kept its columns
        "unowned": 1,  # A4
        "by_owner_kind": {"staff": 3, "department": 1, "mediation": 1},
        "open": 3,  # A2, A4, A5
        "overdue": 1,  # A4: limit 11-26 08:00
        "nearing_limit": 1,  # A2: 120 + 72 h -> 11-28 10:00, 10 h left
        "transfers": 1,
        "transferred_cases": 1,
        "extensions": 1,
        "extended_cases": 1,
        "return_visits": 3,
        "return_visits_by_method": {"visit": 0, "wechat": 1, "phone": 1, "unknown": 1},
        "followup_rate": 1.0,
        "closed": 1,
        "reminders_sent": 1,
    }


def test_case_figures_of_a_week():
    figures = case_figures(
        _frame(CASES), EVENTS, REMINDERS, SETTINGS, AS_OF, since=dt.date(2026, 11, 22)
    )
    assert (
        figures["transfers"],
        figures["extensions"],
        figures["closed"],
        figures["reminders_sent"],
    ) == (0, 1, 1, 1)
    assert figures["return_visits"] == 1 and figures["return_visits_by_method"]["phone"] == 1
    # states are as of the day, whatever the window
    assert (figures["open"], figures["overdue"], figures["owned"]) == (3, 1, 5)


def test_followup_rate_agrees_with_the_metrics():
    from geo.reports.states import _report_flags

    reports = _frame(CASES)
    flags = _report_flags(reports, AS_OF)
    expected = (
        flags["followed_up"][flags["counted"]].sum() / flags["resolved"][flags["counted"]].sum()
    )
    assert case_figures(reports, EVENTS, REMINDERS, SETTINGS, AS_OF)["followup_rate"] == round(
        float(expected), 4
    )
    assert not np.isnan(expected)
