"""The appendix table: each comparison's figures, ratio and target, from the results files."""

from __future__ import annotations

import math
from typing import Any


def _row(what: str, physdl: str, peer: str, ratio: float | None, target: float | None,
         note: str = "", met: bool | None = None) -> dict[str, Any]:
    if met is None:
        met = None if ratio is None or target is None else ratio >= target
    return {"comparison": what, "physdl": physdl, "peer": peer, "ratio": ratio, "target": target, "met": met,
            "note": note}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _s(seconds: float) -> str:
    return "never" if not math.isfinite(seconds) else f"{seconds:.3g} s"


def burgers_dp_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    sides = r["sides"]
    best = "physdl compiled" if "physdl compiled" in sides else "physdl eager"
    t = {k: v["seconds_per_update"] for k, v in sides.items()}
    digits = min(r["agreement_digits"].values()) if r["agreement_digits"] else math.inf
    compile_note = ", ".join(f"{k} {v['compile_seconds']:.1f} s" for k, v in sides.items() if v["compile_seconds"])
    return [
        _row("Differentiable Burgers, per update vs PhiFlow eager", f"{_ms(t[best])} ({best})",
             _ms(t["PhiFlow eager"]), t["PhiFlow eager"] / t[best], 30, f"loss curves agree to {digits:.1f} digits"),
        _row("Differentiable Burgers, per update vs PhiFlow jit", f"{_ms(t[best])} ({best})", _ms(t["PhiFlow jit"]),
             t["PhiFlow jit"] / t[best], 2, f"compile/trace once: {compile_note}"),
        _row("Differentiable Burgers, eager vs eager", _ms(t["physdl eager"]), _ms(t["PhiFlow eager"]),
             t["PhiFlow eager"] / t["physdl eager"], None),
    ]


def burgers_pinn_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    s = r["summary"]
    ident, recipe, dde = s["physdl identical"], s["physdl recipe"], s["DeepXDE"]
    seeds = r["settings"]["seeds"]
    per_it = (dde["seconds_per_1000_adam"]["median"], ident["seconds_per_1000_adam"]["median"])
    t_dde, t_rec = dde["time_to_0.01"]["median"], recipe["time_to_0.01"]["median"]
    fe = dde["final_error"]
    return [
        _row("Burgers PINN, s per 1000 Adam iterations (identical setup)", _s(per_it[1]), _s(per_it[0]),
             per_it[0] / per_it[1], 1.5),
        _row("Burgers PINN, median time to rel. L2 < 1e-2", _s(t_rec) + f" ({recipe['time_to_0.01']['reached']}/{seeds})",
             _s(t_dde) + f" ({dde['time_to_0.01']['reached']}/{seeds})", t_dde / t_rec if t_rec > 0 else None, 2,
             f"DeepXDE final rel. L2 {fe['min']:.1e} to {fe['max']:.1e}"),
        _row("Burgers PINN, seeds of the recipe below 5e-3", f"{recipe['time_to_0.005']['reached']} of {seeds}",
             f"{dde['time_to_0.005']['reached']} of {seeds}", None, None,
             f"recipe final rel. L2 {recipe['final_error']['min']:.1e} to {recipe['final_error']['max']:.1e}"),
    ]


def first_time_below(trace: list[tuple[float, float]], level: float) -> float:
    """Seconds of the first ``(seconds, error)`` reading at or below ``level`` (inf: never)."""
    return next((t for t, e in trace if e <= level), math.inf)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])


def precise_times(r: dict[str, Any], level: float) -> list[float]:
    """Per-seed training seconds of the float64 recipe to ``level`` on both grids (inf: never)."""
    return [math.inf if t is None else t for t in r["summary"]["time_to"][f"{level:g}"]]


def burgers_pinn_precise_rows(r: dict[str, Any], peer: dict[str, Any] | None) -> list[dict[str, Any]]:
    s, settings = r["summary"], r["settings"]
    seeds = settings["seeds"]
    rows = []
    for level in (1e-2, 1e-3, 1e-4):
        mine = precise_times(r, level)
        ours = f"{_s(_median(mine))} ({sum(map(math.isfinite, mine))}/{seeds})"
        if peer is None:
            rows.append(_row(f"Burgers PINN float64 SSBroyden, median time to rel. L2 < {level:g}", ours,
                             "not measured", None, None))
            continue
        theirs = [first_time_below(run["trace"], level) for run in peer["runs"]["DeepXDE"]]
        t_peer, t_ours = _median(theirs), _median(mine)
        ratio = t_peer / t_ours if math.isfinite(t_peer) and math.isfinite(t_ours) and t_ours > 0 else None
        rows.append(_row(f"Burgers PINN float64 SSBroyden, median time to rel. L2 < {level:g}", ours,
                         f"{_s(t_peer)} ({sum(map(math.isfinite, theirs))}/{len(theirs)}, DeepXDE)", ratio, None))
    worst = max(s["errors"][g]["max"] for g in s["errors"])
    rows.append(_row(f"Burgers PINN float64 SSBroyden, seeds at rel. L2 <= {settings['target']:g} on both grids "
                     f"within {settings['target_seconds'] / 60:.0f} min", f"{s['seeds_meeting_target']} of {seeds}",
                     "target: 4 of 5", None, None,
                     f"errors up to {worst:.1e}, runs up to {s['wall_seconds']['max']:.0f} s",
                     met=s["seeds_meeting_target"] >= 0.8 * seeds))
    return rows


def safe_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    sec = r["operator"]["seconds"]
    rows = [
        _row("SAFE operator vs torch.roll sub-stepping", _ms(sec["spectral"]), _ms(sec["stencil (roll)"]),
             r["ratios"]["roll / spectral"], 10),
        _row("SAFE operator vs conv2d sub-stepping (the paper's form)", _ms(sec["spectral"]),
             _ms(sec["stencil (conv2d)"]), r["ratios"]["conv2d / spectral"], 100),
    ]
    if "zero_shot" in r:
        z = r["zero_shot"]
        est = z["estimated_seconds"]["stencil (conv2d)"]
        rows.append(_row("SAFE zero-shot, one simulation", _s(z["seconds"]), f"about {_s(est)} (conv2d, estimated)",
                         est / z["seconds"], None))
    return rows


def cahn_hilliard_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in r["rows"]:
        where = f"Cahn-Hilliard {row['dims']}D {row['grid']}^{row['dims']}, s per time unit"
        if row["dims"] == 3:
            rows.append(_row(where + " vs explicit", f"{row['crnn']:.3g} s (CRNN)", f"{row['explicit']:.3g} s",
                             row["explicit / crnn"], None))
            rows.append(_row(where + f" vs semi-implicit dt={row['dt_semi']:g}", f"{row['crnn']:.3g} s (CRNN)",
                             f"{row['semi-implicit']:.3g} s", row["semi-implicit / crnn"], None))
        else:
            rows.append(_row(where + " (no 2D network)", f"{row['semi-implicit']:.3g} s (semi-implicit)",
                             f"{row['explicit']:.3g} s (explicit)", row["explicit / semi-implicit"], None))
    return rows


BUILDERS = {"burgers_dp": burgers_dp_rows, "burgers_pinn": burgers_pinn_rows, "safe_operator": safe_rows,
            "cahn_hilliard": cahn_hilliard_rows}


def rows(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every comparison row of the results present."""
    out = []
    for name, build in BUILDERS.items():
        if name in results:
            out += build(results[name])
    if "burgers_pinn_precise" in results:  # beside DeepXDE's runs, when they were measured
        out += burgers_pinn_precise_rows(results["burgers_pinn_precise"], results.get("burgers_pinn"))
    return out


def chapter_table(results: dict[str, dict[str, Any]]) -> list[tuple[str, float | None, float | None]]:
    """``(notebook, quick minutes, default minutes)`` for every chapter measured."""
    if "chapters" not in results:
        return []
    times: dict[str, dict[str, float]] = {}
    for r in results["chapters"]["rows"]:
        times.setdefault(r["notebook"], {})[r["profile"]] = r["seconds"] / 60 if r["ok"] else math.nan
    return [(nb, t.get("quick"), t.get("default")) for nb, t in sorted(times.items())]


def table(results: dict[str, dict[str, Any]]) -> str:
    """The appendix table as Markdown."""
    lines = ["| comparison | physdl | peer / reference | ratio | target | met |", "|---|---|---|---|---|---|"]
    for r in rows(results):
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.3g}x"
        target = "" if r["target"] is None else f">= {r['target']:g}x"
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        note = f" ({r['note']})" if r["note"] else ""
        lines.append(f"| {r['comparison']}{note} | {r['physdl']} | {r['peer']} | {ratio} | {target} | {met} |")
    chapters = chapter_table(results)
    if chapters:
        lines += ["", "| chapter | quick (min) | default (min) |", "|---|---|---|"]
        for nb, q, d in chapters:
            lines.append(f"| {nb} | {'' if q is None else f'{q:.1f}'} | {'' if d is None else f'{d:.1f}'} |")
    return "\n".join(lines)
