"""Selectable tables whose selection means a row's id, never a position that may shift."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def row_key(prefix: str, ids: Sequence[str]) -> str:
    """A table's widget key that changes whenever its rows or their order change.

    Streamlit keeps a table's selection as row positions: after a write reorders or drops
    rows, position 0 is another household or report. With this key a selection never
    outlives the rows it was made on (the new table starts with none).
    """
    digest = hashlib.blake2b("\n".join(map(str, ids)).encode(), digest_size=8).hexdigest()
    return f"{prefix}_{digest}"


def newly_picked(
    key: str, rows: Sequence[int], ids: Sequence[str], seen: tuple | None
) -> tuple[str | None, tuple]:
    """(the id of a row the user has just picked in table ``key``, else None; what to remember).

    ``rows``: the table's selected positions now; ``seen``: what the previous run returned
    as remembered. A selection already acted upon is not picked again.
    """
    now = (key, tuple(rows))
    if rows and now != seen and rows[0] < len(ids):
        return str(ids[rows[0]]), now
    return None, now
