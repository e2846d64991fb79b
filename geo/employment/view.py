"""The new-employment page's shaping: key figures, the tables by firm and by outlet, the gap
lists, the observers' reports on the map, each as text ready to show in the viewer's language.

For aggregate-only viewers (planner, meeting) counts of 1 or 2 read "<3", rates over fewer
than 3 workers "n<3", and no gap list row (no worker) is ever shaped.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geo.access.privacy import suppress_small
from geo.employment.gaps import GAPS, OUTLET_GAPS, gap_counts, gap_list, mask_workers
from geo.employment.metrics import EmploymentStatus, count_section
from geo.employment.status import stored_text
from geo.employment.tables import firm_table, outlet_table
from geo.employment.values import SECTOR
from geo.i18n import t
from geo.outputs.figures import count_text, rate_text

KEY_FIGURES = (
    "firms",
    "outlets",
    "workers",
    "party_members_returned",
    "insured_rate",
    "observers_registered",
)
"""The seed's headline shape: firms, outlets, workers, members brought back, insured, observers."""

_TEXT_COLUMNS = {
    "firm_id",
    "outlet_id",
    "worker_id",
    "name",
    "firm",
    "outlet",
    "grid_id",
    "party_org",
    "address",
    "nearest_station",
    "phone",
    "id_number",
    "insured_on",
}
# column -> catalogue key of its header (the section's figures keep their own keys)
_HEADERS = {
    "firm_id": "emp_col_firm_id",
    "outlet_id": "emp_col_outlet_id",
    "worker_id": "emp_col_worker_id",
    "name": "emp_col_name",
    "sector": "emp_col_sector",
    "party_org": "emp_col_party_org",
    "firm": "emp_col_firm",
    "outlet": "emp_col_outlet",
    "grid_id": "emp_col_grid_id",
    "address": "emp_col_address",
    "nearest_station": "emp_col_nearest_station",
    "nearest_station_m": "emp_col_nearest_station_m",
    "near": "emp_col_near",
    "phone": "emp_col_phone",
    "id_number": "emp_col_id_number",
    "insured_on": "emp_col_insured_on",
    "party": "emp_col_party",
}


def header(column: str, lang: str) -> str:
    """A table column's header in ``lang``."""
    return t(_HEADERS.get(column, f"emp_{column}"), lang)


def key_figures(status: EmploymentStatus, aggregate: bool, lang: str) -> list[tuple[str, str]]:
    """(label, value text) of the six headline figures."""
    section = count_section(status)
    out = []
    for key in KEY_FIGURES:
        if key == "insured_rate":
            base = section["workers"] if aggregate else None
            out.append((t("emp_insured_rate", lang), rate_text(section[key], base)))
        else:
            value = suppress_small(section[key]) if aggregate else section[key]
            out.append((t(f"emp_{key}", lang), count_text(value)))
    return out


def _shown(
    frame: pd.DataFrame, aggregate: bool, lang: str, headers: dict[str, str]
) -> pd.DataFrame:
    """Cells as text (one dtype per column for Arrow), small counts suppressed when
    ``aggregate``, headers in ``lang``."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if column in _TEXT_COLUMNS:
            text = values.astype(object).where(values.notna(), "").astype(str)
        elif column == "sector":
            text = stored_text(values).map(
                lambda v: t(f"emp_sector_{v}", lang) if v in SECTOR.names else v
            )
        elif column == "party":
            text = stored_text(values).map(lambda v: t(f"emp_party_{v}", lang) if v else "")
        elif column == "near":
            text = values.map(lambda v: t("emp_yes" if bool(v) else "emp_no", lang))
        elif column == "insured_rate":
            bases = frame["workers"] if aggregate else pd.Series([None] * len(frame))
            text = pd.Series(
                [rate_text(r, b) for r, b in zip(values, bases, strict=True)], dtype=object
            )
        elif column == "nearest_station_m":
            text = values.map(lambda v: count_text(v) if v == v else "—")
        else:
            text = values.map(lambda v: count_text(suppress_small(int(v)) if aggregate else v))
        out[headers.get(column, header(column, lang))] = text.to_numpy(object)
    return pd.DataFrame(out)


def firm_rows(status: EmploymentStatus, aggregate: bool, lang: str) -> pd.DataFrame:
    """The table by firm, as shown."""
    return _shown(firm_table(status), aggregate, lang, {})


def aggregate_rows(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A table of counts (e.g. the weekly pack's by firm) as a wide audience sees it."""
    return _shown(table, True, lang, {})


def outlet_rows(status: EmploymentStatus, aggregate: bool, lang: str) -> pd.DataFrame:
    """The table by outlet, as shown (outlets are firms' premises: no worker in it)."""
    return _shown(outlet_table(status), aggregate, lang, {})


def gap_figures(status: EmploymentStatus, aggregate: bool) -> dict[str, object]:
    """How many rows each gap list holds (``"<3"`` for 1 or 2 when ``aggregate``)."""
    counts = gap_counts(status.outlets, status.workers)
    return {g: suppress_small(n) if aggregate else n for g, n in counts.items()}


def gap_rows(gap: str, status: EmploymentStatus, lang: str) -> pd.DataFrame:
    """One gap list as shown to a viewer who may see rows: worker names, phones masked."""
    if gap not in GAPS:
        raise ValueError(f"unknown gap list {gap!r}")
    rows = gap_list(gap, status.outlets, status.workers, status.firms)
    if gap in OUTLET_GAPS:
        return _shown(rows, False, lang, {})
    return _shown(mask_workers(rows), False, lang, {"name": t("emp_col_worker_name", lang)})


def observer_report_points(points: pd.DataFrame, status: EmploymentStatus) -> pd.DataFrame:
    """The report points (``ui.data.report_points`` rows) that the section counts as
    ``observer_reports_30d``: the map's observer overlay."""
    if len(points) == 0 or len(status.observer_reports) == 0:
        return points.iloc[:0]
    ids = set(stored_text(status.observer_reports["report_id"]))
    return points[stored_text(points["report_id"]).isin(ids).to_numpy(bool)].reset_index(drop=True)


def map_focus(grids: gpd.GeoDataFrame, status: EmploymentStatus) -> gpd.GeoDataFrame:
    """What the map zooms to: the grids, their outlets and their open stations (an outlet out
    in a logistics park, beyond every station's reach, is the one an officer looks for)."""
    frames = (status.outlets, status.stations)
    points = [f.geometry for f in frames if len(f) and "geometry" in f.columns]
    shapes = [*grids.geometry.values] + [
        g for series in points for g in series.values if g is not None
    ]
    if not shapes:
        return grids
    return gpd.GeoDataFrame(
        geometry=[shapely.box(*shapely.total_bounds(shapes))], crs=grids.crs or "EPSG:4326"
    )
