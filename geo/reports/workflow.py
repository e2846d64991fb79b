"""Citizen reports: intake, the duplicate guard and the respond -> resolve -> follow-up workflow.

Every step is one transaction that writes the report's timestamp, a ``report_steps``
history row (who, when) and nothing else; a refused step writes nothing. Steps go
forward one at a time: a report is responded to, then resolved, then followed up with
a satisfaction answer (一事一回访).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.config import load_config
from geo.i18n import Msg, process_language, t
from geo.inputs.assign import assign_to_grids
from geo.inputs.coords import bd09_to_wgs84, gcj02_to_wgs84
from geo.store.base import Store
from geo.timeutil import format_timestamp, now_local

STEPS = ("reported", "responded", "resolved", "followed_up")
STEP_COLUMNS = {
    "reported": "reported_at",
    "responded": "responded_at",
    "resolved": "resolved_at",
    "followed_up": "followed_up_at",
}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
EARTH_RADIUS_M = 6_371_008.8


# values of a refusal that name a workflow step, shown by the step's name in the clerk's language
_STEP_VALUES = ("step", "expected", "previous")


class ReportError(ValueError):
    """A refused intake or workflow step: ``message(lang)`` says why for a clerk (catalogue
    keys ``rep_err_*``); ``str()`` is the same in English plain words, for logs and tests."""

    def __init__(self, text: str, key: str = "", **values: object) -> None:
        super().__init__(text)
        self.reasons: list[tuple[str, dict[str, object]]] = [(key, values)] if key else []

    @classmethod
    def of(cls, errors: list[ReportError]) -> ReportError:
        """One error holding every reason of ``errors`` (intake lists all problems at once)."""
        joined = cls("; ".join(str(e) for e in errors))
        joined.reasons = [reason for e in errors for reason in e.reasons]
        return joined

    def message(self, lang: str = "zh-CN") -> str:
        """Every reason in ``lang``, joined."""
        parts = []
        for key, values in self.reasons:
            shown = {
                name: t(f"rep_step_{value}", lang) if name in _STEP_VALUES else value
                for name, value in values.items()
            }
            parts.append(t(key, lang, **shown))
        return t("rep_err_separator", lang).join(parts) or str(self)


@dataclass(frozen=True)
class FiledReport:
    """What intake tells the person filing: where the report went and who is responsible."""

    report_id: str
    grid_id: str | None
    grid_workers: tuple[str, ...]
    grid_name: str = ""
    nearby: bool = False  # just outside the filer's grids: assigned to the nearest of them

    @property
    def unassigned(self) -> bool:
        """True when the location lies outside every grid."""
        return self.grid_id is None


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def next_step(report: Mapping) -> str | None:
    """The step a report is waiting for (None once followed up)."""
    for step in STEPS[1:]:
        if _empty(report.get(STEP_COLUMNS[step])):
            return step
    return None


def check_step(
    report: Mapping, step: str, at: dt.datetime, satisfaction: str | None, now: dt.datetime
) -> None:
    """Raise ReportError unless ``step`` at ``at`` is the report's next step and in time order."""
    if step not in STEPS[1:]:
        raise ReportError(f"unknown step {step!r}", "rep_err_unknown_step", value=step)
    expected = next_step(report)
    if expected is None:
        raise ReportError(
            f"report {report['report_id']} is already followed up: nothing left to record",
            "rep_refused_done",
        )
    if step != expected:
        done = STEPS.index(step) < STEPS.index(expected)
        if done:
            raise ReportError(
                f"report {report['report_id']}: step '{step}' was already recorded; steps cannot go backwards",
                "rep_refused_back",
                step=step,
            )
        raise ReportError(
            f"report {report['report_id']}: cannot record '{step}' before '{expected}' (steps cannot be skipped)",
            "rep_refused_order",
            step=step,
            expected=expected,
        )
    if at > now:
        raise ReportError(
            f"{step}: time {format_timestamp(at)} is in the future",
            "rep_err_future",
            at=format_timestamp(at),
        )
    previous = STEPS[STEPS.index(step) - 1]
    previous_at = report.get(STEP_COLUMNS[previous])
    if not _empty(previous_at) and format_timestamp(at) < str(previous_at):
        raise ReportError(
            f"{step}: time {format_timestamp(at)} is before the '{previous}' step ({previous_at})",
            "rep_err_before_previous",
            at=format_timestamp(at),
            previous=previous,
            previous_at=str(previous_at),
        )
    if step == "followed_up" and satisfaction not in load_config().satisfaction:
        raise ReportError(
            "a follow-up visit needs the resident's answer: satisfied (满意) or unsatisfied (不满意)",
            "rep_refused_satisfaction",
        )


def record_step(
    store: Store,
    report_id: str,
    step: str,
    actor: str,
    at: dt.datetime | None = None,
    satisfaction: str | None = None,
    note: str | None = None,
) -> None:
    """Record ``step`` of a report (now unless ``at``), with its history row, in one transaction."""
    now = now_local()
    at = at or now
    column = STEP_COLUMNS.get(step)
    with store.transaction() as tx:
        found = tx.read("reports", where={"report_id": report_id})
        if found.empty:
            raise ReportError(f"no report {report_id!r}", "rep_err_no_report", id=report_id)
        report = found.drop(columns="geometry").iloc[0].to_dict()
        check_step(report, step, at, satisfaction, now)
        values: dict[str, object] = {column: format_timestamp(at)}
        if step == "followed_up":
            values["satisfaction"] = satisfaction
        # optimistic check: only if nobody recorded this step since we read the report
        changed = tx.update("reports", {"report_id": report_id, column: None}, values)
        if changed != 1:
            raise ReportError(
                f"report {report_id}: '{step}' was recorded by someone else meanwhile; reload",
                "rep_err_meanwhile",
                step=step,
            )
        tx.append("report_steps", _step_row(report_id, step, at, actor, note, now))


def _step_row(
    report_id: str, step: str, at: dt.datetime, actor: str, note: str | None, now: dt.datetime
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "report_id": report_id,
                "step": step,
                "at": format_timestamp(at),
                "actor": actor,
                "note": note,
                "recorded_at": format_timestamp(now),
            }
        ]
    )


def distances_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres from one point to many (haversine)."""
    phi1, phi2 = np.radians(lat), np.radians(np.asarray(lats, dtype=float))
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lons, dtype=float) - lon)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))


def find_duplicates(
    reports: pd.DataFrame,
    category: str,
    lon: float,
    lat: float,
    at: dt.datetime,
    radius_m: float | None = None,
    window_days: int | None = None,
) -> pd.DataFrame:
    """Open reports of the same category within ``radius_m`` reported in the ``window_days`` before ``at``.

    ``reports`` is a reports GeoDataFrame (EPSG:4326). Returned nearest first with a
    ``distance_m`` column; reports that are themselves duplicates are left out.
    """
    config = load_config()
    radius_m = config.duplicate_radius_m if radius_m is None else radius_m
    window_days = config.duplicate_window_days if window_days is None else window_days
    if reports.empty:
        return reports.assign(distance_m=pd.Series(dtype=float))
    since = format_timestamp(at - dt.timedelta(days=window_days))
    until = format_timestamp(at)
    candidates = reports[
        (reports["category"] == category)
        & reports["resolved_at"].isna()
        & reports["duplicate_of"].isna()
        & (reports["reported_at"] >= since)
        & (reports["reported_at"] <= until)
    ]
    if candidates.empty:
        return candidates.assign(distance_m=pd.Series(dtype=float))
    dist = distances_m(lon, lat, candidates.geometry.x.to_numpy(), candidates.geometry.y.to_numpy())
    near = candidates.assign(distance_m=dist.round(1))
    return near[near["distance_m"] <= radius_m].sort_values("distance_m")


def photo_mime(data: bytes) -> str:
    """The image type of ``data`` from its first bytes; ReportError if not an accepted image."""
    if len(data) > MAX_PHOTO_BYTES:
        size, limit = f"{len(data) / 1e6:.1f}", MAX_PHOTO_BYTES // (1024 * 1024)
        raise ReportError(
            f"photo too large: {size} MB (at most {limit} MB)",
            "rep_err_photo_size",
            size=size,
            limit=limit,
        )
    for signature, mime in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ReportError(
        "photo: only JPEG, PNG, GIF or WebP images are accepted", "rep_err_photo_type"
    )


class PhotoRefused(ReportError):
    """A photo refused at upload (too many pixels, unreadable): a catalogue message naming the file."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.msg = Msg(key, **values)
        super().__init__(key)

    def __str__(self) -> str:
        return self.msg.text(process_language())

    def message(self, lang: str) -> str:
        """The reason in ``lang``."""
        return self.msg.text(lang)


def check_photo(data: bytes, name: str | None = None) -> str:
    """The image type of an uploaded photo, checked: bytes, kind, and width x height.

    Pillow reads only the header here (``Image.open(...).size``): a photo of 30000 x 30000
    pixels in a small file is refused before anything decodes it. Raises ReportError
    (PhotoRefused for the pixel limit or an unreadable image, naming ``name``).
    """
    import warnings

    from PIL import Image

    mime = photo_mime(data)
    shown = name or "photo"
    limit = load_config().limits.max_photo_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as bomb:
        # over Pillow's own ceiling (far above ours); its message holds the pixel count
        pixels = re.search(r"\((\d+) pixels\)", str(bomb))
        size = f"{int(pixels.group(1)):,}" if pixels else f"> {2 * Image.MAX_IMAGE_PIXELS:,}"
        raise PhotoRefused(
            "rep_photo_too_many_pixels", name=shown, size=size, limit=f"{limit / 1e6:g}"
        ) from None
    except Exception:
        raise PhotoRefused("rep_photo_unreadable_upload", name=shown) from None
    if width * height > limit:
        size = f"{width} x {height}"
        raise PhotoRefused(
            "rep_photo_too_many_pixels", name=shown, size=size, limit=f"{limit / 1e6:g}"
        )
    return mime


def to_wgs84(lon: float, lat: float, coords: str) -> tuple[float, float]:
    """WGS-84 of a coordinate typed in ``coords`` (wgs84, gcj02 from Gaode/Tencent, bd09 from Baidu)."""
    if coords == "gcj02":
        x, y = gcj02_to_wgs84([lon], [lat])
        return float(x[0]), float(y[0])
    if coords == "bd09":
        x, y = bd09_to_wgs84([lon], [lat])
        return float(x[0]), float(y[0])
    return lon, lat


def file_report(
    store: Store,
    *,
    source: str,
    category: str,
    lon: float,
    lat: float,
    actor: str,
    description: str | None = None,
    reporter_id: str | None = None,
    reported_at: dt.datetime | None = None,
    photo: bytes | None = None,
    coords: str = "wgs84",
    duplicate_of: str | None = None,
    photo_name: str | None = None,
    within: Sequence[str] | None = None,
) -> FiledReport:
    """File a new report (validated; placed in its grid; history row) in one transaction.

    A location outside every grid but near the jurisdiction (``report_max_outside_m`` of
    its boundary, or of the grids when no boundary is loaded) is accepted and left
    unassigned; farther away it is refused. ``within``: the grids the filer looks after
    (a grid worker's or a community's; None = the whole street): the location must lie in
    one of them, or within ``report_reach_m`` of one (then it goes to the nearest), so the
    report never lands where its filer cannot see it. With ``duplicate_of`` the report is
    kept linked to that report and not counted twice in the rates.
    """
    config = load_config()
    now = now_local()
    reported_at = reported_at or now
    problems: list[ReportError] = []
    if source not in config.sources:
        problems.append(
            ReportError(
                f"source: unknown {source!r} (one of {', '.join(config.sources)})",
                "rep_err_source",
                value=source,
            )
        )
    if not category or not str(category).strip():
        problems.append(ReportError("category: required", "rep_err_category"))
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        problems.append(
            ReportError("location: longitude and latitude must be numbers", "rep_err_not_numbers")
        )
    else:
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            problems.append(
                ReportError(
                    f"location: ({lon}, {lat}) is out of range",
                    "rep_err_out_of_range",
                    lon=lon,
                    lat=lat,
                )
            )
    if reported_at > now:
        problems.append(
            ReportError(
                f"reported_at: {format_timestamp(reported_at)} is in the future",
                "rep_err_future",
                at=format_timestamp(reported_at),
            )
        )
    mime = None
    if photo:
        try:
            mime = check_photo(photo, photo_name)
        except PhotoRefused:
            raise  # its own message, naming the file
        except ReportError as exc:
            problems.append(exc)
    if problems:
        raise ReportError.of(problems)
    lon, lat = to_wgs84(lon, lat, coords)
    with store.transaction() as tx:
        if (
            duplicate_of
            and tx.read("reports", ["report_id"], where={"report_id": duplicate_of}).empty
        ):
            raise ReportError(
                f"duplicate_of: no report {duplicate_of!r}", "rep_err_no_report", id=duplicate_of
            )
        grids, grid_id, nearby = _place(tx, lon, lat, within)
        report_id = _new_report_id(tx, now)
        row = gpd.GeoDataFrame(
            [
                {
                    "report_id": report_id,
                    "source": source,
                    "category": str(category).strip(),
                    "description": description or None,
                    "reporter_id": reporter_id or None,
                    "reported_at": format_timestamp(reported_at),
                    "photo": mime and f"photos/{report_id}",
                    "grid_id": grid_id,
                    "duplicate_of": duplicate_of or None,
                }
            ],
            geometry=gpd.points_from_xy([lon], [lat]),
            crs="EPSG:4326",
        )
        tx.append("reports", row)
        tx.append("report_steps", _step_row(report_id, "reported", reported_at, actor, None, now))
        if photo:
            tx.append(
                "photos", pd.DataFrame([{"report_id": report_id, "mime": mime, "data": photo}])
            )
        workers = ()
        name = ""
        if grid_id is not None:
            staff = tx.read(
                "staff",
                ["staff_id", "name", "role"],
                where={"grid_id": grid_id, "role": "grid_worker"},
            )
            workers = tuple(f"{r.name} ({r.staff_id})" for r in staff.itertuples())
            names = grids.loc[grids["grid_id"] == grid_id, "name"].dropna().astype(str)
            name = names.iloc[0] if len(names) else ""
    return FiledReport(report_id, grid_id, workers, name, nearby)


METRES_PER_DEGREE_LAT = 110_574.0
METRES_PER_DEGREE_LON = 111_320.0  # at the equator; times cos(latitude)


def metres_to(lon: float, lat: float, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Distance in metres from a point to each of ``areas`` (EPSG:4326; 0 inside).

    Measured in a plane centred on the point (degrees scaled by the metres of a degree
    there): within a fraction of a percent at the few kilometres the limits are about, and
    no projection set up per report (a UTM transform took 70 ms).
    """
    scale_x = METRES_PER_DEGREE_LON * np.cos(np.radians(lat))

    def to_plane(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(xy[:, 0] - lon) * scale_x, (xy[:, 1] - lat) * METRES_PER_DEGREE_LAT]
        )

    geoms = np.asarray(areas.geometry.to_crs("EPSG:4326").values, dtype=object)
    return shapely.distance(shapely.transform(geoms, to_plane), shapely.Point(0, 0))


def place_for_filer(
    store: Store,
    lon: float,
    lat: float,
    *,
    coords: str = "wgs84",
    within: Sequence[str] | None = None,
) -> tuple[str | None, bool]:
    """Where ``file_report`` would put a report at (lon, lat) for a filer of ``within``:
    (grid id or None, True when just outside the filer's grids); writes nothing.

    Raises ReportError as the filing would: too far outside the jurisdiction, or outside
    the filer's grids. Lets a form check a location when it is chosen (a tap on a map).
    """
    lon, lat = to_wgs84(float(lon), float(lat), coords)
    _grids, grid_id, nearby = _place(store, lon, lat, within)
    return grid_id, nearby


def _place(
    reader: object, lon: float, lat: float, within: Sequence[str] | None
) -> tuple[gpd.GeoDataFrame, str | None, bool]:
    """(the grids, the grid a WGS-84 point goes to, nearby) read through ``reader`` (a store or
    a transaction); ReportError when it is outside the jurisdiction or the filer's grids."""
    grids = reader.read("grids", ["grid_id", "name"])
    grid_id = assign_to_grids([lon], [lat], grids)[0] if len(grids) else None
    outline = reader.read("boundary", ["boundary_id"])
    check_inside_jurisdiction(lon, lat, outline if len(outline) else grids)
    grid_id, nearby = _filer_grid(lon, lat, grid_id, grids, within)
    return grids, grid_id, nearby


def check_inside_jurisdiction(lon: float, lat: float, areas: gpd.GeoDataFrame) -> None:
    """Raise ReportError when (lon, lat) lies farther than ``report_max_outside_m`` from ``areas``
    (the jurisdiction boundary, else the grids); nothing to check against: accepted."""
    areas = areas[areas.geometry.notna() & ~areas.geometry.is_empty]
    if areas.empty:
        return
    limit = load_config().report_max_outside_m
    away = float(metres_to(lon, lat, areas).min())
    if away > limit:
        raise ReportError(
            f"location: ({lon:.6f}, {lat:.6f}) is {away / 1000:.1f} km outside the jurisdiction "
            f"(at most {limit:g} m)",
            "rep_err_far_away",
            km=f"{away / 1000:,.1f}",
            limit=f"{limit:,.0f}",
        )


def _filer_grid(
    lon: float,
    lat: float,
    grid_id: str | None,
    grids: gpd.GeoDataFrame,
    within: Sequence[str] | None,
) -> tuple[str | None, bool]:
    """(the grid the report goes to, True when it was just outside the filer's grids).

    Raises ReportError when a filer with limited grids points elsewhere.
    """
    if within is None or grid_id in set(within):
        return grid_id, False
    own = grids[grids["grid_id"].isin(list(within))]
    reach = load_config().report_reach_m
    if grid_id is None and len(own):
        distances = metres_to(lon, lat, own)
        if distances.min() <= reach:  # e.g. the road along a grid's edge
            return str(own["grid_id"].iloc[int(np.argmin(distances))]), True
    if grid_id is not None:  # which grid, and who answers for it, is not the filer's to see
        raise ReportError(
            f"location: in grid {grid_id}, not one of the filer's grids", "rep_err_other_grid"
        )
    raise ReportError(
        "location: outside the filer's grids",
        "rep_err_outside_own",
        reach=f"{reach:,.0f}",
    )


def _new_report_id(tx, now: dt.datetime) -> str:
    prefix = f"R{now:%Y%m%d}"
    existing = tx.read("reports", ["report_id"])["report_id"]
    taken = existing[existing.str.startswith(prefix, na=False)]
    number = len(taken) + 1
    while f"{prefix}{number:04d}" in set(taken):
        number += 1
    return f"{prefix}{number:04d}"


def report_history(store: Store, report_id: str) -> pd.DataFrame:
    """The timeline of one report (every step, who, when), in time order."""
    steps = store.read("report_steps", where={"report_id": report_id})
    order = {s: i for i, s in enumerate(STEPS)}
    return (
        steps.assign(_o=steps["step"].map(order))
        .sort_values(["at", "_o"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
