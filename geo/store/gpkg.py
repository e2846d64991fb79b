"""OGC GeoPackage plumbing: the geometry blob codec and the core metadata tables.

A GeoPackage is an SQLite file; we write it with the standard library's ``sqlite3``
so that an import or edit is one SQLite transaction (whole or nothing), and read it
the same way. GDAL, QGIS and ``pyogrio`` open the result as an ordinary GeoPackage.
"""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
import shapely

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10400  # GeoPackage 1.4
SRS_ID = 4326
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_POINT_BLOB_LEN = 8 + 21

_POINT_DTYPE = np.dtype(
    [
        ("magic", "S2"),
        ("version", "u1"),
        ("flags", "u1"),
        ("srs_id", "<i4"),
        ("order", "u1"),
        ("wkb_type", "<u4"),
        ("x", "<f8"),
        ("y", "<f8"),
    ]
)

WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)

CORE_DDL = [
    """CREATE TABLE gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
]

CORE_SRS = [
    (
        "Undefined cartesian SRS",
        -1,
        "NONE",
        -1,
        "undefined",
        "undefined cartesian coordinate reference system",
    ),
    (
        "Undefined geographic SRS",
        0,
        "NONE",
        0,
        "undefined",
        "undefined geographic coordinate reference system",
    ),
    (
        "WGS 84 geodetic",
        SRS_ID,
        "EPSG",
        4326,
        WGS84_WKT,
        "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
    ),
]


def encode_points(x: np.ndarray, y: np.ndarray) -> list[bytes]:
    """GeoPackage blobs (little-endian, no envelope) for points at ``x``, ``y``."""
    rec = np.empty(len(x), dtype=_POINT_DTYPE)
    rec["magic"] = b"GP"
    rec["version"] = 0
    rec["flags"] = 0x01  # little endian, no envelope
    rec["srs_id"] = SRS_ID
    rec["order"] = 1
    rec["wkb_type"] = 1
    rec["x"] = x
    rec["y"] = y
    buf = rec.tobytes()
    n = _POINT_BLOB_LEN
    return [buf[i : i + n] for i in range(0, len(buf), n)]


def encode_geometries(geoms: np.ndarray) -> list[bytes | None]:
    """GeoPackage blobs (with an xy envelope) for shapely geometries; None stays None."""
    out: list[bytes | None] = []
    wkbs = shapely.to_wkb(geoms, byte_order=1)
    bounds = shapely.bounds(geoms)
    for wkb, (minx, miny, maxx, maxy) in zip(wkbs, bounds, strict=True):
        if wkb is None:
            out.append(None)
            continue
        if np.isnan(minx):  # empty geometry: flag it, no envelope
            out.append(b"GP\x00" + bytes([0x01 | 0x10]) + struct.pack("<i", SRS_ID) + wkb)
            continue
        header = b"GP\x00" + bytes([0x03]) + struct.pack("<i4d", SRS_ID, minx, maxx, miny, maxy)
        out.append(header + wkb)
    return out


def _wkb_of(blob: bytes) -> bytes:
    flags = blob[3]
    return blob[8 + _ENVELOPE_BYTES[(flags >> 1) & 0x07] :]


def decode_points(blobs: list[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """x and y arrays of point blobs (NaN where the blob is missing or not a point)."""
    n = len(blobs)
    if n and all(b is not None and len(b) == _POINT_BLOB_LEN and b[3] == 0x01 for b in blobs):
        rec = np.frombuffer(b"".join(blobs), dtype=_POINT_DTYPE)
        if (rec["wkb_type"] == 1).all() and (rec["order"] == 1).all():
            return rec["x"].astype(float), rec["y"].astype(float)
    geoms = decode_geometries(blobs)
    xs = np.full(n, np.nan)
    ys = np.full(n, np.nan)
    is_point = shapely.get_type_id(geoms) == 0
    xs[is_point] = shapely.get_x(geoms[is_point])
    ys[is_point] = shapely.get_y(geoms[is_point])
    return xs, ys


def decode_geometries(blobs: list[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs (None stays None)."""
    wkbs = np.array([None if b is None else _wkb_of(bytes(b)) for b in blobs], dtype=object)
    return shapely.from_wkb(wkbs)


def _envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    if blob is None:
        return None
    flags = blob[3]
    if flags & 0x10:
        return None
    env = (flags >> 1) & 0x07
    if env:
        fmt = "<4d" if flags & 0x01 else ">4d"
        minx, maxx, miny, maxy = struct.unpack(fmt, blob[8:40])
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(_wkb_of(blob))
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def register_functions(con: sqlite3.Connection) -> None:
    """The ST_* functions that GDAL's R-tree triggers call, should a tool have added them."""

    def pick(i: int):
        def f(blob: bytes | None) -> float | None:
            env = _envelope(blob)
            return None if env is None else env[i]

        return f

    con.create_function("ST_MinX", 1, pick(0), deterministic=True)
    con.create_function("ST_MaxX", 1, pick(1), deterministic=True)
    con.create_function("ST_MinY", 1, pick(2), deterministic=True)
    con.create_function("ST_MaxY", 1, pick(3), deterministic=True)
    con.create_function(
        "ST_IsEmpty",
        1,
        lambda b: None if b is None else int(_envelope(b) is None),
        deterministic=True,
    )
    con.create_function("GPKG_IsAssignable", 2, lambda a, b: 1, deterministic=True)
