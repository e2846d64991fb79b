"""The weekly pack's new-employment block: this week, last week, gaps, observer reports."""

from __future__ import annotations

import re

import pytest
from test_employment_gaps import OUTLETS_IN_GRIDS, REPORTS_IN_GRIDS, STATIONS_IN_GRIDS, WORKER_ROWS
from test_employment_metrics import AS_OF, FIRMS

from geo.employment.metrics import EmploymentFrames
from geo.employment.weekly import employment_block
from geo.i18n import t
from geo.outputs.weekly.figures import Figure, figure_texts

FRAMES = EmploymentFrames(FIRMS, OUTLETS_IN_GRIDS, WORKER_ROWS, STATIONS_IN_GRIDS, REPORTS_IN_GRIDS)


def values(figures):
    return {f.key: (f.value, f.previous) for f in figures}


def test_counts_this_week_and_last():
    block = employment_block(FRAMES, AS_OF)
    got = values(block["figures"])
    assert got["emp_workers"] == (7, 7)
    assert got["emp_party_members_returned"] == (2, 1)  # W1 came back on the as-of day
    assert got["emp_observers_registered"] == (2, 1)  # W1 registered on the as-of day
    assert got["emp_stations"] == (2, 1)  # S_TODAY opened on the as-of day
    assert got["emp_outlets_near_station"] == (3, 2)
    # a week before: W3 and W7 only (W1 from the as-of day, W6 from 11-26)
    assert got["emp_insured_rate"] == (round(4 / 7, 4), round(2 / 7, 4))


def test_gaps_and_observer_reports():
    block = employment_block(FRAMES, AS_OF)
    assert values(block["gaps"]) == {
        "emp_gap_outlets_without_party_org": (2, 2),
        "emp_gap_outlets_beyond_reach": (2, 3),
        "emp_gap_uninsured_workers": (3, 5),
        "emp_gap_observers_not_registered": (2, 3),
        "emp_gap_mobile_not_returned": (1, 2),
    }
    # filed 11-21..11-27: R1 only (R9 is a duplicate, R6-R8 are no observer's)
    assert values(block["reports"]) == {"emp_reports_filed": (1, 0), "emp_reports_resolved": (0, 0)}
    assert all(f.higher_is_better is False for f in block["gaps"])


def test_small_counts_are_suppressed_as_the_pack_does():
    block = employment_block(FRAMES, AS_OF)
    filed = next(f for f in block["reports"] if f.key == "emp_reports_filed")
    value, change, _ = figure_texts(Figure(*filed))
    assert value == "<3" and change == ""
    rate = next(f for f in block["figures"] if f.key == "emp_insured_rate")
    assert figure_texts(Figure(*rate))[0] == "57.1%"


def test_an_empty_street():
    block = employment_block(EmploymentFrames(), AS_OF)
    assert all(f.value in (0, None) for group in block.values() for f in group)


# --- the pack itself (gridmap weekly): a page in the PDF, a sheet in the XLSX ---------------


@pytest.fixture(scope="module")
def demo_pack(tmp_path_factory):
    import datetime as dt

    from geo.demo.build import build_demo
    from geo.store import open_store

    folder = tmp_path_factory.mktemp("employment_pack")
    location = str(folder / "demo.gpkg")
    as_of = dt.date(2026, 11, 27)
    build_demo(open_store(location), households=2000, as_of=as_of)
    return location, as_of, folder


def _pdf_text(path) -> list[str]:
    from pypdf import PdfReader

    return [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(path).pages]


def test_the_pdf_gains_a_new_employment_page_without_personal_data(demo_pack):
    from geo.outputs.weekly.pack import write_weekly
    from geo.store import open_store

    location, as_of, folder = demo_pack
    pages = _pdf_text(write_weekly(open_store(location), as_of, folder / "w.pdf"))
    assert len(pages) == 2 and "新就业群体" not in pages[0]
    page = pages[1]
    for label in ("新就业群体", "企业", "从业人员", "参保率", "无党组织覆盖的网点", "观察员上报"):
        assert label in page, label
    firms = open_store(location).read_attributes("firms")
    assert "按企业" in page and all(name in page for name in firms["name"])
    workers = open_store(location).read_attributes("workers")
    assert not any(name in page for name in workers["name"])
    assert not any(worker_id in page for worker_id in workers["worker_id"])
    assert not re.search(r"1[3-9]\d{9}", page)


def test_the_xlsx_gains_a_new_employment_sheet_with_small_counts_hidden(demo_pack):
    import openpyxl

    from geo.employment.load import load_frames
    from geo.outputs.weekly.pack import write_weekly
    from geo.store import open_store

    location, as_of, folder = demo_pack
    path = write_weekly(open_store(location), as_of, folder / "w.xlsx")
    book = openpyxl.load_workbook(path)
    assert "新就业群体" in book.sheetnames
    rows = list(book["新就业群体"].iter_rows(values_only=True))
    by_label = {row[0]: row[1:] for row in rows[1:]}
    block = employment_block(load_frames(open_store(location)), as_of)
    for figure in (*block["figures"], *block["gaps"], *block["reports"]):
        shown = by_label[t(figure.key)][0]
        if figure.kind == "count" and 0 < figure.value < 3:
            assert shown is None  # hidden, a grey cell with a note
        elif figure.kind == "count":
            assert shown == figure.value
    by_firm = list(book["新就业群体·按企业"].iter_rows(values_only=True))
    assert len(by_firm) == 1 + open_store(location).count("firms")
    counts = [v for row in by_firm[1:] for v in row[2:] if isinstance(v, int)]
    assert counts and not any(0 < v < 3 for v in counts)  # 1 and 2 are hidden cells
    workers = open_store(location).read_attributes("workers")
    text = str(rows) + str(by_firm)
    assert not any(name in text for name in workers["name"])
