"""Reading tables (CSV in UTF-8, UTF-8 with BOM or GBK; XLSX) to text cells, in chunks.

Every chunk carries a ``_row`` column: the line a person sees in a spreadsheet (the header
is line 1). Formula cells without a value and merged cells are reported as cell problems.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geo.config import load_config
from geo.i18n import Msg
from geo.inputs.readers import (
    _CPG_ALIASES,
    ROW,
    CellProblem,
    ReadError,
    check_header,
    check_zip_sizes,
)

CHUNK_ROWS = 100_000
"""Rows of a table read and checked at a time (memory is bounded by this, not the file)."""


@dataclass
class TableSource:
    """A table being read: its header, then its rows chunk by chunk.

    ``chunks`` yields frames of text cells (plus ``_row``), blank lines dropped;
    ``cell_problems`` is complete once ``chunks`` is exhausted.
    """

    header: list[str]
    chunks: Iterator[pd.DataFrame]
    cell_problems: list[CellProblem] = field(default_factory=list)
    last_line: int | None = None
    """The file's last line number as ``_row`` counts (at least it), for a progress bar; None
    when the file does not say (an XLSX without its dimension)."""


def read_table(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """The cells of a CSV or XLSX file as text (Excel date cells stay datetimes), plus ``_row``.

    The whole table at once (``open_table`` reads it chunk by chunk). A formula without a
    cached value or a merged cell below the header is a ReadError naming the cell.
    """
    source = open_table(path, encoding=encoding)
    chunks = list(source.chunks)
    if source.cell_problems:
        first = source.cell_problems[0]
        raise ReadError(first.msg.key, row=first.row, column=first.header, **first.msg.values)
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return frame


def open_table(
    path: str | Path, *, encoding: str | None = None, chunk_rows: int = CHUNK_ROWS
) -> TableSource:
    """A CSV or XLSX file opened for reading in chunks of ``chunk_rows`` rows.

    CSV text is decoded with ``encoding``, else UTF-8 (with or without BOM), else GB18030.
    Empty cells are None; blank lines are dropped but keep the numbering of the others.
    The header is checked (column limit, no name twice) before any row is read; a file
    with no data row is a ReadError when its chunks are read.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError("read_not_found", path=str(path))
    if path.stat().st_size == 0:
        raise ReadError("read_empty")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        source = _open_xlsx(path, chunk_rows)
    elif suffix in (".csv", ".txt"):
        source = _open_csv(path, encoding, chunk_rows)
    else:
        raise ReadError("read_not_table", name=path.name)
    if len(source.header) <= 1:
        raise ReadError("read_no_rows")
    source.chunks = _at_least_one_row(source.chunks)
    return source


def _at_least_one_row(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    seen = False
    for chunk in chunks:
        if len(chunk):
            seen = True
            yield chunk
    if not seen:
        raise ReadError("read_no_rows")


def _encoding_name(encoding: str) -> str:
    name = _CPG_ALIASES.get(encoding.strip().lower(), encoding.strip())
    try:
        codecs.lookup(name)
    except LookupError:
        raise ReadError("read_encoding_unknown", encoding=repr(encoding)) from None
    return name


def _sniff_encoding(path: Path) -> str:
    """utf-8-sig when the whole file decodes as UTF-8 (read in blocks), else gb18030."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as raw:
        try:
            while block := raw.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def decode_text(data: bytes, encoding: str | None) -> str:
    """Text of a CSV: ``encoding`` if given, else strict UTF-8 (BOM allowed), else GB18030."""
    if encoding:
        name = _encoding_name(encoding)
        try:
            return data.decode(name)
        except UnicodeDecodeError as exc:
            raise ReadError("read_decode_failed", encoding=encoding, byte=exc.start) from None
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise ReadError("read_not_utf8_gbk")


def _first_line(path: Path, encoding: str, limit: int) -> tuple[str, str]:
    """The header line (without its end) and the separator, reading no more than needed.

    Stops with a ReadError as soon as the line holds more than ``limit`` separators, so a
    header of a million columns is refused without being read whole.
    """
    parts: list[str] = []
    commas = tabs = 0
    with open(path, encoding=encoding, newline="") as text:
        while True:
            block = text.read(1 << 16)
            if not block:
                break
            cut = block.find("\n")
            piece = block if cut < 0 else block[:cut]
            parts.append(piece)
            commas += piece.count(",")
            tabs += piece.count("\t")
            if min(commas, tabs) > limit or (commas > limit and tabs == 0):
                raise ReadError("read_too_many_columns", count=f">{limit}", limit=limit)
            if cut >= 0:
                break
    line = "".join(parts).rstrip("\r").lstrip("\ufeff")
    sep = "\t" if "\t" in line and "," not in line else ","
    return line, sep


def _open_csv(path: Path, encoding: str | None, chunk_rows: int) -> TableSource:
    name = _encoding_name(encoding) if encoding else _sniff_encoding(path)
    limit = load_config().limits.max_columns
    try:
        line, sep = _first_line(path, name, limit)
    except UnicodeDecodeError as exc:
        raise ReadError("read_decode_failed", encoding=encoding or name, byte=exc.start) from None
    if not line.strip():
        with open(path, "rb") as raw:
            blank = not any(block.strip() for block in iter(lambda: raw.read(1 << 20), b""))
        raise ReadError("read_empty" if blank else "read_blank_header")
    header = [c.strip() for c in next(csv.reader([line], delimiter=sep))]
    check_header(header)
    return TableSource(
        header,
        _csv_chunks(path, name, encoding, sep, chunk_rows, header),
        last_line=_line_count(path),
    )


def _line_count(path: Path) -> int:
    """Physical lines of a text file (a quoted cell over several lines counts each): never fewer
    than the records ``_row`` numbers, so a record's number over it stays <= 1."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as raw:
        while block := raw.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _csv_chunks(
    path: Path, name: str, given: str | None, sep: str, chunk_rows: int, header: list[str]
) -> Iterator[pd.DataFrame]:
    start = 2
    try:
        with open(path, encoding=name, newline="") as text:
            # dtype=str: ids like 0012 stay 0012; blank lines kept so numbering matches the sheet
            reader = pd.read_csv(
                text,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                sep=sep,
                chunksize=chunk_rows,
            )
            for frame in reader:
                frame = frame.astype(object).replace({"": None})
                # the header as checked (stripped); pandas would add .1 to a repeated name
                frame.columns = (
                    header
                    if len(header) == frame.shape[1]
                    else [str(c).lstrip("\ufeff").strip() for c in frame.columns]
                )
                frame[ROW] = np.arange(start, start + len(frame))
                start += len(frame)
                blank = frame.drop(columns=[ROW]).isna().all(axis=1)
                yield frame[~blank].reset_index(drop=True)
    except UnicodeDecodeError as exc:
        if given:
            raise ReadError("read_decode_failed", encoding=given, byte=exc.start) from None
        raise ReadError("read_not_utf8_gbk") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise ReadError("read_csv_bad", error=str(exc).strip()) from None


def _open_xlsx(path: Path, chunk_rows: int) -> TableSource:
    import openpyxl

    try:
        with zipfile.ZipFile(path) as archive:
            check_zip_sizes(archive.infolist())  # a workbook is a zip: same limits
        values_book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formula_book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError("read_xlsx_bad", error=str(exc)) from None
    values_sheet = values_book.worksheets[0]
    formula_sheet = formula_book.worksheets[0]
    limit = load_config().limits.max_columns
    if (values_sheet.max_column or 0) > limit:
        values_book.close()
        formula_book.close()
        raise ReadError("read_too_many_columns", count=values_sheet.max_column, limit=limit)
    merged = _merged_ranges(path, values_sheet)
    rows = zip(
        values_sheet.iter_rows(values_only=True),
        formula_sheet.iter_rows(values_only=True),
        strict=False,
    )
    header: list[str] | None = None
    header_row = 0
    try:
        for _number, (values, _formulas) in enumerate(rows, start=1):
            cells = [_excel_cell(v) for v in values]
            if all(c is None for c in cells) or sum(c is not None for c in cells) < 2:
                continue  # blank, or a title row above the header (often one merged cell)
            header = [("" if c is None else str(c).strip()) for c in cells]
            header_row = _number
            break
    except Exception as exc:
        values_book.close()
        formula_book.close()
        raise ReadError("read_xlsx_bad", error=str(exc)) from None
    if header is None:
        values_book.close()
        formula_book.close()
        raise ReadError("read_empty")
    width = len(header)
    while width and header[width - 1] == "":
        width -= 1
    header = [h if h else f"column {i + 1}" for i, h in enumerate(header[:width])]
    check_header(header)
    source = TableSource(header, iter(()), last_line=values_sheet.max_row or None)
    source.cell_problems.extend(_merged_problems(merged, header, header_row))
    source.chunks = _xlsx_chunks(
        rows, header, header_row, chunk_rows, source, (values_book, formula_book)
    )
    return source


def _xlsx_chunks(
    rows: Iterator[tuple[tuple, tuple]],
    header: list[str],
    header_row: int,
    chunk_rows: int,
    source: TableSource,
    books: tuple,
) -> Iterator[pd.DataFrame]:
    width = len(header)
    records: list[list[object]] = []
    numbers: list[int] = []

    def chunk() -> pd.DataFrame:
        frame = pd.DataFrame(records, columns=header, dtype=object)
        frame[ROW] = numbers
        return frame

    try:
        for number, (values, formulas) in enumerate(rows, start=header_row + 1):
            cells = [_excel_cell(v) for v in values]
            cells = (cells + [None] * width)[:width]
            for column, (cell, formula) in enumerate(zip(cells, formulas or (), strict=False)):
                if column < width and cell is None and _is_formula(formula):
                    source.cell_problems.append(
                        CellProblem(
                            number,
                            header[column],
                            Msg("read_formula_no_value", cell=_cell_name(number, column)),
                        )
                    )
            if all(c is None for c in cells):
                continue
            records.append(cells)
            numbers.append(number)
            if len(records) >= chunk_rows:
                yield chunk()
                records, numbers = [], []
        if records:
            yield chunk()
    finally:
        for book in books:
            book.close()


def _is_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _cell_name(row: int, column: int) -> str:
    """Excel's name of a cell, e.g. (3, 1) -> B3 (``column`` 0-based)."""
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(column + 1)}{row}"


def _merged_ranges(path: Path, sheet: object) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of every merged range of the sheet (1-based).

    Read-only workbooks do not expose merged cells: the sheet's XML is scanned for its
    ``<mergeCell ref="A3:A4"/>`` elements (streamed, the rows themselves are skipped).
    """
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils import range_boundaries

    member = getattr(sheet, "_worksheet_path", None)
    if not member:
        return []
    ranges = []
    with zipfile.ZipFile(path) as archive, archive.open(member.lstrip("/")) as xml:
        for _, element in iterparse(xml):
            if element.tag.endswith("}mergeCell"):
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                ranges.append((min_row, min_col, max_row, max_col))
            element.clear()
    return ranges


def _merged_problems(
    ranges: list[tuple[int, int, int, int]], header: list[str], header_row: int
) -> list[CellProblem]:
    """A problem for every covered cell of a merged range below the header, in a named column."""
    problems = []
    for min_row, min_col, max_row, max_col in ranges:
        if max_row <= header_row:
            continue  # a merged title above (or in) the header
        anchor = _cell_name(min_row, min_col - 1)
        for row in range(max(min_row, header_row + 1), max_row + 1):
            for col in range(min_col, min(max_col, len(header)) + 1):
                if (row, col) == (min_row, min_col):
                    continue
                problems.append(
                    CellProblem(
                        row,
                        header[col - 1],
                        Msg("read_merged_cell", cell=_cell_name(row, col - 1), anchor=anchor),
                    )
                )
    return problems


def _excel_cell(value: object) -> object:
    """A cell as text, except real date cells, which stay datetimes."""
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # Excel stores every number as a float: 12.0 -> "12"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    text = str(value)
    return text if text.strip() else None
