"""账号 (accounts): everyone changes their own password; an admin lists, adds, disables, resets, unlocks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.access.accounts_admin import (
    account_table,
    change_own_password,
    new_password,
    reset_password,
    set_enabled,
    unlock,
)
from geo.access.auth import ROLES, AuthError, add_user, department_codes, set_role
from geo.cases.views import department_label
from geo.config import load_config
from geo.i18n import t
from geo.store import open_store
from geo.store.base import StoreBusy
from ui import auth, session
from ui import datadesk as desk
from ui.text import md

SHOWN_ONCE = "acc_shown_once"  # (username, password) of the last reset/add: shown once
RESULT = "acc_result"  # (level, text) of the last action, shown once after the rerun

lang = session.lang()
config = load_config()
location = auth.location()
viewer = session.signed_in()
store = open_store(location)

st.title(t("acc_title", lang))

result = st.session_state.pop(RESULT, None)
if result:
    level, text = result
    (st.success if level == "success" else st.error)(text)
shown = st.session_state.pop(SHOWN_ONCE, None)
if shown:
    name, password = shown
    st.warning(t("acc_password_once", lang, name=md(name)))
    st.code(password, language=None)


def _done(text: str) -> None:
    st.session_state[RESULT] = ("success", text)


def _failed(exc: Exception) -> None:
    reason = exc.message(lang) if hasattr(exc, "message") else str(exc)
    st.session_state[RESULT] = ("error", reason)


# --- one's own password ---------------------------------------------------------------
with st.form("acc_own", clear_on_submit=True):
    st.subheader(t("acc_own_title", lang))
    current = st.text_input(t("acc_current", lang), type="password", key="acc_current")
    first = st.text_input(t("acc_new", lang), type="password", key="acc_new")
    second = st.text_input(t("acc_repeat", lang), type="password", key="acc_repeat")
    if st.form_submit_button(t("acc_change", lang), key="acc_own_submit"):
        if first != second:
            st.session_state[RESULT] = ("error", t("acc_mismatch", lang))
        else:
            try:
                change_own_password(store, viewer.username, current, first)
            except (AuthError, StoreBusy) as exc:
                _failed(exc)
            else:
                _done(t("acc_changed", lang))
        st.rerun()

if viewer.role != "admin" or viewer.presenting:
    st.stop()

# --- the admin's list and actions -------------------------------------------------------
st.subheader(t("acc_list_title", lang))
accounts = account_table(store)
st.dataframe(desk.account_view(accounts, lang), hide_index=True, key="acc_table")

names = accounts["username"].tolist()
if names:
    picked = st.selectbox(t("acc_pick", lang), names, key="acc_pick")
    status = accounts.set_index("username").loc[picked, "status"]
    left, middle, right = st.columns(3)
    if status == "disabled":
        if left.button(t("acc_enable", lang), key="acc_enable"):
            try:
                set_enabled(store, picked, True, actor=viewer.username)
                _done(t("acc_enabled", lang, name=md(picked)))
            except (AuthError, StoreBusy) as exc:
                _failed(exc)
            st.rerun()
    elif left.button(t("acc_disable", lang), key="acc_disable"):
        try:
            set_enabled(store, picked, False, actor=viewer.username)
            _done(t("acc_disabled", lang, name=md(picked)))
        except (AuthError, StoreBusy) as exc:
            _failed(exc)
        st.rerun()
    if middle.button(t("acc_reset", lang), key="acc_reset"):
        try:
            st.session_state[SHOWN_ONCE] = (picked, reset_password(store, picked, viewer.username))
        except (AuthError, StoreBusy) as exc:
            _failed(exc)
        st.rerun()
    if right.button(t("acc_unlock", lang), key="acc_unlock", disabled=status != "locked"):
        try:
            unlock(store, picked, viewer.username)
            _done(t("acc_unlocked", lang, name=md(picked)))
        except (AuthError, StoreBusy) as exc:
            _failed(exc)
        st.rerun()

grids = store.read_attributes("grids", ["grid_id", "community", "district"])
communities = sorted(grids["community"].dropna().unique().tolist())
districts = sorted(grids["district"].dropna().unique().tolist())
grid_choices = sorted(grids["grid_id"].astype(str))
departments = ["", *department_codes()]


def _department(code: str) -> str:
    return department_label(code, lang, config) if code else ""


def _held(account: pd.Series | None, field: str) -> str:
    value = None if account is None else account[field]
    return value if isinstance(value, str) else ""


def _pick(label: str, options: list[str], held: str, key: str, **kwargs) -> str:
    return st.selectbox(
        t(label, lang),
        options,
        index=options.index(held) if held in options else 0,
        key=key,
        **kwargs,
    )


def _scope_fields(key: str, suffix: str = "", account: pd.Series | None = None) -> dict:
    """The scope inputs of an account form (district, community, grids, department), held
    values preselected: keyword arguments for ``add_user`` / ``set_role``."""
    district = (  # a street office's store names no district: nothing to choose
        _pick(
            "acc_district", ["", *districts], _held(account, "district"), f"{key}_district{suffix}"
        )
        if districts
        else ""
    )
    community = _pick(
        "acc_community", ["", *communities], _held(account, "community"), f"{key}_community{suffix}"
    )
    grid_ids = st.multiselect(
        t("acc_grids", lang),
        grid_choices,
        default=[g for g in _held(account, "grids").split(";") if g in grid_choices],
        key=f"{key}_grids{suffix}",
        placeholder=t("ui_choose", lang),
    )
    department = _pick(
        "acc_department",
        departments,
        _held(account, "department"),
        f"{key}_department{suffix}",
        format_func=_department,
    )
    return {
        "community": community or None,
        "grids": grid_ids or None,
        "department": department or None,
        "district": district or None,
    }


if names:
    current = accounts.set_index("username").loc[picked]
    with st.form(f"acc_role_{picked}"):
        st.markdown(f"**{t('acc_role_title', lang, name=md(picked))}**")
        new_role = st.selectbox(
            t("acc_col_role", lang),
            ROLES,
            index=list(ROLES).index(current["role"]) if current["role"] in ROLES else 0,
            format_func=lambda r: t(f"auth_role_{r}", lang),
            key=f"acc_role_role_{picked}",
        )
        scope = _scope_fields("acc_role", f"_{picked}", current)
        st.caption(t("acc_role_help", lang))
        if st.form_submit_button(t("acc_role_save", lang), key="acc_role_submit"):
            try:
                set_role(store, picked, new_role, actor=viewer.username, **scope)
            except (AuthError, StoreBusy) as exc:
                _failed(exc)
            else:
                _done(t("acc_role_saved", lang, name=md(picked)))
            st.rerun()

# --- a new account ------------------------------------------------------------------------
with st.form("acc_add", clear_on_submit=True):
    st.subheader(t("acc_add_title", lang))
    username = st.text_input(t("acc_col_username", lang), max_chars=64, key="acc_add_name")
    role = st.selectbox(
        t("acc_col_role", lang),
        ROLES,
        format_func=lambda r: t(f"auth_role_{r}", lang),
        key="acc_add_role",
    )
    scope = _scope_fields("acc_add")
    st.caption(t("acc_add_help", lang))
    if st.form_submit_button(t("acc_add", lang), key="acc_add_submit"):
        password = new_password()
        try:
            add_user(store, username, role, password, actor=viewer.username, **scope)
        except (AuthError, StoreBusy) as exc:
            _failed(exc)
        else:
            _done(t("acc_added", lang, name=md(username.strip())))
            st.session_state[SHOWN_ONCE] = (username.strip(), password)
        st.rerun()
