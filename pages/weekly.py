"""The weekly review pack on screen, with the PDF and XLSX downloads (no personal data)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.access.privacy import SMALL_COUNT
from geo.config import load_config
from geo.i18n import t
from geo.outputs.figures import rate_text
from geo.outputs.weekly.figures import (
    BAD,
    GOOD,
    TOP_GRIDS,
    attention_reasons,
    figure_label,
    figure_texts,
)
from geo.store import open_store
from ui import auth, data, session
from ui import coverage as cov
from ui import hierarchy as hier
from ui.text import md_t

MAIN_FIGURES = (
    "visit_overall", "freshness", "reports_new", "reports_resolved", "reports_overdue",
    "response_rate", "completion_rate", "satisfaction_rate", "followup_rate",
)  # fmt: skip
PDF_MIME = "application/pdf"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

lang = session.lang()
as_of = session.as_of()
location = auth.location()


def _day(day: str) -> str:
    d = dt.date.fromisoformat(day)
    return t("weekly_day", lang, month=d.month, day=d.day, mon=d.strftime("%b"))


def _reasons(row: pd.Series) -> str:
    """Why a grid is listed; a grid listed only for small shortfalls gets its two rates."""
    reasons = attention_reasons(row, lang)
    if not reasons:
        reasons = [
            t(
                "weekly_reason_minor",
                lang,
                visit=rate_text(row["visit_rate"], row["visit_required"]),
                fresh=rate_text(row["freshness_rate"], row["households"]),
            )
        ]
    return t("map_list_separator", lang).join(reasons)


def _tiles(figures: list, per_row: int) -> None:
    """Headline tiles: value and the change from last week (▲▼ coloured good/bad)."""
    for start in range(0, len(figures), per_row):
        cells = st.columns(per_row)
        for cell, figure in zip(cells, figures[start : start + per_row], strict=False):
            value, change, colour = figure_texts(figure, lang)
            # the text carries its own ▲▼; Streamlit's colour follows good/bad news, not the sign
            colour_mode = "normal" if colour == GOOD else "inverse" if colour == BAD else "off"
            cell.metric(
                figure_label(figure.key, lang),
                value,
                delta=change or None,
                delta_color=colour_mode,
                delta_arrow="off",
                border=True,
            )


store = open_store(location)
if not store.exists() or store.count("grids") == 0:
    st.title(t("weekly_page_title", lang))
    st.info(md_t("ui_no_data", lang, location=location))
    st.stop()

version = data.data_version(location)
scope = data.grid_scope(location, version)  # a grid worker's pack: their grids only
tree = hier.tree(location, version)
area = None
if hier.is_city(tree):  # a city's store: the pack of the chosen district or street office
    area = hier.area_choice(tree, lang, "weekly_area")
    scope = hier.area_scope(tree, area, scope)
figures = cov.weekly(location, version, as_of, scope)

title = figures["street"] if area is None else hier.area_label(area, lang)
st.title(md_t("weekly_title", lang, street=title).strip() or t("weekly_page_title", lang))
period = t(
    "weekly_period",
    lang,
    start=_day(figures["week_start"]),
    end=_day(figures["as_of"]),
    year=figures["as_of"][:4],
    as_of=figures["as_of"],
)
head, downloads = st.columns([3, 2], vertical_alignment="bottom")
with head:
    st.markdown(f"**{period}** · {t('weekly_compared', lang, previous=figures['previous_as_of'])}")
    st.caption(t("weekly_page_caption", lang))
with downloads:
    who = cov.actor()
    pdf_button, xlsx_button = st.columns(2)
    stem = f"{t('weekly_file_name', lang)}-{as_of.isoformat()}"
    with pdf_button:
        st.download_button(
            t("weekly_download_pdf", lang),
            data=cov.weekly_download(location, version, as_of, lang, ".pdf", who, scope),
            file_name=f"{stem}.pdf",
            mime=PDF_MIME,
            on_click="ignore",
            type="primary",
            key="weekly_download_pdf",
        )
    with xlsx_button:
        st.download_button(
            t("weekly_download_xlsx", lang),
            data=cov.weekly_download(location, version, as_of, lang, ".xlsx", who, scope),
            file_name=f"{stem}.xlsx",
            mime=XLSX_MIME,
            on_click="ignore",
            key="weekly_download_xlsx",
        )

by_key = {f.key: f for f in figures["headline"]}
st.subheader(t("weekly_headline_title", lang))
_tiles([by_key[k] for k in MAIN_FIGURES[:5]], 5)
_tiles([by_key[k] for k in MAIN_FIGURES[5:]], 4)
st.markdown(f"**{t('weekly_by_category', lang)}**")
codes = load_config().category_codes
_tiles([by_key[f"visit_{c}"] for c in codes], len(codes))

trend_image, map_image = cov.weekly_images(location, version, as_of, lang, scope)
left, right = st.columns([3, 2])
with left:
    st.markdown(f"**{t('weekly_trend_title', lang)}**")
    st.image(trend_image, width="stretch")
    st.caption(t("weekly_trend_note", lang))
with right:
    st.markdown(f"**{t('weekly_map_title', lang)}**")
    st.image(map_image, width="stretch")
    st.caption(t("weekly_map_legend", lang))

st.subheader(t("weekly_attention_title", lang, n=TOP_GRIDS))
attention = figures["attention"]
if attention.empty:
    st.success(t("weekly_attention_none", lang))
else:
    table = pd.DataFrame(
        {
            t("weekly_col_rank", lang): attention["rank"],
            t("weekly_col_grid", lang): [
                f"{g} {n}".strip()
                for g, n in zip(attention["grid_id"], attention["name"].fillna(""), strict=True)
            ],
            t("map_community", lang): attention["community"].fillna(""),
            t("weekly_col_score", lang): attention["score"],
            t("weekly_col_reasons", lang): [_reasons(row) for _, row in attention.iterrows()],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={t("weekly_col_score", lang): st.column_config.NumberColumn(format="%.1f")},
    )
    st.caption(t("weekly_score_note", lang))
st.caption(t("weekly_footer", lang, small=SMALL_COUNT))
