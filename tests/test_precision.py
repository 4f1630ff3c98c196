"""The CRNN's fast paths: bfloat16 autocast (the convolutions run in bfloat16, the phi update in
float32, and the mean of phi stays put over long rollouts) and training through torch.compile."""

from __future__ import annotations

import pytest
import torch

from physdl.crnn.model import CRNNArchitecture, ConservativeCRNN


def _random_crnn() -> ConservativeCRNN:
    torch.manual_seed(0)
    model = ConservativeCRNN(CRNNArchitecture(hidden_channels=4))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)
    return model


def test_under_bf16_the_convolutions_are_bfloat16_and_phi_is_float32():
    model = _random_crnn().set_autocast(torch.bfloat16)
    seen: dict[str, torch.dtype] = {}

    def record(name):
        def hook(module, inputs, out) -> None:  # returns None: the output is left as it is
            seen.setdefault(name, out.dtype)
        return hook

    model.recurrent.cells[0].input_gates.register_forward_hook(record("recurrent"))
    model.head[0].register_forward_hook(record("head"))
    phi = torch.rand(1, 1, 8, 8, 8)
    with torch.no_grad():
        nxt, hidden = model.advance(phi)
    assert seen == {"recurrent": torch.bfloat16, "head": torch.bfloat16}  # autocast did run
    assert nxt.dtype == torch.float32
    off = _random_crnn()
    with torch.no_grad():
        plain, _ = off.advance(phi)
    assert off.autocast_dtype is None and 0 < float((plain - nxt).abs().max()) < 0.1  # bf16 rounding, not another net
    with pytest.raises(ValueError, match="torch.bfloat16 or None"):
        model.set_autocast(torch.float16)


def test_under_bf16_the_mean_of_phi_drifts_at_most_1e_6_over_1000_steps():
    """The shipped model, 1000 steps (500 time units) from a Perlin state on a 12^3 grid."""
    from physdl.crnn.data import SequenceConfig, initial_states
    from physdl.crnn.training import load_weights, shipped_weights

    model, _ = load_weights(shipped_weights())
    model.set_autocast(torch.bfloat16)
    phi0 = initial_states(SequenceConfig(grid=12, dims=3), 1, torch.Generator().manual_seed(0)).float()
    frames, _ = model.rollout(phi0, 1000, save_every=100)
    drift = (frames.mean(dim=(2, 3, 4, 5)) - phi0.mean()).abs().max()
    assert frames.shape[1] == 11 and frames.dtype == torch.float32
    assert 0.2 < float(frames[:, -1].std()) < 0.6  # still two phases, not a blow-up or a flat field
    assert float(drift) <= 1e-6, float(drift)


def test_training_under_bf16_runs_and_refuses_other_precisions(tmp_path, monkeypatch):
    import math
    from dataclasses import replace

    from physdl.crnn.data import SequenceConfig
    from physdl.crnn.training import TrainingConfig, train

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    data = SequenceConfig(grid=8, dims=2, sequences=2, frames=5, max_start=1, tau=0.05, batch=2)
    cfg = TrainingConfig(data=(data,), validation=(replace(data, seed=1),), arch=CRNNArchitecture(hidden_channels=2, dims=2),
                         window=3, steps=2, validate_every=1, autocast="bfloat16")
    result = train(cfg, progress=False, device=torch.device("cpu"))
    assert result.model.autocast_dtype == torch.bfloat16 and all(math.isfinite(v) for v in result.history.loss)
    with pytest.raises(ValueError, match="autocast must be None or 'bfloat16'"):
        replace(cfg, autocast="float16")


def test_training_through_torch_compile_follows_the_eager_curve(tmp_path, monkeypatch):
    from dataclasses import replace

    from physdl.crnn.data import SequenceConfig
    from physdl.crnn.training import TrainingConfig, train

    monkeypatch.setenv("PHYSDL_CACHE", str(tmp_path))
    data = SequenceConfig(grid=8, dims=2, sequences=2, frames=5, max_start=1, tau=0.05, batch=2)
    cfg = TrainingConfig(data=(data,), validation=(replace(data, seed=1),), arch=CRNNArchitecture(hidden_channels=2, dims=2),
                         window=2, steps=2, validate_every=2, curriculum=0.0, input_noise=0.0)
    eager = train(cfg, progress=False, device=torch.device("cpu"))
    compiled = train(replace(cfg, compile=True), progress=False, device=torch.device("cpu"))
    torch.testing.assert_close(torch.tensor(compiled.history.loss), torch.tensor(eager.history.loss), rtol=1e-5, atol=0)
    assert not any(k.startswith("_orig_mod") for k in compiled.model.state_dict())  # checkpoints hold the plain model
    with pytest.raises(TypeError, match="compile must be True or False"):
        replace(cfg, compile="yes")
