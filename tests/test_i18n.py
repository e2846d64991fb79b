"""The UI catalogue is complete, and the UI code holds no Chinese text of its own."""

import ast
import re
import tomllib
from pathlib import Path

import pytest

from geo.i18n import CATALOGUE_PATH, LANGUAGES, catalogue, t

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def test_every_key_has_every_language():
    missing = [
        f"{key}: {lang}"
        for key, entry in catalogue().items()
        for lang in LANGUAGES
        if not isinstance(entry, dict) or not str(entry.get(lang, "")).strip()
    ]
    assert missing == []


def test_catalogue_has_no_stray_languages():
    raw = tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    stray = [
        f"{key}: {lang}" for key, entry in raw.items() for lang in entry if lang not in LANGUAGES
    ]
    assert stray == []


def _string_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of a file, docstrings excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", UI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_ui_code_has_no_literal_chinese(path):
    offenders = [
        f"{path.name}:{line}: {text!r}" for line, text in _string_literals(path) if CJK.search(text)
    ]
    assert offenders == []


def _english_placeholders(path: Path) -> list[str]:
    """Widget calls that would show Streamlit's own English placeholder ("Choose options",
    "Choose an option"): a multiselect, or a selectbox with no preselected option, without a
    ``placeholder=`` from the catalogue."""
    offenders = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        keywords = {k.arg: k.value for k in node.keywords}
        if "placeholder" in keywords:
            continue
        empty_select = (
            node.func.attr == "selectbox"
            and isinstance(keywords.get("index"), ast.Constant)
            and keywords["index"].value is None
        )
        if node.func.attr == "multiselect" or empty_select:
            offenders.append(f"{path.name}:{node.lineno}: {node.func.attr} without placeholder=")
    return offenders


def test_no_widget_shows_streamlits_english_placeholder():
    offenders = [o for path in UI_FILES for o in _english_placeholders(path)]
    assert offenders == []


def test_the_placeholder_scan_catches_a_bare_multiselect(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "st.multiselect('a', [1])\n"
        "st.selectbox('b', [1], index=None)\n"
        "st.multiselect('c', [1], placeholder=t('ui_choose', lang))\n"
        "st.selectbox('d', [1])\n",
        encoding="utf-8",
    )
    assert [o.split(": ", 1)[1] for o in _english_placeholders(page)] == [
        "multiselect without placeholder=",
        "selectbox without placeholder=",
    ]


def test_map_script_has_no_literal_chinese():
    script = (ROOT / "static" / "gridmap" / "rainbow.js").read_text(encoding="utf-8")
    assert not CJK.search(script)


def test_scan_catches_chinese(tmp_path):
    sample = tmp_path / "page.py"
    sample.write_text(
        '"""文档可以有中文。"""\nimport streamlit as st\nst.title("网格地图")\n', encoding="utf-8"
    )
    assert [text for _, text in _string_literals(sample) if CJK.search(text)] == ["网格地图"]


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*UI_FILES, *sorted((ROOT / "geo" / "outputs" / "map").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                keys.add(node.args[0].value)
    return keys


def test_every_literal_key_used_by_the_ui_exists():
    used = _used_keys()
    assert "map_title" in used  # the scan sees the page
    assert sorted(used - set(catalogue())) == []


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh-CN", "网格民情地图"), ("en", "Grid community map")]
)
def test_map_title_in_both_languages(lang, expected):
    assert t("map_title", lang) == expected


def test_every_key_built_from_configuration_exists():
    from geo.config import load_config
    from geo.outputs.map.legend import FILL_MEASURES, REPORT_STATES

    config = load_config()
    wanted = (
        [f"map_fill_{m}" for m in FILL_MEASURES]
        + [f"map_state_{s}" for s in REPORT_STATES]
        + [f"map_role_{r}" for r in config.roles]
        + [f"map_source_{s}" for s in config.sources]
    )
    assert [key for key in wanted if key not in catalogue()] == []
