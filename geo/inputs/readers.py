"""Reading input files: vector files to a GeoDataFrame in EPSG:4326, tables to text cells.

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

import codecs
import csv
import datetime as dt
import json
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.config import load_config
from geo.i18n import MessageError, Msg

ROW = "_row"
WGS84 = "EPSG:4326"
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".zip")
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
# CGCS2000 differs from WGS-84 by centimetres: treated as the same datum
_SAME_AS_WGS84 = {4326, 4490}
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


CHUNK_ROWS = 100_000
"""Rows of a table read and checked at a time (memory is bounded by this, not the file)."""
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


@dataclass
class TableSource:
    """A table being read: its header, then its rows chunk by chunk.

    ``chunks`` yields frames of text cells (plus ``_row``), blank lines dropped;
    ``cell_problems`` is complete once ``chunks`` is exhausted.
    """

    header: list[str]
    chunks: Iterator[pd.DataFrame]
    cell_problems: list[CellProblem] = field(default_factory=list)


def is_vector_file(path: str | Path) -> bool:
    """True when ``path`` names a vector file (GeoJSON, GeoPackage, Shapefile or .zip)."""
    return Path(path).suffix.lower() in VECTOR_SUFFIXES


# --- vector files ---------------------------------------------------------------------


def read_vector(
    path: str | Path, *, encoding: str | None = None, crs: str | None = None
) -> gpd.GeoDataFrame:
    """The features of a vector file in EPSG:4326, attributes as read, plus ``_row``.

    GeoJSON may be a FeatureCollection, a bare JSON array of Features or one Feature;
    its ``crs`` member is honoured. Shapefile DBF text is decoded with ``encoding``,
    else the ``.cpg``, else whichever of UTF-8 and GB18030 decodes it cleanly.
    ``crs`` ("EPSG:N") overrides the file's declared CRS; a missing CRS means WGS-84.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError("read_not_found", path=str(path))
    if path.stat().st_size == 0:
        raise ReadError("read_empty")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        frame = _read_geojson(path)
    elif suffix == ".gpkg":
        frame = _read_ogr(path, None)
    elif suffix == ".shp":
        frame = _read_shapefile(path, path.with_suffix(".dbf"), path.with_suffix(".cpg"), encoding)
    elif suffix == ".zip":
        frame = _read_zipped_shapefile(path, encoding)
    else:
        raise ReadError("read_not_vector", name=path.name)
    if not isinstance(frame, gpd.GeoDataFrame):  # an attribute-only layer
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)), crs=WGS84)
    if len(frame) == 0:
        raise ReadError("read_no_features")
    _refuse_replacement_chars(frame, encoding)
    frame[ROW] = np.arange(1, len(frame) + 1)
    return _to_wgs84(frame, crs)


def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ReadError("read_geojson_not_utf8", byte=exc.start) from None
    except json.JSONDecodeError as exc:
        raise ReadError(
            "read_json_invalid", error=exc.msg, line=exc.lineno, col=exc.colno
        ) from None
    declared = None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features")
        declared = _geojson_crs(data.get("crs"))
    elif isinstance(data, dict) and data.get("type") == "Feature":
        features = [data]
    elif isinstance(data, list):  # a bare array of Features, as boundary services publish
        features = data
    else:
        raise ReadError("read_not_geojson")
    if not isinstance(features, list) or not features:
        raise ReadError("read_no_features")
    records: list[dict] = []
    geometries: list[object] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ReadError("read_not_feature", number=number)
        props = feature.get("properties") or {}
        records.append({k: _json_cell(v) for k, v in props.items()})
        geometry = feature.get("geometry")
        if geometry is None:
            geometries.append(None)
            continue
        try:
            geometries.append(shapely.from_geojson(json.dumps(geometry)))
        except shapely.errors.GEOSException as exc:
            raise ReadError("read_bad_geometry", number=number, error=str(exc)) from None
    frame = (
        pd.DataFrame.from_records(records) if records else pd.DataFrame(index=range(len(features)))
    )
    frame = frame.reindex(range(len(features)))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometries), crs=declared or WGS84)


def _json_cell(value: object) -> object:
    # nested values (e.g. "center": [lon, lat]) are kept as their JSON text
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _geojson_crs(member: object) -> CRS | None:
    if not isinstance(member, dict):
        return None
    name = (member.get("properties") or {}).get("name")
    if not name:
        return None
    try:
        return CRS.from_user_input(name)
    except Exception:
        raise ReadError("read_geojson_crs", name=repr(name)) from None


def _read_ogr(path: Path | str, encoding: str | None) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
        if len(layers) == 0:
            raise ReadError("read_no_layers")
        layer = _first_feature_layer(layers)
        return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except ReadError:
        raise
    except Exception as exc:  # GDAL errors come in many classes; the message is what matters
        reason = str(exc).split("; It might help")[0]  # GDAL's hint about driver prefixes
        raise ReadError("read_gdal", reason=reason) from None


def _first_feature_layer(layers: np.ndarray) -> str:
    for name, geometry_type in layers:
        if geometry_type:
            return str(name)
    return str(layers[0][0])


def _read_shapefile(shp: Path, dbf: Path, cpg: Path, encoding: str | None) -> gpd.GeoDataFrame:
    if not dbf.exists():
        raise ReadError("read_no_dbf", name=dbf.name)
    dbf_bytes = dbf.read_bytes()
    cpg_text = cpg.read_text(encoding="ascii", errors="replace") if cpg.exists() else None
    chosen = _shapefile_encoding(dbf_bytes, cpg_text, encoding)
    check_header([n.decode(chosen, errors="replace").strip() for n in _dbf_field_names(dbf_bytes)])
    repaired = _repair_field_names(dbf_bytes, chosen)
    if repaired is None:
        return _read_ogr(shp, chosen)
    # names cut inside a character break the reader: read a copy with the cut bytes removed
    with tempfile.TemporaryDirectory(prefix="gridmap-import-") as tmp:
        for part in shp.parent.iterdir():
            if part.stem == shp.stem and part != dbf:
                (Path(tmp) / part.name).write_bytes(part.read_bytes())
        (Path(tmp) / dbf.name).write_bytes(repaired)
        return _read_ogr(Path(tmp) / shp.name, chosen)


def _repair_field_names(dbf: bytes, encoding: str) -> bytes | None:
    """The DBF with field names cut inside a multi-byte character trimmed; None if none is."""
    header_len = int.from_bytes(dbf[8:10], "little")
    fixed = bytearray(dbf)
    changed = False
    pos = 32
    while pos + 32 <= min(header_len, len(dbf)) and dbf[pos] != 0x0D:
        name = dbf[pos : pos + 11].split(b"\x00", 1)[0]
        if not _decodes_strictly(name, encoding):
            for cut in range(1, 4):
                if _decodes_strictly(name[: len(name) - cut], encoding):
                    fixed[pos : pos + 11] = name[: len(name) - cut].ljust(11, b"\x00")
                    changed = True
                    break
        pos += 32
    return bytes(fixed) if changed else None


def _read_zipped_shapefile(path: Path, encoding: str | None) -> gpd.GeoDataFrame:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ReadError("read_zip_bad") from None
    with archive, tempfile.TemporaryDirectory(prefix="gridmap-import-") as tmp:
        names = archive.namelist()
        shps = sorted(
            n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")
        )
        if not shps:
            raise ReadError("read_zip_no_shp")
        stem = shps[0][:-4]
        wanted = [
            i
            for i in archive.infolist()
            if i.filename[: len(stem)] == stem and len(i.filename) - len(stem) <= 4
        ]
        check_zip_sizes(wanted)
        for info in wanted:
            _extract_bounded(archive, info, Path(tmp) / Path(info.filename).name)
        shp = Path(tmp) / Path(shps[0]).name
        frame = _read_shapefile(shp, _sibling(shp, ".dbf"), _sibling(shp, ".cpg"), encoding)
    return frame


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


def _extract_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Extract one entry in blocks (never whole in memory).

    ``zipfile`` stops at the size the entry declares and checks its CRC, so an entry
    cannot unpack beyond what ``check_zip_sizes`` accepted.
    """
    try:
        with archive.open(info) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
    except (zipfile.BadZipFile, EOFError, zlib.error):
        raise ReadError("read_zip_bad") from None


def _sibling(shp: Path, suffix: str) -> Path:
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix:
            return candidate
    return shp.with_suffix(suffix)


def _shapefile_encoding(dbf: bytes, cpg_text: str | None, encoding: str | None) -> str:
    """The encoding to decode the DBF with; raises ReadError when its text does not decode."""
    names, values = _dbf_text_bytes(dbf)
    if encoding:
        chosen = _CPG_ALIASES.get(encoding.strip().lower(), encoding.strip())
        _check_decodes(names, values, chosen, Msg("read_source_flag", encoding=encoding))
        return chosen
    if cpg_text and cpg_text.strip():
        declared = cpg_text.strip()
        chosen = _CPG_ALIASES.get(declared.lower(), declared)
        _check_decodes(names, values, chosen, Msg("read_source_cpg", encoding=declared))
        return chosen
    for candidate in ("utf-8", "gb18030"):
        if _decodes(names, values, candidate):
            return candidate
    raise ReadError("read_shp_encoding_unknown")


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


def _check_decodes(names: list[bytes], values: bytes, encoding: str, source: Msg) -> None:
    try:
        ok = _decodes(names, values, encoding)
    except LookupError:
        raise ReadError(
            "read_encoding_unknown_from", encoding=repr(encoding), source=source
        ) from None
    if not ok:
        raise ReadError("read_shp_wrong_encoding", encoding=encoding, source=source)


def _dbf_field_names(dbf: bytes) -> list[bytes]:
    """The field names of a DBF header (raw bytes, as stored)."""
    header_len = int.from_bytes(dbf[8:10], "little")
    names = []
    pos = 32
    while pos + 32 <= min(header_len, len(dbf)) and dbf[pos] != 0x0D:
        names.append(dbf[pos : pos + 11].split(b"\x00", 1)[0])
        pos += 32
    return names


def _dbf_text_bytes(dbf: bytes) -> tuple[list[bytes], bytes]:
    """Field names, and character-field values joined by newlines, of a DBF (for sniffing)."""
    if len(dbf) < 32:
        raise ReadError("read_dbf_damaged")
    n_records = int.from_bytes(dbf[4:8], "little")
    header_len = int.from_bytes(dbf[8:10], "little")
    record_len = int.from_bytes(dbf[10:12], "little")
    names: list[bytes] = []
    parts: list[bytes] = []
    text_fields: list[tuple[int, int]] = []
    offset = 1  # each record starts with its deletion flag
    pos = 32
    while pos + 32 <= min(header_len, len(dbf)) and dbf[pos] != 0x0D:
        descriptor = dbf[pos : pos + 32]
        names.append(descriptor[:11].split(b"\x00", 1)[0])
        length = descriptor[16]
        if chr(descriptor[11]) == "C":
            length += (
                descriptor[17] * 256
            )  # character fields may use the "decimals" byte as the high byte
            text_fields.append((offset, length))
        offset += length
        pos += 32
    body = dbf[header_len : header_len + n_records * record_len]
    n_records = len(body) // record_len if record_len else 0
    if n_records and text_fields:
        records = np.frombuffer(body[: n_records * record_len], dtype=np.uint8).reshape(
            n_records, record_len
        )
        for start, length in text_fields:
            column = records[:, start : start + length]
            parts.extend(bytes(row).rstrip(b" \x00") for row in column)
    return names, b"\n".join(parts)


def _refuse_replacement_chars(frame: pd.DataFrame, encoding: str | None) -> None:
    # U+FFFD after decoding means the bytes were decoded with the wrong encoding (pyogrio#380)
    bad_columns = [c for c in frame.columns if isinstance(c, str) and "\ufffd" in c]
    geometry_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    for column in frame.columns:
        if (
            column == geometry_name
            or not pd.api.types.is_object_dtype(frame[column])
            and not pd.api.types.is_string_dtype(frame[column])
        ):
            continue
        values = frame[column].dropna()
        if values.map(lambda v: isinstance(v, str) and "\ufffd" in v).any():
            bad_columns.append(str(column))
    if bad_columns:
        hint = Msg("read_fffd_wrong", encoding=encoding) if encoding else Msg("read_fffd_unknown")
        raise ReadError("read_fffd", columns=", ".join(bad_columns), hint=hint)


def normalise_crs(value: object) -> CRS | None:
    """A pyproj CRS from user input ("EPSG:4490", 4326, a CRS); None for None."""
    if value is None or value == "":
        return None
    try:
        return CRS.from_user_input(value)
    except Exception:
        raise ReadError("read_unknown_crs", value=repr(value)) from None


def is_wgs84_like(crs: CRS | None) -> bool:
    """True for WGS-84 and datums treated as equal to it (CGCS2000, OGC:CRS84)."""
    if crs is None:
        return True
    if crs.to_epsg() in _SAME_AS_WGS84:
        return True
    return crs.equals(CRS.from_user_input("OGC:CRS84")) or crs.equals(
        CRS.from_epsg(4326), ignore_axis_order=True
    )


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    override = normalise_crs(crs)
    declared = override or (CRS.from_user_input(frame.crs) if frame.crs is not None else None)
    if is_wgs84_like(declared):
        return frame.set_crs(WGS84, allow_override=True)
    frame = frame.set_crs(declared, allow_override=True)
    try:
        return frame.to_crs(WGS84)
    except Exception as exc:
        raise ReadError("read_crs_convert", crs=declared.to_string(), error=str(exc)) from None


# --- tables ---------------------------------------------------------------------------


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
    return TableSource(header, _csv_chunks(path, name, encoding, sep, chunk_rows, header))


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
    source = TableSource(header, iter(()))
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
