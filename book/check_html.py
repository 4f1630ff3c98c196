"""Check the built book's HTML for what a reader would see as a rendering defect.

Run after a build (``make test`` runs it on the quick build)::

    python book/check_html.py _build/quick/_build/html

Each detector looks at the main article of every page (not the theme's navigation):

- ``raw-role``: a MyST role left as text, e.g. ``{glue:text}`name``` or ``{cite}`key```;
- ``raw-math``: ``$...$`` or ``$$`` left as text instead of rendered mathematics;
- ``pipe-table``: a Markdown pipe table rendered as a paragraph of ``|`` characters;
- ``echoed-value``: a cell whose result (not its printed output) is a bare value, a string or
  the repr of a matplotlib object, which a reader sees as stray text under the cell;
- ``missing-figure``: an image with no source, or a source that is not in the build, or a
  figure shown as its text repr (``<Figure size ...>``);
- ``broken-link``: an internal link to a page or an anchor that does not exist;
- ``duplicate-api``: an API object documented twice on a page (two entries with one id, or a
  dataclass field listed under "Variables" and again as an attribute entry).

Written for physdl because the book's builder checks none of these: Sphinx warns on broken
references it resolves itself, not on text that was never parsed as markup or on outputs.
Exit status 0 when no page has a finding, 1 when some have (each is printed), 2 when there
is no build to check.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup, NavigableString, Tag

#: elements whose text is code or rendered mathematics, never prose
CODE_TAGS = {"pre", "code", "script", "style", "kbd", "samp", "tt", "textarea"}
CODE_CLASSES = {"math", "highlight", "cell_input", "cell_output", "output", "MathJax", "katex"}

RAW_ROLE = re.compile(r"\{[A-Za-z][\w:.\-]*\}`")
RAW_MATH = re.compile(r"\$\$|(?<![\\\w$])\$(?=\S)[^$\n]+?(?<=\S)\$(?![\w$])")
PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
PIPE_RULE = re.compile(r"\|\s*:?-{3,}:?\s*\|")
OBJECT_REPR = re.compile(r"^(<\S+ (object )?at 0x[0-9a-fA-F]+>|\[?<matplotlib\.|Text\(|<Figure size |<Axes)")


@dataclass(frozen=True)
class Finding:
    """One defect: the page (relative to the build), the detector and what it saw."""

    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


def _parse(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8", errors="replace"), "html.parser")


def article(soup: BeautifulSoup) -> Tag:
    """The page's main content: the ``role="main"`` element (the theme's article), else the body."""
    return soup.find(attrs={"role": "main"}) or soup.find("main") or soup.body or soup


def _in_code(node: NavigableString | Tag) -> bool:
    for parent in node.parents:
        if not isinstance(parent, Tag):
            continue
        if parent.name in CODE_TAGS or CODE_CLASSES.intersection(parent.get("class") or ()):
            return True
    return False


def prose_strings(root: Tag) -> Iterator[NavigableString]:
    """The text nodes of ``root`` that are prose: outside code, cell inputs and outputs, and math."""
    for text in root.find_all(string=True):
        if text.strip() and not _in_code(text):
            yield text


def _snippet(text: str, match: re.Match, width: int = 40) -> str:
    lo, hi = max(0, match.start() - width), min(len(text), match.end() + width)
    return " ".join(text[lo:hi].split())


def raw_roles(root: Tag) -> list[str]:
    """MyST roles left as text."""
    return [_snippet(t, m) for t in prose_strings(root) for m in RAW_ROLE.finditer(t)]


def raw_math(root: Tag) -> list[str]:
    """Dollar mathematics left as text."""
    return [_snippet(t, m) for t in prose_strings(root) for m in RAW_MATH.finditer(t)]


def pipe_tables(root: Tag) -> list[str]:
    """Paragraphs that hold a pipe table (rows of ``|`` and a ``| --- |`` rule) as text."""
    found = []
    for p in root.find_all("p"):
        if _in_code(p):
            continue
        text = p.get_text()
        if PIPE_RULE.search(text) or len(PIPE_ROW.findall(text)) >= 2:
            found.append(" ".join(text.split())[:80])
    return found


def _is_bare_value(text: str) -> bool:
    text = text.strip()
    if not text:
        return False
    if OBJECT_REPR.match(text):
        return True
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return value is None or isinstance(value, (str, bytes, bool, int, float, complex))


def echoed_values(root: Tag) -> list[str]:
    """Cell results shown as text that are a bare value or an object's repr (``execute_result``
    outputs are ``text_plain``; printed output is ``stream`` and is meant to be read)."""
    found = []
    for out in root.select("div.cell_output div.text_plain, div.cell_output div.output.text_plain"):
        text = out.get_text()
        if _is_bare_value(text) and not text.strip().startswith("<Figure size "):
            found.append(text.strip()[:80])
    return list(dict.fromkeys(found))


def _local_target(href: str) -> tuple[str, str] | None:
    """``(path, fragment)`` of an internal link, ``None`` for an external one."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("//"):
        return None
    return unquote(parts.path), unquote(parts.fragment)


def missing_figures(root: Tag, page: Path) -> list[str]:
    """Images without a source or whose source is not in the build; figures shown as text."""
    found = []
    scripts = " ".join(script.get_text() for script in root.find_all("script"))
    for img in root.find_all("img"):
        src = (img.get("src") or "").strip()
        if not src:
            # an animation's frame (matplotlib's to_jshtml) gets its source from a script
            if not (img.get("id") and img["id"] in scripts):
                found.append("an <img> without src")
            continue
        if src.startswith("data:"):
            continue
        target = _local_target(src)
        if target is not None and not (page.parent / target[0]).is_file():
            found.append(src)
    for out in root.select("div.cell_output div.text_plain"):
        text = out.get_text().strip()
        if text.startswith("<Figure size "):
            found.append(f"a figure shown as text: {text[:60]}")
    return found


@lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset[str]:
    soup = _parse(path)
    return frozenset(tag["id"] for tag in soup.find_all(id=True)) | frozenset(
        tag["name"] for tag in soup.find_all("a", attrs={"name": True}))


def broken_links(root: Tag, page: Path) -> list[str]:
    """Internal links to a page that is not in the build, or to an anchor that is not on it."""
    found = []
    for a in root.find_all("a", href=True):
        target = _local_target(a["href"])
        if target is None:
            continue
        path, fragment = target
        file = (page.parent / path).resolve() if path else page.resolve()
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            found.append(a["href"])
        elif fragment and file.suffix == ".html" and fragment not in _ids(file):
            found.append(a["href"])
    return list(dict.fromkeys(found))


def duplicate_api_entries(root: Tag) -> list[str]:
    """Objects documented twice: two API entries with one id, or a field under a class's
    "Variables" list that also has its own attribute entry."""
    found = []
    seen: set[str] = set()
    for dt in root.select("dt.sig[id]"):
        if dt["id"] in seen:
            found.append(dt["id"])
        seen.add(dt["id"])
    for cls in root.select("dl.py.class"):
        sig = cls.find("dt", id=True)
        if sig is None:
            continue
        body = cls.find("dd")
        listed: set[str] = set()
        for field in body.select(":scope > dl.field-list > dt") if body else ():
            if field.get_text(strip=True).rstrip(":") in ("Variables", "Attributes"):
                listed |= {s.get_text(strip=True) for s in field.find_next_sibling("dd").find_all("strong")}
        for attr in body.select(":scope > dl.py.attribute > dt[id], :scope > dl.py.property > dt[id]") if body else ():
            name = attr["id"].rsplit(".", 1)[-1]
            if name in listed:
                found.append(attr["id"])
    return list(dict.fromkeys(found))


def check_page(page: Path, build: Path) -> list[Finding]:
    """Every finding on one built page."""
    root = article(_parse(page))
    name = page.relative_to(build).as_posix()
    checks = {
        "raw-role": raw_roles(root),
        "raw-math": raw_math(root),
        "pipe-table": pipe_tables(root),
        "echoed-value": echoed_values(root),
        "missing-figure": missing_figures(root, page),
        "broken-link": broken_links(root, page),
        "duplicate-api": duplicate_api_entries(root),
    }
    return [Finding(name, kind, detail) for kind, details in checks.items() for detail in details]


def pages(build: Path) -> list[Path]:
    """The content pages of a build: its ``.html`` files outside Sphinx's own folders."""
    skip = {"_static", "_sources", "_modules", "_images", "_downloads"}
    return sorted(p for p in build.rglob("*.html")
                  if not skip.intersection(p.relative_to(build).parts) and p.name not in ("genindex.html", "search.html"))


def check_build(build: Path) -> list[Finding]:
    """Every finding of every page under ``build`` (the ``html`` folder of a build)."""
    _ids.cache_clear()
    return [f for page in pages(build) for f in check_page(page, build)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", type=Path, help="the html folder of a build, e.g. _build/quick/_build/html")
    args = parser.parse_args(argv)
    if not args.build.is_dir() or not pages(args.build):
        print(f"no built pages under {args.build}: build the book first (make book-quick)", file=sys.stderr)
        return 2
    findings = check_build(args.build)
    for finding in findings:
        print(finding)
    print(f"{len(findings)} finding(s) on {len(pages(args.build))} pages of {args.build}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
