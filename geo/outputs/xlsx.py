"""Every XLSX gridmap writes goes through ``write_sheet``: data is text or a number, never a formula.

openpyxl stores a string that starts with ``=`` as a formula; Excel and WPS then evaluate
``=HYPERLINK("http://evil.example", "click")`` from a grid name or ``=1+1`` from an address.
``write_sheet`` writes a frame with pandas, then turns every formula cell back into the text
it was, and marks text that a spreadsheet would read as a formula once the cell is edited
(``=``, ``+``, ``-``, ``@``, tab, line breaks, their full-width forms) with Excel's quote
prefix, so it stays text.
"""

from __future__ import annotations

import pandas as pd
from openpyxl.worksheet.worksheet import Worksheet

# what may start a formula once a cell is edited; full-width forms too (some spreadsheet
# programs fold them to ASCII on input)
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣")


def write_sheet(writer: pd.ExcelWriter, frame: pd.DataFrame, sheet_name: str) -> Worksheet:
    """Write ``frame`` (header row, no index) to a new sheet of an openpyxl ``writer``; returns it."""
    frame.to_excel(writer, sheet_name=sheet_name, index=False)
    worksheet = writer.sheets[sheet_name]
    as_text(worksheet)
    return worksheet


def as_text(worksheet: Worksheet) -> None:
    """Make every formula cell of ``worksheet`` the text it was; quote-prefix formula-like text."""
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # written from a string beginning with "="
                cell.data_type = "s"
            if cell.data_type == "s" and isinstance(cell.value, str):
                if cell.value.startswith(FORMULA_LEADS):
                    cell.quotePrefix = True
