"""The importer's progress (the share of a file checked), driving the data desk's bars.

``import_file(progress=)`` is the one callback of both doors: ``gridmap import`` and the
data page's preview and commit. Chunks are made small here (``open_table(chunk_rows=)``)
so a file of a few hundred rows is read in several.
"""

from __future__ import annotations

import functools
import shutil

import openpyxl
import pytest
from datadesk import build_store, digest, write_csv

from geo.inputs import tables
from geo.inputs.importers import core
from geo.inputs.importers.core import import_file
from geo.inputs.preview import preview_file
from geo.store import open_store

ROWS = 230
CHUNK = 50  # five chunks: 50, 50, 50, 50, 30


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def location(template, tmp_path) -> str:
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    return str(target)


@pytest.fixture
def small_chunks(monkeypatch):
    """The importer reads tables ``CHUNK`` rows at a time."""
    monkeypatch.setattr(core, "open_table", functools.partial(tables.open_table, chunk_rows=CHUNK))


def household_rows() -> list[tuple[str, float, float]]:
    return [(f"HP{i:04d}", 111.701 + (i % 90) * 0.0001, 40.841) for i in range(ROWS)]


def csv_file(folder) -> object:
    lines = "".join(f"{h},{x:.6f},{y}\n" for h, x, y in household_rows())
    return write_csv(folder / "many.csv", "户编号,经度,纬度\n" + lines)


def xlsx_file(folder) -> object:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["户编号", "经度", "纬度"])
    for row in household_rows():
        sheet.append(list(row))
    path = folder / "many.xlsx"
    book.save(path)
    return path


def assert_increasing_to_one(shares: list[float]) -> None:
    assert len(shares) >= 5, shares  # a step per chunk, then the end of the checking
    assert all(0 < s <= 1 for s in shares), shares
    assert all(a < b for a, b in zip(shares, shares[1:], strict=False)), shares
    assert shares[-1] == 1.0
    assert shares[0] < 0.5  # the first of five chunks is not most of the file


@pytest.mark.parametrize("make", [csv_file, xlsx_file], ids=["csv", "xlsx"])
def test_progress_rises_chunk_by_chunk_to_one(location, tmp_path, small_chunks, make):
    shares: list[float] = []
    report = import_file(open_store(location), "households", make(tmp_path), progress=shares.append)
    assert report.ok and report.written == ROWS
    assert_increasing_to_one(shares)


def test_the_preview_reports_progress_and_writes_nothing(location, tmp_path, small_chunks):
    before = digest(location)
    shares: list[float] = []
    preview = preview_file(
        open_store(location), "households", csv_file(tmp_path), progress=shares.append
    )
    assert preview.ok and preview.summary.rows == ROWS
    assert_increasing_to_one(shares)
    assert digest(location) == before


def test_a_refused_file_still_ends_its_progress(location, tmp_path, small_chunks):
    text = csv_file(tmp_path).read_text(encoding="utf-8") + "HBAD,东经,40.841\n"
    bad = write_csv(tmp_path / "bad.csv", text)
    before = digest(location)
    shares: list[float] = []
    report = import_file(open_store(location), "households", bad, progress=shares.append)
    assert not report.ok and report.problems[0].row == ROWS + 2
    assert_increasing_to_one(shares)
    assert digest(location) == before


def test_a_csv_with_a_cell_over_two_lines_never_passes_one(location, tmp_path, small_chunks):
    # a quoted address over two lines: one record, two physical lines (the bar's denominator)
    rows = "".join(f'{h},{x:.6f},{y},"一号楼\n二单元"\n' for h, x, y in household_rows())
    path = write_csv(tmp_path / "quoted.csv", "户编号,经度,纬度,地址\n" + rows)
    shares: list[float] = []
    assert import_file(open_store(location), "households", path, progress=shares.append).ok
    assert_increasing_to_one(shares)
