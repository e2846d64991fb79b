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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.access.privacy import SMALL_COUNT, suppress_small
from geo.cases.metrics import cases_section
from geo.config import load_config
from geo.i18n import t
from geo.outputs.figures import count_text, rate_text
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


GOOD = (46, 125, 50)
BAD = (198, 40, 40)
NEUTRAL = (110, 110, 110)


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

    Each table (with or without its geometry) is read once and the visit days of the whole
    span are fetched in one query and sliced per call: the same rows ``compute_metrics`` would read itself, in
    one pass instead of nine (a request outside the span goes to the store).
    """

    def __init__(self, store: Store, first_day: dt.date, last_day: dt.date) -> None:
        self._store = store
        # the maintained care state holds every grid: it answers for a snapshot of a whole
        # store, never for one of a view of some grids (geo.access.scope.GridScope)
        self.holds_whole_state = getattr(type(store), "care_blocks", None) is not None and bool(
            getattr(store, "holds_whole_state", True)
        )
        self._span = (day_text(first_day), day_text(last_day))
        self._reads: dict[tuple, pd.DataFrame] = {}
        self._visit_days: pd.DataFrame | None = None

    def read(self, table: str, columns: Any = None, where: dict | None = None) -> pd.DataFrame:
        """As ``Store.read``, remembered (a copy each time: callers may modify it)."""
        key = (table, tuple(columns) if columns is not None else None, repr(where))
        if key not in self._reads:
            self._reads[key] = self._store.read(table, columns, where)
        return self._reads[key].copy()

    def read_attributes(
        self, table: str, columns: Any = None, where: dict | None = None
    ) -> pd.DataFrame:
        """As ``Store.read_attributes``, remembered like ``read``: the nine days' metrics and
        the case figures read the same reports, events and grids once, not once a day."""
        key = ("attributes", table, tuple(columns) if columns is not None else None, repr(where))
        if key not in self._reads:
            self._reads[key] = self._store.read_attributes(table, columns, where)
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

    def care_blocks(self) -> Any:
        """The store's maintained care state (None for a snapshot of a view of some grids)."""
        return self._store.care_blocks() if self.holds_whole_state else None

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
    grids (grid_table of as_of); employment (``geo.employment.weekly.employment_block``, None
    without new-employment data); buildings (``geo.buildings.coverage``: per grid, counts of
    buildings; empty without buildings). Counts are raw here; suppression is for rendering.
    """
    from geo.buildings.coverage import coverage_by_building
    from geo.employment.load import weekly_block
    from geo.metrics.contract import compute_metrics
    from geo.metrics.tables import grid_table

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
    block = weekly_block(snapshot, as_of)  # type: ignore[arg-type]  # issue 14
    employment = None
    if block is not None:
        figure_groups = ("figures", "gaps", "reports")
        employment = {
            k: [Figure(*f) for f in v] if k in figure_groups else v for k, v in block.items()
        }
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
        "employment": employment,
        "buildings": coverage_by_building(store, as_of),  # per grid, counts only (issue 17)
        # issue 19: the week's case figures (happenings of the week, states at its end)
        "cases": cases_section(snapshot, as_of, since=as_of - dt.timedelta(days=6)),  # type: ignore[arg-type]
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
    if key.startswith("emp_"):  # the new-employment block (geo.employment.weekly)
        return t(key, lang)
    if key.startswith("visit_") and key != "visit_overall":
        import re

        cat = load_config().category(key.removeprefix("visit_"))
        return re.sub(r"\s*[(（].*?[)）]\s*", "", cat.label(lang))
    return t(f"weekly_fig_{key}", lang)
