"""Streamlit glue of the data desk: uploads kept for one preview, the preview, the commit, labels.

An uploaded file is written to a private temporary folder under the name the clerk gave it
(cut to a plain file name), previewed (``geo.inputs.preview.preview_file`` with the
viewer's scope as its vet), and imported from the same copy on commit. The copy is
removed once it was imported or replaced by another upload: it holds personal data.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.access.auth import Viewer
from geo.access.privacy import mask_frame
from geo.access.upload_scope import upload_vet
from geo.care.categories import split_codes
from geo.cases.views import department_label
from geo.config import load_config
from geo.i18n import t
from geo.inputs.importers.core import import_file
from geo.inputs.importers.problems import ImportReport
from geo.inputs.preview import ImportPreview, preview_file, problems_frame, summarise_staged
from geo.inputs.templates import header_of
from geo.outputs.export import EXPORT_TABLES, export_xlsx
from geo.store import open_store
from geo.store.base import StoreBusy
from geo.store.schema import TABLES
from geo.store.staging import Staging
from ui import data
from ui.coverage import audited
from ui.text import md
from ui.uploader import localize_uploader

UPLOAD_TYPES = ["csv", "txt", "xlsx", "xlsm", "geojson", "json", "gpkg", "zip"]
MAX_UPLOAD_MB = 200
MAX_NAME_CHARS = 80
UPLOAD_PREFIX = "gridmap-upload-"
STALE_HOURS = 24.0
"""An upload copy older than this belongs to a session that ended: removed (personal data)."""
UPLOAD_KEY = "ds_upload_state"  # the UploadedCopy being previewed in this session
_UNSAFE = re.compile(r"[^\w.\-()\uff08\uff09\u4e00-\u9fff ]+")


@dataclass
class UploadedCopy:
    """A file uploaded in this session, kept until it is imported or replaced."""

    folder: str
    name: str  # as the clerk named it (cleaned)
    kind: str
    options: dict
    preview: ImportPreview | None = None

    @property
    def path(self) -> Path:
        """Where the copy is."""
        return Path(self.folder) / self.name

    def remove(self) -> None:
        """Delete the copy."""
        shutil.rmtree(self.folder, ignore_errors=True)


def safe_name(name: str) -> str:
    """An uploaded file's name as a plain file name: no folders, no odd characters, bounded."""
    base = unicodedata.normalize("NFKC", Path(str(name).replace("\\", "/")).name)
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "upload"
    return stem[:MAX_NAME_CHARS] + _UNSAFE.sub("", suffix)[:10]


def purge_stale_uploads(max_age_hours: float = STALE_HOURS) -> int:
    """Remove upload copies older than ``max_age_hours`` left by sessions that ended before
    importing (Streamlit has no end-of-session hook); returns how many were removed."""
    cutoff = time.time() - max_age_hours * 3600
    removed = 0
    for folder in Path(tempfile.gettempdir()).glob(f"{UPLOAD_PREFIX}*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue  # another session removed it meanwhile
    return removed


def keep_upload(name: str, data: bytes, kind: str, options: dict) -> UploadedCopy:
    """Keep ``data`` for this session's preview (the previous copy, and stale ones, removed)."""
    forget_upload()
    purge_stale_uploads()
    folder = tempfile.mkdtemp(prefix=UPLOAD_PREFIX)
    copy = UploadedCopy(folder, safe_name(name), kind, dict(options))
    copy.path.write_bytes(data)
    st.session_state[UPLOAD_KEY] = copy
    return copy


def current_upload() -> UploadedCopy | None:
    """The upload being previewed in this session, if any."""
    copy = st.session_state.get(UPLOAD_KEY)
    return copy if isinstance(copy, UploadedCopy) and copy.path.exists() else None


def forget_upload() -> None:
    """Remove the session's upload copy."""
    copy = st.session_state.pop(UPLOAD_KEY, None)
    if isinstance(copy, UploadedCopy):
        copy.remove()


def preview_upload(
    location: str,
    viewer: Viewer,
    copy: UploadedCopy,
    lang: str,
    progress: Callable[[float], None] | None = None,
) -> ImportPreview:
    """The preview of ``copy`` as ``viewer`` would import it (scope included); writes nothing.

    ``progress(fraction)``: the importer's, the share of the file checked.
    """
    store = open_store(location)
    vet = upload_vet(store, viewer, copy.kind, replace=bool(copy.options.get("replace")))
    copy.preview = preview_file(
        store,
        copy.kind,
        copy.path,
        lang=lang,
        vet=vet,
        file_name=copy.name,
        progress=progress,
        **copy.options,
    )
    return copy.preview


CHECK_SHARE = 0.5
"""The bar's share for the importer's checking; the rest is the comparison with the stored rows
(preview and commit) and the write (measured: about half each, bench/preview_progress.py)."""


def _bar(checking: str, after: str) -> tuple[object, Callable[[float], None]]:
    """A progress bar and the importer callback that moves it: the file's rows checked up to
    ``CHECK_SHARE``, then ``after`` (what follows the checking) until the caller ends it."""
    bar = st.progress(0.0, text=checking)

    def advance(fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        bar.progress(CHECK_SHARE * fraction, text=checking if fraction < 1.0 else after)

    return bar, advance


def preview_with_progress(
    location: str, viewer: Viewer, copy: UploadedCopy, lang: str
) -> ImportPreview:
    """``preview_upload`` under a progress bar driven by the importer's checking; the full bar
    stays, saying the file was checked, until the page's next run."""
    bar, advance = _bar(t("ds_checking", lang), t("ds_comparing", lang))
    try:
        preview = preview_upload(location, viewer, copy, lang, progress=advance)
    except BaseException:
        bar.empty()
        raise
    bar.progress(1.0, text=t("ds_checked", lang))
    return preview


def commit_upload(
    location: str,
    viewer: Viewer,
    copy: UploadedCopy,
    lang: str,
    progress: Callable[[float], None] | None = None,
) -> ImportReport:
    """Import ``copy`` as ``viewer``: the importer checks it again against the store as it
    is now, the viewer's scope included (one call: nothing between the check and the
    write); its report lists the problems when it was refused (then nothing was written).

    ``progress(fraction)``: the importer's, the share of the file checked.
    """
    store = open_store(location)
    replace = bool(copy.options.get("replace"))
    vet = upload_vet(store, viewer, copy.kind, replace=replace)

    def check_scope(staging: Staging, report: ImportReport) -> None:
        for problem in vet(staging, report) if vet is not None else []:
            report.add_problem(problem.row, problem.column, problem.reason)
        # the audit log names the file (the importer does) and what it did to the table
        counts = summarise_staged(store, TABLES[copy.kind], staging, replace=replace)
        report.audit_note = (
            f"new={counts.new} changed={counts.changed} unchanged={counts.unchanged}"
            + (f" removed={counts.removed}" if replace else "")
        )

    report = import_file(
        store,
        copy.kind,
        copy.path,
        actor=viewer.username,
        lang=lang,
        inspect=check_scope,
        progress=progress,
        **copy.options,
    )
    if copy.kind == "reports" and not report.problems:
        # the reports that arrived without an owner (负责方) are dispatched at once, as
        # after `gridmap import reports`; those with one keep it
        from geo.cases.actions import dispatch_new

        dispatch_new(store)
    return report


def commit_with_progress(
    location: str, viewer: Viewer, copy: UploadedCopy, lang: str
) -> tuple[str, str]:
    """Import ``copy`` under a progress bar driven by the importer; (level, message).

    On success the copy is removed; on a refusal (the store changed since the preview) the
    preview is made again, so the page shows the problems as they are now.
    """
    _, advance = _bar(t("ds_importing", lang), t("ds_writing", lang))
    try:
        report = commit_upload(location, viewer, copy, lang, progress=advance)
    except StoreBusy as busy:
        return "error", busy.message(lang)
    if report.ok:
        forget_upload()
        return "success", t("ds_imported", lang, name=md(copy.name), count=report.written)
    preview_upload(location, viewer, copy, lang)
    return "error", t("ds_refused", lang)


def export_section(location: str, viewer: Viewer, lang: str) -> None:
    """The export tab: a table of the viewer's grids as XLSX, masked, audited when downloaded."""
    scope = data.grid_scope(location, data.data_version(location), viewer)
    table = st.selectbox(
        t("ds_export_table", lang),
        EXPORT_TABLES,
        format_func=lambda k: t(f"ds_kind_{k}", lang),
        key="ds_export_table",
    )
    st.caption(t("ds_export_help", lang))
    st.download_button(
        t("ds_export_download", lang),
        data=audited(
            location,
            viewer.username,
            f"export {table} xlsx",
            lambda: export_xlsx(open_store(location), table, scope, lang),
        ),
        file_name=f"{t(f'ds_kind_{table}', lang)}.xlsx",
        key="ds_export_download",
    )


def localize_file_uploader(key_prefix: str, lang: str) -> None:
    """Relabel the data page's uploader in the reader's language: it takes files, not photos."""
    localize_uploader(
        key_prefix, lang, MAX_UPLOAD_MB, UPLOAD_TYPES, "ds_upload_button", "ds_upload_refused"
    )


TOUCH_PX = 48
"""Touch targets of the phone pages: at least 44 px (WCAG 2.5.5); 48 is Android's own."""


def phone_css(key_prefix: str) -> str:
    """Rules for a page a grid worker uses on a phone: buttons keyed ``key_prefix...`` are
    large touch targets, nothing scrolls sideways, headings fit a 390 px screen."""
    scope = f'[class*="st-key-{key_prefix}"]'
    return f"""
<style>
section.main, [data-testid="stMain"] {{ overflow-x: hidden; }}
{scope} button {{ min-height: {TOUCH_PX}px; font-size: 16px; }}
@media (max-width: 640px) {{
  [data-testid="stMainBlockContainer"] {{ padding: 4rem 0.75rem 1rem; }}
  [data-testid="stMain"] h1 {{ font-size: 1.9rem; }}
  [data-testid="stMain"] h2, [data-testid="stMain"] h3 {{ font-size: 1.2rem; }}
}}
</style>
"""


# --- frames as the page shows them --------------------------------------------------------


def field_label(kind: str, field: str, lang: str) -> str:
    """A canonical field as a person reads it: its Chinese header in zh-CN, the field in en."""
    if not field:
        return t("ds_field_unused", lang)
    return header_of(kind, field) if lang == "zh-CN" else field


def readable(frame: pd.DataFrame, kind: str, lang: str) -> pd.DataFrame:
    """Staged rows with readable headers, category names instead of codes, personal fields masked
    (the preview proves a name or phone was read; it never shows one in full)."""
    frame = mask_frame(frame.copy())
    if "categories" in frame.columns:
        config = load_config()
        names = {c.code: c.label(lang) for c in config.categories}
        separator = t("map_list_separator", lang)
        frame["categories"] = [
            separator.join(names.get(c, c) for c in split_codes(v)) if isinstance(v, str) else ""
            for v in frame["categories"]
        ]
    if "row" in frame.columns:
        frame = frame.rename(columns={"row": t("ds_sheet_row", lang)})
    return frame.rename(columns={c: field_label(kind, c, lang) for c in frame.columns})


def column_table(preview: ImportPreview, lang: str) -> pd.DataFrame:
    """How each column was understood, with translated headers."""
    frame = preview.columns.copy()
    frame["field"] = [field_label(preview.kind, f, lang) for f in frame["field"]]
    return frame.rename(
        columns={"header": t("ds_col_header", lang), "field": t("ds_col_field", lang)}
    )


def problem_table(preview: ImportPreview, lang: str) -> pd.DataFrame:
    """The preview's problems with translated headers (row '-' for a file-level problem)."""
    frame = problems_frame(preview.problems(), preview.report.headers).astype(object)
    frame["row"] = [str(r) if r else "-" for r in frame["row"]]
    return frame.rename(
        columns={
            "row": t("ds_sheet_row", lang),
            "column": t("ds_sheet_column", lang),
            "reason": t("ds_sheet_reason", lang),
        }
    )


def count_line(preview: ImportPreview, lang: str) -> dict[str, int]:
    """Label -> count of the preview's rows (new, changed, unchanged, removed by a replace)."""
    summary = preview.summary
    if summary is None:
        return {}
    counts = {
        t("ds_count_rows", lang): summary.rows,
        t("ds_count_new", lang): summary.new,
        t("ds_count_changed", lang): summary.changed,
        t("ds_count_unchanged", lang): summary.unchanged,
    }
    if summary.removed:
        counts[t("ds_count_removed", lang)] = summary.removed
    return counts


# --- the preview's map -----------------------------------------------------------------------

STORED_COLOUR, FILE_COLOUR, OUTSIDE_COLOUR = "#9e9e9e", "#1565c0", "#c62828"


def preview_map(location: str, preview: ImportPreview, viewer: Viewer) -> folium.Map | None:
    """The file's shapes on a map next to the stored grids of the viewer's scope (None: nothing
    spatial). Grids of the file in blue, the stored ones in grey; points in blue, red when
    outside every grid. Geometry only: no name or id of the file reaches the map."""
    summary = preview.summary
    shapes = summary.shapes if summary is not None else None
    if shapes is None or shapes.empty:
        return None
    scope = data.grid_scope(location, data.data_version(location), viewer)
    stored = open_store(location).read(
        "grids", ["grid_id"], where=None if scope is None else {"grid_id": list(scope)}
    )
    west, south, east, north = shapes.total_bounds
    # a centre and a zoom of its own: Leaflet cannot fit a single point's empty bounds
    fmap = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        zoom_start=16,
        tiles=None,
        max_zoom=19,
        control_scale=True,
    )

    def outline(frame: gpd.GeoDataFrame, colour: str, weight: float) -> None:
        if len(frame):
            folium.GeoJson(
                frame[[frame.geometry.name]].to_json(),
                style_function=lambda _f, c=colour, w=weight: {
                    "color": c,
                    "weight": w,
                    "fillOpacity": 0.08,
                },
            ).add_to(fmap)

    outline(stored, STORED_COLOUR, 1)
    if shapes.geom_type.isin(["Point"]).all():
        outside = (
            shapes["grid_id"].isna()
            if "grid_id" in shapes.columns
            else pd.Series(False, index=shapes.index)
        )
        for frame, colour in ((shapes[~outside], FILE_COLOUR), (shapes[outside], OUTSIDE_COLOUR)):
            for point in frame.geometry:
                folium.CircleMarker(
                    (point.y, point.x), radius=4, color=colour, fill=True, weight=1
                ).add_to(fmap)
    else:
        outline(shapes, FILE_COLOUR, 2)
    if east > west or north > south:
        fmap.fit_bounds([[south, west], [north, east]], max_zoom=17)
    return fmap


# --- the accounts and re-verification pages' tables ----------------------------------------


def scope_text(
    community: object,
    grids: object,
    lang: str,
    department: object = None,
    district: object = None,
) -> str:
    """An account's scope as listed: its district, community, grids or department, else '-'."""
    if isinstance(district, str) and district:
        return district
    if isinstance(department, str) and department:
        return department_label(department, lang, load_config())
    if isinstance(community, str) and community:
        return community
    if isinstance(grids, str) and grids:
        return t("map_list_separator", lang).join(grids.split(";"))
    return "-"


def account_view(accounts: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``geo.access.accounts_admin.account_table`` as the admin reads it (translated)."""
    return pd.DataFrame(
        {
            t("acc_col_username", lang): accounts["username"],
            t("acc_col_role", lang): [t(f"auth_role_{r}", lang) for r in accounts["role"]],
            t("acc_col_scope", lang): [
                scope_text(c, g, lang, department=d, district=s)
                for c, g, d, s in zip(
                    accounts["community"],
                    accounts["grids"],
                    accounts["department"],
                    accounts["district"],
                    strict=True,
                )
            ],
            t("acc_col_status", lang): [t(f"acc_status_{s}", lang) for s in accounts["status"]],
            t("acc_col_created", lang): accounts["created_at"],
        }
    )


def progress_view(progress: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``geo.care.reverification.month_progress`` with translated headers, rates as percents."""
    return pd.DataFrame(
        {
            t("rv_col_grid", lang): progress["grid_id"],
            t("rv_col_households", lang): progress["households"],
            t("rv_col_verified", lang): progress["verified"],
            t("rv_col_rate", lang): ["-" if r is None else f"{r:.0%}" for r in progress["rate"]],
        }
    )


def due_label(row: pd.Series, lang: str) -> str:
    """A household due for re-verification as the picker lists it: id, place, when last verified."""
    since = (
        t("rv_never", lang)
        if pd.isna(row["days_since"])
        else t("rv_days_since", lang, days=int(row["days_since"]))
    )
    place = " ".join(str(v) for v in (row["building"], row["address"]) if isinstance(v, str))
    return f"{row['household_id']} · {place} · {since}"


def editable_texts(store_location: str, household_id: str) -> dict[str, str]:
    """The members and address of a household as the edit form starts them ('' when empty)."""
    stored = (
        open_store(store_location)
        .read_attributes("households", ["members", "address"], where={"household_id": household_id})
        .iloc[0]
    )
    return {
        "members": "" if pd.isna(stored["members"]) else str(int(stored["members"])),
        "address": stored["address"] if isinstance(stored["address"], str) else "",
    }
