"""docs/methods.md is the reference that code and notebooks cite: every ``docs/<file>.md#anchor``
link in the repository resolves to a heading, the anchors others cite exist, and no file cites the
private reference notes that methods.md replaced (by name).

Anchors are GitHub's heading slugs: lower case, punctuation dropped, spaces to hyphens, a repeated
slug suffixed -1, -2, ...  Fast (plain text scans, no imports of the library).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
METHODS = DOCS / "methods.md"

# The anchors that code, notebooks and README cite (one per topic of the reference).
REQUIRED_ANCHORS = (
    "notation", "attention-as-a-hypernetwork", "attention-normalisation", "value-networks",
    "mixer-names", "relative-positions", "transformer", "initialisation", "hyperparameters",
    "losses-and-metrics", "optimiser", "training-loop", "fuzzy-logic", "fuzzy-logic-splits",
    "fuzzy-logic-metrics", "sraven", "sraven-rules", "sraven-permutation", "sraven-splits",
    "sraven-ambiguity", "language-modelling", "latent-codes", "latent-analyses", "figures",
    "official-code-conventions", "open-questions", "official-cpu-reference",
)

# Where links are looked for: (folder or file, glob patterns).
LINK_SOURCES = (
    ("lib", ("**/*.py",)),
    ("notebooks", ("*.py", "*.ipynb", "*.md")),
    ("tests", ("**/*.py",)),
    ("tools", ("**/*.py",)),
    ("benchmarks", ("**/*.py", "**/*.md")),
    ("docs", ("**/*.md",)),
    ("README.md", ()),
)
# Where the name of the private notes must not occur (built so this file does not contain it).
FORBIDDEN = "SP" + "EC"
FORBIDDEN_SOURCES = (
    ("lib", ("**/*",)),
    ("notebooks", ("**/*",)),
    ("tests", ("**/*",)),
    ("tools", ("**/*",)),
    ("README.md", ()),
    ("docs/methods.md", ()),
)

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
# <path>.md#<anchor>, optionally followed by shorthand anchors of the same file, joined by a
# comma, "and" or "to" (e.g. "#value-networks and #mixer-names" after a full link).
_LINK = re.compile(r"((?:[\w.-]+/)*[\w.-]+\.md)#([\w-]+)((?:\s*(?:,|and|to)\s*#[\w-]+)*)")
_SHORTHAND = re.compile(r"#([\w-]+)")
_LOCAL = re.compile(r"\]\(#([\w-]+)\)")


def slugify(heading: str) -> str:
    """GitHub's anchor of a heading's text (markdown emphasis and code marks removed)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: keep their text
    text = re.sub(r"[*`]", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def heading_slugs(markdown: str) -> list[str]:
    """Base slugs of every heading outside fenced code blocks, in order (duplicates kept)."""
    slugs, fenced = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        m = None if fenced else _HEADING.match(line)
        if m:
            slugs.append(slugify(m.group(2)))
    return slugs


def anchors_of(markdown: str) -> set[str]:
    """Every anchor GitHub generates for ``markdown`` (repeats get -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for slug in heading_slugs(markdown):
        n = seen.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return out


@functools.lru_cache(maxsize=None)
def _anchors_of_file(path: Path) -> frozenset[str]:
    return frozenset(anchors_of(path.read_text(encoding="utf-8")))


def _files(sources) -> list[Path]:
    out = []
    for where, patterns in sources:
        base = ROOT / where
        if base.is_file():
            out.append(base)
            continue
        for pattern in patterns:
            out.extend(p for p in base.glob(pattern)
                       if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)
    return sorted(set(out))


def _resolve(source: Path, target: str) -> Path | None:
    """The file a link ``target`` in ``source`` points at: relative to the source's folder, or to the
    repository root (code comments write root-relative paths); None when neither exists."""
    for base in (source.parent, ROOT):
        candidate = (base / target).resolve()
        if candidate.is_file():
            return candidate
    stripped = re.sub(r"^(\.\./)+", "", target)
    candidate = (ROOT / stripped).resolve()
    return candidate if candidate.is_file() else None


def broken_links(text: str, source: Path) -> list[str]:
    """Problems with the ``docs/<file>.md#anchor`` links of ``text`` (read from ``source``)."""
    problems = []
    in_docs = DOCS in source.resolve().parents
    for m in _LINK.finditer(text):
        target, first, rest = m.group(1), m.group(2), m.group(3)
        path = _resolve(source, target)
        if path is None:
            if "docs/" in target or in_docs:
                problems.append(f"{target}#{first}: no such file")
            continue
        if DOCS not in path.parents:
            continue  # only the docs' anchors are checked
        anchors = _anchors_of_file(path)
        for anchor in (first, *_SHORTHAND.findall(rest)):
            if anchor not in anchors:
                problems.append(f"{target}#{anchor}: no heading of {path.relative_to(ROOT)} has this anchor")
    if source.suffix == ".md" and in_docs:
        anchors = _anchors_of_file(source.resolve())
        problems += [f"#{a}: no heading of this file" for a in _LOCAL.findall(text) if a not in anchors]
    return problems


# ------------------------------------------------------------------------------------------------


def test_slugify_follows_github():
    assert slugify("Fuzzy-logic splits") == "fuzzy-logic-splits"
    assert slugify("Attention as a hypernetwork") == "attention-as-a-hypernetwork"
    assert slugify("Official CPU reference") == "official-cpu-reference"
    assert slugify("`hyla` choice: *the* split (B.2)") == "hyla-choice-the-split-b2"
    assert anchors_of("# A\n## A\n```\n# not a heading\n```\n### A\n") == {"a", "a-1", "a-2"}


def test_required_anchors_exist():
    anchors = _anchors_of_file(METHODS)
    missing = [a for a in REQUIRED_ANCHORS if a not in anchors]
    assert not missing, f"docs/methods.md lacks headings for the anchors {missing}"


def test_methods_headings_have_unique_slugs():
    slugs = heading_slugs(METHODS.read_text(encoding="utf-8"))
    repeated = sorted({s for s in slugs if slugs.count(s) > 1})
    assert not repeated, f"docs/methods.md: several headings give the anchors {repeated}"


def test_every_docs_link_resolves():
    problems = []
    for path in _files(LINK_SOURCES):
        text = path.read_text(encoding="utf-8", errors="replace")
        problems += [f"{path.relative_to(ROOT)}: {p}" for p in broken_links(text, path)]
    assert not problems, "broken links to docs/:\n" + "\n".join(problems)


def test_links_are_found_and_a_broken_anchor_fails():
    """The checker sees every link form the repository uses, and reports a wrong anchor."""
    # the link strings are assembled, so that the scan of this file finds no broken link
    src, doc, md = ROOT / "lib" / "hyla" / "example.py", "docs/methods", ".md"
    good = (f"{doc}{md}#optimiser, {doc}{md}#hyperparameters, #figures and #notation; "
            f"[methods](../{doc}{md}#latent-codes)")
    assert broken_links(good, src) == []
    assert len(broken_links(f"see {doc}{md}#no-such-section", src)) == 1
    assert len(broken_links(f"{doc}{md}#figures, #no-such-section", src)) == 1
    assert len(broken_links(f"docs/no_such_file{md}#figures", src)) == 1
    assert broken_links(f"README{md}#anything", src) == []  # only docs/ files are checked


@pytest.mark.parametrize("where", [w for w, _ in FORBIDDEN_SOURCES])
def test_no_citation_of_the_private_notes(where):
    hits = []
    for path in _files([s for s in FORBIDDEN_SOURCES if s[0] == where]):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary files
        for i, line in enumerate(text.splitlines(), 1):
            if FORBIDDEN in line:
                hits.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not hits, (f"{len(hits)} lines still cite {FORBIDDEN}; cite the paper or "
                      "docs/methods.md#<anchor> instead:\n" + "\n".join(hits))
