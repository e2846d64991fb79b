"""The weekly pack's new-employment block: this week, last week, gaps, observer reports."""

from __future__ import annotations

from test_employment_gaps import OUTLETS_IN_GRIDS, REPORTS_IN_GRIDS, STATIONS_IN_GRIDS, WORKER_ROWS
from test_employment_metrics import AS_OF, FIRMS

from geo.employment.metrics import EmploymentFrames
from geo.employment.weekly import employment_block
from geo.outputs.weekly.figures import figure_texts

FRAMES = EmploymentFrames(FIRMS, OUTLETS_IN_GRIDS, WORKER_ROWS, STATIONS_IN_GRIDS, REPORTS_IN_GRIDS)


def values(figures):
    return {f.key: (f.value, f.previous) for f in figures}


def test_counts_this_week_and_last():
    block = employment_block(FRAMES, AS_OF)
    got = values(block["figures"])
    assert got["emp_workers"] == (7, 7)
    assert got["emp_party_members_returned"] == (2, 1)  # W1 came back on the as-of day
    assert got["emp_observers_registered"] == (2, 1)  # W1 registered on the as-of day
    assert got["emp_stations"] == (2, 1)  # S_TODAY opened on the as-of day
    assert got["emp_outlets_near_station"] == (3, 2)
    # a week before: W3 and W7 only (W1 from the as-of day, W6 from 11-26)
    assert got["emp_insured_rate"] == (round(4 / 7, 4), round(2 / 7, 4))


def test_gaps_and_observer_reports():
    block = employment_block(FRAMES, AS_OF)
    assert values(block["gaps"]) == {
        "emp_gap_outlets_without_party_org": (2, 2),
        "emp_gap_outlets_beyond_reach": (2, 3),
        "emp_gap_uninsured_workers": (3, 5),
        "emp_gap_observers_not_registered": (2, 3),
        "emp_gap_mobile_not_returned": (1, 2),
    }
    # filed 11-21..11-27: R1 only (R9 is a duplicate, R6-R8 are no observer's)
    assert values(block["reports"]) == {"emp_reports_filed": (1, 0), "emp_reports_resolved": (0, 0)}
    assert all(f.higher_is_better is False for f in block["gaps"])


def test_small_counts_are_suppressed_as_the_pack_does():
    block = employment_block(FRAMES, AS_OF)
    filed = next(f for f in block["reports"] if f.key == "emp_reports_filed")
    value, change, _ = figure_texts(filed)
    assert value == "<3" and change == ""
    rate = next(f for f in block["figures"] if f.key == "emp_insured_rate")
    assert figure_texts(rate)[0] == "57.1%"


def test_an_empty_street():
    block = employment_block(EmploymentFrames(), AS_OF)
    assert all(f.value in (0, None) for group in block.values() for f in group)
