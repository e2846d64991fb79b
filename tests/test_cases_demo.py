"""The demo's case data: deterministic, and every record follows the case rules."""

import datetime as dt

import pandas as pd
import pytest

from geo.cases.demo import build_case_demo
from geo.cases.owners import propose_owners
from geo.cases.settings import case_settings
from geo.demo.build import build_demo
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)
END = "2026-11-28"  # everything happened before the end of the as-of day
SETTINGS = case_settings()


@pytest.fixture(scope="module")
def demo_frames(tmp_path_factory):
    """The demo's reports, steps, staff and grids (3,000 households)."""
    store = open_store(str(tmp_path_factory.mktemp("demo") / "d.gpkg"))
    build_demo(store, seed=7, households=3000, as_of=AS_OF)
    reports = store.read("reports")
    steps = store.read("report_steps")
    staff = store.read("staff")
    grids = store.read_attributes("grids", ["grid_id", "community"])
    return reports, steps, staff, grids


@pytest.fixture(scope="module")
def cases(demo_frames):
    return build_case_demo(*demo_frames, SETTINGS, seed=7, as_of=AS_OF)


def test_deterministic(demo_frames, cases):
    again = build_case_demo(*demo_frames, SETTINGS, seed=7, as_of=AS_OF)
    for name in (
        "report_columns",
        "closed_steps",
        "events",
        "reminders",
        "mediations",
        "sessions",
        "mediators",
    ):
        pd.testing.assert_frame_equal(getattr(cases, name), getattr(again, name))
    other = build_case_demo(*demo_frames, SETTINGS, seed=8, as_of=AS_OF)
    assert not other.events.equals(cases.events)


def test_no_report_added_or_removed(demo_frames, cases):
    reports = demo_frames[0]
    assert cases.report_columns["report_id"].tolist() == reports["report_id"].tolist()
    assert set(cases.events["report_id"]) <= set(reports["report_id"])


def test_every_report_dispatched_on_arrival_and_owner_follows_transfers(demo_frames, cases):
    reports, _, staff, grids = demo_frames
    events = cases.events
    assigned = events[events["event"] == "assigned"].set_index("report_id")
    proposed = propose_owners(
        pd.DataFrame(reports.drop(columns="geometry")), grids, staff, SETTINGS
    )
    owned = proposed[proposed["owner_kind"].notna()]
    assert set(assigned.index) == set(owned["report_id"]) and len(owned) == len(reports)
    assert (
        assigned.loc[owned["report_id"], "owner_id"].to_numpy() == owned["owner_id"].to_numpy()
    ).all()
    arrived = reports.set_index("report_id")["reported_at"]
    assert (assigned["at"] == arrived.loc[assigned.index]).all()
    # the owner stored with the report is the one of its last owner event
    last = (
        events[events["event"].isin(["assigned", "transferred"])]
        .sort_values("event_no")
        .drop_duplicates("report_id", keep="last")
    )
    stored = cases.report_columns.set_index("report_id")
    assert (
        stored.loc[last["report_id"], "owner_id"].to_numpy() == last["owner_id"].to_numpy()
    ).all()


def test_transfers_have_reasons_and_happen_before_resolution(demo_frames, cases):
    reports = demo_frames[0].set_index("report_id")
    moves = cases.events[cases.events["event"] == "transferred"]
    assert 0 < len(moves) < 0.1 * len(reports)  # a few
    assert moves["reason"].str.len().gt(0).all() and moves["from_id"].notna().all()
    resolved = reports.loc[moves["report_id"], "resolved_at"]
    assert all(
        r is None or pd.isna(r) or at < r for at, r in zip(moves["at"], resolved, strict=True)
    )


def test_extensions_are_requested_then_approved_by_an_approver(cases):
    events = cases.events
    granted = events[events["event"] == "extended"]
    requests = events[events["event"] == "extension_requested"]
    assert len(granted) > 0 and len(requests) == len(granted) + 2  # two still wait
    assert set(granted["actor_role"]) <= SETTINGS.approver_roles
    asked = requests.set_index(["report_id", "event_no"])
    for row in granted.itertuples():
        request = asked.loc[(row.report_id, int(row.request_seq))]
        assert request["hours"] == row.hours and request["at"] < row.at and request["reason"]
    assert (granted.groupby("report_id").size() <= SETTINGS.max_extensions).all()


def test_return_visits_and_closing_follow_one_case_one_visit(demo_frames, cases):
    reports = demo_frames[0].set_index("report_id")
    columns = cases.report_columns.set_index("report_id")
    followed = reports["followed_up_at"].notna()
    assert columns.loc[followed, "followup_method"].isin(list(SETTINGS.return_visit_methods)).all()
    assert columns.loc[~followed, "followup_method"].isna().all()
    closed = columns["closed_at"].notna()
    assert (
        closed.sum() > 0 and not (closed & ~followed).any()
    )  # never closed without a return visit
    assert (columns.loc[closed, "closed_at"] > reports.loc[closed, "followed_up_at"]).all()
    assert (columns.loc[closed, "closed_at"] < END).all()
    steps = cases.closed_steps.set_index("report_id")
    assert set(steps.index) == set(columns.index[closed]) and (steps["step"] == "closed").all()


def test_mediations_with_sessions_and_mediators(demo_frames, cases):
    reports = demo_frames[0].set_index("report_id")
    mediations, sessions, mediators = cases.mediations, cases.sessions, cases.mediators
    assert len(mediations) > 0
    assert (reports.loc[mediations["report_id"], "source"] == "dispute").all()
    assert mediations["dispute_kind"].isin(list(SETTINGS.mediation.kinds)).all()
    assert mediations["mediation_type"].isin(list(SETTINGS.mediation.types)).all()
    assert sessions["outcome"].isin(list(SETTINGS.mediation.outcomes)).all()
    assert (sessions["held_at"] < END).all()
    for report_id, held in sessions.groupby("report_id"):
        held = held.sort_values("session_no")
        assert held["held_at"].is_monotonic_increasing
        assert held["session_no"].tolist() == list(range(1, len(held) + 1))
        # nothing after a concluding outcome
        assert not held["outcome"].iloc[:-1].isin(SETTINGS.mediation.concluding_outcomes).any()
        opened = mediations.set_index("report_id").at[report_id, "opened_at"]
        assert held["held_at"].iloc[0] >= opened
    sat = mediators.groupby(["report_id", "session_no"]).size()
    assert len(sat) == len(sessions)  # every session has a mediator
    assert "old_party_member" in set(mediators["capacity"])
    assert mediators["staff_id"].isin(set(demo_frames[2]["staff_id"])).all()
    assert (sessions.groupby("report_id").size() >= 2).any()  # some took two sessions or more


def test_reminders_sent_before_each_limit_the_case_was_open_at(demo_frames, cases):
    reminders = cases.reminders
    assert len(reminders) > 0 and (reminders["status"] == "sent").all()
    assert not reminders.duplicated(["report_id", "due_at"]).any()
    due = pd.to_datetime(reminders["due_at"])
    sent = pd.to_datetime(reminders["sent_at"])
    assert ((due - sent) == pd.Timedelta(hours=SETTINGS.reminder_hours)).all()
    assert (reminders["sent_at"] < END).all()
