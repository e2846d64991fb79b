"""The weekly pack's XLSX: the figures as sheets, numbers formatted, small counts hidden (written by ``geo.outputs.xlsx``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.access.privacy import SMALL_COUNT, suppress_small
from geo.cases.weekly import case_rows
from geo.employment.view import aggregate_rows
from geo.employment.view import header as employment_header
from geo.i18n import t
from geo.outputs.weekly.figures import Figure, _small_base, attention_reasons, figure_label
from geo.outputs.xlsx import as_text

# the XLSX holds numbers as numbers, rounded as the PDF shows them (rates 88.7% -> 0.887)
RATE_PLACES = 3
POINT_PLACES = 1
RATE_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
COUNT_CHANGE_FORMAT = "+#,##0;-#,##0;0"
POINT_FORMAT = "0.0"
HIDDEN_FILL = "D9D9D9"


class Hidden:
    """A cell the pack does not show: a count of 1 or 2, or a rate over fewer than 3.

    Written to the XLSX as an empty grey cell with a note, never as text in a number column.
    """

    def __init__(self, why: str) -> None:
        self.why = why  # "count" | "rate"

    def __repr__(self) -> str:
        return f"<{SMALL_COUNT}" if self.why == "count" else f"n<{SMALL_COUNT}"


HIDDEN_COUNT = Hidden("count")
HIDDEN_RATE = Hidden("rate")


def _count_cell(value: object) -> object:
    if value is None or value != value:
        return None
    return HIDDEN_COUNT if isinstance(suppress_small(int(value)), str) else int(value)


def _rate_cell(value: object, base: object = None) -> object:
    if value is None or value != value:
        return None
    return HIDDEN_RATE if _small_base(base) else round(float(value), RATE_PLACES)


def _yes_no(value: object, lang: str) -> str:
    return t("map_yes", lang) if bool(value) else t("map_no", lang)


_RATES = {
    "visit_rate", "freshness_rate", "response_rate", "completion_rate", "satisfaction_rate",
    "followup_rate",
}  # fmt: skip
_RATE_BASE = {"visit_rate": "visit_required", "freshness_rate": "households"}
_COUNTS = {
    "reports_new", "reports_resolved", "reports_overdue", "visit_required", "households",
}  # fmt: skip
_POINTS = {
    "score", "overdue_points", "visit_points", "stale_points", "no_worker_points",
    "no_branch_points",
}  # fmt: skip


def _cells(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A section's cells: rates and points rounded, small counts (and rates over them) hidden."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column in _RATES:
            base = (
                frame[_RATE_BASE[column]]
                if column in _RATE_BASE and _RATE_BASE[column] in frame
                else None
            )
            out[column] = [
                _rate_cell(v, None if base is None else base.iloc[i]) for i, v in enumerate(values)
            ]
        elif column in _COUNTS:
            out[column] = values.map(_count_cell).astype(object)
        elif column in _POINTS:
            out[column] = pd.to_numeric(values, errors="coerce").round(POINT_PLACES)
        elif column.startswith("has_"):
            out[column] = values.map(lambda v: _yes_no(v, lang))
        else:
            out[column] = values
    return out


def _figure_rows(figure_list: list[Figure], lang: str) -> pd.DataFrame:
    """Figures as rows (indicator, value, previous, change, base), hidden as in the PDF."""
    rows = []
    for f in figure_list:
        hidden_now = f.kind == "rate" and _small_base(f.base)
        hidden_before = f.kind == "rate" and _small_base(f.previous_base)
        if f.kind == "rate":
            value = _rate_cell(f.value, f.base)
            previous = _rate_cell(f.previous, f.previous_base)
            change = (
                None
                if hidden_now or hidden_before or f.change is None
                else round(f.change, RATE_PLACES)
            )
        else:
            value, previous = _count_cell(f.value), _count_cell(f.previous)
            # a change computed from a hidden count would reveal it
            shown = not isinstance(value, Hidden) and not isinstance(previous, Hidden)
            change = f.change if shown else None
        rows.append(
            {
                t("weekly_col_indicator", lang): figure_label(f.key, lang),
                t("weekly_col_value", lang): value,
                t("weekly_col_previous", lang): previous,
                t("weekly_col_change", lang): change,
                t("weekly_col_base", lang): _count_cell(f.base),
            }
        )
    return pd.DataFrame(rows)


def weekly_sheets(figures: dict[str, Any], lang: str = "zh-CN") -> dict[str, pd.DataFrame]:
    """One frame per section: numbers rounded as in the PDF (rates as fractions, 0.887 =
    88.7%), a hidden small count or rate as ``HIDDEN_COUNT``/``HIDDEN_RATE``."""
    headline_frame = _figure_rows(figures["headline"], lang)

    trend = _cells(pd.DataFrame(figures["trend"]), lang)
    attention = pd.DataFrame(figures["attention"]).copy()
    attention["reasons"] = [
        "；".join(attention_reasons(row, lang)) for _, row in attention.iterrows()
    ]
    attention = _cells(attention, lang)
    grids = pd.DataFrame(figures["grids"])
    keep = [
        c
        for c in ("grid_id", "name", "community", "households", "visit_required", "visit_rate", "freshness_rate",
                  "reports_overdue", "grid_workers", "has_party_branch")
        if c in grids.columns
    ]  # fmt: skip
    grids = _cells(grids[keep], lang)
    sheets = {
        t("weekly_sheet_headline", lang): headline_frame,
        t("weekly_sheet_trend", lang): _translate_columns(trend, lang),
        t("weekly_sheet_attention", lang): _translate_columns(attention, lang),
        t("weekly_sheet_grids", lang): _translate_columns(grids, lang),
        t("case_wk_sheet", lang): _case_sheet(figures, lang),
    }
    if figures.get("employment"):  # issue 14: the new-employment block, when there is data
        sheets[t("emp_weekly_sheet", lang)] = _figure_rows(_employment_figures(figures), lang)
        sheets[t("emp_weekly_firms_sheet", lang)] = _firm_rows(figures["employment"]["firms"], lang)
    buildings = pd.DataFrame(figures.get("buildings", []))
    if len(buildings):  # coverage by building (issue 17): counts of buildings, per grid
        for column in ("households_in_buildings", "households_without_building"):
            buildings[column] = [_count_cell(v) for v in buildings[column]]  # small: hidden
        sheets[t("bld_coverage_title", lang)] = buildings.rename(
            columns={
                c: t("map_grid" if c == "grid_id" else f"bld_cov_{c}", lang) for c in buildings
            }
        )
    return sheets


def _firm_rows(firms: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The new-employment table by firm: counts as number cells, 1 and 2 hidden."""
    out = {}
    for column in firms.columns:
        values = firms[column]
        if column == "insured_rate":
            cells = [_rate_cell(r, b) for r, b in zip(values, firms["workers"], strict=True)]
        elif column in ("name", "sector"):
            cells = list(aggregate_rows(firms[[column]], lang).iloc[:, 0])
        else:
            cells = [_count_cell(v) for v in values]
        out[employment_header(column, lang)] = cells
    return pd.DataFrame(out)


def _employment_figures(figures: dict[str, Any]) -> list[Figure]:
    block = figures["employment"]
    return [*block["figures"], *block["gaps"], *block["reports"]]


def _case_sheet(figures: dict[str, Any], lang: str) -> pd.DataFrame:
    """The week's case figures (issue 19), small counts and rates over them hidden."""
    rows = case_rows(figures["cases"], lang) if "cases" in figures else []
    return pd.DataFrame(
        {
            t("weekly_col_indicator", lang): [label for label, *_ in rows],
            t("weekly_col_value", lang): [
                _rate_cell(value, base) if kind == "rate" else _count_cell(value)
                for _, value, kind, base in rows
            ],
        }
    )


def _translate_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    from geo.i18n import catalogue

    known = catalogue()
    return frame.rename(
        columns={
            c: t(f"weekly_xlsx_{c}", lang) for c in frame.columns if f"weekly_xlsx_{c}" in known
        }
    )


def _column_formats(lang: str) -> dict[str, str]:
    """Number format by (translated) column header."""
    formats = {t(f"weekly_xlsx_{c}", lang): RATE_FORMAT for c in _RATES}
    formats.update({t(f"weekly_xlsx_{c}", lang): COUNT_FORMAT for c in _COUNTS})
    formats.update({t(f"weekly_xlsx_{c}", lang): POINT_FORMAT for c in _POINTS})
    formats[t("weekly_xlsx_grid_workers", lang)] = COUNT_FORMAT
    formats[t("weekly_col_base", lang)] = COUNT_FORMAT
    formats[t("emp_insured_rate", lang)] = RATE_FORMAT  # the new-employment sheet by firm
    return formats


def write_xlsx(figures: dict[str, Any], out_path: Path, lang: str = "zh-CN") -> Path:
    """The pack as an XLSX workbook, one sheet per section and a sheet explaining the marks.

    Numbers are number cells in the PDF's rounding and format; a hidden small count or rate
    is an empty grey cell with a note, so no number column holds text.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    hidden_fill = PatternFill("solid", start_color=HIDDEN_FILL, end_color=HIDDEN_FILL)
    notes = {
        "count": t("weekly_xlsx_hidden_count", lang, small=SMALL_COUNT),
        "rate": t("weekly_xlsx_hidden_rate", lang, small=SMALL_COUNT),
    }
    formats = _column_formats(lang)
    unit = t("weekly_xlsx_points_unit", lang)
    points_format = f'+0.0"{unit}";-0.0"{unit}";0.0"{unit}"'
    # sheets of figures (value, previous, change formatted per row): the kinds of their rows
    kinds_of = {t("weekly_sheet_headline", lang): [f.kind for f in figures["headline"]]}
    if figures.get("employment"):
        kinds_of[t("emp_weekly_sheet", lang)] = [f.kind for f in _employment_figures(figures)]
    for sheet, frame in weekly_sheets(figures, lang).items():
        ws = book.create_sheet(sheet[:31])
        ws.append([str(c) for c in frame.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, row in enumerate(frame.itertuples(index=False)):
            values = []
            for value in row:
                if (
                    isinstance(value, Hidden)
                    or value is None
                    or (isinstance(value, float) and value != value)
                ):
                    values.append(None)
                elif isinstance(value, np.generic):
                    values.append(value.item())
                else:
                    values.append(value)
            ws.append(values)
            for j, (value, column) in enumerate(zip(row, frame.columns, strict=True)):
                cell = ws.cell(row=i + 2, column=j + 1)
                if isinstance(value, Hidden):
                    cell.fill = hidden_fill
                    cell.comment = Comment(notes[value.why], "gridmap")
                if sheet in kinds_of and j in (1, 2, 3):
                    rate = kinds_of[sheet][i] == "rate"
                    cell.number_format = (
                        (points_format if rate else COUNT_CHANGE_FORMAT)
                        if j == 3
                        else (RATE_FORMAT if rate else COUNT_FORMAT)
                    )
                elif column in formats:
                    cell.number_format = formats[column]
        as_text(ws)  # text from the store is written as text, never as a formula
        ws.freeze_panes = "A2"
    legend = book.create_sheet(t("weekly_sheet_notes", lang)[:31])
    for line in (notes["count"], notes["rate"], t("weekly_xlsx_rounding", lang)):
        legend.append([line])
    legend["A1"].fill = hidden_fill
    legend["A2"].fill = hidden_fill
    book.save(out_path)
    return out_path
