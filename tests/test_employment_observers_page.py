"""Observers as a force on the reports page: an observer (随手拍) report names its observer,
picked by worker id or masked name; the page says how many reports observers filed and saw
resolved."""

from __future__ import annotations

import datetime as dt

from test_reports_page import demo_store, fill_form, inside_point, signed_in_app  # noqa: F401

from geo.employment.load import load_frames
from geo.employment.metrics import employment_status, observer_ids
from geo.employment.observers import observer_report_counts
from geo.store import open_store
from geo.timeutil import today


def test_an_observer_report_names_the_observer_picked(demo_store):  # noqa: F811
    at = signed_in_app(demo_store)
    at.selectbox(key="rep_source").set_value("observer").run()
    picker = at.selectbox(key="rep_observer")
    workers = open_store(demo_store).read_attributes("workers")
    observer = workers.loc[workers["observer"] == 1].iloc[0]
    # the options are labelled by id, masked name and firm: never the full name
    labels = picker.options[1:]  # as shown
    assert any(label.startswith(observer["worker_id"] + " · ") for label in labels)
    assert not any(name in " ".join(labels) for name in workers["name"])
    assert any(getattr(w, "key", None) == "rep_reporter" for w in at.text_input)  # still there
    picker.set_value(observer["worker_id"]).run()
    at.text_input(key="rep_reporter").input("someone else")  # the picked observer wins
    where, _ = inside_point(demo_store)
    fill_form(at, where=where, category="观察员测试")
    at.button(key="rep_submit").click().run()
    assert not at.exception
    filed = open_store(demo_store).read_attributes("reports", where={"category": "观察员测试"})
    assert filed["reporter_id"].tolist() == [observer["worker_id"]]
    assert filed["source"].tolist() == ["observer"]
    assert at.selectbox(key="rep_observer").value == ""  # the form is cleared


def test_a_hotline_report_keeps_the_free_reporter_field(demo_store):  # noqa: F811
    at = signed_in_app(demo_store)
    at.selectbox(key="rep_source").set_value("hotline").run()
    assert not any(getattr(s, "key", None) == "rep_observer" for s in at.selectbox)
    assert any(getattr(w, "key", None) == "rep_reporter" for w in at.text_input)


def test_the_reports_page_counts_what_observers_filed_and_saw_resolved(demo_store):  # noqa: F811
    at = signed_in_app(demo_store)
    store = open_store(demo_store)
    as_of = today()
    frames = load_frames(store)
    status = employment_status(frames, as_of)
    week = observer_report_counts(
        frames.reports, observer_ids(status.workers), as_of - dt.timedelta(days=6), as_of
    )
    line = next(c.value for c in at.caption if "观察员上报" in c.value)
    assert f"近 7 天观察员上报 {week['filed']} 件，其中已办结 {week['resolved']} 件" in line
    assert f"近 30 天 {len(status.observer_reports)} 件" in line
    assert week["filed"] > 0
