"""Every chapter and command reads its sizes from physdl.sizes, and no chapter retypes one."""

from __future__ import annotations

import ast
import dataclasses
import re
import warnings
from pathlib import Path

import pytest

from physdl import sizes
from physdl.config import PROFILES

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CHAPTER_FILES = {re.sub(r"^\d\d_", "", p.stem): p for p in sorted(BOOK.glob("[0-9][0-9]_*.md"))}
#: the only modules allowed to choose a value by profile
PROFILE_MODULES = {ROOT / "physdl" / "config.py", ROOT / "physdl" / "sizes.py"}
#: numbers a chapter types for structure, not size: counts, dimensions, ``n - 1``, percent, milliseconds
STRUCTURAL = {*range(-1, 11), 100, 1000}
#: literals that equal a size by coincidence: (chapter, value) -> what the literal means instead
COINCIDENCES: dict[tuple[str, float], str] = {
    ("crnn", 200): "a stride that thins the long rollout to about 200 plotted frames",
}


def code_cells(path: Path) -> list[str]:
    """The source of each ``{code-cell}`` block of a MyST chapter, options and magics removed."""
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), flags=re.S)
    return ["\n".join(line for line in cell.splitlines() if not line.startswith((":", "%", "!")))
            for cell in cells]


def numbers(value: object) -> set[float]:
    """Every int or float inside a (nested) dataclass, tuple or dict; booleans excluded."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return set()
    if isinstance(value, (int, float)):
        return {value}
    if dataclasses.is_dataclass(value):
        return set().union(*(numbers(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return set().union(set(), *(numbers(v) for v in value.values()))
    if isinstance(value, (tuple, list)):
        return set().union(set(), *(numbers(v) for v in value))
    return set()


def mentions_sizes(node: ast.AST) -> bool:
    """Whether an expression reads the chapter's sizes (``cfg.<x>`` or ``chapter.<x>``)."""
    return any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in ("cfg", "chapter")
               for n in ast.walk(node))


def retyped_sizes(name: str) -> list[str]:
    """Literals of chapter ``name``'s code that repeat a value its sizes hold.

    A literal is a retyped size when it equals a value of the chapter's sizes (any profile) and
    either is passed as a keyword named like a field of the sizes (``lr=0.003``) or sits in
    arithmetic with the sizes (``cfg.start_time / 0.5``), other than a structural number.
    """
    values = set().union(*(numbers(c) for c in sizes.all_profiles(name).values()))
    field_names = {f.name for c in sizes.all_profiles(name).values() for f in dataclasses.fields(c)}
    found = []
    for source in code_cells(CHAPTER_FILES[name]):
        tree = ast.parse(source)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
                continue
            value = node.value
            parent = parents.get(node)
            if isinstance(parent, ast.UnaryOp):
                value, parent = -value, parents.get(parent)
            if value not in values or (name, value) in COINCIDENCES:
                continue
            expression = node
            while isinstance(parents.get(expression), (ast.BinOp, ast.UnaryOp, ast.Compare)):
                expression = parents[expression]
            keyword = parent.arg if isinstance(parent, ast.keyword) else None
            in_arithmetic = expression is not node and mentions_sizes(expression) and value not in STRUCTURAL
            if in_arithmetic or keyword in field_names:
                found.append(f"{CHAPTER_FILES[name].name}:{node.lineno} of its cell: {value!r} "
                             f"({ast.unparse(expression)})")
    return found


def test_every_chapter_has_sizes_in_every_profile() -> None:
    assert set(sizes.CHAPTERS) == set(CHAPTER_FILES)
    for name in sizes.CHAPTERS:
        for profile in PROFILES:
            assert dataclasses.is_dataclass(sizes.chapter(name, profile))
    for name in sizes.RUNS:
        assert {"quick", "default", "paper"} <= set(sizes.all_profiles(name))


def test_each_chapter_reads_its_own_sizes() -> None:
    for name, path in CHAPTER_FILES.items():
        text = path.read_text()
        assert f'sizes.chapter("{name}")' in text, f"{path.name} does not read sizes.chapter({name!r})"
        others = set(re.findall(r'sizes\.chapter\("(\w+)"', text)) - {name}
        assert not others, f"{path.name} borrows the sizes of {sorted(others)}"


def test_nothing_else_chooses_by_profile() -> None:
    library = [p for p in ROOT.joinpath("physdl").rglob("*.py") if p not in PROFILE_MODULES]
    readers = [*BOOK.glob("*.md"), *ROOT.joinpath("benchmarks").glob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in library if re.search(r"\bby_profile\(", p.read_text())]
    offenders += [str(p.relative_to(ROOT)) for p in readers
                  if re.search(r"\bby_profile\(|chapter_config\(|paper_config\(", p.read_text())]
    assert not offenders, f"sizes chosen outside physdl.sizes: {sorted(offenders)}"


@pytest.mark.parametrize("name", sorted(CHAPTER_FILES))
def test_no_chapter_retypes_a_size(name: str) -> None:
    found = retyped_sizes(name)
    assert not found, "literals that repeat physdl.sizes values (read them from cfg):\n" + "\n".join(found)


def test_the_literal_check_can_fail(tmp_path, monkeypatch) -> None:
    chapter = tmp_path / "07_crnn.md"
    chapter.write_text('```{code-cell} ipython3\ncfg = sizes.chapter("crnn")\nt = cfg.start_time / 0.5\n'
                       "x = run(demo_time=20.0)\nplot(lw=0.5, alpha=2.0 * cfg.grid)\n```\n")
    monkeypatch.setitem(CHAPTER_FILES, "crnn", chapter)
    found = retyped_sizes("crnn")
    assert len(found) == 2 and "cfg.start_time / 0.5" in found[0] and "20.0" in found[1]


def test_command_lines_take_the_scale_from_the_profile(monkeypatch) -> None:
    from physdl.crnn import training

    with pytest.raises(SystemExit):
        training.main(["--out", "unused.pt", "--scale", "paper"])
    monkeypatch.setenv("PHYSDL_PROFILE", "paper")
    assert sizes.run("crnn-training").steps == sizes.all_profiles("crnn-training")["paper"].steps
    monkeypatch.setenv("PHYSDL_PROFILE", "quick")
    assert sizes.run("crnn-training").steps < sizes.run("crnn-training", "default").steps


def test_deprecated_chapter_configs_still_answer() -> None:
    from physdl import burgers_pinn, neuradiff, safe, surrogate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert surrogate.chapter_config("quick") == sizes.chapter("surrogates", "quick").method
        assert burgers_pinn.chapter_config("quick") == sizes.chapter("burgers_pinn", "quick").method
        assert safe.chapter_config("quick") == sizes.chapter("safe", "quick")
        assert neuradiff.chapter_config("quick") == sizes.chapter("neuradiff", "quick")
    with pytest.warns(DeprecationWarning):
        surrogate.chapter_config()
    with pytest.warns(DeprecationWarning, match="physdl.sizes.SafeChapter"):
        assert safe.ChapterConfig is sizes.SafeChapter
    from physdl import progress, train

    with pytest.warns(DeprecationWarning, match="physdl.progress.progress"):
        assert train.progress is progress.progress
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        train.nothing  # noqa: B018


def test_unknown_names_and_profiles_are_named() -> None:
    with pytest.raises(KeyError, match="chapters"):
        sizes.chapter("nope")
    with pytest.raises(ValueError, match="profile"):
        sizes.chapter("crnn", "huge")
