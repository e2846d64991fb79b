"""Helpers for the new-employment tests: cells of a chunk, a checker."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geo.inputs.importers.problems import ImportReport, _Checker

ROOT = Path(__file__).resolve().parents[1]


def cells(rows: list[dict[str, object]]) -> dict[str, np.ndarray]:
    """Cells of a chunk as the framework hands them over: every column, None where empty."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    return {
        name: np.array([row.get(name) or None for row in rows] + [None], dtype=object)[:-1]
        for name in names
    }


def checker(kind: str, n: int, lang: str = "en") -> _Checker:
    """The importer's own checker over a file whose data lines are 2..n+1 (line 1 = header)."""
    check = _Checker(ImportReport(kind, f"{kind}.csv", lang=lang), None, None)
    check.rows = np.arange(2, n + 2)
    return check


def problems(check: _Checker) -> list[str]:
    """Every problem as ``FILE:ROW: column: reason``."""
    return check.report.problem_lines()
