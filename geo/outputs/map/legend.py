"""The map's legends and colours: one bit per care category, the grid fill classes, report states and their colours."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from geo.config import Config, load_config
from geo.i18n import DEFAULT_LANGUAGE, t

MAX_CATEGORIES = 7  # bits 0..6 of the category bitmask; bit 7 marks "visit overdue"


FILL_MEASURES = (
    "none",
    "visit_rate",
    "reports_overdue",
    "completion_rate",
    "satisfaction_rate",
    "freshness_rate",
    "households_per_worker",
)
REPORT_STATES = ("open", "overdue", "resolved", "followed_up")
REPORT_COLOURS = {
    "open": "#f39c12",
    "overdue": "#c0392b",
    "resolved": "#16a085",
    "followed_up": "#7f8c8d",
}
NO_DATA_HEX = "#d9d9d9"
# Sequential classes, good -> bad; rates are fractions, the others counts.
_GOOD_TO_BAD = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
_FILL_BREAKS: dict[str, tuple[Sequence[float], bool]] = {
    # measure: (class upper bounds, higher is better)
    "visit_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "freshness_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "reports_overdue": ((0, 1, 3, 6), False),
    "completion_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "satisfaction_rate": ((0.5, 0.7, 0.85, 0.95), True),
    "households_per_worker": ((100, 200, 300, 500), False),
}
_RATE_MEASURES = {"visit_rate", "freshness_rate", "completion_rate", "satisfaction_rate"}


def category_bitmask(categories: pd.Series, config: Config | None = None) -> np.ndarray:
    """uint8 bitmask per household: bit i = the i-th configured category (';'-joined codes)."""
    config = config or load_config()
    text = categories.fillna("").astype(str)
    padded = ";" + text + ";"
    mask = np.zeros(len(text), dtype=np.uint8)
    for i, code in enumerate(config.category_codes[:MAX_CATEGORIES]):
        mask |= padded.str.contains(f";{code};", regex=False).to_numpy(bool).astype(np.uint8) << i
    return mask


def fill_class(values: pd.Series, measure: str) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Fill colour per grid for ``measure``, and the legend rows (colour, range text)."""
    if measure == "none" or measure not in _FILL_BREAKS:
        return np.full(len(values), "", dtype=object), []
    breaks, higher_better = _FILL_BREAKS[measure]
    colours = _GOOD_TO_BAD[::-1] if higher_better else _GOOD_TO_BAD
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(float)
    # right-closed classes for counts (0 | 1 | 2-3 ...), left-closed for rates (<50% ...)
    idx = np.searchsorted(
        np.asarray(breaks, float),
        numeric,
        side="left" if measure not in _RATE_MEASURES else "right",
    )
    out = np.where(
        np.isnan(numeric), NO_DATA_HEX, np.asarray(colours, dtype=object)[np.clip(idx, 0, 4)]
    )
    return out.astype(object), _fill_legend_rows(breaks, colours, measure)


def _fmt(value: float, measure: str) -> str:
    return f"{value:.0%}" if measure in _RATE_MEASURES else f"{value:g}"


def _fill_legend_rows(
    breaks: Sequence[float], colours: Sequence[str], measure: str
) -> list[tuple[str, str]]:
    rows = []
    lows = [None, *breaks]
    highs = [*breaks, None]
    for colour, low, high in zip(colours, lows, highs, strict=True):
        if measure in _RATE_MEASURES:
            text = (
                f"< {_fmt(high, measure)}"
                if low is None
                else f"≥ {_fmt(low, measure)}"
                if high is None
                else f"{_fmt(low, measure)} – {_fmt(high, measure)}"
            )
        else:
            if low is None:
                text = f"≤ {_fmt(high, measure)}"
            elif high is None:
                text = f"> {_fmt(low, measure)}"
            elif high - low <= 1:
                text = _fmt(high, measure)
            else:
                text = f"{_fmt(low + 1, measure)} – {_fmt(high, measure)}"
        rows.append((colour, text))
    return rows


def legend_html(
    households: pd.DataFrame | None,
    lang: str = DEFAULT_LANGUAGE,
    config: Config | None = None,
    counts: Mapping[str, int] | None = None,
) -> str:
    """The colour legend with the number of households per colour (ordinary grey included).

    ``counts`` (instead of ``households``): households per category code and "ordinary",
    optionally "several" and "overdue" (rows whose count is absent are left out), e.g.
    summed from ``grid_table`` when the households themselves are not loaded.
    """
    config = config or load_config()
    if counts is None:
        counts = legend_counts(households if households is not None else pd.DataFrame(), config)
    rows = [f'<div class="gm-legend-title">{html.escape(t("map_legend_title", lang))}</div>']
    for cat in config.categories[:MAX_CATEGORIES]:
        rows.append(
            _legend_row(cat.hex, cat.label(lang), int(counts.get(cat.code, 0)), code=cat.code)
        )
    rows.append(
        _legend_row(
            config.ordinary_hex,
            t("map_legend_ordinary", lang),
            int(counts.get("ordinary", 0)),
            code="ordinary",
        )
    )
    if "several" in counts:
        rows.append(
            f'<div class="gm-legend-row" data-code="several"><span class="gm-swatch gm-ring"></span>'
            f'<span class="gm-text">{html.escape(t("map_legend_several", lang))}</span><b>{int(counts["several"])}</b></div>'
        )
    if "overdue" in counts:
        rows.append(
            f'<div class="gm-legend-row" data-code="overdue"><span class="gm-swatch gm-overdue"></span>'
            f'<span class="gm-text">{html.escape(t("map_legend_overdue", lang))}</span><b>{int(counts["overdue"])}</b></div>'
        )
    return "".join(rows)


def legend_counts(households: pd.DataFrame, config: Config | None = None) -> dict[str, int]:
    """The legend's counts of ``households``: per category code, ordinary, several (and overdue
    when the frame has that column)."""
    config = config or load_config()
    mask = (
        category_bitmask(households["categories"], config)
        if len(households)
        else np.zeros(0, np.uint8)
    )
    counts = {
        cat.code: int(((mask >> i) & 1).sum())
        for i, cat in enumerate(config.categories[:MAX_CATEGORIES])
    }
    counts["ordinary"] = int((mask == 0).sum())
    counts["several"] = (
        int((np.unpackbits(mask[:, None], axis=1).sum(axis=1) >= 2).sum()) if len(mask) else 0
    )
    if "overdue" in households.columns:
        counts["overdue"] = int(households["overdue"].fillna(False).astype(bool).sum())
    return counts


def _legend_row(hex_colour: str, label: str, count: int, *, code: str) -> str:
    return (
        f'<div class="gm-legend-row" data-code="{code}" data-count="{count}">'
        f'<span class="gm-swatch" style="background:{hex_colour}"></span>'
        f'<span class="gm-text">{html.escape(label)}</span><b>{count}</b></div>'
    )


def fill_legend_html(rows: list[tuple[str, str]], fill: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The grid fill colour scale (empty when the grids are not filled)."""
    if not rows:
        return ""
    parts = [f'<div class="gm-legend-title">{html.escape(t("map_fill_" + fill, lang))}</div>']
    parts += [
        f'<div class="gm-legend-row"><span class="gm-swatch gm-square" style="background:{c}"></span>{html.escape(text)}</div>'
        for c, text in rows
    ]
    parts.append(
        f'<div class="gm-legend-row"><span class="gm-swatch gm-square" style="background:{NO_DATA_HEX}"></span>'
        f"{html.escape(t('map_legend_no_data', lang))}</div>"
    )
    return "".join(parts)


def _report_legend(reports: pd.DataFrame, lang: str) -> str:
    counts = reports["state"].value_counts() if len(reports) else pd.Series(dtype=int)
    rows = [f'<div class="gm-legend-title">{html.escape(t("map_legend_reports", lang))}</div>']
    for state in REPORT_STATES:
        rows.append(
            f'<div class="gm-legend-row" data-code="report-{state}"><span class="gm-swatch gm-diamond" '
            f'style="background:{REPORT_COLOURS[state]}"></span>{html.escape(t("map_state_" + state, lang))}'
            f"<b>{int(counts.get(state, 0))}</b></div>"
        )
    return "".join(rows)
