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

Binary form: ``MAGIC``, the format version (2 bytes), two 4-byte lengths (little-endian),
a UTF-8 JSON header (grid, anchor, category labels, the array directory), a UTF-8 JSON of
the texts (ids, buildings, addresses), then the arrays' raw little-endian bytes.
"""

from __future__ import annotations

import json
import struct

import numpy as np

FORMAT_VERSION = 3
MAGIC = b"GMCS"  # gridmap care state
_LENGTHS = struct.Struct("<HII")  # format version, header length, texts length
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


class Block:
    """One grid's block (``grid`` is the stored grid_id text; ``""`` for households in no grid).

    The texts (household ids, building labels, addresses) of a decoded block are read from
    its binary form only when asked for: the counts never need them.
    """

    def __init__(
        self,
        grid: str,
        anchor: int,
        ids: list[str] | None,
        category_labels: list[str | None],
        building_labels: list[str | None] | None,
        addresses: list[str | None] | None,
        arrays: dict[str, np.ndarray],
        irregular: bool = False,
        texts: bytes | None = None,
    ) -> None:
        self.grid = grid
        self.anchor = anchor
        self.category_labels = category_labels
        self.arrays = arrays
        self.irregular = irregular
        self._texts = None if texts is None else {"raw": texts}
        if ids is not None:
            self._texts = {"ids": ids, "buildings": building_labels, "addresses": addresses}

    def _text(self, name: str) -> list:
        texts = self._texts
        if texts is None:
            return []
        if "raw" in texts:
            texts = self._texts = json.loads(texts["raw"].decode("utf-8"))
        return texts[name]

    @property
    def ids(self) -> list[str]:
        """Household ids, in row order."""
        return self._text("ids")

    @property
    def building_labels(self) -> list[str | None]:
        """The distinct building texts the ``building`` array indexes."""
        return self._text("buildings")

    @property
    def addresses(self) -> list[str | None]:
        """Stored addresses, in row order."""
        return self._text("addresses")

    @property
    def n(self) -> int:
        """Households."""
        return len(self.arrays["fid"])


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
    header = _json(
        {
            "v": FORMAT_VERSION,
            "grid": block.grid,
            "anchor": int(block.anchor),
            "irregular": bool(block.irregular),
            "categories": block.category_labels,
            "arrays": directory,
        }
    )
    texts = _json(
        {"ids": block.ids, "buildings": block.building_labels, "addresses": block.addresses}
    )
    lengths = struct.pack("<HII", FORMAT_VERSION, len(header), len(texts))
    return MAGIC + lengths + header + texts + b"".join(chunks)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(blob: bytes | memoryview) -> Block:
    """The block of a binary form (arrays are read-only views on ``blob``; texts read on demand)."""
    blob = memoryview(blob)
    start = len(MAGIC) + _LENGTHS.size
    if bytes(blob[: len(MAGIC)]) != MAGIC or len(blob) < start:
        raise ValueError("not a care state block")
    version, size, text_size = _LENGTHS.unpack_from(blob, len(MAGIC))
    if version != FORMAT_VERSION:
        raise ValueError(f"care state block format {version}, expected {FORMAT_VERSION}")
    header = json.loads(bytes(blob[start : start + size]).decode("utf-8"))
    texts = bytes(blob[start + size : start + size + text_size])
    body = blob[start + size + text_size :]
    arrays = {}
    for name, offset, length in header["arrays"]:
        dtype, width = _ARRAYS[name]
        data = np.frombuffer(body[offset : offset + length], dtype=dtype)
        arrays[name] = data.reshape(-1, width) if width > 1 else data
    return Block(
        grid=header["grid"],
        anchor=int(header["anchor"]),
        ids=None,
        category_labels=header["categories"],
        building_labels=None,
        addresses=None,
        arrays=arrays,
        irregular=bool(header["irregular"]),
        texts=texts,
    )
