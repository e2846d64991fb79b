"""The audit log (admin only: app.py registers this page for admins): filter by day, actor, action."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from geo.access.audit import read_audit
from geo.i18n import t
from geo.store import open_store
from ui import auth, session
from ui.audit import action_label, detail_text

lang = session.lang()
location = auth.location()
if session.viewer().role != "admin":  # app.py only registers this page for admins; be sure anyway
    st.stop()

st.title(t("audit_title", lang))
st.caption(t("audit_caption", lang))

store = open_store(location)
everything = read_audit(store)
actors = [""] + sorted(everything["actor"].dropna().astype(str).unique())
actions = [""] + sorted(everything["action"].dropna().astype(str).unique())


def _all_or(value: str) -> str:
    return t("audit_all", lang) if value == "" else value


col_since, col_actor, col_action = st.columns(3)
with col_since:
    since = st.date_input(
        t("audit_since", lang), value=session.as_of() - dt.timedelta(days=30), key="audit_since"
    )
with col_actor:
    actor = st.selectbox(t("audit_actor", lang), actors, format_func=_all_or, key="audit_actor")
with col_action:
    action = st.selectbox(
        t("audit_action", lang),
        actions,
        format_func=lambda a: _all_or(a) if a == "" else action_label(a, lang),
        key="audit_action",
    )

events = read_audit(
    store,
    since=since if isinstance(since, dt.date) else None,
    actor=actor or None,
    action=action or None,
)
events = events.iloc[::-1]  # newest first
st.caption(t("audit_count", lang, n=len(events)))
st.dataframe(
    pd.DataFrame(
        {
            t("audit_col_at", lang): events["at"].astype(str),
            t("audit_actor", lang): events["actor"].astype(str),
            t("audit_action", lang): events["action"]
            .astype(str)
            .map(lambda a: action_label(a, lang)),
            t("audit_col_detail", lang): [
                detail_text(str(a), str(d), lang)
                for a, d in zip(events["action"], events["detail"].fillna(""), strict=True)
            ],
            t("audit_col_records", lang): events["records"].fillna("").astype(str),
        }
    ),
    hide_index=True,
    width="stretch",
    height=520,
)
