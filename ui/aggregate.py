"""The aggregate form of a page: grid and community figures only, small counts suppressed.

Shown to planner and meeting accounts, and to anyone with the meeting switch on, in place
of a page that works on household or report rows. It loads nothing but the suppressed
grid/community tables of ``ui.data`` for the viewer's scope.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from geo.i18n import t
from geo.outputs.figures import count_text, rate_text, ratio_text
from geo.store import open_store
from ui import auth, data, session

# (figure column, catalogue key of its header)
GRID_COLUMNS = (
    ("grid_id", "map_grid"),
    ("name", "map_col_name"),
    ("community", "map_community"),
    ("households", "map_households"),
    ("visit_rate", "map_fill_visit_rate"),
    ("freshness_rate", "map_fill_freshness_rate"),
    ("reports_open", "map_open_reports"),
    ("reports_overdue", "map_fill_reports_overdue"),
    ("households_per_worker", "map_fill_households_per_worker"),
)
COMMUNITY_COLUMNS = (
    ("community", "map_community"),
    ("grids", "map_grids_count"),
    ("households", "map_households"),
    ("visit_rate", "map_fill_visit_rate"),
    ("freshness_rate", "map_fill_freshness_rate"),
    ("reports_open", "map_open_reports"),
    ("reports_overdue", "map_fill_reports_overdue"),
    ("households_per_worker", "map_fill_households_per_worker"),
)
_RATES = {"visit_rate", "freshness_rate"}
_TEXT = {"grid_id", "name", "community"}


def _display(
    figures: pd.DataFrame, columns: tuple[tuple[str, str], ...], lang: str
) -> pd.DataFrame:
    """Figures as text, formatted as everywhere (geo.outputs.figures): "<3" kept as such, rates
    rounded alike; one dtype per column for Arrow."""
    out = {}
    for column, key in columns:
        if column not in figures.columns:
            continue
        values = figures[column]
        if column in _RATES:
            text = values.map(rate_text)
        elif column == "households_per_worker":
            text = values.map(ratio_text)
        elif column in _TEXT:
            text = values.map(lambda v: "" if v is None or v != v else str(v))
        else:
            text = values.map(count_text)
        out[t(key, lang)] = text.astype(str).to_numpy()
    return pd.DataFrame(out)


def render_aggregate_figures(lang: str, location: str, version: int) -> None:
    """The suppressed community and grid tables of the viewer's scope."""
    as_of = session.as_of()
    st.markdown(f"**{t('auth_aggregate_communities', lang)}**")
    communities = data.community_figures(location, version, as_of)
    st.dataframe(_display(communities, COMMUNITY_COLUMNS, lang), hide_index=True, width="stretch")
    st.markdown(f"**{t('auth_aggregate_grids', lang)}**")
    grids = data.grid_figures(location, version, as_of)
    st.dataframe(_display(grids, GRID_COLUMNS, lang), hide_index=True, width="stretch", height=420)


def aggregate_page(title_key: str) -> Callable[[], None]:
    """A page function drawing the aggregate form under the title ``title_key``."""

    def page() -> None:
        lang = session.lang()
        location = auth.location()
        st.title(t(title_key, lang))
        st.info(t("auth_aggregate_notice", lang))
        store = open_store(location)
        if not store.exists() or store.count("grids") == 0:
            st.info(t("ui_no_data", lang, location=location))
            return
        render_aggregate_figures(lang, location, data.data_version(location))

    page.__name__ = f"aggregate_{title_key}"
    return page
