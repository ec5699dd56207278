"""Same-outcome column swapping: a training-time guard against memorising records.

On a small cohort a diffusion model fits each training record's exact combination of values
closely enough for membership attacks to notice (docs/generators.md). Following TabCutMix
(Fang et al., 2024, "Understanding and mitigating memorization in diffusion models for tabular
data"), every training batch is augmented: each record is paired with another record of the
batch that has the same outcome, and each of its columns (except the outcome) is replaced by
the partner's value with probability ``share``. The network then learns records that mix two
patients, so no single record's combination is reinforced on every pass, while every column's
distribution within each outcome group, and so the outcome's relation to each column, is
kept. Dependencies between other columns are weakened (a pair of columns stays from one
record with probability ``share**2 + (1 - share)**2``), which is the price in fidelity.

The outcome is the schema's first ``target`` column among the learned ones: its code for a
categorical target, its decile for a numeric one (missing values a group of their own).
Without a target every record of the batch is a possible partner.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import ndtri

from synthgen.models.diffusion._encoding import TableEncoder

DECILES = ndtri(np.linspace(0.1, 0.9, 9))  # numeric targets are grouped by normal-score decile


class ColumnSwap:
    """Swaps column values between records of one outcome group, inside each batch.

    Args:
        encoder: the fitted encoder (which coordinates belong to which column).
        target: the outcome column's name, or None.
        share: probability that a column value is swapped.
    """

    def __init__(self, encoder: TableEncoder, target: str | None, share: float):
        self.share = float(share)
        columns = [s.name for s in encoder.numeric_] + [s.name for s in encoder.categorical_]
        self.target = target if target in columns else None
        swappable = [c for c in columns if c != self.target]
        index = {c: i for i, c in enumerate(swappable)}
        self.n_columns = len(swappable)
        # for each coordinate, the swappable column it belongs to (-1: never swapped)
        self.numeric_col = torch.tensor(
            [index.get(s.name, -1) for s in encoder.numeric_], dtype=torch.long
        )
        flags = [index.get(s.name, -1) for s in encoder.numeric_ if s.has_missing]
        self.code_col = torch.tensor(
            [index.get(s.name, -1) for s in encoder.categorical_] + flags, dtype=torch.long
        )
        self.encoder = encoder

    def groups(self, x_num: np.ndarray, observed: np.ndarray, x_cat: np.ndarray) -> np.ndarray:
        """The outcome group of every encoded record."""
        n = max(x_num.shape[0], x_cat.shape[0])
        if self.target is None:
            return np.zeros(n, dtype=np.int64)
        for k, spec in enumerate(self.encoder.categorical_):
            if spec.name == self.target:
                return x_cat[:, k].astype(np.int64)
        j = next(j for j, s in enumerate(self.encoder.numeric_) if s.name == self.target)
        decile = np.searchsorted(DECILES, x_num[:, j]).astype(np.int64)
        return np.where(observed[:, j], decile, len(DECILES) + 1)

    def __call__(
        self,
        x_num: torch.Tensor,
        observed: torch.Tensor,
        x_cat: torch.Tensor,
        groups: torch.Tensor,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The batch with column values swapped between same-group partners."""
        n = groups.shape[0]
        if self.share <= 0 or self.n_columns == 0 or n < 2:
            return x_num, observed, x_cat
        device = x_num.device
        partner = same_group_partners(groups.cpu(), generator).to(device)
        chosen = torch.rand(n, self.n_columns, generator=generator) < self.share
        chosen = torch.cat([chosen, torch.zeros(n, 1, dtype=torch.bool)], dim=1).to(device)
        # column -1 (the outcome, never swapped) reads the all-False last slot
        num_mask = chosen[:, self.numeric_col.to(device)]
        cat_mask = chosen[:, self.code_col.to(device)]
        x_num = torch.where(num_mask, x_num[partner], x_num)
        observed = torch.where(num_mask, observed[partner], observed)
        x_cat = torch.where(cat_mask, x_cat[partner], x_cat)
        return x_num, observed, x_cat


def same_group_partners(groups: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """For each record, another record of its group (itself when it is alone in it).

    Records are put in a random order within their groups, and each is paired with the next
    one in that order (the last of a group with the first), so every record is also some
    record's partner."""
    n = groups.shape[0]
    # groups are integers, so a random offset below 1 orders records within groups only
    order = torch.argsort(groups.double() + 0.5 * torch.rand(n, generator=generator).double())
    g = groups[order]
    start = torch.ones(n, dtype=torch.bool)
    start[1:] = g[1:] != g[:-1]
    first_pos = torch.cummax(torch.where(start, torch.arange(n), 0), 0).values
    nxt = torch.roll(torch.arange(n), -1)
    same_next = torch.zeros(n, dtype=torch.bool)
    same_next[:-1] = g[1:] == g[:-1]
    pos = torch.where(same_next, nxt, first_pos)
    partner = torch.empty(n, dtype=torch.long)
    partner[order] = order[pos]
    return partner
