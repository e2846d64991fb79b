"""geo.hierarchy.tree: the city > district > street > community > grid tree of hand-built grids."""

import pandas as pd
import pytest

from geo.hierarchy.tree import ROOT, Hierarchy, Node, resolve


@pytest.fixture
def city() -> pd.DataFrame:
    """Two districts: 甲区 (two streets, one with two communities) and 乙区 (one street,
    one community whose name repeats a community of 甲区), plus a grid with no district."""
    return pd.DataFrame(
        {
            "grid_id": ["A1", "A2", "A3", "A4", "B1", "B2", "X1"],
            "district": ["甲区", "甲区", "甲区", "甲区", "乙区", "乙区", None],
            "street": ["东街道", "东街道", "东街道", "西街道", "南街道", "南街道", "北街道"],
            "community": [
                "光明社区",
                "光明社区",
                "团结社区",
                "丰州社区",
                "光明社区",
                "光明社区",
                " ",
            ],
        }
    )


def test_children_are_named_by_path_so_repeated_names_stay_apart(city):
    tree = Hierarchy(city)
    assert tree.levels == ("district", "street", "community", "grid")
    assert tree.children(ROOT) == [
        Node("district", ("",)),
        Node("district", ("乙区",)),
        Node("district", ("甲区",)),
    ]
    east = Node("street", ("甲区", "东街道"))
    assert tree.children(east) == [
        Node("community", ("甲区", "东街道", "光明社区")),
        Node("community", ("甲区", "东街道", "团结社区")),
    ]
    assert tree.grid_ids(Node("community", ("甲区", "东街道", "光明社区"))) == ["A1", "A2"]
    assert tree.grid_ids(Node("community", ("乙区", "南街道", "光明社区"))) == ["B1", "B2"]
    assert tree.children(Node("grid", ("甲区", "东街道", "光明社区", "A1"))) == []


def test_a_grid_missing_a_name_sits_under_a_not_given_node(city):
    tree = Hierarchy(city)
    node = tree.node_of_grid("X1", "community")
    assert node == Node("community", ("", "北街道", ""))  # blank community = not given
    assert tree.grid_ids(node) == ["X1"]
    # every grid is under exactly one node of each level
    for level in ("district", "street", "community"):
        ids = [g for n in tree.nodes(level) for g in tree.grid_ids(n)]
        assert sorted(ids) == sorted(city["grid_id"])


def test_a_known_district_with_no_grids_is_a_node_with_no_grids(city):
    tree = Hierarchy(city, districts=["丙区", "甲区"])
    districts = tree.children(ROOT)
    assert Node("district", ("丙区",)) in districts
    assert tree.grid_ids(Node("district", ("丙区",))) == []
    assert tree.children(Node("district", ("丙区",))) == []
    assert [n.name for n in tree.nodes("district")] == ["", "丙区", "乙区", "甲区"]


def test_a_street_office_store_has_no_district_level_and_opens_at_its_street():
    grids = pd.DataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "street": ["东风路街道"] * 3,
            "community": ["东河社区", "东河社区", "北垣社区"],
        }
    )
    tree = Hierarchy(grids)
    assert tree.levels == ("street", "community", "grid")
    assert tree.start() == Node("street", ("东风路街道",))
    assert [c.name for c in tree.children(tree.start())] == sorted(["东河社区", "北垣社区"])


def test_start_stops_above_the_grids():
    grids = pd.DataFrame({"grid_id": ["G1", "G2"], "community": ["C", "C"]})
    tree = Hierarchy(grids)
    assert tree.start() == Node("community", ("C",))  # not G1 or G2
    one = Hierarchy(pd.DataFrame({"grid_id": ["G1"], "community": ["C"]}))
    assert one.start() == Node("community", ("C",))


def test_resolve_walks_the_choices_and_refuses_an_unknown_name(city):
    tree = Hierarchy(city)
    assert resolve(tree, ["甲区", "西街道"]) == Node("street", ("甲区", "西街道"))
    assert resolve(tree, ["甲区", None, "ignored"]) == Node("district", ("甲区",))
    assert resolve(tree, []) == ROOT
    with pytest.raises(KeyError):
        resolve(tree, ["甲区", "南街道"])  # 南街道 is in 乙区


def test_ancestors_and_contains(city):
    tree = Hierarchy(city)
    grid = tree.node_of_grid("A3", "grid")
    assert grid == Node("grid", ("甲区", "东街道", "团结社区", "A3"))
    assert tree.ancestors(grid) == [
        ROOT,
        Node("district", ("甲区",)),
        Node("street", ("甲区", "东街道")),
        Node("community", ("甲区", "东街道", "团结社区")),
    ]
    assert Node("district", ("甲区",)).contains(grid)
    assert not Node("district", ("乙区",)).contains(grid)
    assert ROOT.contains(grid) and ROOT.contains(ROOT)
