"""``format_metrics``: the metrics object as the human-readable tables of ``gridmap metrics``."""

from __future__ import annotations

import unicodedata
from typing import Any

from geo.config import load_config
from geo.i18n import t


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: object, width: int, right: bool = False) -> str:
    text = str(text)
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(_cell(c, widths[i], right=i > 0) for i, c in enumerate(row)).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def format_metrics(result: dict[str, Any], lang: str = "zh-CN") -> str:
    """A readable terminal table of a ``compute_metrics`` result (overall or by grid)."""
    config = load_config()
    lines = [t("metrics_title", lang, as_of=result["as_of"])]
    if "grids" in result and isinstance(result["grids"], list):
        header = [
            t(k, lang)
            for k in (
                "metrics_grid",
                "metrics_households",
                "metrics_visit_rate",
                "metrics_fresh_rate",
                "metrics_reports_total",
                "metrics_overdue",
                "metrics_completion_rate",
                "metrics_satisfaction_rate",
            )
        ]
        rows = [
            [
                g["grid_id"],
                g["households"]["total"],
                _pct(g["visits"]["overall"]["rate"]),
                _pct(g["freshness"]["rate"]),
                g["reports"]["total"],
                g["reports"]["overdue"],
                _pct(g["reports"]["completion_rate"]),
                _pct(g["reports"]["satisfaction_rate"]),
            ]
            for g in result["grids"]
        ]
        lines += _table(header, rows) if rows else [t("metrics_no_grids", lang)]
        return "\n".join(lines)

    households = result["households"]
    lines.append(
        t(
            "metrics_households_line",
            lang,
            total=households["total"],
            unassigned=households["unassigned"],
        )
    )
    lines.append("")
    header = [
        t(k, lang)
        for k in (
            "metrics_category",
            "metrics_households",
            "metrics_required",
            "metrics_compliant",
            "metrics_visit_rate",
        )
    ]
    rows = []
    for code, visits in result["visits"]["by_category"].items():
        label = config.category(code).label(lang) if code in config.category_codes else code
        rows.append(
            [
                label,
                households["by_category"].get(code, 0),
                visits["required"],
                visits["compliant"],
                _pct(visits["rate"]),
            ]
        )
    overall = result["visits"]["overall"]
    rows.append(
        [
            t("metrics_overall", lang),
            households["total"],
            overall["required"],
            overall["compliant"],
            _pct(overall["rate"]),
        ]
    )
    lines += _table(header, rows)
    lines.append("")
    fresh = result["freshness"]
    lines.append(
        t(
            "metrics_freshness_line",
            lang,
            days=config.freshness_days,
            fresh=fresh["verified_within_30_days"],
            rate=_pct(fresh["rate"]),
        )
    )
    grids = result["grids"]
    lines.append(
        t(
            "metrics_grids_line",
            lang,
            total=grids["total"],
            party=grids["with_party_branch"],
            workers=grids["with_grid_worker"],
            staff=f"{grids['mean_staff_per_grid']:.2f}",
        )
    )
    lines.append("")
    reports = result["reports"]
    header = [
        t(k, lang)
        for k in (
            "metrics_reports_total",
            "metrics_responded",
            "metrics_resolved",
            "metrics_followed_up",
            "metrics_overdue",
        )
    ]
    lines += _table(
        header,
        [
            [
                reports["total"],
                reports["responded"],
                reports["resolved"],
                reports["followed_up"],
                reports["overdue"],
            ]
        ],
    )
    lines.append("")
    header = [
        t(k, lang)
        for k in (
            "metrics_response_rate",
            "metrics_completion_rate",
            "metrics_satisfaction_rate",
            "metrics_followup_rate",
        )
    ]
    lines += _table(
        header,
        [
            [
                _pct(reports["response_rate"]),
                _pct(reports["completion_rate"]),
                _pct(reports["satisfaction_rate"]),
                _pct(reports["followup_rate"]),
            ]
        ],
    )
    if result.get("cases"):  # issue 19: the case desk's figures up to as_of
        lines += ["", *_case_lines(result["cases"], lang)]
    section = result.get("new_employment")
    if section and any(section.values()):  # shown when the street keeps the data (issue 14)
        lines += ["", *_employment_lines(section, lang)]
    return "\n".join(lines)


def _case_lines(section: dict[str, Any], lang: str) -> list[str]:
    """The ``cases`` section as a two-column table: open, overdue, transfers, extensions, the
    return visits by method and their rate, closings, the mediation room's cases and success."""
    mediation = section["mediation"]
    rows: list[list[object]] = [
        [t("metrics_case_open", lang), section["open"]],
        [t("case_wk_overdue", lang), section["overdue"]],
        [t("case_wk_nearing", lang), section["nearing_limit"]],
        [t("metrics_case_transfers", lang), section["transfers"]],
        [t("metrics_case_extensions", lang), section["extensions"]],
        [t("metrics_case_return_visits", lang), section["return_visits"]],
    ]
    rows += [
        [t("case_wk_by_method", lang, method=t(f"case_method_{m}", lang)), n]
        for m, n in section["return_visits_by_method"].items()
        if m != "unknown"
    ]
    rows += [
        [t("case_wk_followup_rate", lang), _pct(section["followup_rate"])],
        [t("metrics_case_closed", lang), section["closed"]],
        [t("case_wk_mediation", lang), mediation["cases"]],
        [t("case_med_success_rate", lang), _pct(mediation["success_rate"])],
    ]
    return _table([t("metrics_cases_title", lang), ""], rows)


def _employment_lines(section: dict[str, Any], lang: str) -> list[str]:
    """The ``new_employment`` section as a two-column table (figure, value)."""
    rows = [
        [t(f"emp_{key}", lang), _pct(value) if key == "insured_rate" else value]
        for key, value in section.items()
    ]
    return _table([t("emp_title", lang), ""], rows)
