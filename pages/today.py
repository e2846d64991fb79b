"""今日走访 (today's visits), made for a grid worker's phone: due households by category colour,
red first; tap one, tap how it was visited (入户/电话/视频): logged, and the list updates."""

from __future__ import annotations

import streamlit as st

from geo.care.coverage import EditRefused, log_visit
from geo.care.today import today_visits
from geo.config import load_config
from geo.i18n import t
from geo.store import open_store
from geo.timeutil import now_local, today
from ui import auth, data, session
from ui.datadesk import phone_css
from ui.text import md

PICKED = "today_picked"  # the household tapped (its id), None when none is open
RESULT = "today_result"  # (level, text) of the last visit logged, shown once
SHOWN = 60  # rows on one phone screen list (the most pressing first)
KINDS = ("home", "phone", "video")  # geo.coverage.VISIT_KINDS stores them as 入户/电话/视频
# the rows: a category colour bar (the configuration's colours: trusted, never data), text
# left-aligned and wrapped; the three ways side by side even on a phone
ROW_CSS = """
<style>
[class*="st-key-today_row_"] { border-left: 8px solid var(--row-colour, #9e9e9e);
  padding-left: 8px; border-radius: 4px; }
[class*="st-key-today_pick_"] button, [class*="st-key-today_pick_"] button div,
[class*="st-key-today_pick_"] button span { justify-content: flex-start; text-align: left; }
[class*="st-key-today_pick_"] button > div { width: 100%; }
[class*="st-key-today_pick_"] button p { text-align: left; white-space: normal;
  overflow-wrap: anywhere; }
[class*="st-key-today_kinds_"] [data-testid="stHorizontalBlock"] { flex-wrap: nowrap;
  gap: 0.5rem; }
[class*="st-key-today_kinds_"] [data-testid="stColumn"] { min-width: 0; flex: 1 1 0;
  width: auto; }
[class*="st-key-today_kinds_"] button p { text-align: center; }
</style>
"""

lang = session.lang()
location = auth.location()
viewer = session.viewer()
config = load_config()
labels = {c.code: c.label(lang) for c in config.categories}

st.html(phone_css("today_"))
st.html(ROW_CSS)
st.title(t("today_title", lang))
if viewer.aggregates_only:
    st.info(t("rv_not_for_role", lang))
    st.stop()

store = open_store(location)
scope = data.grid_scope(location, data.data_version(location), viewer)
if viewer.role != "grid_worker":  # a leader or clerk looks at one grid at a time
    grids = (
        list(scope)
        if scope is not None
        else sorted(store.read_attributes("grids", ["grid_id"])["grid_id"])
    )
    if not grids:
        st.info(t("today_no_grids", lang))
        st.stop()
    scope = (st.selectbox(t("today_grid", lang), grids, key="today_grid"),)

result = st.session_state.pop(RESULT, None)
if result:
    level, text = result
    (st.success if level == "success" else st.error)(text)


def _log(household_id: str, kind: str) -> None:
    """Widget callback: record the visit (scope checked first), then close the row."""
    current = session.lang()
    if not data.households_in_scope(auth.location(), [household_id], session.viewer()):
        st.session_state[RESULT] = ("error", t("edit_unknown_household", current, ids=household_id))
        return
    note = str(st.session_state.get(f"today_note_{household_id}") or "").strip()[:500] or None
    try:
        log_visit(
            open_store(auth.location()),
            household_id,
            now_local(),
            kind,
            None,
            note,
            session.user_name() or viewer.username,
        )
    except EditRefused as refused:
        st.session_state[RESULT] = ("error", refused.message(current))
        return
    st.session_state[PICKED] = None
    st.session_state[RESULT] = (
        "success",
        t("today_logged", current, id=md(household_id), kind=t(f"today_kind_{kind}", current)),
    )


def _pick(household_id: str) -> None:
    st.session_state[PICKED] = (
        None if st.session_state.get(PICKED) == household_id else household_id
    )


rows = today_visits(store, today(), scope)
st.caption(t("today_count", lang, count=len(rows)))
if rows.empty:
    st.success(t("today_none", lang))
    st.stop()

picked = st.session_state.get(PICKED)
for i, row in enumerate(rows.head(SHOWN).itertuples(index=False)):
    with st.container(key=f"today_row_{i}"):
        st.html(f"<style>.st-key-today_row_{i} {{ --row-colour: {row.colour}; }}</style>")
        category = labels.get(row.first_category, "") if row.first_category else ""
        overdue = (
            t("today_overdue", lang, days=int(row.days_overdue))
            if row.days_overdue
            else t("today_due", lang)
        )
        where = " ".join(str(v) for v in (row.building, row.address) if isinstance(v, str))
        st.button(  # a label is markdown: the household's texts are escaped
            f"{md(row.household_id)} · {category} · {overdue}\n\n{md(where)}",
            key=f"today_pick_{i}",
            use_container_width=True,
            on_click=_pick,
            args=(row.household_id,),
        )
        if picked == row.household_id:
            st.text_input(
                t("today_note", lang), key=f"today_note_{row.household_id}", max_chars=500
            )
            # the three ways side by side, also on a phone (Streamlit stacks columns below 640 px)
            with st.container(key=f"today_kinds_{i}"):
                for column, kind in zip(st.columns(len(KINDS)), KINDS, strict=True):
                    column.button(
                        t(f"today_kind_{kind}", lang),
                        key=f"today_kind_{kind}_{i}",
                        type="primary",
                        use_container_width=True,
                        on_click=_log,
                        args=(row.household_id, kind),
                    )
if len(rows) > SHOWN:
    st.caption(t("today_more", lang, count=len(rows) - SHOWN))
