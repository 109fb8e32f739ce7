"""docs/deploy.md against the code: the tables and blob containers Thor uses are all listed, the steps
are numbered 1..N with every reference to a step pointing at one, and every command names the
resource group with the same variable."""

from __future__ import annotations

import re
from pathlib import Path

from shared.adapters.storage import ALL_TABLES

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
BICEP = (ROOT / "infra" / "main.bicep").read_text(encoding="utf-8")
RG = '"$RG"'


def _code_containers() -> set[str]:
    """Every blob container named in Thor's code: a `…CONTAINER = "…"` constant in shared/ or functions/,
    and each container resource of the template (but the deployment package's, named per app)."""
    names = set()
    for folder in ("shared", "functions"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'^\w*CONTAINER\w* = "([a-z0-9-]+)"', path.read_text(encoding="utf-8"), re.M))
    names |= set(re.findall(r"'containers' = \{\s*name: '([a-z0-9-]+)'", BICEP))
    return names


def _bicep_tables() -> set[str]:
    block = re.search(r"var tableNames = \[(.*?)\]", BICEP, re.S)
    assert block, "infra/main.bicep has no tableNames"
    return set(re.findall(r"'(\w+)'", block.group(1)))


def _commands() -> list[str]:
    """Shell text of the doc: fenced blocks and inline code, one logical line each."""
    fenced, inside = [], False
    for line in DOC.splitlines():
        if line.strip().startswith("```"):
            inside = not inside
        elif inside:
            fenced.append(line)
    text = "\n".join(fenced).replace("\\\n", " ")
    inline = re.findall(r"`([^`\n]*\baz [^`\n]*)`", DOC)
    return [line for line in [*text.splitlines(), *inline] if line.strip()]


def test_every_table_of_the_code_and_the_template_is_in_the_doc() -> None:
    assert set(ALL_TABLES) == _bicep_tables()
    missing = [name for name in ALL_TABLES if f"`{name}`" not in DOC]
    assert not missing, f"docs/deploy.md does not list the tables {missing}"


def test_every_blob_container_named_in_the_code_is_in_the_doc() -> None:
    containers = _code_containers()
    assert {"thor-documents", "thor-reports"} <= containers  # the scan finds them
    missing = sorted(name for name in containers if f"`{name}`" not in DOC)
    assert not missing, f"docs/deploy.md does not name the containers {missing}"


def test_steps_are_numbered_continuously_and_every_reference_names_one() -> None:
    numbers = [int(n) for n in re.findall(r"^## (\d+)\. ", DOC, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert not re.search(r"^## \d+[a-z]\b", DOC, re.M), "a lettered step (10b): number it"
    checklist = re.search(r"\*\*The checklist\.\*\*[\s\S]*?\n\n((?:\d+\. .*\n(?: {3}.*\n)*)+)", DOC)
    assert checklist, "the checklist at the top is missing"
    assert [int(n) for n in re.findall(r"^(\d+)\. ", checklist.group(1), re.M)] == numbers
    for path in ("docs/deploy.md", "README.md", "infra/main.bicep", "infra/main.test.bicepparam", "localdev/smoke.py"):
        text = (ROOT / path).read_text(encoding="utf-8")
        for ref in re.findall(r"\bsteps? (\d+[a-z]?)(?: and (\d+))?", text):
            for step in filter(None, ref):
                assert step.isdigit() and int(step) in numbers, f"{path} refers to step {step}"


def test_every_resource_group_in_the_commands_is_the_same_variable() -> None:
    groups = []
    for line in _commands():
        groups += re.findall(r"(?:^|\s)(?:-g|--resource-group|--name-group)\s+(\S+)", line)
    assert len(groups) >= 10  # the doc's commands were found
    assert set(groups) == {RG}, sorted(set(groups))
    assert re.search(r"^RG=rg-thor-test\b", DOC, re.M), "step 2 sets RG"


def test_the_smoke_is_run_per_environment() -> None:
    smokes = [line for line in _commands() if "make smoke" in line]
    assert smokes and all("make smoke ENV=" in line for line in smokes), smokes
    assert "make smoke ENV=prod" in DOC
    assert "--env $(ENV)" in (ROOT / "Makefile").read_text(encoding="utf-8")
