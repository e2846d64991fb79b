"""Helpers of the data-desk tests: a two-community store, files, store hashes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from shapely.geometry import box

from geo.inputs.importers.core import import_file
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]
# community 东门 holds G1 and G2, community 西河 holds G3
G1 = box(111.70, 40.84, 111.71, 40.85)
G2 = box(111.71, 40.84, 111.72, 40.85)
G3 = box(111.72, 40.84, 111.73, 40.85)
EAST, WEST = "东门社区", "西河社区"


def feature(props: dict, geom) -> dict:
    """A GeoJSON feature."""
    return {"type": "Feature", "properties": props, "geometry": geom.__geo_interface__}


def write_geojson(path: Path, features: list[dict]) -> Path:
    """A GeoJSON FeatureCollection file."""
    data = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """A CSV file with ``text``."""
    path.write_bytes(text.encode(encoding))
    return path


def digest(store_path: str | Path) -> str:
    """A hash of the store's bytes (the file and its WAL)."""
    store_path = Path(store_path)
    h = hashlib.sha256(store_path.read_bytes())
    wal = Path(str(store_path) + "-wal")
    h.update(wal.read_bytes() if wal.exists() else b"")
    return h.hexdigest()


def build_store(folder: Path) -> str:
    """A store: grids G1, G2 (东门) and G3 (西河), households H1 (G1), H2 (G2), H3 (G3), a visit of H1."""
    location = str(folder / "store.gpkg")
    store = open_store(location)
    grids = write_geojson(
        folder / "grids.geojson",
        [
            feature({"网格编号": "G1", "网格名称": "一网格", "社区": EAST}, G1),
            feature({"网格编号": "G2", "网格名称": "二网格", "社区": EAST}, G2),
            feature({"网格编号": "G3", "网格名称": "三网格", "社区": WEST}, G3),
        ],
    )
    assert import_file(store, "grids", grids).ok
    households = write_csv(
        folder / "households.csv",
        "户编号,经度,纬度,类别,地址,人数\n"
        "H1,111.705,40.845,红,一号楼,1\n"
        "H2,111.715,40.845,黄,二号楼,2\n"
        "H3,111.725,40.845,,三号楼,3\n",
    )
    assert import_file(store, "households", households).ok
    visits = write_csv(folder / "visits.csv", "户编号,走访时间\nH1,2026-11-20 09:00\n")
    assert import_file(store, "visits", visits).ok
    return location
