"""Households linked to buildings: by id, by name within their grid, by the number in the text."""

import pandas as pd
import pytest

from geo.buildings.linking import household_places, link_households


@pytest.fixture
def buildings() -> pd.DataFrame:
    """Grid GA has 1号楼 and 2栋; grid GB has its own 1号楼 and 锦绣小区9号楼."""
    return pd.DataFrame(
        {
            "building_id": ["A1", "A2", "B1", "B9"],
            "grid_id": ["GA", "GA", "GB", "GB"],
            "name": ["1号楼", "2栋", "1号楼", "锦绣小区9号楼"],
        }
    )


def link_one(buildings, grid_id, building=None, address=None, **extra) -> dict:
    households = pd.DataFrame(
        {"household_id": ["h"], "grid_id": [grid_id], "building": [building], "address": [address]}
        | {k: [v] for k, v in extra.items()}
    )
    return link_households(households, buildings).iloc[0].to_dict()


@pytest.mark.parametrize(
    ("grid_id", "building", "address", "expected", "how"),
    [
        # a name shared by two grids: each household gets its own grid's building
        ("GA", "1号楼", None, "A1", "name"),
        ("GB", "1号楼", None, "B1", "name"),
        ("GA", "1栋", None, "A1", "name"),  # spelled another way
        ("GA", "二号楼", None, "A2", "name"),
        ("GA", "A2", None, "A2", "id"),
        ("GA", "B1", None, "B1", "id"),  # an id names one building, whatever the grid
        ("GB", "9号楼", None, "B9", "number"),  # the number of 锦绣小区9号楼
        ("GB", "锦绣小区1号楼", None, "B1", "number"),
        # no building column: the address says which
        ("GB", None, "锦绣小区1号楼2单元501", "B1", "name"),
        ("GA", "", "3-2-501", None, "unknown"),  # no 3号楼 in GA
        # missing buildings are listed, never guessed
        ("GA", "7号楼", None, None, "unknown"),
        ("GB", "2栋", None, None, "unknown"),  # GA's 2栋 is not GB's
        (None, "1号楼", None, None, "unknown"),  # outside every grid: only an id links
        ("GA", None, None, None, "none"),
        ("GA", "  ", "新华路12号", None, "none"),
    ],
)
def test_links(buildings, grid_id, building, address, expected, how):
    link = link_one(buildings, grid_id, building, address)
    assert (link["building_id"], link["link"]) == (expected, how)


def test_an_id_wins_over_a_name(buildings):
    buildings = pd.concat(
        [buildings, pd.DataFrame({"building_id": ["1号楼"], "grid_id": ["GB"], "name": ["8号楼"]})]
    )
    assert link_one(buildings, "GA", "1号楼")["building_id"] == "1号楼"


def test_two_buildings_with_one_number_link_nobody_by_number():
    buildings = pd.DataFrame(
        {
            "building_id": ["X", "Y"],
            "grid_id": ["G", "G"],
            "name": ["锦绣小区1号楼", "电力小区1号楼"],
        }
    )
    assert link_one(buildings, "G", "1号楼")["link"] == "unknown"
    assert link_one(buildings, "G", "电力小区1号楼")["building_id"] == "Y"


def test_no_buildings_at_all():
    empty = pd.DataFrame({"building_id": [], "grid_id": [], "name": []}, dtype=object)
    assert link_one(empty, "G", "1号楼")["link"] == "unknown"


def test_the_link_keeps_the_households_index_and_order(buildings):
    households = pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3"],
            "grid_id": ["GB", "GA", "GA"],
            "building": ["1号楼", None, "1号楼"],
            "address": [None, "2栋1单元302", None],
        },
        index=[30, 10, 20],
    )
    links = link_households(households, buildings)
    assert links.index.tolist() == [30, 10, 20]
    assert links["building_id"].tolist() == ["B1", "A2", "A1"]
    assert links["unit"].tolist() == [pd.NA, 1, pd.NA]
    assert links["floor"].tolist() == [pd.NA, 3, pd.NA]


def test_unit_and_floor_columns_win_over_the_address():
    households = pd.DataFrame(
        {
            "address": ["1号楼2单元501", "1号楼2单元501", "1号楼2单元501"],
            "unit": [3, None, "x"],
            "floor": ["7", None, 0],
        }
    )
    places = household_places(households)
    assert places["unit"].tolist() == [3, 2, 2]  # an unreadable cell falls back to the address
    assert places["floor"].tolist() == [7, 5, 5]
    assert places["door"].tolist() == [1, 1, 1]  # the door only from the address
