"""Where in its building a household lives, read from a Chinese address.

The forms clerks write (after NFKC and Chinese numerals as digits, see ``names.normalise``):

- ``东河小区3号楼2单元501`` / ``3栋2单元501室`` / ``3幢2单元501号``: building 3, unit 2,
  room 501 = floor 5, door 1 (a room of 3 or 4 digits is floor * 100 + door);
- ``3-2-501`` (building-unit-room) and ``3号楼2-501`` (unit-room after the building);
- ``3号楼2单元5层1号`` / ``3号楼2单元5楼1户``: the floor written out, then the door;
- ``3号楼501`` (no unit: unit unknown), ``3号楼2单元`` (no room: floor unknown).

A part that cannot be read is None, never guessed: a room of 1 or 2 digits without a floor
(``1单元6号``) leaves floor and door unknown. Units and floors start at 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.buildings.names import BUILDING_IN_TEXT, normalise

MAX_UNIT = 99
MAX_FLOOR = 199
_ROOM_END = r"(?:室|号|户)?"
_DASHED = re.compile(r"(?<![\d])(\d{1,3})-(\d{1,2})-(\d{3,4})" + _ROOM_END + r"(?!\d)")
_UNIT = re.compile(r"(?<![\d])0*(\d{1,2})单元")
_UNIT_DASH_ROOM = re.compile(
    r"(?:号楼|号栋|#楼|栋|幢|座|#)0*(\d{1,2})-(\d{1,4})" + _ROOM_END + r"(?!\d)"
)
_FLOOR = re.compile(r"(?<![\d])0*(\d{1,3})(?:层|楼(?!\d+单元))(?:0*(\d{1,2})" + _ROOM_END + ")?")
_ROOM_AFTER_UNIT = re.compile(r"单元0*(\d{1,4})" + _ROOM_END + r"(?!\d)")
_ROOM = re.compile(r"(?<![\d-])(\d{3,4})(?:室|户)")
_ROOM_AFTER_BUILDING = re.compile(r"(?:号楼|号栋|#楼|栋|幢|座|#)(\d{3,4})" + _ROOM_END + r"$")


@dataclass(frozen=True)
class Place:
    """A household's place in its building (None = not written in the address)."""

    building: str | None = None  # canonical building number, e.g. "3号楼"
    unit: int | None = None
    floor: int | None = None
    door: int | None = None


def _room(room: int) -> tuple[int | None, int | None]:
    """(floor, door) of a room number: 501 -> (5, 1), 1203 -> (12, 3), 12 -> (None, None)."""
    if room < 100:
        return None, None
    floor, door = divmod(room, 100)
    return (floor if 1 <= floor <= MAX_FLOOR else None), (door if door >= 1 else None)


def parse_address(text: object) -> Place:
    """Building, unit, floor and door of one address (see the module docstring)."""
    s = normalise(text)
    if not s:
        return Place()
    found = BUILDING_IN_TEXT.findall(s)
    building = f"{found[-1]}号楼" if found else None
    unit = floor = door = None
    dashed = _DASHED.search(s)
    if dashed:
        building = building or f"{int(dashed.group(1))}号楼"
        unit = int(dashed.group(2))
        floor, door = _room(int(dashed.group(3)))
    else:
        unit_match = _UNIT.search(s)
        unit_room = _UNIT_DASH_ROOM.search(s)
        if unit_match:
            unit = int(unit_match.group(1))
        elif unit_room:
            unit = int(unit_room.group(1))
        floor_match = _FLOOR.search(s[unit_match.end() :] if unit_match else s)
        if floor_match:
            floor = int(floor_match.group(1))
            door = int(floor_match.group(2)) if floor_match.group(2) else None
        else:
            room_match = _ROOM_AFTER_UNIT.search(s) or _ROOM.search(s)
            if room_match:
                floor, door = _room(int(room_match.group(1)))
            elif unit_room:
                floor, door = _room(int(unit_room.group(2)))
            else:
                tail = _ROOM_AFTER_BUILDING.search(s)
                if tail:
                    floor, door = _room(int(tail.group(1)))
    return Place(
        building,
        unit if unit is not None and 1 <= unit <= MAX_UNIT else None,
        floor if floor is not None and 1 <= floor <= MAX_FLOOR else None,
        door if door is not None and door >= 1 else None,
    )


PLACE_COLUMNS = ("address_building", "unit", "floor", "door")


def parse_addresses(addresses: pd.Series) -> pd.DataFrame:
    """``parse_address`` of every address: address_building (object), unit, floor, door (Int64),
    on the index of ``addresses``; each distinct address is parsed once."""
    factor, uniques = pd.factorize(addresses.astype(object).where(addresses.notna(), ""))
    places = [parse_address(u) for u in uniques]
    out = pd.DataFrame(index=addresses.index)
    building = np.array([p.building for p in places], dtype=object)
    out["address_building"] = pd.Series(
        building[factor] if len(places) else np.zeros(0, dtype=object),
        index=addresses.index,
        dtype=object,
    )
    for name in ("unit", "floor", "door"):
        values = np.array([getattr(p, name) or 0 for p in places], dtype=np.int64)
        column = values[factor] if len(places) else np.zeros(0, dtype=np.int64)
        out[name] = pd.Series(column, index=addresses.index, dtype="Int64").mask(column == 0)
    return out


def room_text(floor: object, door: object) -> str | None:
    """The room as an address writes it: floor 5, door 1 -> ``501``; None when either is unknown."""
    if floor is None or door is None or pd.isna(floor) or pd.isna(door):
        return None
    return f"{int(floor)}{int(door):02d}"
