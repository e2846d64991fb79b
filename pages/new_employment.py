"""New-employment groups (新就业群体): firms, outlets, workers and red-bee stations on the map,
the headline figures, tables by firm and outlet, and the gap lists a party-building officer
acts on. Planner and meeting viewers get aggregates only (no worker-level row is loaded)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.employment import view
from geo.employment.gaps import GAPS
from geo.i18n import t
from geo.outputs.map.tiles import tile_provider_from_env
from geo.timeutil import now_local
from ui import auth, data, session
from ui import employment as emp
from ui.mapview import show_map
from ui.text import md, md_t

lang = session.lang()
as_of = session.as_of()
location = auth.location()

st.title(t("emp_title", lang))
st.caption(t("emp_caption", lang, as_of=as_of.isoformat()))

if not emp.has_data(location):
    st.info(md_t("emp_no_data", lang))
    st.stop()

viewer = session.viewer()
aggregate = viewer.aggregates_only
version = data.data_version(location)
status, stations = emp.status_of(location, version, as_of, viewer)
if data.grid_scope(location, version, viewer) is not None:
    st.caption(t("emp_scope_note", lang))

# --- key figures -------------------------------------------------------------------------------
for column, (label, value) in zip(
    st.columns(len(view.KEY_FIGURES)), view.key_figures(status, aggregate, lang), strict=True
):
    column.metric(label, value)

# --- map ---------------------------------------------------------------------------------------
try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None
# observers' reports are report rows: not for aggregate-only viewers
reports = (
    None
    if aggregate
    else view.observer_report_points(data.report_points(location, version, as_of), status)
)
fmap = emp.employment_map(location, version, as_of, status, stations, reports, tiles, lang)
show_map(fmap, key="employment_map", height=520)
st.caption(emp.map_caption(status, reports, lang))

# --- tables and gap lists ----------------------------------------------------------------------
by_firm, by_outlet, gaps = st.tabs(
    [t("emp_tab_firms", lang), t("emp_tab_outlets", lang), t("emp_tab_gaps", lang)]
)
with by_firm:
    st.dataframe(view.firm_rows(status, aggregate, lang), hide_index=True)
with by_outlet:
    st.dataframe(view.outlet_rows(status, aggregate, lang), hide_index=True)
with gaps:
    counts = view.gap_figures(status, aggregate)
    if aggregate:
        st.caption(t("emp_gaps_aggregate", lang))
        st.dataframe(
            pd.DataFrame(
                {
                    t("emp_gap_pick", lang): [t(f"emp_gap_{g}", lang) for g in GAPS],
                    "#": [str(counts[g]) for g in GAPS],
                }
            ),
            hide_index=True,
        )
    else:
        gap = st.radio(
            t("emp_gap_pick", lang),
            GAPS,
            format_func=lambda g: t(
                "emp_gap_count", lang, gap=t(f"emp_gap_{g}", lang), count=counts[g]
            ),
            key="employment_gap",
        )
        rows = view.gap_rows(gap, status, lang)
        if rows.empty:
            st.success(t("emp_gap_none", lang))
        else:
            st.dataframe(rows, hide_index=True)
        if viewer.may_reveal and len(status.workers):
            with st.expander(t("emp_reveal_title", lang)):
                st.caption(t("emp_reveal_help", lang))
                picked = st.text_input(
                    t("emp_reveal_pick", lang), max_chars=64, key="emp_reveal_id"
                )
                if st.button(t("emp_reveal_button", lang), key="emp_reveal") and picked.strip():
                    try:
                        fields = emp.reveal_worker(location, picked.strip(), viewer)
                    except data.AccessDenied:
                        st.error(t("emp_reveal_denied", lang))
                    else:
                        st.table(  # st.table renders its cells as Markdown: data escaped
                            pd.DataFrame(
                                {
                                    t(key, lang): [md(fields[field] or "")]
                                    for field, key in emp.REVEALED_HEADERS
                                }
                            )
                        )
                        st.caption(
                            md_t(
                                "emp_revealed",
                                lang,
                                user=viewer.username,
                                worker=fields["worker_id"],
                                at=now_local().strftime("%Y-%m-%d %H:%M"),
                            )
                        )
