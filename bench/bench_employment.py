"""``python -m bench.bench_employment [--sizes 18000,200000,1000000]``: the new_employment
section at demo scale and past it.

For each demo size (households; the new-employment set scales with its observer ids)
builds the set in memory, times ``employment_status`` (every rule of section 7) and
the nearest-station search, and against a baseline measured in the same run: the
geodesic of every outlet x station pair. Prints figures and ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np

from geo.demo import layout as demo
from geo.employment import status
from geo.employment.demo import demo_observer_ids, employment_demo
from geo.employment.metrics import EmploymentFrames, count_section, employment_status

AS_OF = dt.date(2026, 11, 27)


def _timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def run(households: int) -> dict[str, float | int]:
    """Figures for one demo size."""
    rng = np.random.default_rng(7)
    grids = demo._grids_frame(rng, demo._layout(rng, households))
    made = employment_demo(7, grids, AS_OF, demo_observer_ids(households))
    frames = EmploymentFrames(made.firms, made.outlets, made.workers, made.stations)
    status_s, computed = _timed(lambda: employment_status(frames, AS_OF))
    section = count_section(computed)
    o_lon, o_lat = status.lonlat(made.outlets)
    s_lon, s_lat = status.lonlat(status.open_stations(made.stations, AS_OF))
    search_s, (fast, _) = _timed(lambda: status.nearest_station(o_lon, o_lat, s_lon, s_lat))
    limit = status.BRUTE_FORCE_PAIRS
    status.BRUTE_FORCE_PAIRS = 10**15  # the baseline: every pair on the ellipsoid
    try:
        pairs_s, (slow, _) = _timed(lambda: status.nearest_station(o_lon, o_lat, s_lon, s_lat))
    finally:
        status.BRUTE_FORCE_PAIRS = limit
    assert np.array_equal(fast, slow), "the candidate search changed a distance"
    return {
        "households": households,
        "workers": section["workers"],
        "outlets": section["outlets"],
        "stations": section["stations"],
        "status_s": status_s,
        "nearest_s": search_s,
        "every_pair_s": pairs_s,
    }


def main() -> None:
    """Run the sizes and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="18000,200000,1000000")
    args = parser.parse_args()
    print(
        f"{'households':>10} {'workers':>8} {'outlets':>8} {'stations':>8} "
        f"{'status s':>9} {'nearest s':>10} {'every pair s':>13} {'ratio':>7}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(size)
        ratio = r["every_pair_s"] / r["nearest_s"] if r["nearest_s"] else float("nan")
        print(
            f"{r['households']:>10,} {r['workers']:>8,} {r['outlets']:>8,} {r['stations']:>8,} "
            f"{r['status_s']:>9.3f} {r['nearest_s']:>10.3f} {r['every_pair_s']:>13.3f} {ratio:>6.1f}x"
        )


if __name__ == "__main__":
    main()
