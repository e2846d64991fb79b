"""The weekly pack's PDF (A4): headline tiles, trend, map and the grids that need attention; a
second page of new-employment figures when the street keeps them (issue 14)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pandas as pd

from geo.access.privacy import SMALL_COUNT
from geo.cases.weekly import case_line
from geo.config import load_config
from geo.employment.view import aggregate_rows
from geo.i18n import t
from geo.outputs.figures import rate_text
from geo.outputs.weekly.charts import map_png, trend_png
from geo.outputs.weekly.figures import (
    BAD,
    NEUTRAL,
    TOP_GRIDS,
    Figure,
    _count_text,
    attention_reasons,
    figure_label,
    figure_texts,
)
from geo.outputs.weekly.font import cjk_font
from geo.store.base import Store

INK = (33, 33, 33)
ACCENT = (183, 28, 28)  # the red of a street-office header


def _day_label(day: str, lang: str) -> str:
    d = dt.date.fromisoformat(day)
    return t("weekly_day", lang, month=d.month, day=d.day, mon=d.strftime("%b"))


def write_pdf(store: Store, figures: dict[str, Any], out_path: Path, lang: str = "zh-CN") -> Path:
    """The one-page A4-landscape pack (figures from ``weekly_figures``)."""
    from fpdf import FPDF

    font = cjk_font()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 8, 10)
    pdf.add_font("cjk", "", str(font.regular), collection_font_number=font.index)
    pdf.add_font("cjk", "B", str(font.bold), collection_font_number=font.index)
    title = t("weekly_title", lang, street=figures["street"]).strip()
    pdf.set_title(title)
    pdf.set_creator("gridmap")
    pdf.add_page()

    # header
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, 297, 3, style="F")
    pdf.set_xy(10, 7)
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", "B", 20)
    pdf.cell(170, 10, title)
    pdf.set_font("cjk", "", 10)
    pdf.set_text_color(*NEUTRAL)
    period = t(
        "weekly_period",
        lang,
        start=_day_label(figures["week_start"], lang),
        end=_day_label(figures["as_of"], lang),
        year=figures["as_of"][:4],
        as_of=figures["as_of"],
    )
    pdf.set_xy(180, 7)
    pdf.cell(107, 5.5, period, align="R")
    pdf.set_xy(180, 12.5)
    pdf.set_font("cjk", "", 7.5)
    pdf.cell(107, 4.5, t("weekly_compared", lang, previous=figures["previous_as_of"]), align="R")
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.line(10, 19, 287, 19)

    figs = {f.key: f for f in figures["headline"]}
    main_keys = [
        "visit_overall", "freshness", "reports_new", "reports_resolved", "reports_overdue",
        "response_rate", "completion_rate", "satisfaction_rate", "followup_rate",
    ]  # fmt: skip
    _tiles(pdf, [figs[k] for k in main_keys], lang, y=22, height=22, value_size=16)
    codes = load_config().category_codes
    pdf.set_xy(10, 46)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(120, 5, t("weekly_by_category", lang))
    _tiles(
        pdf,
        [figs[f"visit_{c}"] for c in codes],
        lang,
        y=51,
        height=17,
        value_size=12,
        categories=True,
    )

    # trend chart, top grids, map
    top_y = 72
    pdf.set_xy(10, top_y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(98, 5, t("weekly_trend_title", lang))
    pdf.image(
        io.BytesIO(trend_png(figures["trend"], lang, 98, 108)), x=10, y=top_y + 6, w=98, h=108
    )
    _attention_table(pdf, figures["attention"], lang, x=112, y=top_y, width=104)
    pdf.set_xy(220, top_y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(67, 5, t("weekly_map_title", lang))
    image = pdf.image(
        io.BytesIO(map_png(store, figures["grids"], figures["attention"], lang, 67, 104)),
        x=220,
        y=top_y + 6,
        w=67,
    )
    pdf.set_xy(220, top_y + 7 + image.rendered_height)
    pdf.set_font("cjk", "", 7)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(67, 3.6, t("weekly_map_legend", lang))
    _building_coverage(pdf, figures.get("buildings"), lang, x=220, width=67)
    # the trend's table-side explanation of the score
    pdf.set_xy(10, top_y + 115)
    pdf.set_font("cjk", "", 7)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(98, 3.6, t("weekly_trend_note", lang))

    if "cases" in figures:  # issue 19: the week's cases, under the grids to watch
        pdf.set_xy(112, 160)
        pdf.set_font("cjk", "B", 8.5)
        pdf.set_text_color(*INK)
        pdf.cell(104, 5, t("case_wk_title", lang))
        pdf.set_xy(112, 166)
        pdf.set_font("cjk", "", 7.5)
        line = case_line(figures["cases"], lang, _count_text, rate_text)
        pdf.multi_cell(104, 4, line)

    # footer
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    pdf.line(10, 197, 287, 197)
    pdf.set_xy(10, 198.5)
    pdf.set_font("cjk", "", 6.8)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(277, 3.4, t("weekly_footer", lang, small=SMALL_COUNT))
    if figures.get("employment"):  # issue 14: a second page, when the street keeps the data
        _employment_page(pdf, figures, lang)
    pdf.output(str(out_path))
    return out_path


def _employment_page(pdf: Any, figures: dict[str, Any], lang: str) -> None:
    """The new-employment block: headline counts, the gaps, the observers' reports (counts
    only, small ones suppressed as on the first page; no worker is named)."""
    block = figures["employment"]
    pdf.add_page()
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, 297, 3, style="F")
    pdf.set_xy(10, 7)
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", "B", 20)
    pdf.cell(170, 10, t("emp_weekly_title", lang))
    pdf.set_xy(180, 7)
    pdf.set_font("cjk", "", 7.5)
    pdf.set_text_color(*NEUTRAL)
    pdf.cell(107, 4.5, t("weekly_compared", lang, previous=figures["previous_as_of"]), align="R")
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.line(10, 19, 287, 19)
    _tiles(pdf, block["figures"], lang, y=22, height=24, value_size=16)
    pdf.set_xy(10, 50)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(180, 5, t("emp_weekly_gaps", lang))
    pdf.set_xy(200, 50)
    pdf.cell(87, 5, t("emp_observers_title", lang))
    _tiles(pdf, [*block["gaps"], *block["reports"]], lang, y=55, height=22, value_size=14)
    _firm_table(pdf, aggregate_rows(block["firms"], lang), lang, y=84)
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    pdf.line(10, 197, 287, 197)
    pdf.set_xy(10, 198.5)
    pdf.set_font("cjk", "", 6.8)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(277, 3.4, t("weekly_footer", lang, small=SMALL_COUNT))


def _fit_cell(
    pdf: Any, width: float, height: float, text: str, style: str, size: float, **kwargs: Any
) -> None:
    """A one-line cell whose font shrinks (to 5.5 pt) and then text shortens (…) to fit."""
    min_size = 5.5
    pdf.set_font("cjk", style, size)
    while pdf.get_string_width(text) > width and size > min_size:
        size -= 0.5
        pdf.set_font("cjk", style, size)
    if pdf.get_string_width(text) > width:
        while text and pdf.get_string_width(text + "…") > width:
            text = text[:-1]
        text += "…"
    pdf.cell(width, height, text, **kwargs)


def _firm_table(pdf: Any, rows: pd.DataFrame, lang: str, y: float) -> None:
    """The new-employment table by firm (text as shown to a wide audience: "<3", "n<3")."""
    pdf.set_xy(10, y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(180, 5, t("emp_weekly_firms", lang))
    widths = [44, 18] + [(277 - 62) / (len(rows.columns) - 2)] * (len(rows.columns) - 2)
    pdf.set_xy(10, y + 6)
    pdf.set_font("cjk", "B", 7)
    pdf.set_fill_color(240, 240, 240)
    for head, w in zip(rows.columns, widths, strict=True):
        _fit_cell(pdf, w, 6, str(head), "B", 7, fill=True, align="C")
    pdf.set_font("cjk", "", 8)
    for i, row in enumerate(rows.itertuples(index=False)):
        pdf.set_xy(10, y + 12 + i * 6)
        for j, (value, w) in enumerate(zip(row, widths, strict=True)):
            _fit_cell(pdf, w, 6, str(value), "", 8, align="L" if j < 2 else "C")


def _tiles(
    pdf: Any,
    figures: list[Figure],
    lang: str,
    y: float,
    height: float,
    value_size: float,
    categories: bool = False,
) -> None:
    gap = 2.0
    width = (277 - gap * (len(figures) - 1)) / len(figures)
    config = load_config()
    for i, figure in enumerate(figures):
        x = 10 + i * (width + gap)
        pdf.set_fill_color(246, 246, 246)
        pdf.rect(x, y, width, height, style="F")
        if categories:
            colour = config.category(figure.key.removeprefix("visit_")).hex.lstrip("#")
            pdf.set_fill_color(*(int(colour[j : j + 2], 16) for j in (0, 2, 4)))
            pdf.rect(x, y, 1.6, height, style="F")
        value, change, colour = figure_texts(figure, lang)
        pdf.set_xy(x + 2.5, y + 1.5)
        pdf.set_text_color(*NEUTRAL)
        _fit_cell(pdf, width - 4, 4, figure_label(figure.key, lang), "", 7.5)
        pdf.set_xy(x + 2.5, y + 5.8)
        pdf.set_font("cjk", "B", value_size)
        pdf.set_text_color(*INK)
        pdf.cell(width - 4, value_size * 0.42, value)
        pdf.set_xy(x + 2.5, y + height - 5.2)
        pdf.set_font("cjk", "", 7)
        pdf.set_text_color(*colour)
        pdf.cell(width - 4, 4, change)


def _building_coverage(
    pdf: Any, coverage: pd.DataFrame | None, lang: str, x: float, width: float
) -> None:
    """Coverage by building (issue 17), under the map: counts of buildings only."""
    if coverage is None or len(coverage) == 0:
        return
    pdf.set_xy(x, pdf.get_y() + 3)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(width, 5, t("bld_coverage_title", lang), new_x="LEFT", new_y="NEXT")
    pdf.set_font("cjk", "", 7.5)
    for column in ("buildings", "buildings_without_party_group", "buildings_with_overdue"):
        label, value = t(f"bld_cov_{column}", lang), f"{int(coverage[column].sum()):,}"
        pdf.set_x(x)
        pdf.cell(width - 14, 4, label)
        pdf.cell(14, 4, value, align="R", new_x="LEFT", new_y="NEXT")


def _attention_table(
    pdf: Any, attention: pd.DataFrame, lang: str, x: float, y: float, width: float
) -> None:
    pdf.set_xy(x, y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(width, 5, t("weekly_attention_title", lang, n=TOP_GRIDS))
    widths = (7, 31, 11, width - 49)
    heads = (
        "#",
        t("weekly_col_grid", lang),
        t("weekly_col_score", lang),
        t("weekly_col_reasons", lang),
    )
    row_y = y + 6
    pdf.set_fill_color(*ACCENT)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", "B", 7.5)
    cx = x
    for w, head in zip(widths, heads, strict=True):
        pdf.set_xy(cx, row_y)
        pdf.cell(w, 6, head, fill=True, align="C" if w < 12 else "L")
        cx += w
    row_y += 6
    if attention.empty:
        pdf.set_xy(x, row_y + 2)
        pdf.set_font("cjk", "", 8)
        pdf.set_text_color(*NEUTRAL)
        pdf.cell(width, 5, t("weekly_attention_none", lang))
        row_y += 9
    for _, row in attention.iterrows():
        reasons = attention_reasons(row, lang)
        name = str(row["name"] or row["grid_id"])
        community = str(row["community"] or "")
        row_h = max(12.0, 4.6 * len(reasons) + 3)
        if row["rank"] % 2 == 0:
            pdf.set_fill_color(248, 248, 248)
            pdf.rect(x, row_y, width, row_h, style="F")
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "B", 11)
        pdf.set_xy(x, row_y + 1.5)
        pdf.cell(widths[0], 6, str(int(row["rank"])), align="C")
        pdf.set_xy(x + widths[0], row_y + 1.5)
        _fit_cell(pdf, widths[1] - 1, 4.5, name, "B", 8.5)
        pdf.set_text_color(*NEUTRAL)
        pdf.set_xy(x + widths[0], row_y + 6.2)
        _fit_cell(
            pdf,
            widths[1] - 1,
            4,
            f"{community} · {row['grid_id']}" if community else str(row["grid_id"]),
            "",
            6.8,
        )
        pdf.set_text_color(*BAD)
        pdf.set_font("cjk", "B", 9)
        pdf.set_xy(x + widths[0] + widths[1], row_y + 1.5)
        pdf.cell(widths[2], 6, f"{row['score']:.1f}", align="C")
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "", 8.5)
        for j, reason in enumerate(reasons):
            pdf.set_xy(x + widths[0] + widths[1] + widths[2], row_y + 1.5 + 4.6 * j)
            _fit_cell(pdf, widths[3], 4.6, "· " + reason, "", 8.5)
        row_y += row_h
        pdf.set_draw_color(225, 225, 225)
        pdf.set_line_width(0.2)
        pdf.line(x, row_y, x + width, row_y)
    pdf.set_xy(x, row_y + 2)
    pdf.set_font("cjk", "", 6.8)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(width, 3.4, t("weekly_score_note", lang))
