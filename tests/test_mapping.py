"""Map building: the compact payload, colours, legends, privacy and offline assets."""

import datetime as dt
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geo.inputs.coords import wgs84_to_gcj02
from geo.outputs.map.build import build_map
from geo.outputs.map.leaflet import map_html
from geo.outputs.map.legend import (
    NO_DATA_HEX,
    category_bitmask,
    fill_class,
    legend_counts,
    legend_html,
)
from geo.outputs.map.payloads import COORD_SCALE, OVERDUE_BIT, household_payload, report_payload
from geo.outputs.map.tiles import tile_provider

WGS84 = "EPSG:4326"
AS_OF = dt.date(2026, 11, 27)


@pytest.fixture
def two_grids() -> gpd.GeoDataFrame:
    """Two 0.002-degree squares side by side near Hohhot, with grid_table-like figures, WGS-84."""
    return gpd.GeoDataFrame(
        {
            "grid_id": ["G1", "G2"],
            "name": ["东河社区第1网格", "东河社区第2网格"],
            "community": ["东河社区", "东河社区"],
            "households": [3, 1],
            "visit_rate": [0.96, np.nan],
            "freshness_rate": [0.4, 1.0],
            "reports_overdue": [0, 7],
            "households_per_worker": [150.0, np.nan],
        },
        geometry=[box(111.700, 40.840, 111.702, 40.842), box(111.702, 40.840, 111.704, 40.842)],
        crs=WGS84,
    )


@pytest.fixture
def four_households() -> pd.DataFrame:
    """Four households (one ordinary, one with two categories) with personal fields that must never ship."""
    return pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3", "H4"],
            "grid_id": ["G1", "G1", "G1", "G2"],
            "categories": [None, "red", "yellow;pink", "purple"],
            "building": ["1号楼", "1号楼", "2号楼", None],
            "last_visit": [
                "2026-11-27 09:00:00",
                "2026-11-20 10:00:00",
                None,
                "2026-10-28 08:00:00",
            ],
            "overdue": [False, True, False, False],
            "lon": [111.70012, 111.70101, 111.70150, 111.70301],
            "lat": [40.84011, 40.84102, 40.84190, 40.84100],
            "head_name": ["张三丰", "李四", "王五", "赵六"],
            "phone": ["13812341234", "13900001111", "13722223333", "13644445555"],
            "id_number": [
                "150102199001011234",
                "150102195001015678",
                "150102194001019999",
                "15010219300101888X",
            ],
        }
    )


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, 0),
        ("", 0),
        ("red", 0b1),
        ("yellow;pink", 0b10010),
        ("purple", 0b1000000),
        ("red;yellow;orange;green;pink;blue;purple", 0b1111111),
        ("reddish", 0),  # whole codes only
    ],
)
def test_category_bitmask(stored, expected):
    assert category_bitmask(pd.Series([stored], dtype=object)).tolist() == [expected]


def test_household_payload_is_compact_and_round_trips(four_households):
    payload = household_payload(four_households, AS_OF)
    assert payload["n"] == 4
    # ordinary households first so care households are drawn on top
    ids = payload["id"].split("|")
    assert ids[0] == "H1"
    assert sorted(ids) == ["H1", "H2", "H3", "H4"]
    order = [ids.index(h) for h in ["H1", "H2", "H3", "H4"]]
    lon = payload["x0"] + np.array(payload["x"])[order] * payload["s"]
    lat = payload["y0"] + np.array(payload["y"])[order] * payload["s"]
    assert np.abs(lon - four_households["lon"]).max() <= COORD_SCALE / 2 + 1e-12
    assert np.abs(lat - four_households["lat"]).max() <= COORD_SCALE / 2 + 1e-12
    masks = np.array(payload["c"])[order].tolist()
    assert masks == [0, 0b1 | OVERDUE_BIT, 0b10010, 0b1000000]
    visits = np.array(payload["v"])[order].tolist()
    assert visits == [0, 7, -1, 30]
    buildings = [payload["bl"][payload["b"][i]] for i in order]
    assert buildings == ["1号楼", "1号楼", "2号楼", ""]


def test_household_payload_of_nothing():
    empty = pd.DataFrame(columns=["household_id", "categories", "lon", "lat"])
    assert household_payload(empty, AS_OF)["n"] == 0


@pytest.mark.parametrize(
    ("measure", "values", "expected"),
    [
        (
            "visit_rate",
            [0.99, 0.9, 0.75, 0.6, 0.2, np.nan],
            ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", NO_DATA_HEX],
        ),
        ("freshness_rate", [0.95, 0.949], ["#1a9850", "#91cf60"]),
        ("completion_rate", [1.0, 0.4, np.nan], ["#1a9850", "#d73027", NO_DATA_HEX]),
        ("satisfaction_rate", [0.86, 0.69], ["#91cf60", "#fc8d59"]),
        (
            "reports_overdue",
            [0, 1, 3, 6, 7],
            ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"],
        ),
        (
            "households_per_worker",
            [80, 100, 101, 600],
            ["#1a9850", "#1a9850", "#91cf60", "#d73027"],
        ),
        ("none", [1, 2], ["", ""]),
    ],
)
def test_fill_class(measure, values, expected):
    colours, legend = fill_class(pd.Series(values, dtype=float), measure)
    assert colours.tolist() == expected
    assert len(legend) == (0 if measure == "none" else 5)


def test_legend_counts_each_colour(four_households):
    legend = legend_html(four_households, "zh-CN")
    counts = dict(re.findall(r'data-code="(\w+)" data-count="(\d+)"', legend))
    assert counts == {
        "red": "1",
        "yellow": "1",
        "orange": "0",
        "green": "0",
        "pink": "1",
        "blue": "0",
        "purple": "1",
        "ordinary": "1",
    }
    assert "独居老人" in legend and "普通户" in legend
    assert "elderly living alone" in legend_html(four_households, "en")


def test_legend_from_counts_matches_the_households_and_leaves_out_absent_rows(four_households):
    counts = legend_counts(four_households.assign(overdue=[True, False, False, True]))
    assert counts["several"] >= 0 and counts["overdue"] == 2
    framed = four_households.assign(overdue=[True, False, False, True])
    assert legend_html(None, "en", counts=counts) == legend_html(framed, "en")
    partial = {k: v for k, v in counts.items() if k not in ("several", "overdue")}
    legend = legend_html(None, "en", counts=partial)
    assert 'data-code="several"' not in legend and 'data-code="overdue"' not in legend
    assert 'data-code="ordinary" data-count="1"' in legend


def test_report_payload_states_and_no_free_text():
    reports = pd.DataFrame(
        {
            "report_id": ["R1", "R2"],
            "state": ["overdue", "followed_up"],
            "source": ["hotline", "observer"],
            "category": ["环境卫生", "停车"],
            "description": ["楼道堆物 张三 13812341234", "x"],
            "reported_at": ["2026-11-20 08:00:00", "2026-11-26 09:30:00"],
            "lon": [111.701, 111.703],
            "lat": [40.841, 40.841],
        }
    )
    payload = report_payload(reports, lang="zh-CN")
    assert payload["st"] == [1, 3]
    assert "13812341234" not in json.dumps(payload, ensure_ascii=False)
    assert payload["cat"][0] == "环境卫生 · 12345热线"


def test_build_map_ships_no_personal_fields_and_only_local_assets(two_grids, four_households):
    reports = pd.DataFrame(
        {
            "report_id": ["R1"],
            "state": ["open"],
            "source": ["patrol"],
            "category": ["x"],
            "reported_at": ["2026-11-26 09:00:00"],
            "lon": [111.701],
            "lat": [40.841],
        }
    )
    html = map_html(build_map(two_grids, four_households, reports, fill="visit_rate", as_of=AS_OF))
    for column in ("head_name", "phone", "id_number"):
        for value in four_households[column]:
            assert value not in html
    assert "张" not in html.split("gridmapDraw(", 1)[1]  # not even the surname
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/app/static/") for s in sources), sources
    assert "cdn" not in html and "https://" not in html
    assert "gridmapDraw(" in html and "leaflet-heat.js" in html


def test_build_map_payload_is_what_was_asked(two_grids, four_households):
    fmap = build_map(
        two_grids,
        four_households,
        None,
        fill="reports_overdue",
        selected_grids=["G2"],
        lang="en",
        as_of=AS_OF,
    )
    payload = _payload(map_html(fmap))
    assert payload["h"]["n"] == 4
    assert payload["r"] is None
    grids = {f["properties"]["i"]: f["properties"] for f in payload["g"]["features"]}
    assert grids["G1"]["c"] == "#1a9850" and grids["G2"]["c"] == "#d73027"
    assert grids["G2"]["s"] == 1 and grids["G1"]["s"] == 0
    assert grids["G1"]["n"] == "第1网格" and grids["G1"]["fn"] == "东河社区第1网格"
    assert (grids["G1"]["k"], grids["G2"]["k"]) == (
        3,
        1,
    )  # households drawn, for the zoomed-out labels
    # the drill-down reads the grid id from the start of the tooltip text
    assert re.sub("<[^>]+>", "", grids["G1"]["t"]).startswith("G1 · ")
    assert payload["cats"][0]["label"] == "elderly living alone"
    assert "Overdue reports" in payload["fillLegend"]


def test_build_map_on_gaode_converts_everything_to_gcj02(two_grids, four_households):
    tiles = tile_provider("gaode")
    payload = _payload(map_html(build_map(two_grids, four_households, tiles=tiles, as_of=AS_OF)))
    h = payload["h"]
    i = h["id"].split("|").index("H4")
    lon, lat = h["x0"] + h["x"][i] * h["s"], h["y0"] + h["y"][i] * h["s"]
    expected_lon, expected_lat = wgs84_to_gcj02(111.70301, 40.84100)
    assert abs(lon - float(expected_lon)) < 2e-5 and abs(lat - float(expected_lat)) < 2e-5
    assert abs(lon - 111.70301) > 1e-3  # the offset is hundreds of metres, not rounding
    ring = payload["g"]["features"][0]["geometry"]["coordinates"][0]
    glon, glat = wgs84_to_gcj02(111.700, 40.840)
    assert any(abs(x - float(glon)) < 1e-5 and abs(y - float(glat)) < 1e-5 for x, y in ring)
    assert "autonavi" in map_html(build_map(two_grids, four_households, tiles=tiles, as_of=AS_OF))


@pytest.mark.parametrize(
    ("name", "kwargs", "expected"),
    [
        (None, {}, None),
        ("none", {}, None),
        ("osm", {}, "osm"),
        ("tianditu", {"tianditu_key": "k"}, "tianditu"),
        ("gaode", {}, "gaode"),
        ("url", {"url": "http://10.0.0.1/tiles/{z}/{x}/{y}.png"}, "url"),
    ],
)
def test_tile_provider(name, kwargs, expected):
    provider = tile_provider(name, **kwargs)
    assert (provider.name if provider else None) == expected


@pytest.mark.parametrize(("name", "kwargs"), [("tianditu", {}), ("url", {}), ("bing", {})])
def test_tile_provider_refuses_incomplete_settings(name, kwargs):
    with pytest.raises(ValueError):
        tile_provider(name, **kwargs)


def test_no_base_map_by_default(two_grids, four_households):
    html = map_html(build_map(two_grids, four_households, as_of=AS_OF))
    assert "L.tileLayer" not in html
    # without tiles Leaflet has no zoom range unless the map sets one (zooming would do nothing)
    assert '"maxZoom": 19' in html and '"minZoom": 3' in html


def test_bubbles_count_the_households_drawn(two_grids, four_households):
    only_g1 = four_households[four_households["grid_id"] == "G1"].iloc[:2]
    payload = _payload(map_html(build_map(two_grids, only_g1, as_of=AS_OF)))
    assert [f["properties"]["k"] for f in payload["g"]["features"]] == [2, 0]


def test_unknown_fill_is_refused(two_grids, four_households):
    with pytest.raises(ValueError, match="fill"):
        build_map(two_grids, four_households, fill="colour")


def test_payload_size_per_household_at_scale(two_grids):
    """100k households: under 40 bytes each in the page, built in well under the time budget."""
    n = 100_000
    rng = np.random.default_rng(1)
    codes = np.array([None, None, None, None, "red", "yellow", "pink;blue", "purple"], dtype=object)
    households = pd.DataFrame(
        {
            "household_id": [f"H{i:07d}" for i in range(n)],
            "categories": codes[rng.integers(0, len(codes), n)],
            "building": [f"{i % 300}号楼" for i in range(n)],
            "last_visit": "2026-11-20 10:00:00",
            "overdue": rng.random(n) < 0.05,
            "lon": 111.70 + rng.random(n) * 0.1,
            "lat": 40.80 + rng.random(n) * 0.1,
        }
    )
    html = map_html(build_map(two_grids, households, as_of=AS_OF))
    assert len(html.encode()) / n < 40
    assert _payload(html)["pointsMinZoom"] > 0  # level of detail: aggregates when zoomed out


def _payload(html: str) -> dict:
    start = html.index("gridmapDraw(") + len("gridmapDraw(")
    start = html.index(",", start) + 1
    return json.JSONDecoder().raw_decode(html[start:].lstrip())[0]


def test_only_aggregates_when_no_points_are_shipped(two_grids, four_households):
    """Level of detail at 1M households: no points, but the legend and grid counts stay true."""
    payload = _payload(
        map_html(
            build_map(two_grids, four_households.iloc[:0], summary=four_households, as_of=AS_OF)
        )
    )
    assert payload["h"]["n"] == 0
    assert [f["properties"]["k"] for f in payload["g"]["features"]] == [3, 1]
    assert 'data-code="ordinary" data-count="1"' in payload["legend"]


def _base_and_view(fmap) -> tuple[str, dict]:
    """(the map's script, the view sent apart), as ui.mapview.show_map parts them."""
    from geo.outputs.map.leaflet import GridmapLayer, detach_view

    group = detach_view(fmap)
    layer = next(c for c in fmap._children.values() if isinstance(c, GridmapLayer))
    view = json.loads(next(iter(group._children.values())).view_json)
    return layer.payload_json, view


def test_the_map_stays_the_same_while_the_choices_change(two_grids, four_households):
    from geo.outputs.map.build import HouseholdFilter

    reports = pd.DataFrame(
        {
            "report_id": ["R1"],
            "state": ["overdue"],
            "category": ["环境卫生"],
            "source": ["hotline"],
            "reported_at": ["2026-11-26 10:00:00"],
            "lon": [111.701],
            "lat": [40.841],
        }
    )
    plain, plain_view = _base_and_view(build_map(two_grids, four_households, as_of=AS_OF))
    chosen, view = _base_and_view(
        build_map(
            two_grids,
            four_households,
            reports,
            fill="visit_rate",
            as_of=AS_OF,
            selected_grids=["G1"],
            focus=two_grids.iloc[:1],
            heat=True,
            show=HouseholdFilter(
                categories=("red", "pink"), only_overdue=True, grid_ids=("G1",), unassigned=False
            ),
            summary=four_households.iloc[1:2],
        )
    )
    assert chosen == plain  # no reload: the map's own script is byte for byte the same
    assert plain_view["show"] is None and plain_view["sel"] == [] and plain_view["r"] is None
    assert view["show"] == {"cats": 0b10001, "overdue": True, "grids": [0], "loose": False}
    assert view["sel"] == ["G1"] and view["heat"] is True and view["r"]["id"] == ["R1"]
    assert view["fill"][0] != "" and view["k"] == [1, 0]  # G1 holds the one household shown
    assert view["focus"] == [[40.84, 111.7], [40.842, 111.702]]
    assert 'data-code="red" data-count="1"' in view["legend"]
    base = json.loads(chosen)
    assert {"legend", "r", "show", "focus"}.isdisjoint(base)
    # each household's grid, in the payload's order (ordinary first): H1, H2, H3 in G1, H4 in G2
    assert base["h"]["id"] == "H1|H2|H3|H4" and base["h"]["g"] == [0, 0, 0, 1]


def test_text_in_the_map_is_data_never_evaluated_as_a_jinja_template():
    """A grid name or a report category reading like a template (from an imported file, a
    citizen's report) reaches the browser as it is: branca compiled a script's text with
    Jinja, which evaluated it on the server (and took seconds for a large payload)."""
    from geo.outputs.map.leaflet import detach_view

    hostile = "{{ 'ev' ~ 'aluated' }}{% for x in 'ab' %}loop{% endfor %}"
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1"], "name": [hostile], "community": ["c"], "households": [1]},
        geometry=[box(116.0, 39.0, 116.01, 39.01)],
        crs="EPSG:4326",
    )
    reports = pd.DataFrame(
        {
            "report_id": ["R1"],
            "state": ["open"],
            "category": [hostile],
            "source": ["hotline"],
            "reported_at": ["2026-11-30 10:00"],
            "lon": [116.005],
            "lat": [39.005],
        }
    )
    fmap = build_map(grids, pd.DataFrame(), reports, as_of=dt.date(2026, 12, 1))
    fmap.add_child(detach_view(fmap))  # the view too (sent apart by st_folium)
    page = map_html(fmap)
    assert "evaluated" not in page and "looploop" not in page
    assert page.count("{{ 'ev' ~ 'aluated' }}") >= 3  # the grid's name, label, report
