"""The weekly review pack: one projectable page (PDF) or one sheet per section (XLSX).

Every figure is taken from ``geo.metrics.contract.compute_metrics`` for the as-of day (and the
same day of earlier weeks), so the pack's numbers are exactly ``gridmap metrics``'s.
"Reports new/resolved in the week" are differences of those cumulative counts between
the as-of day and the day a week before. The pack holds no personal data: no names,
phones, IDs, household points or ids; counts of people, households and reports of 1
or 2 are shown as "<3", and a rate over fewer than 3 households or reports is not shown.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.access.privacy import SMALL_COUNT, suppress_small
from geo.config import load_config
from geo.i18n import t
from geo.outputs.figures import count_text, rate_text
from geo.outputs.xlsx import as_text
from geo.store.base import Store
from geo.timeutil import day_text

TREND_WEEKS = 8
TOP_GRIDS = 5

# The attention score, shown on the page: points per overdue report, per unit of
# visit-compliance and freshness shortfall, and for a grid with no worker / no branch.
SCORE_OVERDUE_REPORT = 2.0
SCORE_VISIT_SHORTFALL = 10.0
SCORE_STALE = 5.0
SCORE_NO_GRID_WORKER = 5.0
SCORE_NO_PARTY_BRANCH = 3.0
# a reason is listed when a grid falls below these
VISIT_RATE_CONCERN = 0.9
FRESHNESS_CONCERN = 0.8

FONT_ENV = "GRIDMAP_CJK_FONT"
# Noto Sans SC (SIL OFL 1.1), the common-use characters, shipped with gridmap: the PDF
# looks the same on every server (tools/build_cjk_font.py rebuilds the subset)
FONT_DIR = Path(__file__).resolve().parents[2] / "fonts"  # geo/fonts
SHIPPED_REGULAR = FONT_DIR / "NotoSansSC-Regular.ttf"
SHIPPED_BOLD = FONT_DIR / "NotoSansSC-Bold.ttf"

GOOD = (46, 125, 50)
BAD = (198, 40, 40)
NEUTRAL = (110, 110, 110)
INK = (33, 33, 33)
ACCENT = (183, 28, 28)  # the red of a street-office header


# --- figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One headline figure: a rate (fraction) or a count, with last week's value."""

    key: str
    kind: str  # "rate" | "count"
    value: float | int | None
    previous: float | int | None
    base: int | None  # the rate's denominator (households or reports)
    previous_base: int | None
    higher_is_better: bool | None = True  # None: neither direction is good news

    @property
    def change(self) -> float | int | None:
        """value - previous (None when either is missing)."""
        if self.value is None or self.previous is None:
            return None
        diff = self.value - self.previous
        return round(diff, 4) if self.kind == "rate" else diff

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for JSON and tests."""
        return {
            "key": self.key,
            "kind": self.kind,
            "value": self.value,
            "previous": self.previous,
            "change": self.change,
            "base": self.base,
            "previous_base": self.previous_base,
            "higher_is_better": self.higher_is_better,
        }


def _rate_figure(
    key: str, now: dict, before: dict | None, path: tuple[str, ...], base: tuple[str, ...]
) -> Figure:
    def get(m: dict | None, p: tuple[str, ...]) -> Any:
        if m is None:
            return None
        for part in p:
            m = m.get(part) if isinstance(m, dict) else None
        return m

    return Figure(key, "rate", get(now, path), get(before, path), get(now, base), get(before, base))


def headline(now: dict, before: dict | None, before2: dict | None) -> list[Figure]:
    """The headline figures from the metrics of the as-of day, a week and two weeks before."""
    codes = load_config().category_codes
    figures = [
        _rate_figure(
            "visit_overall",
            now,
            before,
            ("visits", "overall", "rate"),
            ("visits", "overall", "required"),
        )
    ]
    figures.append(
        _rate_figure("freshness", now, before, ("freshness", "rate"), ("households", "total"))
    )
    reports, prev = now["reports"], (before or {}).get("reports")
    prev2 = (before2 or {}).get("reports")

    def delta(a: dict | None, b: dict | None, key: str) -> int | None:
        if a is None:
            return None
        return int(a[key]) - (int(b[key]) if b is not None else 0)

    figures.append(
        Figure(
            "reports_new",
            "count",
            delta(reports, prev, "total"),
            delta(prev, prev2, "total"),
            None,
            None,
            higher_is_better=None,
        )
    )
    figures.append(
        Figure(
            "reports_resolved",
            "count",
            delta(reports, prev, "resolved"),
            delta(prev, prev2, "resolved"),
            None,
            None,
        )
    )
    figures.append(
        Figure(
            "reports_overdue",
            "count",
            reports["overdue"],
            prev["overdue"] if prev else None,
            None,
            None,
            higher_is_better=False,
        )
    )
    for rate, base in (
        ("response_rate", "total"),
        ("completion_rate", "total"),
        ("satisfaction_rate", "resolved"),
        ("followup_rate", "resolved"),
    ):
        figures.append(_rate_figure(rate, now, before, ("reports", rate), ("reports", base)))
    for code in codes:
        figures.append(
            _rate_figure(
                f"visit_{code}",
                now,
                before,
                ("visits", "by_category", code, "rate"),
                ("visits", "by_category", code, "required"),
            )
        )
    return figures


class _Snapshot:
    """A read-only view of a store for computing the metrics of several days at once.

    Each table is read once and the visit days of the whole span are fetched in one
    query and sliced per call: the same rows ``compute_metrics`` would read itself, in
    one pass instead of nine (a request outside the span goes to the store).
    """

    def __init__(self, store: Store, first_day: dt.date, last_day: dt.date) -> None:
        self._store = store
        self._span = (day_text(first_day), day_text(last_day))
        self._reads: dict[tuple, pd.DataFrame] = {}
        self._visit_days: pd.DataFrame | None = None

    def read(self, table: str, columns: Any = None, where: dict | None = None) -> pd.DataFrame:
        """As ``Store.read``, remembered (a copy each time: callers may modify it)."""
        key = (table, tuple(columns) if columns is not None else None, repr(where))
        if key not in self._reads:
            self._reads[key] = self._store.read(table, columns, where)
        return self._reads[key].copy()

    def visit_days(self, first_day: str, last_day: str) -> pd.DataFrame:
        """As ``Store.visit_days``, sliced from one query over the whole span."""
        low, high = self._span
        if first_day < low or last_day > high:
            return self._store.visit_days(first_day, last_day)
        if self._visit_days is None:
            self._visit_days = self._store.visit_days(low, high)
        days = self._visit_days
        inside = (days["day"] >= first_day) & (days["day"] <= last_day)
        return days[inside.to_numpy(bool)].reset_index(drop=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _week_ends(as_of: dt.date, weeks: int) -> list[dt.date]:
    return [as_of - dt.timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]


def weekly_figures(store: Store, as_of: dt.date) -> dict[str, Any]:
    """The pack's content for the week ending on ``as_of``.

    Keys: as_of, week_start, previous_as_of (ISO days); street; metrics (compute_metrics
    of as_of, unchanged); headline (list of ``Figure``); trend (DataFrame, one row per
    week end, oldest first: week_end, visit_rate, freshness_rate, reports_new,
    reports_resolved, reports_overdue, response_rate, completion_rate, satisfaction_rate,
    followup_rate); attention (DataFrame of the ``TOP_GRIDS`` grids with the highest
    score: rank, grid_id, name, community, score, the score's parts and reasons);
    grids (grid_table of as_of). Counts are raw here; suppression is for rendering.
    """
    from geo.metrics.contract import compute_metrics, grid_table

    # one extra week so that the oldest week of the trend has its "new reports" too
    days = _week_ends(as_of, TREND_WEEKS + 1)
    longest_rule = max(c.rule.days for c in load_config().categories)
    snapshot = _Snapshot(store, days[0] - dt.timedelta(days=longest_rule + 1), as_of)
    metrics = {d: compute_metrics(snapshot, d) for d in days}  # type: ignore[arg-type]
    now = metrics[as_of]
    before = metrics[days[-2]]
    before2 = metrics[days[-3]]
    rows = []
    for previous_day, day in zip(days[:-1], days[1:], strict=True):
        m, p = metrics[day], metrics[previous_day]
        rows.append(
            {
                "week_end": day_text(day),
                "visit_rate": m["visits"]["overall"]["rate"],
                "freshness_rate": m["freshness"]["rate"],
                "reports_new": m["reports"]["total"] - p["reports"]["total"],
                "reports_resolved": m["reports"]["resolved"] - p["reports"]["resolved"],
                "reports_overdue": m["reports"]["overdue"],
                "response_rate": m["reports"]["response_rate"],
                "completion_rate": m["reports"]["completion_rate"],
                "satisfaction_rate": m["reports"]["satisfaction_rate"],
                "followup_rate": m["reports"]["followup_rate"],
                "visit_required": m["visits"]["overall"]["required"],
                "households": m["households"]["total"],
            }
        )
    grids = grid_table(snapshot, as_of)  # type: ignore[arg-type]
    return {
        "as_of": day_text(as_of),
        "week_start": day_text(as_of - dt.timedelta(days=6)),
        "previous_as_of": day_text(as_of - dt.timedelta(days=7)),
        "street": street_name(snapshot),  # type: ignore[arg-type]
        "metrics": now,
        "headline": headline(now, before, before2),
        "trend": pd.DataFrame(rows),
        "attention": attention_grids(grids),
        "grids": grids,
    }


def street_name(store: Store) -> str:
    """The street the grids belong to (the most common ``street``), else the boundary's name."""
    streets = store.read("grids", ["street"])["street"].dropna().astype(str)
    streets = streets[streets.str.strip() != ""]
    if len(streets):
        return str(streets.value_counts().index[0])
    names = store.read("boundary", ["name"])["name"].dropna().astype(str)
    return str(names.iloc[0]) if len(names) else ""


def attention_grids(grids: pd.DataFrame, top: int = TOP_GRIDS) -> pd.DataFrame:
    """The ``top`` grids with the highest attention score (positive scores only), with why.

    score = 2 × overdue reports + 10 × (1 − visit compliance) + 5 × (1 − freshness)
    + 5 if no grid worker + 3 if no party branch. A missing rate (nobody to visit)
    adds nothing. Columns: rank, grid_id, name, community, score, overdue_points,
    visit_points, stale_points, no_worker_points, no_branch_points, reports_overdue,
    visit_rate, visit_required, freshness_rate, households, has_grid_worker,
    has_party_branch.
    """
    frame = pd.DataFrame(grids).copy()
    overdue = pd.to_numeric(frame.get("reports_overdue"), errors="coerce").fillna(0).astype(int)
    visit_rate = pd.to_numeric(frame.get("visit_rate"), errors="coerce")
    freshness = pd.to_numeric(frame.get("freshness_rate"), errors="coerce")
    workers = pd.to_numeric(frame.get("grid_workers"), errors="coerce").fillna(0)
    frame["reports_overdue"] = overdue
    frame["has_grid_worker"] = workers > 0
    frame["has_party_branch"] = frame["has_party_branch"].fillna(False).astype(bool)
    frame["overdue_points"] = SCORE_OVERDUE_REPORT * overdue
    frame["visit_points"] = (SCORE_VISIT_SHORTFALL * (1 - visit_rate)).fillna(0.0)
    frame["stale_points"] = (SCORE_STALE * (1 - freshness)).fillna(0.0)
    frame["no_worker_points"] = np.where(frame["has_grid_worker"], 0.0, SCORE_NO_GRID_WORKER)
    frame["no_branch_points"] = np.where(frame["has_party_branch"], 0.0, SCORE_NO_PARTY_BRANCH)
    parts = [
        "overdue_points",
        "visit_points",
        "stale_points",
        "no_worker_points",
        "no_branch_points",
    ]
    frame["score"] = frame[parts].sum(axis=1).round(1)
    frame["visit_rate"] = visit_rate
    frame["freshness_rate"] = freshness
    frame = (
        frame[frame["score"] > 0]
        .sort_values(["score", "grid_id"], ascending=[False, True])
        .head(top)
    )
    frame.insert(0, "rank", range(1, len(frame) + 1))
    columns = [
        "rank", "grid_id", "name", "community", "score", *parts, "reports_overdue", "visit_rate",
        "visit_required", "freshness_rate", "households", "has_grid_worker", "has_party_branch",
    ]  # fmt: skip
    for col in columns:
        if col not in frame.columns:
            frame[col] = None
    return frame[columns].reset_index(drop=True)


def attention_reasons(row: pd.Series | dict, lang: str = "zh-CN") -> list[str]:
    """Why a grid needs attention, in words (counts suppressed), biggest first."""
    reasons: list[tuple[float, str]] = []
    if row["reports_overdue"] and row["reports_overdue"] > 0:
        reasons.append(
            (
                row["overdue_points"],
                t("weekly_reason_overdue", lang, n=suppress_small(int(row["reports_overdue"]))),
            )
        )
    visit_rate = row["visit_rate"]
    if visit_rate is not None and visit_rate == visit_rate and visit_rate < VISIT_RATE_CONCERN:
        reasons.append(
            (
                row["visit_points"],
                t("weekly_reason_visits", lang, rate=rate_text(visit_rate, row["visit_required"])),
            )
        )
    freshness = row["freshness_rate"]
    if freshness is not None and freshness == freshness and freshness < FRESHNESS_CONCERN:
        reasons.append(
            (
                row["stale_points"],
                t("weekly_reason_stale", lang, rate=rate_text(freshness, row["households"])),
            )
        )
    if not row["has_grid_worker"]:
        reasons.append((SCORE_NO_GRID_WORKER, t("weekly_reason_no_worker", lang)))
    if not row["has_party_branch"]:
        reasons.append((SCORE_NO_PARTY_BRANCH, t("weekly_reason_no_branch", lang)))
    return [text for _, text in sorted(reasons, key=lambda r: -r[0])]


# --- formatting (suppression lives here) ----------------------------------------


def _small_base(base: object) -> bool:
    return base is not None and base == base and 0 < int(base) < SMALL_COUNT


def _count_text(count: object) -> str:
    """A count as the pack shows it (geo.outputs.figures.count_text), 1 and 2 as "<3"."""
    if count is None or count != count:
        return count_text(None)
    return count_text(suppress_small(int(count)))


def figure_texts(figure: Figure, lang: str = "zh-CN") -> tuple[str, str, tuple[int, int, int]]:
    """(value text, change text, change colour) of a headline figure, suppressed."""
    if figure.kind == "rate":
        value = rate_text(figure.value, figure.base)
        hidden = value.startswith("n<") or _small_base(figure.previous_base)
    else:
        value = _count_text(figure.value)
        hidden = value.startswith("<") or _count_text(figure.previous).startswith("<")
    change = figure.change
    if change is None or hidden or figure.value is None:
        return value, "", NEUTRAL
    if change == 0:
        return value, t("weekly_no_change", lang), NEUTRAL
    arrow = "▲" if change > 0 else "▼"
    if figure.higher_is_better is None:
        colour = NEUTRAL
    else:
        colour = GOOD if (change > 0) == figure.higher_is_better else BAD
    if figure.kind == "rate":
        text = t("weekly_change_points", lang, arrow=arrow, points=f"{abs(change) * 100:.1f}")
    else:
        text = f"{arrow}{abs(int(change))}"
    return value, text, colour


def figure_label(key: str, lang: str = "zh-CN") -> str:
    """The display name of a headline figure."""
    if key.startswith("visit_") and key != "visit_overall":
        import re

        cat = load_config().category(key.removeprefix("visit_"))
        return re.sub(r"\s*[(（].*?[)）]\s*", "", cat.label(lang))
    return t(f"weekly_fig_{key}", lang)


# --- fonts -------------------------------------------------------------------------


@dataclass(frozen=True)
class CjkFont:
    """A font file with Chinese glyphs: regular and bold (same file when no bold), face index."""

    regular: Path
    bold: Path
    index: int


class FontMissing(RuntimeError):
    """The font named by ``$GRIDMAP_CJK_FONT`` is not there."""


def cjk_font() -> CjkFont:
    """The CJK font to embed: ``$GRIDMAP_CJK_FONT`` (``path`` or ``path#face``) when set, else
    the Noto Sans SC shipped with gridmap; raises FontMissing when the override names no file."""
    override = os.environ.get(FONT_ENV)
    if override:
        path, _, face = override.partition("#")
        if not Path(path).is_file():
            raise FontMissing(f"{FONT_ENV}={override}: no such font file")
        return CjkFont(Path(path), Path(path), int(face or 0))
    return CjkFont(SHIPPED_REGULAR, SHIPPED_BOLD, 0)


@cache
def _matplotlib_family(font: CjkFont) -> str:
    """Register the font's regular and bold faces with matplotlib; their family name.

    With the bold face registered, a bold label finds it instead of printing
    ``findfont: Failed to find font weight bold`` on stderr.
    """
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    for path in dict.fromkeys((str(font.regular), str(font.bold))):
        font_manager.fontManager.addfont(path)
    return FT2Font(str(font.regular), face_index=font.index).family_name


# --- charts ------------------------------------------------------------------------


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=200)
    return buffer.getvalue()


def trend_png(trend: pd.DataFrame, lang: str, width_mm: float, height_mm: float) -> bytes:
    """The 8-week trend: rates as lines (top), new and overdue reports as bars (bottom)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure as MplFigure

    font = cjk_font()
    family = _matplotlib_family(font)
    with rc_context({"font.family": [family], "font.size": 7, "axes.unicode_minus": False}):
        fig = MplFigure(figsize=(width_mm / 25.4, height_mm / 25.4), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        x = np.arange(len(trend))
        labels = [pd.Timestamp(d).strftime("%m/%d") for d in trend["week_end"]]
        for col, colour, key in (
            ("visit_rate", "#c62828", "weekly_fig_visit_overall"),
            ("freshness_rate", "#1565c0", "weekly_fig_freshness"),
            ("completion_rate", "#2e7d32", "weekly_fig_completion_rate"),
        ):
            values = pd.to_numeric(trend[col], errors="coerce") * 100
            top.plot(
                x, values, marker="o", markersize=3, linewidth=1.6, color=colour, label=t(key, lang)
            )
        top.set_ylim(0, 105)
        top.set_ylabel("%")
        top.grid(axis="y", color="#dddddd", linewidth=0.6)
        top.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            fontsize=6.5,
            ncols=3,
            frameon=False,
            borderaxespad=0.2,
        )
        width = 0.38
        for offset, col, colour, key in (
            (-width / 2, "reports_new", "#90a4ae", "weekly_fig_reports_new"),
            (width / 2, "reports_overdue", "#ef6c00", "weekly_fig_reports_overdue"),
        ):
            counts = pd.to_numeric(trend[col], errors="coerce").fillna(0).astype(int).to_numpy()
            # a bar of 1 or 2 would show the small count: draw none and write "<3"
            small = (counts > 0) & (counts < SMALL_COUNT)
            shown = np.where(small, 0, counts)
            bars = bottom.bar(x + offset, shown, width, color=colour, label=t(key, lang))
            bottom.bar_label(
                bars, labels=[_count_text(c) if c else "" for c in counts], fontsize=6, padding=1
            )
        bottom.set_xticks(x, labels)
        # room above the tallest bar for its label; never a negative axis
        tallest = (
            max(
                int(pd.to_numeric(trend[c], errors="coerce").fillna(0).max())
                for c in ("reports_new", "reports_overdue")
            )
            if len(trend)
            else 0
        )
        bottom.set_ylim(0, max(tallest * 1.2, 5))
        bottom.grid(axis="y", color="#dddddd", linewidth=0.6)
        bottom.legend(
            loc="lower left",
            bbox_to_anchor=(0, 1.0),
            fontsize=6.5,
            ncols=2,
            frameon=False,
            borderaxespad=0.2,
        )
        for ax in (top, bottom):
            ax.spines[["top", "right"]].set_visible(False)
        return _png(fig)


def map_png(
    store: Store,
    grids: pd.DataFrame,
    attention: pd.DataFrame,
    lang: str,
    width_mm: float,
    height_mm: float,
) -> bytes:
    """Grid polygons filled by visit compliance (grey: nobody to visit), top grids numbered.

    No household points: only grid shapes and the boundary outline are drawn.
    """
    from matplotlib import colormaps, rc_context
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure as MplFigure

    font = cjk_font()
    family = _matplotlib_family(font)
    shapes = store.read("grids", ["grid_id"])
    rates = pd.DataFrame(grids)[["grid_id", "visit_rate"]]
    shapes = shapes.merge(rates, on="grid_id", how="left")
    metric = shapes.to_crs(shapes.estimate_utm_crs()) if len(shapes) else shapes
    if len(shapes):
        # as tall as the street's shape needs (plus the colour bar), at most height_mm
        minx, miny, maxx, maxy = metric.total_bounds
        aspect = (maxy - miny) / max(maxx - minx, 1.0)
        height_mm = float(np.clip(width_mm * aspect + 14, 30, height_mm))
    with rc_context({"font.family": [family], "font.size": 6.5}):
        fig = MplFigure(figsize=(width_mm / 25.4, height_mm / 25.4), layout="constrained")
        ax = fig.subplots()
        ax.set_axis_off()
        if len(shapes):
            cmap = colormaps["RdYlGn"]
            norm = Normalize(0, 1)
            values = pd.to_numeric(metric["visit_rate"], errors="coerce")
            colours = [cmap(norm(v)) if v == v else (0.85, 0.85, 0.85, 1) for v in values]
            metric.plot(ax=ax, color=colours, edgecolor="white", linewidth=0.4)
            boundary = store.read("boundary", ["boundary_id"])
            if len(boundary):
                boundary.to_crs(metric.crs).boundary.plot(ax=ax, color="#555555", linewidth=0.6)
                # a district outline may dwarf the street: keep the view on the grids
                minx, miny, maxx, maxy = metric.total_bounds
                pad = 0.04 * max(maxx - minx, maxy - miny)
                ax.set_xlim(minx - pad, maxx + pad)
                ax.set_ylim(miny - pad, maxy + pad)
            ranks = dict(zip(attention["grid_id"], attention["rank"], strict=False))
            points = metric.geometry.representative_point()
            for grid_id, point in zip(metric["grid_id"], points, strict=True):
                if grid_id in ranks:
                    ax.annotate(
                        str(ranks[grid_id]), (point.x, point.y), ha="center", va="center", fontsize=7, fontweight="bold",
                        color="white", bbox={"boxstyle": "circle,pad=0.2", "fc": "#212121", "ec": "none"},
                    )  # fmt: skip
            ax.set_aspect("equal")
            from matplotlib.cm import ScalarMappable

            bar = fig.colorbar(
                ScalarMappable(norm=norm, cmap=cmap),
                ax=ax,
                orientation="horizontal",
                fraction=0.05,
                pad=0.02,
            )
            bar.set_ticks([0, 0.5, 1], labels=["0%", "50%", "100%"])
            bar.set_label(t("weekly_fig_visit_overall", lang), fontsize=6.5)
            bar.outline.set_visible(False)
        else:
            ax.text(
                0.5,
                0.5,
                t("weekly_no_grids", lang),
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        return _png(fig)


# --- the PDF -----------------------------------------------------------------------


def _day_label(day: str, lang: str) -> str:
    d = dt.date.fromisoformat(day)
    return t("weekly_day", lang, month=d.month, day=d.day, mon=d.strftime("%b"))


def write_pdf(store: Store, figures: dict[str, Any], out_path: Path, lang: str = "zh-CN") -> Path:
    """The one-page A4-landscape pack (figures from ``weekly_figures``)."""
    from fpdf import FPDF

    font = cjk_font()
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 8, 10)
    pdf.add_font("cjk", "", str(font.regular), collection_font_number=font.index)
    pdf.add_font("cjk", "B", str(font.bold), collection_font_number=font.index)
    title = t("weekly_title", lang, street=figures["street"]).strip()
    pdf.set_title(title)
    pdf.set_creator("gridmap")
    pdf.add_page()

    # header
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, 297, 3, style="F")
    pdf.set_xy(10, 7)
    pdf.set_text_color(*INK)
    pdf.set_font("cjk", "B", 20)
    pdf.cell(170, 10, title)
    pdf.set_font("cjk", "", 10)
    pdf.set_text_color(*NEUTRAL)
    period = t(
        "weekly_period",
        lang,
        start=_day_label(figures["week_start"], lang),
        end=_day_label(figures["as_of"], lang),
        year=figures["as_of"][:4],
        as_of=figures["as_of"],
    )
    pdf.set_xy(180, 7)
    pdf.cell(107, 5.5, period, align="R")
    pdf.set_xy(180, 12.5)
    pdf.set_font("cjk", "", 7.5)
    pdf.cell(107, 4.5, t("weekly_compared", lang, previous=figures["previous_as_of"]), align="R")
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.line(10, 19, 287, 19)

    figs = {f.key: f for f in figures["headline"]}
    main_keys = [
        "visit_overall", "freshness", "reports_new", "reports_resolved", "reports_overdue",
        "response_rate", "completion_rate", "satisfaction_rate", "followup_rate",
    ]  # fmt: skip
    _tiles(pdf, [figs[k] for k in main_keys], lang, y=22, height=22, value_size=16)
    codes = load_config().category_codes
    pdf.set_xy(10, 46)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(120, 5, t("weekly_by_category", lang))
    _tiles(
        pdf,
        [figs[f"visit_{c}"] for c in codes],
        lang,
        y=51,
        height=17,
        value_size=12,
        categories=True,
    )

    # trend chart, top grids, map
    top_y = 72
    pdf.set_xy(10, top_y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(98, 5, t("weekly_trend_title", lang))
    pdf.image(
        io.BytesIO(trend_png(figures["trend"], lang, 98, 108)), x=10, y=top_y + 6, w=98, h=108
    )
    _attention_table(pdf, figures["attention"], lang, x=112, y=top_y, width=104)
    pdf.set_xy(220, top_y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(67, 5, t("weekly_map_title", lang))
    image = pdf.image(
        io.BytesIO(map_png(store, figures["grids"], figures["attention"], lang, 67, 104)),
        x=220,
        y=top_y + 6,
        w=67,
    )
    pdf.set_xy(220, top_y + 7 + image.rendered_height)
    pdf.set_font("cjk", "", 7)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(67, 3.6, t("weekly_map_legend", lang))
    # the trend's table-side explanation of the score
    pdf.set_xy(10, top_y + 115)
    pdf.set_font("cjk", "", 7)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(98, 3.6, t("weekly_trend_note", lang))

    # footer
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.2)
    pdf.line(10, 197, 287, 197)
    pdf.set_xy(10, 198.5)
    pdf.set_font("cjk", "", 6.8)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(277, 3.4, t("weekly_footer", lang, small=SMALL_COUNT))
    pdf.output(str(out_path))
    return out_path


def _fit_cell(
    pdf: Any, width: float, height: float, text: str, style: str, size: float, **kwargs: Any
) -> None:
    """A one-line cell whose font shrinks (to 5.5 pt) and then text shortens (…) to fit."""
    min_size = 5.5
    pdf.set_font("cjk", style, size)
    while pdf.get_string_width(text) > width and size > min_size:
        size -= 0.5
        pdf.set_font("cjk", style, size)
    if pdf.get_string_width(text) > width:
        while text and pdf.get_string_width(text + "…") > width:
            text = text[:-1]
        text += "…"
    pdf.cell(width, height, text, **kwargs)


def _tiles(
    pdf: Any,
    figures: list[Figure],
    lang: str,
    y: float,
    height: float,
    value_size: float,
    categories: bool = False,
) -> None:
    gap = 2.0
    width = (277 - gap * (len(figures) - 1)) / len(figures)
    config = load_config()
    for i, figure in enumerate(figures):
        x = 10 + i * (width + gap)
        pdf.set_fill_color(246, 246, 246)
        pdf.rect(x, y, width, height, style="F")
        if categories:
            colour = config.category(figure.key.removeprefix("visit_")).hex.lstrip("#")
            pdf.set_fill_color(*(int(colour[j : j + 2], 16) for j in (0, 2, 4)))
            pdf.rect(x, y, 1.6, height, style="F")
        value, change, colour = figure_texts(figure, lang)
        pdf.set_xy(x + 2.5, y + 1.5)
        pdf.set_text_color(*NEUTRAL)
        _fit_cell(pdf, width - 4, 4, figure_label(figure.key, lang), "", 7.5)
        pdf.set_xy(x + 2.5, y + 5.8)
        pdf.set_font("cjk", "B", value_size)
        pdf.set_text_color(*INK)
        pdf.cell(width - 4, value_size * 0.42, value)
        pdf.set_xy(x + 2.5, y + height - 5.2)
        pdf.set_font("cjk", "", 7)
        pdf.set_text_color(*colour)
        pdf.cell(width - 4, 4, change)


def _attention_table(
    pdf: Any, attention: pd.DataFrame, lang: str, x: float, y: float, width: float
) -> None:
    pdf.set_xy(x, y)
    pdf.set_font("cjk", "B", 8.5)
    pdf.set_text_color(*INK)
    pdf.cell(width, 5, t("weekly_attention_title", lang, n=TOP_GRIDS))
    widths = (7, 31, 11, width - 49)
    heads = (
        "#",
        t("weekly_col_grid", lang),
        t("weekly_col_score", lang),
        t("weekly_col_reasons", lang),
    )
    row_y = y + 6
    pdf.set_fill_color(*ACCENT)
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("cjk", "B", 7.5)
    cx = x
    for w, head in zip(widths, heads, strict=True):
        pdf.set_xy(cx, row_y)
        pdf.cell(w, 6, head, fill=True, align="C" if w < 12 else "L")
        cx += w
    row_y += 6
    if attention.empty:
        pdf.set_xy(x, row_y + 2)
        pdf.set_font("cjk", "", 8)
        pdf.set_text_color(*NEUTRAL)
        pdf.cell(width, 5, t("weekly_attention_none", lang))
        row_y += 9
    for _, row in attention.iterrows():
        reasons = attention_reasons(row, lang)
        name = str(row["name"] or row["grid_id"])
        community = str(row["community"] or "")
        row_h = max(12.0, 4.6 * len(reasons) + 3)
        if row["rank"] % 2 == 0:
            pdf.set_fill_color(248, 248, 248)
            pdf.rect(x, row_y, width, row_h, style="F")
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "B", 11)
        pdf.set_xy(x, row_y + 1.5)
        pdf.cell(widths[0], 6, str(int(row["rank"])), align="C")
        pdf.set_xy(x + widths[0], row_y + 1.5)
        _fit_cell(pdf, widths[1] - 1, 4.5, name, "B", 8.5)
        pdf.set_text_color(*NEUTRAL)
        pdf.set_xy(x + widths[0], row_y + 6.2)
        _fit_cell(
            pdf,
            widths[1] - 1,
            4,
            f"{community} · {row['grid_id']}" if community else str(row["grid_id"]),
            "",
            6.8,
        )
        pdf.set_text_color(*BAD)
        pdf.set_font("cjk", "B", 9)
        pdf.set_xy(x + widths[0] + widths[1], row_y + 1.5)
        pdf.cell(widths[2], 6, f"{row['score']:.1f}", align="C")
        pdf.set_text_color(*INK)
        pdf.set_font("cjk", "", 8.5)
        for j, reason in enumerate(reasons):
            pdf.set_xy(x + widths[0] + widths[1] + widths[2], row_y + 1.5 + 4.6 * j)
            _fit_cell(pdf, widths[3], 4.6, "· " + reason, "", 8.5)
        row_y += row_h
        pdf.set_draw_color(225, 225, 225)
        pdf.set_line_width(0.2)
        pdf.line(x, row_y, x + width, row_y)
    pdf.set_xy(x, row_y + 2)
    pdf.set_font("cjk", "", 6.8)
    pdf.set_text_color(*NEUTRAL)
    pdf.multi_cell(width, 3.4, t("weekly_score_note", lang))


# --- the XLSX ----------------------------------------------------------------------

# the XLSX holds numbers as numbers, rounded as the PDF shows them (rates 88.7% -> 0.887)
RATE_PLACES = 3
POINT_PLACES = 1
RATE_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
COUNT_CHANGE_FORMAT = "+#,##0;-#,##0;0"
POINT_FORMAT = "0.0"
HIDDEN_FILL = "D9D9D9"


class Hidden:
    """A cell the pack does not show: a count of 1 or 2, or a rate over fewer than 3.

    Written to the XLSX as an empty grey cell with a note, never as text in a number column.
    """

    def __init__(self, why: str) -> None:
        self.why = why  # "count" | "rate"

    def __repr__(self) -> str:
        return f"<{SMALL_COUNT}" if self.why == "count" else f"n<{SMALL_COUNT}"


HIDDEN_COUNT = Hidden("count")
HIDDEN_RATE = Hidden("rate")


def _count_cell(value: object) -> object:
    if value is None or value != value:
        return None
    return HIDDEN_COUNT if isinstance(suppress_small(int(value)), str) else int(value)


def _rate_cell(value: object, base: object = None) -> object:
    if value is None or value != value:
        return None
    return HIDDEN_RATE if _small_base(base) else round(float(value), RATE_PLACES)


def _yes_no(value: object, lang: str) -> str:
    return t("map_yes", lang) if bool(value) else t("map_no", lang)


_RATES = {
    "visit_rate", "freshness_rate", "response_rate", "completion_rate", "satisfaction_rate",
    "followup_rate",
}  # fmt: skip
_RATE_BASE = {"visit_rate": "visit_required", "freshness_rate": "households"}
_COUNTS = {
    "reports_new", "reports_resolved", "reports_overdue", "visit_required", "households",
}  # fmt: skip
_POINTS = {
    "score", "overdue_points", "visit_points", "stale_points", "no_worker_points",
    "no_branch_points",
}  # fmt: skip


def _cells(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A section's cells: rates and points rounded, small counts (and rates over them) hidden."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if column in _RATES:
            base = (
                frame[_RATE_BASE[column]]
                if column in _RATE_BASE and _RATE_BASE[column] in frame
                else None
            )
            out[column] = [
                _rate_cell(v, None if base is None else base.iloc[i]) for i, v in enumerate(values)
            ]
        elif column in _COUNTS:
            out[column] = values.map(_count_cell).astype(object)
        elif column in _POINTS:
            out[column] = pd.to_numeric(values, errors="coerce").round(POINT_PLACES)
        elif column.startswith("has_"):
            out[column] = values.map(lambda v: _yes_no(v, lang))
        else:
            out[column] = values
    return out


def weekly_sheets(figures: dict[str, Any], lang: str = "zh-CN") -> dict[str, pd.DataFrame]:
    """One frame per section: numbers rounded as in the PDF (rates as fractions, 0.887 =
    88.7%), a hidden small count or rate as ``HIDDEN_COUNT``/``HIDDEN_RATE``."""
    headline_rows = []
    for f in figures["headline"]:
        hidden_now = f.kind == "rate" and _small_base(f.base)
        hidden_before = f.kind == "rate" and _small_base(f.previous_base)
        if f.kind == "rate":
            value = _rate_cell(f.value, f.base)
            previous = _rate_cell(f.previous, f.previous_base)
            change = (
                None
                if hidden_now or hidden_before or f.change is None
                else round(f.change, RATE_PLACES)
            )
        else:
            value, previous = _count_cell(f.value), _count_cell(f.previous)
            # a change computed from a hidden count would reveal it
            shown = not isinstance(value, Hidden) and not isinstance(previous, Hidden)
            change = f.change if shown else None
        headline_rows.append(
            {
                t("weekly_col_indicator", lang): figure_label(f.key, lang),
                t("weekly_col_value", lang): value,
                t("weekly_col_previous", lang): previous,
                t("weekly_col_change", lang): change,
                t("weekly_col_base", lang): _count_cell(f.base),
            }
        )
    headline_frame = pd.DataFrame(headline_rows)

    trend = _cells(pd.DataFrame(figures["trend"]), lang)
    attention = pd.DataFrame(figures["attention"]).copy()
    attention["reasons"] = [
        "；".join(attention_reasons(row, lang)) for _, row in attention.iterrows()
    ]
    attention = _cells(attention, lang)
    grids = pd.DataFrame(figures["grids"])
    keep = [
        c
        for c in ("grid_id", "name", "community", "households", "visit_required", "visit_rate", "freshness_rate",
                  "reports_overdue", "grid_workers", "has_party_branch")
        if c in grids.columns
    ]  # fmt: skip
    grids = _cells(grids[keep], lang)
    return {
        t("weekly_sheet_headline", lang): headline_frame,
        t("weekly_sheet_trend", lang): _translate_columns(trend, lang),
        t("weekly_sheet_attention", lang): _translate_columns(attention, lang),
        t("weekly_sheet_grids", lang): _translate_columns(grids, lang),
    }


def _translate_columns(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    from geo.i18n import catalogue

    known = catalogue()
    return frame.rename(
        columns={
            c: t(f"weekly_xlsx_{c}", lang) for c in frame.columns if f"weekly_xlsx_{c}" in known
        }
    )


def _column_formats(lang: str) -> dict[str, str]:
    """Number format by (translated) column header."""
    formats = {t(f"weekly_xlsx_{c}", lang): RATE_FORMAT for c in _RATES}
    formats.update({t(f"weekly_xlsx_{c}", lang): COUNT_FORMAT for c in _COUNTS})
    formats.update({t(f"weekly_xlsx_{c}", lang): POINT_FORMAT for c in _POINTS})
    formats[t("weekly_xlsx_grid_workers", lang)] = COUNT_FORMAT
    formats[t("weekly_col_base", lang)] = COUNT_FORMAT
    return formats


def write_xlsx(figures: dict[str, Any], out_path: Path, lang: str = "zh-CN") -> Path:
    """The pack as an XLSX workbook, one sheet per section and a sheet explaining the marks.

    Numbers are number cells in the PDF's rounding and format; a hidden small count or rate
    is an empty grey cell with a note, so no number column holds text.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    hidden_fill = PatternFill("solid", start_color=HIDDEN_FILL, end_color=HIDDEN_FILL)
    notes = {
        "count": t("weekly_xlsx_hidden_count", lang, small=SMALL_COUNT),
        "rate": t("weekly_xlsx_hidden_rate", lang, small=SMALL_COUNT),
    }
    formats = _column_formats(lang)
    unit = t("weekly_xlsx_points_unit", lang)
    points_format = f'+0.0"{unit}";-0.0"{unit}";0.0"{unit}"'
    headline_sheet = t("weekly_sheet_headline", lang)
    kinds = [f.kind for f in figures["headline"]]
    for sheet, frame in weekly_sheets(figures, lang).items():
        ws = book.create_sheet(sheet[:31])
        ws.append([str(c) for c in frame.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, row in enumerate(frame.itertuples(index=False)):
            values = []
            for value in row:
                if (
                    isinstance(value, Hidden)
                    or value is None
                    or (isinstance(value, float) and value != value)
                ):
                    values.append(None)
                elif isinstance(value, np.generic):
                    values.append(value.item())
                else:
                    values.append(value)
            ws.append(values)
            for j, (value, column) in enumerate(zip(row, frame.columns, strict=True)):
                cell = ws.cell(row=i + 2, column=j + 1)
                if isinstance(value, Hidden):
                    cell.fill = hidden_fill
                    cell.comment = Comment(notes[value.why], "gridmap")
                if sheet == headline_sheet and j in (1, 2, 3):
                    rate = kinds[i] == "rate"
                    cell.number_format = (
                        (points_format if rate else COUNT_CHANGE_FORMAT)
                        if j == 3
                        else (RATE_FORMAT if rate else COUNT_FORMAT)
                    )
                elif column in formats:
                    cell.number_format = formats[column]
        as_text(ws)  # text from the store is written as text, never as a formula
        ws.freeze_panes = "A2"
    legend = book.create_sheet(t("weekly_sheet_notes", lang)[:31])
    for line in (notes["count"], notes["rate"], t("weekly_xlsx_rounding", lang)):
        legend.append([line])
    legend["A1"].fill = hidden_fill
    legend["A2"].fill = hidden_fill
    book.save(out_path)
    return out_path


def write_weekly(store: Store, as_of: dt.date, out_path: str | Path, lang: str = "zh-CN") -> Path:
    """Write the weekly pack for the week ending ``as_of`` to a .pdf or .xlsx file; returns its path."""
    out = Path(out_path)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise ValueError(f"{out}: the weekly pack is written as .pdf or .xlsx")
    if suffix == ".pdf":
        cjk_font()  # fail before the figures are computed when no font can be embedded
    figures = weekly_figures(store, as_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        return write_pdf(store, figures, out, lang)
    return write_xlsx(figures, out, lang)
