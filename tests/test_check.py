"""Data-quality findings on tiny hand-built stores."""

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.metrics.check import Finding, run_checks
from geo.store import open_store

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Three grids in Hohhot, WGS-84: G1 | G2 share an edge, G3 overlaps G2 by half of G2;
    only G1 has a grid worker and a party branch; a few data problems planted."""
    store = open_store(str(tmp_path_factory.mktemp("check") / "t.gpkg"))
    d = 0.01
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2", "G3"], "party_branch": ["第一党支部", "", None]},
        geometry=[
            box(111.70, 40.84, 111.70 + d, 40.84 + d),
            box(111.71, 40.84, 111.71 + d, 40.84 + d),
            box(111.715, 40.84, 111.715 + d, 40.84 + d),
        ],
        crs=WGS84,
    )
    households = gpd.GeoDataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4"],
            "grid_id": ["G1", "G2", None, "G9"],
            "last_verified": ["2026-11-27", "2026-10-28", "2026-11-01", None],
        },
        geometry=[
            Point(111.705, 40.845),
            Point(111.712, 40.845),
            Point(111.9, 40.9),
            Point(111.705, 40.845),
        ],
        crs=WGS84,
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("households", households)
        tx.upsert(
            "visits",
            pd.DataFrame(
                {
                    "visit_id": ["V1", "V2", "V3"],
                    "household_id": ["H1", "HX", "HX"],
                    "visited_at": ["2026-11-20 10:00:00"] * 3,
                }
            ),
        )
        tx.upsert(
            "staff",
            pd.DataFrame(
                {
                    "staff_id": ["S1", "S2", "S3"],
                    "role": ["grid_worker", "police", "grid_worker"],
                    "grid_id": ["G1", "G2", "G7"],
                }
            ),
        )
        tx.upsert(
            "reports",
            gpd.GeoDataFrame(
                {
                    "report_id": ["R1", "R2"],
                    "reported_at": ["2026-11-20 10:00:00"] * 2,
                    "grid_id": ["G1", None],
                },
                geometry=[Point(111.705, 40.845), Point(111.9, 40.9)],
                crs=WGS84,
            ),
        )
    return store


def by_kind(findings):
    return {f.kind: f for f in findings}


@pytest.mark.parametrize(
    ("kind", "severity", "ids"),
    [
        ("household_outside_grids", "warning", ["H3"]),
        ("household_unknown_grid", "error", ["H4"]),
        ("grids_overlap", "warning", ["G2", "G3"]),  # the shared edge G1|G2 is no overlap
        ("grid_without_worker", "warning", ["G2", "G3"]),
        ("grid_without_party_branch", "warning", ["G2", "G3"]),
        ("stale_verification", "warning", ["H2", "H4"]),  # H3 (11-01) is within 30 days
        ("visit_unknown_household", "error", ["HX"]),
        ("staff_unknown_grid", "error", ["G7"]),
        ("report_unassigned", "warning", ["R2"]),
    ],
)
def test_findings(store, kind, severity, ids):
    found = by_kind(run_checks(store, AS_OF))
    assert found[kind].severity == severity
    assert found[kind].ids == ids


def test_each_overlapping_pair_once_with_its_area(store):
    overlaps = [f for f in run_checks(store, AS_OF) if f.kind == "grids_overlap"]
    assert len(overlaps) == 1
    # half of a 0.01° square at 40.84° N: about 0.005 * 0.01 * 111.3 km * 84.2 km ≈ 469,000 m²
    area = float(overlaps[0].message.split("约 ")[1].split(" ")[0].replace(",", ""))
    assert 440_000 < area < 500_000


def test_stale_share_and_language(store):
    zh = by_kind(run_checks(store, AS_OF))["stale_verification"]
    en = by_kind(run_checks(store, AS_OF, lang="en"))["stale_verification"]
    assert "50.0%" in zh.message and "近30天" in zh.message
    assert en.message == "2 household(s) (50.0%) not verified within 30 days"


def test_errors_come_first_and_serialise(store):
    findings = run_checks(store, AS_OF)
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert json.loads(json.dumps([f.to_dict() for f in findings]))[0].keys() == {
        "kind",
        "severity",
        "message",
        "ids",
    }


def test_finding_str_shows_a_few_ids():
    finding = Finding("stale_verification", "warning", "12 户", [f"H{i:02d}" for i in range(12)])
    assert (
        str(finding)
        == "[warning] stale_verification: 12 户: H00, H01, H02, H03, H04, H05, H06, H07, H08, H09 … (+2)"
    )


def test_clean_and_empty_stores_have_no_findings(tmp_path):
    assert run_checks(open_store(str(tmp_path / "none.gpkg")), AS_OF) == []
    clean = open_store(str(tmp_path / "clean.gpkg"))
    with clean.transaction() as tx:
        tx.upsert(
            "grids",
            gpd.GeoDataFrame(
                {"grid_id": ["G1"], "party_branch": ["支部"]},
                geometry=[box(111.70, 40.84, 111.71, 40.85)],
                crs=WGS84,
            ),
        )
        tx.upsert(
            "staff", pd.DataFrame({"staff_id": ["S1"], "role": ["grid_worker"], "grid_id": ["G1"]})
        )
        tx.upsert(
            "households",
            gpd.GeoDataFrame(
                {"household_id": ["H1"], "grid_id": ["G1"], "last_verified": ["2026-11-27"]},
                geometry=[Point(111.705, 40.845)],
                crs=WGS84,
            ),
        )
    assert run_checks(clean, AS_OF) == []
