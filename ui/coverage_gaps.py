"""The coverage page's gaps: five cards and the warnings naming what lacks (Markdown, escaped)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.access.privacy import suppress_small
from geo.care.coverage_view import grid_labels, listed
from geo.i18n import t
from ui.text import md, md_t

SHOWN_IDS = 10  # ids listed in a gap message before "and more"


def gap_warnings(
    gaps: dict[str, pd.DataFrame],
    cover: dict[str, Any] | None,
    lang: str,
    aggregates_only: bool,
) -> list[str]:
    """One Markdown warning per kind of gap; every piece of data in it escaped (``md``).

    An aggregate-only viewer reads how many households are unassigned ("<3" for 1 or 2),
    never their ids.
    """
    warnings = []
    if len(gaps["no_party_branch"]):
        grids = [md(label) for label in grid_labels(gaps["no_party_branch"])]
        warnings.append(
            t("coverage_warn_no_branch", lang, n=len(grids), grids=listed(grids, lang, SHOWN_IDS))
        )
    if len(gaps["no_grid_worker"]):
        grids = [md(label) for label in grid_labels(gaps["no_grid_worker"])]
        warnings.append(
            t("coverage_warn_no_worker", lang, n=len(grids), grids=listed(grids, lang, SHOWN_IDS))
        )
    if len(gaps["unassigned"]):
        if aggregates_only:  # no household ids, and a count of 1 or 2 is "<3"
            n = suppress_small(len(gaps["unassigned"]))
            warnings.append(t("coverage_warn_unassigned_count", lang, n=n))
        else:
            ids = [md(i) for i in gaps["unassigned"]["household_id"].astype(str)]
            warnings.append(
                t(
                    "coverage_warn_unassigned",
                    lang,
                    n=f"{len(ids):,}",
                    ids=listed(ids, lang, SHOWN_IDS),
                )
            )
    if len(gaps["overlaps"]):
        pairs = [
            md_t("coverage_pair", lang, a=a, b=b, m2=f"{m2:,.0f}")
            for a, b, m2 in gaps["overlaps"][["grid_a", "grid_b", "overlap_m2"]].itertuples(
                index=False
            )
        ]
        warnings.append(
            t("coverage_warn_overlaps", lang, n=len(pairs), pairs=listed(pairs, lang, SHOWN_IDS))
        )
    if cover is not None and cover["uncovered_m2"] >= 1.0:
        warnings.append(
            t(
                "coverage_warn_uncovered",
                lang,
                m2=f"{cover['uncovered_m2']:,.0f}",
                km2=f"{cover['uncovered_m2'] / 1e6:,.3f}",
                share=f"{cover['uncovered_share']:.1%}",
            )
        )
    return warnings


def gap_cards(
    gaps: dict[str, pd.DataFrame],
    cover: dict[str, Any] | None,
    limited: bool,
    aggregates_only: bool,
    lang: str,
) -> None:
    """The five gap counts: grids without a branch / a worker, unassigned households,
    overlaps, the uncovered area (only a whole-street viewer measures the outline)."""
    cards = st.columns(5)
    cards[0].metric(t("coverage_gap_no_branch", lang), len(gaps["no_party_branch"]), border=True)
    cards[1].metric(t("coverage_gap_no_worker", lang), len(gaps["no_grid_worker"]), border=True)
    unassigned = len(gaps["unassigned"])
    cards[2].metric(
        t("coverage_gap_unassigned", lang),
        str(suppress_small(unassigned)) if aggregates_only else f"{unassigned:,}",
        border=True,
    )
    cards[3].metric(t("coverage_gap_overlaps", lang), len(gaps["overlaps"]), border=True)
    uncovered = t("coverage_gap_uncovered", lang)
    if limited:
        cards[4].metric(uncovered, "—", border=True)
    elif cover is None:
        cards[4].metric(uncovered, "—", help=t("coverage_no_boundary_help", lang), border=True)
        st.caption(t("coverage_no_boundary_help", lang))
    else:
        share = cover["uncovered_share"]
        share_text = "–" if share is None else f"{share:.1%}"
        cards[4].metric(
            uncovered,
            f"{cover['uncovered_m2'] / 1e6:,.3f} km²",
            delta=t("coverage_uncovered_share", lang, share=share_text),
            delta_color="inverse" if cover["uncovered_m2"] > 0 else "off",
            delta_arrow="off",
            help=t(
                "coverage_uncovered_help",
                lang,
                boundary=f"{cover['boundary_m2']:,.0f}",
                uncovered=f"{cover['uncovered_m2']:,.0f}",
            ),
            border=True,
        )
