"""Figure and animation helpers return renderable objects and reject bad shapes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from physdl import viz  # noqa: E402


def test_fields_and_compare():
    fig = viz.fields({"a": torch.randn(8, 8), "b": torch.randn(8, 8), "c": torch.randn(8, 8)}, ncols=2)
    assert len([ax for ax in fig.axes if ax.get_title()]) == 3
    plt.close(fig)
    fig = viz.compare(torch.randn(3, 8, 8), torch.randn(3, 8, 8), ["p", "u", "v"])
    assert fig.axes[0].get_title() == "p: truth"
    plt.close(fig)
    with pytest.raises(ValueError, match="channel"):
        viz.compare(torch.randn(2, 8, 8), torch.randn(2, 8, 8), ["p", "u", "v"])


def test_loss_curves_accept_lists_and_pairs():
    fig = viz.loss_curves({"train": [1.0, 0.5, 0.1], "val": ([10, 20], [0.9, 0.2])})
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)


def test_animation_is_standalone_html():
    html = viz.animate(torch.rand(4, 6, 6), title="demo")
    assert "<script" in html and "<img" in html
    with pytest.raises(ValueError, match="time, nx, ny"):
        viz.animate(torch.rand(6, 6))


def test_speed_phrase_says_slower_for_a_loss():
    assert viz.speed_phrase(3.21) == "3.2 times faster"
    assert viz.speed_phrase(0.44) == "2.3 times slower"
    assert viz.speed_phrase(1.0) == "1 times faster"
    with pytest.raises(ValueError, match="positive and finite"):
        viz.speed_phrase(0.0)


def test_glue_keeps_the_value_and_returns_nothing_to_echo():
    assert viz.glue("x", 3.5) is None
    assert viz.glued("x").rows == (("x", "3.5"),)


def test_predicted_vs_true_checks_shapes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    viz.predicted_vs_true(ax, [-0.5, 0.4], [-0.45, 0.41], "t")
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="matching vectors"):
        viz.predicted_vs_true(ax, [0.1, 0.2], [0.1], "t")
    plt.close(fig)
