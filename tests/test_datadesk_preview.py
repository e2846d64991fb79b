"""The import preview (geo.inputs.preview): columns understood, counts, rows outside grids, problems."""

from __future__ import annotations

import shutil

import pytest
from datadesk import build_store, digest, write_csv  # noqa: F401
from pg import pg_location  # noqa: F401  (fixture)

from geo.inputs.importers.core import import_file
from geo.inputs.preview import preview_file, problems_frame
from geo.store import open_store


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The two-community store, built once."""
    return build_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def location(template, tmp_path) -> str:
    """A private copy of the store."""
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    return str(target)


def test_counts_new_changed_unchanged_and_writes_nothing(location, tmp_path):
    upload = write_csv(
        tmp_path / "户.csv",
        "户编号,经度,纬度,类别,地址,人数,备注栏\n"
        "H1,111.705,40.845,红,一号楼,1,\n"  # unchanged
        "H2,111.715,40.845,黄,二号楼东,2,\n"  # address changed
        "H4,111.706,40.846,粉,四号楼,4,\n"  # new
        "H5,111.80,40.90,,五号楼,1,\n",  # new, outside every grid
    )
    before = digest(location)
    store = open_store(location)
    preview = preview_file(store, "households", upload, lang="en")
    assert preview.ok, preview.problems()
    summary = preview.summary
    assert (summary.rows, summary.new, summary.changed, summary.unchanged) == (4, 2, 1, 1)
    assert summary.removed == 0
    assert summary.outside_count == 1
    assert summary.outside["household_id"].tolist() == ["H5"]
    assert summary.outside["row"].tolist() == [5]  # the spreadsheet line (header is line 1)
    assert summary.outside["lon"].tolist() == [111.80]
    # how each column was understood, header as the file spells it
    assert dict(zip(preview.columns["header"], preview.columns["field"], strict=True)) == {
        "户编号": "household_id",
        "经度": "lon",
        "纬度": "lat",
        "类别": "categories",
        "地址": "address",
        "人数": "members",
        "备注栏": "",
    }
    # the first rows as they would be stored, in file order
    head = summary.head
    assert head["household_id"].tolist() == ["H1", "H2", "H4", "H5"]
    assert head["categories"].tolist()[:3] == ["red", "yellow", "pink"]
    assert head["grid_id"].tolist()[:3] == ["G1", "G2", "G1"]
    assert digest(location) == before  # a preview writes nothing


def test_the_counts_agree_with_what_the_import_then_does(location, tmp_path):
    upload = write_csv(
        tmp_path / "h.csv", "户编号,经度,纬度,类别\nH1,111.705,40.845,红\nH2,111.715,40.845,红\n"
    )
    store = open_store(location)
    preview = preview_file(store, "households", upload)
    assert (preview.summary.new, preview.summary.changed, preview.summary.unchanged) == (0, 1, 1)
    assert import_file(store, "households", upload).ok
    again = preview_file(store, "households", upload)  # now everything is stored as in the file
    assert (again.summary.new, again.summary.changed, again.summary.unchanged) == (0, 0, 2)


def test_replace_counts_the_rows_it_would_remove(location, tmp_path):
    upload = write_csv(tmp_path / "h.csv", "户编号,经度,纬度\nH1,111.705,40.845\n")
    preview = preview_file(open_store(location), "households", upload, replace=True)
    assert preview.summary.removed == 2  # H2, H3 are not in the file


def test_staff_composite_keys_and_visits_without_ids(location, tmp_path):
    store = open_store(location)
    staff = write_csv(
        tmp_path / "s.csv", "人员编号,姓名,角色,网格编号\nS1,王芳,网格员,G1\nS1,王芳,网格员,G2\n"
    )
    assert import_file(store, "staff", staff).ok
    staff2 = write_csv(
        tmp_path / "s2.csv",
        "人员编号,姓名,角色,网格编号\nS1,王芳,网格长,G1\nS1,王芳,网格员,G2\nS2,李强,民警,G1\n",
    )
    summary = preview_file(store, "staff", staff2).summary
    assert (summary.new, summary.changed, summary.unchanged) == (1, 1, 1)
    visits = write_csv(tmp_path / "v.csv", "户编号,走访时间\nH1,2026-11-20 09:00\nH2,2026/11/21\n")
    summary = preview_file(store, "visits", visits).summary
    assert (summary.new, summary.unchanged) == (1, 1)  # the derived id of H1's visit is stored


def test_problems_as_a_frame_with_rows_and_the_files_headers(location, tmp_path):
    upload = write_csv(
        tmp_path / "bad.csv",
        "户编号,经度,纬度,类别\nH7,abc,40.845,红\nH8,111.705,40.845,彩\nH7,111.7,40.8,\n",
    )
    before = digest(location)
    preview = preview_file(open_store(location), "households", upload, lang="en")
    assert not preview.ok and preview.summary is None
    frame = problems_frame(preview.problems(), preview.report.headers)
    assert list(frame.columns) == ["row", "column", "reason"]
    assert frame["row"].tolist() == [2, 3, 4]
    assert frame["column"].tolist() == ["经度", "类别", "户编号"]
    assert "abc" in frame["reason"][0] and "彩" in frame["reason"][1]
    assert "row 2" in frame["reason"][2] or "2" in frame["reason"][2]  # the first row with H7
    assert digest(location) == before


def test_zh_reasons_by_default(location, tmp_path):
    upload = write_csv(tmp_path / "bad.csv", "户编号,经度,纬度\nH7,abc,40.845\n")
    preview = preview_file(open_store(location), "households", upload)
    reason = problems_frame(preview.problems(), preview.report.headers)["reason"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in reason)


def test_the_uploaded_name_is_the_name_problems_carry(location, tmp_path):
    upload = write_csv(tmp_path / "tmp123.csv", "户编号,经度,纬度\nH7,abc,40.845\n")
    preview = preview_file(open_store(location), "households", upload, file_name="住户.csv")
    assert preview.file_name == "住户.csv"
    assert all(p.file == "住户.csv" for p in preview.problems())


def test_grids_previewed_again_are_unchanged(location, tmp_path):
    from datadesk import EAST, G1, G2, feature, write_geojson

    upload = write_geojson(
        tmp_path / "g.geojson",
        [
            feature({"网格编号": "G1", "网格名称": "一网格", "社区": EAST}, G1),
            feature({"网格编号": "G2", "网格名称": "二网格(新)", "社区": EAST}, G2),
        ],
    )
    summary = preview_file(open_store(location), "grids", upload).summary
    assert (summary.new, summary.changed, summary.unchanged) == (0, 1, 1)


def test_preview_on_postgis_counts_and_writes_nothing(pg_location, tmp_path):  # noqa: F811
    store = open_store(pg_location)
    first = write_csv(tmp_path / "h.csv", "户编号,经度,纬度,类别\nH1,111.705,40.845,红\n")
    assert import_file(store, "households", first).ok
    version = store.version()
    upload = write_csv(
        tmp_path / "h2.csv", "户编号,经度,纬度,类别\nH1,111.705,40.845,红\nH2,111.706,40.845,黄\n"
    )
    summary = preview_file(store, "households", upload).summary
    assert (summary.new, summary.changed, summary.unchanged) == (1, 0, 1)
    assert store.version() == version and store.count("households") == 1


def test_a_huge_bad_file_counts_every_problem(location, tmp_path):
    lines = "".join(f"H{i},abc,40.845\n" for i in range(1200))
    upload = write_csv(tmp_path / "big.csv", "户编号,经度,纬度\n" + lines)
    preview = preview_file(open_store(location), "households", upload)
    assert len(preview.problems()) == 1000 and preview.problem_count == 1200
