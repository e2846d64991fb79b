"""Tables handed out as XLSX: only the rows a viewer may see, masked as on screen.

``export_xlsx`` reads one table through the viewer's grids (households, reports, staff and
grids by their grid; visits by the households of those grids), turns points into lon/lat,
masks the personal fields (households' name, phone and ID number; staff phones) and writes
it with the importer's Chinese headers through ``geo.xlsx.write_sheet`` (text, never a
formula), so an exported table can be fixed and imported again; the masked columns carry
headers the importer does not know, so a re-import never writes a masked value back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.access.privacy import PERSONAL_COLUMNS, mask_frame, mask_phone
from geo.i18n import t
from geo.inputs.templates import header_of
from geo.outputs.xlsx import write_sheet
from geo.store.base import Store

EXPORT_TABLES = ("households", "visits", "staff", "reports", "grids")
MAX_EXPORT_ROWS = 1_000_000
"""Excel's sheet holds 1,048,576 rows: past this an export is refused, not cut."""


class ExportTooLarge(ValueError):
    """The table in scope has more rows than one sheet holds."""


def export_frame(store: Store, table: str, grid_ids: Sequence[str] | None) -> pd.DataFrame:
    """The rows of ``table`` in ``grid_ids`` (None = all), masked, points as lon/lat."""
    if table not in EXPORT_TABLES:
        raise ValueError(f"unknown table {table!r}")
    where = None if grid_ids is None else {"grid_id": list(grid_ids)}
    if table == "visits":
        if grid_ids is None:
            frame = store.read_attributes("visits")
        else:
            ids = store.read_attributes("households", ["household_id"], where=where)
            frame = store.read_attributes(
                "visits", where={"household_id": ids["household_id"].astype(str).tolist()}
            )
    elif table == "grids":
        frame = store.read_attributes("grids", where=where)
    else:
        frame = store.read(table, where=where)
    if len(frame) > MAX_EXPORT_ROWS:
        raise ExportTooLarge(table)
    if isinstance(frame, gpd.GeoDataFrame):
        geoms = np.asarray(frame.geometry.values, dtype=object)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)).assign(
            lon=shapely.get_x(geoms),
            lat=shapely.get_y(geoms),  # NaN where there is no point
        )
    frame = mask_frame(pd.DataFrame(frame))
    if table == "staff" and "phone" in frame.columns:
        frame["phone"] = frame["phone"].map(mask_phone)
    return frame


def export_xlsx(
    store: Store, table: str, grid_ids: Sequence[str] | None, lang: str = "zh-CN"
) -> bytes:
    """``export_frame`` as an XLSX with the importer's Chinese headers (canonical names in en)."""
    frame = export_frame(store, table, grid_ids)
    masked = set(PERSONAL_COLUMNS) | ({"phone"} if table == "staff" else set())
    names = {c: header_of(table, c) if lang == "zh-CN" else c for c in frame.columns}
    # a masked column must not read as the real one if the sheet is imported again: its
    # header is one the importer does not know (张** never overwrites 张三丰)
    names.update(
        {c: t("ds_export_masked_col", lang, name=names[c]) for c in frame.columns if c in masked}
    )
    frame = frame.rename(columns=names)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        sheet = write_sheet(writer, frame.astype(object), t(f"ds_kind_{table}", lang)[:31])
        sheet.freeze_panes = "A2"
    return buffer.getvalue()
