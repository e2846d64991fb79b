import datetime as dt
import hashlib
import re

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.reports import workflow as rp
from geo.store import open_store


def _png(width: int = 4, height: int = 3) -> bytes:
    """A real PNG of ``width`` x ``height`` pixels."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _png()


@pytest.fixture
def store(tmp_path):
    """Two 0.01-degree grids near Hohhot sharing the edge lon=111.71; G1 has a grid worker."""
    store = open_store(str(tmp_path / "r.gpkg"))
    grids = gpd.GeoDataFrame(
        {"grid_id": ["G1", "G2"]},
        geometry=[box(111.70, 40.84, 111.71, 40.85), box(111.71, 40.84, 111.72, 40.85)],
        crs="EPSG:4326",
    )
    staff = pd.DataFrame(
        {"staff_id": ["S1"], "name": ["王芳"], "role": ["grid_worker"], "grid_id": ["G1"]}
    )
    with store.transaction() as tx:
        tx.upsert("grids", grids)
        tx.upsert("staff", staff)
    return store


def _file(store, **kw):
    args = {
        "source": "observer",
        "category": "环境卫生",
        "lon": 111.705,
        "lat": 40.845,
        "actor": "clerk",
    }
    args.update(kw)
    return rp.file_report(store, **args)


def test_filed_report_is_placed_in_its_grid_with_its_worker(store):
    filed = _file(store, reported_at=dt.datetime(2026, 11, 20, 9, 0))
    assert filed.grid_id == "G1" and filed.grid_workers == ("王芳 (S1)",)
    saved = store.read("reports").iloc[0]
    assert saved["reported_at"] == "2026-11-20 09:00:00" and saved["grid_id"] == "G1"
    assert rp.report_history(store, filed.report_id)["step"].tolist() == ["reported"]


def test_report_outside_every_grid_is_accepted_and_unassigned(store):
    # about 850 m east of the grids: outside every grid, inside the accepted 2 km
    filed = _file(store, lon=112.5 - 0.77, lat=40.845)
    assert filed.unassigned and filed.grid_workers == ()
    assert store.read("reports")["grid_id"].isna().all()


@pytest.mark.parametrize(
    ("lon", "lat", "boundary"),
    [
        (116.397, 39.909, False),  # Beijing, ~400 km away: no boundary loaded, the grids count
        (111.75, 40.845, False),  # ~2.5 km east of the grids
        (111.728, 40.845, True),  # ~670 m east of the grids, 2.4 km outside a smaller boundary
    ],
)
def test_a_location_far_outside_the_jurisdiction_is_refused(store, lon, lat, boundary):
    if boundary:
        outline = gpd.GeoDataFrame(
            {"boundary_id": ["B"], "name": ["街道"]},
            geometry=[box(111.69, 40.83, 111.70, 40.86)],
            crs="EPSG:4326",
        )
        with store.transaction() as tx:
            tx.replace("boundary", outline)
    before = hashlib.sha256(open(store.location, "rb").read()).hexdigest()
    with pytest.raises(rp.ReportError, match="outside the jurisdiction") as refused:
        _file(store, lon=lon, lat=lat)
    assert "不在受理范围内" in refused.value.message("zh-CN")
    assert hashlib.sha256(open(store.location, "rb").read()).hexdigest() == before


def test_the_distance_limit_is_configuration(store, tmp_path, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text("report_max_outside_m = 5000\n", encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_CONFIG", str(config))
    rp.load_config.cache_clear()
    try:
        assert _file(store, lon=111.75, lat=40.845).unassigned  # 2.5 km: accepted within 5 km
    finally:
        rp.load_config.cache_clear()


def test_a_grid_worker_files_only_within_reach_of_their_grids(store):
    # inside their grid
    assert _file(store, within=["G1"]).grid_id == "G1"
    # in the neighbouring grid: refused, and told where it is
    with pytest.raises(rp.ReportError, match="not one of the filer's grids") as refused:
        _file(store, lon=111.715, within=["G1"])
    # told it is another grid's, not which one (nor who answers for it)
    assert "G2" not in refused.value.message() and "不在您负责的网格内" in refused.value.message()
    # 50 m north of their grid, outside every grid: theirs (within the 100 m reach)
    filed = _file(store, lat=40.85045, within=["G1"])
    assert filed.grid_id == "G1" and filed.nearby
    # 500 m north: refused
    with pytest.raises(rp.ReportError, match="outside the filer's grids"):
        _file(store, lat=40.8545, within=["G1"])
    # the whole street (within=None) files anywhere near the jurisdiction
    assert _file(store, lon=111.715).grid_id == "G2"


def test_a_filed_report_names_its_grid(store):
    with store.transaction() as tx:
        tx.update("grids", {"grid_id": "G1"}, {"name": "滨河社区第1网格"})
    assert _file(store).grid_name == "滨河社区第1网格"


def test_refusals_are_worded_for_the_clerk_in_chinese(store):
    with pytest.raises(rp.ReportError) as refused:
        _file(store, source="rumour", category=" ", lon=300)
    message = refused.value.message("zh-CN")
    assert "来源" in message and "类别" in message and "经纬度范围" in message
    assert not re.search(r"[A-Za-z]{3,}", message.replace("rumour", ""))
    rid = _file(store, reported_at=dt.datetime(2026, 11, 20, 9, 0)).report_id
    with pytest.raises(rp.ReportError) as refused:
        rp.record_step(store, rid, "resolved", "wang", at=dt.datetime(2026, 11, 20, 10, 0))
    assert refused.value.message("zh-CN") == "办理环节不能跳过或回退：应先“响应”，再“办结”。"
    assert "'respond' comes before 'resolve'" in refused.value.message("en")


def test_gcj02_coordinates_are_converted(store):
    from geo.inputs.coords import wgs84_to_gcj02

    gx, gy = wgs84_to_gcj02([111.705], [40.845])
    _file(store, lon=float(gx[0]), lat=float(gy[0]), coords="gcj02")
    point = store.read("reports").geometry.iloc[0]
    assert point.distance(Point(111.705, 40.845)) < 1e-6


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"source": "rumour"}, "source: unknown"),
        ({"category": " "}, "category: required"),
        ({"lon": 300}, "out of range"),
        ({"lon": "abc"}, "must be numbers"),
        ({"reported_at": dt.datetime(2099, 1, 1)}, "in the future"),
        ({"photo": b"%PDF-1.4 not an image"}, "only JPEG, PNG"),
        ({"photo": PNG + b"\x00" * rp.MAX_PHOTO_BYTES}, "too large"),
        ({"duplicate_of": "R-none"}, "no report"),
    ],
)
def test_invalid_intake_is_refused_and_writes_nothing(store, kw, message):
    before = hashlib.sha256(open(store.location, "rb").read()).hexdigest()
    with pytest.raises(rp.ReportError, match=message):
        _file(store, **kw)
    assert hashlib.sha256(open(store.location, "rb").read()).hexdigest() == before


def test_photo_is_kept_in_the_store(store):
    filed = _file(store, photo=PNG)
    photo = store.read("photos", where={"report_id": filed.report_id}).iloc[0]
    assert photo["mime"] == "image/png" and bytes(photo["data"]) == PNG


def test_workflow_goes_forward_one_step_at_a_time(store):
    filed = _file(store, reported_at=dt.datetime(2026, 11, 20, 9, 0))
    rid = filed.report_id
    with pytest.raises(rp.ReportError, match="cannot record 'resolved' before 'responded'"):
        rp.record_step(store, rid, "resolved", "wang", at=dt.datetime(2026, 11, 20, 10, 0))
    with pytest.raises(rp.ReportError, match="before the 'reported' step"):
        rp.record_step(store, rid, "responded", "wang", at=dt.datetime(2026, 11, 20, 8, 0))
    rp.record_step(store, rid, "responded", "wang", at=dt.datetime(2026, 11, 20, 10, 0))
    with pytest.raises(rp.ReportError, match="already recorded"):
        rp.record_step(store, rid, "responded", "wang", at=dt.datetime(2026, 11, 20, 11, 0))
    rp.record_step(store, rid, "resolved", "wang", at=dt.datetime(2026, 11, 21, 10, 0))
    with pytest.raises(rp.ReportError, match="satisfied"):
        rp.record_step(store, rid, "followed_up", "li", at=dt.datetime(2026, 11, 22, 10, 0))
    rp.record_step(
        store,
        rid,
        "followed_up",
        "li",
        at=dt.datetime(2026, 11, 22, 10, 0),
        satisfaction="satisfied",
    )
    with pytest.raises(rp.ReportError, match="already followed up"):
        rp.record_step(store, rid, "followed_up", "li", satisfaction="satisfied")
    history = rp.report_history(store, rid)
    assert history[["step", "actor"]].values.tolist() == [
        ["reported", "clerk"],
        ["responded", "wang"],
        ["resolved", "wang"],
        ["followed_up", "li"],
    ]
    saved = store.read("reports").iloc[0]
    assert (saved["resolved_at"], saved["satisfaction"]) == ("2026-11-21 10:00:00", "satisfied")


def test_refused_step_writes_nothing(store):
    rid = _file(store, reported_at=dt.datetime(2026, 11, 20, 9, 0)).report_id
    before = hashlib.sha256(open(store.location, "rb").read()).hexdigest()
    with pytest.raises(rp.ReportError):
        rp.record_step(store, rid, "followed_up", "li", satisfaction="satisfied")
    assert hashlib.sha256(open(store.location, "rb").read()).hexdigest() == before


def _reports(rows):
    frame = pd.DataFrame(rows)
    for col in ("resolved_at", "duplicate_of"):
        if col not in frame:
            frame[col] = None
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame.pop("lon"), frame.pop("lat")), crs="EPSG:4326"
    )


@pytest.mark.parametrize(
    ("row", "is_duplicate"),
    [
        ({}, True),
        ({"lon": 111.7006}, False),  # ~50.6 m east: outside 50 m
        ({"lon": 111.7005}, True),  # ~42 m
        ({"category": "噪音扰民"}, False),
        ({"resolved_at": "2026-11-26 10:00:00"}, False),
        ({"reported_at": "2026-11-19 09:00:00"}, False),  # 8 days before
        ({"reported_at": "2026-11-20 10:00:00"}, True),  # exactly 7 days before
        ({"duplicate_of": "R1"}, False),
    ],
)
def test_duplicate_guard(row, is_duplicate):
    base = {
        "report_id": "R9",
        "category": "环境卫生",
        "reported_at": "2026-11-26 08:00:00",
        "lon": 111.7,
        "lat": 40.84,
    }
    found = rp.find_duplicates(
        _reports([{**base, **row}]), "环境卫生", 111.7, 40.84, dt.datetime(2026, 11, 27, 10, 0)
    )
    assert (len(found) == 1) is is_duplicate


def test_photo_type_detection():
    assert rp.photo_mime(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert rp.photo_mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    with pytest.raises(rp.ReportError):
        rp.photo_mime(b"<svg></svg>")


def _png_header_only(width: int, height: int) -> bytes:
    """A small PNG claiming ``width`` x ``height`` (one compressed row of zeros per line):
    a few hundred KB on disk, gigabytes once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = zlib.compress(b"\x00" * ((width + 1) * min(height, 2000)), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [30_000, 13_000, 6_400])
def test_a_photo_with_too_many_pixels_is_refused_at_upload_naming_the_file(store, side):
    bomb = _png_header_only(side, side)
    assert len(bomb) < rp.MAX_PHOTO_BYTES  # passes the byte limit: only the pixels tell
    reports = store.count("reports")
    with pytest.raises(rp.PhotoRefused) as refused:
        rp.check_photo(bomb, "现场.png")
    # past Pillow's own ceiling only the pixel count is known
    shown = f"{side * side:,}" if side == 30_000 else f"{side} x {side}"
    assert refused.value.message("zh-CN").startswith(
        f"照片 现场.png 有 {shown} 像素，超过上限 40 百万像素"
    )
    with pytest.raises(rp.PhotoRefused):
        _file(store, photo=bomb)
    assert store.count("reports") == reports and store.count("photos") == 0


def test_the_pixel_limit_is_configuration(store, tmp_path, monkeypatch):
    from geo.config import load_config

    config = tmp_path / "limits.toml"
    config.write_text("[limits]\nmax_photo_megapixels = 0.01\n", encoding="utf-8")
    monkeypatch.setenv("GRIDMAP_CONFIG", str(config))
    load_config.cache_clear()
    try:
        assert rp.check_photo(_png(100, 100), "a.png") == "image/png"  # 10,000 pixels
        with pytest.raises(rp.PhotoRefused, match="101 x 100"):
            rp.check_photo(_png(101, 100), "b.png")
    finally:
        monkeypatch.delenv("GRIDMAP_CONFIG")
        load_config.cache_clear()


def test_an_unreadable_image_is_refused(store):
    with pytest.raises(rp.PhotoRefused, match="无法作为图片读取"):
        rp.check_photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "坏.png")
