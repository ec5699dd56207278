"""The denoiser: a residual MLP over noisy numerics, masked category codes and the noise level.

Every layer is one Opacus computes per-example gradients for (Linear, Embedding, LayerNorm),
so the same network trains under DP-SGD.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def time_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of the noise level ``t`` in [0, 1] (no parameters)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = 1000.0 * t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Block(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.linear = nn.Linear(width, width)
        self.act = nn.SiLU()
        self.drop = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.drop(self.act(self.linear(self.norm(h))))


class Denoiser(nn.Module):
    """Predicts the numeric noise and the logits of every masked code.

    Args:
        n_numeric: continuous coordinates.
        cardinalities: levels of each discrete coordinate (its mask token is one more).
        width: hidden width.
        depth: residual blocks.
        embed_dim: size of each category embedding.
        dropout: dropout inside the blocks.
    """

    def __init__(
        self,
        *,
        n_numeric: int,
        cardinalities: list[int],
        width: int,
        depth: int,
        embed_dim: int,
        dropout: float,
    ):
        super().__init__()
        self.n_numeric = n_numeric
        self.cardinalities = list(cardinalities)
        self.time_dim = 64
        self.embeddings = nn.ModuleList(nn.Embedding(k + 1, embed_dim) for k in cardinalities)
        in_dim = n_numeric + embed_dim * len(cardinalities)
        self.input = nn.Linear(in_dim, width)
        self.time = nn.Sequential(
            nn.Linear(self.time_dim, width), nn.SiLU(), nn.Linear(width, width)
        )
        self.blocks = nn.ModuleList(Block(width, dropout) for _ in range(depth))
        self.out_norm = nn.LayerNorm(width)
        self.out_num = nn.Linear(width, n_numeric) if n_numeric else None
        self.out_cat = nn.Linear(width, sum(cardinalities)) if cardinalities else None

    def forward(
        self, x_num: torch.Tensor, x_cat: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [x_num] if self.n_numeric else []
        parts += [emb(x_cat[:, k]) for k, emb in enumerate(self.embeddings)]
        h = self.input(torch.cat(parts, dim=1)) + self.time(time_features(t, self.time_dim))
        for block in self.blocks:
            h = block(h)
        h = torch.nn.functional.silu(self.out_norm(h))
        eps = self.out_num(h) if self.out_num is not None else x_num[:, :0]
        logits = self.out_cat(h) if self.out_cat is not None else h[:, :0]
        return eps, logits
