"""Coverage: what the grids leave uncovered, which grids lack what, and the visit work list.

Areas are measured in a Lambert azimuthal equal-area projection centred on the data
(exact areas on the WGS-84 ellipsoid's authalic sphere, any latitude, any zone), never
in degrees. Per-grid and per-community figures come from ``geo.metrics.tables``; this module
only selects and reshapes them. Edits a clerk makes from the work list (a visit logged,
households re-verified) go through ``log_visit`` / ``mark_verified``: validated, written
in one transaction with an audit-log row, and seen by ``compute_metrics`` at once.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.access.audit import log_event
from geo.config import load_config
from geo.i18n import t
from geo.outputs.xlsx import write_sheet
from geo.store.base import Store, StoreBusy
from geo.store.schema import WGS84
from geo.timeutil import day_text, format_timestamp, now_local, parse_timestamp

VISIT_KINDS: dict[str, str] = {
    "入户": "入户",
    "电话": "电话",
    "视频": "视频",
    "home": "入户",
    "phone": "电话",
    "video": "视频",
}
"""Accepted spellings of a visit's kind -> the stored (zh) form."""

OVERLAP_MIN_M2 = 1.0  # grids that only share an edge meet in ~0 m²; below this it is noise


# --- areas -------------------------------------------------------------------------


def metric_crs(geometry: gpd.GeoSeries | gpd.GeoDataFrame) -> CRS:
    """An equal-area CRS (Lambert azimuthal, metres) centred on ``geometry``'s bounds."""
    minx, miny, maxx, maxy = geometry.to_crs(WGS84).total_bounds
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs"
    )


def _polygonal_union(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> shapely.Geometry:
    geoms = np.asarray(
        frame.geometry.values if isinstance(frame, gpd.GeoDataFrame) else frame.values
    )
    geoms = geoms[~shapely.is_missing(geoms)]
    if len(geoms) == 0:
        return shapely.Polygon()
    # make_valid may hand back lines/points next to the polygons: keep the areas only
    valid = shapely.make_valid(geoms)
    polygons = [
        part
        for geom in valid
        for part in shapely.get_parts(geom)
        if isinstance(part, shapely.Polygon | shapely.MultiPolygon)
    ]
    return shapely.union_all(polygons) if polygons else shapely.Polygon()


def _uncovered(boundary: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> tuple[CRS, Any, Any, Any]:
    """(metric CRS, boundary, grid union, uncovered part) in that CRS."""
    if boundary.crs is None or (len(grids) and grids.crs is None):
        raise ValueError("boundary and grids need a CRS (EPSG:4326 as the store holds them)")
    crs = metric_crs(boundary)
    outline = _polygonal_union(boundary.to_crs(crs))
    covered = _polygonal_union(grids.to_crs(crs)) if len(grids) else shapely.Polygon()
    return crs, outline, covered, outline.difference(covered)


def uncovered_area(boundary: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> dict[str, float | None]:
    """Area of the boundary (m²), the part of it in some grid, the part in none, that share.

    Keys: boundary_m2, covered_m2, uncovered_m2, uncovered_share (None for an empty
    boundary), outside_m2 (grid area lying outside the boundary). Computed in an
    equal-area projection; the grids' overlaps are counted once.
    """
    _, outline, covered, uncovered = _uncovered(boundary, grids)
    boundary_m2 = float(outline.area)
    uncovered_m2 = float(uncovered.area)
    return {
        "boundary_m2": boundary_m2,
        "covered_m2": boundary_m2 - uncovered_m2,
        "uncovered_m2": uncovered_m2,
        "uncovered_share": round(uncovered_m2 / boundary_m2, 6) if boundary_m2 > 0 else None,
        "outside_m2": float(covered.difference(outline).area),
    }


def uncovered_geometry(boundary: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The part of the boundary covered by no grid: one row (geometry, area_m2), EPSG:4326."""
    crs, _, _, uncovered = _uncovered(boundary, grids)
    frame = gpd.GeoDataFrame({"area_m2": [float(uncovered.area)]}, geometry=[uncovered], crs=crs)
    return frame.to_crs(WGS84)


def boundary_coverage(store: Store) -> dict[str, Any] | None:
    """``uncovered_area`` of the loaded jurisdiction boundary against the store's grids,
    plus ``geometry`` (``uncovered_geometry``); None when no boundary is loaded."""
    boundary = store.read("boundary")
    if boundary.empty:
        return None
    grids = store.read("grids", ["grid_id"])
    return {**uncovered_area(boundary, grids), "geometry": uncovered_geometry(boundary, grids)}


def grid_overlaps(grids: gpd.GeoDataFrame, min_m2: float = OVERLAP_MIN_M2) -> pd.DataFrame:
    """Pairs of grids whose polygons overlap: grid_a, grid_b, overlap_m2 (largest first)."""
    columns = {
        "grid_a": pd.Series(dtype=object),
        "grid_b": pd.Series(dtype=object),
        "overlap_m2": pd.Series(dtype=float),
    }
    if len(grids) < 2:
        return pd.DataFrame(columns)
    metric = grids.to_crs(metric_crs(grids))
    geoms = shapely.make_valid(np.asarray(metric.geometry.values))
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = areas >= min_m2
    ids = metric["grid_id"].to_numpy()
    out = pd.DataFrame(
        {"grid_a": ids[left[big]], "grid_b": ids[right[big]], "overlap_m2": areas[big]}
    )
    return out.sort_values("overlap_m2", ascending=False, ignore_index=True)


# --- gaps: which grids lack what ---------------------------------------------------


def staff_role_matrix(store: Store, by: str = "grid") -> pd.DataFrame:
    """一格多员: staff assignments per grid (index grid_id) or per community (index
    community, '' for grids without one), one column per configured role, counts."""
    if by not in ("grid", "community"):
        raise ValueError(f"by must be 'grid' or 'community', not {by!r}")
    roles = list(load_config().roles)
    grids = pd.DataFrame(store.read("grids", ["grid_id", "community"]))
    staff = store.read("staff", ["staff_id", "role", "grid_id"]).drop_duplicates(
        ["staff_id", "grid_id", "role"]
    )
    matrix = pd.crosstab(staff["grid_id"], staff["role"]) if len(staff) else pd.DataFrame()
    matrix = matrix.reindex(
        index=pd.Index(grids["grid_id"], name="grid_id"), columns=roles, fill_value=0
    )
    matrix = matrix.fillna(0).astype(int)
    if by == "grid":
        return matrix
    communities = grids["community"].fillna("").astype(str).to_numpy()
    return matrix.groupby(pd.Index(communities, name="community"), sort=True).sum()


def coverage_gaps(store: Store, as_of: dt.date) -> dict[str, pd.DataFrame]:
    """Gap lists for planners, each a frame of grids (or households) with the figures behind it.

    Keys: ``no_party_branch``, ``no_grid_worker`` (grid_id, name, community, households),
    ``overlaps`` (grid_a, grid_b, overlap_m2), ``unassigned`` (household_id, categories:
    households outside every grid), ``per_worker`` (grid_id, name, community, households,
    grid_workers, households_per_worker; most loaded first).
    """
    from geo.metrics.tables import grid_table

    table = grid_table(store, as_of)
    cols = [c for c in ("grid_id", "name", "community", "households") if c in table.columns]
    no_branch = table.loc[~table["has_party_branch"].astype(bool), cols].reset_index(drop=True)
    no_worker = table.loc[table["grid_workers"].fillna(0).astype(int) == 0, cols].reset_index(
        drop=True
    )
    per_worker = (
        table[[*cols, "grid_workers", "households_per_worker"]]
        .sort_values("households_per_worker", ascending=False, na_position="first")
        .reset_index(drop=True)
    )
    households = store.read(
        "households", ["household_id", "grid_id", "categories"], where={"grid_id": None}
    )
    unassigned = pd.DataFrame(households[["household_id", "categories"]]).reset_index(drop=True)
    return {
        "no_party_branch": no_branch,
        "no_grid_worker": no_worker,
        "overlaps": grid_overlaps(store.read("grids", ["grid_id"])),
        "unassigned": unassigned,
        "per_worker": per_worker,
    }


# --- the visit work list -----------------------------------------------------------

WORKLIST_COLUMNS = [
    "grid_id",
    "grid_name",
    "grid_workers",
    "household_id",
    "categories",
    "building",
    "address",
    "last_visit",
    "next_due",
    "days_overdue",
]


def grid_workers(store: Store) -> pd.DataFrame:
    """One row per grid that has grid workers: grid_id, grid_workers ("name (id)" joined by 、)."""
    staff = store.read(
        "staff", ["staff_id", "name", "role", "grid_id"], where={"role": "grid_worker"}
    )
    if staff.empty:
        return pd.DataFrame(
            {"grid_id": pd.Series(dtype=object), "grid_workers": pd.Series(dtype=object)}
        )
    names = staff["name"].fillna("").astype(str)
    label = np.where(
        names != "",
        names + "（" + staff["staff_id"].astype(str) + "）",
        staff["staff_id"].astype(str),
    )
    staff = staff.assign(label=label).sort_values(["grid_id", "staff_id"])
    joined = staff.groupby("grid_id", sort=True)["label"].agg("、".join)
    return joined.rename("grid_workers").reset_index()


def visit_worklist(store: Store, as_of: dt.date, where: dict | None = None) -> pd.DataFrame:
    """Households whose next visit is due on or before ``as_of`` (due today or overdue).

    Columns: WORKLIST_COLUMNS; ``days_overdue`` = as_of - next_due in days (0 = due
    today). Sorted most overdue first, then by grid and household. ``where`` filters the
    households read (e.g. ``{"grid_id": [...]}`` for a viewer's scope).
    """
    from geo.care.rules import household_status

    return worklist_from_status(store, household_status(store, as_of, where=where), as_of)


def worklist_from_status(store: Store, status: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """``visit_worklist`` of households whose ``household_status`` as of ``as_of`` is at hand
    (a page that holds it already does not compute it twice)."""
    due_day = pd.to_datetime(status["next_due"], errors="coerce")
    as_of_ts = pd.Timestamp(as_of)
    required = status["required"].fillna(False).astype(bool)
    due = required & (
        due_day.notna() & (due_day <= as_of_ts) | status["overdue"].fillna(False).astype(bool)
    )
    rows = status.loc[due].copy()
    rows["days_overdue"] = ((as_of_ts - due_day[due]).dt.days).clip(lower=0).fillna(0).astype(int)
    grids = store.read("grids", ["grid_id", "name"]).rename(columns={"name": "grid_name"})
    rows = rows.merge(pd.DataFrame(grids), on="grid_id", how="left").merge(
        grid_workers(store), on="grid_id", how="left"
    )
    for col in WORKLIST_COLUMNS:
        if col not in rows.columns:
            rows[col] = None
    rows = rows[WORKLIST_COLUMNS]
    return rows.sort_values(
        ["days_overdue", "grid_id", "household_id"],
        ascending=[False, True, True],
        ignore_index=True,
    )


def worklist_xlsx(worklist: pd.DataFrame, lang: str = "zh-CN") -> bytes:
    """The work list as an XLSX file (one sheet, translated headers, frozen header row)."""
    frame = worklist.copy()
    if "categories" in frame.columns:
        config = load_config()
        labels = {c.code: c.label(lang) for c in config.categories}
        frame["categories"] = frame["categories"].map(
            lambda v: (
                "、".join(labels.get(c, c) for c in str(v).split(";"))
                if isinstance(v, str) and v
                else ""
            )
        )
    frame = frame.rename(
        columns={c: t(f"worklist_col_{c}", lang) for c in frame.columns if c in WORKLIST_COLUMNS}
    )
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        ws = write_sheet(writer, frame, t("worklist_sheet", lang))
        ws.freeze_panes = "A2"
        for i, col in enumerate(frame.columns, start=1):
            width = max(
                [len(str(col)) * 2, *(len(str(v)) for v in frame[col].head(200))], default=8
            )
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(
                max(width + 2, 8), 60
            )
    return buffer.getvalue()


# --- edits from the work list ------------------------------------------------------


class EditRefused(ValueError):
    """An edit refused before anything was written; ``message(lang)`` says why, for a clerk."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(t(key, "zh-CN", **values))

    def message(self, lang: str = "zh-CN") -> str:
        """The reason in ``lang``."""
        return t(self.key, lang, **self.values)


@contextmanager
def _writing(store: Store) -> Iterator[Any]:
    """``store.transaction()``; a store busy past the wait (an import's final copy) is an
    ``EditRefused`` saying so, and nothing is written: the form keeps what was typed."""
    try:
        with store.transaction() as tx:
            yield tx
    except StoreBusy as busy:
        raise EditRefused("busy_wait", seconds=f"{busy.wait:g}") from None


def _known_households(store: Store, household_ids: Iterable[str]) -> set[str]:
    ids = list(dict.fromkeys(str(h) for h in household_ids))
    found = store.read("households", ["household_id"], where={"household_id": ids})
    return set(found["household_id"].astype(str))


def _parse_when(value: object) -> dt.datetime:
    try:
        stamp = parse_timestamp(value)
    except ValueError:
        raise EditRefused("edit_bad_time", value=value) from None
    if stamp is None:
        raise EditRefused("edit_missing_time")
    return stamp


def log_visit(
    store: Store,
    household_id: str,
    visited_at: object,
    kind: str,
    staff_id: str | None,
    note: str | None,
    actor: str,
) -> str:
    """Record one visit (kind 入户/电话/视频) and return its new visit_id.

    Refused with ``EditRefused`` (nothing written) when the household or the staff
    member is unknown, the time is unreadable or later than now, or the kind is not one
    of the three. A date without a time is stored as that day's midnight.
    """
    stamp = _parse_when(visited_at)
    if stamp > now_local():
        raise EditRefused("edit_future", when=format_timestamp(stamp))
    stored_kind = VISIT_KINDS.get(str(kind).strip().lower() if kind is not None else "")
    if stored_kind is None:
        raise EditRefused(
            "edit_bad_kind", kind=kind, kinds="、".join(dict.fromkeys(VISIT_KINDS.values()))
        )
    household_id = str(household_id).strip()
    if not _known_households(store, [household_id]):
        raise EditRefused("edit_unknown_household", ids=household_id)
    staff_id = (str(staff_id).strip() or None) if staff_id is not None else None
    if (
        staff_id is not None
        and store.read("staff", ["staff_id"], where={"staff_id": staff_id}).empty
    ):
        raise EditRefused("edit_unknown_staff", staff_id=staff_id)
    visit_id = f"V{stamp:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    visit = pd.DataFrame(
        [
            {
                "visit_id": visit_id,
                "household_id": household_id,
                "visited_at": format_timestamp(stamp),
                "staff_id": staff_id,
                "kind": stored_kind,
                "note": (note or None),
            }
        ]
    )
    with _writing(store) as tx:
        tx.append("visits", visit)
        log_event(
            store,
            actor,
            "log_visit",
            f"{stored_kind} {format_timestamp(stamp)}",
            [household_id],
            tx=tx,
        )
    return visit_id


def mark_verified(
    store: Store, household_ids: Iterable[str], day: object, actor: str, source: str = "web"
) -> int:
    """Set ``last_verified`` of the households to ``day`` and add it to their history; returns households updated.

    Refused with ``EditRefused`` (nothing written) when any household is unknown, the
    list is empty, or the day is unreadable or after today.
    """
    ids = list(dict.fromkeys(str(h).strip() for h in household_ids))
    if not ids:
        raise EditRefused("edit_no_households")
    when = _parse_when(day).date()
    if when > now_local().date():
        raise EditRefused("edit_future", when=day_text(when))
    unknown = [h for h in ids if h not in _known_households(store, ids)]
    if unknown:
        shown = "、".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")
        raise EditRefused("edit_unknown_household", ids=shown)
    with _writing(store) as tx:
        changed = tx.update("households", {"household_id": ids}, {"last_verified": day_text(when)})
        # the history keeps every verification: freshness as of a past day reads it
        tx.upsert(
            "verifications",
            pd.DataFrame(
                {
                    "household_id": ids,
                    "verified_on": day_text(when),
                    "actor": actor,
                    "source": source,
                }
            ),
        )
        log_event(store, actor, "mark_verified", day_text(when), ids, tx=tx)
    return changed
