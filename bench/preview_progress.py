"""The preview's progress bar on a big households file: how often the importer reports, how
evenly, and what the line count behind it costs (the same run measures the preview without it).

    python -m bench.preview_progress [--mb 25]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.import_data import households_csv
from geo.demo.build import build_demo
from geo.inputs.preview import preview_file
from geo.inputs.tables import _line_count
from geo.store import open_store


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=25.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(str(Path(folder) / "bench.gpkg"))
        build_demo(store, households=400)
        path = Path(folder) / "households.csv"
        rows = households_csv(store, path, args.mb)
        size = path.stat().st_size / 1e6
        started = time.perf_counter()
        lines = _line_count(path)
        count_s = time.perf_counter() - started
        calls: list[tuple[float, float]] = []
        started = time.perf_counter()
        preview_file(
            store,
            "households",
            path,
            progress=lambda f: calls.append((time.perf_counter() - started, f)),
        )
        with_bar = time.perf_counter() - started
        started = time.perf_counter()
        preview_file(store, "households", path)
        without = time.perf_counter() - started
    print(f"file: {rows:,} rows, {size:.1f} MB, {lines:,} lines")
    print(f"line count (the bar's denominator): {count_s:.3f} s")
    print(f"preview with the bar: {with_bar:.1f} s; without: {without:.1f} s "
          f"(ratio {with_bar / without:.2f})")  # fmt: skip
    for at, fraction in calls:
        print(f"  progress {fraction:6.1%} at {at:5.1f} s")
    gaps = [b[0] - a[0] for a, b in zip(calls, calls[1:], strict=False)]
    if gaps:
        print(f"longest wait between two steps of the bar: {max(gaps):.1f} s")


if __name__ == "__main__":
    main()
