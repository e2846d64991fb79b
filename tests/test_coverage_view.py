"""The coverage page's shaping: its table and red cells, the work list, the gap warnings."""

import numpy as np
import pandas as pd

from geo.care import coverage_view as cv
from geo.config import load_config
from ui.coverage_gaps import gap_warnings

CONFIG = load_config()
CODES = ["red", "blue"]


def _figures(households: list) -> pd.DataFrame:
    n = len(households)
    return pd.DataFrame(
        {
            "grid_id": [f"G{i}" for i in range(n)],
            "name": [f"Grid {i}" for i in range(n)],
            "has_party_branch": [True, False][:n] + [True] * max(0, n - 2),
            "grid_workers": [1, 0][:n] + [1] * max(0, n - 2),
            "households": households,
            "households_per_worker": [2.54, np.nan][:n] + [1.0] * max(0, n - 2),
            "visit_rate": [0.95, 0.5][:n] + [1.0] * max(0, n - 2),
            "visit_rate_red": [1.0, np.nan][:n] + [1.0] * max(0, n - 2),
            "visit_rate_blue": [0.2, 1.0][:n] + [1.0] * max(0, n - 2),
            "freshness_rate": [0.99, 0.1][:n] + [1.0] * max(0, n - 2),
            "response_rate": 1.0,
            "completion_rate": 1.0,
            "satisfaction_rate": np.nan,
            "followup_rate": 0.5,
            "reports_overdue": [0, "<3"][:n] + [0] * max(0, n - 2),
            "staff_total": [3, 0][:n] + [1] * max(0, n - 2),
        }
    )


def _roles() -> pd.DataFrame:
    return pd.DataFrame({"grid_worker": [1, 0], "police": [2, 0]}, index=["G0", "G1"])


def test_coverage_table_holds_every_figure_and_makes_suppressed_columns_text():
    table = cv.coverage_table(_figures([10, "<3"]), _roles(), "grid", "en", CODES)
    frame = table.frame
    assert frame["Grid"].tolist() == ["G0", "G1"]
    assert frame["Party branch"].tolist() == ["yes", "no"]
    assert frame["Households"].tolist() == ["10", "<3"]  # one dtype for Arrow
    assert frame["Overdue reports"].tolist() == ["0", "<3"]
    assert frame["Staff by role"].iloc[1] == ""  # no staff: nothing listed
    assert "1" in frame["Staff by role"].iloc[0] and "2" in frame["Staff by role"].iloc[0]
    assert len(table.visit) == 1 + len(CODES) and all(c in frame for c in table.visit)


def test_styled_table_marks_what_needs_attention_red():
    table = cv.coverage_table(_figures([10, 4]), _roles(), "grid", "en", CODES)
    style = cv.styled(table, "en")
    html = style.to_html()
    style._compute()  # the cell styles (Styler.ctx) as Streamlit receives them
    columns = table.frame.columns
    red = {
        (row, columns[col])
        for (row, col), props in style.ctx.items()
        if ("color", "#c62828") in props
    }
    blue = [c for c in table.visit if "pregnant" in c]
    assert red == {  # G0: blue visits 20%; G1: visits 50%, fresh 10%, overdue, no worker/branch
        (0, blue[0]),
        (1, table.visit[0]),
        (1, table.fresh),
        (1, table.overdue),
        (1, table.workers),
        (1, table.branch),
    }
    assert "95.0%" in html and "2.5" in html and "—" in html


def test_community_level_lists_gap_counts_instead_of_the_branch():
    figures = _figures([10, 4]).rename(columns={"grid_id": "community"})
    figures["community"] = ["C1", ""]
    figures["grids"] = [2, 1]
    figures["grids_without_party_branch"] = [0, 1]
    figures["grids_without_worker"] = [1, 0]
    roles = _roles().set_axis(["C1", ""])
    table = cv.coverage_table(figures, roles, "community", "en", CODES)
    assert table.frame.iloc[:, 0].tolist() == ["C1", "–"]  # no community: a dash
    assert "Party branch" not in table.frame
    cv.styled(table, "en").to_html()  # no branch column to style: no error


def test_cell_rules():
    assert cv.is_positive(1) and cv.is_positive("<3") and not cv.is_positive(0)
    assert not cv.is_number(True) and not cv.is_number(np.nan) and cv.is_number(0)
    assert cv.below(0.9)(0.5) == cv.BAD_CELL and cv.below(0.9)(np.nan) == ""


def test_grid_labels_and_listing():
    frame = pd.DataFrame({"grid_id": ["G1", "G2"], "name": ["North", None]})
    assert cv.grid_labels(frame) == ["G1 North", "G2"]
    assert cv.listed(["a", "b", "c"], "en", 2) == "a, band more"
    assert cv.listed(["a", "b"], "en", 2) == "a, b"


def _worklist() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3"],
            "grid_id": ["G1", "G1", "G2"],
            "grid_workers": ["Wang", None, "Li"],
            "categories": ["red;blue", "red", "zz"],
            "last_visit": ["2026-11-20 09:30:00", None, "2026-11-01 10:00:00"],
            "address": ["Road 1", "Road 2", "Road 3"],
        }
    )


def test_worklist_filters_drop_the_address():
    due = _worklist()
    assert cv.worklist_choices(due, "grid_workers") == ["", "Li", "Wang"]
    shown = cv.worklist_shown(due, "G1", "")
    assert shown["household_id"].tolist() == ["h1", "h2"] and "address" not in shown
    assert cv.worklist_shown(due, "G1", "Wang")["household_id"].tolist() == ["h1"]


def test_a_grid_workers_round_is_walked_building_by_building():
    assert cv.walks_buildings("grid_worker", "", "")
    assert cv.walks_buildings("street_leader", "G1", "")
    assert cv.walks_buildings("community_staff", "", "Wang")
    assert not cv.walks_buildings("street_leader", "", "")  # the whole list: most overdue first
    chosen = cv.worklist_chosen(_worklist(), "G1", "")
    assert chosen["address"].tolist() == ["Road 1", "Road 2"]  # to place them in buildings
    assert "address" not in cv.without_address(chosen)


def test_worklist_view_reads_as_text():
    view = cv.worklist_view(cv.worklist_shown(_worklist(), "", ""), "en", CONFIG)
    assert view["Last visit"].tolist() == ["2026-11-20 09:30", "never visited", "2026-11-01 10:00"]
    assert view["Grid workers"].tolist() == ["Wang", "no grid worker", "Li"]
    assert view["Categories"].iloc[2] == "zz"
    assert ", " in view["Categories"].iloc[0]


def _gaps(unassigned: int) -> dict:
    return {
        "no_party_branch": pd.DataFrame({"grid_id": ["G1"], "name": ["[x](https://e.example)"]}),
        "no_grid_worker": pd.DataFrame({"grid_id": [], "name": []}),
        "unassigned": pd.DataFrame({"household_id": [f"H{i}" for i in range(unassigned)]}),
        "overlaps": pd.DataFrame({"grid_a": ["G1"], "grid_b": ["G2"], "overlap_m2": [1234.4]}),
    }


def test_gap_warnings_escape_data_and_hide_household_ids_from_aggregate_viewers():
    warnings = gap_warnings(_gaps(2), None, "en", aggregates_only=False)
    assert len(warnings) == 3
    assert "\\[x\\]\\(https" in warnings[0]  # a grid name is text, never a link
    assert "H0" in warnings[1] and "1\\,234" in warnings[2]
    wide = gap_warnings(_gaps(2), None, "en", aggregates_only=True)
    assert "<3" in wide[1] and "H0" not in wide[1]
    cover = {"uncovered_m2": 2_500_000.0, "uncovered_share": 0.125}
    assert "12.5%" in gap_warnings(_gaps(0), cover, "en", False)[-1]
