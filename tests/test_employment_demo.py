"""The demo's new-employment set: the seed county's shape, its gaps, deterministic by seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from employment_support import checker
from pandas.testing import assert_frame_equal

from geo.demo import layout as demo
from geo.demo.build import build_demo
from geo.employment import rows
from geo.employment.demo import PREFIX_SECTORS, demo_observer_ids, employment_demo
from geo.employment.metrics import EmploymentFrames, new_employment
from geo.employment.status import outlet_status, worker_status
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)


def demo_grids(households: int, seed: int = 7):
    """The demo's grids for ``households`` (the demo's own layout, as build_demo draws it)."""
    rng = np.random.default_rng(seed)
    return demo._grids_frame(rng, demo._layout(rng, households))


@pytest.fixture(scope="module")
def default_set():
    """The set at the default scale (18,000 households: 60 observer ids)."""
    return employment_demo(7, demo_grids(18_000), AS_OF, demo_observer_ids(18_000))


def test_the_seed_countys_shape(default_set):
    frames = EmploymentFrames(
        default_set.firms, default_set.outlets, default_set.workers, default_set.stations
    )
    section = new_employment(frames, AS_OF)
    assert section["firms"] == 8
    assert 18 <= section["outlets"] <= 25
    assert 230 <= section["workers"] <= 270
    assert 60 <= section["observers"] <= 70
    assert section["insured"] >= 200
    assert 10 <= section["party_members_returned"] <= 14
    assert 2 <= section["stations"] <= 5
    assert len(default_set.stations) > section["stations"]  # one is still being built
    names = set(default_set.firms["name"])
    assert {"顺丰速运", "中通快递", "美团外卖", "饿了么", "滴滴出行"} <= names
    assert set(default_set.firms["sector"]) == {"express", "food_delivery", "ride_hailing", "taxi"}


def test_every_gap_list_has_something_to_act_on(default_set):
    outlets = outlet_status(default_set.outlets, default_set.firms, default_set.stations, AS_OF)
    workers = worker_status(default_set.workers, AS_OF)
    assert (~outlets["has_party_org"]).sum() >= 2
    assert 1 <= (~outlets["near"]).sum() <= 5
    assert (~workers["insured_now"]).sum() >= 20
    assert (workers["is_observer"] & ~workers["registered"]).sum() >= 3
    assert (workers["mobile"] & ~workers["returned"]).sum() >= 3
    # and most outlets are in the street's grids
    assert default_set.outlets["grid_id"].notna().sum() >= len(default_set.outlets) - 3


def test_observers_keep_the_report_ids(default_set):
    workers = default_set.workers.set_index("worker_id")
    ids = demo_observer_ids(18_000)
    assert workers.index.is_unique
    assert (workers.loc[ids, "observer"] == 1).all()
    sector = default_set.firms.set_index("firm_id")["sector"]
    for worker_id in ids:
        prefix = worker_id.split("-")[0]
        assert sector[workers.loc[worker_id, "firm_id"]] in PREFIX_SECTORS[prefix]


def test_deterministic_by_seed():
    grids = demo_grids(3000)
    ids = demo_observer_ids(3000)
    first, again, other = (employment_demo(s, grids, AS_OF, ids) for s in (7, 7, 8))
    for name in ("firms", "outlets", "workers", "stations"):
        assert_frame_equal(getattr(first, name), getattr(again, name))
    assert not first.workers.equals(other.workers)


def test_the_demos_reports_are_filed_by_its_observers(tmp_path):
    store = open_store(str(tmp_path / "demo.gpkg"))
    build_demo(store, seed=7, households=3000, as_of=AS_OF)
    grids = store.read("grids")
    reports = store.read_attributes("reports", ["source", "reporter_id"])
    made = employment_demo(7, grids, AS_OF, demo_observer_ids(3000))
    observers = set(made.workers.loc[made.workers["observer"] == 1, "worker_id"])
    filed = set(reports.loc[reports["source"] == "observer", "reporter_id"])
    assert filed and filed <= observers


def _as_cells(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A stored frame as the importer hands it to the row rules (text, None where empty)."""
    cells = {}
    for name in frame.columns:
        if name in ("geometry", "grid_id"):
            continue
        values = frame[name].astype(object).to_numpy()
        cells[name] = np.array(
            [None if pd.isna(v) else str(v) for v in values] + [None], dtype=object
        )[:-1]
    return cells


def test_the_demo_obeys_the_row_rules(default_set):
    """Every table of the set would import without a problem (section 7 holds in it)."""
    firms = pd.Index(default_set.firms["firm_id"])
    outlet_firms = dict(
        zip(default_set.outlets["outlet_id"], default_set.outlets["firm_id"], strict=True)
    )
    extra = {
        "firms": {},
        "outlets": {"firms": firms},
        "workers": {"firms": firms, "outlet_firms": outlet_firms},
        "stations": {},
    }
    for kind in ("firms", "outlets", "workers", "stations"):
        frame = getattr(default_set, kind)
        check = checker(kind, len(frame))
        stored = rows.CHECKS[kind](_as_cells(frame), check, **extra[kind])
        check.finish()
        assert check.report.problem_lines() == [], kind
        assert check.report.warnings == [], kind
        assert len(stored) == len(frame)
