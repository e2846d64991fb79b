"""The row rules of contract section 7: what an import of firms, outlets, workers or
stations refuses and warns about, as functions the importer framework calls.

Each ``check_<kind>`` takes the cells of one chunk of a file (canonical column -> array
of stripped text, None where empty; date columns already parsed to ``YYYY-MM-DD`` by
the framework, which reports unparseable dates itself), reports every problem through
the framework's checker (``add``/``add_mask`` with a catalogue key, the spreadsheet line
taken from ``check.rows``), and returns the stored attribute columns. Coordinates,
placement in grids and ids repeated within a file are the framework's, as for
households and reports.

Section 7 refuses, besides what section 4 refuses: an outlet or worker naming an unknown
firm; a worker naming an unknown outlet, or an outlet of another firm; ``party_relation``
or ``returned_on`` on a non-member; ``registered_on`` on a worker who is not an
observer; an unknown sector, party, relation or service; a yes/no that is none of the
spellings. Warned (not refused): ``insured_on`` on a worker who is not insured.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Protocol

import numpy as np
import pandas as pd

from geo.employment.values import (
    PARTY,
    PARTY_MEMBERS,
    RELATION,
    SECTOR,
    SERVICE,
    YES_NO_EXPECTED,
    Spellings,
    join_services,
    normal,
    parse_services,
    parse_yes_no,
)
from geo.i18n import Msg

Cells = Mapping[str, np.ndarray]
"""Canonical column -> one chunk's cells as text (None where empty), dates as ``YYYY-MM-DD``."""


class Checker(Protocol):
    """What the row rules need of the importer's checker (``geo.inputs.importers.problems._Checker``)."""

    rows: np.ndarray  # the spreadsheet line of each cell of the chunk

    def add(self, row: int, column: str, key: str, /, **values: object) -> None:
        """A problem at ``row``, ``column``: the catalogue message ``key``."""

    def add_mask(
        self,
        mask: np.ndarray | pd.Series,
        column: str,
        key: str,
        values_at: Callable[[int], dict[str, object]] | None = None,
    ) -> None:
        """A problem for every row where ``mask`` holds."""

    def warn(self, key: str, ids: np.ndarray, **values: object) -> None:
        """Count rows (their ids) for the warning ``key``; put into words once per file."""


def _column(cells: Cells, name: str, n: int) -> np.ndarray | None:
    """The column's cells, or None when the file has no such column."""
    values = cells.get(name)
    return None if values is None else np.asarray(values, dtype=object).reshape(n)


def _empty(values: np.ndarray) -> np.ndarray:
    return np.array([v is None for v in values], dtype=bool)


def _required(cells: Cells, name: str, n: int, check: Checker) -> np.ndarray:
    """A required column's cells; a problem for every empty one."""
    values = _column(cells, name, n)
    if values is None:  # the framework refused the file for the missing column already
        return np.full(n, None, dtype=object)
    check.add_mask(_empty(values), name, "imp_value_missing")
    return values


def _coded(
    values: np.ndarray | None, name: str, spellings: Spellings, check: Checker
) -> np.ndarray | None:
    """Codes of a coded column (None where empty); a problem for every unknown spelling."""
    if values is None:
        return None
    lookup = spellings.lookup()
    codes = np.full(len(values), None, dtype=object)
    for pos, value in enumerate(values):
        if value is None:
            continue
        code = lookup.get(normal(value))
        if code is None:
            check.add(
                check.rows[pos],
                name,
                "imp_unknown_value",
                what=Msg(f"imp_what_{name}"),
                value=repr(value),
                expected=spellings.expected,
            )
        codes[pos] = code
    return codes


def _yes_no(values: np.ndarray | None, name: str, check: Checker) -> np.ndarray | None:
    """0/1 of a yes/no column (empty is 0); a problem for every cell none of the spellings."""
    if values is None:
        return None
    out = np.zeros(len(values), dtype=np.int64)
    for pos, value in enumerate(values):
        answer = parse_yes_no(value)
        if answer is None:
            check.add(
                check.rows[pos], name, "imp_not_yes_no", value=repr(value), expected=YES_NO_EXPECTED
            )
        else:
            out[pos] = int(answer)
    return out


def _known(
    values: np.ndarray, name: str, known: Collection[str], key: str, check: Checker
) -> np.ndarray:
    """True where a cell names something not in ``known``; a problem ``key`` for each."""
    index = known if isinstance(known, pd.Index) else pd.Index(list(known), dtype=object)
    unknown = ~_empty(values) & (index.get_indexer(pd.Index(values, dtype=object)) < 0)
    check.add_mask(unknown, name, key, lambda pos: {"value": repr(values[pos])})
    return unknown


def _frame(columns: dict[str, np.ndarray | None]) -> pd.DataFrame:
    """The stored columns the file holds (a column it lacks is left as stored: upsert)."""
    return pd.DataFrame({k: v for k, v in columns.items() if v is not None})


def _n(cells: Cells) -> int:
    return len(next(iter(cells.values()))) if cells else 0


# --- the four kinds -------------------------------------------------------------------


def check_firms(cells: Cells, check: Checker) -> pd.DataFrame:
    """Firms: id, name and a known sector; party_org and union are names (empty = none)."""
    n = _n(cells)
    columns = {
        "firm_id": _required(cells, "firm_id", n, check),
        "name": _required(cells, "name", n, check),
        "sector": _coded(_required(cells, "sector", n, check), "sector", SECTOR, check),
        "party_org": _column(cells, "party_org", n),
        "union": _column(cells, "union", n),
    }
    return _frame(columns)


def check_outlets(cells: Cells, check: Checker, *, firms: Collection[str]) -> pd.DataFrame:
    """Outlets (attributes; the framework adds the point and grid): a firm in ``firms``."""
    n = _n(cells)
    firm_ids = _required(cells, "firm_id", n, check)
    _known(firm_ids, "firm_id", firms, "imp_unknown_firm", check)
    columns = {
        "outlet_id": _required(cells, "outlet_id", n, check),
        "firm_id": firm_ids,
        "name": _column(cells, "name", n),
        "address": _column(cells, "address", n),
        "party_org": _column(cells, "party_org", n),
    }
    return _frame(columns)


def check_workers(
    cells: Cells,
    check: Checker,
    *,
    firms: Collection[str],
    outlet_firms: Mapping[str, str],
) -> pd.DataFrame:
    """Workers: a firm in ``firms``, an outlet of that firm (``outlet_firms``: outlet -> firm),
    party with relation and return only for members, yes/no spellings, registration only
    for observers."""
    n = _n(cells)
    ids = _required(cells, "worker_id", n, check)
    firm_ids = _required(cells, "firm_id", n, check)
    unknown_firm = _known(firm_ids, "firm_id", firms, "imp_unknown_firm", check)
    outlet_ids = _column(cells, "outlet_id", n)
    if outlet_ids is not None:
        unknown_outlet = _known(
            outlet_ids, "outlet_id", pd.Index(list(outlet_firms)), "imp_unknown_outlet", check
        )
        for pos in np.flatnonzero(~_empty(outlet_ids) & ~unknown_outlet & ~unknown_firm):
            owner = outlet_firms[outlet_ids[pos]]
            if firm_ids[pos] is not None and owner != firm_ids[pos]:
                check.add(
                    check.rows[pos],
                    "outlet_id",
                    "imp_outlet_of_other_firm",
                    outlet=repr(outlet_ids[pos]),
                    owner=repr(owner),
                    firm=repr(firm_ids[pos]),
                )

    party_cells = _column(cells, "party", n)
    party = _coded(party_cells, "party", PARTY, check)
    if party is None:  # no party column: nobody is a member
        not_member = np.ones(n, dtype=bool)
    else:
        party = np.where(_empty(party_cells), "none", party)  # empty = none
        # an unknown spelling (refused above) is not judged member or not
        not_member = ~_empty(party) & ~np.isin(party.astype(str), PARTY_MEMBERS)

    def party_of(pos: int) -> dict[str, object]:
        typed = party_cells[pos] if party_cells is not None else None
        return {"party": repr(typed) if typed is not None else Msg("imp_blank_party")}

    relation_cells = _column(cells, "party_relation", n)
    relation = _coded(relation_cells, "party_relation", RELATION, check)
    if relation is not None:
        given = ~_empty(relation)  # known spellings only: an unknown one was refused already
        check.add_mask(given & not_member, "party_relation", "imp_relation_not_member", party_of)
    returned_on = _column(cells, "returned_on", n)
    if returned_on is not None:
        check.add_mask(
            ~_empty(returned_on) & not_member, "returned_on", "imp_returned_not_member", party_of
        )

    insured = _yes_no(_column(cells, "insured", n), "insured", check)
    insured_on = _column(cells, "insured_on", n)
    if insured_on is not None:
        not_insured = insured == 0 if insured is not None else np.ones(n, dtype=bool)
        check.warn("imp_warn_insured_on_uninsured", ids[~_empty(insured_on) & not_insured])

    observer_cells = _column(cells, "observer", n)
    observer = _yes_no(observer_cells, "observer", check)
    registered_on = _column(cells, "registered_on", n)
    if registered_on is not None:
        # a cell refused as no yes/no is not refused twice
        bad_yes_no = (
            np.array([parse_yes_no(v) is None for v in observer_cells], dtype=bool)
            if observer_cells is not None
            else np.zeros(n, dtype=bool)
        )
        not_observer = (observer == 0 if observer is not None else np.ones(n, bool)) & ~bad_yes_no

        def observer_of(pos: int) -> dict[str, object]:
            typed = observer_cells[pos] if observer_cells is not None else None
            return {"observer": repr(typed) if typed is not None else Msg("imp_blank_no")}

        check.add_mask(
            ~_empty(registered_on) & not_observer,
            "registered_on",
            "imp_registered_not_observer",
            observer_of,
        )

    columns = {
        "worker_id": ids,
        "firm_id": firm_ids,
        "outlet_id": outlet_ids,
        "name": _required(cells, "name", n, check),
        "phone": _column(cells, "phone", n),
        "id_number": _column(cells, "id_number", n),
        "party": party,
        "party_relation": relation,
        "returned_on": returned_on,
        "insured": insured,
        "insured_on": insured_on,
        "observer": observer,
        "registered_on": registered_on,
        "community": _column(cells, "community", n),
    }
    return _frame(columns)


def check_stations(cells: Cells, check: Checker) -> pd.DataFrame:
    """Stations (attributes; the framework adds the point and grid): known services."""
    n = _n(cells)
    services_cells = _column(cells, "services", n)
    services = None
    if services_cells is not None:
        services = np.full(n, None, dtype=object)
        for pos, value in enumerate(services_cells):
            codes, unknown = parse_services(value)
            if unknown:
                check.add(
                    check.rows[pos],
                    "services",
                    "imp_unknown_service",
                    value=repr(", ".join(unknown)),
                    expected=SERVICE.expected,
                )
            services[pos] = join_services(codes)
    columns = {
        "station_id": _required(cells, "station_id", n, check),
        "name": _required(cells, "name", n, check),
        "services": services,
        "host": _column(cells, "host", n),
        "opened_on": _column(cells, "opened_on", n),
    }
    return _frame(columns)


CHECKS: dict[str, Callable[..., pd.DataFrame]] = {
    "firms": check_firms,
    "outlets": check_outlets,
    "workers": check_workers,
    "stations": check_stations,
}
"""The row rules of each kind."""
