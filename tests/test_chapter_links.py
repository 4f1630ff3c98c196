"""Chapters and the library point at each other.

Each chapter shows at least one piece of the library code it teaches (a ``literalinclude``
of a physdl object, so that what is shown is what runs), and each physdl object a chapter
names with a ``{py:...}`` role links back, from its docstring, to the section that explains it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(ROOT.joinpath("book").glob("[0-9][0-9]_*.md"))
ROLE = re.compile(r"\{py:(?:func|class|meth|attr|data)\}`[~!]?(physdl\.[\w.]+)`")


def label_for(chapter: Path, heading: str) -> str:
    """The section label of ``heading`` in ``chapter``: ``<chapter stem>-<heading slug>``."""
    slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    return f"{chapter.stem.replace('_', '-')}-{slug}"


def chapter_references(chapter: Path) -> list[tuple[str, int, str]]:
    """``(object path, line index of its section heading, heading text)`` per ``{py:...}`` role."""
    refs, heading, heading_line = [], chapter.stem, 0
    for index, line in enumerate(chapter.read_text().split("\n")):
        if line.startswith(("# ", "## ")):
            heading, heading_line = line.split(" ", 1)[1].strip(), index
        refs += [(target, heading_line, heading) for target in ROLE.findall(line)]
    return refs


#: services every chapter calls (figures, glue, device, sizes): they link to the API page only
SERVICES = {"config", "viz", "viz3d", "sizes"}
CELL = re.compile(r"```\{code-cell\}[^\n]*\n(.*?)```", re.S)


def chapter_uses(chapter: Path) -> list[tuple[str, int, str]]:
    """``(object path, heading line, heading)`` for the first use of each physdl function or
    class in the chapter's code cells (services excluded), with the section it is used in."""
    text = chapter.read_text()
    headings = [(m.start(), m.group(0)) for m in re.finditer(r"^#{1,2} .*$", text, re.M)]
    aliases: dict[str, str] = {}
    found: dict[str, tuple[int, str]] = {}
    for cell in CELL.finditer(text):
        source = "\n".join(line for line in cell.group(1).splitlines() if not line.startswith((":", "%", "!")))
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("physdl"):
                aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Import):
                aliases.update({a.asname or a.name: a.name for a in node.names if a.name.startswith("physdl")})
        before = [h for h in headings if h[0] < cell.start()]
        offset, heading = before[-1] if before else headings[0]
        line = text.count("\n", 0, offset)
        for node in ast.walk(tree):
            chain, base = [], node
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                obj = resolve(".".join([aliases[base.id], *reversed(chain)]), missing_ok=True)
                if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                    continue
                module = getattr(obj, "__module__", "")
                if not module.startswith("physdl.") or module.split(".")[1] in SERVICES:
                    continue
                found.setdefault(f"{module}.{obj.__qualname__}", (line, heading.split(" ", 1)[1].strip()))
    return [(path, line, heading) for path, (line, heading) in found.items()]


def resolve(path: str, missing_ok: bool = False) -> object:
    """The object named by a dotted path ``physdl.module.name[.attribute]``."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for part in parts[split:]:
            if missing_ok and not hasattr(obj, part):
                return None
            obj = getattr(obj, part)
        return obj
    raise ImportError(path)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_shows_library_code(chapter: Path) -> None:
    includes = re.findall(r"```\{literalinclude\} \.\./(physdl/[\w/]+\.py)\n(?::[^\n]*\n)*?:pyobject: ([\w.]+)",
                          chapter.read_text())
    assert includes, f"{chapter.name} shows no library code with literalinclude"
    for source, name in includes:
        assert (ROOT / source).exists(), f"{chapter.name} includes missing {source}"
        assert re.search(rf"^\s*(def|class) {name.split('.')[-1]}\b", (ROOT / source).read_text(), re.M), \
            f"{chapter.name}: no {name} in {source}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_referenced_objects_link_back(chapter: Path) -> None:
    text = chapter.read_text()
    missing = []
    for target, _, heading in chapter_references(chapter):
        obj = resolve(target)
        if inspect.ismodule(obj):
            continue
        label = label_for(chapter, heading)
        assert f"({label})=" in text, f"{chapter.name}: section {heading!r} has no label ({label})="
        if f":ref:`{label}`" not in (inspect.getdoc(obj) or ""):
            missing.append(f"{target} -> {label}")
    assert not missing, f"docstrings without a link back to {chapter.name}:\n" + "\n".join(sorted(set(missing)))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_used_objects_link_back(chapter: Path) -> None:
    prefix = chapter.stem.replace("_", "-") + "-"
    missing = [target for target, _, _ in chapter_uses(chapter)
               if f":ref:`{prefix}" not in (inspect.getdoc(resolve(target)) or "")]
    assert not missing, f"used in {chapter.name} without a link back from the docstring:\n" + "\n".join(missing)


def test_chapters_6_and_7_name_library_objects() -> None:
    for chapter in CHAPTERS:
        assert chapter_references(chapter), f"{chapter.name} names no physdl object with a {{py:...}} role"


def test_the_link_checks_can_fail(tmp_path) -> None:
    chapter = tmp_path / "09_demo.md"
    chapter.write_text("# Demo\n\n## Fitting\n\nSee {py:func}`physdl.timing.median_seconds`.\n\n"
                       "```{code-cell} ipython3\nfrom physdl import diffphys\n"
                       "diffphys.unrolled_loss\n```\n")
    assert chapter_references(chapter) == [("physdl.timing.median_seconds", 2, "Fitting")]
    assert chapter_uses(chapter) == [("physdl.diffphys.training.unrolled_loss", 2, "Fitting")]
    label = label_for(chapter, "Fitting")
    assert label == "09-demo-fitting"
    assert f":ref:`{label}`" not in inspect.getdoc(resolve("physdl.timing.median_seconds"))
