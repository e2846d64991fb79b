"""The demo data set: deterministic, plausible, and consistent with the data contract."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely
from pg import pg_location  # noqa: F401  (fixture)

from geo.config import load_config
from geo.demo.build import build_demo
from geo.demo.people import id_check_digit
from geo.store import open_store

AS_OF = dt.date(2026, 11, 27)
END_OF_AS_OF = "2026-11-28 00:00:00"
DATA_TABLES = (
    "grids",
    "households",
    "verifications",
    "visits",
    "staff",
    "reports",
    "report_steps",
    "boundary",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The default-size demo (about 18,000 households) as of 2026-11-27."""
    store = open_store(str(tmp_path_factory.mktemp("demo") / "demo.gpkg"))
    counts = build_demo(store, seed=7, as_of=AS_OF)
    return store, counts


@pytest.fixture(scope="module")
def tables(demo):
    """Every data table of the default demo, read back from the store."""
    store, _ = demo
    return {name: store.read(name) for name in DATA_TABLES}


def _read_all(store) -> dict[str, pd.DataFrame]:
    out = {}
    for name in DATA_TABLES:
        frame = store.read(name)
        if "geometry" in frame:
            frame = pd.DataFrame(frame).assign(geometry=frame.geometry.to_wkb())
        out[name] = frame
    return out


def test_same_seed_gives_identical_store_and_other_seed_differs(tmp_path):
    stores = [open_store(str(tmp_path / f"{name}.gpkg")) for name in ("a", "b", "c")]
    for store, seed in zip(stores, (3, 3, 4), strict=True):
        build_demo(store, seed=seed, households=3000, as_of=AS_OF)
    a, b, c = (_read_all(s) for s in stores)
    for name in DATA_TABLES:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["households"].equals(c["households"])
    assert not a["visits"].equals(c["visits"])


def test_replaces_what_the_store_held_and_scales_exactly(tmp_path):
    store = open_store(str(tmp_path / "s.gpkg"))
    build_demo(store, households=5000, as_of=AS_OF)
    counts = build_demo(store, households=2500, as_of=AS_OF)
    assert store.count("households") == counts["households"] == 2500
    for name in DATA_TABLES:
        assert store.count(name) == counts[name]
    assert store.read("grids")["grid_id"].str.startswith("XC-DH-").sum() == 8


def test_builds_the_same_data_in_postgis(tmp_path, pg_location):  # noqa: F811
    gpkg_store, pg_store = open_store(str(tmp_path / "s.gpkg")), open_store(pg_location)
    counts = [build_demo(s, seed=5, households=1500, as_of=AS_OF) for s in (gpkg_store, pg_store)]
    assert counts[0] == counts[1]
    for name in DATA_TABLES:
        assert pg_store.count(name) == counts[1][name]
    key = ["visit_id"]
    pd.testing.assert_frame_equal(
        gpkg_store.read("visits").sort_values(key, ignore_index=True),
        pg_store.read("visits").sort_values(key, ignore_index=True),
        check_dtype=False,
    )


def test_default_size_is_one_street_office(demo, tables):
    _, counts = demo
    grids, households = tables["grids"], tables["households"]
    assert 50 <= counts["grids"] <= 70
    assert 15_000 <= counts["households"] <= 20_000
    assert grids["street"].nunique() == 1
    assert 5 <= grids["community"].nunique() <= 7
    per_grid = households.groupby("grid_id").size()
    assert per_grid.between(100, 600).all()
    assert 8 * counts["households"] <= counts["visits"] <= 11 * counts["households"]
    assert 300 <= counts["reports"] <= 600
    assert grids["grid_id"].str.fullmatch(r"XC-[A-Z]+-\d{2}").all()
    assert grids["name"].str.fullmatch(r".+社区第\d+网格").all()
    # the 东河 compound: one 小区 divided into 8 grids
    donghe = households[households["grid_id"].str.startswith("XC-DH-")]
    assert donghe["grid_id"].nunique() == 8
    assert donghe["address"].str.extract(r"^(.+小区)")[0].nunique() == 1
    assert households["address"].str.fullmatch(r".+小区\d+号楼\d单元\d{3,4}").all()


def test_households_strictly_inside_their_own_grid(tables):
    grids = tables["grids"].set_index("grid_id")
    households = tables["households"]
    polygons = grids.geometry.loc[households["grid_id"]].values
    # strictly inside: not on an edge, so assignment cannot depend on tie-breaking
    assert shapely.contains_properly(polygons, households.geometry.values).all()
    reports = tables["reports"]
    assert shapely.contains_properly(
        grids.geometry.loc[reports["grid_id"]].values, reports.geometry.values
    ).all()


def test_grids_tile_each_community_without_gaps_or_overlaps(tables):
    grids = tables["grids"].to_crs("EPSG:32649")  # metric: UTM 49N covers Hohhot
    tree = shapely.STRtree(grids.geometry.values)
    left, right = tree.query(grids.geometry.values, predicate="intersects")
    pairs = left < right
    shared = shapely.intersection(
        grids.geometry.values[left[pairs]], grids.geometry.values[right[pairs]]
    )
    assert pairs.sum() > len(grids)  # neighbours touch ...
    assert shapely.area(shared).max() < 1e-3  # ... along edges only
    for _, block in grids.groupby("community"):
        union = shapely.union_all(block.geometry.values)
        assert union.geom_type == "Polygon" and not list(union.interiors)
        assert union.area == pytest.approx(block.area.sum(), rel=1e-9)
    areas = grids.area
    assert areas.between(10_000, 60_000).all()  # city blocks, not squares of any size


def test_categories_are_valid_codes_with_plausible_prevalence(tables):
    households = tables["households"]
    codes = load_config().category_codes
    split = households["categories"].fillna("").str.split(";")
    held = split.map(lambda parts: [p for p in parts if p])
    assert all(set(h) <= set(codes) and h == sorted(h, key=codes.index) for h in held)
    share = {c: held.map(lambda h, c=c: c in h).mean() for c in codes}
    assert 0.01 <= share["red"] <= 0.035
    assert 0.04 <= share["yellow"] <= 0.08
    assert 0.002 <= share["purple"] <= 0.01
    assert 0.005 <= (held.map(len) == 2).mean() <= 0.03
    assert not held.map(lambda h: {"red", "yellow"} <= set(h)).any()
    assert households["members"].between(1, 6).all()
    assert (households.loc[held.map(lambda h: "red" in h), "members"] == 1).all()


def test_id_numbers_phones_and_ages(tables):
    households = tables["households"]
    ids = households["id_number"]
    assert ids.str.fullmatch(r"1501\d{13}[\dX]").all()
    assert all(id_check_digit(i[:17]) == i[17] for i in ids)
    births = pd.to_datetime(ids.str[6:14], format="%Y%m%d")
    age_years = (pd.Timestamp(AS_OF) - births).dt.days / 365.25
    elderly = households["categories"].fillna("").str.contains("red|yellow")
    assert (age_years[elderly] >= 65).all()
    assert (age_years >= 18).all()
    phones = households["phone"].dropna()
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    assert households["head_name"].str.len().between(2, 5).all()


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("15010219800101001", "4"), ("44052418800101001", "4")],
)
def test_id_check_digit(first17, check):
    assert id_check_digit(first17) == check


def test_verification_mostly_fresh_some_stale_some_missing(tables):
    verified = tables["households"]["last_verified"]
    days = (pd.Timestamp(AS_OF) - pd.to_datetime(verified)).dt.days
    assert 0.83 <= (days < 30).mean() <= 0.93
    assert 0.05 <= (days >= 30).mean() <= 0.15
    assert 0 < verified.isna().sum() < 0.05 * len(verified)
    assert (days.dropna() >= 0).all()


def test_verification_history_ends_at_last_verified_about_monthly(tables):
    households, history = tables["households"], tables["verifications"]
    latest = history.groupby("household_id")["verified_on"].max()
    stored = households.set_index("household_id")["last_verified"].dropna()
    assert latest.sort_index().to_dict() == stored.sort_index().to_dict()
    days = pd.to_datetime(history["verified_on"])
    gaps = days.groupby(history["household_id"]).diff().dropna().dt.days
    assert gaps.between(26, 30).all()
    per_household = history.groupby("household_id").size()
    fresh = stored[stored >= "2026-10-29"].index
    assert (per_household.loc[fresh] == 3).all()  # verified monthly over the 8 weeks
    assert (per_household.drop(fresh) == 1).all()  # stale: only the lapsed last verification


def test_weekly_freshness_trend_is_flat(demo):
    """As the data stood at each week end, about as many households were fresh as now."""
    from geo.outputs.weekly.figures import weekly_figures

    store, _ = demo
    figures = weekly_figures(store, AS_OF)
    now = figures["metrics"]["freshness"]["rate"]
    trend = figures["trend"]["freshness_rate"]
    assert len(trend) == 8
    assert ((trend - now).abs() <= 0.15).all(), trend.tolist()
    assert (trend.diff().dropna().abs() <= 0.03).all(), trend.tolist()  # no week-over-week jumps


def test_staff_by_role_per_grid(tables):
    staff, grids = tables["staff"], tables["grids"]
    assert set(staff["role"]) <= set(load_config().roles)
    assert {
        "grid_worker",
        "grid_leader",
        "party_secretary",
        "police",
        "urban_management",
        "judicial",
        "power",
        "lawyer",
        "volunteer",
    } <= set(staff["role"])
    assert not staff.duplicated(["staff_id", "grid_id"]).any()
    assert set(staff["grid_id"]) == set(grids["grid_id"])
    with_worker = staff.loc[staff["role"] == "grid_worker", "grid_id"].nunique()
    assert len(grids) - with_worker in (2, 3)
    assert 0.75 <= grids["party_branch"].notna().mean() <= 0.95
    assert (staff.groupby("staff_id")["grid_id"].nunique() > 1).any()  # some cover several grids
    assert staff["department"].notna().all()


def test_visits_are_in_working_hours_by_the_grids_staff(tables):
    visits, households, staff = tables["visits"], tables["households"], tables["staff"]
    assert visits["visited_at"].max() < END_OF_AS_OF
    assert visits["visited_at"].min() >= "2026-10-03"  # 8 weeks ending on the as-of day
    assert visits["visited_at"].str[11:13].astype(int).between(8, 18).all()
    assert set(visits["kind"]) == {"入户", "电话", "视频"}
    assert visits["visit_id"].is_unique
    grid_of = visits["household_id"].map(households.set_index("household_id")["grid_id"])
    visitors = staff[staff["role"].isin(["grid_worker", "grid_leader"])]
    allowed = set(zip(visitors["staff_id"], visitors["grid_id"], strict=True))
    assert all(pair in allowed for pair in zip(visits["staff_id"], grid_of, strict=True))


def test_visit_rules_mostly_but_not_always_met(demo, tables):
    store, _ = demo
    households = tables["households"]
    days = store.visit_days("2026-11-21", "2026-11-27").groupby("household_id").size()
    red = households.loc[households["categories"].fillna("").str.contains("red"), "household_id"]
    yellow = households.loc[
        households["categories"].fillna("").str.contains("yellow"), "household_id"
    ]
    red_rate = (days.reindex(red).fillna(0) == 7).mean()
    yellow_rate = (days.reindex(yellow).fillna(0) >= 3).mean()
    assert 0.65 <= red_rate <= 0.95
    assert 0.7 <= yellow_rate <= 0.95
    month = store.visit_days("2026-10-29", "2026-11-27").groupby("household_id").size()
    pink = households.loc[households["categories"].fillna("").str.contains("pink"), "household_id"]
    assert 0.8 <= month.reindex(pink).notna().mean() < 1.0


def test_reports_have_all_sources_and_realistic_timelines(tables):
    reports, steps = tables["reports"], tables["report_steps"]
    assert set(reports["source"]) == set(load_config().sources)
    assert reports["report_id"].is_unique
    # closed_at: 结案 after the return visit (issue 19's demo cases)
    stamps = reports[["reported_at", "responded_at", "resolved_at", "followed_up_at", "closed_at"]]
    for earlier, later in zip(stamps.columns[:-1], stamps.columns[1:], strict=True):
        both = stamps[earlier].notna() & stamps[later].notna()
        assert (stamps.loc[both, earlier] <= stamps.loc[both, later]).all()
        assert (stamps[later].isna() | stamps[earlier].notna()).all()
    assert (stamps.stack().dropna() < END_OF_AS_OF).all()
    reported = pd.to_datetime(reports["reported_at"])
    open_hours = (pd.Timestamp(END_OF_AS_OF) - reported).dt.total_seconds() / 3600
    overdue = reports["resolved_at"].isna() & (open_hours > 120)
    assert 3 <= overdue.sum() <= 0.1 * len(reports)
    resolved = reports["resolved_at"].notna()
    hours = (pd.to_datetime(reports["resolved_at"]) - reported).dt.total_seconds() / 3600
    assert hours[resolved].median() < 96
    responded = (pd.to_datetime(reports["responded_at"]) - reported).dt.total_seconds() / 3600
    assert responded.median() < 8
    followed = reports["followed_up_at"].notna()
    assert 0.7 <= followed[resolved].mean() < 0.98  # a few resolved without follow-up
    assert set(reports.loc[followed, "satisfaction"]) == {"satisfied", "unsatisfied"}
    assert reports.loc[~followed, "satisfaction"].isna().all()
    assert (reports.loc[followed, "satisfaction"] == "satisfied").mean() > 0.75
    observers = reports.loc[reports["source"] == "observer", "reporter_id"]
    assert observers.str.fullmatch(r"(KD|QS|CZ)-\d{4}").all()
    # one step row per recorded timestamp, by a member of staff
    assert len(steps) == stamps.notna().sum().sum()
    assert set(steps["step"]) == {"reported", "responded", "resolved", "followed_up", "closed"}
    assert steps["actor"].isin(tables["staff"]["staff_id"]).all()
    merged = steps.merge(reports, on="report_id")
    for step in ("reported", "responded", "resolved", "followed_up", "closed"):
        rows = merged[merged["step"] == step]
        assert (rows["at"] == rows[f"{step}_at"]).all()
