"""``python -m bench.import_memory``: peak memory of big imports, against reading the file whole.

Builds a demo street office, writes a households CSV of ``--households-mb`` MB and a visits
CSV of ``--visits`` rows, and imports each with ``gridmap import`` in its own process. The
baseline is the obvious way, in its own process too: ``pandas.read_csv`` of the whole file
(what the importer did before it read in chunks, before any checking). Prints the peak RSS
of each, the ratio, and whether the targets hold (<= 1 GB for a 250 MB CSV, <= 1.5 GB for
3M visits).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS_MB = {"households": 1024, "visits": 1536}
BASELINE = """
import resource, sys, pandas as pd
frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
print(len(frame), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of a child process, and its output."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{output}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, output.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households-mb", type=float, default=250)
    parser.add_argument("--visits", type=int, default=3_000_000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from bench.import_data import households_csv, visits_csv
    from geo.demo.build import build_demo
    from geo.store import open_store

    env = {
        **os.environ,
        "GRIDMAP_LANG": "en",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="gridmap-bench-") as tmp:
        db = str(Path(tmp) / "street.gpkg")
        store = open_store(db)
        build_demo(store, households=20_000)
        hh = Path(tmp) / "households.csv"
        rows = households_csv(store, hh, args.households_mb)
        vis = Path(tmp) / "visits.csv"
        visits_csv(store, vis, args.visits)
        for kind, path, count in (("households", hh, rows), ("visits", vis, args.visits)):
            mb = path.stat().st_size / 1024 / 1024
            _, baseline_mb, _ = _run([sys.executable, "-c", BASELINE, str(path)], env)
            seconds, peak_mb, output = _run(
                [sys.executable, "-m", "geo.cli", "import", kind, str(path), "--db", db], env
            )
            results.append(
                {
                    "kind": kind,
                    "rows": count,
                    "file_mb": round(mb, 1),
                    "import_s": round(seconds, 1),
                    "import_peak_rss_mb": round(peak_mb),
                    "baseline_read_csv_peak_rss_mb": round(baseline_mb),
                    "ratio_import_to_baseline": round(peak_mb / baseline_mb, 2),
                    "target_mb": TARGETS_MB[kind],
                    "within_target": peak_mb <= TARGETS_MB[kind],
                    "output": output.splitlines()[-1],
                }
            )
    print(
        f"{'kind':<11}{'rows':>11}{'file MB':>9}{'import s':>10}{'peak RSS MB':>13}{'read_csv MB':>13}{'ratio':>7}{'target MB':>11}  ok"
    )
    for r in results:
        print(
            f"{r['kind']:<11}{r['rows']:>11,}{r['file_mb']:>9.1f}{r['import_s']:>10.1f}"
            f"{r['import_peak_rss_mb']:>13,}{r['baseline_read_csv_peak_rss_mb']:>13,}"
            f"{r['ratio_import_to_baseline']:>7.2f}{r['target_mb']:>11,}  {'yes' if r['within_target'] else 'NO'}"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
