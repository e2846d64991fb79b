"""The reports page's shaping (geo.reports.views): labels, tables, a report's facts, the filing note."""

import numpy as np
import pandas as pd

from geo.config import load_config
from geo.reports import views as rv
from geo.reports.workflow import FiledReport

CONFIG = load_config()


def _countdown(hours: float, lang: str) -> str:
    return "" if pd.isna(hours) else f"{hours:g}h"


def _reports() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "report_id": ["R1", "R2"],
            "reported_at": ["2026-11-25 09:00:00", "2026-11-26 10:30:45"],
            "source": ["hotline", "walk-in"],
            "category": ["Lights", None],
            "state": ["overdue", "resolved"],
            "hours_left": [-3.0, np.nan],
            "community": ["C1", None],
            "grid_id": ["G1", None],
            "description": ["=cmd()", None],
            "duplicate_of": [None, "R1"],
            "reporter_id": [None, "U7"],
            "satisfaction": [None, "satisfied"],
            "lon": [111.5, 111.6],
            "lat": [40.8, 40.9],
        }
    )


def test_labels_fall_back_to_the_stored_text():
    assert rv.source_label("hotline", "en", CONFIG) == "12345 hotline"
    assert rv.source_label("walk-in", "en", CONFIG) == "walk-in"
    assert rv.source_label(None, "en", CONFIG) == ""
    assert rv.state_label("overdue", "en") == "overdue" and rv.state_label(None, "en") == ""
    assert rv.step_label("responded", "en") == "respond" and rv.step_label("x", "en") == "x"


def test_category_options_are_the_categories_held():
    reports = pd.concat([_reports(), _reports().assign(category="Bins")])
    assert rv.category_options(reports) == ["Bins", "Lights"]


def test_state_counts_name_every_state():
    assert rv.state_counts(_reports()) == {
        "open": 0,
        "overdue": 1,
        "resolved": 1,
        "followed_up": 0,
    }


def test_report_table_reads_as_listed():
    table = rv.report_table(_reports(), "en", CONFIG, _countdown)
    assert table["Reported at"].tolist() == ["2026-11-25 09:00", "2026-11-26 10:30"]
    assert table["Source"].tolist() == ["12345 hotline", "walk-in"]
    assert table["Time limit"].tolist() == ["-3h", ""]
    assert table["Grid"].tolist() == ["G1", "unassigned"]
    assert table["Description"].tolist() == ["=cmd()", ""]  # text as it is
    assert table["Linked to"].tolist() == ["", "R1"]
    assert table.isna().sum().sum() == 0


def test_duplicates_get_the_descriptions_the_viewer_may_see():
    found = pd.DataFrame(
        {
            "report_id": ["R1", "R9"],
            "distance_m": [12.4, 40.6],
            "reported_at": ["2026-11-25 09:00:00", "2026-11-20 08:00:00"],
        }
    )
    duplicates = rv.with_descriptions(found, _reports())
    assert duplicates["description"].iloc[0] == "=cmd()" and pd.isna(duplicates["description"][1])
    table = rv.duplicates_table(duplicates, "en")
    assert table["Distance (m)"].tolist() == [12, 41]
    assert table["Reported at"].tolist() == ["11-25 09:00", "11-20 08:00"]


def test_history_table():
    history = pd.DataFrame(
        {
            "step": ["responded", "custom"],
            "at": ["2026-11-25 10:00:00", "2026-11-25 11:00:00"],
            "actor": ["clerk", None],
            "note": [None, "n"],
        }
    )
    table = rv.history_table(history, "en")
    assert table["Step"].tolist() == ["respond", "custom"]
    assert table["Time"].tolist() == ["2026-11-25 10:00", "2026-11-25 11:00"]
    assert table["By"].tolist() == ["clerk", ""] and table["Note"].tolist() == ["", "n"]


def test_facts_of_an_assigned_and_an_unassigned_report():
    reports = _reports()
    first = dict(rv.report_facts(reports.iloc[0], {"G1": "North"}, "en", CONFIG, _countdown))
    assert first["Grid"] == "G1 · North" and first["Reporter"] == "anonymous"
    assert first["Location"] == "111.500000, 40.800000" and first["Time limit"] == "-3h"
    assert "Linked to" not in first and "Satisfaction" not in first
    second = dict(rv.report_facts(reports.iloc[1], {}, "en", CONFIG, _countdown))
    assert second["Grid"] == "unassigned" and second["Community"] == "–"
    assert second["Time limit"] == "–" and second["Reporter"] == "U7"
    assert second["Linked to"] == "R1" and second["Satisfaction"] == "satisfied"


def test_the_filing_note_names_another_grids_workers_to_no_one_outside_it():
    filed = FiledReport("R5", "G2", ("Wang",), "South", nearby=True)
    inside = rv.filed_note(filed, ("G2",), None)
    assert inside["in_scope"] and inside["grid_label"] == "G2 · South"
    assert inside["workers"] == ["Wang"] and inside["nearby"]
    outside = rv.filed_note(filed, ("G1",), "R1")
    assert not outside["in_scope"] and outside["grid_label"] == "" and outside["workers"] == []
    assert outside["duplicate_of"] == "R1"
    assert rv.filed_note(FiledReport("R6", None, ()), None, None)["grid_label"] == ""
