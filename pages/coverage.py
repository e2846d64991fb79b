"""Coverage: which grids lack what (the map, and its table under it), gaps, the visit work list."""

from __future__ import annotations

import datetime as dt
import numbers

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.access.privacy import suppress_small
from geo.care.coverage import EditRefused, log_visit, mark_verified
from geo.care.rules import HOUSEHOLD_STATUS_COLUMNS
from geo.config import load_config
from geo.i18n import t
from geo.outputs.figures import NONE, count_text, rate_text, ratio_text
from geo.outputs.map.build import build_map
from geo.outputs.map.legend import FILL_MEASURES
from geo.outputs.map.tiles import tile_provider_from_env
from geo.outputs.weekly.figures import FRESHNESS_CONCERN, VISIT_RATE_CONCERN, figure_label
from geo.store import open_store
from geo.timeutil import now_local, today
from ui import auth, data, session
from ui import coverage as cov
from ui.mapview import show_map
from ui.tables import newly_picked, row_key
from ui.text import md, md_t

FORM_RESULT = "coverage_form_result"
HOUSEHOLD_KEY = "coverage_form_household"
SEEN_ROWS = "_coverage_seen_rows"  # (table key, rows) of the last work-list pick acted upon
SAVES = "coverage_saves"  # edits saved in this session: a new work-list table after each
KINDS = ("home", "phone", "video")  # geo.care.coverage.VISIT_KINDS stores them as 入户/电话/视频
SHOWN_IDS = 10  # ids listed in a gap message before "and more"
BAD_CELL = "color: #c62828; font-weight: 600"

lang = session.lang()
as_of = session.as_of()
location = auth.location()
config = load_config()
codes = config.category_codes


# --- edits: run as widget callbacks, before the page body, so the figures below include them
def _form_values() -> tuple[str, dt.datetime]:
    household = str(st.session_state.get(HOUSEHOLD_KEY) or "").strip()
    day = st.session_state.get("coverage_form_day") or today()
    at = st.session_state.get("coverage_form_time") or dt.time(0, 0)
    return household, dt.datetime.combine(day, at)


def _refuse_outside_scope(households: list[str]) -> None:
    # a household outside the viewer's grids reads as unknown: no edit, and no hint it exists
    if households[0] and not data.households_in_scope(auth.location(), households):
        raise EditRefused("edit_unknown_household", ids=", ".join(households))


def _clear_form() -> None:
    """After a save nothing is pre-selected or pre-filled: a second click must not record a
    visit to the next household of the list."""
    st.session_state[HOUSEHOLD_KEY] = ""
    st.session_state["coverage_form_note"] = ""
    st.session_state[SAVES] = st.session_state.get(SAVES, 0) + 1  # the table starts unticked


def _log_visit() -> None:
    current = session.lang()
    household, when = _form_values()
    kind = st.session_state.get("coverage_form_kind") or KINDS[0]
    target = open_store(auth.location())
    before = target.version()
    try:
        _refuse_outside_scope([household])
        log_visit(
            target,
            household,
            when,
            kind,
            st.session_state.get("coverage_form_staff") or None,
            str(st.session_state.get("coverage_form_note") or "").strip() or None,
            cov.actor(),
        )
    except EditRefused as refused:
        st.session_state[FORM_RESULT] = ("error", md_t(refused.key, current, **refused.values))
        return
    # a visit changes this household's status only (ui.data.note_household_edit)
    data.note_household_edit(auth.location(), before, target.version(), [household])
    _clear_form()
    st.session_state[FORM_RESULT] = (
        "success",
        md_t(
            "coverage_logged",
            current,
            household=household,
            kind=t(f"coverage_kind_{kind}", current),
            when=f"{when:%Y-%m-%d %H:%M}",
        ),
    )


def _mark_verified() -> None:
    current = session.lang()
    household, _ = _form_values()
    day = today()
    target = open_store(auth.location())
    before = target.version()
    try:
        if household:
            _refuse_outside_scope([household])
        mark_verified(target, [household] if household else [], day, cov.actor())
    except EditRefused as refused:
        st.session_state[FORM_RESULT] = ("error", md_t(refused.key, current, **refused.values))
        return
    data.note_household_edit(auth.location(), before, target.version(), [household])
    _clear_form()
    st.session_state[FORM_RESULT] = (
        "success",
        md_t("coverage_verified", current, household=household, day=day.isoformat()),
    )


def _listed(items: list[str]) -> str:
    shown = t("map_list_separator", lang).join(items[:SHOWN_IDS])
    return shown + (t("coverage_more", lang) if len(items) > SHOWN_IDS else "")


def _grid_label(frame: pd.DataFrame) -> list[str]:
    names = (
        frame["name"].fillna("").astype(str)
        if "name" in frame.columns
        else pd.Series("", index=frame.index)
    )
    return [f"{g} {n}".strip() for g, n in zip(frame["grid_id"], names, strict=True)]


def _number(value: object) -> bool:
    """A real number (suppressed counts are the text "<3"; missing rates are NaN)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value


def _positive(value: object) -> bool:
    """More than none: a positive number, or a count suppressed as "<3" (1 or 2)."""
    return (_number(value) and value > 0) or (isinstance(value, str) and value.startswith("<"))


def _flag_below(limit: float):
    """A cell style: red when the rate is below ``limit``."""
    return lambda v: BAD_CELL if _number(v) and v < limit else ""


def _roles_text(counts: pd.Series) -> str:
    parts = [
        t("coverage_role_count", lang, role=t(f"map_role_{role}", lang), n=int(n))
        for role, n in counts.items()
        if n
    ]
    return t("map_list_separator", lang).join(parts)


st.title(t("coverage_title", lang))
st.caption(t("coverage_caption", lang, as_of=as_of.isoformat()))

store = open_store(location)
if not store.exists() or store.count("grids") == 0:
    st.info(md_t("ui_no_data", lang, location=location))
    st.stop()

viewer = session.viewer()
version = data.data_version(location)
scope = data.grid_scope(location, version, viewer)
polygons = data.grid_polygons(location, version, viewer)
gaps = cov.scoped_gaps(cov.gaps(location, version, as_of), scope)
# the jurisdiction outline is the whole street office's: only a whole-street viewer measures it
cover = cov.boundary_cover(location, version) if scope is None else None

# --- gaps, called out first ----------------------------------------------------------------
st.subheader(t("coverage_gaps_title", lang))
cards = st.columns(5)
cards[0].metric(t("coverage_gap_no_branch", lang), len(gaps["no_party_branch"]), border=True)
cards[1].metric(t("coverage_gap_no_worker", lang), len(gaps["no_grid_worker"]), border=True)
unassigned = len(gaps["unassigned"])
cards[2].metric(
    t("coverage_gap_unassigned", lang),
    str(suppress_small(unassigned)) if viewer.aggregates_only else f"{unassigned:,}",
    border=True,
)
cards[3].metric(t("coverage_gap_overlaps", lang), len(gaps["overlaps"]), border=True)
if scope is not None:
    cards[4].metric(t("coverage_gap_uncovered", lang), "—", border=True)
elif cover is None:
    cards[4].metric(
        t("coverage_gap_uncovered", lang),
        "—",
        help=t("coverage_no_boundary_help", lang),
        border=True,
    )
    st.caption(t("coverage_no_boundary_help", lang))
else:
    share = cover["uncovered_share"]
    share_text = "–" if share is None else f"{share:.1%}"
    cards[4].metric(
        t("coverage_gap_uncovered", lang),
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

# the warnings are Markdown holding data (grid names, ids): every piece escaped (md)
warnings = []
if len(gaps["no_party_branch"]):
    grids = [md(label) for label in _grid_label(gaps["no_party_branch"])]
    warnings.append(t("coverage_warn_no_branch", lang, n=len(grids), grids=_listed(grids)))
if len(gaps["no_grid_worker"]):
    grids = [md(label) for label in _grid_label(gaps["no_grid_worker"])]
    warnings.append(t("coverage_warn_no_worker", lang, n=len(grids), grids=_listed(grids)))
if len(gaps["unassigned"]):
    if viewer.aggregates_only:  # no household ids, and a count of 1 or 2 is "<3"
        warnings.append(t("coverage_warn_unassigned_count", lang, n=suppress_small(unassigned)))
    else:
        ids = [md(i) for i in gaps["unassigned"]["household_id"].astype(str)]
        warnings.append(t("coverage_warn_unassigned", lang, n=f"{len(ids):,}", ids=_listed(ids)))
if len(gaps["overlaps"]):
    pairs = [
        md_t("coverage_pair", lang, a=a, b=b, m2=f"{m2:,.0f}")
        for a, b, m2 in gaps["overlaps"][["grid_a", "grid_b", "overlap_m2"]].itertuples(index=False)
    ]
    warnings.append(t("coverage_warn_overlaps", lang, n=len(pairs), pairs=_listed(pairs)))
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
for text in warnings:
    st.warning(text)
if not warnings:
    st.success(t("coverage_no_gaps", lang))

# --- map and table side by side ------------------------------------------------------------
controls = st.columns([2, 2, 3])
with controls[0]:
    level = st.radio(
        t("coverage_level", lang),
        ("grid", "community"),
        format_func=lambda v: t(f"coverage_level_{v}", lang),
        horizontal=True,
        key="coverage_level",
    )
with controls[1]:
    fill = st.selectbox(
        t("map_fill", lang),
        FILL_MEASURES,
        index=FILL_MEASURES.index("visit_rate"),
        format_func=lambda m: t(f"map_fill_{m}", lang),
        key="coverage_fill",
    )

# the coverage map draws grids only: no household points (an empty frame), bubbles = households
no_households = pd.DataFrame(columns=HOUSEHOLD_STATUS_COLUMNS)
summary = no_households.drop(columns=["grid_id"])
if level == "grid":
    figures = data.grid_figures(location, version, as_of)
    shapes = polygons[["grid_id", polygons.geometry.name]]
    drawn = gpd.GeoDataFrame(
        shapes.merge(figures, on="grid_id", how="left"),
        geometry=polygons.geometry.name,
        crs=polygons.crs,
    )
    roles = cov.role_matrix(location, version, "grid").reindex(figures["grid_id"]).fillna(0)
else:
    figures = data.community_figures(location, version, as_of)
    dissolved = cov.community_polygons(polygons)
    drawn = gpd.GeoDataFrame(
        dissolved.merge(figures, on="community", how="left"),
        geometry=dissolved.geometry.name,
        crs=polygons.crs,
    )
    # the map labels and keys polygons by grid_id: here a community is the unit
    drawn["grid_id"] = drawn["community"].replace("", "–")
    drawn["name"] = ""
    drawn["community"] = ""
    roles = cov.role_matrix(location, version, "community").reindex(figures["community"]).fillna(0)
for column in ("street", "community", "name"):
    if column in drawn.columns:
        drawn[column] = drawn[column].fillna("").astype(str)
# suppressed counts ("<3" for aggregate-only viewers) draw no bubble
drawn["households"] = pd.to_numeric(drawn["households"], errors="coerce")

try:
    tiles = tile_provider_from_env()
except ValueError as error:
    st.warning(md_t("map_base_map_error", lang, error=error))
    tiles = None

# the map across the page, the table under it: side by side the map was a narrow strip
# with the grids small in the middle of empty space
left, right = st.container(), st.container()
with left:
    fmap = build_map(
        drawn,
        no_households,
        None,
        fill=fill,
        lang=lang,
        as_of=as_of,
        tiles=tiles,
        summary=summary,
        focus=cov.map_focus(drawn, cover),
    )
    cov.hide_household_legend(fmap)
    if cover is not None:
        cov.add_uncovered_layer(fmap, cover["geometry"], lang, gcj02=bool(tiles and tiles.gcj02))
    show_map(fmap, key="coverage_map", height=480)
    if cover is not None and cover["uncovered_m2"] >= 1.0:
        st.caption(t("coverage_map_caption", lang))

with right:
    st.markdown(
        f"**{t('coverage_table_grids' if level == 'grid' else 'coverage_table_communities', lang)}**"
    )
    yes, no = t("map_yes", lang), t("map_no", lang)
    columns: dict[str, object] = {}
    if level == "grid":
        columns[t("map_grid", lang)] = figures["grid_id"]
        columns[t("map_col_name", lang)] = figures["name"]
        columns[t("map_party_branch", lang)] = figures["has_party_branch"].map(
            {True: yes, False: no}
        )
    else:
        columns[t("map_community", lang)] = figures["community"].replace("", "–")
        columns[t("map_grids_count", lang)] = figures["grids"]
        columns[t("map_grids_without_branch", lang)] = figures["grids_without_party_branch"]
        columns[t("coverage_col_grids_no_worker", lang)] = figures["grids_without_worker"]
    columns[t("coverage_col_grid_workers", lang)] = figures["grid_workers"]
    columns[t("map_households", lang)] = figures["households"]
    columns[t("map_fill_households_per_worker", lang)] = figures["households_per_worker"]
    visit_columns = [t("coverage_col_visit_overall", lang)]
    columns[visit_columns[0]] = figures["visit_rate"]
    for code in codes:
        name = t("coverage_col_visit", lang, label=figure_label(f"visit_{code}", lang))
        visit_columns.append(name)
        columns[name] = figures[f"visit_rate_{code}"]
    fresh_column = t("map_fill_freshness_rate", lang)
    columns[fresh_column] = figures["freshness_rate"]
    report_rates = [
        t(f"weekly_fig_{r}", lang)
        for r in ("response_rate", "completion_rate", "satisfaction_rate", "followup_rate")
    ]
    for key, name in zip(
        ("response_rate", "completion_rate", "satisfaction_rate", "followup_rate"),
        report_rates,
        strict=True,
    ):
        columns[name] = figures[key]
    overdue_column = t("map_fill_reports_overdue", lang)
    columns[overdue_column] = figures["reports_overdue"]
    columns[t("coverage_col_staff_total", lang)] = figures["staff_total"]
    columns[t("coverage_col_staff", lang)] = [_roles_text(row) for _, row in roles.iterrows()]
    table = pd.DataFrame(columns).reset_index(drop=True)
    # counts suppressed for a wide audience ("<3") make a column text: all of it, for Arrow
    for name in table.columns:
        if table[name].map(lambda v: isinstance(v, str) and v.startswith("<")).any():
            table[name] = table[name].map(count_text)

    rate_columns = [*visit_columns, fresh_column, *report_rates]
    styled = (
        table.style.format(rate_text, subset=rate_columns, na_rep=NONE)
        .format(ratio_text, subset=[t("map_fill_households_per_worker", lang)], na_rep=NONE)
        .map(_flag_below(VISIT_RATE_CONCERN), subset=visit_columns)
        .map(_flag_below(FRESHNESS_CONCERN), subset=[fresh_column])
        .map(lambda v: BAD_CELL if _positive(v) else "", subset=[overdue_column])
        .map(
            lambda v: BAD_CELL if _number(v) and v == 0 else "",
            subset=[t("coverage_col_grid_workers", lang)],
        )
    )
    if level == "grid":
        styled = styled.map(
            lambda v: BAD_CELL if v == no else "", subset=[t("map_party_branch", lang)]
        )
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        height=min(520, 38 + 35 * len(table)),
        placeholder=NONE,
        key="coverage_table",
    )
    st.caption(
        t(
            "coverage_table_caption",
            lang,
            visit=f"{VISIT_RATE_CONCERN:.0%}",
            fresh=f"{FRESHNESS_CONCERN:.0%}",
        )
    )

# --- the visit work list -------------------------------------------------------------------
st.subheader(t("coverage_worklist_title", lang))
if viewer.aggregates_only:
    st.info(t("coverage_aggregates_only", lang))
    st.stop()
due = cov.worklist(location, version, as_of, scope)
if scope is not None:
    due = due[due["grid_id"].isin(scope)]
filters = st.columns([2, 3, 2])
with filters[0]:
    grid_choice = st.selectbox(
        t("coverage_worklist_filter_grid", lang),
        ["", *sorted(due["grid_id"].dropna().astype(str).unique())],
        format_func=lambda g: t("map_all", lang) if g == "" else g,
        key="coverage_worklist_grid",
    )
with filters[1]:
    worker_choice = st.selectbox(
        t("coverage_worklist_filter_worker", lang),
        ["", *sorted(due["grid_workers"].dropna().astype(str).unique())],
        format_func=lambda w: t("map_all", lang) if w == "" else w,
        key="coverage_worklist_worker",
    )
shown = due
if grid_choice:
    shown = shown[shown["grid_id"] == grid_choice]
if worker_choice:
    shown = shown[shown["grid_workers"] == worker_choice]
# no names, phones, ID numbers or addresses on this page: id, building, categories, dates
shown = shown.drop(columns=["address"]).reset_index(drop=True)

if shown.empty:
    st.info(t("coverage_worklist_empty", lang))
else:
    st.caption(t("coverage_worklist_caption", lang, n=f"{len(shown):,}"))
    labels = {c.code: figure_label(f"visit_{c.code}", lang) for c in config.categories}
    view = shown.assign(
        categories=shown["categories"]
        .fillna("")
        .map(
            lambda s: t("map_list_separator", lang).join(
                labels.get(c, c) for c in str(s).split(";") if c
            )
        ),
        last_visit=shown["last_visit"]
        .astype("string")
        .str.slice(0, 16)
        .fillna(t("map_never_visited", lang)),
        grid_workers=shown["grid_workers"].fillna(t("coverage_no_worker", lang)),
    ).rename(columns={c: t(f"worklist_col_{c}", lang) for c in shown.columns})
    shown_ids = shown["household_id"].astype(str).tolist()
    # the selection is a row position: it lives only as long as these rows in this order,
    # and not past a save
    table_key = row_key(f"coverage_worklist_{st.session_state.get(SAVES, 0)}", shown_ids)
    picked = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * len(view)),
        on_select="rerun",
        selection_mode="single-row",
        key=table_key,
    )
    rows = picked.selection.rows if picked is not None else []
    pick, st.session_state[SEEN_ROWS] = newly_picked(
        table_key, rows, shown_ids, st.session_state.get(SEEN_ROWS)
    )
    if pick is not None:
        st.session_state[HOUSEHOLD_KEY] = pick  # before the form's text input is drawn
    st.download_button(
        t("coverage_download_worklist", lang),
        data=cov.worklist_download(location, shown, lang, cov.actor(), as_of),
        file_name=f"{t('coverage_worklist_file', lang)}-{as_of.isoformat()}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        key="coverage_worklist_download",
    )

# --- log a visit / mark re-verified --------------------------------------------------------
st.subheader(t("coverage_form_title", lang))
staff = cov.staff_options(location, version, scope)
staff_names = dict(zip(staff["staff_id"], staff["name"].fillna(""), strict=True))
with st.form("coverage_visit_form"):
    row1 = st.columns([2, 2, 2, 3])
    with row1[0]:
        st.text_input(t("coverage_form_household", lang), key=HOUSEHOLD_KEY)
    with row1[1]:
        st.date_input(t("coverage_form_day", lang), value=today(), key="coverage_form_day")
    with row1[2]:
        st.time_input(
            t("coverage_form_time", lang),
            value=now_local().time().replace(second=0, microsecond=0),
            key="coverage_form_time",
        )
    with row1[3]:
        st.radio(
            t("coverage_form_kind", lang),
            KINDS,
            format_func=lambda k: t(f"coverage_kind_{k}", lang),
            horizontal=True,
            key="coverage_form_kind",
        )
    row2 = st.columns([2, 5])
    with row2[0]:
        st.selectbox(
            t("coverage_form_staff", lang),
            ["", *staff["staff_id"].astype(str)],
            format_func=lambda s: (
                t("coverage_form_staff_none", lang)
                if s == ""
                else f"{staff_names.get(s) or ''} ({s})"
            ),
            key="coverage_form_staff",
        )
    with row2[1]:
        st.text_input(
            t("coverage_form_note", lang),
            help=t("coverage_form_note_help", lang),
            key="coverage_form_note",
        )
    st.caption(t("coverage_form_hint", lang))
    buttons = st.columns([1, 1, 4])
    with buttons[0]:
        st.form_submit_button(
            t("coverage_form_submit", lang),
            type="primary",
            on_click=_log_visit,
            key="coverage_form_log",
        )
    with buttons[1]:
        st.form_submit_button(
            t("coverage_form_verify", lang), on_click=_mark_verified, key="coverage_form_verify"
        )
result = st.session_state.pop(FORM_RESULT, None)
if result is not None:
    kind, text = result
    (st.success if kind == "success" else st.error)(text)
