"""The new_employment section of contract section 7 on small cases computed by hand."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod

from geo.employment.metrics import SECTION_KEYS, EmploymentFrames, new_employment
from geo.employment.status import nearest_distance_m, outlet_status, worker_status

AS_OF = dt.date(2026, 11, 27)
DAY_AFTER = "2026-11-28"
GEOD = Geod(ellps="WGS84")
S_LON, S_LAT = 111.70, 40.84  # station S, always open


def away(distance_m: float, azimuth: float, lon: float = S_LON, lat: float = S_LAT):
    """The point exactly ``distance_m`` (geodesic, WGS-84) from (lon, lat) towards ``azimuth``."""
    to_lon, to_lat, _ = GEOD.fwd(lon, lat, azimuth, distance_m)
    return float(to_lon), float(to_lat)


def points(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        rows, geometry=gpd.points_from_xy([p[0] for p in xy], [p[1] for p in xy]), crs="EPSG:4326"
    )


def test_constructed_points_are_at_the_stated_distance():
    for distance in (1000.0, 1001.0, 999.0):
        lon, lat = away(distance, 37.0)
        _, _, back = GEOD.inv(S_LON, S_LAT, lon, lat)
        assert abs(back - distance) < 1e-6


# --- stations and reach ----------------------------------------------------------------

FAR_LON, FAR_LAT = 111.80, 40.90  # about 11 km from S
STATIONS = points(
    [
        {"station_id": "S", "opened_on": None},
        {"station_id": "S_TODAY", "opened_on": "2026-11-27"},
        {"station_id": "S_TOMORROW", "opened_on": DAY_AFTER},
    ],
    [(S_LON, S_LAT), (111.60, 40.80), (FAR_LON, FAR_LAT)],
)
OUTLETS = points(
    [
        {"outlet_id": "A_1000", "firm_id": "F1", "party_org": None},
        {"outlet_id": "B_1001", "firm_id": "F1", "party_org": None},
        {"outlet_id": "C_near_tomorrow", "firm_id": "F2", "party_org": "C党支部"},
        {"outlet_id": "D_near_today", "firm_id": "F2", "party_org": None},
        {"outlet_id": "E_999", "firm_id": "F3", "party_org": ""},
    ],
    [
        away(1000.0, 37.0),
        away(1001.0, 200.0),
        away(10.0, 90.0, FAR_LON, FAR_LAT),
        away(1000.0, 315.0, 111.60, 40.80),
        away(999.0, 123.0),
    ],
)
FIRMS = pd.DataFrame(
    {
        "firm_id": ["F1", "F2", "F3"],
        "name": ["顺丰速运", "美团外卖", "滴滴出行"],
        "sector": ["express", "food_delivery", "ride_hailing"],
        "party_org": ["顺丰党支部", None, ""],
    }
)


def test_reach_exactly_1000_m_is_near_1001_m_is_not():
    status = outlet_status(OUTLETS, FIRMS, STATIONS, AS_OF).set_index("outlet_id")
    assert status["near"].to_dict() == {
        "A_1000": True,
        "B_1001": False,
        "C_near_tomorrow": False,  # its only station opens the day after the as-of day
        "D_near_today": True,  # opened on the as-of day: counted
        "E_999": True,
    }
    assert status.loc["A_1000", "nearest_station_m"] == pytest.approx(1000.0, abs=1e-6)
    assert status.loc["B_1001", "nearest_station_m"] == pytest.approx(1001.0, abs=1e-6)


def test_a_station_counts_from_its_opening_day():
    frames = EmploymentFrames(firms=FIRMS, outlets=OUTLETS, stations=STATIONS)
    assert new_employment(frames, AS_OF)["stations"] == 2
    assert new_employment(frames, AS_OF - dt.timedelta(days=1))["stations"] == 1
    assert new_employment(frames, dt.date(2026, 11, 28))["stations"] == 3
    assert new_employment(frames, dt.date(2026, 11, 28))["outlets_near_station"] == 4


def test_reach_is_configurable():
    frames = EmploymentFrames(firms=FIRMS, outlets=OUTLETS, stations=STATIONS)
    assert new_employment(frames, AS_OF, reach_m=1001.0)["outlets_near_station"] == 4
    assert new_employment(frames, AS_OF, reach_m=999.0)["outlets_near_station"] == 1  # E only


def test_no_station_means_no_outlet_is_near():
    assert list(nearest_distance_m([111.7], [40.8], [], [])) == [float("inf")]
    frames = EmploymentFrames(firms=FIRMS, outlets=OUTLETS, stations=STATIONS.iloc[:0])
    assert new_employment(frames, AS_OF)["outlets_near_station"] == 0


def test_outlets_with_a_party_org_of_their_own_or_their_firms():
    status = outlet_status(OUTLETS, FIRMS, STATIONS, AS_OF).set_index("outlet_id")
    # F1 has one (A, B); C has its own; D's firm F2 has none; E's own and firm's are empty
    assert status["has_party_org"].to_dict() == {
        "A_1000": True,
        "B_1001": True,
        "C_near_tomorrow": True,
        "D_near_today": False,
        "E_999": False,
    }
    section = new_employment(EmploymentFrames(firms=FIRMS, outlets=OUTLETS), AS_OF)
    assert section["firms"] == 3 and section["firms_with_party_org"] == 1
    assert section["outlets"] == 5 and section["outlets_with_party_org"] == 3


def test_outlets_with_lon_lat_columns_count_as_points_do():
    plain = pd.DataFrame(OUTLETS.drop(columns="geometry"))
    plain["lon"], plain["lat"] = OUTLETS.geometry.x, OUTLETS.geometry.y
    frames = EmploymentFrames(firms=FIRMS, outlets=plain, stations=STATIONS)
    assert new_employment(frames, AS_OF)["outlets_near_station"] == 3


# --- workers ---------------------------------------------------------------------------

WORKERS = pd.DataFrame(
    [
        # party members: returned on / after the as-of day, mobile or local
        ("W1", "member", "mobile", "2026-11-27", 1, "2026-11-27", 1, "2026-11-27"),
        ("W2", "probationary", "mobile", DAY_AFTER, 1, DAY_AFTER, 1, DAY_AFTER),
        ("W3", "member", "local", "2025-01-01", 1, None, 1, None),
        ("W4", "member", None, None, 0, "2026-01-01", 0, None),
        # not members (a stored relation on them would have been refused at import)
        ("W5", "none", None, None, None, None, None, None),
        ("W6", None, None, None, 1, "2026-11-26", 1, "2026-10-01"),
        ("W7", "none", None, None, 1, None, 0, None),
    ],
    columns=[
        "worker_id",
        "party",
        "party_relation",
        "returned_on",
        "insured",
        "insured_on",
        "observer",
        "registered_on",
    ],
)


def test_worker_flags_by_hand():
    flags = worker_status(WORKERS, AS_OF).set_index("worker_id")
    assert flags["member"].to_dict() == {
        "W1": True, "W2": True, "W3": True, "W4": True, "W5": False, "W6": False, "W7": False
    }  # fmt: skip
    assert flags.index[flags["returned"]].tolist() == ["W1", "W3"]
    assert flags.index[flags["mobile"]].tolist() == ["W1", "W2"]
    # insured yes and insured_on empty or on/before the as-of day
    assert flags.index[flags["insured_now"]].tolist() == ["W1", "W3", "W6", "W7"]
    assert flags.index[flags["is_observer"]].tolist() == ["W1", "W2", "W3", "W6"]
    assert flags.index[flags["registered"]].tolist() == ["W1", "W6"]


def test_worker_counts_by_hand():
    section = new_employment(EmploymentFrames(workers=WORKERS), AS_OF)
    assert section["workers"] == 7
    assert section["party_members"] == 4
    assert section["party_members_returned"] == 2
    assert section["party_members_mobile"] == 2
    assert section["insured"] == 4
    assert section["insured_rate"] == round(4 / 7, 4) == 0.5714
    assert section["observers"] == 4
    assert section["observers_registered"] == 2


def test_the_day_after_counts_what_happened_on_it():
    section = new_employment(EmploymentFrames(workers=WORKERS), dt.date(2026, 11, 28))
    assert section["party_members_returned"] == 3
    assert section["insured"] == 5
    assert section["observers_registered"] == 3


def test_rates_are_null_without_workers():
    section = new_employment(EmploymentFrames(), AS_OF)
    assert section["insured_rate"] is None
    assert list(section) == list(SECTION_KEYS)
    assert all(section[k] == 0 for k in SECTION_KEYS if k != "insured_rate")


def test_stored_yes_no_as_floats_or_missing():
    """A store column with NULLs reads back as floats (1.0, NaN)."""
    workers = pd.DataFrame(
        {"worker_id": ["A", "B", "C"], "insured": [1.0, float("nan"), 0.0], "observer": [None] * 3}
    )
    section = new_employment(EmploymentFrames(workers=workers), AS_OF)
    assert section["insured"] == 1 and section["observers"] == 0
    assert section["insured_rate"] == 0.3333


# --- observer reports ------------------------------------------------------------------

REPORTS = pd.DataFrame(
    [
        ("R1", "observer", "W1", "2026-11-27 23:59:59", None),  # the as-of day's last second
        ("R2", "observer", "W1", "2026-11-28 00:00:00", None),  # the day after
        ("R3", "observer", "W2", "2026-10-29 00:00:00", None),  # the 30th day back: first day
        ("R4", "observer", "W2", "2026-10-28 23:59:59", None),  # the 31st day back
        ("R5", "hotline", "W1", "2026-11-20 10:00:00", None),  # not 随手拍
        ("R6", "observer", "W5", "2026-11-20 10:00:00", None),  # a worker who is no observer
        ("R7", "observer", "X9", "2026-11-20 10:00:00", None),  # not a worker
        ("R8", "observer", None, "2026-11-20 10:00:00", None),  # no reporter
        ("R9", "observer", "W6", "2026-11-20 10:00:00", "R1"),  # linked as a duplicate
        ("R10", "observer", "W3", "2026-11-01 08:00:00", ""),
    ],
    columns=["report_id", "source", "reporter_id", "reported_at", "duplicate_of"],
)


def test_observer_reports_in_the_30_days_ending_on_the_as_of_day():
    frames = EmploymentFrames(workers=WORKERS, reports=REPORTS)
    assert new_employment(frames, AS_OF)["observer_reports_30d"] == 3  # R1, R3, R10
    # a day later R2 comes in and R3 drops out
    assert new_employment(frames, dt.date(2026, 11, 28))["observer_reports_30d"] == 3
    assert new_employment(frames, dt.date(2026, 10, 28))["observer_reports_30d"] == 1  # R4


def test_reports_without_duplicate_column_count_all():
    frames = EmploymentFrames(workers=WORKERS, reports=REPORTS.drop(columns="duplicate_of"))
    assert new_employment(frames, AS_OF)["observer_reports_30d"] == 4  # and R9


def test_exactly_the_reach_survives_round_off_at_every_bearing():
    """Geod.inv of a point Geod.fwd put 1,000 m away may say 1000.0000000003 m: still near."""
    bearings = list(range(0, 360, 7))
    xy = [away(1000.0, b) for b in bearings]
    back = [GEOD.inv(S_LON, S_LAT, lon, lat)[2] for lon, lat in xy]
    assert any(d > 1000.0 for d in back)  # the case the tolerance is for does occur
    outlets = points([{"outlet_id": str(b), "firm_id": "F1"} for b in bearings], xy)
    status = outlet_status(outlets, FIRMS, STATIONS.iloc[:1], AS_OF)
    assert status["near"].all()
    beyond = points(
        [{"outlet_id": str(b), "firm_id": "F1"} for b in bearings],
        [away(1000.01, b) for b in bearings],
    )
    assert not outlet_status(beyond, FIRMS, STATIONS.iloc[:1], AS_OF)["near"].any()


def test_large_inputs_find_the_same_nearest_station_as_every_pair():
    """Past BRUTE_FORCE_PAIRS candidates come from a projection: the answer must not change."""
    import numpy as np

    from geo.employment import status

    rng = np.random.default_rng(3)
    lon = 111.5 + rng.random(3000) * 0.6
    lat = 40.6 + rng.random(3000) * 0.4
    lon[:5] = [np.nan, 113.0, 111.0, 111.7, 111.7]  # no coordinate; far away in both directions
    s_lon = 111.6 + rng.random(300) * 0.3
    s_lat = 40.75 + rng.random(300) * 0.2
    # a point exactly 1,000 m from a station and one 1,001 m
    lat[3], lat[4] = s_lat[0], s_lat[0]
    lon[3], lat[3] = away(1000.0, 91.0, s_lon[0], s_lat[0])
    lon[4], lat[4] = away(1001.0, 91.0, s_lon[0], s_lat[0])
    assert len(lon) * len(s_lon) > status.BRUTE_FORCE_PAIRS
    fast, fast_which = status.nearest_station(lon, lat, s_lon, s_lat)
    every = [
        status.GEOD.inv(s_lon, s_lat, np.full(300, x), np.full(300, y))[2]
        for x, y in zip(lon, lat, strict=True)
    ]
    slow = np.array([np.nanmin(d) if np.isfinite(d).any() else np.inf for d in every])
    assert np.isinf(fast[0]) and fast_which[0] == -1
    np.testing.assert_array_equal(fast[1:], slow[1:])
    assert fast[3] == pytest.approx(1000.0, abs=1e-6) and fast[4] == pytest.approx(1001.0, abs=1e-6)
