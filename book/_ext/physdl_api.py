"""Sphinx extension of the book's API page: each field of a class documented once, readably.

physdl's dataclasses document their fields in the class docstring (a Google-style
``Attributes:`` section, which napoleon turns into the class's "Variables" list). autodoc
also gives every annotated field an entry of its own, with no text: each field would show
twice. And an entry that documents several fields together (``steps, lr: the schedule``)
is not napoleon's syntax, which garbles it. So:

- before napoleon, an ``Args:`` or ``Attributes:`` entry naming several fields becomes one
  entry per field, each with the shared text;
- after napoleon, the fields in a class's "Variables" list are remembered, and autodoc skips
  their own, empty attribute entries.

Written for the book because neither autodoc nor napoleon has an option for either (autodoc's
``undoc-members`` does not apply: an annotated field counts as documented).
"""

from __future__ import annotations

import re
from typing import Any

SECTION = re.compile(r"^(\s*)(Args|Arguments|Attributes|Parameters|Keyword Args|Other Parameters)\s*:\s*$")
GROUPED = re.compile(r"^(\s+)([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)+)\s*:\s*(.*)$")
IVAR = re.compile(r"^:ivar\s+(?:[^:]*\s)?([A-Za-z_]\w*)\s*:")


def split_grouped_entries(lines: list[str]) -> list[str]:
    """The docstring ``lines`` with every ``a, b, c: text`` entry of an argument or attribute
    section written as one entry per name (continuation lines repeated with each)."""
    out: list[str] = []
    i, section_indent = 0, None
    while i < len(lines):
        line = lines[i]
        header = SECTION.match(line)
        if header:
            section_indent = len(header.group(1))
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        if line.strip() and section_indent is not None and indent <= section_indent:
            section_indent = None  # left the section
        grouped = GROUPED.match(line) if section_indent is not None else None
        if grouped is None:
            out.append(line)
            i += 1
            continue
        lead, names, text = grouped.group(1), [n.strip() for n in grouped.group(2).split(",")], grouped.group(3)
        block = [lines[j] for j in range(i + 1, len(lines))]
        more = 0
        for follow in block:
            if follow.strip() and len(follow) - len(follow.lstrip()) <= len(lead):
                break
            more += 1
        while more and not block[more - 1].strip():
            more -= 1
        for name in names:
            out.append(f"{lead}{name}: {text}")
            out.extend(block[:more])
        i += 1 + more
    return out


def setup(app: Any) -> dict[str, Any]:
    fields: dict[str, set[str]] = {}
    current: list[str] = [""]

    def before_napoleon(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
        lines[:] = split_grouped_entries(lines)

    def after_napoleon(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
        if what == "class":
            current[0] = name
            fields[name] = {m.group(1) for line in lines if (m := IVAR.match(line))}

    def skip_listed_fields(app: Any, what: str, name: str, obj: Any, skip: bool, options: Any) -> bool | None:
        if what == "class" and name in fields.get(current[0], ()) and not callable(obj):
            return True
        return None

    app.setup_extension("sphinx.ext.napoleon")
    app.connect("autodoc-process-docstring", before_napoleon, priority=100)
    app.connect("autodoc-process-docstring", after_napoleon, priority=900)
    app.connect("autodoc-skip-member", skip_listed_fields)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
