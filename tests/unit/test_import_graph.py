"""Thor's own modules import each other without a cycle (processing ↔ flows had one), and services
reach the outside only through shared.ports (no adapter, no connector builder)."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _graph() -> dict[str, set[str]]:
    modules = {}
    for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("functions/**/*.py"), ROOT / "function_app.py"]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):  # function-level (lazy) imports count too
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                }
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                return path[path.index(child) :] + [child]
            if child not in state and (found := visit(child)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_among_thors_modules():
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_services_and_domain_import_no_adapter():
    crossing = {
        name: sorted(m for m in imported if m.startswith(("shared.adapters", "shared.connectors", "shared.bootstrap")))
        for name, imported in _graph().items()
        if name.startswith(("shared.services", "shared.domain"))
    }
    assert {name: found for name, found in crossing.items() if found} == {}
