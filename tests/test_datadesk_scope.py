"""A community clerk's upload touches only their community: refused otherwise, nothing written."""

from __future__ import annotations

import shutil

import pytest
from datadesk import (  # noqa: F401
    EAST,
    G1,
    G3,
    WEST,
    build_store,
    digest,
    feature,
    write_csv,
    write_geojson,
)

from geo.access.auth import Viewer
from geo.access.upload_scope import UploadRefused, may_import, upload_vet
from geo.inputs.preview import preview_file, problems_frame
from geo.store import open_store

CLERK = Viewer("clerk_east", "community_staff", community=EAST)
LEADER = Viewer("leader", "street_leader")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def location(template, tmp_path) -> str:
    target = tmp_path / "store.gpkg"
    shutil.copy(template, target)
    return str(target)


def _preview(location, viewer, kind, path, *, replace=False):
    store = open_store(location)
    vet = upload_vet(store, viewer, kind, replace=replace)
    return preview_file(store, kind, path, replace=replace, vet=vet, lang="en")


def _problems(preview) -> list[tuple[int, str]]:
    frame = problems_frame(preview.problems(), preview.report.headers)
    return list(zip(frame["row"].tolist(), frame["column"].tolist(), strict=True))


def test_own_households_pass(location, tmp_path):
    upload = write_csv(
        tmp_path / "h.csv", "户编号,经度,纬度\nH1,111.705,40.845\nH9,111.715,40.841\n"
    )
    preview = _preview(location, CLERK, "households", upload)
    assert preview.ok, preview.problems()
    assert preview.summary.new == 1


def test_a_household_in_another_community_is_refused(location, tmp_path):
    upload = write_csv(
        tmp_path / "h.csv",
        "户编号,经度,纬度\nH1,111.705,40.845\nH9,111.725,40.845\nH10,111.9,40.9\n",
    )
    before = digest(location)
    preview = _preview(location, CLERK, "households", upload)
    assert not preview.ok
    assert _problems(preview) == [(3, "经度"), (4, "经度")]  # H9 lies in G3 (西河), H10 nowhere
    assert "H9" in preview.problems()[0].reason
    assert digest(location) == before


def test_an_existing_household_of_another_community_cannot_be_moved_in(location, tmp_path):
    # H3 is stored in G3 (西河): an east clerk placing it in G1 would take it over
    upload = write_csv(tmp_path / "h.csv", "户编号,经度,纬度\nH3,111.705,40.845\n")
    preview = _preview(location, CLERK, "households", upload)
    assert _problems(preview) == [(2, "户编号")]
    assert "another community" in preview.problems()[0].reason


def test_the_same_file_passes_for_a_street_leader(location, tmp_path):
    upload = write_csv(
        tmp_path / "h.csv", "户编号,经度,纬度\nH3,111.705,40.845\nH9,111.725,40.845\n"
    )
    assert _preview(location, LEADER, "households", upload).ok


def test_visits_of_another_communitys_household(location, tmp_path):
    upload = write_csv(
        tmp_path / "v.csv", "走访编号,户编号,走访时间\nV1,H1,2026-11-20\nV2,H3,2026-11-20\n"
    )
    assert _problems(_preview(location, CLERK, "visits", upload)) == [(3, "户编号")]


def test_staff_of_another_communitys_grid(location, tmp_path):
    upload = write_csv(
        tmp_path / "s.csv", "人员编号,姓名,角色,网格编号\nS1,王芳,网格员,G1\nS2,李强,网格员,G3\n"
    )
    preview = _preview(location, CLERK, "staff", upload)
    assert _problems(preview) == [(3, "网格编号")]


def test_grids_of_another_community(location, tmp_path):
    upload = write_geojson(
        tmp_path / "g.geojson",
        [
            feature({"网格编号": "G1", "社区": EAST}, G1),
            feature({"网格编号": "G3", "社区": EAST}, G3),  # 西河's grid claimed as east's
            feature({"网格编号": "G9", "社区": WEST}, G3.buffer(-0.001)),
        ],
    )
    preview = _preview(location, CLERK, "grids", upload)
    # a vector file's rows are its feature numbers, as the importer counts them
    assert sorted(_problems(preview)) == [(2, "网格编号"), (3, "社区")]


@pytest.mark.parametrize("kind", ["households", "boundary"])
def test_replace_and_boundary_are_not_for_a_clerk(location, tmp_path, kind):
    if kind == "boundary":
        upload = write_geojson(tmp_path / "b.geojson", [feature({"名称": "x"}, G1.buffer(0.1))])
        preview = _preview(location, CLERK, kind, upload)
    else:
        upload = write_csv(tmp_path / "h.csv", "户编号,经度,纬度\nH1,111.705,40.845\n")
        preview = _preview(location, CLERK, kind, upload, replace=True)
    assert not preview.ok
    assert len(preview.problems()) == 1


@pytest.mark.parametrize("role", ["grid_worker", "planner", "meeting"])
def test_other_roles_may_not_upload(location, role):
    viewer = Viewer("x", role, grids=("G1",))
    assert not may_import(viewer)
    with pytest.raises(UploadRefused):
        upload_vet(open_store(location), viewer, "households")


def test_a_presenting_leader_may_not_upload(location):
    presenting = Viewer("leader", "street_leader", presenting=True)
    assert not may_import(presenting)


def test_grids_without_a_community_column_are_refused_for_a_clerk(location, tmp_path):
    upload = write_geojson(tmp_path / "g.geojson", [feature({"网格编号": "G7"}, G3.buffer(-0.002))])
    preview = _preview(location, CLERK, "grids", upload)
    assert _problems(preview) == [(1, "community")]
