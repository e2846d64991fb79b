"""The problems of a refused file as an XLSX: the file's rows, the problem written next to each bad row.

A clerk opens it, fixes the rows the first column points at, and uploads it again (the
problem column is not a column of any kind, so the importer leaves it aside). A second
sheet lists every problem (row, column, reason). Every cell is written as text through
``geo.xlsx.write_sheet``: data from the file never becomes a formula.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from geo.i18n import t
from geo.inputs.importers.checks import _as_text, _cell_text
from geo.inputs.importers.problems import Problem
from geo.inputs.preview import problems_frame
from geo.inputs.readers import ROW, ReadError, is_vector_file
from geo.inputs.tables import open_table
from geo.inputs.vector import read_vector
from geo.outputs.xlsx import write_sheet

MAX_SHEET_ROWS = 200_000
"""Past this many rows only the bad rows are copied (the file itself stays the clerk's)."""
MAX_CELL_CHARS = 32_767
"""Excel's limit for one cell."""


def _text(value: object) -> str | None:
    """A cell as the text a clerk typed (numbers without '.0', dates as YYYY-MM-DD)."""
    cell = _as_text(_cell_text(value))
    return None if cell is None else str(cell)[:MAX_CELL_CHARS]


def file_rows(path: Path, *, encoding: str | None = None, crs: str | None = None) -> pd.DataFrame:
    """The file's cells as text, its header as spelled, plus ``_row`` (a vector file: attributes only)."""
    if is_vector_file(path):
        frame = read_vector(path, encoding=encoding, crs=crs)
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    else:
        frame = pd.concat(list(open_table(path, encoding=encoding).chunks), ignore_index=True)
    cells = frame.drop(columns=[ROW]).astype(object).map(_text)
    cells.insert(0, ROW, frame[ROW].astype(int).to_numpy())
    return cells


def problems_xlsx(
    path: str | Path,
    problems: list[Problem],
    headers: dict[str, str] | None = None,
    *,
    lang: str = "zh-CN",
    encoding: str | None = None,
    crs: str | None = None,
) -> bytes:
    """The XLSX of a refused file: sheet 1 its rows with a problem column first, sheet 2 the list."""
    listed = problems_frame(problems, headers)
    by_row = listed.groupby("row", sort=True).apply(
        lambda g: "; ".join(f"{c}: {r}" for c, r in zip(g["column"], g["reason"], strict=True)),
        include_groups=False,
    )
    problem_col, row_col = t("ds_sheet_problem", lang), t("ds_sheet_row", lang)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        try:
            rows = file_rows(Path(path), encoding=encoding, crs=crs)
        except (ReadError, OSError, ValueError):
            rows = None  # an unreadable file: the list of problems is all there is
        if rows is not None:
            notes = rows[ROW].map(by_row).astype(object)
            if len(rows) > MAX_SHEET_ROWS:
                keep = notes.notna().to_numpy()
                rows, notes = rows[keep], notes[keep]
            sheet = rows.drop(columns=[ROW])
            sheet.insert(0, row_col, rows[ROW].astype(str).to_numpy(), allow_duplicates=True)
            sheet.insert(0, problem_col, notes.to_numpy(), allow_duplicates=True)
            ws = write_sheet(writer, sheet, t("ds_sheet_rows", lang))
            ws.freeze_panes = "C2"
            ws.column_dimensions["A"].width = 60
        out = listed.astype(object).rename(
            columns={
                "row": row_col,
                "column": t("ds_sheet_column", lang),
                "reason": t("ds_sheet_reason", lang),
            }
        )
        out[row_col] = out[row_col].map(lambda r: str(r) if r else "-")
        ws = write_sheet(writer, out, t("ds_sheet_problems", lang))
        ws.column_dimensions["C"].width = 80
    return buffer.getvalue()
