"""Households linked to buildings, and where in its building each household lives.

A household keeps its ``building`` text; it is linked when that text names a building:

1. ``id``: the text is a building's ``building_id`` (any grid);
2. ``name``: the text is, as a name (``names.building_key``: 1栋 = 1号楼), the name of
   the one building of the household's own grid that has it;
3. ``number``: the building number in the text (``锦绣小区3号楼`` -> 3号楼) is the number of
   exactly one building of the household's grid.

With no ``building`` text, the building written in the address (``东河小区3号楼2单元501``)
is used for 2 and 3. A household that names a building none of these find is ``unknown``
(``gridmap check`` lists it); one that names no building at all is ``none``. The link is
computed when the data is read, so it is never stale: importing buildings after households,
or moving a household to another grid, links it anew.

Unit and floor come from the household's ``unit`` / ``floor`` columns when given, else from
its address (``address.parse_address``); the door only from the address.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.buildings.address import parse_addresses
from geo.buildings.names import building_keys, building_numbers

LINK_STATES = ("id", "name", "number", "unknown", "none")
LINK_COLUMNS = ("building_id", "link", "unit", "floor", "door")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    if isinstance(values.dtype, pd.StringDtype):
        # text already (pyarrow at 1M): no round trip through Python objects, 0.5 s a column
        return values.fillna("").str.strip().astype(object)
    values = values.astype(object)
    return values.where(values.notna(), "").astype(str).str.strip().astype(object)


def _positions(values: pd.Series | None, parsed: pd.Series, limit: int) -> pd.Series:
    """A whole number in 1..limit from ``values`` where given, else the parsed one."""
    if values is None:
        return parsed
    numbers = pd.to_numeric(values, errors="coerce")
    whole = numbers.notna() & (numbers % 1 == 0) & (numbers >= 1) & (numbers <= limit)
    given = pd.Series(
        np.where(whole, numbers.fillna(0), 0).astype(np.int64), index=values.index, dtype="Int64"
    )
    return given.where(whole, parsed)


def household_places(households: pd.DataFrame) -> pd.DataFrame:
    """unit, floor, door (Int64, NA when unknown) and address_building of every household."""
    from geo.buildings.address import MAX_FLOOR, MAX_UNIT

    places = parse_addresses(_text(households, "address"))
    for column, limit in (("unit", MAX_UNIT), ("floor", MAX_FLOOR)):
        given = households[column] if column in households.columns else None
        places[column] = _positions(given, places[column], limit)
    return places


def _lookup(keys: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each wanted value, -1 when absent or not unique in ``keys``."""
    counts = keys.value_counts()
    single = keys[keys.map(counts).to_numpy() == 1]
    if single.empty:
        return np.full(len(wanted), -1, dtype=np.int64)
    found = pd.Index(single.to_numpy(object)).get_indexer(wanted.to_numpy(object))
    return np.where(found >= 0, single.index.to_numpy()[np.maximum(found, 0)], -1)


def link_households(households: pd.DataFrame, buildings: pd.DataFrame) -> pd.DataFrame:
    """``LINK_COLUMNS`` for every household (on its index): the building it is linked to
    (None when not), how (``LINK_STATES``), and its unit, floor and door.

    ``households``: household_id, grid_id, building, address (optional unit, floor).
    ``buildings``: building_id, grid_id, name.
    """
    places = household_places(households)
    given = _text(households, "building").reset_index(drop=True)
    text = given.where(given != "", places["address_building"].fillna("").to_numpy(object))
    grid = _text(households, "grid_id").reset_index(drop=True)
    named = (text != "").to_numpy(bool)
    linked = np.full(len(households), None, dtype=object)
    how = np.where(named, "unknown", "none").astype(object)
    buildings = buildings.reset_index(drop=True)
    building_ids = buildings["building_id"].astype(str).reset_index(drop=True)
    building_grid = _text(buildings, "grid_id")
    none = pd.Series("\x00", index=text.index)  # matches no key
    steps = (
        # 1. by id, in any grid
        ("id", building_ids, given.where(given != "", none)),
        # 2. by name within the household's grid (the import refuses twins in a grid)
        (
            "name",
            building_grid + "\x1f" + pd.Series(building_keys(buildings["name"]), dtype=object),
            (grid + "\x1f" + pd.Series(building_keys(text), dtype=object)).where(named, none),
        ),
        # 3. by the building number in the text, when one building of the grid has it
        (
            "number",
            building_grid + "\x1f" + pd.Series(building_numbers(buildings["name"]), dtype=object),
            (grid + "\x1f" + pd.Series(building_numbers(text), dtype=object)).fillna("\x00"),
        ),
    )
    for state, keys, wanted in steps:
        if not len(buildings):
            break
        found = _lookup(keys.dropna(), wanted)
        take = pd.isna(linked) & (found >= 0)
        linked[take] = building_ids.to_numpy(object)[found[take]]
        how[take] = state
    out = pd.DataFrame(
        {
            "building_id": pd.Series(linked, index=households.index, dtype=object),
            "link": pd.Series(how, index=households.index, dtype=object),
        }
    )
    for column in ("unit", "floor", "door"):
        out[column] = places[column]
    return out
