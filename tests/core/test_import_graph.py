"""The core's modules import each other without a cycle, and each imports on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
PACKAGE = "pyramidion"


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(CORE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(CORE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve(module: str, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _imports(tree: ast.Module, load_time: bool) -> list[ast.Import | ast.ImportFrom]:
    """The imports of a module, never those under ``if TYPE_CHECKING:``.

    ``load_time``: only those run when the module loads, not those inside functions.
    """
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(node)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and load_time:
                continue
            else:
                visit([child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)])

    visit(tree.body)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph(load_time: bool = True) -> dict[str, set[str]]:
    """Module -> the core modules it imports (``load_time``: those it needs loaded first)."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        needs: set[str] = set()
        for node in _imports(ast.parse(path.read_text()), load_time):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _resolve(name, node.level, node.module)
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source for alias in node.names
                ]
            for target in targets:
                if target not in MODULES:
                    continue
                needs.add(target)
                # Importing a.b.c loads a and a.b first, unless they are the importer's own packages (loading already).
                needs.update(p for p in _ancestors(target) if p in MODULES and p not in _ancestors(name))
        needs.discard(name)
        graph[name] = needs
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_core_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_two_core_modules_import_each_other_even_inside_functions():
    graph = import_graph(load_time=False)
    mutual = sorted((a, b) for a in graph for b in graph[a] if a < b and a in graph[b])
    assert mutual == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_core_module_imports_on_its_own():
    # One fresh interpreter; before each module, every pyramidion module is
    # forgotten, so each is imported first, as a plugin importing it would.
    script = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "pyramidion" or m.startswith("pyramidion.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=-3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, *sorted(MODULES)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"modules that fail to import alone:\n{result.stdout}{result.stderr[-2000:]}"
