"""The "Done when" of issue 14: the independent data set imports through `gridmap import`, and
`gridmap metrics --json` prints exactly the ``new_employment`` numbers that an independent
implementation of contract section 7 computes from the files (both stores, several days)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from employment_dataset import AS_OF, write_dataset
from employment_independent import new_employment
from pg import pg_location  # noqa: F401  (fixture)

from geo.cli import main

KINDS = ("grids", "firms", "outlets", "workers", "stations", "reports")
DAYS = [
    AS_OF - dt.timedelta(days=1),
    AS_OF,
    AS_OF + dt.timedelta(days=1),
    AS_OF + dt.timedelta(days=30),
]


def _imported(tmp_path, db: str):
    files = write_dataset(tmp_path / "files")
    for kind in KINDS:
        assert main(["import", kind, str(getattr(files, kind)), "--db", db]) == 0, kind
    return files


def _metrics(db: str, day: dt.date, capsys, *extra: str) -> dict:
    capsys.readouterr()
    assert main(["metrics", "--db", db, "--as-of", day.isoformat(), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("where", ["gpkg", "postgis"])
def test_metrics_json_prints_what_the_independent_implementation_computes(
    where, tmp_path, request, capsys
):
    db = str(tmp_path / "s.gpkg") if where == "gpkg" else request.getfixturevalue("pg_location")
    files = _imported(tmp_path, db)
    for day in DAYS:
        got = _metrics(db, day, capsys)["new_employment"]
        assert got == new_employment(files, day), day
    # the edges the data set holds make the days differ
    assert new_employment(files, AS_OF) != new_employment(files, AS_OF + dt.timedelta(days=1))


def test_metrics_by_grid_restricts_the_section_to_each_grid(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    _imported(tmp_path, db)
    whole = _metrics(db, AS_OF, capsys)["new_employment"]
    rows = _metrics(db, AS_OF, capsys, "--by", "grid")["grids"]
    assert [row["grid_id"] for row in rows] == ["T1", "T2"]
    placed = sum(row["new_employment"]["outlets"] for row in rows)
    stations = sum(row["new_employment"]["stations"] for row in rows)
    assert 0 < placed <= whole["outlets"] and 0 < stations <= whole["stations"]
    for row in rows:
        section = row["new_employment"]
        assert list(section) == list(whole)
        assert section["outlets_near_station"] <= section["outlets"]
        assert section["observer_reports_30d"] <= whole["observer_reports_30d"]


def test_the_text_form_lists_the_section_when_there_is_data(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    files = _imported(tmp_path, db)
    capsys.readouterr()
    assert main(["metrics", "--db", db, "--as-of", AS_OF.isoformat(), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    expected = new_employment(files, AS_OF)
    assert "New-employment groups" in text
    assert re.search(rf"^Workers\s+{expected['workers']}$", text, re.M)
    assert re.search(rf"^Red-bee stations\s+{expected['stations']}$", text, re.M)


def test_the_text_form_is_unchanged_without_data(tmp_path, capsys):
    db = str(tmp_path / "s.gpkg")
    files = write_dataset(tmp_path / "files")
    assert main(["import", "grids", str(files.grids), "--db", db]) == 0
    capsys.readouterr()
    assert main(["metrics", "--db", db, "--as-of", AS_OF.isoformat(), "--lang", "en"]) == 0
    assert "New-employment" not in capsys.readouterr().out
