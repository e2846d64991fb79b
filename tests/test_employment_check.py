"""``gridmap check`` on new-employment data (contract section 7): findings a clerk can act on."""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import cli
from geo.i18n import t
from geo.metrics.check import run_checks
from geo.store import open_store

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)
W, S = 111.70, 40.84
EMPLOYMENT_KINDS = {
    "outlet_unknown_firm",
    "worker_unknown_firm",
    "worker_unknown_outlet",
    "worker_outlet_of_other_firm",
    "outlet_without_place",
    "station_without_place",
    "outlet_outside_grids",
    "station_outside_grids",
    "worker_id_number_twice",
    "report_reporter_not_observer",
}


def _clean(path) -> object:
    """One grid, two firms, two outlets and a station inside it, three workers (one an
    observer with a report): nothing to find."""
    store = open_store(str(path))
    inside = Point(W + 0.005, S + 0.005)
    with store.transaction() as tx:
        tx.upsert(
            "grids",
            gpd.GeoDataFrame(
                {"grid_id": ["G1"], "party_branch": ["第一党支部"]},
                geometry=[box(W, S, W + 0.01, S + 0.01)],
                crs=WGS84,
            ),
        )
        tx.upsert(
            "firms",
            pd.DataFrame(
                {"firm_id": ["F1", "F2"], "name": ["顺丰速运", "美团"], "sector": ["express"] * 2}
            ),
        )
        tx.upsert(
            "outlets",
            gpd.GeoDataFrame(
                {"outlet_id": ["O1", "O2"], "firm_id": ["F1", "F2"], "grid_id": ["G1", "G1"]},
                geometry=[inside, inside],
                crs=WGS84,
            ),
        )
        tx.upsert(
            "stations",
            gpd.GeoDataFrame(
                {"station_id": ["S1"], "name": ["红蜂驿站"], "grid_id": ["G1"]},
                geometry=[inside],
                crs=WGS84,
            ),
        )
        tx.upsert(
            "workers",
            pd.DataFrame(
                {
                    "worker_id": ["W1", "W2", "W3"],
                    "firm_id": ["F1", "F2", "F2"],
                    "outlet_id": ["O1", "O2", None],
                    "name": ["张三", "李四", "王五"],
                    "id_number": ["150102199001011234", "150102199002021234", None],
                    "observer": [1, 0, 0],
                }
            ),
        )
        tx.upsert(
            "reports",
            gpd.GeoDataFrame(
                {
                    "report_id": ["R1", "R2"],
                    "state": ["open"] * 2,
                    "source": ["observer", "patrol"],
                    "reporter_id": ["W1", None],
                    "grid_id": ["G1"] * 2,
                    "reported_at": ["2026-11-20 09:00:00"] * 2,
                },
                geometry=[inside, inside],
                crs=WGS84,
            ),
        )
    return store


def _found(store, lang: str = "en") -> dict:
    return {f.kind: f for f in run_checks(store, AS_OF, lang) if f.kind in EMPLOYMENT_KINDS}


def test_clean_data_and_a_store_without_it_have_no_findings(tmp_path):
    assert _found(_clean(tmp_path / "a.gpkg")) == {}
    empty = open_store(str(tmp_path / "b.gpkg"))
    with empty.transaction() as tx:
        tx.upsert(
            "grids",
            gpd.GeoDataFrame({"grid_id": ["G1"]}, geometry=[box(W, S, W + 1, S + 1)], crs=WGS84),
        )
    assert _found(empty) == {}


def test_what_a_later_replace_leaves_pointing_at_nothing(tmp_path):
    store = _clean(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        # firms replaced without F2; O1 re-imported under F2 (its worker W1 stays at F1)
        tx.replace(
            "firms", pd.DataFrame({"firm_id": ["F1"], "name": ["顺丰"], "sector": ["express"]})
        )
        tx.update("outlets", {"outlet_id": ["O1"]}, {"firm_id": "F2"})
        tx.upsert(
            "workers",
            pd.DataFrame(
                {"worker_id": ["W4"], "firm_id": ["F1"], "outlet_id": ["O9"], "name": ["赵六"]}
            ),
        )
    found = _found(store)
    assert found["outlet_unknown_firm"].ids == ["O1", "O2"]
    assert found["worker_unknown_firm"].ids == ["W2", "W3"]
    assert "F2" in found["worker_unknown_firm"].message
    assert found["worker_unknown_outlet"].ids == ["W4"]
    assert "O9" in found["worker_unknown_outlet"].message
    assert found["worker_outlet_of_other_firm"].ids == ["W1"]  # of F1, at O1 now of F2
    assert {found[k].severity for k in found} == {"error"}


def test_places_people_and_observer_reports(tmp_path):
    store = _clean(tmp_path / "s.gpkg")
    far = Point(W + 1, S + 1)
    with store.transaction() as tx:
        tx.upsert(
            "outlets",
            gpd.GeoDataFrame(
                {"outlet_id": ["O3", "O4"], "firm_id": ["F1", "F1"], "grid_id": [None, "G1"]},
                geometry=[far, None],
                crs=WGS84,
            ),
        )
        tx.upsert(
            "stations",
            gpd.GeoDataFrame(
                {"station_id": ["S2", "S3"], "name": ["a", "b"], "grid_id": [None, None]},
                geometry=[far, None],
                crs=WGS84,
            ),
        )
        # W5 is W1 again (the ID number spelt with a space and a small x); W2 reports as one
        tx.upsert(
            "workers",
            pd.DataFrame(
                {
                    "worker_id": ["W5", "W6", "W7"],
                    "firm_id": ["F2"] * 3,
                    "name": ["张三", "孙七", "周八"],
                    "id_number": [
                        "150102 199001011234",
                        "15010219900303123x",
                        "15010219900303123X",
                    ],
                }
            ),
        )
        tx.update("reports", {"report_id": ["R2"]}, {"source": "observer", "reporter_id": "W2"})
    found = _found(store)
    assert found["outlet_outside_grids"].ids == ["O3"]
    assert found["station_outside_grids"].ids == ["S2"]  # S3 has no place at all
    assert found["outlet_without_place"].ids == ["O4"]
    assert found["station_without_place"].ids == ["S3"]
    assert found["worker_id_number_twice"].ids == ["W1", "W5", "W6", "W7"]
    assert found["worker_id_number_twice"].message == t(
        "check_worker_id_number_twice", "en", n=4, people=2
    )
    assert "1990" not in json.dumps([f.to_dict() for f in found.values()])  # no ID number shown
    assert found["report_reporter_not_observer"].ids == ["R2"]
    assert found["outlet_without_place"].severity == "error"
    assert found["worker_id_number_twice"].severity == "warning"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_gridmap_check_after_outlets_are_replaced(tmp_path, capsys, lang):
    """As a clerk meets it: outlets re-imported with --replace, one of them left out."""
    path = tmp_path / "s.gpkg"
    _clean(path)
    outlets = tmp_path / "outlets.csv"
    outlets.write_text(
        f"网点编号,企业编号,经度,纬度\nO1,F1,{W + 0.005},{S + 0.005}\n", encoding="utf-8"
    )
    assert cli.main(["import", "outlets", str(outlets), "--replace", "--db", str(path)]) == 0
    capsys.readouterr()
    argv = ["check", "--json", "--db", str(path), "--as-of", AS_OF.isoformat(), "--lang", lang]
    assert cli.main(argv) == 0
    found = {f["kind"]: f for f in json.loads(capsys.readouterr().out)}
    assert found["worker_unknown_outlet"]["ids"] == ["W2"]
    assert found["worker_unknown_outlet"]["message"] == t(
        "check_worker_unknown_outlet", lang, n=1, ids="O2"
    )
