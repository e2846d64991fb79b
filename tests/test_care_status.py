"""The per-household frame (geo.care.status): the grid table summed from it equals geo.metrics'."""

import datetime as dt

import pandas as pd
import pytest

from geo.care import status
from geo.care.rules import household_status
from geo.demo.build import build_demo
from geo.metrics.tables import grid_table, grid_table_of
from geo.store import open_store


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("status") / "demo.gpkg"))
    build_demo(store, households=1500)
    loose = store.read("households", columns=["household_id"])["household_id"].iloc[:4].tolist()
    with store.transaction() as tx:  # households outside every grid count in no grid's row
        tx.set_grid_ids("households", loose, [None] * len(loose))
    return store


@pytest.mark.parametrize("days_back", [0, 9, 40])
def test_grid_table_of_the_frame_equals_the_metrics_grid_table(demo, days_back):
    as_of = dt.date.today() - dt.timedelta(days=days_back)
    frame = household_status(demo, as_of)
    expected = grid_table(demo, as_of)
    assert expected["visit_required"].sum() > 0 and expected["fresh"].sum() > 0
    pd.testing.assert_frame_equal(grid_table_of(demo, as_of, frame), expected)


def test_a_frame_of_some_grids_gives_those_grids_rows_exactly(demo):
    as_of = dt.date.today()
    grids = sorted(demo.read("grids", columns=["grid_id"])["grid_id"])[:3]
    frame = household_status(demo, as_of, where={"grid_id": grids})
    mine = grid_table_of(demo, as_of, frame).set_index("grid_id")
    everyone = grid_table(demo, as_of).set_index("grid_id")
    pd.testing.assert_frame_equal(mine.loc[grids], everyone.loc[grids])
    others = mine.drop(index=grids)
    assert (others["households"] == 0).all() and others["reports_total"].sum() > 0


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": ["a", "b", "c", "d", "e"],
            "grid_id": ["G1", "G1", "G2", None, "G3"],
            "categories": ["red", "red;blue", None, "blue", "bluegreen"],
            "overdue": [True, False, False, True, None],
        }
    )


def test_in_grids_keeps_the_unassigned_only_when_asked():
    frame = _frame()
    assert status.in_grids(frame, ["G1"])["household_id"].tolist() == ["a", "b"]
    assert status.in_grids(frame, {"G1", "G2"}, unassigned=True)["household_id"].tolist() == [
        "a",
        "b",
        "c",
        "d",
    ]
    assert status.in_grids(frame, []).empty


def test_category_filter_matches_whole_codes_only():
    frame = _frame()
    assert status.with_categories(frame, ["blue"])["household_id"].tolist() == ["b", "d"]
    assert status.with_categories(frame, ["red", "blue"])["household_id"].tolist() == [
        "a",
        "b",
        "d",
    ]
    assert len(status.with_categories(frame, [])) == 5  # no filter: everyone


def test_shown_applies_categories_then_overdue():
    frame = _frame()
    assert status.shown(frame, ["blue"], overdue=True)["household_id"].tolist() == ["d"]
    assert status.shown(frame, [], overdue=True)["household_id"].tolist() == ["a", "d"]
    assert status.only_overdue(frame)["household_id"].tolist() == ["a", "d"]  # None: not overdue
