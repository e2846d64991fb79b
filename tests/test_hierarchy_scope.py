"""geo.hierarchy.scope: the district leader sees one district; the other roles as before."""

import pandas as pd
import pytest

from geo.hierarchy.scope import scope_grid_ids, scope_root
from geo.hierarchy.tree import Hierarchy, Node


@pytest.fixture
def grids() -> pd.DataFrame:
    """Two districts, a grid with no district; 光明社区 exists in both districts."""
    return pd.DataFrame(
        {
            "grid_id": ["A1", "A2", "A3", "B1", "X1"],
            "district": ["甲区", "甲区", " 甲区 ", "乙区", None],
            "street": ["东街道", "东街道", "西街道", "南街道", "北街道"],
            "community": ["光明社区", "团结社区", "丰州社区", "光明社区", "新华社区"],
        }
    )


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        ("district_leader", {"district": "甲区"}, ["A1", "A2", "A3"]),
        ("district_leader", {"district": "乙区"}, ["B1"]),
        ("district_leader", {"district": "丙区"}, []),  # unknown: nothing, never everything
        ("district_leader", {}, []),
        ("community_staff", {"community": "团结社区"}, ["A2"]),
        ("community_staff", {"community": "光明社区"}, ["A1", "B1"]),  # by name, as before
        ("grid_worker", {"grid_ids": ["B1", "nope"]}, ["B1"]),
        ("street_leader", {}, None),
        ("admin", {"district": "甲区"}, None),
        ("planner", {}, None),
    ],
)
def test_scope_grid_ids(grids, role, scope, expected):
    assert scope_grid_ids(grids, role, **scope) == expected


def test_a_district_leader_never_sees_grids_without_a_district(grids):
    ids = scope_grid_ids(grids, "district_leader", district="")
    assert ids == []  # "" is "not given", not a district anyone leads


def test_a_district_leaders_tree_starts_at_their_district(grids):
    ids = scope_grid_ids(grids, "district_leader", district="甲区")
    tree = Hierarchy(grids[grids["grid_id"].isin(ids)])
    root = scope_root(tree, "district_leader", district="甲区")
    assert root == Node("district", ("甲区",))
    assert [n.name for n in tree.children(root)] == ["东街道", "西街道"]
    assert tree.grid_ids(root) == ["A1", "A2", "A3"]
    assert scope_root(tree, "district_leader", district="乙区") is None


def test_a_community_staff_tree_starts_at_their_community(grids):
    ids = scope_grid_ids(grids, "community_staff", community="团结社区")
    tree = Hierarchy(grids[grids["grid_id"].isin(ids)])
    assert scope_root(tree, "community_staff", community="团结社区") == Node(
        "community", ("甲区", "东街道", "团结社区")
    )


def test_a_grid_worker_of_two_communities_starts_where_both_meet(grids):
    tree = Hierarchy(grids[grids["grid_id"].isin(["A1", "A2"])])
    assert scope_root(tree, "grid_worker", grid_ids=["A1", "A2"]) == Node(
        "street", ("甲区", "东街道")
    )
    one = Hierarchy(grids[grids["grid_id"] == "A3"])
    assert scope_root(one, "grid_worker", grid_ids=["A3"]) == Node(
        "grid", ("甲区", "西街道", "丰州社区", "A3")
    )
