"""The real district outlines of Hohhot for tests (not part of the repository).

They are read from ``$GRIDMAP_BOUNDARIES``, else ``../shared/data/boundaries`` next to the
project. Without them a test that needs them skips, saying why — unless
``GRIDMAP_REQUIRE_BOUNDARIES=1`` (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
URBAN_FILES = ("150102.json", "150103.json", "150104.json", "150105.json")


def boundaries_dir() -> Path:
    """Where the outlines are looked for."""
    env = os.environ.get("GRIDMAP_BOUNDARIES")
    return Path(env) if env else (ROOT / ".." / "shared" / "data" / "boundaries").resolve()


def require_boundaries() -> Path:
    """The folder of outlines; skips the calling test without it (fails when required)."""
    folder = boundaries_dir()
    missing = [f for f in URBAN_FILES if not (folder / f).is_file()]
    if missing:
        reason = (
            f"the Hohhot district outlines are not at {folder} (missing {', '.join(missing)}); "
            "set GRIDMAP_BOUNDARIES to their folder"
        )
        if os.environ.get("GRIDMAP_REQUIRE_BOUNDARIES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder
