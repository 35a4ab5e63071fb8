"""The package's import graph read from its source: every ``import`` counted, those inside
functions too (a late import hides a dependency from Python, not from the design);
``TYPE_CHECKING`` imports left out."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import peoplesync

SOURCE = Path(peoplesync.__file__).resolve().parent.parent


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name."""
    found = {}
    for path in SOURCE.joinpath("peoplesync").rglob("*.py"):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(tree: ast.Module) -> Iterator[str]:
    """Dotted names a module imports (``from a import b`` gives ``a`` and ``a.b``)."""
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in its body)."""
    found = modules()
    return {
        name: {t for t in imported(ast.parse(path.read_text())) if t in found and t != name}
        for name, path in found.items()
    }
