"""Reading input files: vector files to a GeoDataFrame in EPSG:4326, tables to text cells.

Every frame carries a ``_row`` column: for tables the line a person sees in a
spreadsheet (the header is line 1, the first data row line 2); for vector files the
1-based feature number. A file that cannot be read raises ``ReadError`` with a
message a clerk can act on, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

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


class ReadError(ValueError):
    """A file that cannot be read; the message says why in a clerk's words."""


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
        raise ReadError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise ReadError("the file is empty")
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
        raise ReadError(
            f"not a vector file: {path.name} (expected .geojson, .json, .gpkg, .shp or .zip)"
        )
    if not isinstance(frame, gpd.GeoDataFrame):  # an attribute-only layer
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)), crs=WGS84)
    if len(frame) == 0:
        raise ReadError("the file holds no features")
    _refuse_replacement_chars(frame, encoding)
    frame[ROW] = np.arange(1, len(frame) + 1)
    return _to_wgs84(frame, crs)


def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ReadError(f"GeoJSON must be UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ReadError(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
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
        raise ReadError("not GeoJSON: expected a FeatureCollection or a JSON array of Features")
    if not isinstance(features, list) or not features:
        raise ReadError("the file holds no features")
    records: list[dict] = []
    geometries: list[object] = []
    for number, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ReadError(f"feature {number} is not a GeoJSON Feature")
        props = feature.get("properties") or {}
        records.append({k: _json_cell(v) for k, v in props.items()})
        geometry = feature.get("geometry")
        if geometry is None:
            geometries.append(None)
            continue
        try:
            geometries.append(shapely.from_geojson(json.dumps(geometry)))
        except shapely.errors.GEOSException as exc:
            raise ReadError(f"feature {number}: unreadable geometry ({exc})") from None
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
        raise ReadError(f"unknown coordinate system in the GeoJSON crs member: {name!r}") from None


def _read_ogr(path: Path | str, encoding: str | None) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
        if len(layers) == 0:
            raise ReadError("the file holds no layers")
        layer = _first_feature_layer(layers)
        return pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except ReadError:
        raise
    except Exception as exc:  # GDAL errors come in many classes; the message is what matters
        reason = str(exc).split("; It might help")[0]  # GDAL's hint about driver prefixes
        raise ReadError(f"cannot read the file: {reason}") from None


def _first_feature_layer(layers: np.ndarray) -> str:
    for name, geometry_type in layers:
        if geometry_type:
            return str(name)
    return str(layers[0][0])


def _read_shapefile(shp: Path, dbf: Path, cpg: Path, encoding: str | None) -> gpd.GeoDataFrame:
    if not dbf.exists():
        raise ReadError(f"the shapefile has no attribute file {dbf.name}")
    dbf_bytes = dbf.read_bytes()
    cpg_text = cpg.read_text(encoding="ascii", errors="replace") if cpg.exists() else None
    chosen = _shapefile_encoding(dbf_bytes, cpg_text, encoding)
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
        raise ReadError("not a readable .zip file") from None
    with archive, tempfile.TemporaryDirectory(prefix="gridmap-import-") as tmp:
        names = archive.namelist()
        shps = sorted(
            n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")
        )
        if not shps:
            raise ReadError("the .zip holds no .shp file")
        stem = shps[0][:-4]
        wanted = [n for n in names if n[: len(stem)] == stem and len(n) - len(stem) <= 4]
        for name in wanted:
            target = Path(tmp) / Path(name).name
            target.write_bytes(archive.read(name))
        shp = Path(tmp) / Path(shps[0]).name
        frame = _read_shapefile(shp, _sibling(shp, ".dbf"), _sibling(shp, ".cpg"), encoding)
    return frame


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
        _check_decodes(names, values, chosen, f"the encoding given ({encoding})")
        return chosen
    if cpg_text and cpg_text.strip():
        declared = cpg_text.strip()
        chosen = _CPG_ALIASES.get(declared.lower(), declared)
        _check_decodes(names, values, chosen, f"the .cpg file ({declared})")
        return chosen
    for candidate in ("utf-8", "gb18030"):
        if _decodes(names, values, candidate):
            return candidate
    raise ReadError(
        "the shapefile's text is neither UTF-8 nor GBK/GB18030: name the encoding with --encoding"
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


def _check_decodes(names: list[bytes], values: bytes, encoding: str, source: str) -> None:
    try:
        ok = _decodes(names, values, encoding)
    except LookupError:
        raise ReadError(f"unknown text encoding {encoding!r} from {source}") from None
    if not ok:
        raise ReadError(
            f"the shapefile's text does not decode as {encoding} ({source}): give the right one with --encoding"
        )


def _dbf_text_bytes(dbf: bytes) -> tuple[list[bytes], bytes]:
    """Field names, and character-field values joined by newlines, of a DBF (for sniffing)."""
    if len(dbf) < 32:
        raise ReadError("the shapefile's .dbf file is damaged")
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
        hint = (
            f"the encoding {encoding} is wrong"
            if encoding
            else "the text encoding was not recognised"
        )
        raise ReadError(
            f"unreadable characters (U+FFFD) in {', '.join(bad_columns)}: {hint}; "
            "give the right one with --encoding (utf-8, gbk, gb18030)"
        )


def normalise_crs(value: object) -> CRS | None:
    """A pyproj CRS from user input ("EPSG:4490", 4326, a CRS); None for None."""
    if value is None or value == "":
        return None
    try:
        return CRS.from_user_input(value)
    except Exception:
        raise ReadError(f"unknown coordinate system {value!r} (expected e.g. EPSG:4326)") from None


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
        raise ReadError(f"cannot convert from {declared.to_string()} to WGS-84: {exc}") from None


# --- tables ---------------------------------------------------------------------------


def read_table(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """The cells of a CSV or XLSX file as text (Excel date cells stay datetimes), plus ``_row``.

    CSV text is decoded with ``encoding``, else UTF-8 (with or without BOM), else GB18030.
    Empty cells are None; blank lines are dropped but keep the numbering of the others.
    """
    path = Path(path)
    if not path.exists():
        raise ReadError(f"file not found: {path}")
    if path.stat().st_size == 0:
        raise ReadError("the file is empty")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        frame = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        frame = _read_csv(path, encoding)
    else:
        raise ReadError(f"not a table file: {path.name} (expected .csv or .xlsx)")
    if frame.columns.size <= 1 or len(frame) == 0:
        raise ReadError("the file holds no data rows")
    return frame


def decode_text(data: bytes, encoding: str | None) -> str:
    """Text of a CSV: ``encoding`` if given, else strict UTF-8 (BOM allowed), else GB18030."""
    if encoding:
        try:
            return data.decode(_CPG_ALIASES.get(encoding.strip().lower(), encoding.strip()))
        except LookupError:
            raise ReadError(f"unknown text encoding {encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"the file does not decode as {encoding} (byte {exc.start}): check --encoding"
            ) from None
    for candidate in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    raise ReadError("the text is neither UTF-8 nor GBK/GB18030: name the encoding with --encoding")


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    text = decode_text(path.read_bytes(), encoding).lstrip("\ufeff")
    if not text.strip():
        raise ReadError("the file is empty")
    try:
        # dtype=str: ids like 0012 stay 0012; blank lines kept so numbering matches the sheet
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            sep="\t" if _looks_tab_separated(text) else ",",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise ReadError(f"not a readable CSV file: {exc}") from None
    frame = frame.astype(object).replace({"": None})
    frame.columns = [str(c) for c in frame.columns]
    frame[ROW] = np.arange(2, len(frame) + 2)
    blank = frame.drop(columns=[ROW]).isna().all(axis=1)
    return frame[~blank].reset_index(drop=True)


def _looks_tab_separated(text: str) -> bool:
    first = text.split("\n", 1)[0]
    return "\t" in first and "," not in first


def _read_xlsx(path: Path) -> pd.DataFrame:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(f"not a readable .xlsx file: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        header: list[str] | None = None
        records: list[list[object]] = []
        rows: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_excel_cell(v) for v in values]
            if all(c is None for c in cells):
                continue
            if header is None:
                if sum(c is not None for c in cells) < 2:
                    continue  # a title row above the header (often one merged cell)
                header = [("" if c is None else str(c)) for c in cells]
                continue
            records.append(cells)
            rows.append(number)
    finally:
        workbook.close()
    if header is None:
        raise ReadError("the file is empty")
    width = len(header)
    while width and header[width - 1] == "":
        width -= 1
    header = [h if h else f"column {i + 1}" for i, h in enumerate(header[:width])]
    frame = pd.DataFrame(
        [(r + [None] * width)[:width] for r in records], columns=header, dtype=object
    )
    frame[ROW] = rows
    return frame


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
