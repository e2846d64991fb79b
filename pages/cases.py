"""The case desk (案件办理): my cases by urgency, the cases per owner with overdue counts, the
mediation room's figures, and a case's timeline with the actions the rules allow the account
(dispatch, 转派, extension and its decision, respond, resolve, 回访, 结案, mediation)."""

from __future__ import annotations

import streamlit as st

from geo.cases import views
from geo.cases.figures import mediation_room_figures
from geo.cases.limits import case_clock
from geo.cases.settings import case_settings
from geo.cases.timeline import case_status, case_timeline
from geo.cases.workload import cases_per_owner
from geo.config import load_config
from geo.i18n import t
from geo.reports.workflow import report_history
from geo.store import open_store
from ui import auth, data, session
from ui import cases as ui_cases
from ui import reports as ui_reports
from ui.tables import newly_picked, row_key
from ui.text import md, md_t

SEEN_ROWS = "_case_seen_rows"

lang = session.lang()
as_of = session.as_of()
location = auth.location()
config = load_config()
settings = case_settings()

st.title(t("case_title", lang))
store = open_store(location)
if not store.exists() or store.count("reports") == 0:
    st.info(md_t("ui_no_data", lang, location=location))
    st.stop()

version = data.data_version(location)
cases = ui_cases.case_data(location, version)
who = ui_cases.actor(cases)
reference, now = ui_reports.reference_time(as_of)
st.caption(
    t(
        "case_caption",
        lang,
        at=reference.strftime("%Y-%m-%d %H:%M"),
        hours=f"{settings.base_limit_hours:g}",
        remind=f"{settings.reminder_hours:g}",
    )
)
clock = case_clock(cases.reports, cases.events, settings, as_of, now=now)
pending = views.pending_extensions(cases.events)
labels = ui_cases.owner_labels(cases, lang, config)
mine = views.my_owners(who)

offered_views = views.views_for(who, settings)
whose = st.radio(
    t("case_view", lang),
    offered_views,
    horizontal=True,
    key="case_view",
    format_func=lambda v: t(f"case_view_{v}", lang),
)
listed = views.desk_cases(cases.reports, clock, pending, mine if whose == "mine" else None)
if whose == "approve":
    listed = listed[listed["pending"]].reset_index(drop=True)
with st.container(horizontal=True, gap="large"):  # wraps on a phone instead of stacking
    for label, value in views.desk_counts(listed, settings, lang):
        st.metric(label, f"{value:,}", width="content")

tab_list, tab_owners, tab_room = st.tabs(
    [t("case_tab_list", lang), t("case_tab_owners", lang), t("case_tab_room", lang)]
)
with tab_owners:
    st.dataframe(
        views.per_owner_table(cases_per_owner(cases.reports, clock), labels, lang),
        hide_index=True,
        width="stretch",
        key="case_owners",
    )
with tab_room:
    room = mediation_room_figures(
        cases.reports, cases.grids, cases.mediations, cases.sessions, settings, as_of
    )
    if room.empty:
        st.caption(t("case_med_none", lang))
    else:
        st.dataframe(
            views.mediation_table(room, lang, settings),
            hide_index=True,
            width="stretch",
            key="case_room",
        )
with tab_list:
    ids = listed["report_id"].astype(str).tolist()
    table_key = row_key("case_table", ids)
    event = st.dataframe(
        views.desk_table(listed, labels, lang, config, ui_reports.countdown),
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * max(len(listed), 1)),
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
    )
    rows = list(event.selection.rows) if event is not None and hasattr(event, "selection") else []
    picked, st.session_state[SEEN_ROWS] = newly_picked(
        table_key, rows, ids, st.session_state.get(SEEN_ROWS)
    )
    if picked is not None:
        st.session_state[ui_cases.SELECTED] = picked

# --- one case: facts, timeline, actions -----------------------------------------------------
st.subheader(t("case_detail_heading", lang))
ui_cases.result()
every = cases.reports["report_id"].astype(str).tolist()
chosen = st.session_state.get(ui_cases.SELECTED)
choices = ids + ([chosen] if chosen in every and chosen not in ids else [])
if not choices:
    st.caption(t("case_none", lang))
    st.stop()
if chosen not in choices:
    st.session_state[ui_cases.SELECTED] = choices[0]
report_id = st.selectbox(t("rep_detail_choose", lang), choices, key=ui_cases.SELECTED)
position = cases.reports.index[cases.reports["report_id"] == report_id][0]
report = cases.reports.loc[position]
grid_names = dict(zip(cases.grids["grid_id"], cases.grids["name"].fillna(""), strict=True))
col_facts, col_timeline = st.columns([2, 3], gap="medium")
with col_facts:
    lines = views.case_facts(
        report,
        clock.loc[position],
        labels,
        grid_names,
        lang,
        config,
        settings,
        ui_reports.countdown,
    )
    st.markdown("  \n".join(f"**{label}**: {md(value)}" for label, value in lines))
    st.markdown(f"**{t('rep_col_description', lang)}**")
    st.text(report["description"] if isinstance(report["description"], str) else "–")
with col_timeline:
    st.markdown(f"**{t('rep_timeline', lang)}**")
    timeline = case_timeline(
        report_history(store, report_id),
        cases.events[cases.events["report_id"] == report_id],
        until=reference,
    )
    methods = settings.return_visit_methods
    st.dataframe(
        views.timeline_table(timeline, labels, lang, methods),
        hide_index=True,
        width="stretch",
        key="case_timeline",
    )

status = case_status(report.to_dict(), cases.events)
offered = views.offered_actions(
    status, who, settings, report["source"] in settings.mediation_sources
)
if not offered:
    st.caption(t("case_no_action", lang))
    st.stop()
with st.container(border=True):
    action = st.segmented_control(
        t("case_action", lang),
        offered,
        default=offered[0],
        key=f"case_action_{report_id}",
        format_func=lambda a: t(f"case_action_{a}", lang),
    )
    if action:
        ui_cases.action_form(report, action, who, cases, labels, lang, config)
