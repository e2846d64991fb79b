"""The problems of one import: ``Problem`` (file, row, column, reason), ``ImportReport``, and the checker that collects them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from geo.i18n import DEFAULT_LANGUAGE, Msg, t
from geo.store.base import Store
from geo.store.staging import Staging

SHOW_FIRST = 5


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: where (file, spreadsheet line, column) and why."""

    file: str
    row: int
    column: str
    reason: str
    header: str | None = None  # the column as the file's header spells it, e.g. 经度

    def __str__(self) -> str:
        # a clerk looks for the column by the header they typed, not our canonical name
        shown = (
            self.column
            if not self.header or self.header == self.column
            else f"{self.header} ({self.column})"
        )
        return f"{self.file}:{self.row}: {shown}: {self.reason}"


MAX_PROBLEMS = 1000
"""Problems kept in full; past this a refusal counts the rest (a bad 3M-row file stays small)."""


@dataclass
class ImportReport:
    """What an import did: problems (nothing written when any), warnings, rows written."""

    kind: str
    file: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # canonical column -> header in the file
    lang: str = DEFAULT_LANGUAGE
    more_problems: int = 0  # problems found past MAX_PROBLEMS (counted, not kept)
    lock_seconds: float = 0.0  # how long the final copy held the store's write lock

    def problem_lines(self) -> list[str]:
        """Every problem as ``FILE:ROW: column: reason``, the column as the file's header names it."""
        lines = [
            str(replace(p, header=p.header or self.headers.get(p.column))) for p in self.problems
        ]
        if self.more_problems:
            lines.append(t("imp_more_problems", self.lang, count=self.more_problems))
        return lines

    @property
    def problem_count(self) -> int:
        """All problems found, those kept and those only counted."""
        return len(self.problems) + self.more_problems

    @property
    def ok(self) -> bool:
        """True when the file was imported."""
        return not self.problems

    def add_problem(self, row: int, column: str, reason: str) -> None:
        """Keep a problem (or count it once MAX_PROBLEMS are kept)."""
        if len(self.problems) >= MAX_PROBLEMS:
            self.more_problems += 1
            return
        self.problems.append(Problem(self.file, int(row), column, reason))


class _Checker:
    """Collects the problems and warnings of one file, chunk by chunk.

    ``rows`` are the spreadsheet lines of the chunk being checked; warnings of the same
    kind from every chunk are added up (``warn``) and put into words once (``finish``).
    """

    def __init__(self, report: ImportReport, store: Store, staging: Staging) -> None:
        self.report = report
        self.store = store
        self.staging = staging
        self.rows: np.ndarray = np.array([], dtype=np.int64)
        self._warned: dict[str, tuple[int, list[str], dict[str, object]]] = {}
        self._cache: dict[str, object] = {}
        self.derived_ids = False  # visits: some ids were derived from what the row records

    def add(self, row: int, column: str, key: str, /, **values: object) -> None:
        """A problem at ``row``, ``column``: the catalogue message ``key``."""
        self.report.add_problem(row, column, Msg(key, **values).text(self.report.lang))

    def add_mask(
        self,
        mask: np.ndarray | pd.Series,
        column: str,
        key: str,
        values_at: Callable[[int], dict[str, object]] | None = None,
    ) -> None:
        """A problem for every row where ``mask`` holds; ``values_at(pos)`` fills the message."""
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            self.add(self.rows[pos], column, key, **(values_at(pos) if values_at else {}))

    def keys(self, parts: list[np.ndarray]) -> None:
        """Remember this chunk's keys: a key repeated anywhere in the file is a problem."""
        self.staging.add_keys(self.rows, parts)

    def warn(self, key: str, ids: np.ndarray, **values: object) -> None:
        """Count ``len(ids)`` rows for the warning ``key`` (the first few ids are shown)."""
        if len(ids) == 0:
            return
        count, shown, _ = self._warned.get(key, (0, [], values))
        shown = shown + [str(i) for i in ids[: SHOW_FIRST - len(shown)]]
        self._warned[key] = (count + len(ids), shown, values)

    def cached(self, name: str, make: Callable[[], object]) -> object:
        """A value computed once per import (known households, stored grids)."""
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def release(self) -> None:
        """Forget what was cached for the checks (memory for the final copy)."""
        self._cache.clear()

    def finish(self) -> None:
        """Put the counted warnings into words."""
        for key, (count, shown, values) in self._warned.items():
            ids = ", ".join(shown) + (", ..." if count > len(shown) else "")
            text = Msg(key, count=count, ids=ids, **values).text(self.report.lang)
            self.report.warnings.append(f"{self.report.file}: {text}")
