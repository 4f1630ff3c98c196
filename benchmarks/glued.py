"""Execute chapters and print every value they glue into the prose, as JSON.

Used to compare a chapter's numbers before and after a change of the library: run it on both
versions (same profile, fresh data cache) and diff the two files.

Usage::

    python benchmarks/glued.py --profile default --only 03 04 --out glued.json [--notebooks DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PROFILES = ("quick", "default")


def glued_values(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """``name -> text/plain`` of every glued output of an executed notebook."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                data = output.get("data", {})
                values[name] = data.get("text/plain", next(iter(data.values()), ""))
    return values


def run(path: Path, profile: str, timeout: int = 3600) -> tuple[dict[str, str], float]:
    """Execute ``path`` in a fresh kernel and an empty data cache; its glued values and wall time (s)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / path.name
        shutil.copy(path, copy)
        os.environ.update(PHYSDL_PROGRESS="0", PHYSDL_CACHE=str(Path(work) / "cache"))
        os.environ.pop("PHYSDL_PROFILE", None)
        if profile == "quick":
            os.environ["PHYSDL_PROFILE"] = "quick"
        notebook = nbformat.read(copy, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": work}}).execute()
        return glued_values(notebook), time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--only", nargs="+", required=True, help="chapter numbers, e.g. 03 04")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS,
                        help="the folder of generated notebooks (default: this checkout's notebooks/)")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write (must not exist)")
    args = parser.parse_args()
    if args.out.exists():
        parser.error(f"{args.out} exists; choose another name or remove it")
    chapters = {p.name[:2]: p for p in sorted(args.notebooks.glob("[0-9][0-9]_*.ipynb"))}
    missing = [c for c in args.only if c not in chapters]
    if missing:
        parser.error(f"no chapter numbered {missing}; chapters: {sorted(chapters)}")
    results = {}
    for number in args.only:
        values, seconds = run(chapters[number], args.profile)
        results[chapters[number].stem] = {"seconds": round(seconds, 1), "values": values}
        print(f"{chapters[number].stem}: {len(values)} glued values, {seconds:.0f} s", flush=True)
    args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
