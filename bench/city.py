"""Issue 16's figures on one store: each step with the maintained care state and, in the same
run, the same step computing from the tables (``GRIDMAP_CARE_STATE=off``: the code before
the state), so every figure has its "before" beside it.

- ``metrics_json_s``: ``gridmap metrics --json`` in a fresh process (imports included: what a
  user waits for);
- ``grid_table_s``: ``geo.metrics.tables.grid_table`` in process, the state read and decoded
  (cold), what the map page's grid figures cost a fresh server;
- ``household_status_s``: ``geo.care.rules.household_status`` of every household (what a
  category filter or "only overdue" over the whole area loads), cold;
- ``weekly_s``: ``gridmap weekly --out x.pdf`` in a fresh process;
- ``state_build_s``: the whole state built in one write's transaction (what the first write
  on an older store, a bulk import or a ``--replace`` adds).

``python -m bench.city --db STORE [--as-of DAY] [--skip-scratch]`` prints ``CITY_RESULT {...}``.

``python -m bench.city --db STORE --baseline DIR [--repeat N]`` times only the two commands
(``metrics --json``, ``weekly`` to a PDF and to an XLSX), each N times, alternating this
checkout and the code in DIR (another checkout, e.g. ``git archive COMMIT | tar -x -C DIR``)
on the same store, and prints the medians as ``CITY_BASELINE {...}``: this code's step,
``<step>_baseline_s`` beside it, and the ratio. ``weekly`` writes an audit event: give it a
copy of the store.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cli_seconds(args: list[str], scratch: bool, root: Path = ROOT) -> tuple[float, int]:
    """Wall seconds of ``python -m geo.cli ARGS`` in a fresh process (the code of the
    checkout ``root``), and its exit code."""
    env = dict(os.environ)
    env["GRIDMAP_CARE_STATE"] = "off" if scratch else "on"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "geo.cli", *args],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return round(time.perf_counter() - start, 2), done.returncode


def _in_process(fn, *args, scratch: bool) -> float:
    """Seconds of ``fn(*args)`` with the state read afresh (or switched off)."""
    from geo.carestate import load

    load.forget()
    previous = os.environ.get("GRIDMAP_CARE_STATE")
    os.environ["GRIDMAP_CARE_STATE"] = "off" if scratch else "on"
    try:
        start = time.perf_counter()
        fn(*args)
        return round(time.perf_counter() - start, 2)
    finally:
        if previous is None:
            os.environ.pop("GRIDMAP_CARE_STATE", None)
        else:
            os.environ["GRIDMAP_CARE_STATE"] = previous


def state_build_seconds(location: str) -> float:
    """Seconds of one write that rebuilds the whole care state."""
    from geo.store import open_store
    from geo.store.care import CARE_FORMAT

    store = open_store(location)
    start = time.perf_counter()
    with store.transaction() as tx:  # blocks of "another format": this commit rebuilds them all
        tx.set_meta(CARE_FORMAT, "0")
    return round(time.perf_counter() - start, 2)


def run(location: str, as_of: dt.date, scratch: bool = True, weekly: bool = True) -> dict:
    """Every step with the state, and (``scratch``) from the tables."""
    from geo.care.rules import household_status
    from geo.metrics.tables import grid_table
    from geo.store import open_store

    store = open_store(location)
    day = as_of.isoformat()
    out: dict = {"notes": []}
    variants = [(False, "")] + ([(True, "_scratch")] if scratch else [])
    for off, suffix in variants:
        seconds, code = _cli_seconds(["metrics", "--json", "--db", location, "--as-of", day], off)
        out[f"metrics_json{suffix}_s"] = seconds if code == 0 else None
        out[f"grid_table{suffix}_s"] = _in_process(grid_table, store, as_of, scratch=off)
        out[f"household_status{suffix}_s"] = _in_process(
            household_status, store, as_of, scratch=off
        )
        if weekly:
            with tempfile.TemporaryDirectory() as tmp:
                pdf = str(Path(tmp) / "weekly.pdf")
                seconds, code = _cli_seconds(
                    ["weekly", "--db", location, "--as-of", day, "--out", pdf], off
                )
            out[f"weekly{suffix}_s"] = seconds if code == 0 else None
    out["state_build_s"] = state_build_seconds(location)
    return out


def against_baseline(location: str, as_of: dt.date, baseline: Path, repeat: int = 3) -> dict:
    """Median seconds of ``metrics --json`` and ``weekly`` (PDF, XLSX) of this checkout and
    of ``baseline``'s code, run alternately on the same store (same machine load)."""
    day = as_of.isoformat()
    out: dict = {"repeat": repeat}
    with tempfile.TemporaryDirectory() as tmp:
        steps = {
            "metrics_json": ["metrics", "--json", "--db", location, "--as-of", day],
            "weekly_pdf": ["weekly", "--db", location, "--as-of", day, "--out", f"{tmp}/w.pdf"],
            "weekly_xlsx": ["weekly", "--db", location, "--as-of", day, "--out", f"{tmp}/w.xlsx"],
        }
        for step, args in steps.items():
            times: dict[str, list[float]] = {"": [], "_baseline": []}
            for _ in range(repeat):
                for suffix, root in (("_baseline", baseline), ("", ROOT)):
                    seconds, code = _cli_seconds(args, False, root)
                    if code != 0:
                        raise SystemExit(f"{step} failed in {root}")
                    times[suffix].append(seconds)
            for suffix, values in times.items():
                out[f"{step}{suffix}_s"] = round(statistics.median(values), 2)
                out[f"{step}{suffix}_all_s"] = values
            out[f"{step}_ratio"] = round(out[f"{step}_baseline_s"] / out[f"{step}_s"], 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.city", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--db", required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 27))
    parser.add_argument("--skip-scratch", action="store_true", help="no from-the-tables steps")
    parser.add_argument("--no-weekly", action="store_true")
    parser.add_argument("--baseline", type=Path, help="another checkout: its code beside this")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.baseline is not None:
        result = against_baseline(args.db, args.as_of, args.baseline.resolve(), args.repeat)
        print("CITY_BASELINE " + json.dumps(result, ensure_ascii=False))
        return 0
    result = run(args.db, args.as_of, scratch=not args.skip_scratch, weekly=not args.no_weekly)
    print("CITY_RESULT " + json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
