"""Messages a clerk reads: every importer, reader and command-line message comes from the
catalogue, in Chinese by default and in English on request, keeping FILE:ROW: column: reason."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_importers import REFUSALS, template_store  # noqa: F401  (fixture)

from geo.cli import main
from geo.i18n import LANGUAGES, catalogue
from geo.inputs.importers.core import import_file
from geo.store import open_store

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
MESSAGE_PATTERNS = [
    "inputs/importers/*.py",
    "inputs/readers.py",
    "inputs/vector.py",
    "inputs/tables.py",
    "cli.py",
    "store/backup.py",
    "store/staging.py",
    "store/copy.py",
]
MESSAGE_MODULES = sorted(
    str(path.relative_to(ROOT / "geo"))
    for pattern in MESSAGE_PATTERNS
    for path in (ROOT / "geo").glob(pattern)
)
assert all(list((ROOT / "geo").glob(p)) for p in MESSAGE_PATTERNS), "a message module moved"
KEY = re.compile(r"^(read|imp|cli|backup|restore|copy|busy)_[a-z0-9_]+$")


@pytest.fixture
def store_path(template_store, tmp_path):  # noqa: F811
    import shutil

    path = tmp_path / "store.gpkg"
    shutil.copyfile(template_store, path)
    return path


@pytest.mark.parametrize(
    ("kind", "name", "content", "expected"), REFUSALS, ids=[f"{r[0]}-{r[3][1]}" for r in REFUSALS]
)
def test_every_refusal_reads_in_chinese_by_default(
    store_path, tmp_path, monkeypatch, kind, name, content, expected
):
    monkeypatch.delenv("GRIDMAP_LANG", raising=False)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    report = import_file(open_store(str(store_path)), kind, path)
    row, column, _ = expected
    matching = [p for p in report.problems if (p.row, p.column) == (row, column)]
    assert matching, report.problem_lines()
    assert CJK.search(matching[0].reason), matching[0].reason  # the reason is Chinese
    assert str(matching[0]).startswith(f"{path}:{row}: {column}: ")


def test_english_on_request(store_path, tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_text("household_id,lon,lat\nH9,abc,40.84\n", encoding="utf-8")
    monkeypatch.delenv("GRIDMAP_LANG", raising=False)
    zh = import_file(open_store(str(store_path)), "households", path).problem_lines()
    en = import_file(open_store(str(store_path)), "households", path, lang="en").problem_lines()
    monkeypatch.setenv("GRIDMAP_LANG", "en")
    by_env = import_file(open_store(str(store_path)), "households", path).problem_lines()
    assert zh == [f"{path}:2: lon: 不是数字：'abc'"]
    assert en == by_env == [f"{path}:2: lon: not a number: 'abc'"]


def test_the_command_line_speaks_chinese_and_english(store_path, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GRIDMAP_LANG", raising=False)
    bad = tmp_path / "住户.csv"
    bad.write_text("户编号,经度,纬度\nH9,abc,40.84\n", encoding="utf-8")
    assert main(["import", "households", str(bad), "--db", str(store_path)]) == 1
    err = capsys.readouterr().err
    assert err == f"{bad}:2: 经度 (lon): 不是数字：'abc'\n1 个问题：未导入任何数据\n"
    assert main(["import", "households", str(bad), "--db", str(store_path), "--lang", "en"]) == 1
    assert capsys.readouterr().err.endswith("1 problem(s): nothing was imported\n")
    good = tmp_path / "ok.csv"
    good.write_text("户编号,经度,纬度\nH9,111.705,40.845\n", encoding="utf-8")
    assert main(["import", "households", str(good), "--db", str(store_path)]) == 0
    assert capsys.readouterr().out == f"households：已导入 1 行到 {store_path}\n"
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "替换整张表" in capsys.readouterr().out


def _message_keys_in(path: Path) -> set[str]:
    """Catalogue keys a module names: literal keys, ``h("x")`` help keys, f-string prefixes + "*"."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_fstrings = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    helps = {
        id(n.args[0])
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "h" and n.args
    }
    keys = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if id(node) in helps:
            keys.add(f"cli_help_{node.value}")
        elif id(node) in in_fstrings and KEY.match(node.value.rstrip("_") + "_x"):
            keys.add(node.value + "*")  # f"imp_what_{name}": some key must start so
        elif KEY.match(node.value):
            keys.add(node.value)
    return keys


@pytest.mark.parametrize("module", MESSAGE_MODULES)
def test_every_message_key_used_exists_in_both_languages(module):
    keys = _message_keys_in(ROOT / "geo" / module)
    entries = catalogue()
    prefixes = {k[:-1] for k in keys if k.endswith("*")}
    found = [key for key in entries if any(key.startswith(p) for p in prefixes)]
    assert all(any(k.startswith(p) for k in found) for p in prefixes), prefixes
    missing = sorted(
        f"{key}: {lang}"
        for key in [k for k in keys if not k.endswith("*")] + found
        for lang in LANGUAGES
        if not entries.get(key, {}).get(lang)
    )
    assert missing == []


def test_the_key_scan_catches_a_missing_message(tmp_path):
    sample = tmp_path / "x.py"
    sample.write_text('raise ReadError("read_no_such_message")\n', encoding="utf-8")
    assert _message_keys_in(sample) == {"read_no_such_message"}
    assert "read_no_such_message" not in catalogue()


def test_a_normal_run_prints_no_third_party_warnings(tmp_path):
    """`gridmap demo` then `gridmap weekly` (matplotlib, fpdf2, openpyxl): nothing on stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRIDMAP_LANG", None)
    env.pop("GRIDMAP_CJK_FONT", None)
    db = str(tmp_path / "demo.gpkg")
    for argv in (
        ["demo", "--db", db, "--households", "300"],
        ["weekly", "--db", db, "--out", str(tmp_path / "w.pdf")],
        ["weekly", "--db", db, "--out", str(tmp_path / "w.xlsx")],
        ["check", "--db", db],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "geo.cli", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", (argv, done.stderr)
