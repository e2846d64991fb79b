"""What the reports page shows of reports: labels, the table, the duplicates found at intake,
a report's facts and timeline, and the note a filing leaves (pure; headers in the viewer's
language)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from geo.config import Config
from geo.i18n import t
from geo.reports.states import REPORT_STATES
from geo.reports.workflow import STEPS, FiledReport


def source_label(code: object, lang: str, config: Config) -> str:
    """A report source's label (the stored text for an unknown one)."""
    return t(f"map_source_{code}", lang) if code in config.sources else str(code or "")


def state_label(state: object, lang: str) -> str:
    """A report state's label ('' for none)."""
    return t(f"map_state_{state}", lang) if state in REPORT_STATES else ""


def step_label(step: object, lang: str) -> str:
    """A workflow step's label (the stored text for an unknown one)."""
    return t(f"rep_step_{step}", lang) if step in STEPS else str(step)


def category_options(reports: pd.DataFrame) -> list[str]:
    """The categories the reports hold, sorted (the category filter's options)."""
    return sorted(reports["category"].dropna().astype(str).unique())


def state_counts(shown: pd.DataFrame) -> dict[str, int]:
    """Reports per state (every state, 0 for none)."""
    counts = shown["state"].value_counts()
    return {state: int(counts.get(state, 0)) for state in REPORT_STATES}


def report_table(
    shown: pd.DataFrame, lang: str, config: Config, countdown: Callable[[float, str], str]
) -> pd.DataFrame:
    """The reports as listed: id, reported (to the minute), source, category, state,
    countdown, community, grid ("unassigned" for none), description, duplicate of, and the
    case's owner when ``shown`` has an ``owner`` label column."""
    return pd.DataFrame(
        {
            t("rep_col_id", lang): shown["report_id"],
            t("rep_col_reported_at", lang): shown["reported_at"].astype(str).str.slice(0, 16),
            t("rep_source", lang): shown["source"].map(lambda s: source_label(s, lang, config)),
            t("rep_category", lang): shown["category"].fillna(""),
            t("rep_state", lang): shown["state"].map(lambda s: state_label(s, lang)),
            t("rep_col_countdown", lang): shown["hours_left"].map(lambda h: countdown(h, lang)),
            t("map_community", lang): shown["community"].fillna(""),
            t("map_grid", lang): shown["grid_id"].fillna(t("rep_unassigned", lang)),
            t("rep_col_description", lang): shown["description"].fillna(""),
            t("rep_col_duplicate_of", lang): shown["duplicate_of"].fillna(""),
            # the case's owner (issue 19), labelled by the page's glue (ui.cases)
            **(
                {t("case_col_owner", lang): shown["owner"].fillna("")}
                if "owner" in shown.columns
                else {}
            ),
        }
    ).reset_index(drop=True)


def with_descriptions(duplicates: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """``duplicates`` with the description of each, from ``reports`` (those the viewer may see)."""
    descriptions = reports.set_index("report_id")["description"]
    return duplicates.assign(description=duplicates["report_id"].map(descriptions))


def duplicates_table(duplicates: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Possible duplicates as listed: id, distance (whole metres), description, reported at."""
    return pd.DataFrame(
        {
            t("rep_col_id", lang): duplicates["report_id"],
            t("rep_col_distance", lang): duplicates["distance_m"].round(0).astype(int),
            t("rep_col_description", lang): duplicates["description"].fillna(""),
            t("rep_col_reported_at", lang): duplicates["reported_at"].astype(str).str.slice(5, 16),
        }
    )


def history_table(history: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A report's timeline as listed: step, at (to the minute), actor, note."""
    return pd.DataFrame(
        {
            t("rep_col_step", lang): history["step"].map(lambda s: step_label(s, lang)),
            t("rep_col_at", lang): history["at"].astype(str).str.slice(0, 16),
            t("rep_col_actor", lang): history["actor"].fillna(""),
            t("rep_col_note", lang): history["note"].fillna(""),
        }
    )


def report_facts(
    report: pd.Series,
    grid_names: dict[str, str],
    lang: str,
    config: Config,
    countdown: Callable[[float, str], str],
) -> list[tuple[str, str]]:
    """(label, value) lines of a report's detail: state, countdown, source, category, grid,
    community, reporter, location, and the duplicate link and satisfaction when present."""
    grid_id, community, reporter = report["grid_id"], report["community"], report["reporter_id"]
    facts = [
        (t("rep_state", lang), state_label(report["state"], lang)),
        (t("rep_col_countdown", lang), countdown(report["hours_left"], lang) or "–"),
        (t("rep_source", lang), source_label(report["source"], lang, config)),
        (t("rep_category", lang), report["category"]),
        (
            t("map_grid", lang),
            f"{grid_id} · {grid_names.get(grid_id, '')}"
            if isinstance(grid_id, str)
            else t("rep_unassigned", lang),
        ),
        (t("map_community", lang), community if isinstance(community, str) else "–"),
        (
            t("rep_reporter_short", lang),
            reporter if isinstance(reporter, str) else t("rep_anonymous", lang),
        ),
        (t("rep_col_location", lang), f"{report['lon']:.6f}, {report['lat']:.6f}"),
    ]
    if isinstance(report.get("owner"), str) and report["owner"]:  # the case's owner (issue 19)
        facts.append((t("case_col_owner", lang), report["owner"]))
    if isinstance(report.get("duplicate_of"), str):
        facts.append((t("rep_col_duplicate_of", lang), report["duplicate_of"]))
    value = report.get("satisfaction")
    if isinstance(value, str):
        label = t(f"rep_satisfaction_{value}", lang) if value in config.satisfaction else value
        facts.append((t("rep_satisfaction", lang), label))
    return facts


def filed_note(
    result: FiledReport, scope: Sequence[str] | None, duplicate_of: str | None
) -> dict[str, object]:
    """What the page says about a report just filed. Who answers for another grid is not
    shown to a viewer outside it (``scope``: the viewer's grids, None = all)."""
    in_scope = scope is None or result.grid_id in scope  # always, for filers within reach
    return {
        "report_id": result.report_id,
        "grid_id": result.grid_id,
        "in_scope": in_scope,
        "grid_label": " · ".join(p for p in (result.grid_id, result.grid_name) if p)
        if in_scope
        else "",
        "workers": list(result.grid_workers) if in_scope else [],
        "duplicate_of": duplicate_of,
        "nearby": result.nearby,
    }
