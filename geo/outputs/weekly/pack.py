"""The weekly pack for the review meeting: its figures written as one PDF or XLSX (``gridmap weekly``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from geo.outputs.weekly.figures import weekly_figures
from geo.outputs.weekly.font import cjk_font
from geo.outputs.weekly.pdf import write_pdf
from geo.outputs.weekly.xlsx import write_xlsx
from geo.store.base import Store


def write_weekly(store: Store, as_of: dt.date, out_path: str | Path, lang: str = "zh-CN") -> Path:
    """Write the weekly pack for the week ending ``as_of`` to a .pdf or .xlsx file; returns its path."""
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise ValueError(f"{out}: the weekly pack is written as .pdf or .xlsx")
    if suffix == ".pdf":
        cjk_font()  # fail before the figures are computed when no font can be embedded
    figures = weekly_figures(store, as_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        return write_pdf(store, figures, out, lang)
    return write_xlsx(figures, out, lang)
