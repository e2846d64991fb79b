"""Gap lists, tables by firm and outlet, the section by grid, observers as a force."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from test_employment_metrics import AS_OF, FIRMS, OUTLETS, REPORTS, STATIONS, WORKERS

from geo.employment.gaps import GAPS, gap_counts, gap_list, mask_workers
from geo.employment.metrics import EmploymentFrames, employment_status, new_employment_by_grid
from geo.employment.observers import observer_choices, observer_report_counts, search_observers
from geo.employment.tables import firm_table, outlet_table

# outlets A, B of F1; C, D of F2; E of F3 (see test_employment_metrics)
WORKER_ROWS = WORKERS.assign(
    firm_id=["F1", "F1", "F2", "F2", "F3", "F1", "F2"],
    outlet_id=["A_1000", "B_1001", "D_near_today", None, "E_999", "A_1000", "C_near_tomorrow"],
    name=["张伟", "李娜", "王强", "刘洋", "陈静", "杨帆", "赵磊"],
    phone=["13800000001", "13800000002", None, "13800000004", "13800000005", "13800000006", "13800000007"],
)  # fmt: skip
OUTLETS_IN_GRIDS = OUTLETS.assign(grid_id=["G1", "G1", None, "G2", "G2"])
STATIONS_IN_GRIDS = STATIONS.assign(
    grid_id=["G1", "G2", None], name=["东河驿站", "北垣驿站", "新华驿站"]
)
REPORTS_IN_GRIDS = REPORTS.assign(
    grid_id=["G1", "G1", "G2", "G2", "G1", "G1", "G1", "G1", "G1", "G2"]
)


@pytest.fixture
def status():
    frames = EmploymentFrames(
        FIRMS.assign(name=FIRMS["name"]),
        OUTLETS_IN_GRIDS,
        WORKER_ROWS,
        STATIONS_IN_GRIDS,
        REPORTS_IN_GRIDS,
    )
    return employment_status(frames, AS_OF)


def test_gap_lists_by_hand(status):
    lists = {g: gap_list(g, status.outlets, status.workers, status.firms) for g in GAPS}
    # by firm id, then id
    assert lists["outlets_without_party_org"]["outlet_id"].tolist() == ["D_near_today", "E_999"]
    assert lists["outlets_beyond_reach"]["outlet_id"].tolist() == ["B_1001", "C_near_tomorrow"]
    assert lists["outlets_beyond_reach"]["firm"].tolist() == ["顺丰速运", "美团外卖"]
    assert lists["uninsured_workers"]["worker_id"].tolist() == ["W2", "W4", "W5"]
    assert lists["uninsured_workers"]["insured_on"].tolist()[0] == "2026-11-28"  # still to come
    assert lists["observers_not_registered"]["worker_id"].tolist() == ["W2", "W3"]
    assert lists["mobile_not_returned"]["worker_id"].tolist() == ["W2"]
    assert lists["mobile_not_returned"]["outlet"].tolist() == ["B_1001"]
    assert gap_counts(status.outlets, status.workers) == {g: len(lists[g]) for g in GAPS}


def test_gap_lists_of_an_empty_street():
    empty = employment_status(EmploymentFrames(), AS_OF)
    for gap in GAPS:
        assert len(gap_list(gap, empty.outlets, empty.workers, empty.firms)) == 0
    assert set(gap_counts(empty.outlets, empty.workers).values()) == {0}


def test_masked_worker_lists_hold_no_name_or_phone(status):
    listed = mask_workers(
        gap_list("uninsured_workers", status.outlets, status.workers, status.firms)
    )
    assert listed["name"].tolist() == ["李*", "刘*", "陈*"]
    assert listed["phone"].tolist() == ["138****0002", "138****0004", "138****0005"]
    text = listed.to_csv()
    for full in ("刘洋", "陈静", "李娜", "13800000004"):
        assert full not in text


def test_firm_table_by_hand(status):
    table = firm_table(status).set_index("firm_id")
    assert table.loc["F1", "outlets"] == 2 and table.loc["F1", "outlets_with_party_org"] == 2
    assert table.loc["F1", "outlets_beyond_reach"] == 1  # B
    assert table.loc["F1", "workers"] == 3  # W1, W2, W6
    assert table.loc["F1", "insured"] == 2 and table.loc["F1", "insured_rate"] == 0.6667
    assert table.loc["F1", "observers"] == 3 and table.loc["F1", "observers_registered"] == 2
    assert table.loc["F1", "observer_reports_30d"] == 2  # R1 (W1), R3 (W2)
    assert table.loc["F2", "party_members"] == 2 and table.loc["F2", "party_members_mobile"] == 0
    assert table.loc["F3", "observer_reports_30d"] == 0
    assert table["workers"].sum() == 7


def test_outlet_table_by_hand(status):
    table = outlet_table(status).set_index("outlet_id")
    assert table.loc["A_1000", "nearest_station"] == "东河驿站"
    assert table.loc["A_1000", "nearest_station_m"] == 1000
    assert table.loc["D_near_today", "nearest_station"] == "北垣驿站"
    assert table.loc["A_1000", "party_org"] == "顺丰党支部"  # the firm's
    assert table.loc["C_near_tomorrow", "party_org"] == "C党支部"  # its own
    assert pd.isna(table.loc["D_near_today", "party_org"])
    assert table.loc["A_1000", "workers"] == 2 and table.loc["A_1000", "observers"] == 2
    assert table["workers"].sum() == 6  # W4 has no outlet


def test_section_by_grid():
    frames = EmploymentFrames(
        FIRMS, OUTLETS_IN_GRIDS, WORKER_ROWS, STATIONS_IN_GRIDS, REPORTS_IN_GRIDS
    )
    by_grid = new_employment_by_grid(frames, AS_OF, ["G1", "G2", "G9"])
    g1, g2, g9 = by_grid["G1"], by_grid["G2"], by_grid["G9"]
    assert (g1["outlets"], g1["outlets_near_station"], g1["workers"], g1["stations"]) == (
        2,
        1,
        3,
        1,
    )
    assert g1["firms"] == 1 and g1["firms_with_party_org"] == 1
    assert g1["observer_reports_30d"] == 1  # R1; R3 lies in G2
    # D's nearest station lies in G2, E's in G1: reach crosses grid edges
    assert (g2["outlets"], g2["outlets_near_station"], g2["workers"], g2["stations"]) == (
        2,
        2,
        2,
        1,
    )
    assert g2["observer_reports_30d"] == 2  # R3, R10
    assert g9["outlets"] == 0 and g9["insured_rate"] is None


def test_observer_choices_show_masked_names_only():
    choices = observer_choices(WORKER_ROWS, FIRMS)
    assert choices["worker_id"].tolist() == ["W1", "W2", "W3", "W6"]
    assert choices["label"].tolist()[0] == "W1 · 张* · 顺丰速运"
    assert "张伟" not in " ".join(choices["label"])
    assert search_observers(choices, "w2")["worker_id"].tolist() == ["W2"]
    assert search_observers(choices, "王*")["worker_id"].tolist() == ["W3"]
    assert search_observers(choices, "美团")["worker_id"].tolist() == ["W3"]
    assert search_observers(choices, "王强").empty  # a full name finds nothing: it would reveal it
    assert len(search_observers(choices, "  ")) == 4


def test_observer_report_counts_for_a_week():
    reports = REPORTS.assign(
        resolved_at=[
            "2026-11-27 10:00:00", None, None, None, None, None, None, None, None,
            "2026-11-28 09:00:00",
        ]
    )  # fmt: skip
    observers = {"W1", "W2", "W3", "W6"}
    week = observer_report_counts(reports, observers, dt.date(2026, 11, 21), AS_OF)
    assert week == {"filed": 1, "resolved": 1}  # R1 resolved on the as-of day
    month = observer_report_counts(reports, observers, dt.date(2026, 10, 29), AS_OF)
    assert month == {"filed": 3, "resolved": 1}  # R10 resolved the day after
    assert observer_report_counts(reports.iloc[:0], observers, AS_OF, AS_OF) == {
        "filed": 0,
        "resolved": 0,
    }


def test_frames_need_not_be_geodataframes():
    assert isinstance(OUTLETS, gpd.GeoDataFrame)
    plain = pd.DataFrame(OUTLETS_IN_GRIDS.drop(columns="geometry"))
    plain["lon"], plain["lat"] = OUTLETS.geometry.x, OUTLETS.geometry.y
    frames = EmploymentFrames(FIRMS, plain, WORKER_ROWS, STATIONS_IN_GRIDS, REPORTS_IN_GRIDS)
    assert outlet_table(employment_status(frames, AS_OF))["near"].sum() == 3
