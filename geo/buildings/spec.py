"""The ``buildings`` kind of the data contract (section 4), and the household columns it adds.

| kind | required | optional |
|---|---|---|
| buildings (point or polygon) | ``building_id`` 楼栋编号, ``grid_id`` 网格编号, ``name`` 楼栋名称, geometry (a vector file's point or footprint polygon; a table's ``lon`` 经度 / ``lat`` 纬度) | ``party_group`` 党小组 (name; empty = none), ``units`` 单元数, ``floors`` 层数 |

Households gain two optional columns, ``unit`` 单元 and ``floor`` 楼层: when given they say
where the household lives in its building; when empty, the address says it
(``geo.buildings.address``).
"""

from __future__ import annotations

KIND = "buildings"

# canonical column -> accepted header spellings besides the canonical name
ALIASES: dict[str, tuple[str, ...]] = {
    "building_id": ("楼栋编号", "楼栋id", "楼栋代码", "楼编号"),
    "grid_id": ("网格编号", "所属网格", "网格id"),
    "name": ("楼栋名称", "楼栋", "楼号", "名称"),
    "lon": ("经度", "longitude", "lng"),
    "lat": ("纬度", "latitude"),
    "party_group": ("党小组", "楼栋党小组", "单元党小组", "党小组名称"),
    "units": ("单元数", "单元数量"),
    "floors": ("层数", "楼层数", "总层数"),
}
REQUIRED: tuple[str, ...] = ("building_id", "grid_id", "name", "lon", "lat")
"""lon/lat are required of tables only: a vector file's geometry is the building's place."""
KEY: tuple[str, ...] = ("building_id",)

HOUSEHOLD_ALIASES: dict[str, tuple[str, ...]] = {
    "unit": ("单元", "单元号"),
    "floor": ("楼层", "所在楼层", "层"),
}
"""Optional household columns (added to the households kind)."""

MAX_UNITS = 30
MAX_FLOORS = 150
MAX_DOORS = 99
"""A room number is floor * 100 + door: at most 99 doors on a floor."""
MAX_NAME_CHARS = 50
MAX_PARTY_GROUP_CHARS = 100
"""Names are drawn on the map and printed in tables: a longer cell is refused, not cut."""

STORED_COLUMNS: tuple[str, ...] = (
    "building_id",
    "grid_id",
    "name",
    "party_group",
    "units",
    "floors",
    "lon",
    "lat",
)
"""What a prepared buildings frame holds besides its geometry (point or footprint polygon);
lon/lat is the building's anchor: the point itself, or a point inside the footprint."""
