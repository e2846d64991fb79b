"""The sidebar every page shares: who is signed in, meeting mode, language, data location, as-of day."""

from __future__ import annotations

import streamlit as st

from geo.access.auth import Viewer
from geo.i18n import LANGUAGES, t
from geo.timeutil import today
from ui.session import AS_OF_KEY, DEMO_KEY, LANG_KEY, MEETING_KEY, lang, store_location
from ui.text import md, md_t


def _sign_out() -> None:
    from ui.auth import oidc_configured, sign_out

    sign_out()
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


def render_account(viewer: Viewer) -> None:
    """The signed-in user and role, the meeting switch and the sign-out button."""
    current = lang()
    st.markdown(
        md_t(
            "auth_signed_in_as",
            current,
            user=viewer.username,
            role=t(f"auth_role_{viewer.role}", current),
        )
    )
    if st.session_state.get(DEMO_KEY):
        st.info(t("auth_demo_banner", current), icon=":material/science:")
    if viewer.role == "grid_worker":
        st.caption(md_t("auth_scope_grids", current, grids=", ".join(viewer.grids)))
    elif viewer.role == "community_staff":
        st.caption(md_t("auth_scope_community", current, community=viewer.community or ""))
    elif viewer.role == "district_leader":
        st.caption(md_t("auth_scope_district", current, district=viewer.district or ""))
    elif viewer.role == "department":
        from geo.cases.views import department_label
        from geo.config import load_config

        label = department_label(viewer.department or "", current, load_config())
        st.caption(md_t("auth_scope_department", current, department=label))
    st.toggle(
        t("auth_meeting_mode", current),
        key=MEETING_KEY,
        help=t("auth_meeting_mode_help", current),
        disabled=viewer.aggregates_only,  # planner and meeting accounts are always aggregate
    )
    st.button(t("auth_sign_out", current), key="auth_sign_out", on_click=_sign_out)
    st.divider()


def render_sidebar(viewer: Viewer | None = None) -> None:
    """Draw the shared sidebar; its widgets write the session settings read by ``ui.session``."""
    with st.sidebar:
        if viewer is not None:
            render_account(viewer)
        st.selectbox(
            t("ui_language", lang()),
            LANGUAGES,
            format_func=lambda code: t("ui_language_name", code),  # each named in itself
            key=LANG_KEY,
        )
        current = lang()
        if AS_OF_KEY not in st.session_state:
            st.session_state[AS_OF_KEY] = today()
        st.date_input(
            t("ui_as_of", current),
            key=AS_OF_KEY,
            help=t("ui_as_of_help", current),
            max_value=today(),
        )
        if viewer is not None and viewer.role == "admin":  # the server's file path: admins only
            st.caption(f"{t('ui_data_location', current)}: {md(store_location())}")
