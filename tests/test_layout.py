"""The library's layout rule (README, "Working on physdl") and its one-way dependencies."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PHYSDL = Path(__file__).resolve().parent.parent / "physdl"
#: a method is a package whose modules are named by concern
METHODS = ("surrogate", "pinn", "burgers_pinn", "diffphys", "safe", "neuradiff", "crnn")
CONCERNS = {"__init__", "config", "data", "model", "training", "evaluation"}
LAYERS = {"ops", "pde", "nn"}
SERVICES = {"cli", "config", "data", "deprecation", "devicecheck", "distributed", "io", "metrics", "optim", "progress",
            "sampling",
            "shards", "timing", "train",
            "viz", "viz3d"}
#: what each layer or service may import from physdl (besides itself)
ALLOWED = {
    "ops": set(),
    "nn": {"ops"},
    "pde": {"ops", "progress", "config", "io"},
    "cli": set(), "sampling": set(), "config": set(), "deprecation": set(), "devicecheck": set(), "io": set(), "timing": set(), "metrics": set(),
    "progress": {"config"},
    "data": {"io"},
    "distributed": {"ops"},  # ops.checks: argument checks
    "optim": {"ops"},
    "shards": {"io", "ops", "progress", "config"},
    "train": {"config", "deprecation", "distributed", "io", "ops", "progress"},  # ops.checks: the finiteness policy
    "viz": {"config", "metrics"}, "viz3d": {"viz", "config", "metrics"},
}


def deprecated_alias(path: Path) -> bool:
    """A thin module kept for one release after its contents moved (it names its new home)."""
    return "__deprecated__ =" in path.read_text()


def physdl_imports(path: Path) -> set[str]:
    """The first component after ``physdl.`` of every physdl import in ``path``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("physdl"):
            parts = node.module.split(".")
            found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("physdl.")}
    return found


def test_top_level_holds_only_layers_services_methods_and_sizes() -> None:
    modules = {p.stem for p in PHYSDL.glob("*.py")} | {p.name for p in PHYSDL.iterdir() if (p / "__init__.py").exists()}
    assert modules <= {"__init__", "sizes"} | LAYERS | SERVICES | set(METHODS), \
        f"not a layer, a service or a method package: {sorted(modules - {'__init__', 'sizes'} - LAYERS - SERVICES - set(METHODS))}"


@pytest.mark.parametrize("method", METHODS)
def test_method_modules_are_named_by_concern(method: str) -> None:
    package = PHYSDL / method
    assert (package / "__init__.py").exists(), f"physdl.{method} is not a package"
    names = {p.stem for p in package.glob("*.py") if not deprecated_alias(p)}
    assert names <= CONCERNS, f"physdl.{method} has modules outside {sorted(CONCERNS)}: {sorted(names - CONCERNS)}"


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_layers_and_services_import_only_below_them(unit: str) -> None:
    files = list((PHYSDL / unit).rglob("*.py")) if (PHYSDL / unit).is_dir() else [PHYSDL / f"{unit}.py"]
    for path in files:
        extra = physdl_imports(path) - ALLOWED[unit] - {unit}
        assert not extra, f"{path.relative_to(PHYSDL)} imports {sorted(extra)}, above {unit} in the layers"


def sizes_readers(path: Path) -> list[str]:
    """Functions of ``path`` that import :mod:`physdl.sizes` (``<module>`` for a top-level import)."""
    tree = ast.parse(path.read_text())
    readers = []

    def visit(node: ast.AST, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            name = child.name if function else owner
            if function and "deprecated" in (ast.get_docstring(child) or "").lower():
                name = "<deprecated>"
            if isinstance(child, ast.ImportFrom) and child.module in ("physdl", "physdl.sizes") and (
                    child.module == "physdl.sizes" or any(a.name == "sizes" for a in child.names)):
                readers.append(owner)
            visit(child, name)

    visit(tree, "<module>")
    return readers


@pytest.mark.parametrize("method", METHODS)
def test_methods_read_sizes_only_in_commands(method: str) -> None:
    """A method's code takes its settings as arguments; only a command line (``main``) or a
    deprecated wrapper looks sizes up."""
    for path in (PHYSDL / method).glob("*.py"):
        if deprecated_alias(path):
            continue
        for owner in sizes_readers(path):
            assert owner in ("main", "<deprecated>"), f"{path.relative_to(PHYSDL)}: {owner} reads physdl.sizes"


def test_the_rule_can_fail(tmp_path) -> None:
    stray = tmp_path / "helpers.py"
    stray.write_text("from physdl.train import fit\n")
    assert physdl_imports(stray) == {"train"} and stray.stem not in CONCERNS
    reader = tmp_path / "training.py"
    reader.write_text("from physdl import sizes\n\ndef fit():\n    from physdl.sizes import chapter\n\n"
                      "def main():\n    from physdl import sizes\n")
    assert sizes_readers(reader) == ["<module>", "fit", "main"]
