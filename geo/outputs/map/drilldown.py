"""The rainbow map's drill-down (street -> community -> grid): choices, households in view, tables.

Pure shaping for ``pages/map.py``: which rows of the per-household frame (``geo.care.status``)
the map holds and shows for a choice, the legend counts at level of detail, and the tables
under the map (a grid's households, a community's grids, a street's communities).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo.care import status
from geo.config import Config
from geo.i18n import t
from geo.outputs import figures as fig
from geo.outputs.map.legend import legend_counts


@dataclass(frozen=True)
class Choice:
    """What the viewer chose: an area (''= all) and the household filters."""

    street: str = ""
    community: str = ""
    grid_id: str = ""
    categories: tuple[str, ...] = ()
    only_overdue: bool = False
    district: str = ""  # a city's store (issue 16): the street lies in this district

    @property
    def whole_area(self) -> bool:
        """No community and no grid chosen (a street or everything)."""
        return self.community == "" and self.grid_id == ""

    @property
    def filtered(self) -> bool:
        """A household filter (categories or overdue only) is on."""
        return bool(self.categories) or self.only_overdue


def grid_layer(polygons: gpd.GeoDataFrame, figures: pd.DataFrame) -> gpd.GeoDataFrame:
    """Grid polygons with their figures (``grid_table`` rows); street and community as text."""
    geometry = polygons.geometry.name
    grids = gpd.GeoDataFrame(
        polygons[["grid_id", geometry]].merge(figures, on="grid_id", how="left"),
        geometry=geometry,
        crs=polygons.crs,
    )
    for column in ("street", "community"):
        grids[column] = grids[column].fillna("").astype(str)
    return grids


def streets_of(grids: pd.DataFrame) -> list[str]:
    """'' (all) and the streets of ``grids``, sorted."""
    return [""] + sorted(s for s in grids["street"].unique() if s)


def communities_of(grids: pd.DataFrame) -> list[str]:
    """'' (all) and the communities of ``grids``, sorted."""
    return [""] + sorted(c for c in grids["community"].dropna().astype(str).unique() if c)


def where(grids: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """The rows of ``grids`` whose ``column`` is ``value`` (all of them for '')."""
    return grids if value == "" else grids[grids[column] == value]


def places(grids: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """grid_id -> (street, community): a map click selects all three."""
    return {
        g: (s, c)
        for g, s, c in zip(grids["grid_id"], grids["street"], grids["community"], strict=True)
    }


def households_in_view(
    frame: pd.DataFrame, street_grids: Sequence[str], scope_grids: Sequence[str], choice: Choice
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(rows the map holds, rows of the chosen area, rows the filters leave) of ``frame``.

    The map holds its street's grids' households (and the unassigned ones when no street is
    chosen); the unassigned ones belong to the whole area only.
    """
    everywhere = choice.street == ""
    on_map = status.in_grids(frame, street_grids, unassigned=everywhere)
    households = status.in_grids(on_map, scope_grids, unassigned=everywhere and choice.whole_area)
    return on_map, households, status.shown(households, choice.categories, choice.only_overdue)


def legend_from_grids(
    scope: pd.DataFrame, loose: pd.DataFrame, totals: Mapping[str, int], config: Config
) -> dict[str, int]:
    """Legend counts at level of detail: the grids' own counts plus the ``loose`` (unassigned)
    households' rows; no "several" (the grid figures do not count it)."""
    extra = legend_counts(loose, config)

    def grid_sum(column: str) -> int:
        return int(scope[column].fillna(0).sum()) if column in scope else 0

    return {
        **{code: grid_sum(f"n_{code}") + extra.get(code, 0) for code in config.category_codes},
        "ordinary": totals["households"] - totals["visit_required"],
        "overdue": totals["visit_required"] - totals["visit_compliant"],
    }


def roles_table(by_role: Mapping[str, int], lang: str, config: Config) -> pd.DataFrame:
    """A grid's staff per role: role label, count."""
    return pd.DataFrame(
        {
            t("map_role", lang): [
                t(f"map_role_{r}", lang) if r in config.roles else r for r in by_role
            ],
            t("map_staff_count", lang): list(by_role.values()),
        }
    )


def category_labels(categories: pd.Series, lang: str, config: Config) -> pd.Series:
    """Stored ';'-joined codes as their labels ("ordinary" for none)."""
    labels = {c.code: c.label(lang) for c in config.categories}
    separator, ordinary = t("map_list_separator", lang), t("map_legend_ordinary", lang)
    return (
        categories.fillna("")
        .astype(str)
        .map(lambda s: separator.join(labels.get(c, c) for c in s.split(";") if c) or ordinary)
    )


def household_table(
    shown: pd.DataFrame, personal: pd.DataFrame, lang: str, config: Config
) -> pd.DataFrame:
    """A grid's households the filters leave, care first (overdue first), with their masked
    ``personal`` fields: id, building, categories, last visit, next due, overdue, name, phone,
    ID number, address; every cell text ('' for none)."""
    table = fig.care_first(shown).merge(personal, on="household_id", how="left")
    return pd.DataFrame(
        {
            t("map_household_id", lang): table["household_id"],
            t("map_building", lang): table["building"],
            t("map_categories", lang): category_labels(table["categories"], lang, config),
            t("map_last_visit", lang): table["last_visit"].astype("string").str.slice(0, 16),
            t("map_next_due", lang): table["next_due"],
            t("map_overdue_visit", lang): table["overdue"].map(
                {True: t("map_yes", lang), False: ""}
            ),
            t("map_col_head_name", lang): table["head_name"],
            t("map_col_phone", lang): table["phone"],
            t("map_col_id_number", lang): table["id_number"],
            t("map_col_address", lang): table["address"],
        }
    ).fillna("")


def _household_figures(shown: pd.DataFrame, key: pd.Series, by: str) -> pd.DataFrame:
    """Household counts and rates (``geo.figures.household_counts_by``) of ``shown`` per ``by``."""
    rows = shown.assign(**{by: key}) if by not in shown else shown
    return fig.household_counts_by(rows[rows[by].notna()], by).set_index(by)


def grid_summary(scope: pd.DataFrame, shown: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A community's grids: household figures of the households ``shown`` (they follow the
    filters), reports and staffing the grids' own; rates as percentages."""
    counted = _household_figures(shown, shown["grid_id"], "grid_id")
    ids = scope["grid_id"]
    return pd.DataFrame(
        {
            t("map_grid", lang): ids,
            t("map_col_name", lang): scope["name"],
            t("map_households", lang): ids.map(counted["households"]).fillna(0),
            t("map_fill_visit_rate", lang): ids.map(counted["visit_rate"]) * 100,
            t("map_fill_freshness_rate", lang): ids.map(counted["freshness_rate"]) * 100,
            t("map_fill_reports_overdue", lang): scope["reports_overdue"],
            t("map_fill_households_per_worker", lang): scope["households_per_worker"],
            t("map_party_branch", lang): scope["has_party_branch"].map(
                {True: t("map_yes", lang), False: t("map_no", lang)}
            ),
        }
    )


def community_overview(
    communities: pd.DataFrame, shown: pd.DataFrame | None, grids: pd.DataFrame, lang: str
) -> pd.DataFrame:
    """A street's communities (``community_table`` rows): household figures of the households
    ``shown`` (None: the communities' own, at level of detail), the rest the communities' own."""
    if shown is None:
        counted = communities.set_index("community")
    else:
        community_of = dict(zip(grids["grid_id"], grids["community"], strict=True))
        counted = _household_figures(shown, shown["grid_id"].map(community_of), "community")
    names = communities["community"]
    return pd.DataFrame(
        {
            t("map_community", lang): names,
            t("map_grids_count", lang): communities["grids"],
            t("map_households", lang): names.map(counted["households"]).fillna(0),
            t("map_fill_visit_rate", lang): names.map(counted["visit_rate"]) * 100,
            t("map_fill_freshness_rate", lang): names.map(counted["freshness_rate"]) * 100,
            t("map_fill_reports_overdue", lang): communities["reports_overdue"],
            t("map_fill_households_per_worker", lang): communities["households_per_worker"],
            t("map_grids_without_branch", lang): communities["grids_without_party_branch"],
        }
    )


def reports_in(reports: pd.DataFrame, grid_ids: Sequence[str], whole_area: bool) -> pd.DataFrame:
    """The report points in ``grid_ids`` (and the unassigned ones for the whole area)."""
    keep = reports["grid_id"].isin(list(grid_ids))
    if whole_area:
        keep = keep | reports["grid_id"].isna()
    return reports[keep]


# --- the levels above the street: city -> district -> street (issue 16) --------------------


def node_layer(
    outlines: gpd.GeoDataFrame, table: pd.DataFrame, level_label: str, not_given: str
) -> gpd.GeoDataFrame:
    """The children of a node drawn as the map draws grids: one row per child with its
    outline (``geo.hierarchy.outlines``) and its rolled-up figures (``geo.hierarchy.rollup``).

    ``grid_id`` is the child's name (a click on it names the child, as a grid's id does; its
    tooltip reads "<name> · <level_label>"), ``label`` its name on the map; a child with no
    name (grids that name none) is labelled ``not_given`` and cannot be clicked into.
    """
    by_node = table.set_index("node", drop=False) if len(table) else table
    figures = pd.DataFrame(
        [by_node.loc[node] for node in outlines["node"] if node in by_node.index]
    ).reset_index(drop=True)
    drawn = outlines[outlines["node"].isin(list(by_node.index))].reset_index(drop=True)
    layer = pd.DataFrame(
        {
            "grid_id": drawn["name"].to_numpy(object),
            "name": level_label,
            "label": [n or not_given for n in drawn["name"]],
            "community": "",
        }
    )
    columns = [c for c in figures.columns if c not in layer.columns and c != "node"]
    layer = pd.concat([layer, figures[columns]], axis=1)
    return gpd.GeoDataFrame(layer, geometry=drawn.geometry.values, crs=outlines.crs)


def node_overview(table: pd.DataFrame, level: str, lang: str, not_given: str) -> pd.DataFrame:
    """The children of a node (``roll_up`` rows) as the table under the map: name, grids,
    households, visit and freshness rates (percent), reports overdue, households per
    worker, grids without a party branch."""
    return pd.DataFrame(
        {
            t(f"map_{level}", lang): [node.name or not_given for node in table["node"]],
            t("map_grids_count", lang): table["grids"],
            t("map_households", lang): table["households"],
            t("map_fill_visit_rate", lang): table["visit_rate"] * 100,
            t("map_fill_freshness_rate", lang): table["freshness_rate"] * 100,
            t("map_fill_reports_overdue", lang): table["reports_overdue"],
            t("map_fill_households_per_worker", lang): table["households_per_worker"],
            t("map_grids_without_branch", lang): table["grids_without_party_branch"],
        }
    )
