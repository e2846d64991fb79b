"""``python -m bench.household_frame [--households 100000]``: the map page's household data,
folding the visits twice (before issue 13) and once (the per-household frame).

For each viewer (a street leader: the whole street; a community's staff; a grid worker) the
page needs the households of the viewer's scope (points, legend, tables) and the grid figures
of the scope. Before, only a whole-street viewer's grid figures were summed from its
household statuses; a limited viewer's were computed by a second fold of every household
(``household_counters_of``). Now every viewer's grid figures are summed from the frame of its
scope (``geo.metrics.tables.grid_table_of``). Both paths run here on the same demo store,
interleaved, best of ``--repeat`` runs each (the whole street's two paths are the same: a
control row for the machine's noise); the grid rows of the scope are checked equal. Prints one line per
viewer and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import pandas as pd

from geo.care.rules import household_status
from geo.demo.build import build_demo
from geo.metrics.contract import household_counters_of
from geo.metrics.tables import grid_table, grid_table_of
from geo.store import open_store


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _best_of_both(repeat: int, before, after):
    """Both paths, interleaved (a busy machine slows both alike), the best time of each."""
    t_before, t_after = [], []
    for _ in range(repeat):
        old, seconds = _timed(before)
        t_before.append(seconds)
        new, seconds = _timed(after)
        t_after.append(seconds)
    return old, min(t_before), new, min(t_after)


def _twice(store, as_of: dt.date, where: dict | None) -> pd.DataFrame:
    """Before: the statuses of the scope, and (limited viewers) a second fold of everyone."""
    frame = household_status(store, as_of, where=where)
    if where is None:  # the whole street: summed from the statuses already (before, too)
        return grid_table_of(store, as_of, frame)
    return grid_table(store, as_of, household_counters_of(store, as_of))


def _once(store, as_of: dt.date, where: dict | None) -> pd.DataFrame:
    """Now: one frame of the scope; the grid figures summed from it."""
    return grid_table_of(store, as_of, household_status(store, as_of, where=where))


def main() -> None:
    """Build the demo, time both paths per viewer, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="an existing demo store (default: built in a temp dir)")
    args = parser.parse_args()
    as_of = dt.date.today()
    with tempfile.TemporaryDirectory(prefix="gridmap-frame-") as folder:
        location = args.db or str(Path(folder) / "demo.gpkg")
        store = open_store(location)
        if not args.db:
            build_demo(store, households=args.households, as_of=as_of)
        grids = store.read_attributes("grids", ["grid_id", "community"])
        community = sorted(c for c in grids["community"].dropna() if c)[0]
        viewers = {
            "street leader (whole street)": None,
            "community staff (one community)": {
                "grid_id": sorted(grids.loc[grids["community"] == community, "grid_id"])
            },
            "grid worker (one grid)": {"grid_id": [sorted(grids["grid_id"])[0]]},
        }
        print(f"{store.count('households'):,} households, {len(grids)} grids, as of {as_of}")
        print(f"{'viewer':<40}{'twice s':>10}{'once s':>10}{'ratio':>8}")
        for name, where in viewers.items():
            before, t_before, after, t_after = _best_of_both(
                args.repeat,
                lambda w=where: _twice(store, as_of, w),
                lambda w=where: _once(store, as_of, w),
            )
            ids = set(before["grid_id"] if where is None else where["grid_id"])
            pd.testing.assert_frame_equal(
                before[before["grid_id"].isin(ids)].reset_index(drop=True),
                after[after["grid_id"].isin(ids)].reset_index(drop=True),
            )
            print(f"{name:<40}{t_before:>10.2f}{t_after:>10.2f}{t_before / t_after:>7.1f}x")


if __name__ == "__main__":
    main()
