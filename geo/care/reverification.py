"""The monthly re-verification (每月核实): who is due, saving a check, progress per grid this month.

A household is due when it is not fresh as the metrics count it (no verification in the
``freshness_days`` days ending on the as-of day; ``geo.metrics.household_status``), so the
list empties exactly as the freshness figure rises. A save either confirms the household
("verified, no change": ``geo.coverage.mark_verified``) or changes some of categories,
members, phone and address and verifies it in the same transaction: the households row,
the verification history and the audit log (which names the fields changed, never their
values: they are personal data).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import pandas as pd

from geo.access.audit import log_event
from geo.care.categories import join_codes, parse_categories
from geo.care.coverage import EditRefused, _known_households, _writing, mark_verified
from geo.care.rules import household_status
from geo.timeutil import day_text, now_local

EDITABLE = ("categories", "members", "phone", "address")
MAX_MEMBERS = 99
MAX_ADDRESS = 200
MAX_PHONE = 32
_PHONE = re.compile(r"^[0-9+\- ()]{3,32}$")
DUE_COLUMNS = [
    "household_id",
    "grid_id",
    "categories",
    "building",
    "address",
    "last_verified",
    "days_since",
]


def due_for_reverification(
    store: object, as_of: dt.date, grid_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Households of ``grid_ids`` (None = all) not verified in the freshness window, oldest first.

    DUE_COLUMNS; never verified first (``days_since`` None), then the longest unverified.
    """
    where = None if grid_ids is None else {"grid_id": list(grid_ids)}
    status = household_status(store, as_of, where=where)
    due = status.loc[~status["fresh"].astype(bool)].copy()
    verified = pd.to_datetime(due["last_verified"], errors="coerce")
    due["days_since"] = pd.array((pd.Timestamp(as_of) - verified).dt.days, dtype="Int64")
    due["_never"] = verified.isna()
    due = due.sort_values(
        ["_never", "days_since", "grid_id", "household_id"],
        ascending=[False, False, True, True],
        ignore_index=True,
    )
    return due[DUE_COLUMNS]


def month_progress(
    store: object, as_of: dt.date, grid_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """Per grid: households, verified this calendar month (up to ``as_of``), the share (None if 0)."""
    where = None if grid_ids is None else {"grid_id": list(grid_ids)}
    households = store.read_attributes("households", ["household_id", "grid_id"], where=where)
    first = day_text(as_of.replace(day=1))
    history = store.read_attributes(
        "verifications",
        ["household_id", "verified_on"],
        where={"household_id": households["household_id"].astype(str).tolist()},
    )
    this_month = history[
        (history["verified_on"] >= first) & (history["verified_on"] <= day_text(as_of))
    ]
    done = set(this_month["household_id"])
    households = households.assign(done=households["household_id"].isin(done))
    table = (
        households.dropna(subset=["grid_id"])
        .groupby("grid_id", sort=True)
        .agg(households=("household_id", "size"), verified=("done", "sum"))
        .reset_index()
    )
    table["verified"] = table["verified"].astype(int)
    table["rate"] = [
        v / n if n else None for v, n in zip(table["verified"], table["households"], strict=True)
    ]
    return table


def clean_changes(changes: dict[str, object]) -> dict[str, object]:
    """The edited fields as stored; raises ``EditRefused`` naming the first bad one."""
    out: dict[str, object] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise EditRefused("ds_rv_not_editable", field=name)
        text = None if value is None else str(value).strip()
        if name == "categories":
            codes, unknown = parse_categories(text or "")
            if unknown:
                raise EditRefused("ds_rv_bad_category", value="、".join(unknown)[:80])
            out[name] = join_codes(codes)
        elif name == "members":
            if not text:
                out[name] = None
            elif not text.isdigit() or int(text) > MAX_MEMBERS:
                raise EditRefused("ds_rv_bad_members", value=text[:20], max=MAX_MEMBERS)
            else:
                out[name] = int(text)
        elif name == "phone":
            if text and not _PHONE.match(text):
                raise EditRefused("ds_rv_bad_phone", max=MAX_PHONE)
            out[name] = text or None
        else:  # address
            if text and len(text) > MAX_ADDRESS:
                raise EditRefused("ds_rv_long_address", max=MAX_ADDRESS)
            out[name] = text or None
    return out


def save_reverification(
    store: object,
    household_id: str,
    changes: dict[str, object] | None,
    actor: str,
    day: dt.date | None = None,
) -> list[str]:
    """Verify ``household_id`` on ``day`` (today), applying ``changes``; returns the fields changed.

    Nothing is written when a change is refused (``EditRefused``); otherwise the
    households row, its verification history and the audit log in one transaction.
    """
    day = day or now_local().date()
    household_id = str(household_id).strip()
    cleaned = clean_changes(changes or {})
    if not _known_households(store, [household_id]):
        raise EditRefused("edit_unknown_household", ids=household_id)
    stored = store.read_attributes(
        "households", list(EDITABLE), where={"household_id": household_id}
    )
    before = stored.iloc[0].to_dict()
    changed = [name for name, value in cleaned.items() if not (_same(before.get(name), value))]
    if not changed:
        mark_verified(store, [household_id], day_text(day), actor)
        return []
    if day > now_local().date():
        raise EditRefused("edit_future", when=day_text(day))
    with _writing(store) as tx:
        tx.update(
            "households",
            {"household_id": household_id},
            {**{name: cleaned[name] for name in changed}, "last_verified": day_text(day)},
        )
        tx.upsert(
            "verifications",
            pd.DataFrame(
                {
                    "household_id": [household_id],
                    "verified_on": [day_text(day)],
                    "actor": [actor],
                    "source": ["web"],
                }
            ),
        )
        log_event(store, actor, "reverify", ",".join(changed), [household_id], tx=tx)
    return changed


def _same(before: object, after: object) -> bool:
    """A stored value and an edited one are the same (empty alike, 3 and '3' alike)."""
    if before is None or (isinstance(before, float) and before != before):
        before = None
    if before is None or after is None:
        return before is None and after is None
    return str(before) == str(after) if not isinstance(after, int) else int(before) == after
