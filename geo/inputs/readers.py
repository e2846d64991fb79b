"""Reading input files, what both readers share: vector files (``geo.inputs.vector``) to a
GeoDataFrame in EPSG:4326, tables (``geo.inputs.tables``) to text cells.

Every frame carries a ``_row`` column: for tables the line a person sees in a
spreadsheet (the header is line 1, the first data row line 2); for vector files the
1-based feature number. A file that cannot be read raises ``ReadError`` with a
message a clerk can act on (from the catalogue, in the clerk's language), never a
traceback.

Tables are read in chunks (``open_table``): memory stays bounded whatever the file's
size. Hostile files are refused before they are expanded: too many columns, a .zip or
.xlsx whose contents would unpack beyond the configured limits (``[limits]``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from geo.config import load_config
from geo.i18n import MessageError, Msg

ROW = "_row"
WGS84 = "EPSG:4326"
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")


_CPG_ALIASES = {
    "936": "gb18030",
    "cp936": "gb18030",
    "gbk": "gb18030",
    "gb2312": "gb18030",
    "gb18030": "gb18030",
    "54936": "gb18030",
    "65001": "utf-8",
    "utf8": "utf-8",
    "utf-8": "utf-8",
}


FILE_LEVEL = "-"


class ReadError(MessageError):
    """A file that cannot be read: a catalogue message, and where (header row, column) if known."""

    def __init__(self, key: str, /, *, row: int = 1, column: str = FILE_LEVEL, **values: object):
        super().__init__(key, **values)
        self.row = row
        self.column = column


@dataclass(frozen=True)
class CellProblem:
    """A cell that would silently import as empty (formula without value, merged cell)."""

    row: int
    header: str
    msg: Msg


def is_vector_file(path: str | Path) -> bool:
    """True when ``path`` names a vector file (GeoJSON, GeoPackage, Shapefile or .zip)."""
    return Path(path).suffix.lower() in VECTOR_SUFFIXES


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def check_zip_sizes(members: list[zipfile.ZipInfo]) -> None:
    """ReadError when an entry, or all together, would unpack beyond the configured limits."""
    limits = load_config().limits
    total = 0
    for info in members:
        if info.file_size > limits.max_zip_entry_bytes:
            raise ReadError(
                "read_zip_entry_too_big",
                name=info.filename,
                size=_mb(info.file_size),
                limit=_mb(limits.max_zip_entry_bytes),
            )
        total += info.file_size
    if total > limits.max_zip_total_bytes:
        raise ReadError(
            "read_zip_total_too_big", size=_mb(total), limit=_mb(limits.max_zip_total_bytes)
        )


def _decodes(names: list[bytes], values: bytes, encoding: str) -> bool:
    try:
        values.decode(encoding)
    except UnicodeDecodeError:
        return False
    # field names are cut at 10 bytes, often inside a UTF-8 character: allow a cut tail
    return all(
        any(_decodes_strictly(name[: len(name) - cut], encoding) for cut in range(4))
        for name in names
    )


def _decodes_strictly(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def check_header(header: list[str]) -> None:
    """ReadError for a header with more columns than the limit, or a column name twice."""
    limit = load_config().limits.max_columns
    if len(header) > limit:
        raise ReadError("read_too_many_columns", count=len(header), limit=limit)
    first: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        key = name.strip()
        if not key:
            continue
        if key in first:
            raise ReadError(
                "read_duplicate_header", column=key, name=key, first=first[key], second=number
            )
        first[key] = number
