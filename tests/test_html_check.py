"""The built-HTML check (book/check_html.py): each detector finds its defect in a small page
that has it, and stays silent on the same page done right."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("check_html", Path(__file__).parents[1] / "book" / "check_html.py")
check_html = sys.modules.setdefault("check_html", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(check_html)

PAGE = """<!DOCTYPE html><html><body>
<nav><p>{{glue:text}}`in the navigation is not checked`</p></nav>
<article class="bd-article" role="main"><section id="top"><h1>Chapter</h1>
{body}
</section></article></body></html>"""

OUTPUT = ('<div class="cell docutils container"><div class="cell_output docutils container">'
          '<div class="output {kind} highlight-myst-ansi notranslate"><div class="highlight"><pre><span></span>{text}\n'
          "</pre></div></div></div></div>")

API_CLASS = """<dl class="py class"><dt class="sig sig-object py" id="physdl.sizes.Run">class Run</dt>
<dd><p>A run.</p><dl class="field-list simple"><dt class="field-odd">Variables<span class="colon">:</span></dt>
<dd class="field-odd"><ul><li><p><strong>steps</strong> – optimiser steps.</p></li></ul></dd></dl>
{attribute}</dd></dl>"""
ATTRIBUTE = '<dl class="py attribute"><dt class="sig sig-object py" id="physdl.sizes.Run.steps">steps</dt><dd></dd></dl>'


def _site(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> Path:
    build = tmp_path / "html"
    (build / "book").mkdir(parents=True)
    (build / "book" / "page.html").write_text(PAGE.format(body=body))
    for name, text in (extra or {}).items():
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        (build / name).write_text(text)
    return build


def _kinds(build: Path) -> list[str]:
    return [f.kind for f in check_html.check_build(build)]


CASES = {
    "raw-role": ("<p>The error is {glue:text}`err` %, see {cite}`raissi2019`.</p>",
                 "<p>The error is <span>3.1</span> %.</p>"),
    "raw-math": ("<p>at a rate of $10^{-2}$ per step</p>",
                 '<p>at a rate of <span class="math notranslate nohighlight">\\(10^{-2}\\)</span>; costs in $ are not math</p>'),
    "pipe-table": ("<p>| shape | error |\n| --- | --- |\n| torus | 1 % |</p>",
                   "<table><tr><th>shape</th></tr><tr><td>torus</td></tr></table>"),
    "echoed-value": (OUTPUT.format(kind="text_plain", text="'0.7'"),
                     OUTPUT.format(kind="stream", text="0.7")),
    "missing-figure": ('<img src="../_images/gone.png"/>', '<img src="../_images/there.png"/>'),
    "broken-link": ('<a href="other.html#nowhere">x</a> <a href="missing.html">y</a>',
                    '<a href="other.html#here">x</a> <a href="#top">y</a> <a href="https://example.org/z">z</a>'),
    "duplicate-api": (API_CLASS.format(attribute=ATTRIBUTE), API_CLASS.format(attribute="")),
}
EXTRA = {"_images/there.png": "png", "book/other.html": '<html><body><p id="here">x</p></body></html>'}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_detector_finds_its_defect_and_passes_the_fixed_page(tmp_path: Path, kind: str) -> None:
    bad, good = CASES[kind]
    found = _kinds(_site(tmp_path / "bad", bad, EXTRA))
    assert kind in found and set(found) == {kind}, found
    assert _kinds(_site(tmp_path / "good", good, EXTRA)) == []


def test_echoed_values_cover_strings_numbers_and_object_reprs_not_printed_text(tmp_path: Path) -> None:
    for text in ("2.3657608835492283e-05", "'2026-11-24'", "None", "[&lt;matplotlib.lines.Line2D at 0x7f00&gt;]",
                 "Text(0.5, 1.0, 'title')"):
        assert "echoed-value" in _kinds(_site(tmp_path / str(abs(hash(text))), OUTPUT.format(kind="text_plain", text=text)))
    readable = OUTPUT.format(kind="text_plain", text="{'error': 0.1, 'steps': 3}")
    assert _kinds(_site(tmp_path / "dict", readable)) == []


def test_a_figure_shown_as_text_and_an_image_without_source_are_missing_figures(tmp_path: Path) -> None:
    body = OUTPUT.format(kind="text_plain", text="&lt;Figure size 640x480 with 1 Axes&gt;") + "<img/>"
    assert _kinds(_site(tmp_path, body)) == ["missing-figure", "missing-figure"]


def test_an_animation_frame_filled_by_its_script_is_not_missing(tmp_path: Path) -> None:
    animation = '<div class="animation"><img id="_anim_img1"/></div><script>var img = document.getElementById("_anim_img1");</script>'
    assert _kinds(_site(tmp_path / "animation", animation)) == []
    assert _kinds(_site(tmp_path / "orphan", '<div class="animation"><img id="_anim_img2"/></div>')) == ["missing-figure"]


def test_code_and_navigation_are_not_prose(tmp_path: Path) -> None:
    body = "<pre>viz.glue('x', 1)  # {glue:text}`x` costs $5 and $6</pre><p><code>| a | b |</code></p>"
    assert _kinds(_site(tmp_path, body)) == []


def test_main_fails_on_findings_and_on_a_missing_build(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert check_html.main([str(tmp_path / "nothing")]) == 2
    assert check_html.main([str(_site(tmp_path / "bad", CASES["raw-role"][0]))]) == 1
    assert "raw-role" in capsys.readouterr().out
    assert check_html.main([str(_site(tmp_path / "good", CASES["raw-role"][1]))]) == 0


def _load_api_extension():
    spec = importlib.util.spec_from_file_location("physdl_api", Path(__file__).parents[1] / "book" / "_ext" / "physdl_api.py")
    module = sys.modules.setdefault("physdl_api", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


def test_grouped_field_entries_become_one_entry_per_field() -> None:
    api = _load_api_extension()
    doc = ["A run.", "", "Attributes:", "    steps, lr: the schedule", "        of the optimiser.",
           "    seed: random seed.", "", "Text after: a, b: not an entry."]
    assert api.split_grouped_entries(doc) == [
        "A run.", "", "Attributes:", "    steps: the schedule", "        of the optimiser.",
        "    lr: the schedule", "        of the optimiser.", "    seed: random seed.", "", "Text after: a, b: not an entry."]
