"""The weekly pack's charts as PNG: the eight-week trend and the grid map."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from geo.access.privacy import SMALL_COUNT
from geo.i18n import t
from geo.outputs.weekly.figures import _count_text
from geo.outputs.weekly.font import _matplotlib_family, cjk_font
from geo.store.base import Store


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
