"""No XLSX gridmap writes holds a formula: data from files and forms is written as text."""

from __future__ import annotations

import ast
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from geo.care.coverage import visit_worklist, worklist_xlsx
from geo.cli import main
from geo.demo.build import build_demo
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]
# what a spreadsheet would run, or read as a formula once the cell is edited
HOSTILE = [
    "=1+1",
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "\t=1+1",
    "＝1+1",
]


def _cells(data: bytes | Path) -> list:
    """Every cell of every sheet of an XLSX (as written, formulas not evaluated)."""
    workbook = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_text_not_formula(cells: list, expected: list[str]) -> None:
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
    assert formulas == []
    by_value = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in expected:
        assert text in by_value, text  # kept, as it was typed
        assert by_value[text].data_type == "s" and by_value[text].quotePrefix


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    """A small demo store whose grid names, addresses and buildings hold formula-like text."""
    store = open_store(str(tmp_path_factory.mktemp("xlsx") / "demo.gpkg"))
    build_demo(store, households=300, as_of=dt.date(2026, 11, 27))
    grids = store.read_attributes("grids", ["grid_id"])
    households = store.read_attributes("households", ["household_id"])
    with store.transaction() as tx:
        tx.upsert(
            "grids",
            grids.assign(name=[HOSTILE[i % len(HOSTILE)] for i in range(len(grids))]),
        )
        tx.upsert(
            "households",
            households.assign(
                address=[HOSTILE[i % len(HOSTILE)] for i in range(len(households))],
                building=[HOSTILE[(i + 1) % len(HOSTILE)] for i in range(len(households))],
            ),
        )
    return store


def test_the_work_list_writes_addresses_and_names_as_text(hostile_store):
    worklist = visit_worklist(hostile_store, dt.date(2026, 11, 27))
    assert len(worklist) and set(worklist["address"]) & set(HOSTILE)
    cells = _cells(worklist_xlsx(worklist))
    shown = set(worklist["address"]) | set(worklist["building"]) | set(worklist["grid_name"])
    _assert_text_not_formula(cells, [h for h in HOSTILE if h in shown])


def test_the_weekly_pack_writes_grid_names_as_text(hostile_store, tmp_path):
    out = tmp_path / "weekly.xlsx"
    argv = ["weekly", "--db", hostile_store.location, "--as-of", "2026-11-27", "--out", str(out)]
    assert main(argv) == 0
    cells = _cells(out)
    _assert_text_not_formula(cells, HOSTILE)
    sheets = openpyxl.load_workbook(out).sheetnames
    grids_sheet = next(s for s in openpyxl.load_workbook(out).worksheets if s.title == "各网格")
    names = {c.value for row in grids_sheet.iter_rows(min_row=2) for c in row}
    assert set(HOSTILE) <= names and "重点关注网格" in sheets


def test_numbers_stay_numbers():
    from geo.outputs.xlsx import write_sheet

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        write_sheet(
            writer, pd.DataFrame({"n": [1, -2], "rate": [0.5, None], "t": ["-3", "a"]}), "s"
        )
    cells = {c.coordinate: c for c in _cells(buffer.getvalue())}
    assert (cells["A2"].value, cells["A3"].value, cells["B2"].value) == (1, -2, 0.5)
    assert cells["A3"].data_type == "n" and not cells["A3"].quotePrefix
    assert cells["C2"].value == "-3" and cells["C2"].quotePrefix  # text that looks like a sum


def test_every_xlsx_is_written_by_the_shared_writer():
    """``to_excel`` appears only in geo/outputs/xlsx.py: a new export cannot skip the text rule."""
    callers = []
    for path in [*ROOT.glob("geo/**/*.py"), *ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py")]:
        if path == ROOT / "geo" / "outputs" / "xlsx.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"to_excel", "Workbook"}:
                callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert callers == []
