"""The rainbow map's drill-down shaping (geo.outputs.map.drilldown): rows in view, legend, tables."""

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from geo.config import load_config
from geo.outputs.map import drilldown as drill

CONFIG = load_config()


def _frame() -> pd.DataFrame:
    """Five households: two in G1 (street S1), one in G2 (S1), one in G3 (S2), one unassigned."""
    return pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4", "h5"],
            "grid_id": ["G1", "G1", "G2", "G3", None],
            "categories": ["red", None, "red;blue", "blue", "yellow"],
            "building": ["1", "2", "3", "4", "5"],
            "required": [True, False, True, True, True],
            "compliant": [False, True, True, True, False],
            "overdue": [True, False, False, False, True],
            "fresh": [True, True, False, True, False],
            "last_visit": ["2026-11-20 09:30:00", None, "2026-11-01 10:00:00", None, None],
            "next_due": ["2026-11-27", None, "2026-12-01", "2026-12-03", "2026-11-27"],
        }
    )


def _grids() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "name": ["One", "Two", "Three"],
            "street": ["S1", "S1", "S2"],
            "community": ["C1", "C2", ""],
            "reports_overdue": [1, 0, 2],
            "households_per_worker": [2.0, np.nan, 1.0],
            "has_party_branch": [True, False, True],
            "n_red": [1, 1, 0],
            "n_blue": [0, 1, 1],
        }
    )


def test_the_map_holds_its_streets_rows_and_shows_the_chosen_area_filtered():
    frame = _frame()
    everything = drill.Choice()
    on_map, households, shown = drill.households_in_view(
        frame, ["G1", "G2", "G3"], ["G1", "G2", "G3"], everything
    )
    assert len(on_map) == len(households) == len(shown) == 5  # the unassigned ones too

    street = drill.Choice(street="S1")
    on_map, households, _ = drill.households_in_view(frame, ["G1", "G2"], ["G1", "G2"], street)
    assert on_map["household_id"].tolist() == ["h1", "h2", "h3"]  # no unassigned on a street

    grid = drill.Choice(street="", grid_id="G1", categories=("red",), only_overdue=True)
    on_map, households, shown = drill.households_in_view(frame, ["G1", "G2", "G3"], ["G1"], grid)
    assert len(on_map) == 5  # the map keeps every point: choosing only changes what is shown
    assert households["household_id"].tolist() == ["h1", "h2"]  # a grid: never the unassigned
    assert shown["household_id"].tolist() == ["h1"]
    assert grid.filtered and not grid.whole_area and everything.whole_area


def test_legend_at_level_of_detail_adds_the_unassigned_rows_to_the_grid_counts():
    grids = _grids()
    loose = _frame().iloc[[4]]  # yellow, unassigned
    totals = {"households": 10, "visit_required": 6, "visit_compliant": 4}
    legend = drill.legend_from_grids(grids, loose, totals, CONFIG)
    assert legend["red"] == 2 and legend["blue"] == 2 and legend["yellow"] == 1
    assert legend["purple"] == 0  # no n_purple column: none
    assert legend["ordinary"] == 4 and legend["overdue"] == 2
    assert "several" not in legend


def test_household_table_lists_care_first_with_masked_fields():
    frame = _frame()
    shown = frame[frame["grid_id"] == "G1"]
    personal = pd.DataFrame(
        {
            "household_id": ["h1", "h2"],
            "head_name": ["Z*", "L*"],
            "phone": ["138****0001", None],
            "id_number": ["1501**", "1502**"],
            "address": ["Road 1", "Road 2"],
        }
    )
    table = drill.household_table(shown, personal, "en", CONFIG)
    assert table.iloc[:, 0].tolist() == ["h1", "h2"]  # the care household (overdue) first
    first, second = table.iloc[0].tolist(), table.iloc[1].tolist()
    assert first[2] == "elderly living alone"
    assert first[3] == "2026-11-20 09:30" and first[5] == "yes"
    assert second[2] == "ordinary household" and second[3] == "" and second[5] == ""
    assert second[7] == ""  # a missing phone reads empty, never "None"
    assert table.isna().sum().sum() == 0


def test_category_labels_join_known_codes_and_keep_unknown_ones():
    labels = drill.category_labels(pd.Series(["red;blue", "", None, "zz"]), "en", CONFIG)
    assert labels.tolist() == [
        "elderly living alone, pregnant woman",
        "ordinary household",
        "ordinary household",
        "zz",
    ]


def test_grid_summary_counts_the_households_shown_and_keeps_the_grids_own_figures():
    frame, grids = _frame(), _grids().iloc[:2]
    summary = drill.grid_summary(grids, frame[frame["grid_id"].isin(["G1"])], "en")
    assert summary["Households"].tolist() == [2, 0]  # G2's household is not shown
    assert summary["Visit compliance"].iloc[0] == 0.0  # h1 required and not compliant
    assert np.isnan(summary["Visit compliance"].iloc[1])
    assert summary["Freshness"].iloc[0] == 100.0
    assert summary.iloc[:, -1].tolist() == ["yes", "no"]


def test_community_overview_from_households_or_from_the_communities_own_figures():
    communities = pd.DataFrame(
        {
            "community": ["C1", "C2"],
            "grids": [1, 1],
            "households": [7, 9],
            "visit_rate": [0.5, 1.0],
            "freshness_rate": [0.25, 0.75],
            "reports_overdue": [1, 0],
            "households_per_worker": [7.0, 9.0],
            "grids_without_party_branch": [0, 1],
        }
    )
    own = drill.community_overview(communities, None, _grids(), "en")
    assert own["Households"].tolist() == [7, 9] and own["Visit compliance"].tolist() == [
        50.0,
        100.0,
    ]
    frame = _frame()
    counted = drill.community_overview(communities, frame, _grids(), "en")
    assert counted["Households"].tolist() == [2, 1]  # G1's two in C1, G2's one in C2
    assert counted["Visit compliance"].tolist() == [0.0, 100.0]


def test_grid_layer_merges_figures_and_reads_missing_places_as_empty():
    polygons = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"], "other": [1, 2]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    figures = pd.DataFrame(
        {"grid_id": ["G1"], "street": ["S1"], "community": [None], "households": [3]}
    )
    layer = drill.grid_layer(polygons, figures)
    assert layer.crs == polygons.crs and "other" not in layer.columns
    assert layer["street"].tolist() == ["S1", ""] and layer["community"].tolist() == ["", ""]
    assert drill.streets_of(layer) == ["", "S1"]
    assert drill.places(layer) == {"G1": ("S1", ""), "G2": ("", "")}


def test_reports_in_a_choice():
    reports = pd.DataFrame({"report_id": ["r1", "r2", "r3"], "grid_id": ["G1", "G2", None]})
    assert drill.reports_in(reports, ["G1"], False)["report_id"].tolist() == ["r1"]
    assert drill.reports_in(reports, ["G1"], True)["report_id"].tolist() == ["r1", "r3"]
