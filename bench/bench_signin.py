"""``python -m bench.bench_signin [--n 40] [--pg postgresql://...]``: does a refusal tell which names exist?

Times ``geo.access.auth.authenticate`` for an unknown name, a wrong password, a locked account
(and, for reference, the right password), interleaved so that machine load hits every
case alike. Prints the median and spread per case and each median's ratio to the wrong
password's: a refusal that is faster for unknown or locked names would let a stopwatch
enumerate accounts. With ``--pg`` the PostGIS store is timed, in a schema of its own that
is dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from geo.access import auth
from geo.store import open_store

PASSWORD = "bench-password-1"


def _time(call) -> float:
    start = time.perf_counter()
    try:
        call()
    except auth.AuthError:
        pass
    return time.perf_counter() - start


def run(location: str, n: int) -> dict[str, list[float]]:
    """Seconds per sign-in of each case, ``n`` times each."""
    store = open_store(location)
    # wrong passwords lock an account after MAX_FAILURES: one account per wrong attempt
    for i in range(n):
        auth.add_user(store, f"wrong{i}", "street_leader", PASSWORD, actor="bench")
    auth.add_user(store, "locked", "street_leader", PASSWORD, actor="bench")
    auth.add_user(store, "right", "street_leader", PASSWORD, actor="bench")
    for _ in range(auth.MAX_FAILURES):
        _time(lambda: auth.authenticate(store, "locked", "not it"))
    times: dict[str, list[float]] = {"unknown": [], "wrong": [], "locked": [], "right": []}
    for i in range(n):
        times["unknown"].append(_time(lambda i=i: auth.authenticate(store, f"nobody{i}", "not it")))
        times["wrong"].append(_time(lambda i=i: auth.authenticate(store, f"wrong{i}", "not it")))
        times["locked"].append(_time(lambda: auth.authenticate(store, "locked", "not it")))
        times["right"].append(_time(lambda: auth.authenticate(store, "right", PASSWORD)))
    return times


@contextmanager
def _location(pg: str | None) -> Iterator[str]:
    """A temporary GeoPackage, or a throw-away schema on the PostgreSQL server ``pg``."""
    if pg is None:
        with tempfile.TemporaryDirectory() as folder:
            yield str(Path(folder) / "bench.gpkg")
        return
    import psycopg

    schema = f"bench_signin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in pg else "?"
    location = f"{pg}{sep}options={quote(f'-csearch_path={schema},public')}"
    try:
        yield location
    finally:
        from geo.store.postgis import PostGISStore

        PostGISStore(location).close()
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--pg", help="time PostGIS on this postgresql:// server (default: .gpkg)")
    args = parser.parse_args()
    with _location(args.pg) as location:
        times = run(location, args.n)
    wrong = statistics.median(times["wrong"])
    print(f"sign-in timings, n={args.n} each ({'PostGIS' if args.pg else 'GeoPackage'})")
    print(f"{'case':<10}{'median ms':>12}{'p10 ms':>10}{'p90 ms':>10}{'vs wrong':>10}")
    for case, values in times.items():
        deciles = statistics.quantiles(values, n=10)
        median = statistics.median(values)
        print(
            f"{case:<10}{median * 1000:>12.1f}{deciles[0] * 1000:>10.1f}"
            f"{deciles[-1] * 1000:>10.1f}{median / wrong:>9.2f}x"
        )


if __name__ == "__main__":
    main()
