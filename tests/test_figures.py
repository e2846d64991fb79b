"""geo.outputs.figures: totals summed before suppression, one rounding and one name for each figure."""

import numpy as np
import pandas as pd
import pytest

from geo.access.privacy import suppress_table, suppress_totals
from geo.i18n import LANGUAGES, catalogue, t
from geo.outputs import figures as fig


@pytest.fixture
def grids() -> pd.DataFrame:
    """Four raw grid figures; each grid's open reports are 1 or 2 (suppressed one by one)."""
    return pd.DataFrame(
        {
            "grid_id": ["G1", "G2", "G3", "G4"],
            "households": [120, 80, 2, 0],
            "visit_required": [20, 10, 1, 0],
            "visit_compliant": [18, 7, 1, 0],
            "fresh": [100, 70, 2, 0],
            "reports_open": [2, 1, 2, 1],
            "reports_overdue": [1, 0, 1, 0],
        }
    )


def test_totals_are_summed_from_raw_counts_then_suppressed(grids):
    totals = fig.scope_totals(grids)
    assert (totals["households"], totals["reports_open"], totals["reports_overdue"]) == (202, 6, 2)
    assert totals["visit_rate"] == round(26 / 31, 4)
    shown = suppress_totals(totals)
    assert shown["reports_open"] == 6  # the sum of four suppressed cells, not 0
    assert shown["reports_overdue"] == "<3"
    # per grid, every open-report count is suppressed: summing those would have given 0
    per_grid = suppress_table(grids)
    assert set(per_grid["reports_open"]) == {"<3"}


def test_one_grid_tile_equals_its_table_cell(grids):
    one = suppress_totals(fig.scope_totals(grids[grids["grid_id"] == "G3"]))
    cell = suppress_table(grids).set_index("grid_id").loc["G3"]
    for column in ("households", "visit_required", "reports_open"):
        assert fig.count_text(one[column]) == fig.count_text(cell[column]) == "<3"
    assert fig.rate_text(one["visit_rate"], one["visit_required"]) == "n<3"


def test_a_suppressed_count_is_never_summed(grids):
    with pytest.raises(ValueError):
        fig.scope_totals(suppress_table(grids))


def test_household_rows_give_the_household_counts_and_the_grids_the_reports(grids):
    households = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "grid_id": ["G1", "G1", "G2"],
            "categories": ["red", "", "yellow;pink"],
            "required": [True, False, True],
            "compliant": [False, True, True],
            "overdue": [True, False, False],
            "fresh": [True, True, False],
        }
    )
    totals = fig.scope_totals(grids, households)
    assert totals["households"] == 3 and totals["households_care"] == 2
    assert (totals["visit_required"], totals["visit_compliant"], totals["fresh"]) == (2, 1, 2)
    assert totals["visit_rate"] == 0.5 and totals["freshness_rate"] == round(2 / 3, 4)
    assert totals["reports_open"] == 6  # reports are not household rows
    by_grid = fig.household_counts_by(households, "grid_id").set_index("grid_id")
    assert by_grid.loc["G1", "households"] == 2 and by_grid.loc["G1", "visit_rate"] == 0.0
    assert fig.care_first(households)["household_id"].tolist() == ["H1", "H3", "H2"]


def test_adding_the_unassigned_households():
    totals = fig.scope_totals(
        pd.DataFrame(
            {"households": [4], "visit_required": [2], "visit_compliant": [1], "fresh": [4]}
        )
    )
    loose = pd.DataFrame(
        {"categories": [""], "required": [False], "compliant": [True], "fresh": [False]}
    )
    combined = fig.add_households(totals, loose)
    assert combined["households"] == 5 and combined["freshness_rate"] == 0.8


@pytest.mark.parametrize(
    ("rate", "base", "text"),
    [
        (0.887, None, "88.7%"),
        (0.8873, 3033, "88.7%"),
        (np.float64(1.0), None, "100.0%"),
        (None, None, "—"),
        (float("nan"), None, "—"),
        (0.5, 2, "n<3"),
        (None, "<3", "n<3"),  # the base itself was suppressed
        (0.0, 0, "0.0%"),
    ],
)
def test_rate_text(rate, base, text):
    assert fig.rate_text(rate, base) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(18000, "18,000"), (np.int64(3), "3"), ("<3", "<3"), (None, "—"), (float("nan"), "—")],
)
def test_count_text(count, text):
    assert fig.count_text(count) == text


# every catalogue key that names one of these figures, on any page or in any file
FIGURE_NAMES = {
    "visit_rate": (
        "metrics_visit_rate",
        "weekly_fig_visit_overall",
        "map_fill_visit_rate",
        "weekly_xlsx_visit_rate",
        "coverage_col_visit_overall",
    ),
    "freshness_rate": (
        "metrics_fresh_rate",
        "weekly_fig_freshness",
        "map_fill_freshness_rate",
        "weekly_xlsx_freshness_rate",
    ),
    "response_rate": (
        "metrics_response_rate",
        "weekly_fig_response_rate",
        "weekly_xlsx_response_rate",
    ),
    "completion_rate": (
        "metrics_completion_rate",
        "weekly_fig_completion_rate",
        "map_fill_completion_rate",
        "weekly_xlsx_completion_rate",
    ),
    "satisfaction_rate": (
        "metrics_satisfaction_rate",
        "weekly_fig_satisfaction_rate",
        "map_fill_satisfaction_rate",
        "weekly_xlsx_satisfaction_rate",
    ),
    "followup_rate": (
        "metrics_followup_rate",
        "weekly_fig_followup_rate",
        "weekly_xlsx_followup_rate",
    ),
}
# names once used for these figures: none may come back anywhere in the Chinese text
RETIRED = ("合规率", "新鲜度", "新鲜率", "诉求办结率", "诉求满意率")


@pytest.mark.parametrize("figure", sorted(FIGURE_NAMES))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_one_name_per_figure(figure, lang):
    names = {t(key, lang) for key in FIGURE_NAMES[figure]}
    assert len(names) == 1, names


def test_no_retired_name_anywhere_in_the_catalogue():
    texts = {key: entry["zh-CN"] for key, entry in catalogue().items()}
    assert [key for key, text in texts.items() if any(old in text for old in RETIRED)] == []
