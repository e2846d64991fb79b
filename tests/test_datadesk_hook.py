"""import_file's door for the data desk: inspect the checked rows, dry run, refuse, progress."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from datadesk import EAST, build_store, digest, write_csv  # noqa: F401

from geo.access.auth import Viewer
from geo.inputs.importers.core import import_file
from geo.store import open_store
from ui import datadesk as desk


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def location(template, tmp_path) -> str:
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    return str(target)


def test_inspect_sees_every_checked_row_and_dry_run_writes_nothing(location, tmp_path):
    upload = write_csv(
        tmp_path / "h.csv", "户编号,经度,纬度\nH8,111.706,40.846\nH9,111.707,40.846\n"
    )
    before = digest(location)
    seen = []
    report = import_file(
        open_store(location),
        "households",
        upload,
        inspect=lambda staging, report: seen.append(staging.count()) or "looked",
        dry_run=True,
    )
    assert report.ok and report.inspected == "looked" and seen == [2]
    assert report.written == 0 and digest(location) == before


def test_a_problem_added_by_inspect_refuses_the_file(location, tmp_path):
    upload = write_csv(tmp_path / "h.csv", "户编号,经度,纬度\nH8,111.706,40.846\n")
    before = digest(location)
    report = import_file(
        open_store(location),
        "households",
        upload,
        inspect=lambda staging, report: report.add_problem(2, "lon", "not yours"),
    )
    assert not report.ok and report.written == 0
    assert digest(location) == before


def test_without_the_hook_the_import_writes(location, tmp_path):
    upload = write_csv(tmp_path / "h.csv", "户编号,经度,纬度\nH8,111.706,40.846\n")
    shares = []
    report = import_file(open_store(location), "households", upload, progress=shares.append)
    # progress is the share of the file checked (it was the last line, 2): its one row, then done
    assert report.ok and report.written == 1 and shares == [pytest.approx(0.95), 1.0]


def test_a_clerks_commit_is_checked_in_the_same_call(location, tmp_path):
    clerk = Viewer("clerk", "community_staff", community=EAST)
    folder = tempfile.mkdtemp(dir=tmp_path)
    options = {"encoding": None, "coords": "wgs84", "crs": None, "replace": False}
    copy = desk.UploadedCopy(folder, "h.csv", "households", options)
    copy.path.write_text("户编号,经度,纬度\nH9,111.725,40.845\n", encoding="utf-8")  # 西河's G3
    before = digest(location)
    report = desk.commit_upload(location, clerk, copy, "en")
    assert not report.ok and report.problems[0].row == 2
    assert digest(location) == before
