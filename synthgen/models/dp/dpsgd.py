"""DP-SGD for the diffusion generator, with its preprocessing inside the same budget.

The whole model is (ε, δ)-DP under add/remove of one record:

1. **Domain** (bounds, category sets) from the schema where declared, else estimated under
   zCDP by :func:`synthgen.models.dp.domain.build_domain`.
2. **Numeric shapes**: each numeric column's quantile transform is read from a Gaussian-noised
   histogram (:data:`HIST_BINS` bins inside its bounds); nothing else is read off the data.
   Every column gets a missing level, learned by the network like any value.
3. **Training**: Poisson-subsampled steps (each record joins a step with probability
   ``q = batch_size / n``), per-record gradients clipped to ``max_grad_norm`` (computed
   in closed form per layer, see :func:`clipped_gradient_sum`; checked against Opacus'
   per-sample gradients in the tests), Gaussian noise of ``noise_multiplier x
   max_grad_norm`` on their sum.

Steps 1 and 2 are ρ-zCDP, which is RDP of order α at ``ρα``; step 3's RDP comes from Opacus'
analysis of the sampled Gaussian mechanism. The two RDP curves add, and the total converts to
(ε, δ) with Opacus' conversion. The noise multiplier is the smallest that keeps the total at
the target ε (bisection). The δ reserved for thresholded category counts is added on top.

As in Opacus and most DP-SGD code, the sampling rate uses the number of records, which is
treated as public; noise comes from a seeded generator (reproducible, not a CSPRNG).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import ModelError, ParameterError
from synthgen.models.dp.accounting import DEFAULT_ORDERS, Budget, dpsgd_rdp, sigma_for_rho
from synthgen.models.dp.domain import NUMERIC_KINDS, ColumnDomain, build_domain, needs_estimate

#: share of the zCDP budget for the domain estimates and the numeric histograms
PREPROCESS_SHARE = 0.1
#: share of delta set aside for thresholded category counts (when any must be estimated)
CATEGORY_DELTA_SHARE = 0.5
HIST_BINS = 64
#: Opacus' default RDP orders stop at 63; small budgets need higher ones (for ρ-zCDP the best
#: order is about 1 + sqrt(log(1/δ)/ρ): near 280 at ε = 0.1, δ = 1e-6)
ORDERS = (*DEFAULT_ORDERS, 80, 100, 128, 160, 200, 256, 320, 400, 512, 768, 1024, 2048, 4096)
MICRO_BATCH = 4096  # records per forward pass within one DP-SGD step


# ------------------------------------------------------------------ accounting


def composed_epsilon(
    *, noise_multiplier: float, sample_rate: float, steps: int, rho: float, delta: float
) -> float:
    """ε of DP-SGD composed with a ``rho``-zCDP preprocessing step, at ``delta``."""
    from opacus.accountants.analysis.rdp import get_privacy_spent

    orders = list(ORDERS)
    rdp = dpsgd_rdp(
        noise_multiplier=noise_multiplier, sample_rate=sample_rate, steps=steps, orders=orders
    )
    total = [r + rho * a for r, a in zip(rdp, orders, strict=True)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eps, _ = get_privacy_spent(orders=orders, rdp=total, delta=delta)
    return float(eps)


def noise_for_epsilon(
    *, epsilon: float, delta: float, sample_rate: float, steps: int, rho: float
) -> float:
    """The smallest noise multiplier (within 1%) whose composition stays within ``epsilon``."""

    def eps_at(sigma: float) -> float:
        return composed_epsilon(
            noise_multiplier=sigma, sample_rate=sample_rate, steps=steps, rho=rho, delta=delta
        )

    lo, hi = 0.05, 1.0
    while eps_at(hi) > epsilon:
        hi *= 2
        if hi > 1e4:
            raise ParameterError(
                f"epsilon={epsilon} cannot be reached with {steps} steps at sample rate "
                f"{sample_rate:.3g}; raise epsilon or lower iterations"
            )
    while hi - lo > 0.01 * hi:
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if eps_at(mid) <= epsilon else (mid, hi)
    return hi


# --------------------------------------------------------------- the encoder


def private_encoder(
    data: pd.DataFrame,
    schema: Schema,
    kinds: dict[str, str],
    *,
    epsilon: float,
    delta: float,
    max_categories: int,
    rng: np.random.Generator,
):
    """A :class:`TableEncoder` built under DP, and the budget with its preprocessing spent."""
    from synthgen.models.diffusion._encoding import CategoricalCode, NumericCode, TableEncoder

    specs = [schema[c] for c in data.columns]
    estimate_categories = any(
        needs_estimate(s) and s.kind not in NUMERIC_KINDS and s.kind != "boolean" for s in specs
    )
    budget = Budget(
        epsilon=epsilon,
        delta=delta,
        delta_reserved=delta * CATEGORY_DELTA_SHARE if estimate_categories else 0.0,
    )
    pre = budget.rho * PREPROCESS_SHARE
    n_numeric = sum(1 for s in specs if s.kind in NUMERIC_KINDS)
    estimated = [s for s in specs if needs_estimate(s)]
    rho_domain = pre / 2 if estimated and n_numeric else (pre if estimated else 0.0)
    domains = build_domain(
        data,
        specs,
        budget=budget,
        rho=rho_domain,
        bins=HIST_BINS,
        max_categories=max_categories,
        rng=rng,
    )
    enc = TableEncoder(max_categories=max_categories)
    enc.columns_ = list(data.columns)
    enc.numeric_, enc.categorical_ = [], []
    rho_hist = (pre - rho_domain) / n_numeric if n_numeric else 0.0
    for dom in domains:
        if dom.numeric:
            quantiles = _noisy_quantiles(data[dom.name], dom, rho=rho_hist, rng=rng)
            budget.spend(f"histogram of '{dom.name}' (Gaussian)", rho=rho_hist)
            resolution = 1.0 if dom.kind == "integer" else 0.0
            enc.numeric_.append(NumericCode(dom.name, dom.kind, quantiles, True, resolution))
        else:
            enc.categorical_.append(
                CategoricalCode(dom.name, kinds[dom.name], [*_levels(dom), None])
            )
    return enc, budget


def _levels(dom: ColumnDomain) -> list[Any]:
    if dom.kind == "boolean":
        return [False, True]
    return list(dom.categories)


def _noisy_quantiles(
    col: pd.Series, dom: ColumnDomain, *, rho: float, rng: np.random.Generator
) -> np.ndarray:
    """A quantile grid read from a Gaussian-noised histogram inside the column's bounds."""
    codes = dom.encode(col)
    counts = np.bincount(codes[codes < dom.n_levels], minlength=dom.n_levels).astype(float)
    noisy = counts + rng.normal(0.0, sigma_for_rho(sensitivity=1.0, rho=rho), counts.size)
    mass = np.clip(noisy, 0.0, None) + 1e-3  # a little everywhere keeps the CDF invertible
    if dom.integer_levels:
        edges = np.arange(dom.n_levels + 1) - 0.5 + dom.lo
    else:
        edges = dom.lo + np.arange(dom.n_levels + 1) * dom.width
    cdf = np.concatenate([[0.0], np.cumsum(mass) / mass.sum()])
    levels = np.linspace(0.0, 1.0, 257)
    return np.interp(levels, cdf, edges)


# ---------------------------------------------------------------- training


class _Capture:
    """Records each parameterised layer's input and output during one forward pass."""

    KINDS = ("Linear", "LayerNorm", "Embedding")

    def __init__(self, net) -> None:
        self.layers = [m for m in net.modules() if type(m).__name__ in self.KINDS]
        covered = {id(p) for m in self.layers for p in m.parameters(recurse=False)}
        if any(id(p) not in covered for p in net.parameters()):
            raise ModelError("DP-SGD supports networks of Linear, LayerNorm and Embedding layers")
        self.seen: dict[int, tuple] = {}
        self.handles = [m.register_forward_hook(self._hook) for m in self.layers]

    def _hook(self, module, inputs, output) -> None:
        if id(module) in self.seen:
            raise ModelError("DP-SGD needs each layer used once per forward pass")
        self.seen[id(module)] = (inputs[0].detach(), output)

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def clipped_gradient_sum(net, losses, capture: _Capture, clip: float):
    """The sum over records of each record's gradient clipped to norm ``clip``.

    ``losses`` holds one loss per record of the forward pass ``capture`` watched. A record's
    gradient of a Linear weight is the outer product of its output gradient ``g`` and input
    ``a``, so its squared norm is ``|g|^2 |a|^2`` and the clipped sum is one matrix product
    (Goodfellow 2015); LayerNorm and Embedding have equally cheap forms. No per-record
    gradient is ever materialised. Returns ``(sums by parameter, per-record norms)``.
    """
    import torch
    import torch.nn.functional as F

    layers = [m for m in capture.layers if id(m) in capture.seen]
    outputs = [capture.seen[id(m)][1] for m in layers]
    grads = torch.autograd.grad(losses.sum(), outputs, allow_unused=True)
    n = losses.shape[0]
    sq = torch.zeros(n, dtype=torch.float64, device=losses.device)
    parts = []
    for m, g in zip(layers, grads, strict=True):
        a = capture.seen[id(m)][0]
        if g is None:
            g = torch.zeros_like(capture.seen[id(m)][1])
        kind = type(m).__name__
        if kind == "Linear":
            sq += (g.pow(2).sum(1) * a.pow(2).sum(1)).double()
            if m.bias is not None:
                sq += g.pow(2).sum(1).double()
        elif kind == "LayerNorm":
            x_hat = F.layer_norm(a, m.normalized_shape, eps=m.eps)
            if m.weight is not None:
                sq += (g * x_hat).pow(2).sum(1).double()
            if m.bias is not None:
                sq += g.pow(2).sum(1).double()
        else:  # Embedding: one looked-up row per record
            sq += g.pow(2).sum(1).double()
        parts.append((m, kind, a, g, x_hat if kind == "LayerNorm" else None))
    norms = sq.sqrt().float()
    factor = (clip / (norms + 1e-6)).clamp(max=1.0)
    sums = {}
    for m, kind, a, g, x_hat in parts:
        cg = g * factor[:, None]
        if kind == "Linear":
            sums[id(m.weight)] = cg.t() @ a
            if m.bias is not None:
                sums[id(m.bias)] = cg.sum(0)
        elif kind == "LayerNorm":
            if m.weight is not None:
                sums[id(m.weight)] = (cg * x_hat).sum(0)
            if m.bias is not None:
                sums[id(m.bias)] = cg.sum(0)
        else:
            rows = torch.zeros_like(m.weight)
            rows.index_add_(0, a.long(), cg)
            sums[id(m.weight)] = rows
    return [sums.get(id(p), torch.zeros_like(p)) for p in net.parameters()], norms


def train_private(
    gen,
    net,
    tensors,
    steps: int,
    generator,
    progress: Callable[[int, int], None] | None,
    budget: Budget,
):
    """Train ``net`` with DP-SGD within what ``budget`` has left; the EMA network and the
    JSON-able privacy budget."""
    import copy

    import torch

    from synthgen.models.diffusion._process import diffusion_loss
    from synthgen.models.diffusion.generator import PROGRESS_EVERY, lr_factor, update_ema

    n = max(tensors[0].shape[0], tensors[2].shape[0])
    batch = min(gen.batch_size, n)
    q = batch / n
    rho_pre = budget.rho_spent
    delta_conv = budget.delta - budget.delta_reserved
    sigma = noise_for_epsilon(
        epsilon=budget.epsilon, delta=delta_conv, sample_rate=q, steps=steps, rho=rho_pre
    )
    clip = float(gen.max_grad_norm)
    params = list(net.parameters())
    opt = torch.optim.AdamW(
        params, lr=gen.resolved_learning_rate(steps), weight_decay=gen.weight_decay
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: lr_factor(i, steps))
    ema = copy.deepcopy(net).requires_grad_(False)
    device = tensors[0].device
    capture = _Capture(net)
    net.train()
    try:
        for step in range(steps):
            chosen = torch.nonzero(torch.rand(n, generator=generator) < q).flatten().to(device)
            summed = [torch.zeros_like(p) for p in params]
            for start in range(0, chosen.numel(), MICRO_BATCH):
                idx = chosen[start : start + MICRO_BATCH]
                capture.seen.clear()
                losses = diffusion_loss(
                    net,
                    *(x[idx] for x in tensors),
                    generator=generator,
                    reduction="none",
                    hide=gen.hide,
                )
                if not torch.isfinite(losses).all():
                    raise ModelError(
                        f"{gen.name}: training diverged at step {step}; lower learning_rate"
                    )
                parts, _ = clipped_gradient_sum(net, losses, capture, clip)
                for acc, part in zip(summed, parts, strict=True):
                    acc += part
            for acc, p in zip(summed, params, strict=True):
                noise = torch.randn(acc.shape, generator=generator).to(device)
                p.grad = (acc + sigma * clip * noise) / (q * n)
            opt.step()
            sched.step()
            update_ema(ema, net, gen.ema_decay, step)
            if progress is not None and ((step + 1) % PROGRESS_EVERY == 0 or step + 1 == steps):
                progress(step + 1, steps)
    finally:
        capture.remove()
    epsilon = composed_epsilon(
        noise_multiplier=sigma, sample_rate=q, steps=steps, rho=rho_pre, delta=delta_conv
    )
    report = {
        "epsilon": float(budget.epsilon),
        "delta": float(budget.delta),
        "mechanism": "DP-SGD (Poisson-subsampled Gaussian) with zCDP preprocessing",
        "accountant": "RDP (Opacus analysis); zCDP preprocessing composed in RDP",
        "epsilon_spent": round(epsilon, 6),
        "noise_multiplier": round(sigma, 6),
        "sample_rate": q,
        "steps": int(steps),
        "max_grad_norm": clip,
        "delta_reserved": float(budget.delta_reserved),
        "neighbouring": "add/remove one record",
        "spent": [s.to_dict() for s in budget.spent],
    }
    if epsilon > budget.epsilon * (1 + 1e-6) or not math.isfinite(epsilon):
        raise ModelError(f"DP-SGD accounting overshot: {epsilon:.4g} > {budget.epsilon:.4g}")
    return ema, report
