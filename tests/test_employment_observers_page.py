"""Observers as a force on the reports page: an observer (随手拍) report names its observer,
picked by worker id or masked name; the page says how many reports observers filed and saw
resolved."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
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


def _offered(at) -> set[str]:
    """The worker ids the observer picker offers (labels start with the id)."""
    at.selectbox(key="rep_source").set_value("observer").run()
    assert not at.exception
    return {label.split(" · ")[0] for label in at.selectbox(key="rep_observer").options[1:]}


def test_the_observer_picker_offers_a_scoped_viewer_its_own_observers(demo_store):  # noqa: F811
    store = open_store(demo_store)
    grids = store.read("grids", ["grid_id", "community"])
    mine, other, third = grids["grid_id"].iloc[:3]  # the grid worker's, 西河社区's, another
    community = grids["community"].iloc[0]
    firm = store.read_attributes("firms", ["firm_id"])["firm_id"].iloc[0]
    centre = grids.set_index("grid_id").geometry.representative_point()
    outlets = gpd.GeoDataFrame(
        {
            "outlet_id": ["OT-1", "OT-2", "OT-3"],
            "firm_id": [firm] * 3,
            "grid_id": [mine, other, third],
        },
        geometry=[centre[mine], centre[other], centre[third]],
        crs=grids.crs,
    )
    plan = {  # worker id: (registered with, outlet)
        "OB-A": ("西河社区", "OT-2"),  # the other community's, at its outlet
        "OB-B": (None, "OT-2"),  # not registered yet, at the other community's outlet
        "OB-C": (None, "OT-1"),  # not registered yet, at an outlet of the worker's grid
        "OB-D": ("西河社区", "OT-1"),  # the other community's, at an outlet of the worker's grid
        "OB-E": (None, "OT-3"),  # not registered yet, in the clerk's community, not the grid
    }
    rows = pd.DataFrame(
        {
            "worker_id": list(plan),
            "firm_id": [firm] * len(plan),
            "outlet_id": [o for _, o in plan.values()],
            "name": ["测试观察员"] * len(plan),
            "observer": [1] * len(plan),
            "community": [c for c, _ in plan.values()],
        }
    )
    with store.transaction() as tx:
        tx.update("grids", {"grid_id": [other]}, {"community": "西河社区"})
        tx.upsert("outlets", outlets)
        tx.upsert("workers", rows)
    workers = store.read_attributes("workers")
    stored_outlets = store.read_attributes("outlets", ["outlet_id", "grid_id"])
    observers = workers[workers["observer"] == 1]

    def at_outlets_in(grid_ids: set[str]) -> set[str]:
        ids = set(stored_outlets.loc[stored_outlets["grid_id"].isin(grid_ids), "outlet_id"])
        return set(observers.loc[observers["outlet_id"].isin(ids), "worker_id"])

    assert _offered(signed_in_app(demo_store)) == set(observers["worker_id"])  # a leader: all
    registered = set(observers.loc[observers["community"] == community, "worker_id"])
    clerk = _offered(signed_in_app(demo_store, "clerk1", "community_staff", community=community))
    assert clerk == registered | at_outlets_in(set(grids["grid_id"]) - {other})
    assert {"OB-C", "OB-D", "OB-E"} <= clerk and not clerk & {"OB-A", "OB-B"}
    worker = _offered(signed_in_app(demo_store, "worker1", "grid_worker", grids=[mine]))
    assert worker == registered | at_outlets_in({mine})
    assert {"OB-C", "OB-D"} <= worker and not worker & {"OB-A", "OB-B", "OB-E"}
