"""geo.hierarchy.rollup: per-grid figures summed to every level, rates recomputed from the sums."""

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.hierarchy.rollup import roll_up
from geo.hierarchy.tree import ROOT, Hierarchy, Node
from geo.metrics.tables import community_table, grid_table
from geo.store import open_store

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def grids() -> pd.DataFrame:
    """Three grids in two districts; 乙区's grid has no worker and no party branch."""
    return pd.DataFrame(
        {
            "grid_id": ["A1", "A2", "B1"],
            "district": ["甲区", "甲区", "乙区"],
            "street": ["东街道", "东街道", "南街道"],
            "community": ["光明社区", "团结社区", "光明社区"],
        }
    )


@pytest.fixture
def figures() -> pd.DataFrame:
    """Per-grid counts as grid_table has them."""
    return pd.DataFrame(
        {
            "grid_id": ["A1", "A2", "B1"],
            "households": [10, 20, 5],
            "visit_required": [4, 0, 2],
            "visit_compliant": [3, 0, 1],
            "n_red": [2, 0, 1],
            "visit_compliant_red": [1, 0, 1],
            "fresh": [9, 10, 5],
            "reports_total": [2, 1, 0],
            "reports_responded": [2, 0, 0],
            "reports_resolved": [1, 0, 0],
            "reports_followed_up": [1, 0, 0],
            "reports_satisfied": [1, 0, 0],
            "reports_unsatisfied": [0, 0, 0],
            "reports_open": [1, 1, 0],
            "reports_overdue": [0, 1, 0],
            "grid_workers": [1, 2, 0],
            "staff_total": [3, 4, 1],
            "has_party_branch": [True, True, False],
            "staff_by_role": [{"grid_worker": 1}, {"grid_worker": 2}, {"police": 1}],
        }
    )


def test_districts_sum_their_grids_and_recompute_rates(grids, figures):
    table = roll_up(figures, Hierarchy(grids), "district").set_index("district")
    a = table.loc["甲区"]
    assert a["grids"] == 2 and a["households"] == 30
    assert a["visit_required"] == 4 and a["visit_compliant"] == 3
    assert a["visit_rate"] == 0.75  # 3/4, not the mean of the grids' rates (0.75 and none)
    assert a["freshness_rate"] == round(19 / 30, 4)
    assert a["grids_without_worker"] == 0 and a["grids_without_party_branch"] == 0
    assert a["staff_by_role"] == {"grid_worker": 3}
    assert a["visit_rate_red"] == 0.5
    b = table.loc["乙区"]
    assert b["grids_without_worker"] == 1 and b["grids_without_party_branch"] == 1
    assert b["households_per_worker"] != b["households_per_worker"]  # NaN: no worker


def test_the_city_row_is_the_sum_of_every_grid(grids, figures):
    city = roll_up(figures, Hierarchy(grids), "city")
    assert len(city) == 1 and city["node"].iloc[0] == ROOT
    for column in ("households", "visit_required", "visit_compliant", "fresh", "reports_total"):
        assert city[column].iloc[0] == figures[column].sum()
    assert city["grids"].iloc[0] == 3


def test_same_community_name_in_two_districts_stays_two_rows(grids, figures):
    table = roll_up(figures, Hierarchy(grids), "community")
    bright = table[table["community"] == "光明社区"]
    assert bright[["district", "street"]].values.tolist() == [
        ["乙区", "南街道"],
        ["甲区", "东街道"],
    ]
    assert bright["households"].tolist() == [5, 10]


def test_a_district_with_no_grids_has_zero_counts_and_no_rates(grids, figures):
    table = roll_up(figures, Hierarchy(grids, districts=["丙区"]), "district").set_index("district")
    empty = table.loc["丙区"]
    assert empty["grids"] == 0 and empty["households"] == 0 and empty["reports_total"] == 0
    assert math.isnan(empty["visit_rate"]) and math.isnan(empty["freshness_rate"])
    assert empty["staff_by_role"] == {}
    assert table["households"].sum() == figures["households"].sum()


def test_under_restricts_to_a_subtree(grids, figures):
    tree = Hierarchy(grids)
    table = roll_up(figures, tree, "grid", under=Node("district", ("甲区",)))
    assert table["grid_id"].tolist() == ["A1", "A2"]
    assert table["node"].tolist() == [
        tree.node_of_grid("A1", "grid"),
        tree.node_of_grid("A2", "grid"),
    ]


def test_a_grid_without_figures_counts_as_an_empty_grid(grids, figures):
    table = roll_up(figures[figures["grid_id"] != "A2"], Hierarchy(grids), "district")
    a = table.set_index("district").loc["甲区"]
    assert a["grids"] == 2 and a["households"] == 10 and a["grids_without_worker"] == 1


def test_a_grid_on_a_district_border_counts_once_under_its_own_district(tmp_path):
    """A grid straddling the border x=1 of 甲区 (x<1) and 乙区 (x>1), attributed to 甲区:
    its households on both sides count in 甲区 alone, and the city is the sum of both."""
    store = open_store(str(tmp_path / "t.gpkg"))
    grid_frame = gpd.GeoDataFrame(
        {
            "grid_id": ["A", "BORDER", "B"],
            "community": ["甲社区", "甲社区", "乙社区"],
            "street": ["甲街道", "甲街道", "乙街道"],
        },
        geometry=[box(0, 0, 0.5, 1), box(0.5, 0, 1.5, 1), box(1.5, 0, 2, 1)],
        crs=WGS84,
    )
    homes = gpd.GeoDataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4"],
            "grid_id": ["A", "BORDER", "BORDER", "B"],
            "categories": ["red", None, "pink", None],
            "last_verified": [AS_OF.isoformat()] * 4,
        },
        geometry=[Point(0.2, 0.5), Point(0.8, 0.5), Point(1.2, 0.5), Point(1.8, 0.5)],
        crs=WGS84,
    )
    with store.transaction() as tx:
        tx.upsert("grids", grid_frame)
        tx.upsert("households", homes)
    figures = grid_table(store, AS_OF)
    tree = Hierarchy(
        pd.DataFrame(
            {"grid_id": ["A", "BORDER", "B"], "district": ["甲区", "甲区", "乙区"]}
            | {c: grid_frame[c] for c in ("street", "community")}
        )
    )
    table = roll_up(figures, tree, "district").set_index("district")
    assert table.loc["甲区", "households"] == 3  # H3 lies east of x=1 but its grid is 甲区's
    assert table.loc["乙区", "households"] == 1
    assert table["households"].sum() == roll_up(figures, tree, "city")["households"].iloc[0] == 4


def test_community_roll_up_equals_the_existing_community_table(tmp_path):
    from geo.demo.build import build_demo

    store = open_store(str(tmp_path / "d.gpkg"))
    build_demo(store, households=3000, as_of=AS_OF)
    figures = grid_table(store, AS_OF)
    tree = Hierarchy(figures[["grid_id", "street", "community"]])
    rolled = roll_up(figures, tree, "community").reset_index(drop=True)
    existing = community_table(store, AS_OF).reset_index(drop=True)
    assert rolled["community"].tolist() == existing["community"].tolist()
    for column in existing.columns:
        if column in ("community", "street", "staff_by_role"):
            continue
        left, right = rolled[column].to_numpy(float), existing[column].to_numpy(float)
        assert np.allclose(left, right, equal_nan=True), column
    assert rolled["staff_by_role"].tolist() == existing["staff_by_role"].tolist()
