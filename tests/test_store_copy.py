"""``gridmap migrate``: copying a data set between stores, checked by comparing metrics."""

from __future__ import annotations

import pytest
from pg import pg_location  # noqa: F401  (fixture)
from test_store import SAMPLES, _values, _write

from geo.access.audit import verify_audit
from geo.cli import main
from geo.store import open_store
from geo.store.copy import metric_differences
from geo.store.schema import TABLES


@pytest.fixture
def source(tmp_path):
    """A GeoPackage holding the sample row(s) of every table."""
    store = open_store(str(tmp_path / "source.gpkg"))
    for table, frame in SAMPLES.items():
        _write(store, table, frame)
    return store


@pytest.mark.parametrize("kind", ["gpkg", "postgis"])
def test_migrate_copies_every_table_and_metrics_agree(request, tmp_path, source, kind, capsys):
    target = (
        str(tmp_path / "target.gpkg") if kind == "gpkg" else request.getfixturevalue("pg_location")
    )
    argv = ["migrate", "--from", source.location, "--to", target, "--as-of", "2026-11-21"]
    assert main(argv) == 0
    assert "的指标在两个库中完全一致（总体及各网格）" in capsys.readouterr().out
    copied = open_store(target)
    for table in TABLES:
        if table == "sessions":  # sign-ins stay with the source's server
            assert copied.read(table).empty and not source.read(table).empty
            continue
        assert _values(copied.read(table)) == _values(source.read(table)), table

    assert main(argv) == 1  # the target is no longer empty
    assert "已有数据" in capsys.readouterr().err
    assert main([*argv, "--merge"]) == 0
    assert copied.count("audit_log") == 2 * source.count("audit_log")
    assert verify_audit(copied).intact  # the merged entries chain on from the target's
    assert copied.count("households") == source.count("households")


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ({"a": 1, "b": {"c": None}}, {"a": 1, "b": {"c": None}}, []),
        ({"a": 1}, {"a": 2}, ["a: 1 != 2"]),
        ({"r": {"rate": 0.5}}, {"r": {}}, ["r.rate: only in source"]),
        ({"g": [{"n": 1}, {"n": 2}]}, {"g": [{"n": 1}, {"n": 3}]}, ["g[1].n: 2 != 3"]),
        ({"g": [1]}, {"g": []}, ["g: 1 != 0 items"]),
    ],
)
def test_metric_differences(left, right, expected):
    assert metric_differences(left, right) == expected
