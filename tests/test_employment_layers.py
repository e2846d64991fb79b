"""The new-employment map layer: what the payload carries (and what it never carries)."""

from __future__ import annotations

import json
import re

import folium
import pytest
from test_employment_gaps import OUTLETS_IN_GRIDS, REPORTS_IN_GRIDS, STATIONS_IN_GRIDS, WORKER_ROWS
from test_employment_metrics import AS_OF, FIRMS

from geo.employment.layers import EmploymentLayer, employment_payload
from geo.employment.metrics import EmploymentFrames, employment_status
from geo.outputs.map.leaflet import map_html


@pytest.fixture
def payload():
    frames = EmploymentFrames(
        FIRMS, OUTLETS_IN_GRIDS, WORKER_ROWS, STATIONS_IN_GRIDS, REPORTS_IN_GRIDS
    )
    status = employment_status(frames, AS_OF)
    return employment_payload(status, STATIONS_IN_GRIDS, lang="zh-CN")


def test_outlets_and_stations_in_the_payload(payload):
    outlets, stations = payload["o"], payload["s"]
    assert outlets["n"] == 5 and stations["n"] == 3
    assert dict(zip(outlets["id"], outlets["near"], strict=True)) == {
        "A_1000": 1, "B_1001": 0, "C_near_tomorrow": 0, "D_near_today": 1, "E_999": 1,
    }  # fmt: skip
    assert outlets["d"][0] == 1000 and outlets["w"][0] == 2
    assert [payload["firms"][f]["id"] for f in outlets["f"]] == ["F1", "F1", "F2", "F2", "F3"]
    assert stations["open"] == [1, 1, 0]  # S_TOMORROW opens after the as-of day
    assert payload["reach"] == 1000.0
    assert payload["firms"][0]["glyph"] == "顺" and payload["firms"][0]["sectorLabel"] == "快递"


def test_no_worker_in_the_payload(payload):
    text = json.dumps(payload, ensure_ascii=False)
    for name in WORKER_ROWS["name"]:
        assert name not in text
    for worker_id in WORKER_ROWS["worker_id"]:
        assert f'"{worker_id}"' not in text
    assert "138" not in text


def test_legend_counts_and_escapes(payload):
    legend = payload["legend"]
    assert re.search(r'data-code="beyond".*?<b>2</b>', legend)
    assert re.search(r'data-code="stations".*?<b>2</b>', legend)
    assert re.search(r'data-code="planned".*?<b>1</b>', legend)
    hostile = FIRMS.assign(name=["<img src=x onerror=alert(1)>", "美团外卖", "滴滴出行"])
    status = employment_status(EmploymentFrames(hostile, OUTLETS_IN_GRIDS), AS_OF)
    legend = employment_payload(status, STATIONS_IN_GRIDS)["legend"]
    assert "<img" not in legend and "&lt;img" in legend


def test_the_layer_renders_with_local_scripts_only(payload):
    fmap = folium.Map(location=[40.84, 111.7], tiles=None, zoom_start=14)
    EmploymentLayer(payload).add_to(fmap)
    page = map_html(fmap)
    assert "gridmapEmploymentDraw(" in page
    assert "/app/static/gridmap/employment.js" in page
    # drawn on its own too, the shared canvas helper is loaded first
    assert 0 <= page.index("/app/static/gridmap/canvaslayer.js") < page.index("employment.js")
    assert "</script><" not in page.split("gridmapEmploymentDraw(")[1].split(");")[0]
