"""核实 (monthly re-verification): the households of the viewer's grids due for it, oldest first;
"verified, no change" or edit and save; progress per grid this month."""

from __future__ import annotations

import streamlit as st

from geo.care.categories import split_codes
from geo.care.coverage import EditRefused
from geo.care.reverification import due_for_reverification, month_progress, save_reverification
from geo.config import load_config
from geo.i18n import t
from geo.store import open_store
from geo.timeutil import today
from ui import auth, data, session
from ui import datadesk as desk
from ui.datadesk import phone_css
from ui.text import md

PICK = "rv_pick"
RESULT = "rv_result"  # (level, text) of the last save, shown once after the rerun
SHOWN_DUE = 200  # households offered in the picker (the most overdue first)

lang = session.lang()
location = auth.location()
viewer = session.viewer()
config = load_config()
labels = {c.code: c.label(lang) for c in config.categories}

st.html(phone_css("rv_"))
st.title(t("rv_title", lang))
if viewer.aggregates_only:
    st.info(t("rv_not_for_role", lang))
    st.stop()

store = open_store(location)
version = data.data_version(location)
scope = data.grid_scope(location, version, viewer)
day = today()

result = st.session_state.pop(RESULT, None)
if result:
    level, text = result
    (st.success if level == "success" else st.error)(text)

if viewer.role != "grid_worker":
    st.subheader(t("rv_progress_title", lang, month=day.strftime("%Y-%m")))
    progress = month_progress(store, day, scope)
    st.dataframe(desk.progress_view(progress, lang), hide_index=True, key="rv_progress")

due = due_for_reverification(store, day, scope)
st.subheader(t("rv_due_title", lang, count=len(due)))
if due.empty:
    st.success(t("rv_none_due", lang))
    st.stop()


shown = due.head(SHOWN_DUE)
options = shown["household_id"].tolist()
by_id = shown.set_index("household_id", drop=False)
picked = st.selectbox(
    t("rv_pick", lang), options, format_func=lambda h: desk.due_label(by_id.loc[h], lang), key=PICK
)
row = by_id.loc[picked]
held = split_codes(row["categories"])
st.caption(
    t(
        "rv_current",
        lang,
        categories=md(t("map_list_separator", lang).join(labels.get(c, c) for c in held) or "-"),
    )
)


def _save(changes: dict) -> None:
    if not data.households_in_scope(location, [picked], viewer):
        st.session_state[RESULT] = ("error", t("edit_unknown_household", lang, ids=picked))
        return
    try:
        changed = save_reverification(store, picked, changes, viewer.username, day)
    except EditRefused as refused:
        st.session_state[RESULT] = ("error", refused.message(lang))
        return
    key = "rv_saved_changed" if changed else "rv_saved_same"
    st.session_state[RESULT] = ("success", t(key, lang, id=md(picked)))


if st.button(t("rv_same", lang), key="rv_same", type="primary", use_container_width=True):
    _save({})
    st.rerun()

with st.form("rv_edit"):
    st.markdown(f"**{t('rv_edit_title', lang)}**")
    categories = st.multiselect(
        t("rv_categories", lang),
        config.category_codes,
        default=held,
        format_func=lambda c: labels.get(c, c),
        key="rv_categories",
        placeholder=t("ui_choose", lang),
    )
    stored = desk.editable_texts(location, picked)
    members = st.text_input(
        t("rv_members", lang),
        value=stored["members"],
        max_chars=3,
        key=f"rv_members_{picked}",
    )
    address = st.text_input(
        t("rv_address", lang),
        value=stored["address"],
        max_chars=200,
        key=f"rv_address_{picked}",
    )
    phone = st.text_input(t("rv_phone", lang), value="", max_chars=32, key=f"rv_phone_{picked}")
    if st.form_submit_button(t("rv_save", lang), key="rv_save", use_container_width=True):
        changes = {
            "categories": ";".join(c for c in config.category_codes if c in categories),
            "members": members,
            "address": address,
        }
        if phone.strip():  # empty: the stored phone stays (it is never shown here)
            changes["phone"] = phone
        _save(changes)
        st.rerun()
