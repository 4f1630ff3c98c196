"""The Colab notebooks ``notebooks/NN_*.ipynb``: generated from the MyST chapters, up to date,
plain Markdown only, every glued value shown in the section that quotes it."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

import physdl

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "book" / "make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(spec)
sys.modules["make_notebooks"] = make_notebooks  # dataclasses look their module up there
spec.loader.exec_module(make_notebooks)

SOURCES = make_notebooks.chapters()
IDS = [p.stem for p in SOURCES]
#: MyST that Colab would show raw: roles, directives, targets, comments, jupytext markers
RAW_MYST = re.compile(r"\{[a-z][\w:-]*\}`|^(```+|:::+)\{|^\([\w.:-]+\)=\s*$|^%|^\+\+\+", re.M)


def notebook(source: Path) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / f"{source.stem}.ipynb", as_version=4)


def test_every_chapter_is_found():
    assert len(SOURCES) == 7, "expected seven chapter sources in book/"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_notebook_is_up_to_date(source):
    path = ROOT / "notebooks" / f"{source.stem}.ipynb"
    assert path.exists(), f"{path.name} is missing: run `python book/make_notebooks.py`"
    wanted = make_notebooks.text(make_notebooks.colab_notebook(source))
    assert path.read_text() == wanted, f"{path.name} is out of date: run `python book/make_notebooks.py`"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_no_raw_myst(source):
    for cell in notebook(source).cells:
        if cell.cell_type == "markdown":
            found = RAW_MYST.search(cell.source)
            assert found is None, f"{source.stem}: raw MyST {found.group(0)!r} in\n{cell.source[:300]}"


def test_raw_myst_scan_can_fail():
    for raw in ("value {glue:text}`x`", "```{note}\nhi\n```", "(my-label)=", "see {cite}`a`"):
        assert RAW_MYST.search(raw), raw


def _sections(cells, heading=re.compile(r"^(#{1,6} .*)$", re.M)):
    """Cells grouped under the heading that opens their section (``""`` before the first)."""
    current, groups = "", {}
    for cell in cells:
        if cell.cell_type == "markdown":
            found = heading.search(cell.source)
            if found and cell.source.startswith(found.group(0)):
                current = found.group(1)
        groups.setdefault(current, []).append(cell)
    return groups


def _shown(cells) -> set[str]:
    names = set()
    for cell in cells:
        if cell.cell_type == "code" and "glued-values" in cell.metadata.get("tags", []):
            names |= {s.partition(":")[0] for s in re.findall(r'"([^"]+)"', cell.source)}
    return names


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_every_glued_value_is_shown_in_its_section(source):
    chapter = make_notebooks.jupytext.read(source)
    quoted = {}
    for title, cells in _sections(make_notebooks._sections(chapter.cells)).items():
        for cell in cells:
            if cell.cell_type == "markdown":
                quoted.setdefault(make_notebooks.ROLE.sub("", title).strip(), set()).update(
                    m["content"].partition(":")[0] for m in make_notebooks.ROLE.finditer(cell.source)
                    if m["role"].startswith("glue"))
    shown = {make_notebooks.ROLE.sub("", t).strip(): _shown(c) for t, c in _sections(notebook(source).cells).items()}
    assert sum(map(len, quoted.values())) > 0
    for title, names in quoted.items():
        missing = names - shown.get(title, set())
        assert not missing, f"{source.stem}, section {title!r}: glued values not shown there: {sorted(missing)}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_colab_set_up(source):
    release = make_notebooks.release()
    nb = notebook(source)
    assert nb.metadata["accelerator"] == "GPU"
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert 'os.environ.setdefault("PHYSDL_PROFILE"' in first.source
    assert f'"{release.requirement}"' in first.source
    assert "PHYSDL_CACHE" in "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "committed with outputs"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_chapter_badge_opens_its_notebook(source):
    badges = re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)]+)\)", source.read_text())
    assert badges == [make_notebooks.release().colab_url(source.stem)]


def test_release_is_read_from_the_package():
    release = make_notebooks.release()
    assert (release.repository, release.version, release.documentation) == (
        physdl.__repository__, physdl.__version__, physdl.__documentation__)


def test_every_colab_link_opens_a_generated_notebook():
    """Links to Colab anywhere in the docs open notebooks/NN_*.ipynb of this release."""
    release = make_notebooks.release()
    pages = [*ROOT.glob("book/*.md"), ROOT / "README.md", *ROOT.glob("notebooks/*.ipynb")]
    links = {u for p in pages for u in re.findall(r"https://colab\.research\.google\.com/github/[^)\s\"]+",
                                                   p.read_text())}
    assert links
    allowed = {release.colab_url(s.stem) for s in SOURCES}
    assert links <= allowed, sorted(links - allowed)
    config = (ROOT / "_config.yml").read_text()
    assert "colab_url" not in config, "the launch button would open the .md source, which Colab cannot read"


def test_renderer_rejects_an_unknown_role():
    renderer = make_notebooks.Renderer(make_notebooks.release(), {}, {})
    with pytest.raises(ValueError, match="no plain rendering"):
        renderer.markdown("see {weird}`x`")
    with pytest.raises(KeyError, match="not in references.bib"):
        renderer.markdown("see {cite}`nobody2020`")


def test_renderer_plain_markdown():
    references = {"a2020": make_notebooks.Reference("A and B, 2020", "A, X. (2020). *T*.")}
    renderer = make_notebooks.Renderer(make_notebooks.release(), references, {"lbl": "03_advection"})
    out = renderer.markdown("(lbl)=\n## Head\nSee {cite}`a2020`, {ref}`here <lbl>` and "
                            "{py:func}`~physdl.rollout`; err {glue:text}`e:.1f` %.\n% hidden")
    assert out == ("## Head\nSee (A and B, 2020), [here](https://physdl.github.io/physdl/book/03_advection.html#lbl)"
                   " and [`rollout()`](https://physdl.github.io/physdl/book/api.html#physdl.rollout); err `e` %.")
    code = renderer.markdown("```{literalinclude} ../physdl/pde/stepper.py\n:pyobject: rollout\n```")
    assert code.startswith("From `physdl/pde/stepper.py` (`rollout`):\n\n```python\ndef rollout(")


def test_glued_values_are_shown_and_named():
    physdl.viz.glue("test_value", 0.123456)
    shown = physdl.viz.glued("test_value:.2f")
    assert shown.rows == (("test_value", "0.12"),)
    assert "`test_value` | 0.12" in shown._repr_markdown_()
    with pytest.raises(KeyError, match="run the cells above"):
        physdl.viz.glued("never_glued")


def test_committed_notebooks_are_valid_json():
    for path in ROOT.glob("notebooks/*.ipynb"):
        nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
        json.loads(path.read_text())
