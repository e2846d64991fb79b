"""The store: where grids, households, visits, staff and reports live.

``open_store(location)`` gives a ``Store`` (``geo.store.base``): a GeoPackage file for a
plain path (the embedded store, ``geo.store.geopackage``), PostGIS for
``postgresql://...`` (``geo.store.postgis``). Every write goes through
``Store.transaction()``; the transaction commits whole or not at all, and a failed one
leaves the file exactly as it was (byte for byte: nothing is written before ``COMMIT``).
Reading a store that does not exist yet gives empty tables and creates nothing.

This module is only the factory: the stores import ``geo.store.base``, never this module,
so there is no import cycle between the store implementations.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geo.store.base import Store

DEFAULT_LOCATION = "data/gridmap.gpkg"


def resolve_location(flag: str | None = None) -> str:
    """The data location: ``--db`` flag, else ``$GRIDMAP_DB``, else ``data/gridmap.gpkg``."""
    return flag or os.environ.get("GRIDMAP_DB") or DEFAULT_LOCATION


def open_store(location: str | None = None) -> Store:
    """The store at ``location`` (resolved as ``resolve_location`` does)."""
    location = resolve_location(location)
    if location.startswith(("postgresql://", "postgres://")):
        from geo.store.postgis import PostGISStore  # optional dependency

        return PostGISStore(location)
    # imported here too: opening a store is what loads an implementation
    from geo.store.geopackage import GeoPackageStore

    return GeoPackageStore(Path(location))
