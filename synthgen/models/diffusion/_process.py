"""The two forward processes, the training loss and the ancestral sampler.

Numerics follow a variance-preserving Gaussian diffusion with the cosine schedule of Nichol &
Dhariwal (2021): ``x_t = sqrt(a(t)) x_0 + sqrt(1 - a(t)) eps``. Categories follow an absorbing
("masked") diffusion: each code is replaced by its mask token with probability ``t``. One noise
level ``t`` drives both, so the network sees a consistent corruption of the whole record, and
sampling runs both backwards together from pure noise and all-masked codes (as in TabDiff).

The outcome (the schema's categorical target) can be singled out: in training it is also hidden
from a share of records, so the one network learns the record both with and without its
outcome; in sampling it is drawn first, from the network's own prediction with everything
masked, and the rest of the record is completed around it, optionally with classifier-free
guidance (Ho & Salimans, 2022) that strengthens the outcome's bearing on the other columns.
"""

from __future__ import annotations

import math

import torch

T_MIN = 1e-3
_S = 0.008


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Signal share of the numeric process at level ``t`` (cosine schedule, kept above 0)."""
    f = (
        torch.cos((t + _S) / (1 + _S) * math.pi / 2) ** 2
        / math.cos(_S / (1 + _S) * math.pi / 2) ** 2
    )
    return f.clamp(1e-5, 1.0)


def stop_level(noise: float) -> float:
    """The level ``t`` at which the numeric process holds Gaussian noise of standard deviation
    ``noise`` (``1 - alpha_bar(t) = noise**2``); 0 for no noise.

    Stopped there, the sampler returns ``sqrt(alpha_bar) x_0 + noise * eps``: a variance-
    preserving blur of the records the model would have finished. A column whose normal
    scores are standard normal stays so, and each record's values are spread over a
    neighbourhood, at the cost of weakening correlations by the factor ``1 - noise**2``.
    """
    if noise <= 0:
        return 0.0
    c = math.sqrt(1.0 - noise**2) * math.cos(_S / (1 + _S) * math.pi / 2)
    return (1 + _S) * math.acos(c) * 2 / math.pi - _S


def mask_codes(x_cat: torch.Tensor, mask: torch.Tensor, cardinalities: list[int]) -> torch.Tensor:
    """Replace masked entries by each column's mask token (its cardinality)."""
    tokens = torch.tensor(cardinalities, dtype=x_cat.dtype, device=x_cat.device)
    return torch.where(mask, tokens.expand_as(x_cat), x_cat)


def split_logits(logits: torch.Tensor, cardinalities: list[int]) -> list[torch.Tensor]:
    return list(torch.split(logits, cardinalities, dim=1))


def code_cross_entropy(
    logits: torch.Tensor, codes: torch.Tensor, cardinalities: list[int]
) -> torch.Tensor:
    """Cross-entropy of every code column at once, ``[n, k]``: the logits of all columns side
    by side, each column's log-sum-exp taken over its own levels (a few tensor operations
    instead of one softmax per column)."""
    n, device = logits.shape[0], logits.device
    cards = torch.tensor(cardinalities, device=device)
    column = torch.repeat_interleave(torch.arange(len(cardinalities), device=device), cards)
    index = column.expand(n, -1)
    with torch.no_grad():  # any per-column constant keeps the log-sum-exp exact
        top = torch.full((n, len(cardinalities)), -torch.inf, device=device)
        top = top.scatter_reduce(1, index, logits, reduce="amax")
    total = torch.zeros(n, len(cardinalities), device=device, dtype=logits.dtype)
    total = total.scatter_add(1, index, torch.exp(logits - top.gather(1, index)))
    start = torch.cumsum(cards, 0) - cards
    picked = logits.gather(1, codes + start[None, :])
    return top + torch.log(total) - picked


def diffusion_loss(
    model: torch.nn.Module,
    x_num: torch.Tensor,
    observed: torch.Tensor,
    x_cat: torch.Tensor,
    generator: torch.Generator,
    reduction: str = "mean",
    hide: tuple[int, float] | None = None,
) -> torch.Tensor:
    """Noise-prediction MSE on observed numerics plus cross-entropy on masked codes.

    With ``reduction="none"`` the loss of each record is returned (DP-SGD clips per record).
    ``hide=(k, share)`` also masks code column ``k`` (the outcome) in a ``share`` of the
    records, whatever the noise level, so that the network learns to complete records whose
    outcome is unknown (the unconditional half of classifier-free guidance).
    """
    n = max(x_num.shape[0], x_cat.shape[0])
    device = x_num.device
    t = T_MIN + (1 - T_MIN) * torch.rand(n, generator=generator).to(device)
    eps = torch.randn(x_num.shape, generator=generator).to(device)
    a = alpha_bar(t)[:, None]
    noisy = a.sqrt() * x_num + (1 - a).sqrt() * eps
    cards = getattr(model, "_module", model).cardinalities  # also under Opacus' wrapper
    masked = torch.rand(x_cat.shape, generator=generator).to(device) < t[:, None]
    if hide is not None:
        k, share = hide
        masked[:, k] |= torch.rand(n, generator=generator).to(device) < share
    corrupted = mask_codes(x_cat, masked, cards)
    eps_hat, logits = model(noisy, corrupted, t)
    per_row = torch.zeros(n, device=device)
    if x_num.shape[1]:
        sq = ((eps_hat - eps) ** 2) * observed
        per_row = per_row + sq.sum(1) / observed.sum(1).clamp(min=1)
    if cards:
        per_row = per_row + (code_cross_entropy(logits, x_cat, cards) * masked).sum(1) / len(cards)
    return per_row if reduction == "none" else per_row.mean()


@torch.no_grad()
def sample_coordinates(
    model: torch.nn.Module,
    n: int,
    *,
    steps: int,
    generator: torch.Generator,
    device: torch.device,
    fixed: dict[int, int] | None = None,
    outcome: int | None = None,
    guidance: float = 0.0,
    stop: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run both processes backwards from noise; all noise is drawn on the CPU generator so
    the same seed gives the same rows on any device.

    ``fixed`` maps a code column to a level that every row keeps from the start: the network
    completes the rest of the record around it (inpainting, exact for the masked process).
    ``outcome`` is a code column drawn before anything else (unless fixed), from the
    network's prediction for an all-masked, all-noise record; ``guidance`` > 0 then steers the
    rest of the record by ``(1 + w) f(x | outcome) - w f(x)`` (classifier-free guidance).
    ``stop`` > 0 ends the numeric process at that noise level (see :func:`stop_level`) and
    draws every code still masked at the last step.
    """
    cards = model.cardinalities
    x = torch.randn(n, model.n_numeric, generator=generator).to(device)
    codes = torch.tensor(cards, dtype=torch.long).repeat(n, 1).to(device)
    still = torch.ones(n, len(cards), dtype=torch.bool, device=device)
    for k, level in (fixed or {}).items():
        codes[:, k] = level
        still[:, k] = False
    if outcome is not None and still[0, outcome]:
        _, logits = model(x, codes, torch.ones(n, device=device))
        codes[:, outcome] = _draw(split_logits(logits, cards)[outcome], generator, device)
        still[:, outcome] = False
    guided = outcome is not None and guidance > 0
    grid = torch.linspace(1.0, stop, steps + 1)
    for i in range(steps):
        t, s = float(grid[i]), float(grid[i + 1])
        tt = torch.full((n,), t, device=device)
        eps_hat, logits = model(x, codes, tt)
        if guided:
            blind = codes.clone()
            blind[:, outcome] = cards[outcome]
            eps_u, logits_u = model(x, blind, tt)
            eps_hat = eps_hat + guidance * (eps_hat - eps_u)
            logits = logits + guidance * (logits - logits_u)
        if model.n_numeric:
            a_t = alpha_bar(torch.tensor(t)).item()
            a_s = alpha_bar(torch.tensor(s)).item() if s > 0 else 1.0
            x0 = ((x - math.sqrt(1 - a_t) * eps_hat) / math.sqrt(a_t)).clamp(-6.0, 6.0)
            if s <= 0:
                x = x0
            else:
                ratio = a_t / a_s
                c0 = math.sqrt(a_s) * (1 - ratio) / (1 - a_t)
                ct = math.sqrt(ratio) * (1 - a_s) / (1 - a_t)
                var = (1 - a_s) / (1 - a_t) * (1 - ratio)
                noise = torch.randn(x.shape, generator=generator).to(device)
                x = c0 * x0 + ct * x + math.sqrt(max(var, 0.0)) * noise
        if cards:
            unmask = (torch.rand(still.shape, generator=generator).to(device) < (t - s) / t) & still
            if i == steps - 1:
                unmask = still  # stop > 0 leaves some masked; none may stay
            for k, part in enumerate(split_logits(logits, cards)):
                draw = _draw(part, generator, device)
                codes[:, k] = torch.where(unmask[:, k], draw, codes[:, k])
            still = still & ~unmask
    return x, codes


def _draw(logits: torch.Tensor, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """One level per row from ``softmax(logits)`` (inverse CDF with CPU-drawn uniforms)."""
    probs = torch.softmax(logits.float(), dim=1)
    u = torch.rand(logits.shape[0], 1, generator=generator).to(device)
    return (probs.cumsum(1) < u).sum(1).clamp(max=logits.shape[1] - 1)
