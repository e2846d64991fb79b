"""The maintained care state of a store as one ``State``, kept per process and data version.

``Store.care_blocks`` reads every grid's block and the data version they match in one
snapshot (None: the store has no state that matches its data, so figures come from the
tables). Decoding 3,332 blocks of 1M households takes a fraction of a second; the result
is kept for the next call at the same data version and state token (one per location).
The token (meta ``care_state_token``, new with every committed write) tells a store made
again at the same path with the same version number from the one kept.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from geo.carestate.block import decode
from geo.carestate.figures import State, combine
from geo.store.care import CARE_TOKEN

_LOCK = threading.Lock()
_CACHE: dict[str, tuple[tuple[int, str], State]] = {}


def load_state(store: Any) -> State | None:
    """The store's care state as of its current data version, or None (compute from the tables).

    Only for an object whose own class reads the state (a store, or a view that says it
    answers for the whole store).

    ``GRIDMAP_CARE_STATE=off`` in the environment: always None (every figure from the
    tables: the benchmark's "before", and a way round a suspected fault of the state).
    """
    if os.environ.get("GRIDMAP_CARE_STATE", "").lower() == "off":
        return None
    if getattr(type(store), "care_blocks", None) is None:
        # a view of a store (geo.access.scope.GridScope) passes other calls through: the
        # state holds every grid, not the view's, so the view's figures come from its reads
        return None
    if not getattr(store, "holds_whole_state", True):
        # a view that wraps such a view (the weekly pack's snapshot of a GridScope)
        return None
    location = getattr(store, "location", None)
    with _LOCK:
        cached = _CACHE.get(location) if location else None
    if cached is not None and cached[0] == (store.version(), store.meta(CARE_TOKEN)):
        return cached[1]
    found = store.care_blocks()
    if found is None:
        return None
    key, blobs = found
    try:
        state = combine([decode(blob) for blob in blobs])
    except ValueError:  # blocks of another format (another gridmap): the next write rebuilds
        return None
    if location:
        with _LOCK:
            _CACHE[location] = (key, state)
    return state


def forget(location: str | None = None) -> None:
    """Drop the kept states (of one location, or all)."""
    with _LOCK:
        if location is None:
            _CACHE.clear()
        else:
            _CACHE.pop(location, None)
