"""The shortcuts that make ``gridmap metrics`` and ``gridmap weekly`` fast at 1M households
(issue 16) give the figures of the straightforward code: text membership on pyarrow text,
building coverage of a past day without the visits since, and the weekly pack's reads."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pandas as pd
import pytest

import geo.store.geopackage as geopackage
from geo.asof import text_isin
from geo.buildings.coverage import coverage_by_building
from geo.buildings.figures import building_coverage, building_figures
from geo.buildings.read import linked
from geo.care.rules import household_rules_met, household_status
from geo.demo.build import build_demo
from geo.outputs.weekly.figures import weekly_figures
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)
PAST = AS_OF - dt.timedelta(days=9)  # households were visited and verified since
HISTORY = ["last_visit", "next_due", "fresh", "last_verified"]


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("scale") / "demo.gpkg"))
    build_demo(store, seed=5, households=1500, as_of=AS_OF)
    return store


@pytest.mark.parametrize(
    "values",
    [
        {"a"},
        set(),
        ["b", None],
        ["b", np.nan],
        [1, "c", 2.5],
        pd.Series(["c", "a", None]),
        ("zz",),
        {"a": 1, "d": 2},
    ],
)
@pytest.mark.parametrize("dtype", ["str", object, "string[pyarrow]"])
def test_text_isin_is_pandas_isin(values, dtype):
    series = pd.Series(["a", "b", None, "c", "d", "a"], index=[9, 3, 4, 5, 6, 7], dtype=dtype)
    pd.testing.assert_series_equal(text_isin(series, values), series.isin(values))


@pytest.fixture(params=["state", "tables"])
def served(request, monkeypatch):
    if request.param == "tables":
        monkeypatch.setenv("GRIDMAP_CARE_STATE", "off")
    return request.param


class _VisitsSince:
    """Counts the reads of the visits/verifications before a day (the 10 s scans at 1M)."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        for name in ("last_visits", "last_verifications"):
            original = getattr(geopackage.GeoPackageStore, name)
            monkeypatch.setattr(geopackage.GeoPackageStore, name, self._counted(original))

    def _counted(self, original):
        def counted(store, *args, **kwargs):
            self.calls += 1
            return original(store, *args, **kwargs)

        return counted


def test_the_rules_met_of_a_past_day_are_the_status_without_its_history(
    street, served, monkeypatch
):
    scans = _VisitsSince(monkeypatch)
    status = household_status(street, PAST)
    if served == "state":
        assert scans.calls > 0  # the day is before visits the blocks hold: status reads them
    before = scans.calls
    met = household_rules_met(street, PAST)
    pd.testing.assert_frame_equal(met, status.drop(columns=HISTORY), check_dtype=False)
    if served == "state":
        assert scans.calls == before  # ... and the rules met do not
    assert met["overdue"].any() and (~met["overdue"]).any()


def test_building_coverage_of_a_past_day_reads_no_visits_and_counts_as_before(street, monkeypatch):
    buildings = street.read_attributes(
        "buildings", ["building_id", "grid_id", "name", "party_group", "units", "floors"]
    )
    rows = linked(household_status(street, PAST), buildings)
    expected = building_coverage(building_figures(buildings, rows), rows)
    assert expected["buildings_with_overdue"].sum() > 0
    scans = _VisitsSince(monkeypatch)
    coverage = coverage_by_building(street, PAST)
    assert scans.calls == 0
    pd.testing.assert_frame_equal(coverage, expected)


class _CountingReads:
    """A store that counts its attribute reads (table, columns, where)."""

    def __init__(self, store) -> None:
        self._store = store
        self.reads: Counter = Counter()

    def read_attributes(self, table, columns=None, where=None):
        self.reads[(table, tuple(columns) if columns is not None else None, repr(where))] += 1
        return self._store.read_attributes(table, columns, where)

    def care_blocks(self):
        return self._store.care_blocks()

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_the_weekly_pack_reads_each_table_once_for_its_nine_days(street):
    store = _CountingReads(street)
    figures = weekly_figures(store, AS_OF)  # type: ignore[arg-type]
    assert figures["metrics"]["reports"]["total"] > 0
    assert store.reads, "the pack reads attributes"
    assert max(store.reads.values()) == 1, store.reads.most_common(3)


@pytest.mark.parametrize("dtype", ["str", object, "string[pyarrow]", "string[python]"])
def test_stored_text_of_pyarrow_text_is_the_general_path(dtype):
    from geo.asof import stored_text

    series = pd.Series([" x ", None, "y\t", "", " ", "z"], index=[4, 1, 2, 3, 0, 9], dtype=dtype)
    general = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    pd.testing.assert_series_equal(stored_text(series), general)
