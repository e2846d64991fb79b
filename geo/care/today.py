"""Today's visits for a grid worker's phone (今日走访): due households by category colour, red first.

The same households as the coverage page's work list (``geo.coverage.visit_worklist``:
due today or overdue), ordered as a grid worker walks them: by the most pressing
category (red daily visits first, then yellow, ...; the configuration's order), then the
most overdue. Each row carries the colour of that category for the phone's list. A
household visited on the day is done for that day and leaves the list (a red household
still short of its seven days stays on the coverage work list, not on today's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from geo.care.coverage import visit_worklist
from geo.config import load_config

TODAY_COLUMNS = [
    "household_id",
    "grid_id",
    "categories",
    "first_category",
    "colour",
    "building",
    "address",
    "last_visit",
    "days_overdue",
]


def first_category(categories: object, codes: list[str]) -> str | None:
    """The most pressing category a household holds (configuration order), or None."""
    held = set(str(categories or "").split(";"))
    return next((c for c in codes if c in held), None)


def today_visits(store: object, as_of: dt.date, grid_ids: Iterable[str] | None) -> pd.DataFrame:
    """The visits due on ``as_of`` in ``grid_ids`` (None = all): TODAY_COLUMNS, red first."""
    config = load_config()
    codes = config.category_codes
    where = None if grid_ids is None else {"grid_id": list(grid_ids)}
    rows = visit_worklist(store, as_of, where=where)
    visited_today = rows["last_visit"].astype(str).str.startswith(as_of.isoformat())
    rows = rows.loc[~visited_today.to_numpy(bool)]
    first = [first_category(c, codes) for c in rows["categories"]]
    colours = {c.code: c.hex for c in config.categories}
    rows = rows.assign(
        first_category=first,
        colour=[colours.get(c, config.ordinary_hex) for c in first],
        _rank=[codes.index(c) if c in codes else len(codes) for c in first],
    )
    rows = rows.sort_values(
        ["_rank", "days_overdue", "household_id"], ascending=[True, False, True], ignore_index=True
    )
    return rows[TODAY_COLUMNS]
