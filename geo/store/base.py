"""The store interface: ``Store`` and ``Transaction``, what both stores share.

A ``Store`` is one data location holding the tables of ``geo.store.schema``; every write
goes through ``Store.transaction()``, which commits whole or not at all. The GeoPackage
store (``geo.store.geopackage``) and the PostGIS store (``geo.store.postgis``) implement
it; ``geo.store.open_store`` picks one for a location.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import geo.store.care as care
from geo.i18n import MessageError
from geo.store.schema import TABLES, WGS84, Table

Where = dict[str, Any]
WRITE_WAIT_SECONDS = 30.0
"""How long a write waits for another writer (e.g. an import's final copy) before giving up."""


class StoreBusy(MessageError):
    """Another writer held the store longer than the wait; nothing was written (retry later)."""

    def __init__(self, wait: float) -> None:
        super().__init__("busy_wait", seconds=f"{wait:g}")
        self.wait = wait


def empty_frame(table: Table, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """An empty frame with the table's columns (a GeoDataFrame for feature tables)."""
    cols = list(columns) if columns is not None else table.column_names
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    if table.geometry:
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84)
    return frame


class Transaction(ABC):
    """Writes inside one transaction; reads inside it see its own writes.

    Every write method records what it touches of the care state's tables
    (``geo.store.care``) before it runs, then calls the store's own ``_<method>``; the store
    rebuilds the touched grids' care-state blocks before COMMIT
    (``geo.store.care.before_commit``). One place for every writer: no caller can forget it.
    """

    @property
    def touched(self) -> care.Touched:
        """What this transaction's writes touched of the care state's tables."""
        found = self.__dict__.get("_touched")
        if found is None:
            found = self.__dict__["_touched"] = care.Touched()
        return found

    def upsert(self, table: str, frame: pd.DataFrame) -> int:
        """Insert rows, or update the given columns of rows whose key exists; returns rows."""
        care.note_frame(self, table, frame)
        return self._upsert(table, frame)

    def replace(self, table: str, frame: pd.DataFrame | Iterable[pd.DataFrame]) -> int:
        """Replace the whole table by ``frame`` (or by an iterable of frames: chunks of a bulk load); returns rows."""
        care.note_bulk(self, table)
        return self._replace(table, frame)

    def append(self, table: str, frame: pd.DataFrame) -> int:
        """Insert rows (tables without a key, e.g. the audit log); returns rows."""
        care.note_frame(self, table, frame)
        return self._append(table, frame)

    def update(self, table: str, where: Where, values: dict[str, Any]) -> int:
        """Set ``values`` on the rows matching ``where``; returns rows changed."""
        care.note_where(self, table, where, values)
        return self._update(table, where, values)

    def delete(self, table: str, where: Where) -> int:
        """Delete rows matching ``where``; returns rows deleted."""
        care.note_where(self, table, where)
        return self._delete(table, where)

    def set_grid_ids(
        self, table: str, key_values: Sequence[str], grid_ids: Sequence[str | None]
    ) -> None:
        """Set ``grid_id`` of many rows of ``table`` at once (by its single key)."""
        if table == "households":
            care.note_frame(self, table, pd.DataFrame({"household_id": list(key_values)}))
        self._set_grid_ids(table, key_values, grid_ids)

    def load_staged(self, table: str, staging: Any, *, replace: bool) -> int:
        """Write the rows of a ``geo.store.staging.Staging`` (upsert, or replace the table); returns rows."""
        care.note_staged(self, table, staging, replace=replace)
        return self._load_staged(table, staging, replace=replace)

    @abstractmethod
    def _upsert(self, table: str, frame: pd.DataFrame) -> int:
        """``upsert`` in this store."""

    @abstractmethod
    def _replace(self, table: str, frame: pd.DataFrame | Iterable[pd.DataFrame]) -> int:
        """``replace`` in this store."""

    @abstractmethod
    def _append(self, table: str, frame: pd.DataFrame) -> int:
        """``append`` in this store."""

    @abstractmethod
    def _update(self, table: str, where: Where, values: dict[str, Any]) -> int:
        """``update`` in this store."""

    @abstractmethod
    def _delete(self, table: str, where: Where) -> int:
        """``delete`` in this store."""

    @abstractmethod
    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        """As ``Store.read``, inside the transaction."""

    @abstractmethod
    def _set_grid_ids(
        self, table: str, key_values: Sequence[str], grid_ids: Sequence[str | None]
    ) -> None:
        """``set_grid_ids`` in this store."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a store-wide setting (e.g. ``demo_mode``) in the ``gridmap_meta`` table."""

    @abstractmethod
    def meta_value(self, key: str) -> str | None:
        """A store-wide setting as this transaction sees it (None when unset)."""

    @abstractmethod
    def care_grids_of(self, household_ids: Sequence[str]) -> set[str]:
        """The care-state grid keys (stored grid_id, ``""`` for none) of these households now."""

    @abstractmethod
    def care_rebuild(self, keys: set[str] | None) -> None:
        """Rebuild the care-state blocks of grid ``keys`` (None: the whole state) from the tables."""

    def _load_staged(self, table: str, staging: Any, *, replace: bool) -> int:
        """``load_staged`` in this store: read back chunk by chunk (memory stays bounded).

        Stores may copy more directly.
        """
        if replace:
            return self.replace(table, staging.frames())
        return sum(self.upsert(table, frame) for frame in staging.frames())

    @abstractmethod
    def count_sign_in(
        self, username: str, now: str, max_failures: int, lock_until: str
    ) -> dict[str, Any] | None:
        """Count a sign-in attempt of ``username`` before its password is checked; one statement.

        Unless the account is locked (``locked_until`` after ``now``), ``failed_attempts``
        goes up by one (restarting at 1 after an expired lock) and the attempt that reaches
        ``max_failures`` sets ``locked_until`` in the same ``UPDATE ... RETURNING``: however
        many sign-ins run at once, at most ``max_failures`` passwords are checked per lock.
        Returns the account's row after counting plus ``counted`` (False: locked, nothing
        counted), or None when no account has that name.
        """


# One SQL text for both stores (placeholders differ): the attempt number after this one
# (an expired lock starts the count again) and the lock the max-th attempt sets
SIGN_IN_ATTEMPT = (
    "(CASE WHEN COALESCE(locked_until, '') = '' THEN COALESCE(failed_attempts, 0) ELSE 0 END + 1)"
)


def count_sign_in_sql(placeholder: str) -> str:
    """The ``UPDATE users ... RETURNING`` of ``Transaction.count_sign_in`` (params: max, until, name, now)."""
    p = placeholder
    columns = ", ".join(f'"{c}"' for c in TABLES["users"].column_names)
    return (
        f"UPDATE users SET failed_attempts = {SIGN_IN_ATTEMPT}, "
        f"locked_until = CASE WHEN {SIGN_IN_ATTEMPT} >= {p} THEN {p} ELSE NULL END "
        f"WHERE username = {p} AND (COALESCE(locked_until, '') = '' OR locked_until <= {p}) "
        f"RETURNING {columns}"
    )


class Store(ABC):
    """A data location holding the tables of ``geo.store.schema``."""

    location: str

    @abstractmethod
    def exists(self) -> bool:
        """True once something has been written here."""

    @abstractmethod
    def version(self) -> int:
        """A number that changes with every committed write (a cache key)."""

    @abstractmethod
    def read(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        """Rows of ``table`` (a GeoDataFrame in EPSG:4326 for feature tables).

        ``where`` maps a column to a value, or to a list of values (SQL ``IN``); a value
        of None matches NULL.
        """

    @abstractmethod
    def visit_days(self, first_day: str, last_day: str) -> pd.DataFrame:
        """Distinct (household_id, day) pairs with a visit on a day in [first_day, last_day]."""

    def last_visits(
        self, until_day: str, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per household, its latest ``visited_at`` before the end of ``until_day``.

        Columns household_id, last_visited_at (stored text); households never visited by
        then are absent; ``household_ids``: only these households (default all). Stores
        override this with one SQL ``GROUP BY``.
        """
        visits = self.read("visits", ["household_id", "visited_at"], _ids_where(household_ids))
        visits = visits[
            visits["visited_at"].notna() & (visits["visited_at"] < _next_day_text(until_day))
        ]
        last = visits.groupby("household_id", sort=False)["visited_at"].max()
        return pd.DataFrame(
            {"household_id": last.index.astype(object), "last_visited_at": last.to_numpy(object)}
        )

    def last_verifications(
        self, until_day: str, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per household, its latest ``verified_on`` on or before ``until_day`` (the history).

        Columns household_id, verified_on ('YYYY-MM-DD'); households with no verification
        by then are absent; ``household_ids``: only these households (default all). Stores
        override this with one SQL ``GROUP BY``.
        """
        history = self.read(
            "verifications", ["household_id", "verified_on"], _ids_where(household_ids)
        )
        history = history[
            history["verified_on"].notna() & (history["verified_on"] < _next_day_text(until_day))
        ]
        last = history.groupby("household_id", sort=False)["verified_on"].max()
        return pd.DataFrame(
            {"household_id": last.index.astype(object), "verified_on": last.to_numpy(object)}
        )

    def visit_day_masks(
        self, last_day: str, days: int, household_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Per household visited in the ``days`` days ending on ``last_day`` (days <= 62): a bit mask
        with bit k set when it had a visit on ``last_day`` minus k days.

        Columns household_id, mask (int64). The same facts as ``visit_days``, one row per
        household instead of one per visit day: the metrics' hot path at 10M visits.
        ``household_ids``: only these households (default all).
        """
        if not 1 <= days <= 62:
            raise ValueError(f"days must be 1..62, not {days}")
        first = (pd.Timestamp(last_day) - pd.Timedelta(days=days - 1)).strftime("%Y-%m-%d")
        pairs = self.visit_days(first, last_day)
        if household_ids is not None:
            pairs = pairs[pairs["household_id"].isin(list(household_ids))]
        offsets = (pd.Timestamp(last_day) - pd.to_datetime(pairs["day"], format="%Y-%m-%d")).dt.days
        bits = pd.Series(np.left_shift(np.int64(1), offsets.to_numpy(np.int64)), index=pairs.index)
        masks = bits.groupby(pairs["household_id"].astype(object), sort=False).sum()
        return pd.DataFrame(
            {"household_id": masks.index.astype(object), "mask": masks.to_numpy(np.int64)}
        )

    def read_attributes(
        self, table: str, columns: Sequence[str] | None = None, where: Where | None = None
    ) -> pd.DataFrame:
        """As ``read`` but a plain DataFrame without the geometry (no decoding: faster on big tables)."""
        frame = self.read(table, columns, where)
        return (
            pd.DataFrame(frame.drop(columns=frame.geometry.name))
            if isinstance(frame, gpd.GeoDataFrame)
            else frame
        )

    def dangling_references(
        self, table: str, column: str, ref_table: str, ref_column: str
    ) -> list[str]:
        """Distinct non-empty values of ``table.column`` that no ``ref_table.ref_column`` holds, sorted."""
        values = self.read(table, [column])[column]
        known = set(self.read(ref_table, [ref_column])[ref_column].dropna())
        return sorted({v for v in values.dropna() if v != "" and v not in known})

    @abstractmethod
    def transaction(self, wait: float | None = None, staging: Path | None = None) -> Any:
        """A context manager yielding a ``Transaction``; commits on success.

        ``staging``: the file of a ``geo.store.staging.Staging`` the transaction will load
        (``Transaction.load_staged``); a store may open it alongside (SQLite attaches it).

        Waits up to ``wait`` seconds (default ``WRITE_WAIT_SECONDS``) for another writer,
        then raises ``StoreBusy``.
        """

    def care_blocks(self) -> tuple[tuple[int, str | None], list[bytes]] | None:
        """The maintained care state (``geo.store.care``): (data version, state token) and
        every grid's block in its binary form (``geo.carestate.block``), read in one snapshot;
        None when the store has none or it does not match the data version (compute from the
        tables)."""
        return None

    @abstractmethod
    def count(self, table: str) -> int:
        """Rows in ``table``."""

    @abstractmethod
    def meta(self, key: str) -> str | None:
        """A store-wide setting from ``gridmap_meta`` (None when unset or no store yet)."""


def _ids_where(household_ids: Sequence[str] | None) -> Where | None:
    return None if household_ids is None else {"household_id": list(household_ids)}


def _py(value: Any) -> Any:
    """A value sqlite3 can bind: NaN/NA/NaT become NULL, numpy scalars become Python."""
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _next_day_text(day: str) -> str:
    return (pd.Timestamp(day) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
