"""Store timings on synthetic data: PostGIS (and the GeoPackage for comparison).

    python bench/bench_postgis.py --households 100000 --visits-per-household 10 \
        --pg postgresql://gridmap:gridmap@127.0.0.1/gridmap_bench [--gpkg /tmp/bench.gpkg] \
        [--sessions 50]

Writes into the given (scratch!) locations, replacing their tables. Prints one line per
measurement; docs/postgis.md quotes the results.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon, box

from geo.store import open_store
from geo.store.base import Store

WGS84 = "EPSG:4326"


def synthetic(n_households: int, visits_per_household: int, grids_side: int = 15, seed: int = 1):
    """Grids on a square lattice, households uniformly inside, visits over 30 days."""
    rng = np.random.default_rng(seed)
    step = 0.01
    ids = [f"G{i:03d}" for i in range(grids_side * grids_side)]
    grids = gpd.GeoDataFrame(
        {"grid_id": ids, "name": ids, "community": "C", "street": "S", "party_branch": None},
        geometry=[
            MultiPolygon(
                [
                    box(
                        116 + (i % grids_side) * step,
                        39 + (i // grids_side) * step,
                        116 + (i % grids_side + 1) * step,
                        39 + (i // grids_side + 1) * step,
                    )
                ]
            )
            for i in range(len(ids))
        ],
        crs=WGS84,
    )
    x = 116 + rng.random(n_households) * grids_side * step
    y = 39 + rng.random(n_households) * grids_side * step
    col = ((x - 116) // step).astype(int).clip(0, grids_side - 1)
    row = ((y - 39) // step).astype(int).clip(0, grids_side - 1)
    cats = np.array(["", "red", "yellow", "pink", "red;pink", "orange"])
    households = gpd.GeoDataFrame(
        {
            "household_id": [f"H{i:07d}" for i in range(n_households)],
            "grid_id": np.array(ids, dtype=object)[row * grids_side + col],
            "categories": cats[rng.integers(0, len(cats), n_households)],
            "address": "某小区1号楼",
            "head_name": "张三",
            "phone": "13800001234",
            "members": rng.integers(1, 6, n_households),
            "last_verified": "2026-11-01",
        },
        geometry=gpd.points_from_xy(x, y),
        crs=WGS84,
    )
    n_visits = n_households * visits_per_household
    day = rng.integers(1, 31, n_visits)
    visits = pd.DataFrame(
        {
            "visit_id": [f"V{i:08d}" for i in range(n_visits)],
            "household_id": households["household_id"].to_numpy()[
                rng.integers(0, n_households, n_visits)
            ],
            "visited_at": [f"2026-11-{d:02d} 09:30:00" for d in day],
            "staff_id": "S1",
            "kind": "door",
        }
    )
    return grids, households, visits


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label}: {time.perf_counter() - start:.2f} s", flush=True)
    return result


def bench_store(store: Store, grids, households, visits, sessions: int, write: bool = True) -> None:
    name = "postgis" if store.location.startswith("postgres") else "gpkg"
    if write:
        bench_writes(store, name, grids, households, visits)
    bench_reads(store, name, grids, sessions)


def bench_writes(store: Store, name: str, grids, households, visits) -> None:

    def write_all() -> None:
        with store.transaction() as tx:
            tx.replace("grids", grids)
            tx.replace("households", households)
            tx.replace("visits", visits)

    timed(
        f"{name} write grids+{len(households)} households+{len(visits)} visits (replace)", write_all
    )

    def upsert_partial() -> None:
        with store.transaction() as tx:
            tx.upsert(
                "households", households[["household_id", "phone"]].head(len(households) // 10)
            )

    timed(f"{name} upsert phone of {len(households) // 10} households", upsert_partial)


def bench_reads(store: Store, name: str, grids, sessions: int) -> None:
    timed(f"{name} read all households", lambda: store.read("households"))
    timed(
        f"{name} read households of one grid",
        lambda: store.read("households", where={"grid_id": "G007"}),
    )
    timed(f"{name} visit_days 7-day window", lambda: store.visit_days("2026-11-24", "2026-11-30"))
    timed(f"{name} last_visits", lambda: store.last_visits("2026-11-30"))

    if sessions:
        # a session's page load: the data version, then one grid's households
        ids = grids["grid_id"].tolist()

        def page(i: int) -> float:
            start = time.perf_counter()
            store.version()
            store.read("households", where={"grid_id": ids[i % len(ids)]})
            return time.perf_counter() - start

        loads = sessions * 4
        start = time.perf_counter()
        with ThreadPoolExecutor(sessions) as pool:
            latencies = sorted(pool.map(page, range(loads)))
        wall = time.perf_counter() - start
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"{name} {sessions} concurrent sessions, {loads} page loads: {loads / wall:.1f} loads/s, "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--visits-per-household", type=int, default=10)
    parser.add_argument("--pg", required=True)
    parser.add_argument("--gpkg", default=None)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument(
        "--read-only", action="store_true", help="skip the writes (data already there)"
    )
    args = parser.parse_args()
    grids, households, visits = timed(
        "generate", lambda: synthetic(args.households, args.visits_per_household)
    )
    for location in [args.pg, *([args.gpkg] if args.gpkg else [])]:
        bench_store(
            open_store(location), grids, households, visits, args.sessions, write=not args.read_only
        )


if __name__ == "__main__":
    main()
