"""``python -m bench.busy_writers``: visits logged from 4 processes while a big import runs.

Builds a demo street office and a visits CSV of ``--visits`` rows, starts the import in its
own process, and meanwhile runs 4 writer processes that each log 25 visits with
``geo.care.coverage.log_visit`` (what the coverage page calls), one a second: 12 while the file
is read and checked, 13 once the import starts its final copy (the import process says when:
the only time it holds the write lock), so that both phases are measured. A writer told to
wait (the page's "please wait" message, ``EditRefused`` busy_wait) tries again a second
later, as a person pressing save again would. Prints: the import's time and how long it
held the write lock, per writer the visits saved, times told to wait, the longest save,
tracebacks, and the visits found in the store afterwards (lost = 100 - found).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

WRITERS = 4
VISITS_EACH = 25
BEFORE_COPY = 12
IMPORT = """
import json, sys, time
from geo.inputs.importers import core as importers
from geo.inputs.importers.core import import_file
from geo.store import open_store
write = importers._write
def announced(*args, **kwargs):
    print("FINAL_COPY", flush=True)  # the bench's cue: the write lock is about to be taken
    return write(*args, **kwargs)
importers._write = announced
started = time.perf_counter()
report = import_file(open_store(sys.argv[1]), "visits", sys.argv[2])
print(json.dumps({"ok": report.ok, "written": report.written, "seconds": time.perf_counter() - started,
                  "lock_seconds": report.lock_seconds, "problems": report.problem_lines()[:3]}))
"""


def writer(db: str, number: int, households: list[str], copying, out) -> None:
    """Log VISITS_EACH visits, one a second, the last ones once ``copying`` is set."""
    from geo.care.coverage import EditRefused, log_visit
    from geo.store import open_store
    from geo.timeutil import now_local

    store = open_store(db)
    figures = {"writer": number, "saved": 0, "told_to_wait": 0, "tracebacks": [], "longest_s": 0.0}
    for i in range(VISITS_EACH):
        if i == BEFORE_COPY:
            copying.wait()
        time.sleep(1)
        while True:
            started = time.perf_counter()
            try:
                log_visit(
                    store,
                    households[(number * VISITS_EACH + i) % len(households)],
                    now_local().replace(microsecond=0),
                    "入户",
                    None,
                    f"bench-{number}-{i}",
                    f"bench{number}",
                )
                figures["saved"] += 1
                break
            except EditRefused as refused:
                if refused.key != "busy_wait":
                    figures["tracebacks"].append(f"refused: {refused}")
                    break
                figures["told_to_wait"] += 1  # the form kept the visit: press save again
                time.sleep(1)
            except Exception:
                figures["tracebacks"].append(traceback.format_exc(limit=2))
                break
            finally:
                figures["longest_s"] = max(figures["longest_s"], time.perf_counter() - started)
    out.put(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=3_000_000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    from bench.import_data import visits_csv
    from geo.demo.build import build_demo
    from geo.store import open_store

    with tempfile.TemporaryDirectory(prefix="gridmap-bench-") as tmp:
        db = str(Path(tmp) / "street.gpkg")
        store = open_store(db)
        build_demo(store, households=20_000)
        csv = Path(tmp) / "visits.csv"
        visits_csv(store, csv, args.visits)
        households = store.read_attributes("households", ["household_id"])["household_id"].tolist()
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        started = time.perf_counter()
        importer = subprocess.Popen(
            [sys.executable, "-c", IMPORT, db, str(csv)], env=env, stdout=subprocess.PIPE, text=True
        )
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        copying = context.Event()
        writers = [
            context.Process(target=writer, args=(db, n, households, copying, queue))
            for n in range(WRITERS)
        ]
        for process in writers:
            process.start()
        copying_at = None
        for line in importer.stdout:
            if line.startswith("FINAL_COPY"):
                copying_at = time.perf_counter() - started
                copying.set()
            else:
                imported = json.loads(line)
        importer.wait()
        copying.set()  # (a refused import never copies: let the writers finish)
        results = [queue.get() for _ in writers]
        for process in writers:
            process.join()
        imported["final_copy_after_s"] = copying_at
        imported["ended_after_s"] = time.perf_counter() - started
        found = (
            open_store(db)
            .read_attributes("visits", ["note"])["note"]
            .fillna("")
            .str.startswith("bench-")
            .sum()
        )
    results.sort(key=lambda r: r["writer"])
    tracebacks = sum(len(r["tracebacks"]) for r in results)
    summary = {
        "visits_in_file": args.visits,
        "import": imported,
        "writers": results,
        "visits_logged": WRITERS * VISITS_EACH,
        "visits_found": int(found),
        "lost": WRITERS * VISITS_EACH - int(found),
        "tracebacks": tracebacks,
    }
    print(
        f"import of {args.visits:,} visits: {imported['seconds']:.1f} s, written {imported['written']:,}, "
        f"write lock held {imported['lock_seconds']:.1f} s (the final copy, from {imported['final_copy_after_s']:.0f} s on)"
    )
    print(f"{'writer':>6}{'saved':>7}{'told to wait':>14}{'longest save s':>16}{'tracebacks':>12}")
    for r in results:
        print(
            f"{r['writer']:>6}{r['saved']:>7}{r['told_to_wait']:>14}{r['longest_s']:>16.2f}{len(r['tracebacks']):>12}"
        )
    print(
        f"visits logged {summary['visits_logged']}, found in the store {summary['visits_found']}: lost {summary['lost']}, tracebacks {tracebacks}"
    )
    for r in results:
        for text in r["tracebacks"]:
            print(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
