"""Metrics of the data contract, checked against hand-computed expectations on tiny stores."""

import datetime as dt
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pg import pg_location  # noqa: F401  (fixture)
from shapely.geometry import Point, box

from geo.care.rules import household_status
from geo.config import DEFAULTS_PATH, load_config
from geo.inputs.assign import assign_to_grids
from geo.metrics.contract import compute_metrics
from geo.metrics.tables import community_table, grid_table
from geo.metrics.text import format_metrics
from geo.reports.states import report_states
from geo.store import open_store

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)
CODES = ["red", "yellow", "orange", "green", "pink", "blue", "purple"]


def day(offset: int, time: str = "10:00:00") -> str:
    """The stored timestamp ``offset`` days before AS_OF at ``time``."""
    return f"{AS_OF - dt.timedelta(days=offset):%Y-%m-%d} {time}"


def make_store(tmp_path, households=(), visits=(), reports=(), grids=None, staff=()):
    """A GeoPackage store in tmp_path with two unit grids G1 | G2 (shared edge x=1, WGS-84) by default.

    households: (id, grid_id, categories, last_verified); visits: (household_id, visited_at);
    reports: dicts of report columns; staff: (staff_id, role, grid_id).
    """
    store = open_store(str(tmp_path / "t.gpkg"))
    if grids is None:
        grids = gpd.GeoDataFrame(
            {
                "grid_id": ["G2", "G1"],
                "community": ["C", "C"],
                "party_branch": [None, "第一党支部"],
            },
            geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)],
            crs=WGS84,
        )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        if households:
            ids, grid_ids, cats, verified = zip(*households, strict=True)
            tx.upsert(
                "households",
                gpd.GeoDataFrame(
                    {
                        "household_id": ids,
                        "grid_id": grid_ids,
                        "categories": cats,
                        "last_verified": verified,
                        "head_name": ["张三"] * len(ids),
                        "phone": ["13812341234"] * len(ids),
                    },
                    geometry=[Point(0.5, 0.5)] * len(ids),
                    crs=WGS84,
                ),
            )
        if visits:
            hh, at = zip(*visits, strict=True)
            tx.upsert(
                "visits",
                pd.DataFrame(
                    {
                        "visit_id": [f"V{i}" for i in range(len(hh))],
                        "household_id": hh,
                        "visited_at": at,
                    }
                ),
            )
        if reports:
            frame = pd.DataFrame(list(reports))
            tx.upsert(
                "reports",
                gpd.GeoDataFrame(frame, geometry=[Point(0.5, 0.5)] * len(frame), crs=WGS84),
            )
        if staff:
            sid, role, grid = zip(*staff, strict=True)
            tx.upsert("staff", pd.DataFrame({"staff_id": sid, "role": role, "grid_id": grid}))
    return store


def visit_of(result, code):
    return result["visits"]["by_category"][code]


# --- visit rules and window edges -----------------------------------------------------

RED_WEEK = [day(d) for d in range(1, 7)]  # six of the seven days; the as-of day is added per case


@pytest.mark.parametrize(
    ("categories", "stamps", "compliant"),
    [
        ("red", [*RED_WEEK, day(0, "23:59:59")], True),  # last second of the as-of day counts
        ("red", [*RED_WEEK, day(-1, "00:00:00")], False),  # first second of the next day does not
        ("red", [day(d) for d in range(0, 7) if d != 3], False),  # missing one day
        ("red", [day(d) for d in range(1, 8)], False),  # day 8 is outside the window
        (
            "yellow",
            [day(0), day(3), day(6)],
            True,
        ),  # 3 distinct days, the oldest on the window's first day
        ("yellow", [day(0), day(3), day(7)], False),  # the 8th day back is outside
        ("yellow", [day(0, "08:00:00"), day(0, "18:00:00"), day(4)], False),  # 3 visits on 2 days
        (
            "yellow",
            [day(1), day(2), day(-1)],
            False,
        ),  # a visit after the as-of day has not happened
        ("pink", [day(29, "00:00:00")], True),  # day 30 of the monthly window
        ("pink", [day(30, "23:59:59")], False),  # day 31
        ("pink", [], False),
        ("red;pink", [*RED_WEEK, day(0)], True),  # both rules met by the same visits
        ("red;pink", [day(0), day(1)], False),  # pink met, red not: not compliant overall
    ],
)
def test_visit_rules(tmp_path, categories, stamps, compliant):
    store = make_store(
        tmp_path, households=[("H1", "G1", categories, None)], visits=[("H1", s) for s in stamps]
    )
    result = compute_metrics(store, AS_OF)
    assert result["visits"]["overall"] == {
        "required": 1,
        "compliant": int(compliant),
        "rate": float(compliant),
    }
    status = household_status(store, AS_OF)
    assert status["compliant"].tolist() == [compliant]
    assert status["overdue"].tolist() == [not compliant]


def test_several_categories_are_counted_per_category_and_once_overall(tmp_path):
    store = make_store(
        tmp_path,
        households=[
            ("H1", "G1", "red;pink", None),
            ("H2", "G1", "pink", None),
            ("H3", "G1", None, None),
        ],
        visits=[("H1", day(0)), ("H2", day(40))],
    )
    result = compute_metrics(store, AS_OF)
    assert result["households"]["by_category"] == {
        "red": 1,
        "yellow": 0,
        "orange": 0,
        "green": 0,
        "pink": 2,
        "blue": 0,
        "purple": 0,
    }
    assert visit_of(result, "red") == {"required": 1, "compliant": 0, "rate": 0.0}
    assert visit_of(result, "pink") == {"required": 2, "compliant": 1, "rate": 0.5}
    assert visit_of(result, "blue") == {"required": 0, "compliant": 0, "rate": None}
    assert result["visits"]["overall"] == {"required": 2, "compliant": 0, "rate": 0.0}


def test_rules_come_from_configuration(tmp_path, monkeypatch):
    """A deployment that asks red households to be visited on each of 3 days, not 7."""
    defaults = DEFAULTS_PATH.read_text(encoding="utf-8")
    assert 'rule = { kind = "every_day", days = 7 }' in defaults
    patched = tmp_path / "defaults.toml"
    patched.write_text(
        defaults.replace('kind = "every_day", days = 7', 'kind = "every_day", days = 3'),
        encoding="utf-8",
    )
    monkeypatch.setattr("geo.config.DEFAULTS_PATH", patched)
    load_config.cache_clear()
    try:
        store = make_store(
            tmp_path,
            households=[("H1", "G1", "red", None)],
            visits=[("H1", day(0)), ("H1", day(1)), ("H1", day(2))],
        )
        assert visit_of(compute_metrics(store, AS_OF), "red")["compliant"] == 1
        assert household_status(store, AS_OF)["next_due"].tolist() == ["2026-11-28"]
    finally:
        load_config.cache_clear()


@pytest.mark.parametrize(
    ("categories", "stamps", "next_due"),
    [
        ("red", [day(d) for d in range(7)], "2026-11-28"),  # due again tomorrow
        ("yellow", [day(0), day(2), day(5)], "2026-11-29"),  # the 3rd latest day (11-22) + 7
        ("yellow", [day(0)], "2026-11-27"),  # too few days: due now
        ("pink", [day(3)], "2026-12-24"),  # 11-24 + 30
        ("pink", [day(45)], "2026-11-12"),  # broken since: last visit 10-13 + 30
        ("red;pink", [day(d) for d in range(7)], "2026-11-28"),  # the earliest rule wins
        (None, [day(0)], None),  # ordinary household: no rule
    ],
)
def test_next_due(tmp_path, categories, stamps, next_due):
    store = make_store(
        tmp_path, households=[("H1", "G1", categories, None)], visits=[("H1", s) for s in stamps]
    )
    status = household_status(store, AS_OF)
    assert status["next_due"].tolist() == [next_due]
    if next_due and not status["compliant"].iloc[0]:
        assert next_due <= AS_OF.isoformat()


def test_household_status_columns_and_last_visit(tmp_path):
    store = make_store(
        tmp_path,
        households=[("H1", "G1", "pink", "2026-11-01"), ("H2", None, None, None)],
        visits=[("H1", day(2)), ("H1", day(0, "23:59:59")), ("H1", day(-1, "00:00:00"))],
    )
    status = household_status(store, AS_OF)
    assert status["household_id"].tolist() == ["H1", "H2"]
    assert status["last_visit"].tolist() == ["2026-11-27 23:59:59", None]
    assert status["required"].tolist() == [True, False]
    assert status["compliant"].tolist() == [True, True]  # ordinary households are compliant
    assert not {"head_name", "phone", "id_number"} & set(status.columns)
    assert {
        "household_id",
        "grid_id",
        "categories",
        "building",
        "address",
        "compliant",
        "required",
        "overdue",
        "last_visit",
        "next_due",
        "fresh",
        "last_verified",
    } <= set(status.columns)


def test_household_status_where(tmp_path):
    store = make_store(
        tmp_path,
        households=[("H1", "G1", "pink", None), ("H2", "G2", "pink", None)],
        visits=[("H2", day(1))],
    )
    status = household_status(store, AS_OF, where={"grid_id": "G2"})
    assert status[["household_id", "compliant"]].values.tolist() == [["H2", True]]


@pytest.mark.parametrize("days_back", [0, 20])  # 20: re-verified since, the history decides
def test_household_status_where_reads_only_those_households_and_agrees(tmp_path, days_back):
    """Restricted to some grids, the status rows equal those rows of the full computation."""
    from geo.demo.build import build_demo

    store = open_store(str(tmp_path / "demo.gpkg"))
    build_demo(store, households=400, as_of=AS_OF)
    as_of = AS_OF - dt.timedelta(days=days_back)
    full = household_status(store, as_of)
    grids = sorted(full["grid_id"].dropna().unique())[:2]
    part = household_status(store, as_of, where={"grid_id": grids})
    expected = full[full["grid_id"].isin(grids)].reset_index(drop=True)
    assert 0 < len(part) < len(full)
    pd.testing.assert_frame_equal(
        part.sort_values("household_id").reset_index(drop=True),
        expected.sort_values("household_id").reset_index(drop=True),
    )


# --- freshness --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verified", "fresh"),
    [
        ("2026-11-27", True),  # the as-of day
        ("2026-10-29", True),  # the 30th day back
        ("2026-10-28", False),  # the 31st
        ("2026-11-28", False),  # after the as-of day
        (None, False),  # missing
    ],
)
def test_freshness(tmp_path, verified, fresh):
    store = make_store(
        tmp_path, households=[("H1", "G1", None, verified), ("H2", "G1", None, "2026-11-20")]
    )
    assert compute_metrics(store, AS_OF)["freshness"] == {
        "verified_within_30_days": 1 + fresh,
        "rate": (1 + fresh) / 2,
    }


# --- reports ----------------------------------------------------------------------------


def report(report_id, reported_at, **steps):
    return {
        "report_id": report_id,
        "source": "hotline",
        "category": "环境",
        "reported_at": reported_at,
        "grid_id": steps.pop("grid_id", "G1"),
        **steps,
    }


@pytest.mark.parametrize(
    ("reported_at", "resolved_at", "overdue"),
    [
        ("2026-11-23 00:00:00", None, False),  # exactly 120 h before the end of the as-of day
        ("2026-11-22 23:59:59", None, True),  # 120 h + 1 s
        (
            "2026-11-22 23:59:59",
            "2026-11-27 23:59:59",
            False,
        ),  # resolved by the end of the as-of day
        ("2026-11-22 23:59:59", "2026-11-28 00:00:00", True),  # resolved only the next day
    ],
)
def test_overdue_edge(tmp_path, reported_at, resolved_at, overdue):
    store = make_store(tmp_path, reports=[report("R1", reported_at, resolved_at=resolved_at)])
    assert compute_metrics(store, AS_OF)["reports"]["overdue"] == int(overdue)
    states = report_states(store.read("reports"), AS_OF)
    assert states["state"].tolist() == [
        "overdue" if overdue else ("resolved" if resolved_at and not overdue else "open")
    ]


def test_report_counts_and_rates(tmp_path):
    reports = [
        # responded, resolved, followed up, satisfied
        report(
            "R1",
            day(10),
            responded_at=day(10),
            resolved_at=day(9),
            followed_up_at=day(8),
            satisfaction="satisfied",
        ),
        # resolved, no follow-up date but a recorded satisfaction (taken), zh label
        report("R2", day(10), responded_at=day(9), resolved_at=day(8), satisfaction="不满意"),
        # resolved; follow-up after the as-of day: not followed up, satisfaction not yet known
        report(
            "R3",
            day(3),
            responded_at=day(3),
            resolved_at=day(2),
            followed_up_at=day(-1),
            satisfaction="unsatisfied",
        ),
        # responded only after the as-of day; open; not overdue (reported 2 days ago)
        report("R4", day(1), responded_at=day(-1)),
        # open and overdue
        report("R5", day(6), responded_at=day(6)),
        # reported after the as-of day: not counted at all
        report("R6", day(-1), responded_at=day(-1), resolved_at=day(-1)),
        # linked to R5 at intake: a duplicate, not counted
        report("R7", day(6), duplicate_of="R5"),
        # follow-up recorded without a resolution: not followed up
        report("R8", day(2), followed_up_at=day(1), satisfaction="satisfied"),
    ]
    store = make_store(tmp_path, reports=reports)
    assert compute_metrics(store, AS_OF)["reports"] == {
        "total": 6,
        "responded": 4,
        "resolved": 3,
        "followed_up": 1,
        "response_rate": round(4 / 6, 4),
        "completion_rate": 0.5,
        "satisfaction_rate": 0.5,  # R1 satisfied, R2 unsatisfied; R3 not yet known, R8 unresolved
        "followup_rate": round(1 / 3, 4),
        "overdue": 1,
    }
    states = report_states(store.read("reports"), AS_OF).set_index("report_id")
    assert states["state"].to_dict() == {
        "R1": "followed_up",
        "R2": "resolved",
        "R3": "resolved",
        "R4": "open",
        "R5": "overdue",
        "R6": None,
        "R7": "overdue",
        "R8": "open",
    }
    assert states.loc["R4", "hours_left"] == pytest.approx(
        120 - 38
    )  # reported 10:00 the day before
    assert states.loc["R5", "hours_left"] == pytest.approx(120 - 158)
    assert math.isnan(states.loc["R1", "hours_left"])


def test_report_states_at_now():
    frame = pd.DataFrame(
        {"report_id": ["R1"], "reported_at": ["2026-11-22 12:00:00"], "resolved_at": [None]}
    )
    now = dt.datetime(2026, 11, 27, 11, 0, 0)
    states = report_states(frame, AS_OF, now=now)
    assert states["state"].tolist() == ["open"]
    assert states["hours_left"].tolist() == [pytest.approx(1.0)]
    later = report_states(frame, AS_OF)  # end of the as-of day
    assert later["state"].tolist() == ["overdue"]
    assert later["hours_left"].tolist() == [pytest.approx(-12.0)]


# --- structure, grids and empty stores -------------------------------------------------


def test_empty_store_gives_zeros_and_null_rates(tmp_path):
    store = open_store(str(tmp_path / "missing.gpkg"))
    result = compute_metrics(store, AS_OF)
    assert list(result) == [
        *("as_of", "households", "visits", "freshness", "grids", "reports"),
        "cases",  # issue 19
        "new_employment",
    ]
    assert result["new_employment"]["insured_rate"] is None
    assert set(result["new_employment"].values()) == {0, None}
    assert result["cases"]["open"] == result["cases"]["owned"] == 0
    assert result["cases"]["followup_rate"] is None
    assert result["as_of"] == "2026-11-27"
    assert result["households"] == {
        "total": 0,
        "unassigned": 0,
        "by_category": dict.fromkeys(CODES, 0),
    }
    assert list(result["visits"]["by_category"]) == CODES
    assert all(
        v == {"required": 0, "compliant": 0, "rate": None}
        for v in result["visits"]["by_category"].values()
    )
    assert result["visits"]["overall"] == {"required": 0, "compliant": 0, "rate": None}
    assert result["freshness"] == {"verified_within_30_days": 0, "rate": None}
    assert result["grids"] == {
        "total": 0,
        "with_party_branch": 0,
        "with_grid_worker": 0,
        "mean_staff_per_grid": 0.0,
    }
    assert list(result["reports"]) == [
        "total",
        "responded",
        "resolved",
        "followed_up",
        "response_rate",
        "completion_rate",
        "satisfaction_rate",
        "followup_rate",
        "overdue",
    ]
    assert all(
        result["reports"][k] is None
        for k in ("response_rate", "completion_rate", "satisfaction_rate", "followup_rate")
    )
    assert compute_metrics(store, AS_OF, by="grid") == {"as_of": "2026-11-27", "grids": []}
    assert json.loads(json.dumps(result)) == result
    assert grid_table(store, AS_OF).empty
    assert community_table(store, AS_OF).empty


def test_grids_section(tmp_path):
    store = make_store(
        tmp_path,
        staff=[("S1", "grid_worker", "G1"), ("S1", "grid_worker", "G2"), ("S2", "police", "G1")],
    )
    assert compute_metrics(store, AS_OF)["grids"] == {
        "total": 2,
        "with_party_branch": 1,
        "with_grid_worker": 2,
        "mean_staff_per_grid": 1.5,
    }


def test_household_on_a_shared_edge_is_counted_once(tmp_path):
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=WGS84
    )
    edge = assign_to_grids([1.0, 0.5, 5.0], [0.5, 0.5, 5.0], grids).tolist()
    store = make_store(
        tmp_path,
        grids=grids,
        households=[(h, g, "pink", None) for h, g in zip(["E", "H", "X"], edge, strict=True)],
    )
    overall = compute_metrics(store, AS_OF)
    by_grid = compute_metrics(store, AS_OF, by="grid")["grids"]
    assert overall["households"]["total"] == 3 and overall["households"]["unassigned"] == 1
    assert [g["households"]["total"] for g in by_grid] == [2, 0]
    assert sum(g["households"]["total"] for g in by_grid) + overall["households"]["unassigned"] == 3


def test_by_grid(tmp_path):
    store = make_store(
        tmp_path,
        households=[
            ("H1", "G1", "red", day(0)[:10]),
            ("H2", "G2", "pink", None),
            ("H3", None, "pink", None),
        ],
        visits=[("H2", day(5))],
        reports=[
            report("R1", day(7)),
            report("R2", day(1), grid_id="G2", resolved_at=day(0)),
            report("R3", day(1), grid_id=None),
        ],
    )
    result = compute_metrics(store, AS_OF, by="grid")
    assert [g["grid_id"] for g in result["grids"]] == ["G1", "G2"]  # sorted, every grid
    g1, g2 = result["grids"]
    assert list(g1) == [
        *("grid_id", "households", "visits", "freshness", "reports"),
        "new_employment",
    ]
    assert g1["households"] == {
        "total": 1,
        "unassigned": 0,
        "by_category": {**dict.fromkeys(CODES, 0), "red": 1},
    }
    assert g1["visits"]["overall"] == {"required": 1, "compliant": 0, "rate": 0.0}
    assert g2["visits"]["overall"] == {"required": 1, "compliant": 1, "rate": 1.0}
    assert g1["freshness"] == {"verified_within_30_days": 1, "rate": 1.0}
    assert (g1["reports"]["total"], g1["reports"]["overdue"]) == (1, 1)
    assert (
        g2["reports"]["total"],
        g2["reports"]["resolved"],
        g2["reports"]["completion_rate"],
    ) == (1, 1, 1.0)
    # the grid table agrees with the per-grid JSON
    table = grid_table(store, AS_OF).set_index("grid_id")
    assert table.loc["G1", "visit_rate"] == 0.0 and table.loc["G2", "visit_rate"] == 1.0
    assert table.loc["G1", "reports_overdue"] == 1 and table.loc["G2", "completion_rate"] == 1.0
    assert np.isnan(table.loc["G1", "satisfaction_rate"])


def test_grid_and_community_tables(tmp_path):
    grids = gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2", "G3"],
            "name": ["一", "二", "三"],
            "community": ["东河", "东河", "北垣"],
            "street": ["S", "S", "S"],
            "party_branch": ["支部", "", None],
        },
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2)],
        crs=WGS84,
    )
    store = make_store(
        tmp_path,
        grids=grids,
        households=[
            ("H1", "G1", "pink", None),
            ("H2", "G1", "pink", None),
            ("H3", "G2", "pink", None),
            ("H4", "G3", None, None),
        ],
        visits=[("H1", day(1)), ("H3", day(2))],
        staff=[
            ("S1", "grid_worker", "G1"),
            ("S2", "grid_worker", "G1"),
            ("S3", "police", "G1"),
            ("S4", "volunteer", "G2"),
        ],
    )
    table = grid_table(store, AS_OF)
    assert table["grid_id"].tolist() == ["G1", "G2", "G3"]
    assert table["has_party_branch"].tolist() == [True, False, False]
    assert table["households"].tolist() == [2, 1, 1]
    assert table["n_pink"].tolist() == [2, 1, 0]
    assert table["visit_rate"].tolist()[:2] == [0.5, 1.0] and np.isnan(table["visit_rate"].iloc[2])
    assert table["grid_workers"].tolist() == [2, 0, 0]
    assert table["staff_total"].tolist() == [3, 1, 0]
    assert table["staff_by_role"].tolist() == [
        {"grid_worker": 2, "police": 1},
        {"volunteer": 1},
        {},
    ]
    assert table["households_per_worker"].iloc[0] == 1.0 and np.isnan(
        table["households_per_worker"].iloc[1]
    )
    communities = community_table(store, AS_OF).set_index("community")
    assert communities.loc["东河", "households"] == 3
    assert communities.loc["东河", "visit_rate"] == round(
        2 / 3, 4
    )  # from counts, not the mean of 0.5 and 1.0
    assert (
        communities.loc["东河", "grids"] == 2
        and communities.loc["东河", "grids_without_worker"] == 1
    )
    assert communities.loc["东河", "staff_by_role"] == {
        "grid_worker": 2,
        "police": 1,
        "volunteer": 1,
    }
    assert np.isnan(communities.loc["北垣", "households_per_worker"])  # no grid worker


# --- terminal output --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh-CN", ["独居老人", "办结率", "33.3%"]),
        ("en", ["elderly living alone", "Completion rate", "33.3%"]),
    ],
)
def test_format_metrics(tmp_path, lang, words):
    store = make_store(
        tmp_path,
        households=[
            ("H1", "G1", "red", None),
            ("H2", "G1", "pink", None),
            ("H3", "G1", "pink", None),
        ],
        visits=[("H2", day(0))],
    )
    text = format_metrics(compute_metrics(store, AS_OF), lang)
    assert "2026-11-27" in text
    for word in words:
        assert word in text
    by_grid = format_metrics(compute_metrics(store, AS_OF, by="grid"), lang)
    assert "G1" in by_grid and "G2" in by_grid


def test_long_windows_read_visit_days_instead_of_masks(tmp_path, monkeypatch):
    """A 90-day rule (longer than the 62 days a bit mask holds) gives the same answers."""
    defaults = DEFAULTS_PATH.read_text(encoding="utf-8")
    patched = tmp_path / "defaults.toml"
    text = defaults.replace(
        'code = "blue"\nzh = "孕妇"\nen = "pregnant woman"\ncolour_zh = "蓝"\nhex = "#2f6fd6"\n'
        'rule = { kind = "distinct_days", days = 30, min_days = 1 }',
        'code = "blue"\nzh = "孕妇"\nen = "pregnant woman"\ncolour_zh = "蓝"\nhex = "#2f6fd6"\n'
        'rule = { kind = "distinct_days", days = 90, min_days = 2 }',
    )
    assert text != defaults
    patched.write_text(text, encoding="utf-8")
    monkeypatch.setattr("geo.config.DEFAULTS_PATH", patched)
    load_config.cache_clear()
    try:
        store = make_store(
            tmp_path,
            households=[("H1", "G1", "blue", None), ("H2", "G1", "blue;pink", None)],
            visits=[("H1", day(89)), ("H1", day(60)), ("H2", day(90)), ("H2", day(5))],
        )
        result = compute_metrics(store, AS_OF)
        assert visit_of(result, "blue") == {"required": 2, "compliant": 1, "rate": 0.5}
        assert visit_of(result, "pink") == {"required": 1, "compliant": 1, "rate": 1.0}
        status = household_status(store, AS_OF)
        # H1: 2nd latest day is 89 days back -> due on that day + 90; H2: 1 day in 90 -> due now
        assert status["next_due"].tolist() == ["2026-11-28", "2026-11-27"]
    finally:
        load_config.cache_clear()


def test_store_read_defaults_agree_with_the_geopackage_sql(tmp_path):
    """The base-class fallbacks (what a new store gets for free) give what the SQL gives."""
    store = make_store(
        tmp_path,
        households=[("H1", "G1", "red", None), ("H2", "G2", None, None)],
        visits=[
            ("H1", day(0, "23:59:59")),
            ("H1", day(0, "08:00:00")),
            ("H1", day(2)),
            ("H1", day(-1)),
            ("H2", day(40)),
            ("HX", day(1)),
        ],
        staff=[("S1", "grid_worker", "G1"), ("S2", "police", "G9")],
    )
    base = type(store).__mro__[1]
    masks = store.visit_day_masks(AS_OF.isoformat(), 30).sort_values("household_id")
    assert masks.values.tolist() == [["H1", 0b101], ["HX", 0b10]]
    assert base.visit_day_masks(store, AS_OF.isoformat(), 30).sort_values(
        "household_id"
    ).values.tolist() == (masks.values.tolist())
    last = store.last_visits(AS_OF.isoformat()).sort_values("household_id").values.tolist()
    assert last == [["H1", day(0, "23:59:59")], ["H2", day(40)], ["HX", day(1)]]
    assert (
        base.last_visits(store, AS_OF.isoformat()).sort_values("household_id").values.tolist()
        == last
    )
    for args, expected in [
        (("visits", "household_id", "households", "household_id"), ["HX"]),
        (("staff", "grid_id", "grids", "grid_id"), ["G9"]),
    ]:
        assert store.dangling_references(*args) == expected
        assert base.dangling_references(store, *args) == expected
    attributes = store.read_attributes("households", ["household_id", "grid_id"])
    assert list(attributes.columns) == ["household_id", "grid_id"] and "geometry" not in attributes
    assert base.read_attributes(
        store, "households", ["household_id", "grid_id"]
    ).values.tolist() == (attributes.values.tolist())


def naive_metrics(households, visits, reports, as_of):
    """The contract read literally, one household and one report at a time (a reference)."""
    config = load_config()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    days_of: dict[str, set[dt.date]] = {}
    for household_id, at in visits:
        stamp = dt.datetime.fromisoformat(at)
        if stamp < end:
            days_of.setdefault(household_id, set()).add(stamp.date())

    def meets(household_id, rule, on):
        window = {on - dt.timedelta(days=k) for k in range(rule.days)}
        return len(days_of.get(household_id, set()) & window) >= rule.min_days

    by_category = {code: [0, 0] for code in CODES}
    required = compliant = 0
    due = {}
    for household_id, _, categories, _ in households:
        codes = categories.split(";") if categories else []
        results = [meets(household_id, config.category(c).rule, as_of) for c in codes]
        for code, ok in zip(codes, results, strict=True):
            by_category[code][0] += 1
            by_category[code][1] += ok
        required += bool(codes)
        compliant += bool(codes) and all(results)
        if codes and all(results):
            # the first day after as_of on which, with no further visits, some rule fails
            later = as_of + dt.timedelta(days=1)
            while all(meets(household_id, config.category(c).rule, later) for c in codes):
                later += dt.timedelta(days=1)
            due[household_id] = later.isoformat()
    counted = [
        r for r in reports if r["reported_at"] < f"{end:%Y-%m-%d}" and not r.get("duplicate_of")
    ]

    def by_end(value):
        return bool(value) and value < f"{end:%Y-%m-%d}"

    resolved = [r for r in counted if by_end(r.get("resolved_at"))]
    overdue = [
        r
        for r in counted
        if not by_end(r.get("resolved_at"))
        and (end - dt.datetime.fromisoformat(r["reported_at"])).total_seconds() > 120 * 3600
    ]
    return by_category, (required, compliant), due, (len(counted), len(resolved), len(overdue))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_stores_agree_with_a_literal_reading(tmp_path, seed):
    rng = np.random.default_rng(seed)
    combos = [None, "red", "yellow", "pink", "red;pink", "yellow;orange;blue", "green", "purple"]
    households = [(f"H{i:02d}", "G1", combos[rng.integers(len(combos))], None) for i in range(40)]
    visits = []
    for household_id, *_ in households:
        for _ in range(rng.integers(0, 25)):
            offset = int(rng.integers(-3, 45))
            visits.append(
                (household_id, day(offset, f"{rng.integers(24):02d}:{rng.integers(60):02d}:00"))
            )
    reports = []
    for i in range(30):
        reported = int(rng.integers(-2, 12))
        steps = (
            {"resolved_at": day(reported - int(rng.integers(0, 8)))} if rng.random() < 0.6 else {}
        )
        if rng.random() < 0.1:
            steps["duplicate_of"] = "R00"
        reports.append(report(f"R{i:02d}", day(reported, f"{rng.integers(24):02d}:00:00"), **steps))
    store = make_store(tmp_path, households=households, visits=visits, reports=reports)
    by_category, (required, compliant), due, (total, resolved, overdue) = naive_metrics(
        households, visits, reports, AS_OF
    )
    result = compute_metrics(store, AS_OF)
    for code in CODES:
        got = visit_of(result, code)
        assert [got["required"], got["compliant"]] == by_category[code], code
    assert (result["visits"]["overall"]["required"], result["visits"]["overall"]["compliant"]) == (
        required,
        compliant,
    )
    assert (
        result["reports"]["total"],
        result["reports"]["resolved"],
        result["reports"]["overdue"],
    ) == (
        total,
        resolved,
        overdue,
    )
    status = household_status(store, AS_OF).set_index("household_id")
    for household_id, expected in due.items():
        assert status.loc[household_id, "next_due"] == expected, household_id
    assert due and len(due) < required  # both compliant and overdue households occur
    broken = status[status["overdue"]]
    assert (broken["next_due"] <= AS_OF.isoformat()).all()


# --- freshness from the verification history -------------------------------------------


@pytest.fixture(params=["gpkg", "postgis"])
def history_store(request, tmp_path):
    """H1 verified 2026-11-01 and 2026-11-20 (stored: 11-20); H2 stored 2026-11-01 but the
    history also holds a later 11-25 (a date corrected back by a re-import); H3 never."""
    if request.param == "gpkg":
        store = open_store(str(tmp_path / "h.gpkg"))
    else:
        store = open_store(request.getfixturevalue("pg_location"))
    with store.transaction() as tx:
        tx.upsert(
            "grids",
            gpd.GeoDataFrame({"grid_id": ["G1"]}, geometry=[box(0, 0, 1, 1)], crs=WGS84),
        )
        tx.upsert(
            "households",
            gpd.GeoDataFrame(
                {
                    "household_id": ["H1", "H2", "H3"],
                    "grid_id": ["G1", "G1", "G1"],
                    "last_verified": ["2026-11-20", "2026-11-01", None],
                },
                geometry=[Point(0.5, 0.5)] * 3,
                crs=WGS84,
            ),
        )
        tx.upsert(
            "verifications",
            pd.DataFrame(
                {
                    "household_id": ["H1", "H1", "H2", "H2", "H3"],
                    "verified_on": [
                        "2026-11-01",
                        "2026-11-20",
                        "2026-11-01",
                        "2026-11-25",
                        "2026-11-02",
                    ],
                }
            ),
        )
    return store


@pytest.mark.parametrize(
    ("as_of", "fresh", "shown"),
    [
        # H1 as of 11-10: 11-20 had not happened; the history's 11-01 counts
        ("2026-11-10", {"H1", "H2"}, ["2026-11-01", "2026-11-01", None]),
        ("2026-10-31", set(), [None, None, None]),  # nothing had happened yet
        ("2026-11-27", {"H1", "H2"}, ["2026-11-20", "2026-11-01", None]),
        ("2026-11-30", {"H1", "H2"}, ["2026-11-20", "2026-11-01", None]),
        # H2: the stored date wins once it has happened (a corrected date is not overruled
        # by the later one in the history); H3: no stored date = not fresh, as the contract
        ("2026-12-01", {"H1"}, ["2026-11-20", "2026-11-01", None]),
        ("2026-12-25", set(), ["2026-11-20", "2026-11-01", None]),
    ],
)
def test_freshness_as_of_a_past_day_reads_the_history(history_store, as_of, fresh, shown):
    day = dt.date.fromisoformat(as_of)
    status = household_status(history_store, day)
    assert set(status.loc[status["fresh"], "household_id"]) == fresh
    assert status["last_verified"].tolist() == shown
    assert compute_metrics(history_store, day)["freshness"]["verified_within_30_days"] == len(fresh)
    table = grid_table(history_store, day).set_index("grid_id")
    assert table.loc["G1", "fresh"] == len(fresh)


def test_history_of_only_the_stored_dates_changes_nothing(tmp_path):
    """A store filled from a households file: every as-of day gives the contract's figure."""
    verified = ["2026-11-27", "2026-10-29", "2026-10-28", "2026-11-28", None, "2026-12-30"]
    households = [(f"H{i}", "G1", None, v) for i, v in enumerate(verified)]
    plain = make_store(tmp_path / "a", households=households)
    with_history = make_store(tmp_path / "b", households=households)
    with with_history.transaction() as tx:
        tx.upsert(
            "verifications",
            pd.DataFrame(
                {
                    "household_id": [h[0] for h in households if h[3]],
                    "verified_on": [h[3] for h in households if h[3]],
                }
            ),
        )
    for offset in range(-40, 40, 3):
        as_of = AS_OF + dt.timedelta(days=offset)
        assert compute_metrics(with_history, as_of) == compute_metrics(plain, as_of)


def test_household_counters_from_statuses_equal_those_computed_from_the_store(tmp_path):
    from geo.demo.build import build_demo
    from geo.metrics.contract import household_counters_from_status, household_counters_of

    store = open_store(str(tmp_path / "demo.gpkg"))
    build_demo(store, households=1500)
    as_of = dt.date.today()
    derived = household_counters_from_status(household_status(store, as_of))
    computed = household_counters_of(store, as_of)
    assert derived.columns.tolist() == computed.columns.tolist()
    by_grid = [c.groupby("_grid").sum().sort_index() for c in (derived, computed)]
    pd.testing.assert_frame_equal(*by_grid)
    pd.testing.assert_frame_equal(grid_table(store, as_of, derived), grid_table(store, as_of))
