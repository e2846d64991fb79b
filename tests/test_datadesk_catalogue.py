"""The data desk's catalogue (notes-messages.toml until stage 2): complete, no clash, used keys exist."""

from __future__ import annotations

import ast
import re
import tomllib

import pytest
from datadesk import NOTES_CATALOGUE, ROOT

from geo.i18n import CATALOGUE_PATH, LANGUAGES
from geo.inputs.importers.columns import KINDS
from geo.inputs.importers.core import COORDS

FILES = [
    ROOT / "ui" / "datadesk.py",
    ROOT / "pages" / "data.py",
    ROOT / "pages" / "accounts.py",
    ROOT / "pages" / "verify.py",
    ROOT / "pages" / "today.py",
    ROOT / "pages" / "snap.py",
]
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
NOTES = tomllib.loads(NOTES_CATALOGUE.read_text(encoding="utf-8"))
MAIN = tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))


def test_every_key_has_every_language():
    assert [
        k for k, e in NOTES.items() for lang in LANGUAGES if not str(e.get(lang, "")).strip()
    ] == []


def test_no_key_clashes_with_the_main_catalogue():
    assert sorted(set(NOTES) & set(MAIN)) == []


def test_keys_built_from_names_exist():
    wanted = (
        [f"ds_kind_{k}" for k in KINDS]
        + [f"ds_tpl_name_{k}" for k in KINDS]
        + [f"ds_coords_{c}" for c in COORDS]
        + [f"acc_status_{s}" for s in ("active", "disabled", "locked")]
    )
    assert [k for k in wanted if k not in NOTES] == []


def _literals(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]
    keys = {
        n.args[0].value
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "t"
        and n.args
        and isinstance(n.args[0], ast.Constant)
    }
    return strings, keys


@pytest.mark.parametrize("path", [p for p in FILES if p.exists()], ids=lambda p: p.name)
def test_ui_files_hold_no_chinese_and_use_existing_keys(path):
    strings, keys = _literals(path)
    assert [s for s in strings if CJK.search(s)] == []
    assert sorted(keys - set(NOTES) - set(MAIN)) == []
