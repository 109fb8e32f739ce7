"""What a deployment from a clean checkout depends on: host.json, .funcignore, the publish commands.

Facts checked against their sources (see docs/deploy.md):
- Core Tools (Azure/azure-functions-core-tools, GlobalCoreToolsSettings.cs) takes the worker runtime
  from a language flag (``--python``) or local.settings.json; without either it stops with
  "Worker runtime cannot be 'None'". local.settings.json is git-ignored, so every publish command
  the docs give carries ``--python``.
- ``Host.Results`` is the category of Application Insights' requests table, written at Information
  level (learn.microsoft.com, "Configure monitoring for Azure Functions"): a level above Information
  hides every successful invocation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEVELS = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"]


def test_host_results_keeps_successful_requests_visible() -> None:
    levels = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))["logging"]["logLevel"]
    level = levels.get("Host.Results", levels.get("Host", levels.get("default", "Information")))
    assert LEVELS.index(level) <= LEVELS.index("Information"), f"Host.Results at {level} hides the requests table"


def test_funcignore_keeps_local_secrets_and_caches_out_of_the_package() -> None:
    lines = {line.strip() for line in (ROOT / ".funcignore").read_text(encoding="utf-8").splitlines()}
    for pattern in (".env", "__pycache__/", "local.settings.json", ".venv", "tests", "ops"):
        assert pattern in lines, f".funcignore misses {pattern}"


def _publish_commands(path: Path) -> list[str]:
    return re.findall(r"^\s*(func azure functionapp publish[^\n]*)$", path.read_text(encoding="utf-8"), re.MULTILINE)


def test_every_documented_publish_names_the_python_runtime() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    commands = [c for path in docs for c in _publish_commands(path)]
    assert commands, "no publish command documented"
    for command in commands:
        assert "--python" in command.split("#")[0], f"{command!r} fails from a clean checkout"
