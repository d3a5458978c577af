"""The repository explains itself: every citation of ``docs/`` names a file and a section that exist.

Code, tests and docs cite the documentation as ``docs/architecture.md 4.3`` or
``docs/capillary-api.md 4.2, 4.3 and 10`` (and, inside ``docs/``, as Markdown links whose text names the file
and section). A renamed file or a renumbered section would leave such a citation pointing at nothing; this
test finds it. It also keeps the code from citing documents that are not in the repository: every cited
document lives under ``docs/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCANNED = (ROOT / "reconciler", ROOT / "tests", DOCS)
TOP_LEVEL = ("README.md", "CONTRIBUTING.md")
SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".txt", ".json"}

_NUMBER = r"\d+(?:\.\d+)*"
# ``docs/<name>.md`` (not inside a longer path such as ``../../docs/<name>.md``, a link target), or a
# Markdown link text ``[<name>.md`` inside docs/; then optional sections: "4.3", "3, 4 and 6", "1 to 3".
CITATION = re.compile(
    r"(?:(?<![\w/.-])docs/|\[)(?P<file>[A-Za-z0-9_-]+\.md)"
    rf"(?P<sections>(?:\s+(?:\#\s*)?(?:sections?\s+)?{_NUMBER})(?:(?:,\s*|\s+and\s+|\s+to\s+|-){_NUMBER})*)?"
)
HEADING = re.compile(rf"^#{{1,6}}\s+(?P<number>{_NUMBER})\.?\s")
# A document cited without its docs/ path: the original design and API digest are not in the repository.
OUTSIDE_DOCS = re.compile(r"(?<!docs/)\b(?:DESIGN|capillary-api)\.md")


@dataclass(frozen=True)
class Citation:
    where: str
    file: str
    sections: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.where}: docs/{self.file} {', '.join(self.sections)}".rstrip()


def _files() -> list[Path]:
    found = [p for base in SCANNED for p in sorted(base.rglob("*")) if p.suffix in SUFFIXES and p.is_file()]
    return found + [ROOT / name for name in TOP_LEVEL if (ROOT / name).is_file()]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def citations_in(path: Path) -> list[Citation]:
    """The docs citations in one file (bracketed link texts only count inside docs/)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    out = []
    for match in CITATION.finditer(text):
        if match.group(0).startswith("[") and path.parent != DOCS:
            continue
        sections = tuple(re.findall(_NUMBER, match.group("sections") or ""))
        where = f"{path.relative_to(ROOT)}:{_line_of(text, match.start())}"
        out.append(Citation(where, match.group("file"), sections))
    return out


def headings(doc: Path) -> set[str]:
    """The section numbers of a Markdown document's headings (``## 4. The plan`` -> ``4``)."""
    numbers: set[str] = set()
    fenced = False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            numbers.add(match.group("number"))
    return numbers


CITATIONS = [c for path in _files() for c in citations_in(path)]


def test_the_scan_finds_the_citations_it_checks() -> None:
    """The checks below are only as good as the scan: known citations must be in it."""
    cited = {(c.where.split(":")[0], c.file.removesuffix(".md"), c.sections) for c in CITATIONS}
    assert ("reconciler/plan/risk.py", "architecture", ("4.4",)) in cited
    assert ("reconciler/sandbox/lookup.py", "capillary-api", ("4.2", "4.3", "10")) in cited
    assert len(CITATIONS) >= 40


@pytest.mark.parametrize("citation", CITATIONS, ids=str)
def test_every_citation_names_an_existing_document_and_section(citation: Citation) -> None:
    doc = DOCS / citation.file
    assert doc.is_file(), f"{citation}: there is no docs/{citation.file}"
    missing = [s for s in citation.sections if s not in headings(doc)]
    assert not missing, f"{citation}: docs/{citation.file} has no section {', '.join(missing)}"


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_section_numbers_are_unique(doc: Path) -> None:
    """A number names one section, or a citation of it is ambiguous."""
    numbers = [m.group("number") for line in doc.read_text().splitlines() if (m := HEADING.match(line))]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    assert not repeated, f"docs/{doc.name} numbers more than one section {', '.join(repeated)}"


def test_code_and_tests_cite_only_documents_in_docs() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{_line_of(text, m.start())}: {m.group(0)}"
        for path in _files()
        if path.is_relative_to(ROOT / "reconciler") or path.is_relative_to(ROOT / "tests")
        for text in (path.read_text(encoding="utf-8", errors="replace"),)
        for m in OUTSIDE_DOCS.finditer(text)
    ]
    assert not outside, "cited outside docs/: " + "; ".join(outside)
