"""What the coverage page shows: its map layer, the table of grids or communities (with the
cells that call for attention in red), and the visit work list as a reader sees it."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from pandas.io.formats.style import Styler

from geo.config import Config
from geo.i18n import t
from geo.outputs.figures import NONE, count_text, rate_text, ratio_text
from geo.outputs.weekly.figures import FRESHNESS_CONCERN, VISIT_RATE_CONCERN, figure_label

BAD_CELL = "color: #c62828; font-weight: 600"
REPORT_RATES = ("response_rate", "completion_rate", "satisfaction_rate", "followup_rate")


def is_number(value: object) -> bool:
    """A real number (suppressed counts are the text "<3"; missing rates are NaN)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value


def is_positive(value: object) -> bool:
    """More than none: a positive number, or a count suppressed as "<3" (1 or 2)."""
    return (is_number(value) and value > 0) or (isinstance(value, str) and value.startswith("<"))


def below(limit: float) -> Callable[[object], str]:
    """A cell style: red when the rate is below ``limit``."""
    return lambda v: BAD_CELL if is_number(v) and v < limit else ""  # type: ignore[operator]


def grid_labels(frame: pd.DataFrame) -> list[str]:
    """'grid_id name' of each row (the id alone when it has no name)."""
    names = (
        frame["name"].fillna("").astype(str)
        if "name" in frame.columns
        else pd.Series("", index=frame.index)
    )
    return [f"{g} {n}".strip() for g, n in zip(frame["grid_id"], names, strict=True)]


def listed(items: Sequence[str], lang: str, limit: int) -> str:
    """The first ``limit`` items joined, "and more" after them when there are more."""
    shown = t("map_list_separator", lang).join(items[:limit])
    return shown + (t("coverage_more", lang) if len(items) > limit else "")


def roles_text(counts: pd.Series, lang: str) -> str:
    """Staff per role as one line ('网格员 2、楼栋长 1'), roles without staff left out."""
    parts = [
        t("coverage_role_count", lang, role=t(f"map_role_{role}", lang), n=int(n))
        for role, n in counts.items()
        if n
    ]
    return t("map_list_separator", lang).join(parts)


def coverage_layer(
    polygons: gpd.GeoDataFrame,
    figures: pd.DataFrame,
    level: str,
    communities: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The polygons the coverage map draws with their figures: grids, or ``communities``
    (grid polygons dissolved by community) keyed and labelled as a grid would be."""
    if level == "grid":
        shapes = polygons[["grid_id", polygons.geometry.name]]
        drawn = gpd.GeoDataFrame(
            shapes.merge(figures, on="grid_id", how="left"),
            geometry=polygons.geometry.name,
            crs=polygons.crs,
        )
    else:
        assert communities is not None
        drawn = gpd.GeoDataFrame(
            communities.merge(figures, on="community", how="left"),
            geometry=communities.geometry.name,
            crs=polygons.crs,
        )
        # the map labels and keys polygons by grid_id: here a community is the unit
        drawn["grid_id"] = drawn["community"].replace("", "–")
        drawn["name"] = ""
        drawn["community"] = ""
    for column in ("street", "community", "name"):
        if column in drawn.columns:
            drawn[column] = drawn[column].fillna("").astype(str)
    # suppressed counts ("<3" for aggregate-only viewers) draw no bubble
    drawn["households"] = pd.to_numeric(drawn["households"], errors="coerce")
    return drawn


@dataclass
class CoverageTable:
    """The coverage table and the names of its column groups (for formats and red cells)."""

    frame: pd.DataFrame
    level: str
    visit: list[str]
    fresh: str
    report_rates: list[str]
    overdue: str
    workers: str
    per_worker: str
    branch: str


def coverage_table(
    figures: pd.DataFrame, roles: pd.DataFrame, level: str, lang: str, codes: Sequence[str]
) -> CoverageTable:
    """One row per grid or community (``grid_table``/``community_table`` rows): branch or
    gap counts, workers, households, visit rates (overall and per category), freshness,
    report rates, overdue reports, staff; suppressed columns ("<3") wholly text."""
    yes, no = t("map_yes", lang), t("map_no", lang)
    columns: dict[str, object] = {}
    if level == "grid":
        columns[t("map_grid", lang)] = figures["grid_id"]
        columns[t("map_col_name", lang)] = figures["name"]
        columns[t("map_party_branch", lang)] = figures["has_party_branch"].map(
            {True: yes, False: no}
        )
    else:
        columns[t("map_community", lang)] = figures["community"].replace("", "–")
        columns[t("map_grids_count", lang)] = figures["grids"]
        columns[t("map_grids_without_branch", lang)] = figures["grids_without_party_branch"]
        columns[t("coverage_col_grids_no_worker", lang)] = figures["grids_without_worker"]
    workers = t("coverage_col_grid_workers", lang)
    per_worker = t("map_fill_households_per_worker", lang)
    columns[workers] = figures["grid_workers"]
    columns[t("map_households", lang)] = figures["households"]
    columns[per_worker] = figures["households_per_worker"]
    visit = [t("coverage_col_visit_overall", lang)]
    columns[visit[0]] = figures["visit_rate"]
    for code in codes:
        name = t("coverage_col_visit", lang, label=figure_label(f"visit_{code}", lang))
        visit.append(name)
        columns[name] = figures[f"visit_rate_{code}"]
    fresh = t("map_fill_freshness_rate", lang)
    columns[fresh] = figures["freshness_rate"]
    report_rates = [t(f"weekly_fig_{r}", lang) for r in REPORT_RATES]
    for key, name in zip(REPORT_RATES, report_rates, strict=True):
        columns[name] = figures[key]
    overdue = t("map_fill_reports_overdue", lang)
    columns[overdue] = figures["reports_overdue"]
    columns[t("coverage_col_staff_total", lang)] = figures["staff_total"]
    columns[t("coverage_col_staff", lang)] = [roles_text(row, lang) for _, row in roles.iterrows()]
    table = pd.DataFrame(columns).reset_index(drop=True)
    # counts suppressed for a wide audience ("<3") make a column text: all of it, for Arrow
    for name in table.columns:
        if table[name].map(lambda v: isinstance(v, str) and v.startswith("<")).any():
            table[name] = table[name].map(count_text)
    branch = t("map_party_branch", lang)
    return CoverageTable(
        table, level, visit, fresh, report_rates, overdue, workers, per_worker, branch
    )


def styled(table: CoverageTable, lang: str) -> Styler:
    """The table formatted as everywhere (geo.figures) with the cells needing attention red:
    visit and freshness rates below their concern levels, overdue reports, grids without a
    grid worker or a party branch."""
    no = t("map_no", lang)
    style = (
        table.frame.style.format(
            rate_text, subset=[*table.visit, table.fresh, *table.report_rates], na_rep=NONE
        )
        .format(ratio_text, subset=[table.per_worker], na_rep=NONE)
        .map(below(VISIT_RATE_CONCERN), subset=table.visit)
        .map(below(FRESHNESS_CONCERN), subset=[table.fresh])
        .map(lambda v: BAD_CELL if is_positive(v) else "", subset=[table.overdue])
        .map(lambda v: BAD_CELL if is_number(v) and v == 0 else "", subset=[table.workers])
    )
    if table.level == "grid":
        style = style.map(lambda v: BAD_CELL if v == no else "", subset=[table.branch])
    return style


def worklist_choices(due: pd.DataFrame, column: str) -> list[str]:
    """'' (all) and the values of ``column`` (grid_id, grid_workers) in the work list, sorted."""
    return ["", *sorted(due[column].dropna().astype(str).unique())]


def worklist_chosen(due: pd.DataFrame, grid_id: str, worker: str) -> pd.DataFrame:
    """The work list of a grid and a worker ('' = any), addresses still in (they place a
    household in its building: ``walks_buildings``)."""
    chosen = due
    if grid_id:
        chosen = chosen[chosen["grid_id"] == grid_id]
    if worker:
        chosen = chosen[chosen["grid_workers"] == worker]
    return chosen.reset_index(drop=True)


def without_address(chosen: pd.DataFrame) -> pd.DataFrame:
    """The work list as this page shows it: no names, phones, ID numbers or addresses (id,
    building, categories, dates)."""
    return chosen.drop(columns=["address"]).reset_index(drop=True)


def worklist_shown(due: pd.DataFrame, grid_id: str, worker: str) -> pd.DataFrame:
    """The work list of a grid and a worker ('' = any), without addresses."""
    return without_address(worklist_chosen(due, grid_id, worker))


def walks_buildings(role: str, grid_id: str, worker: str) -> bool:
    """Whether the work list shown is one grid worker's round, ordered as they walk it
    (building by building, ``geo.buildings.figures.walk_order``): a grid worker's own, or
    the list of one grid or one worker chosen. A whole list (a leader's) stays most overdue
    first."""
    return role == "grid_worker" or bool(grid_id) or bool(worker)


def worklist_view(shown: pd.DataFrame, lang: str, config: Config) -> pd.DataFrame:
    """The work list as read: category labels, last visit to the minute (or "never"), "no
    worker" for none, headers in ``lang``."""
    labels = {c.code: figure_label(f"visit_{c.code}", lang) for c in config.categories}
    separator = t("map_list_separator", lang)
    return shown.assign(
        categories=shown["categories"]
        .fillna("")
        .map(lambda s: separator.join(labels.get(c, c) for c in str(s).split(";") if c)),
        last_visit=shown["last_visit"]
        .astype("string")
        .str.slice(0, 16)
        .fillna(t("map_never_visited", lang)),
        grid_workers=shown["grid_workers"].fillna(t("coverage_no_worker", lang)),
    ).rename(columns={c: t(f"worklist_col_{c}", lang) for c in shown.columns})


def no_households(columns: Sequence[str]) -> pd.DataFrame:
    """An empty household frame: the coverage map draws grids only, no point."""
    return pd.DataFrame(columns=list(columns))
