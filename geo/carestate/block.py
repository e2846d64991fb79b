"""A block: what the figures need of one grid's households, and its binary form.

Per household: its row number in the store (``fid``: the order reads give), id, stored
categories text, building, address, lon/lat, the visit days and the verification days of
the 128 days ending on the block's ``anchor`` (``bits``), the stored ``last_verified`` day
and the latest ``visited_at`` (seconds). Nothing depends on the configuration: categories
and rules are applied when figures are computed, so a changed configuration never makes a
block stale. Reports are not held: their table is small (25k rows at 1M households) and
their figures depend on case events (extensions), so they are counted from their rows.

A block is ``irregular`` when some stored text could not be read exactly (a timestamp or
date not in the stored format): figures of its grid are then computed from the base
tables, never approximated.

Binary form: a 4-byte little-endian header length, a UTF-8 JSON header (texts and the
array directory), then the arrays' raw little-endian bytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

FORMAT_VERSION = 2
_ARRAYS = {
    # name: (dtype, columns per row)
    "fid": ("<i8", 1),
    "category": ("<u2", 1),
    "building": ("<u4", 1),
    "lon": ("<f8", 1),
    "lat": ("<f8", 1),
    "visits": ("<u8", 2),
    "verifications": ("<u8", 2),
    "last_verified": ("<i4", 1),
    "last_visit": ("<i8", 1),
}


@dataclass
class Block:
    """One grid's block (``grid`` is the stored grid_id text; ``""`` for households in no grid)."""

    grid: str
    anchor: int
    ids: list[str]
    category_labels: list[str | None]
    building_labels: list[str | None]
    addresses: list[str | None]
    arrays: dict[str, np.ndarray]
    irregular: bool = False

    @property
    def n(self) -> int:
        """Households."""
        return len(self.ids)


def encode(block: Block) -> bytes:
    """The block's binary form."""
    directory, chunks, offset = [], [], 0
    for name, (dtype, width) in _ARRAYS.items():
        rows = block.n
        data = np.ascontiguousarray(block.arrays[name], dtype=dtype)
        if data.shape[0] != rows or (width > 1 and data.shape[1:] != (width,)):
            raise ValueError(f"{name}: shape {data.shape} for {rows} rows")
        raw = data.tobytes()
        directory.append([name, offset, len(raw)])
        chunks.append(raw)
        offset += len(raw)
    header = json.dumps(
        {
            "v": FORMAT_VERSION,
            "grid": block.grid,
            "anchor": int(block.anchor),
            "irregular": bool(block.irregular),
            "ids": block.ids,
            "categories": block.category_labels,
            "buildings": block.building_labels,
            "addresses": block.addresses,
            "arrays": directory,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return struct.pack("<I", len(header)) + header + b"".join(chunks)


def decode(blob: bytes | memoryview) -> Block:
    """The block of a binary form (arrays are read-only views on ``blob``)."""
    blob = memoryview(blob)
    (size,) = struct.unpack_from("<I", blob, 0)
    header = json.loads(bytes(blob[4 : 4 + size]).decode("utf-8"))
    if header.get("v") != FORMAT_VERSION:
        raise ValueError(f"care state block format {header.get('v')!r}, expected {FORMAT_VERSION}")
    body = blob[4 + size :]
    arrays = {}
    for name, offset, length in header["arrays"]:
        dtype, width = _ARRAYS[name]
        data = np.frombuffer(body[offset : offset + length], dtype=dtype)
        arrays[name] = data.reshape(-1, width) if width > 1 else data
    return Block(
        grid=header["grid"],
        anchor=int(header["anchor"]),
        ids=header["ids"],
        category_labels=header["categories"],
        building_labels=header["buildings"],
        addresses=header["addresses"],
        arrays=arrays,
        irregular=bool(header["irregular"]),
    )
