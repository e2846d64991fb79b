"""Coverage by building per grid (counts only): its figures, the coverage page, the weekly pack."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
from test_coverage_page import demo_store, demo_template, open_page  # noqa: F401  (fixtures)

from geo.buildings.coverage import coverage_by_building, coverage_totals
from geo.buildings.read import linked, read_buildings
from geo.care.rules import household_status
from geo.demo.build import build_demo
from geo.outputs.weekly.pack import write_weekly
from geo.store import open_store
from geo.timeutil import today

AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    store = open_store(str(tmp_path_factory.mktemp("bc") / "demo.gpkg"))
    build_demo(store, seed=9, households=1200, as_of=AS_OF)
    return store


def test_the_counts_per_grid_are_the_buildings_and_their_households(street):
    coverage = coverage_by_building(street, AS_OF).set_index("grid_id")
    buildings = read_buildings(street)
    rows = linked(household_status(street, AS_OF), buildings)
    for grid_id, mine in buildings.groupby("grid_id"):
        row = coverage.loc[grid_id]
        assert row["buildings"] == len(mine)
        assert row["buildings_without_party_group"] == mine["party_group"].isna().sum()
        homes = rows[rows["grid_id"] == grid_id]
        overdue = homes.loc[homes["overdue"], "building_id"].dropna().nunique()
        assert row["buildings_with_overdue"] == overdue
        assert row["households_in_buildings"] == homes["building_id"].notna().sum()
        assert row["households_without_building"] == homes["building_id"].isna().sum()
    totals = coverage_totals(coverage.reset_index())
    assert totals["buildings"] == street.count("buildings")
    assert totals["households_in_buildings"] + totals["households_without_building"] == (
        street.count("households") - int(rows["grid_id"].isna().sum())
    )


def test_a_store_without_buildings_has_no_coverage_by_building(tmp_path):
    store = open_store(str(tmp_path / "empty.gpkg"))
    assert coverage_by_building(store, AS_OF).empty
    assert coverage_totals(coverage_by_building(store, AS_OF))["buildings"] == 0


def test_the_weekly_workbook_has_a_sheet_of_coverage_by_building(street, tmp_path):
    out = write_weekly(street, AS_OF, tmp_path / "weekly.xlsx")
    assert "楼栋覆盖" in openpyxl.load_workbook(out).sheetnames
    sheet = pd.read_excel(out, sheet_name="楼栋覆盖").set_index("网格")
    expected = coverage_by_building(street, AS_OF).set_index("grid_id")
    assert sheet["楼栋数"].tolist() == expected["buildings"].tolist()
    assert sheet["无党小组楼栋"].tolist() == expected["buildings_without_party_group"].tolist()
    assert sheet["有走访逾期的楼栋"].tolist() == expected["buildings_with_overdue"].tolist()
    # a household count under 3 is hidden, as everywhere in the pack
    small = expected["households_without_building"].between(1, 2)
    assert sheet.loc[small.to_numpy(), "未关联楼栋户数"].isna().all()


@pytest.mark.parametrize("role", ["admin", "planner"])
def test_the_coverage_page_shows_coverage_by_building(demo_store, monkeypatch, role):  # noqa: F811
    at = open_page(demo_store, monkeypatch, username=f"cov_{role}", role=role)
    cards = {m.label: m.value for m in at.metric}
    expected = coverage_totals(coverage_by_building(open_store(demo_store), today()))
    assert cards["楼栋数"] == f"{expected['buildings']:,}"
    assert cards["无党小组楼栋"] == f"{expected['buildings_without_party_group']:,}"
    assert cards["有走访逾期的楼栋"] == f"{expected['buildings_with_overdue']:,}"
    table = next(df.value for df in at.dataframe if "楼栋数" in df.value.columns)
    assert table["楼栋数"].sum() == expected["buildings"]


def test_a_grid_worker_sees_the_buildings_of_their_grid_only(demo_store, monkeypatch):  # noqa: F811
    grid_id = open_store(demo_store).read_attributes("buildings", ["grid_id"])["grid_id"].iloc[0]
    at = open_page(demo_store, monkeypatch, username="w1", role="grid_worker", grids=[grid_id])
    table = next(df.value for df in at.dataframe if "楼栋数" in df.value.columns)
    assert table["网格"].tolist() == [grid_id]


def test_the_weekly_pdf_counts_the_buildings_under_the_map(street, tmp_path):
    from pypdf import PdfReader

    out = write_weekly(street, AS_OF, tmp_path / "weekly.pdf")
    text = PdfReader(out).pages[0].extract_text()
    totals = coverage_totals(coverage_by_building(street, AS_OF))
    assert "楼栋覆盖" in text
    block = text[text.index("楼栋覆盖") :].split()
    assert str(totals["buildings"]) in block and str(totals["buildings_with_overdue"]) in block


def test_a_pack_without_buildings_has_no_building_block(tmp_path):
    from pypdf import PdfReader

    store = open_store(str(tmp_path / "s.gpkg"))
    build_demo(store, seed=2, households=200, as_of=AS_OF)
    with store.transaction() as tx:
        tx.replace("buildings", read_buildings(store).iloc[:0])
    out = write_weekly(store, AS_OF, tmp_path / "weekly.pdf")
    assert "楼栋覆盖" not in PdfReader(out).pages[0].extract_text()


def test_a_grid_scope_holds_its_own_buildings_only(street):
    from geo.access.scope import GridScope

    own = street.read_attributes("buildings", ["grid_id"])["grid_id"].iloc[0]
    scoped = GridScope(street, [own])
    assert set(scoped.read("buildings")["grid_id"]) == {own}
    assert coverage_by_building(scoped, AS_OF)["grid_id"].tolist() == [own]
