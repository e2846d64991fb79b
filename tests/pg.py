"""PostGIS test fixtures: a throw-away schema per test on the server in ``$GRIDMAP_TEST_PG``.

Import the fixtures into a test module (``from pg import pg_location``). Without a
reachable server with PostGIS the tests skip, saying why — unless
``GRIDMAP_REQUIRE_POSTGIS=1`` (as in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

DEFAULT_TEST_URL = "postgresql://gridmap:gridmap@127.0.0.1:5432/gridmap_test"


def test_url() -> str:
    """The PostgreSQL URL tests use: ``$GRIDMAP_TEST_PG`` or the local CI database."""
    return os.environ.get("GRIDMAP_TEST_PG", DEFAULT_TEST_URL)


test_url.__test__ = False  # a helper, not a test


@functools.cache
def unavailable_reason() -> str | None:
    """Why PostGIS tests cannot run here (None when they can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        with psycopg.connect(test_url(), connect_timeout=3, autocommit=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'"
            ).fetchone()
            if row is None:
                return f"PostGIS is not installed on the server at {_safe(test_url())}"
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public")
    except Exception as exc:  # any failure to reach the server means: cannot run here
        return f"no PostgreSQL reachable at {_safe(test_url())} ({type(exc).__name__}: {exc})"
    return None


def require_postgis() -> None:
    """Skip the calling test without PostGIS, or fail when GRIDMAP_REQUIRE_POSTGIS=1."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("GRIDMAP_REQUIRE_POSTGIS") == "1":
        pytest.fail(f"GRIDMAP_REQUIRE_POSTGIS=1 but {reason}")
    pytest.skip(f"{reason}; set GRIDMAP_TEST_PG to a postgresql:// URL to run PostGIS tests")


def schema_url(schema: str) -> str:
    """The test URL with ``search_path`` set to ``schema`` (then public, for PostGIS)."""
    url = test_url()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema},public')}"


@pytest.fixture
def pg_location() -> Iterator[str]:
    """A postgresql:// location whose tables live in a fresh, empty schema (dropped after)."""
    require_postgis()
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(test_url(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    location = schema_url(schema)
    try:
        yield location
    finally:
        from geo.store.postgis import PostGISStore

        PostGISStore(location).close()  # the pool would keep them open past the test
        with psycopg.connect(test_url(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _safe(url: str) -> str:
    """The URL without its password."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, creds = head.partition("//")
    return f"{scheme}//{creds.split(':', 1)[0]}:***@{tail}"
