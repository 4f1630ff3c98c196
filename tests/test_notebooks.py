"""Each chapter's MyST source and its paired .ipynb hold the same cells, without outputs."""

from pathlib import Path

import jupytext
import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
SOURCES = sorted(BOOK.glob("[0-9][0-9]_*.md"))


def test_every_chapter_is_found():
    assert SOURCES, "no chapter sources found in book/"


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_pair_in_sync(source):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{paired.name} is missing: run `jupytext --sync {source}`"
    md = jupytext.read(source)
    nb = jupytext.read(paired)
    md_cells = [(c.cell_type, c.source.strip()) for c in md.cells]
    nb_cells = [(c.cell_type, c.source.strip()) for c in nb.cells]
    assert md_cells == nb_cells, f"{paired.name} is out of sync with {source.name}: run `jupytext --sync {source}`"


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_notebook_has_no_outputs(source):
    nb = jupytext.read(source.with_suffix(".ipynb"))
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{source.stem}.ipynb stores outputs; clear them"
            assert cell.get("execution_count") is None


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_first_code_cell_installs_physdl(source):
    nb = jupytext.read(source)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "import physdl" in first.source and "pip" in first.source
