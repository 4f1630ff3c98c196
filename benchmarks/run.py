"""Run every benchmark of the performance appendix and print its table.

Each benchmark runs in its own process (one after the other, so they never compete for the
cores), writes ``results/<name>.json`` and ``results/<name>.freeze.txt``, and the book's
appendix renders those files. Peers come from ``benchmarks/requirements.txt``;
``make bench`` creates an environment with them and runs this script.

Usage::

    python benchmarks/run.py [--only burgers_dp burgers_pinn burgers_pinn_precise safe_operator cahn_hilliard chapters]
                             [--threads 2] [--chapter-profiles quick default]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

try:
    from benchmarks import common, summary
except ImportError:  # run as a script from benchmarks/
    import common  # type: ignore[no-redef]
    import summary  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("burgers_dp", "burgers_pinn", "burgers_pinn_precise", "safe_operator", "cahn_hilliard", "chapters")


def commands(only: list[str], threads: int, profiles: list[str]) -> list[list[str]]:
    """The command line of each benchmark to run."""
    out = []
    for name in only:
        if name not in BENCHMARKS:
            raise ValueError(f"unknown benchmark {name!r}; choose from {BENCHMARKS}")
        script = str(HERE / f"{name}.py")
        if name == "chapters":
            out += [[sys.executable, script, "--profile", p] for p in profiles]
        else:
            out.append([sys.executable, script, "--threads", str(threads)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=list(BENCHMARKS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chapter-profiles", nargs="*", default=["quick", "default"])
    args = parser.parse_args()
    failed = []
    for cmd in commands(args.only, args.threads, args.chapter_profiles):
        print("$", " ".join(Path(c).name if i < 2 else c for i, c in enumerate(cmd)), flush=True)
        if subprocess.run(cmd, check=False).returncode:
            failed.append(Path(cmd[1]).stem)
    print()
    print(summary.table(common.load_results()))
    if failed:
        print("failed:", ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
