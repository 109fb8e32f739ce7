"""Every relative link in README.md and docs/*.md points at a file that exists and, for `#anchor`
links, at a heading that exists in it (GitHub's anchors: lower case, punctuation dropped, spaces as
dashes, a repeated heading suffixed -1, -2…). Links to other sites are not followed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _outside_fences(text: str) -> list[str]:
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of one Markdown file."""
    seen: Counter[str] = Counter()
    found = set()
    for line in _outside_fences(path.read_text(encoding="utf-8")):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def relative_links(path: Path) -> list[str]:
    text = "\n".join(_outside_fences(path.read_text(encoding="utf-8")))
    text = re.sub(r"`[^`\n]*`", lambda m: m.group(0) if "](" in m.group(0) else "", text)
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_the_anchors_follow_githubs_rules() -> None:
    assert anchors(ROOT / "docs" / "deploy.md") >= {"what-inframainbicep-creates", "deploying"}
    assert "a-zort-method" in anchors(ROOT / "docs" / "architecture.md")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_and_heading_that_exist(doc: Path) -> None:
    broken = []
    for target in relative_links(doc):
        name, _, anchor = target.partition("#")
        file = (doc.parent / name).resolve() if name else doc
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](missing.md) [no anchor](#nowhere) [web](https://x.y/z)\n")
    assert relative_links(page) == ["#title", "missing.md", "#nowhere"]
    assert anchors(page) == {"title"}
