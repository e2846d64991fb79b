"""`gridmap serve` under a service manager: SIGTERM or SIGINT stops everything it started."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from geo.demo.build import build_demo
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> list[int]:
    """PIDs whose parent chain leads to ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_gridmap_serve_stops_the_server_and_leaves_no_process(tmp_path, sig):
    store = open_store(str(tmp_path / "serve.gpkg"))
    build_demo(store, households=300)
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "geo.cli", "serve", "--db", store.location, "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    started: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.3)
        started = _descendants(process.pid)
        process.send_signal(sig)  # what systemd sends (SIGTERM), or Ctrl+C (SIGINT) to one PID
        process.wait(timeout=30)
        assert not _listening(port)
        alive = [p for p in started if Path(f"/proc/{p}").exists()]
        assert not alive, f"still running after {sig.name}: {alive}"
    finally:  # whatever the outcome, leave nothing of ours running
        leftovers = started + (_descendants(process.pid) if process.poll() is None else [])
        for pid in leftovers:
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        log.close()
