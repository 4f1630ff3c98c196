"""Property-based fuzzing of physdl's public API (issue: nothing silent).

Each public name of the modules in :data:`MODULES` is either fuzzed here or listed in
:data:`EXEMPT` with a reason; :func:`test_every_public_name_is_fuzzed_or_exempt` fails on a
new name that is neither. The contract each example must keep is :func:`fuzzing.call`.

Examples per function: 100 (``FAST``), 20 for training entry points at tiny sizes (``SLOW``).
``HYPOTHESIS_PROFILE=long`` runs ten times as many (README, "Testing").
"""

from __future__ import annotations

import __future__
import importlib
import inspect
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
import fuzz_specs_methods  # noqa: E402,F401  (registers its specs into SPECS)
import fuzz_specs_models  # noqa: E402,F401
import fuzz_specs_neuradiff  # noqa: E402,F401
import fuzz_specs_optim  # noqa: E402,F401
from fuzz_specs import EXEMPT, SPECS  # noqa: E402
from fuzzing import Arg, field, number, positive, tensor  # noqa: E402

FAST, SLOW = 100, 20
SCALE = {"ci": 1, "long": 10}[os.environ.get("HYPOTHESIS_PROFILE", "ci")]

#: The modules whose every public name is fuzzed or exempt: the library's layers and all seven
#: methods' packages (specs in tests/fuzz_specs*.py).
MODULES = ("physdl.ops", "physdl.pde.heat", "physdl.pde.stepper", "physdl.pde.advection", "physdl.pde.allen_cahn",
           "physdl.pde.burgers", "physdl.pde.cahn_hilliard", "physdl.pde.flow", "physdl.pde.registry",
           "physdl.pde.voids", "physdl.pde", "physdl.sampling", "physdl.nn",
           "physdl.train", "physdl.optim", "physdl.distributed", "physdl.shards", "physdl.data", "physdl.surrogate", "physdl.diffphys", "physdl.crnn", "physdl.pinn", "physdl.burgers_pinn", "physdl.safe",
           "physdl.neuradiff")


def public_names() -> list[str]:
    """``module.name`` of every public, non-module name defined or re-exported by :data:`MODULES`."""
    found = []
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        listed = getattr(module, "__all__", None)
        for name in listed if listed is not None else dir(module):
            if name.startswith("_"):
                continue
            obj = getattr(module, name)
            if inspect.ismodule(obj) or isinstance(obj, __future__._Feature):
                continue  # submodules, and `from __future__ import annotations`
            if listed is None and getattr(obj, "__module__", module_name) not in (module_name, None) and (
                    callable(obj) or inspect.isclass(obj)):
                continue  # imported for internal use, not part of this module's API
            found.append(f"{module_name}.{name}")
    return found


def test_every_public_name_is_fuzzed_or_exempt() -> None:
    names = public_names()
    missing = [n for n in names if n not in SPECS and n not in EXEMPT]
    assert not missing, f"public names neither fuzzed nor exempt (add a spec to tests/fuzz_specs.py): {missing}"
    stale = [n for n in [*SPECS, *EXEMPT] if n not in names]
    assert not stale, f"fuzz specs or exemptions for names that are not public: {stale}"
    both = [n for n in SPECS if n in EXEMPT]
    assert not both, f"both fuzzed and exempt: {both}"
    assert all(isinstance(reason, str) and len(reason) > 15 for reason in EXEMPT.values())


def test_the_strategies_produce_the_hard_cases() -> None:
    """NaN, Inf, 0-d tensors, NumPy scalars and bad tensors are all drawn (shown by search)."""
    def is_nan(a: Arg) -> bool:
        v = a.value
        return not isinstance(v, str) and not (isinstance(v, torch.Tensor) and v.dim()) and math.isnan(float(v))

    find(positive(), is_nan)
    find(positive(), lambda a: not isinstance(a.value, str) and not (isinstance(a.value, torch.Tensor) and a.value.dim())
         and math.isinf(float(a.value)))
    find(positive(), lambda a: isinstance(a.value, torch.Tensor) and a.value.dim() == 0 and not a.bad)
    find(positive(), lambda a: isinstance(a.value, np.floating) and not a.bad)
    find(positive(), lambda a: a.bad and not isinstance(a.value, str) and not (isinstance(a.value, torch.Tensor) and a.value.dim())
         and float(a.value) <= 0)
    find(number(-1, 1), lambda a: isinstance(a.value, torch.Tensor) and a.value.dim() == 1)
    find(tensor((3, 4)), lambda a: a.bad and isinstance(a.value, torch.Tensor) and a.value.is_floating_point()
         and bool(torch.isnan(a.value).any()))
    find(tensor((3, 4)), lambda a: a.bad and isinstance(a.value, torch.Tensor) and a.value.is_floating_point()
         and bool(torch.isinf(a.value).any()))
    find(field(), lambda a: a.bad and isinstance(a.value, torch.Tensor) and a.value.shape[:1] == (0,))
    find(field(), lambda a: a.bad and isinstance(a.value, np.ndarray))


def test_the_contract_can_fail() -> None:
    """A silent NaN, an unnamed error, a raw error and an accepted bad argument each fail."""
    from fuzzing import bad, call, good

    with pytest.raises(AssertionError, match="NaN or Inf from good input"):
        call(lambda x: torch.tensor(math.nan), {"x": good(1.0)})
    with pytest.raises(AssertionError, match="does not name the bad argument"):
        call(lambda x: (_ for _ in ()).throw(ValueError("something is wrong")), {"x": bad(-1.0, "negative")})
    with pytest.raises(RuntimeError):
        call(lambda x: torch.zeros(2) + torch.zeros(3), {"x": good(1.0)})
    with pytest.raises(AssertionError, match="accepted bad input"):
        call(lambda x: x, {"x": bad(math.nan, "nan")})
    with pytest.raises(AssertionError, match="refused good input"):
        call(lambda x: (_ for _ in ()).throw(ValueError("x is fine but refused")), {"x": good(1.0)})


def _spec_test(name: str) -> Callable[[], None]:
    spec = SPECS[name]
    examples = (SLOW if spec.slow else FAST) * SCALE

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def run(data) -> None:
        torch.manual_seed(0)
        spec.run(data.draw)

    return run


@pytest.mark.parametrize("name", sorted(SPECS))
def test_fuzz(name: str) -> None:
    torch.set_num_threads(1)
    _spec_test(name)()
