"""No import cycles among selfmocap's modules, counting the imports inside functions too (a
deferred import hides a cycle at import time; it does not remove it from the design).

Each ``import selfmocap.a.b`` / ``from selfmocap.a import b`` (absolute or relative) is an edge
to the module it names: ``b`` when ``b`` is a submodule, else ``a``'s ``__init__``. Imports under
``if TYPE_CHECKING:`` are left out (they never run)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import selfmocap

PACKAGE = Path(selfmocap.__file__).parent


def module_name(path: Path) -> str:
    parts = ("selfmocap",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skip


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """selfmocap module -> the selfmocap modules it imports."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skip = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def test_finder_sees_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_graph_sees_known_edges():
    graph = import_graph()
    assert "selfmocap.errors" in graph["selfmocap.cues.keypoint_files"]  # a deferred import counts too
    assert "selfmocap.cues.mediapipe" in graph["selfmocap.capture.pipeline"]
    assert "selfmocap.cues.flow" in graph["selfmocap.cues"]


def test_no_import_cycles_in_the_package():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


#: The layout order of the README ("Layout"): each stage imports only from itself and the ones before it.
LAYOUT = ("errors", "io", "config", "video", "geometry", "body", "data", "cues", "render", "losses", "models", "synth",
          "training", "adapt", "export", "eval", "bench", "capture", "batch")
#: The imports that go against it (none: the README says so).
AGAINST_LAYOUT: set[tuple[str, str]] = set()


def _stage(module: str) -> int | None:
    """A module's place in :data:`LAYOUT`; None for the package root and the CLI layer (on top of all)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "cli" or parts[-1] == "cli":
        return None
    return LAYOUT.index(parts[1])


def test_imports_follow_the_layout_order():
    against = {(a, b) for a, targets in import_graph().items() for b in targets
               if None not in (_stage(a), _stage(b)) and _stage(b) > _stage(a)}
    assert against == AGAINST_LAYOUT
