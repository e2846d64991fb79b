"""``python -m bench --sizes 10000,100000,1000000 --json FILE``: gridmap against the obvious alternatives.

Each size runs in its own process (its own peak RSS) on demo data built at that size
(~300 households per grid, 8 weeks of visits, reports in proportion). Prints a table of
figures and ratios against the baselines measured in the same run, and writes the JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

COLUMNS = [
    ("households", "households", "{:,}"),
    ("visits", "visits", "{:,}"),
    ("import_s", "import s", "{:.2f}"),
    ("strtree_floor_s", "STRtree floor s", "{:.2f}"),
    ("sjoin_s", "sjoin s", "{:.2f}"),
    ("metrics_s", "metrics s", "{:.2f}"),
    ("map_data_s", "map data s", "{:.2f}"),
    ("map_build_s", "map build s", "{:.2f}"),
    ("map_bytes_per_household", "B/household", "{:.1f}"),
    ("browser_draw_s", "draw s", "{:.2f}"),
    ("browser_draw_lod_s", "draw LOD s", "{:.2f}"),
    ("baseline_geojson_draw_s", "GeoJson draw s", "{:.2f}"),
    ("baseline_fastmarkercluster_draw_s", "FMC draw s", "{:.2f}"),
    ("peak_rss_mb", "peak RSS MB", "{:,.0f}"),
]


# issue 16: each figure with the maintained care state, beside the same step from the
# tables (the code before it) in the same run; the page steps of bench/pages.py
CITY_COLUMNS = [
    ("metrics_json_s", "metrics --json s", 2.0),
    ("grid_table_s", "grid table s", None),
    ("household_status_s", "all statuses s", None),
    ("weekly_s", "weekly s", 20.0),
    ("page_first_load_s", "map first load s", 3.0),
    ("page_drilldown_s", "drill-down s", 1.5),
    ("page_filter_s", "category filter s", 1.5),
    ("page_overdue_s", "only overdue s", 1.5),
    ("page_reopen_s", "reopen s", 1.0),
    ("app_rss_mb", "app RSS MB", 1536.0),
]


def print_city_table(results: list[dict]) -> None:
    """The issue-16 figures: now, before (from the tables / the baseline code), target."""
    for r in results:
        if not any(r.get(key) is not None for key, _, _ in CITY_COLUMNS):
            continue
        print(f"\nissue 16 at {r['households']:,} households ({r.get('visits') or 0:,} visits)")
        print(f"  {'step':<20}{'now':>10}{'before':>10}{'target':>9}  met")
        for key, label, target in CITY_COLUMNS:
            now = r.get(key)
            before = r.get(f"{key[:-2]}_scratch_s") if key.endswith("_s") else None
            if before is None:
                before = r.get(f"{key}_baseline")
            met = "—" if now is None or target is None else ("yes" if now <= target else "no")
            print(
                f"  {label:<20}{_fmt(now, '{:.2f}'):>10}{_fmt(before, '{:.2f}'):>10}"
                f"{_fmt(target, '{:g}'):>9}  {met}"
            )
        if r.get("state_build_s") is not None:
            print(f"  the whole care state built in one write: {r['state_build_s']:.1f} s")


def _fmt(value, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def _ratio(a, b) -> str:
    return "—" if a in (None, 0) or b is None else f"{b / a:.1f}x"


def print_table(results: list[dict]) -> None:
    """The figures, then the ratios that the targets are stated in."""
    header = [label for _, label, _ in COLUMNS]
    rows = [[_fmt(r.get(key), pattern) for key, _, pattern in COLUMNS] for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print()
    print("ratios (baseline / gridmap; import: gridmap / floor)")
    for r in results:
        floor = r.get("strtree_floor_s")
        import_vs_floor = (
            "—" if not floor else f"{r['import_s'] / floor:.2f}x of floor (target <= 3x)"
        )
        print(
            f"  {r['households']:>9,} households: import {import_vs_floor}; "
            f"sjoin/import {_ratio(r.get('import_s'), r.get('sjoin_s'))}; "
            f"GeoJson draw/gridmap draw {_ratio(r.get('browser_draw_s'), r.get('baseline_geojson_draw_s'))} (target >= 20x); "
            f"FastMarkerCluster draw/gridmap draw {_ratio(r.get('browser_draw_s'), r.get('baseline_fastmarkercluster_draw_s'))}"
        )
        for note in r.get("notes", []):
            print(f"      note: {note}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--interactions" in argv:  # the browser interaction timings (bench/interactions.py)
        from bench.interactions import main as interactions

        return interactions([a for a in argv if a != "--interactions"])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated household counts")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium draw timings")
    parser.add_argument(
        "--pages", action="store_true", help="the map page in Chromium against a real server"
    )
    parser.add_argument(
        "--pages-baseline",
        type=Path,
        help="also serve the code in this folder (its figures: before)",
    )
    parser.add_argument(
        "--geojson-limit", type=int, default=100_000, help="largest size for the GeoJson baseline"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds a page may take to draw"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where the stores and pages go (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results = []
    with tempfile.TemporaryDirectory(prefix="gridmap-bench-") as tmp:
        base = args.workdir or Path(tmp)
        for size in sizes:
            print(f"== {size:,} households ...", flush=True)
            cmd = [
                sys.executable,
                "-m",
                "bench.run_size",
                "--size",
                str(size),
                "--seed",
                str(args.seed),
                "--workdir",
                str(base / str(size)),
                "--geojson-limit",
                str(args.geojson_limit),
                "--timeout",
                str(args.timeout),
            ]
            if args.no_browser:
                cmd.append("--no-browser")
            if args.pages:
                cmd.append("--pages")
            if args.pages_baseline:
                cmd += ["--pages-baseline", str(args.pages_baseline)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next(
                (ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None
            )
            if proc.returncode != 0 or line is None:
                print(proc.stdout[-2000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
                results.append(
                    {"households": size, "notes": [f"failed with exit code {proc.returncode}"]}
                )
                continue
            results.append(json.loads(line[len("BENCH_RESULT ") :]))
    print()
    print_table([r for r in results if "import_s" in r])
    print_city_table([r for r in results if "import_s" in r])
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0 if all("import_s" in r for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
