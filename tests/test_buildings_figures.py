"""Per-building figures and the glyph payload agree with the household table and the metrics.

On the demo street office (with its buildings), as a grid worker would check: a grid's
buildings plus its households without a building add up to ``gridmap metrics --by grid``;
each glyph's counts are the counts of its households' rows.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from geo.buildings.figures import (
    building_coverage,
    building_figures,
    care_rank,
    walk_order,
    worker_order,
)
from geo.buildings.glyph import building_payload, glyph_counts, members
from geo.buildings.linking import link_households
from geo.care.rules import household_status
from geo.config import load_config
from geo.demo.build import build_demo
from geo.demo.buildings import demo_buildings
from geo.metrics.contract import compute_metrics
from geo.outputs.map.payloads import household_payload
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)
CODES = load_config().category_codes


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    """A demo street office of 2,500 households, its buildings, and the linked statuses."""
    store = open_store(str(tmp_path_factory.mktemp("b") / "demo.gpkg"))
    build_demo(store, seed=11, households=2500, as_of=AS_OF)
    grids = store.read("grids")
    buildings = demo_buildings(11, grids, store.read("households"))
    status = household_status(store, AS_OF)
    linked = pd.concat([status, link_households(status, buildings)], axis=1)
    return store, buildings, linked


def test_grid_buildings_and_households_without_one_add_up_to_the_metrics(street):
    store, buildings, linked = street
    figures = building_figures(buildings, linked)
    by_grid = {g["grid_id"]: g for g in compute_metrics(store, AS_OF, by="grid")["grids"]}
    unlinked = linked[linked["building_id"].isna()]
    assert 0 < len(unlinked) < len(linked) // 20  # the demo's survey gap: a few, not none
    for grid_id, grid in by_grid.items():
        mine = figures[figures["grid_id"] == grid_id]
        loose = unlinked[unlinked["grid_id"] == grid_id]
        loose_cats = ";" + loose["categories"].fillna("") + ";"
        assert mine["households"].sum() + len(loose) == grid["households"]["total"]
        for code in CODES:
            in_loose = int(loose_cats.str.contains(f";{code};").sum())
            assert mine[f"n_{code}"].sum() + in_loose == grid["households"]["by_category"][code]
        overall = grid["visits"]["overall"]
        assert mine["cared_for"].sum() + loose["required"].sum() == overall["required"]
        assert (
            mine["compliant"].sum() + (loose["required"] & loose["compliant"]).sum()
            == overall["compliant"]
        )
    # every building row is its households' rows, counted
    sample = figures.iloc[0]
    rows = linked[linked["building_id"] == sample["building_id"]]
    assert sample["households"] == len(rows)
    assert sample["overdue"] == rows["overdue"].sum()
    assert sample["has_overdue"] == bool(rows["overdue"].any())


def test_the_households_needing_a_visit_today_are_the_overdue_ones(street):
    """A household meeting its rules at the end of the as-of day is next due tomorrow or
    later: so the overdue ones are those the day's visits are for (the glyph's mark)."""
    _, _, linked = street
    compliant = linked[linked["required"] & linked["compliant"]]
    assert len(compliant) and (compliant["next_due"] > AS_OF.isoformat()).all()
    overdue = linked[linked["overdue"]]
    assert len(overdue) and (overdue["next_due"] <= AS_OF.isoformat()).all()


def test_glyph_counts_equal_the_household_rows(street):
    _, buildings, linked = street
    h = household_payload(linked, AS_OF)
    payload = building_payload(buildings, linked, h["id"].split("|"))
    counts = glyph_counts(payload, h["c"])
    figures = building_figures(buildings, linked).set_index("building_id")
    assert counts.index.tolist() == figures.index.tolist()
    for bit, code in enumerate(CODES):
        assert counts[f"c{bit}"].tolist() == figures[f"n_{code}"].tolist()
    for column in ("households", "ordinary", "overdue"):
        assert counts[column].tolist() == figures[column].tolist()
    # each member is the household the payload says, in its building, at its place
    ids = np.array(h["id"].split("|"), dtype=object)
    by_id = linked.set_index("household_id")
    for b in (0, len(buildings) // 2):
        start = payload["o"][b]
        for k, index in enumerate(members(payload)[b]):
            row = by_id.loc[ids[index]]
            assert row["building_id"] == payload["id"][b]
            assert (payload["mu"][start + k], payload["mf"][start + k]) == (
                row["unit"],
                row["floor"],
            )


def test_the_glyph_payload_carries_no_personal_field(street):
    store, buildings, linked = street
    personal = store.read_attributes("households", ["head_name", "phone", "id_number"])
    h = household_payload(linked, AS_OF)
    text = repr(building_payload(buildings, linked, h["id"].split("|")))
    for column in personal.columns:
        assert not any(str(v) in text for v in personal[column].dropna().head(200))
    assert "党小组" not in text  # whether a building has a party group, not its name


def test_coverage_counts_buildings_per_grid(street):
    _, buildings, linked = street
    figures = building_figures(buildings, linked)
    coverage = building_coverage(figures, linked).set_index("grid_id")
    assert coverage["buildings"].sum() == len(buildings)
    assert coverage["buildings_without_party_group"].sum() == buildings["party_group"].isna().sum()
    assert coverage["buildings_with_overdue"].sum() == figures["has_overdue"].sum()
    assert coverage["households_in_buildings"].sum() == linked["building_id"].notna().sum()
    grid = coverage.index[0]
    assert coverage.loc[grid, "households_without_building"] == (
        linked.loc[linked["grid_id"] == grid, "building_id"].isna().sum()
    )


def test_care_rank_follows_the_configuration():
    categories = pd.Series(["pink;red", "yellow", None, "purple", "orange;blue"])
    assert care_rank(categories).tolist() == [0, 1, 7, 6, 2]


def test_worker_order_cared_for_first_then_by_building_unit_floor():
    households = pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4", "h5", "h6", "h7"],
            "categories": [None, "purple", "red", "red", "yellow", "red", None],
            "building_id": ["B10", "B2", "B10", "B2", "B2", None, "B2"],
            "unit": [1, 1, 2, 1, 1, None, 1],
            "floor": [1, 5, 3, 6, 2, None, 1],
            "door": [1, 1, 1, 2, 1, None, 1],
        }
    )
    names = pd.Series({"B2": "2号楼", "B10": "10号楼"})
    order = households["household_id"].to_numpy()[worker_order(households, names)]
    # red (2号楼 before 10号楼, no building last), yellow, purple, then ordinary households
    assert order.tolist() == ["h4", "h3", "h6", "h5", "h2", "h7", "h1"]


def test_walk_order_goes_grid_by_grid_building_by_building_then_most_overdue():
    households = pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9"],
            "grid_id": ["G1", "G1", "G1", "G1", "G1", "G1", "G1", "G2", "G1"],
            "categories": ["yellow", "red", "red", "purple", "red", "yellow", "red", "red", "red"],
            "building_id": ["B10", "B2", "B2", "B2", None, None, "B2", "B1", "B2"],
            # a building the store does not know sorts by the household's own text
            "building": [None, None, None, None, "3号楼", None, None, None, None],
            "unit": [1, 2, 1, 1, None, None, 1, 1, 1],
            "floor": [1, 1, 5, 3, None, None, 3, 1, 3],
            "door": [1, 1, 1, 2, None, None, 2, 1, 2],
            "days_overdue": [9, 0, 1, 2, 5, 30, 2, 40, 2],
        }
    )
    names = pd.Series({"B1": "1号楼", "B2": "2号楼", "B10": "10号楼"})
    order = households["household_id"].to_numpy()[walk_order(households, names)]
    # G1: 2号楼 unit 1 floor 3 door 2 (h4, h7, h9: 2 days overdue each, red before purple,
    # then by id), floor 5, unit 2; 3号楼 (by its text); 10号楼; no building; then G2
    assert order.tolist() == ["h7", "h9", "h4", "h3", "h2", "h5", "h1", "h6", "h8"]
    households["days_overdue"] = [9, 0, 1, 2, 5, 30, 1, 40, 7]
    order = households["household_id"].to_numpy()[walk_order(households, names)]
    assert order.tolist()[:3] == ["h9", "h4", "h7"]  # the same door: the most overdue first
