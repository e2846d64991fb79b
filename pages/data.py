"""数据管理 (data desk): upload a file, see what it would do, import it whole or not at all; templates."""

from __future__ import annotations

import streamlit as st

from geo.access.upload_scope import CLERK_UPLOADS, may_import
from geo.i18n import t
from geo.inputs.importers.columns import KINDS
from geo.inputs.importers.core import COORDS
from geo.inputs.problem_sheet import problems_xlsx
from geo.inputs.templates import template_file
from ui import auth, session
from ui import datadesk as desk
from ui.coverage import audited
from ui.mapview import show_map
from ui.text import md

ENCODINGS = ["", "utf-8", "gbk", "gb18030"]  # "" = detect
# a community clerk uploads only the kinds the scope rule (geo.access.upload_scope) checks
CLERK_KINDS = [k for k in KINDS if k in CLERK_UPLOADS]
RESULT_KEY = "ds_result"  # (level, text) of the last commit, shown once after the rerun

lang = session.lang()
location = auth.location()
viewer = session.viewer()

st.title(t("ds_title", lang))
if viewer.aggregates_only:
    st.info(t("ds_not_for_role", lang))
    st.stop()
clerk = viewer.role == "community_staff"
importer = may_import(viewer)
if clerk:
    st.caption(t("ds_clerk_scope", lang, community=md(viewer.community or "")))

result = st.session_state.pop(RESULT_KEY, None)
if result:
    level, text = result
    (st.success if level == "success" else st.error)(text)

if importer:
    import_tab, template_tab, export_tab = st.tabs(
        [t("ds_tab_import", lang), t("ds_tab_templates", lang), t("ds_tab_export", lang)]
    )
else:  # a grid worker exports their grids' tables; importing is for clerks and up
    st.caption(t("ds_export_only", lang))
    import_tab = template_tab = None
    export_tab = st.container()

with export_tab:
    desk.export_section(location, viewer, lang)

if import_tab is None:
    st.stop()

with import_tab:
    kinds = CLERK_KINDS if clerk else list(KINDS)
    kind = st.selectbox(
        t("ds_kind", lang), kinds, format_func=lambda k: t(f"ds_kind_{k}", lang), key="ds_kind"
    )
    uploaded = st.file_uploader(
        t("ds_file", lang),
        type=desk.UPLOAD_TYPES,
        key="ds_file_upload",
        help=t("ds_file_help", lang),
        max_upload_size=desk.MAX_UPLOAD_MB,
    )
    desk.localize_file_uploader("ds_file_upload", lang)
    with st.expander(t("ds_options", lang)):
        encoding = st.selectbox(
            t("ds_encoding", lang),
            ENCODINGS,
            format_func=lambda e: e or t("ds_encoding_auto", lang),
            key="ds_encoding",
        )
        coords = st.selectbox(
            t("ds_coords", lang),
            list(COORDS),
            format_func=lambda c: t(f"ds_coords_{c}", lang),
            key="ds_coords",
        )
        crs = st.text_input(t("ds_crs", lang), key="ds_crs", max_chars=40, placeholder="EPSG:4326")
        replace = False
        if not clerk:
            replace = st.checkbox(t("ds_replace", lang), key="ds_replace")
    if st.button(
        t("ds_preview", lang), key="ds_preview", disabled=uploaded is None, type="primary"
    ):
        options = {
            "encoding": encoding or None,
            "coords": coords,
            "crs": crs.strip() or None,
            "replace": replace,
        }
        copy = desk.keep_upload(uploaded.name, uploaded.getvalue(), kind, options)
        desk.preview_with_progress(location, viewer, copy, lang)

    copy = desk.current_upload()
    preview = copy.preview if copy is not None else None
    if preview is not None:
        st.subheader(t("ds_preview_of", lang, name=md(preview.file_name)))
        st.caption(t(f"ds_kind_{preview.kind}", lang))
        counts = desk.count_line(preview, lang)
        if counts:
            for column, (label, value) in zip(st.columns(len(counts)), counts.items(), strict=True):
                column.metric(label, value)
        spatial = desk.preview_map(location, preview, viewer)
        if spatial is not None:
            st.caption(t("ds_map_legend", lang))
            show_map(spatial, key="ds_preview_map", height=420)
        if len(preview.columns):
            st.markdown(f"**{t('ds_columns_understood', lang)}**")
            st.dataframe(desk.column_table(preview, lang), hide_index=True, key="ds_columns")
        if preview.ok:
            summary = preview.summary
            st.markdown(f"**{t('ds_first_rows', lang)}**")
            st.dataframe(
                desk.readable(summary.head, preview.kind, lang), hide_index=True, key="ds_head"
            )
            if summary.outside_count:
                st.warning(t("ds_outside", lang, count=summary.outside_count))
                st.dataframe(
                    desk.readable(summary.outside, preview.kind, lang),
                    hide_index=True,
                    key="ds_outside",
                )
            confirmed = True
            if copy.options.get("replace"):
                st.warning(t("ds_replace_warning", lang, removed=summary.removed))
                confirmed = st.checkbox(t("ds_replace_confirm", lang), key="ds_replace_ok")
            if st.button(
                t("ds_commit", lang), key="ds_commit", type="primary", disabled=not confirmed
            ):
                st.session_state[RESULT_KEY] = desk.commit_with_progress(
                    location, viewer, copy, lang
                )
                st.rerun()
        else:
            st.error(t("ds_refused_count", lang, count=preview.problem_count))
            st.dataframe(desk.problem_table(preview, lang), hide_index=True, key="ds_problems")
            if preview.report.more_problems:  # a huge bad file: the first ones in full
                st.caption(t("imp_more_problems", lang, count=preview.report.more_problems))
            # the clerk's own rows given back (personal data): built on click, and audited
            st.download_button(
                t("ds_problems_download", lang),
                data=audited(
                    location,
                    viewer.username,
                    f"import problems {copy.kind} {copy.name}",
                    lambda: problems_xlsx(
                        copy.path,
                        preview.problems(),
                        preview.report.headers,
                        lang=lang,
                        encoding=copy.options.get("encoding"),
                        crs=copy.options.get("crs"),
                    ),
                ),
                file_name=t("ds_problems_file", lang, name=copy.path.stem) + ".xlsx",
                key="ds_problems_download",
            )
        for warning in preview.report.warnings:
            st.caption(md(warning))

with template_tab:
    st.caption(t("ds_templates_help", lang))
    for kind in CLERK_KINDS if clerk else KINDS:
        template = template_file(kind, lang)
        st.download_button(
            t(
                "ds_tpl_button",
                lang,
                kind=t(f"ds_kind_{kind}", lang),
                format=template.file_name.rsplit(".", 1)[-1].upper(),
            ),
            data=template.data,
            file_name=template.file_name,
            mime=template.media_type,
            key=f"ds_template_{kind}",
        )
