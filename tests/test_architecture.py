"""The shape of the house: geo/ is the domain and never imports Streamlit; no import cycles."""

import ast
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import geo

GEO = Path(geo.__file__).parent
ROOT = GEO.parent
PROJECT = ("geo", "ui", "pages", "app.py", "server.py")


def project_modules(root: Path) -> dict[str, Path]:
    """Every module of the project under ``root``: dotted name -> file (a package is its __init__.py)."""
    modules = {}
    for top in PROJECT:
        path = root / top
        files = [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
        for file in files:
            if not file.exists():
                continue
            parts = list(file.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = file
    return modules


def import_graph(root: Path) -> dict[str, set[str]]:
    """Which project modules each project module imports.

    Every import statement counts, wherever it stands: at the top, inside a function (an
    import moved into a function to dodge a cycle is still a cycle) or under
    ``TYPE_CHECKING``. ``from a.b import c`` is an edge to the module ``a.b.c`` when ``c``
    is a module, else to ``a.b``. The implicit import of a parent package's ``__init__``
    is not an edge: a package's ``__init__`` importing its own parts (``geo.store``'s
    factory opening ``geo.store.geopackage``) is how a package exposes them.
    """
    modules = project_modules(root)

    def resolve(name: str) -> str | None:
        while name:
            if name in modules:
                return name
            name = name.rpartition(".")[0]
        return None

    graph = {}
    for name, file in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [resolve(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    resolve(f"{node.module}.{alias.name}") or resolve(node.module)
                    for alias in node.names
                ]
            elif isinstance(node, ast.ImportFrom):
                raise AssertionError(f"{file}: relative import (the project uses absolute ones)")
            else:
                continue
            edges.update(t for t in targets if t is not None and t != name)
        graph[name] = edges
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of ``graph``: its strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle_inside_the_project():
    graph = import_graph(ROOT)
    assert {"geo.store", "geo.store.base", "ui.auth", "ui.session", "app", "server"} <= set(graph)
    assert "geo.store.base" in graph["geo.store.geopackage"]  # edges are found
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import(tmp_path):
    (tmp_path / "geo" / "store").mkdir(parents=True)
    (tmp_path / "ui").mkdir()
    (tmp_path / "geo" / "__init__.py").write_text("")
    (tmp_path / "geo" / "store" / "__init__.py").write_text(
        "def open_store():\n    from geo.store.postgis import PostGISStore\n"
    )
    (tmp_path / "geo" / "store" / "postgis.py").write_text(
        "from geo.store import open_store\n\nclass PostGISStore: ...\n"
    )
    (tmp_path / "ui" / "session.py").write_text("from ui import auth\n")
    (tmp_path / "ui" / "auth.py").write_text("import ui.session\n")
    (tmp_path / "app.py").write_text("from ui.auth import x\n")
    cycles = sorted(import_cycles(import_graph(tmp_path)))
    assert cycles == [["geo.store", "geo.store.postgis"], ["ui.auth", "ui.session"]]


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


def _doc_references(text: str) -> list[str]:
    """The ``geo/...`` paths and ``geo.x.y`` names quoted as code (in backticks) in a Markdown text."""
    found = []
    for span in re.findall(r"`([^`\n]+)`", text):
        found += re.findall(r"\bgeo/[\w/.-]*", span)
        found += re.findall(r"(?<![\w/.])geo(?:\.[A-Za-z_]\w*)+", span)
    return found


def _resolves(reference: str) -> bool:
    if "/" in reference:
        return (ROOT / reference.rstrip(".")).exists()
    parts = reference.split(".")
    for cut in range(len(parts), 0, -1):
        name = ".".join(parts[:cut])
        try:
            found = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            found = None
        if found is None:
            continue
        value = importlib.import_module(name)
        for attribute in parts[cut:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def test_the_docs_name_modules_and_paths_that_exist():
    """README and docs/ quote ``geo/...`` paths and ``geo.x.y`` names that are in the tree."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    references = {
        (doc.name, ref) for doc in documents for ref in _doc_references(doc.read_text("utf-8"))
    }
    assert ("architecture.md", "geo/store/__init__.py") in references  # the check reads them
    assert sorted((doc, ref) for doc, ref in references if not _resolves(ref)) == []


def test_the_docs_check_finds_a_moved_module():
    assert _doc_references("see `geo/mapping.py` and `geo.mapping.build_map`") == [
        "geo/mapping.py",
        "geo.mapping.build_map",
    ]
    assert not _resolves("geo/mapping.py") and not _resolves("geo.mapping.build_map")
    assert _resolves("geo/outputs/map/build.py") and _resolves("geo.outputs.map.build.build_map")
