"""Stage 2 of issue 15: rewrite this branch's `from geo.<old> import ...` lines to issue 13's layout.

Reads /work/notes/i13-moves.txt (module moves, then `geo.old:Name geo.new` name moves) and
rewrites the import lines of the data desk's files in place; `--check REV` only prints the
new lines and verifies each target name exists in that git revision (e.g. `--check i13`).
Run `ruff check --fix && ruff format` afterwards (import order). Delete this file in stage 2.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MOVES = Path("/work/notes/i13-moves.txt")
MINE = {  # this branch's own modules: the only geo/ files the script touches
    "geo/inputs/preview.py",
    "geo/inputs/problem_sheet.py",
    "geo/inputs/templates.py",
    "geo/access/upload_scope.py",
    "geo/access/accounts_admin.py",
    "geo/care/reverification.py",
    "geo/care/today.py",
    "geo/outputs/export.py",
}

FILES = [
    *[ROOT / p for p in sorted(MINE)],
    *sorted((ROOT / "ui").glob("datadesk.py")),
    *[ROOT / "pages" / f for f in ("data.py", "accounts.py", "verify.py", "today.py", "snap.py")],
    *sorted((ROOT / "tests").glob("test_datadesk_*.py")),
    ROOT / "tests" / "datadesk.py",
]


def load_moves() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(old module -> new module, (old module, name) -> new module)."""
    modules: dict[str, str] = {}
    names: dict[tuple[str, str], str] = {}
    for line in MOVES.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        old, new = line.split()[:2]
        if ":" in old:
            module, name = old.split(":")
            names[(module, name)] = new
        else:
            modules[old] = new
    return modules, names


def rewrite(source: str, modules: dict, names: dict) -> tuple[str, list[str]]:
    """The source with every `from geo.<old> import a, b` split by where each name went."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    shown: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("geo."):
            continue
        if node.module not in modules:
            continue
        groups: dict[str, list[str]] = defaultdict(list)
        for alias in node.names:
            target = names.get((node.module, alias.name), modules[node.module])
            groups[target].append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
        text = "".join(
            f"from {target} import {', '.join(sorted(items))}\n" for target, items in groups.items()
        )
        edits.append((node.lineno - 1, node.end_lineno, text))
        shown.append(text)
    for start, end, text in sorted(edits, reverse=True):
        lines[start:end] = [text]
    return "".join(lines), shown


def exists(rev: str, module: str, name: str) -> bool:
    """Whether ``name`` is defined or imported at the top of ``module`` in revision ``rev``."""
    for path in (module.replace(".", "/") + ".py", module.replace(".", "/") + "/__init__.py"):
        found = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
        if found.returncode == 0:
            return bool(re.search(rf"\b{re.escape(name)}\b", found.stdout))
    return False


def _with_auth(match: re.Match) -> str:
    names = {n.strip() for n in match.group(1).split(",")} | {"auth"}
    return "from ui import " + ", ".join(sorted(names))


def main(argv: list[str]) -> int:
    modules, names = load_moves()
    check = argv[1] if len(argv) == 2 and argv[0] == "--check" else None
    missing: list[str] = []
    checked = 0
    for path in FILES:
        if not path.exists():
            continue
        new, shown = rewrite(path.read_text(encoding="utf-8"), modules, names)
        if check:
            for text in shown:
                for m in re.finditer(r"from (\S+) import (.+)", text):
                    for name in m.group(2).split(", "):
                        checked += 1
                        if not exists(check, m.group(1), name.split(" as ")[0]):
                            missing.append(f"{path.relative_to(ROOT)}: {m.group(1)}.{name}")
        else:
            if path.parent.name == "pages" and "session.location()" in new:
                # issue 13 moved the page gate: ui.session.location -> ui.auth.location
                new = new.replace("session.location()", "auth.location()")
                new = re.sub(r"^from ui import (.*)$", _with_auth, new, count=1, flags=re.M)
            path.write_text(new, encoding="utf-8")
    print("\n".join(missing) or f"every rewritten import exists ({checked} names checked)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
