"""Generate the notebooks readers open on Colab, ``notebooks/NN_*.ipynb``, from the MyST chapters.

The book is built from the MyST sources ``book/NN_*.md``. Colab shows Markdown, not MyST, so
each chapter is rewritten into a plain notebook:

- citations become author-year text, with the full references in a last section;
- cross-references (``{doc}``, ``{ref}``, ``{py:func}`` ...) become links to the rendered book;
- ``literalinclude`` directives become the code they include;
- other directives (notes, exercises, solutions) become headed paragraphs;
- every ``{glue:text}`` role becomes the glued name in code style, and a code cell calling
  :func:`physdl.viz.glued` shows its value in the same section, after the paragraph when the
  value is already computed there, else at the end of the section;
- a first code cell installs physdl from the release named in ``physdl/__init__.py`` and picks
  the profile, and the notebook asks Colab for a GPU runtime.

Written for this book rather than taken from a converter because no maintained tool renders
MyST roles as plain Markdown (jupytext and ``mystnb-to-jupyter`` keep them verbatim).

Usage::

    python book/make_notebooks.py          # write notebooks/
    python book/make_notebooks.py --check  # exit 1 if any committed notebook is out of date
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
COLAB = "https://colab.research.google.com/github"

ROLE = re.compile(r"\{(?P<role>[a-z][\w:-]*)\}`(?P<content>[^`]*)`")
DIRECTIVE = re.compile(r"^(?P<fence>```+|:::+)\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*)$")
TARGET = re.compile(r"^\((?P<label>[\w.:-]+)\)=[ \t]*$")
HEADING = re.compile(r"^#{1,6} ")
GLUE_CALL = re.compile(r"""glue\(\s*(?P<f>f?)(?P<q>["'])(?P<name>.+?)(?P=q)""")
GLUE_BY_NAME = re.compile(r"""glue\(\s*[A-Za-z_]""")


@dataclass(frozen=True)
class Release:
    """Where physdl comes from: the one place is ``physdl/__init__.py``."""

    repository: str  # https://github.com/owner/name
    version: str  # X.Y.Z; the release is the git tag vX.Y.Z
    documentation: str  # the rendered book

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def requirement(self) -> str:
        """The pip requirement that installs this release with what the chapters need."""
        return f"physdl[notebooks] @ git+{self.repository}@{self.tag}"

    def colab_url(self, stem: str) -> str:
        """The Colab address of the generated notebook ``notebooks/<stem>.ipynb`` of this release."""
        owner_name = self.repository.removeprefix("https://github.com/")
        return f"{COLAB}/{owner_name}/blob/{self.tag}/notebooks/{stem}.ipynb"

    def colab_badge(self, stem: str) -> str:
        """The Markdown "Open in Colab" badge of chapter ``stem``."""
        return (f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
                f"({self.colab_url(stem)})")


def release(init: Path = ROOT / "physdl" / "__init__.py") -> Release:
    """The release metadata, read from ``physdl/__init__.py`` without importing physdl."""
    values = {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = node.value.value
    return Release(values["__repository__"], values["__version__"], values["__documentation__"])


def chapters() -> list[Path]:
    """The MyST chapter sources, ``book/NN_*.md``, in order."""
    return sorted(BOOK.glob("[0-9][0-9]_*.md"))


# --- citations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One bibliography entry: how the text cites it and how the reference list shows it."""

    citation: str  # "Raissi et al., 2019"
    entry: str  # "Raissi, M., ... (2019). Title. Venue. https://..."


def _plain(text: str) -> str:
    return re.sub(r"[{}]", "", text).replace("--", "–").strip()


def bibliography(path: Path = BOOK / "references.bib") -> dict[str, Reference]:
    """Every entry of the book's BibTeX file, by key."""
    from pybtex.database import parse_file

    references = {}
    for key, item in parse_file(str(path)).entries.items():
        people = item.persons.get("author", [])
        last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        year = item.fields.get("year", "n.d.")
        if len(last) >= 3:
            short = f"{last[0]} et al."
        else:
            short = " and ".join(last) or _plain(item.fields.get("title", key))
        names = []
        for p, surname in zip(people, last):
            initials = " ".join(f"{n[0]}." for n in p.first_names + p.middle_names if n)
            names.append(f"{surname}, {initials}" if initials else surname)
        parts = [f"{', '.join(names)} ({year}).", f"*{_plain(item.fields.get('title', key))}*."]
        venue = item.fields.get("journal") or item.fields.get("booktitle") or item.fields.get("note")
        if venue:
            parts.append(f"{_plain(venue).rstrip('.')}.")
        if "doi" in item.fields:
            parts.append(f"https://doi.org/{item.fields['doi']}")
        elif "eprint" in item.fields:
            parts.append(f"arXiv:{item.fields['eprint']}")
        if "url" in item.fields:
            parts.append(item.fields["url"])
        references[key] = Reference(f"{short}, {year}", " ".join(parts))
    return references


# --- roles -------------------------------------------------------------------------------------


def _title_and_target(content: str) -> tuple[str | None, str]:
    """``"text <target>"`` -> (text, target); ``"target"`` -> (None, target)."""
    match = re.fullmatch(r"(?s)(?P<title>.*?)\s*<(?P<target>[^<>]+)>", content)
    if match and match["title"]:
        return match["title"], match["target"]
    return None, content.strip()


class Renderer:
    """Rewrites MyST roles, directives and targets of one chapter as plain Markdown."""

    def __init__(self, release_: Release, references: dict[str, Reference], labels: dict[str, str]):
        self.release = release_
        self.references = references
        self.labels = labels  # label -> page stem
        self.cited: list[str] = []

    def page_url(self, stem: str, anchor: str = "") -> str:
        url = f"{self.release.documentation}/book/{stem}.html"
        return f"{url}#{anchor}" if anchor else url

    def role(self, match: re.Match) -> str:
        role, content = match["role"], match["content"]
        if role.startswith("glue"):
            return f"`{content.partition(':')[0]}`"
        if role.startswith("cite"):
            keys = [k.strip() for k in content.split(",") if k.strip()]
            missing = [k for k in keys if k not in self.references]
            if missing:
                raise KeyError(f"citation keys not in references.bib: {missing}")
            self.cited += [k for k in keys if k not in self.cited]
            cites = "; ".join(self.references[k].citation for k in keys)
            return cites if role == "cite:t" else f"({cites})"
        if role.startswith("py:"):
            title, target = _title_and_target(content)
            name = target.lstrip("~")
            shown = title or (name.rsplit(".", 1)[-1] if target.startswith("~") else name)
            if title is None and role in ("py:func", "py:meth"):
                shown += "()"
            return f"[`{shown}`]({self.page_url('api', name)})"
        if role == "doc":
            title, target = _title_and_target(content)
            stem = target.removeprefix("/").removeprefix("book/")
            return f"[{title or stem}]({self.page_url(stem)})"
        if role in ("ref", "numref"):
            title, target = _title_and_target(content)
            if target not in self.labels:
                raise KeyError(f"{{{role}}} to unknown label {target!r}")
            return f"[{title or target}]({self.page_url(self.labels[target], target)})"
        if role == "math":
            return f"${content}$"
        raise ValueError(f"no plain rendering for the role {{{role}}}`{content}`")

    def text(self, markdown: str) -> str:
        """Roles, targets and comments of one Markdown text, rewritten."""
        lines = []
        for line in markdown.splitlines():
            if TARGET.match(line) or line.startswith("%"):
                continue
            lines.append(ROLE.sub(self.role, line))
        return "\n".join(lines)

    def directive(self, name: str, argument: str, options: dict[str, str], body: str) -> str:
        if name == "literalinclude":
            source = (BOOK / argument.strip()).resolve()
            code = python_object(source, options["pyobject"]) if "pyobject" in options else source.read_text()
            language = options.get("language", "python")
            where = source.relative_to(ROOT).as_posix()
            what = f" (`{options['pyobject']}`)" if "pyobject" in options else ""
            return f"From `{where}`{what}:\n\n```{language}\n{code.rstrip()}\n```"
        if name in ("code-block", "code"):
            return f"```{argument.strip()}\n{body.rstrip()}\n```"
        if name in ("math", "tableofcontents"):
            return f"$$\n{body.strip()}\n$$" if name == "math" else ""
        heading = name.split(":")[-1].replace("-", " ").capitalize()
        title = f"{heading}: {self.text(argument.strip())}" if argument.strip() else heading
        return f"**{title}**\n\n{self.text(body.strip())}"

    def markdown(self, source: str) -> str:
        """One Markdown cell with every directive and role rendered as plain Markdown."""
        out: list[str] = []
        lines = source.splitlines()
        i = 0
        while i < len(lines):
            match = DIRECTIVE.match(lines[i])
            if not match:
                out.append(lines[i])
                i += 1
                continue
            fence = match["fence"]
            i += 1
            options: dict[str, str] = {}
            while i < len(lines) and re.match(r"^:[\w-]+:", lines[i]):
                key, _, value = lines[i][1:].partition(":")
                options[key] = value.strip()
                i += 1
            body = []
            while i < len(lines) and lines[i].strip() != fence:
                body.append(lines[i])
                i += 1
            i += 1  # the closing fence
            out.append(self.directive(match["name"], match["argument"], options, "\n".join(body)))
        return self.text("\n".join(out)).strip()

    def references_cell(self) -> str:
        entries = "\n".join(f"- {self.references[k].entry}" for k in self.cited)
        return f"## References\n\n{entries}"


def python_object(path: Path, dotted: str) -> str:
    """The source of the function or class ``dotted`` (``Class.method`` allowed) in ``path``."""
    text = path.read_text()
    body: Iterable[ast.stmt] = ast.parse(text).body
    node = None
    for part in dotted.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise KeyError(f"{path.name} defines no {dotted!r}")
        body = node.body
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    lines = text.splitlines()[first - 1:node.end_lineno]
    indent = len(lines[0]) - len(lines[0].lstrip())
    return "\n".join(line[indent:] for line in lines)


def labels() -> dict[str, str]:
    """Every ``(label)=`` target of the book's pages, with the page it is on."""
    found = {}
    for page in BOOK.glob("*.md"):
        for line in page.read_text().splitlines():
            match = TARGET.match(line)
            if match:
                found[match["label"]] = page.stem
    return found


# --- cells -------------------------------------------------------------------------------------


def _sections(cells: list) -> list:
    """Markdown cells split so that a heading only ever starts a cell."""
    out = []
    for cell in cells:
        if cell.cell_type != "markdown":
            out.append(cell)
            continue
        parts, current = [], []
        for line in cell.source.splitlines():
            if HEADING.match(line) and any(x.strip() for x in current):
                parts.append("\n".join(current))
                current = []
            current.append(line)
        parts.append("\n".join(current))
        out += [nbformat.v4.new_markdown_cell(p.strip()) for p in parts if p.strip()]
    return out


def _glued_by(code: str) -> list[re.Pattern]:
    """Patterns of the names a code cell glues (an f-string name matches any text in its fields;
    a name held in a variable matches anything)."""
    patterns = [re.compile(".*") for _ in GLUE_BY_NAME.finditer(code)]
    for match in GLUE_CALL.finditer(code):
        name = match["name"]
        if match["f"]:
            pieces = re.split(r"\{[^}]*\}", name)
            patterns.append(re.compile(".+".join(re.escape(p) for p in pieces)))
        else:
            patterns.append(re.compile(re.escape(name)))
    return patterns


def _computed(specs: list[str], glued: list[re.Pattern], source: Path) -> list[str]:
    """``specs``, after checking that code above glues each of them: a section of a notebook can
    only show a value computed by then (the book's glue store has no such order)."""
    late = [s for s in specs if not any(p.fullmatch(s.partition(":")[0]) for p in glued)]
    if late:
        raise ValueError(f"{source.name} quotes {late} before any code cell glues them; "
                         "glue each value in or before the section that quotes it")
    return specs


def _show_cell(specs: list[str]) -> nbformat.NotebookNode:
    arguments = ", ".join(f'"{s}"' for s in specs)
    cell = nbformat.v4.new_code_cell(f"viz.glued({arguments})")
    cell.metadata["tags"] = ["glued-values"]
    return cell


def setup_cells(release_: Release) -> list:
    """The note on the runtime and the data cache, and the install-and-profile cell."""
    install = f'''# Set-up: the profile, then physdl (installed from its release if missing).
import os

os.environ.setdefault("PHYSDL_PROFILE", "default")  # "quick" runs the chapter in a few minutes

try:
    import physdl
except ImportError:
    import subprocess
    import sys

    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "{release_.requirement}"])
    import physdl'''
    note = f"""This notebook is generated from the chapter of the rendered book, {release_.documentation}; read
it there for the figures and numbers of a full run. On Colab choose a GPU runtime (*Runtime ->
Change runtime type*): the chapter runs on `physdl.config.device()`, the GPU when there is one.
The profile line below keeps a `PHYSDL_PROFILE` you set before; `quick` is the size the tests
use.

Generated data is cached in `~/.cache/physdl`, which Colab forgets between sessions. To keep it,
mount Google Drive and point `PHYSDL_CACHE` at a folder there, in a cell run right after the
set-up cell:

```python
from google.colab import drive
drive.mount("/content/drive")
os.environ["PHYSDL_CACHE"] = "/content/drive/MyDrive/physdl-cache"
```"""
    cell = nbformat.v4.new_code_cell(install)
    cell.metadata["tags"] = ["setup"]
    return [nbformat.v4.new_markdown_cell(note), cell]


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and "pip" in cell.source and "import physdl" in cell.source


def colab_notebook(source: Path, release_: Release | None = None,
                   references: dict[str, Reference] | None = None) -> nbformat.NotebookNode:
    """The Colab notebook of the MyST chapter ``source``."""
    release_ = release_ or release()
    renderer = Renderer(release_, references if references is not None else bibliography(), labels())
    chapter = jupytext.read(source)
    cells = [c for c in _sections(chapter.cells) if not is_install_cell(c)]
    out: list = []
    glued_so_far: list[re.Pattern] = []
    deferred: list[str] = []  # glue specs used in this section's prose but computed later in it
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            glued_so_far += _glued_by(cell.source)
            code = nbformat.v4.new_code_cell(cell.source)
            code.metadata.update({k: v for k, v in cell.metadata.items() if k == "tags"})
            out.append(code)
            continue
        if HEADING.match(cell.source) and deferred:
            out.append(_show_cell(_computed(deferred, glued_so_far, source)))
            deferred = []
        specs = list(dict.fromkeys(m["content"] for m in ROLE.finditer(cell.source)
                                   if m["role"].startswith("glue")))
        rendered = renderer.markdown(cell.source)
        if rendered:
            out.append(nbformat.v4.new_markdown_cell(rendered))
        if index == 0:  # the title
            out += setup_cells(release_)
        # shown at once only if a name glued literally above; else at the end of the section
        named = [p for p in glued_so_far if p.pattern != ".*"]
        ready = [s for s in specs if any(p.fullmatch(s.partition(":")[0]) for p in named)]
        if ready:
            out.append(_show_cell(ready))
        deferred += [s for s in specs if s not in ready]
    if deferred:
        out.append(_show_cell(_computed(deferred, glued_so_far, source)))
    if renderer.cited:
        out.append(nbformat.v4.new_markdown_cell(renderer.references_cell()))
    notebook = nbformat.v4.new_notebook(cells=out)
    notebook.metadata = {
        "accelerator": "GPU",
        "colab": {"name": f"{source.stem}.ipynb", "provenance": [], "gpuType": "T4"},
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for cell in notebook.cells:  # stable ids, so regenerating changes nothing
        cell.pop("id", None)
    notebook.nbformat, notebook.nbformat_minor = 4, 4
    return notebook


def text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as the file the repository holds."""
    return nbformat.writes(notebook, version=4) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    release_, references = release(), bibliography()
    NOTEBOOKS.mkdir(exist_ok=True)
    stale = []
    for source in chapters():
        target = NOTEBOOKS / f"{source.stem}.ipynb"
        wanted = text(colab_notebook(source, release_, references))
        if target.exists() and target.read_text() == wanted:
            continue
        stale.append(target.relative_to(ROOT).as_posix())
        if not args.check:
            target.write_text(wanted)
    if args.check and stale:
        print("out of date (run `python book/make_notebooks.py`): " + ", ".join(stale), file=sys.stderr)
        return 1
    print(("would write " if args.check else "wrote ") + (", ".join(stale) or "nothing"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
