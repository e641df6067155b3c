"""The house rules that can be read off the source: checked on the AST, without importing geo."""

from __future__ import annotations

import ast
from pathlib import Path

GEO = Path(__file__).resolve().parent.parent / "geo"


def private_imports(source: str) -> list[tuple[str, int]]:
    """``(name, line)`` of every private name (``_x``, not ``__x__``) taken with ``from ... import``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                name = alias.name
                if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                    found.append((name, node.lineno))
    return found


def test_the_scan_sees_private_imports() -> None:
    src = "from .routing import Leg, _leg\nfrom ..analysis.stats import _x as y\nfrom . import __version__\n"
    assert private_imports(src) == [("_leg", 1), ("_x", 2)]
    assert private_imports("import geo._private\nfrom typing import Any\n") == []


def test_no_private_name_is_imported_from_another_module() -> None:
    offenders = [
        f"{path.relative_to(GEO.parent)}:{line}: {name}"
        for path in sorted(GEO.rglob("*.py"))
        for name, line in private_imports(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "make these public or move them:\n" + "\n".join(offenders)
