"""The map page's tables at the building level: a grid's buildings with their key figures,
and the grid's households as a grid worker reads them (cared-for first, by building)."""

from __future__ import annotations

import pandas as pd

from geo.buildings.address import room_text
from geo.buildings.figures import building_figures, worker_order
from geo.buildings.names import natural_key
from geo.config import Config
from geo.i18n import t
from geo.outputs.map.drilldown import household_table


def grid_buildings(
    buildings: pd.DataFrame, households: pd.DataFrame, config: Config
) -> pd.DataFrame:
    """``geo.buildings.figures.building_figures`` of one grid's buildings, in the natural order
    of their names (2号楼 before 10号楼); ``households``: the linked status rows shown."""
    figures = building_figures(buildings, households, config)
    order = sorted(range(len(figures)), key=lambda i: natural_key(figures["name"].iloc[i]))
    return figures.iloc[order].reset_index(drop=True)


def building_table(figures: pd.DataFrame, lang: str, config: Config) -> pd.DataFrame:
    """The buildings' key figures as shown: name, party group, units x floors, households,
    cared for, need a visit today, and the households per category (counts only)."""

    def size(units: object, floors: object) -> str:
        known = [f"{int(v)}" if pd.notna(v) else "?" for v in (units, floors)]
        return "" if known == ["?", "?"] else "×".join(known)

    table = {
        t("bld_col_building", lang): figures["name"].astype(str),
        t("bld_col_party_group", lang): figures["has_party_group"].map(
            {True: t("map_yes", lang), False: t("map_no", lang)}
        ),
        t("bld_col_units_floors", lang): [
            size(u, f) for u, f in zip(figures["units"], figures["floors"], strict=True)
        ],
        t("map_households", lang): figures["households"],
        t("bld_col_cared_for", lang): figures["cared_for"],
        t("bld_col_visit_today", lang): figures["overdue"],
    }
    for category in config.categories:
        column = f"n_{category.code}"
        if column in figures.columns:
            table[category.label(lang)] = figures[column]
    return pd.DataFrame(table)


def households_by_building(
    shown: pd.DataFrame,
    personal: pd.DataFrame,
    names: pd.Series,
    lang: str,
    config: Config,
) -> pd.DataFrame:
    """A grid's households as ``drilldown.household_table`` shows them, in the order a grid
    worker reads (``worker_order``: cared-for first, red first, by building, unit, floor,
    door), with the building's name, the unit and the room in front.

    ``shown``: linked status rows (building_id, unit, floor, door); ``names``: building_id ->
    name."""
    ordered = shown.iloc[worker_order(shown, names, config)]
    # household_table sorts care first itself: its rows are put back in our order by id
    table = household_table(ordered, personal, lang, config)
    id_column = t("map_household_id", lang)
    position = pd.Index(table[id_column].astype(str)).get_indexer(
        ordered["household_id"].astype(str)
    )
    table = table.iloc[position].reset_index(drop=True)
    building = ordered["building_id"].map(names)
    fallback = ordered["building"].astype(object).where(ordered["building"].notna(), "")
    table[t("map_building", lang)] = building.where(building.notna(), fallback).to_numpy()
    unit = [f"{int(u)}" if pd.notna(u) else "" for u in ordered["unit"]]
    room = [room_text(f, d) or "" for f, d in zip(ordered["floor"], ordered["door"], strict=True)]
    table.insert(2, t("bld_col_unit", lang), unit)
    table.insert(3, t("bld_col_room", lang), room)
    return table
