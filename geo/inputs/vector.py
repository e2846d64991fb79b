"""Reading vector files (GeoJSON, GeoPackage, Shapefile or a .zip of it) to a GeoDataFrame in EPSG:4326.

Shapefile text in UTF-8 or GBK/GB18030, detected from ``.cpg`` or the bytes; text that does
not decode is refused, never shown with U+FFFD. A .zip is checked before it is expanded.
Every frame carries a ``_row`` column: the 1-based feature number.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.i18n import Msg
from geo.inputs.readers import (
    _CPG_ALIASES,
    ROW,
    WGS84,
    ReadError,
    _decodes,
    _decodes_strictly,
    check_header,
    check_zip_sizes,
)

# CGCS2000 differs from WGS-84 by centimetres: treated as the same datum
_SAME_AS_WGS84 = {4326, 4490}


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
