"""Wall time of every chapter notebook, in the quick and default profiles.

Each notebook (the generated one readers open on Colab) is copied to a temporary folder and executed top to bottom with
``jupyter execute`` in a fresh kernel, with a fresh, empty data cache (so the time includes
generating the chapter's data, as on a reader's first run) and progress bars off. Results
are merged into ``results/chapters.json`` profile by profile, so the two profiles can be
measured in separate runs.

Usage::

    python benchmarks/chapters.py [--profile quick|default] [--only 01 02 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    from benchmarks import common
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PROFILES = ("quick", "default")


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The chapter notebooks readers run, ``notebooks/NN_*.ipynb`` (optionally only those
    numbered in ``only``).

    Raises:
        ValueError: a number of ``only`` names no chapter (nothing would run).
    """
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only is not None:
        unknown = sorted(set(only) - {p.name[:2] for p in found})
        if unknown or not only:
            raise ValueError(f"no chapter numbered {unknown or only}; chapters: {[p.name[:2] for p in found]}")
    return [p for p in found if only is None or p.name[:2] in only]


def execute(notebook: Path, profile: str, timeout: int = 3600, keep: Path | None = None) -> dict[str, Any]:
    """Run one notebook in a fresh kernel and cache; its wall time and whether it succeeded.

    ``keep``: a folder to copy the executed notebook into (named ``<stem>.<profile>.ipynb``).
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / notebook.name
        shutil.copy(notebook, copy)
        env = {**os.environ, "PHYSDL_PROGRESS": "0", "PHYSDL_CACHE": str(Path(work) / "cache")}
        env.pop("PHYSDL_PROFILE", None)
        if profile == "quick":
            env["PHYSDL_PROFILE"] = "quick"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "jupyter", "execute", "--inplace", copy.name], cwd=work,
                              env=env, capture_output=True, text=True, timeout=timeout, check=False)
        seconds = time.perf_counter() - t0
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(copy, keep / f"{notebook.stem}.{profile}.ipynb")
    return {"notebook": notebook.name, "profile": profile, "seconds": seconds, "ok": proc.returncode == 0,
            "error": proc.stderr[-2000:] if proc.returncode else ""}


def merge(previous: dict[str, Any] | None, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Previous chapter rows with ``runs`` replacing those of the same notebook and profile."""
    rows = {(r["notebook"], r["profile"]): r for r in (previous or {}).get("rows", [])}
    rows.update({(r["notebook"], r["profile"]): r for r in runs})
    return [rows[k] for k in sorted(rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--only", nargs="*", help="chapter numbers, e.g. 01 07")
    parser.add_argument("--keep", type=Path, help="folder to keep the executed notebooks in")
    parser.add_argument("--no-write", action="store_true", help="print only, write no results file")
    args = parser.parse_args()
    try:
        chosen = notebooks(args.only)
    except ValueError as err:
        parser.error(str(err))
    runs = []
    for nb in chosen:
        r = execute(nb, args.profile, keep=args.keep)
        print(f"  {r['notebook']:28s} {args.profile:8s} {r['seconds'] / 60:6.1f} min  {'ok' if r['ok'] else 'FAILED'}",
              flush=True)
        if not r["ok"]:
            print(r["error"])
        runs.append(r)
    if not args.no_write:
        path = common.RESULTS / "chapters.json"
        previous = json.loads(path.read_text()) if path.exists() else None
        rows = merge(previous, runs)
        print("wrote", common.write_result("chapters", {"rows": rows}, threads=os.cpu_count() or 1))
    if not all(r["ok"] for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
