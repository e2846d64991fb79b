"""The weekly pack's case figures: one row per indicator of the week's ``cases_section``
(happenings of the week, states at its end), as (label, value, kind, base) for the XLSX
sheet and the PDF's box; suppression of small counts is the pack's (rendering)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geo.i18n import t


def case_rows(section: dict[str, Any], lang: str = "zh-CN") -> list[tuple[str, Any, str, Any]]:
    """(label, value, "count" | "rate", base) rows of the week's case figures."""
    methods = section["return_visits_by_method"]
    mediation = section["mediation"]
    rows: list[tuple[str, Any, str, Any]] = [
        (t("case_wk_open", lang), section["open"], "count", None),
        (t("case_wk_overdue", lang), section["overdue"], "count", None),
        (t("case_wk_nearing", lang), section["nearing_limit"], "count", None),
        (t("case_wk_reminders", lang), section["reminders_sent"], "count", None),
        (t("case_wk_transfers", lang), section["transfers"], "count", None),
        (t("case_wk_extensions", lang), section["extensions"], "count", None),
        (t("case_wk_return_visits", lang), section["return_visits"], "count", None),
    ]
    rows += [
        (t("case_wk_by_method", lang, method=t(f"case_method_{m}", lang)), n, "count", None)
        for m, n in methods.items()
        if m != "unknown"
    ]
    rows += [
        (t("case_wk_followup_rate", lang), section["followup_rate"], "rate", None),
        (t("case_wk_closed", lang), section["closed"], "count", None),
        (t("case_wk_mediation", lang), mediation["cases"], "count", None),
        (
            t("case_med_success_rate", lang),
            mediation["success_rate"],
            "rate",
            sum(mediation.get(o, 0) for o in ("success", "failed", "litigation")),
        ),
    ]
    return rows


def case_line(
    section: dict[str, Any],
    lang: str,
    count: Callable[[object], str],
    rate: Callable[[object, object], str],
) -> str:
    """The PDF's sentence of the week's case figures; ``count``/``rate`` render (and hide)
    small numbers as the pack does."""
    methods = section["return_visits_by_method"]
    mediation = section["mediation"]
    concluded = sum(mediation.get(o, 0) for o in ("success", "failed", "litigation"))
    return t(
        "case_wk_line",
        lang,
        visits=count(section["return_visits"]),
        methods=t("map_list_separator", lang).join(
            f"{t(f'case_method_{m}', lang)} {count(n)}"
            for m, n in methods.items()
            if m != "unknown"
        ),
        rate=rate(section["followup_rate"], None),
        open=count(section["open"]),
        overdue=count(section["overdue"]),
        nearing=count(section["nearing_limit"]),
        reminders=count(section["reminders_sent"]),
        transfers=count(section["transfers"]),
        extensions=count(section["extensions"]),
        closed=count(section["closed"]),
        mediation=count(mediation["cases"]),
        success=rate(mediation["success_rate"], concluded),
    )
