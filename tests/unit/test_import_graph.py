"""What the import-linter contracts of pyproject.toml cannot say (`make lint` runs them: no import
cycle among Thor's modules, services import ports and never adapters, adapters imported only by the
composition root and the tools): `function_app.py` is a top-level module, not one of import-linter's
root packages, so that nothing of Thor's imports it back (a cycle through the app) is checked here."""

from __future__ import annotations

import ast
import pathlib
from pathlib import Path

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _imports(path: pathlib.Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):  # function-level (lazy) imports count too
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_nothing_of_thors_imports_the_function_app_back() -> None:
    importers = [
        str(path.relative_to(ROOT))
        for path in [*ROOT.glob("shared/**/*.py"), *ROOT.glob("functions/**/*.py")]
        if "function_app" in _imports(path)
    ]
    assert importers == []


def test_the_check_sees_an_import_of_the_app(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import function_app\n")
    assert "function_app" in _imports(module)
