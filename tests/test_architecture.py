"""The shape of the house: geo/ is the domain and never imports Streamlit."""

import ast
import importlib
import pkgutil
from pathlib import Path

import geo

GEO = Path(geo.__file__).parent


def test_geo_never_imports_streamlit():
    offenders = []
    for path in GEO.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(
                n == "streamlit" or n.startswith("streamlit.") or n.startswith("streamlit_")
                for n in names
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_importing_geo_modules_has_no_side_effects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for module in pkgutil.walk_packages([str(GEO)], prefix="geo."):
        if module.name in {"geo.store.postgis"}:
            continue  # needs the optional PostgreSQL driver
        importlib.import_module(module.name)
    assert list(tmp_path.iterdir()) == []  # nothing created: no data/ dir, no store
