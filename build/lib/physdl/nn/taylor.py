"""Input derivatives of a tanh MLP by forward propagation (Taylor mode).

A PINN needs ``u``, a few first derivatives and one or two second derivatives of the network
with respect to its inputs, at thousands of points, at every training step. Reverse-mode
automatic differentiation gets them by differentiating the network twice (``create_graph``)
and then once more for the weights: three passes through a growing graph. For a dense
network with a smooth activation they can instead be carried forward, layer by layer, next
to the values. With ``z = a W^T + b`` and ``a = tanh(z)``::

    z_k  = a_k W^T                     (no bias),
    a_k  = s1 z_k,                      s1 = tanh'(z)  = 1 - a^2,
    a_kl = s1 z_kl + s2 z_k z_l,        s2 = tanh''(z) = -2 a s1,

and at the input ``z_k = W[:, k]``, ``z_kl = 0``. All the derivative streams of a layer go
through one matrix product. The parameter gradient then needs only one ordinary backward
pass. The results equal those of autograd to rounding.

Keys name derivatives by input index: ``()`` is the value, ``(k,)`` is ``du/dp_k``,
``(k, l)`` is ``d2u/dp_k dp_l``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

from physdl.nn.mlp import MLP

Key = tuple[int, ...]


def supports(net: nn.Module) -> bool:
    """Whether :func:`jet` can differentiate ``net``: an :class:`MLP` with tanh activations."""
    if not isinstance(net, MLP):
        return False
    return all(isinstance(m, (nn.Linear, nn.Tanh)) for m in net.net)


def _layers(net: MLP) -> list[nn.Linear]:
    return [m for m in net.net if isinstance(m, nn.Linear)]


def _closure(keys: Iterable[Key]) -> tuple[list[int], list[tuple[int, int]]]:
    """First-derivative indices and second-derivative pairs needed for ``keys``."""
    first: set[int] = set()
    second: set[tuple[int, int]] = set()
    for key in keys:
        if len(key) == 1:
            first.add(key[0])
        elif len(key) == 2:
            k, l = sorted(key)
            first.update((k, l))
            second.add((k, l))
        elif len(key) > 2:
            raise ValueError(f"derivatives up to second order only, got {key}")
    return sorted(first), sorted(second)


def jet(net: MLP, points: torch.Tensor, keys: Iterable[Key]) -> dict[Key, torch.Tensor]:
    """Values and the requested input derivatives of ``net`` at ``points``.

    Args:
        net: an :class:`MLP` with tanh activations (see :func:`supports`) and one output.
        points: ``(n, d)`` inputs.
        keys: derivatives wanted, e.g. ``[(0,), (1,), (0, 0)]`` for ``u_x, u_t, u_xx``.

    Returns:
        ``{key: (n, 1) tensor}`` for ``()`` and every requested key (second-derivative keys
        are stored sorted, ``(0, 1)`` for ``(1, 0)``). All stay in the autograd graph of the
        network's parameters.
    """
    if not supports(net):
        raise ValueError("jet needs an MLP whose activations are all tanh")
    if points.dim() != 2 or points.shape[1] != net.in_features:
        raise ValueError(f"points must be shaped (n, {net.in_features}), got {tuple(points.shape)}")
    first, second = _closure(keys)
    layers = _layers(net)
    n = points.shape[0]
    w0 = layers[0].weight
    z = points @ w0.T + layers[0].bias
    dz = {(k,): w0[:, k] for k in first}  # broadcast rows: the same for every point
    dz.update({kl: None for kl in second})  # zero at the input
    for layer in layers[1:]:
        a = torch.tanh(z)
        s1 = 1 - a * a
        s2 = -2 * a * s1
        da = {(k,): s1 * dz[(k,)] for k in first}
        for k, l in second:
            curv = s2 * dz[(k,)] * dz[(l,)]
            da[(k, l)] = curv if dz[(k, l)] is None else s1 * dz[(k, l)] + curv
        order = list(da)
        # One product for all streams; split (not slices) keeps the backward a single cat.
        parts = torch.cat([a, *(da[key] for key in order)]).matmul(layer.weight.T).split(n)
        z = parts[0] + layer.bias
        dz = dict(zip(order, parts[1:]))
    out: dict[Key, torch.Tensor] = {(): z}
    for key, value in dz.items():  # a network without hidden layers is affine
        out[key] = torch.zeros_like(z) if value is None else value.expand_as(z)
    return out


@torch.compiler.disable
def pointwise_jet(f: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor,
                  keys: Iterable[Key]) -> dict[Key, torch.Tensor]:
    """Values and input derivatives of a fixed point-wise function ``f``, as constants.

    ``f`` maps ``(n, d)`` points to ``(n, 1)`` values, each row from its own point only, and
    has no trainable parameters (a lift or an envelope in a hard-constrained ansatz). Its
    derivatives are taken by autograd outside any compiled graph and returned detached, in
    the layout of :func:`jet` (every first derivative the second ones need is included).
    """
    first, second = _closure(keys)
    with torch.enable_grad():
        p = points.detach().requires_grad_(True)
        value = f(p)
        if value.shape != (points.shape[0], 1):
            raise ValueError(f"a point-wise function must return ({points.shape[0]}, 1), got {tuple(value.shape)}")
        out: dict[Key, torch.Tensor] = {(): value.detach()}
        if not first:
            return out
        (grad,) = torch.autograd.grad(value.sum(), p, create_graph=bool(second), allow_unused=True)
        grad = torch.zeros_like(p) if grad is None else grad
        for k in first:
            out[(k,)] = grad[:, k:k + 1].detach()
        for k, l in second:
            g = grad[:, k].sum()
            (hess,) = torch.autograd.grad(g, p, retain_graph=True, allow_unused=True) if g.requires_grad else (None,)
            out[(k, l)] = torch.zeros_like(value) if hess is None else hess[:, l:l + 1].detach()
    return out


def product_jet(lift: dict[Key, torch.Tensor], envelope: dict[Key, torch.Tensor],
                net: dict[Key, torch.Tensor]) -> dict[Key, torch.Tensor]:
    """The jet of ``lift + envelope * net`` from the jets of its three parts (product rule).

    All three must hold the same keys, as :func:`jet` and :func:`pointwise_jet` return them.
    """
    g, b, n = lift, envelope, net
    out = {(): g[()] + b[()] * n[()]}
    for key in n:
        if len(key) == 1:
            out[key] = g[key] + b[key] * n[()] + b[()] * n[key]
        elif len(key) == 2:
            k, l = (key[0],), (key[1],)
            out[key] = g[key] + b[key] * n[()] + b[k] * n[l] + b[l] * n[k] + b[()] * n[key]
    return out
