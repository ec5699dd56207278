"""Same-outcome column swapping: a training-time guard against memorising records.

On a small cohort a diffusion model fits each training record's exact combination of values
closely enough for membership attacks to notice (docs/generators.md). Following TabCutMix
(Fang et al., 2024, "Understanding and mitigating memorization in diffusion models for tabular
data"), every training batch is augmented: each of a record's columns (except the outcome) is
replaced, with probability ``share``, by that column's value in another record of the batch
with the same outcome. By default one partner gives all of a record's swapped columns, as in
TabCutMix, so the network learns records that mix two patients and a pair of other columns
stays from one record with probability ``share**2 + (1 - share)**2``. With ``each``, every
column draws its own partner: a record mixes up to as many patients as it has columns, a pair
of columns stays from one record with probability about ``(1 - share)**2``, and at
``share=1`` the batch is the outcome-conditional product of its columns (each column
reshuffled within each outcome group, the records a naive Bayes model would draw). With
clusters (the generator's default, in the spirit of TabCutMixPlus from the same paper), the
columns are first grouped by :func:`dependent_clusters` and each cluster is swapped whole from
its own partner: at ``share=1`` the batch is the outcome-conditional product of the clusters,
which keeps every relation inside a cluster and gives up only the weak ones between clusters.
Either way no single record's combination is reinforced on every pass, while every column's
distribution within each outcome group, and so the outcome's relation to each column, is
kept; the weakened dependencies between other columns are the price in fidelity. With
``any_outcome``, that share of the partners is drawn from the whole batch instead: the
outcome's relation to each column is then weakened by that share too, which on a small
cohort lowers the membership risk further (docs/generators.md).

The outcome is the schema's first ``target`` column among the learned ones: its code for a
categorical target, its decile for a numeric one (missing values a group of their own).
Without a target every record of the batch is a possible partner. A numeric column's value,
observed flag and missing code move together.
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
        each: every swapped unit draws its own partner; False: one partner per record gives
            all of its swapped columns.
        any_outcome: probability that a partner is drawn from every record of the batch
            instead of those with the same outcome.

    A unit is one column, or, once ``cluster`` holds each column's cluster id (from
    :func:`dependent_clusters`), one cluster: its columns are swapped together or not at all.
    """

    def __init__(
        self,
        encoder: TableEncoder,
        target: str | None,
        share: float,
        each: bool = False,
        any_outcome: float = 0.0,
    ):
        self.share = float(share)
        self.each = bool(each)
        self.any_outcome = float(any_outcome)
        columns = [s.name for s in encoder.numeric_] + [s.name for s in encoder.categorical_]
        self.target = target if target in columns else None
        swappable = [c for c in columns if c != self.target]
        self.columns = swappable
        index = {c: i for i, c in enumerate(swappable)}
        self.n_columns = len(swappable)
        # the unit each column is swapped with: itself, unless clusters of dependent columns
        # (:func:`dependent_clusters`) are set here
        self.cluster = torch.arange(self.n_columns)
        # for each coordinate, the swappable column it belongs to (-1: never swapped)
        self.numeric_col = torch.tensor(
            [index.get(s.name, -1) for s in encoder.numeric_], dtype=torch.long
        )
        flags = [index.get(s.name, -1) for s in encoder.numeric_ if s.has_missing]
        self.code_col = torch.tensor(
            [index.get(s.name, -1) for s in encoder.categorical_] + flags, dtype=torch.long
        )
        self.encoder = encoder

    def units(self) -> list[list[str]]:
        """The swappable columns, as the units they are swapped in (a cluster's columns
        together), in the order of their first column."""
        found: dict[int, list[str]] = {}
        for name, unit in zip(self.columns, self.cluster.tolist(), strict=True):
            found.setdefault(unit, []).append(name)
        return list(found.values())

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
        own = torch.arange(n)
        # one pairing per swapped unit, or one shared by all columns ([n, 1] broadcast)
        units = int(self.cluster.max()) + 1
        count = units if self.each else 1
        partners = same_group_partners(groups.cpu(), generator, count).T
        if self.any_outcome > 0:
            anyone = same_group_partners(torch.zeros(n, dtype=torch.long), generator, count).T
            use = torch.rand(n, count, generator=generator) < self.any_outcome
            partners = torch.where(use, anyone, partners)
        partners = partners[:, self.cluster] if self.each else partners.expand(-1, self.n_columns)
        chosen = (torch.rand(n, units, generator=generator) < self.share)[:, self.cluster]
        # source record of each (record, column); column -1 (the outcome) reads the last slot
        source = torch.where(chosen, partners, own[:, None])
        source = torch.cat([source, own[:, None]], dim=1).to(device)
        if x_num.shape[1]:
            rows = source[:, self.numeric_col.to(device)]
            x_num = torch.gather(x_num, 0, rows)
            observed = torch.gather(observed, 0, rows)
        if x_cat.shape[1]:
            x_cat = torch.gather(x_cat, 0, source[:, self.code_col.to(device)])
        return x_num, observed, x_cat


def same_group_partners(
    groups: torch.Tensor, generator: torch.Generator, count: int | None = None
) -> torch.Tensor:
    """For each record, another record of its group (itself when it is alone in it).

    Records are put in a random order within their groups, and each is paired with the one a
    random number of places further on in that order, cyclically within its group (a shift
    of 1 to the group's size less one, drawn per group), so every record is also some
    record's partner. With ``count``, ``count`` pairings at once, ``[count, n]``: one random
    order, an independent shift per pairing and group (one sort for all of them).
    """
    n = groups.shape[0]
    k = 1 if count is None else count
    # groups are integers, so a random offset below 1 orders records within groups only
    keys = groups.double() + 0.5 * torch.rand(n, generator=generator).double()
    order = torch.argsort(keys)
    g = groups[order]
    start = torch.ones(n, dtype=torch.bool)
    start[1:] = g[1:] != g[:-1]
    run = torch.cumsum(start, 0) - 1  # which group each sorted position belongs to
    first = torch.nonzero(start).flatten()  # each group's first position
    size = torch.diff(first, append=torch.tensor([n]))
    shift = 1 + (torch.rand(k, size.numel(), generator=generator) * (size - 1)).long()
    shift = torch.minimum(shift, (size - 1).clamp(min=1))  # float rounding at the top end
    offset = torch.arange(n) - first[run]
    to = first[run] + (offset + shift[:, run]) % size[run]
    partner = torch.empty(k, n, dtype=torch.long)
    partner[:, order] = order[to]
    return partner[0] if count is None else partner


def dependent_clusters(
    swap: ColumnSwap,
    x_num: np.ndarray,
    observed: np.ndarray,
    x_cat: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Clusters of mutually dependent swappable columns, as one cluster id per column.

    Two columns' dependence is the canonical correlation between their encodings (a numeric
    column's normal score and missing flag, a categorical column's one-hot levels), adjusted
    for the chance correlation its number of dimensions buys on this many records. Columns
    are joined by average linkage while the average dependence stays at or above
    ``threshold``, so swapping a whole cluster at once keeps its columns' relations.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    m = swap.n_columns
    if m < 2:
        return np.zeros(m, dtype=np.int64)
    n = max(x_num.shape[0], x_cat.shape[0])
    blocks = []
    for name in swap.columns:
        block = _column_block(swap.encoder, name, x_num, observed, x_cat)
        block = block - block.mean(axis=0)
        u, sv, _ = np.linalg.svd(block, full_matrices=False)
        blocks.append(u[:, sv > 1e-8 * max(sv.max(initial=0.0), 1e-300)])
    dep = np.zeros((m, m))
    for i in range(m):
        for j in range(i + 1, m):
            a, b = blocks[i], blocks[j]
            if not a.shape[1] or not b.shape[1]:
                continue
            r2 = np.linalg.svd(a.T @ b, compute_uv=False)[0] ** 2
            k = a.shape[1] * b.shape[1]
            adjusted = 1 - (1 - r2) * (n - 1) / max(n - k - 1, 1)
            dep[i, j] = dep[j, i] = np.sqrt(min(max(adjusted, 0.0), 1.0))
    tree = linkage(squareform(1.0 - dep, checks=False), method="average")
    return fcluster(tree, t=1.0 - threshold, criterion="distance").astype(np.int64) - 1


def _column_block(
    encoder: TableEncoder, name: str, x_num: np.ndarray, observed: np.ndarray, x_cat: np.ndarray
) -> np.ndarray:
    """A column's encoding as a float matrix with one row per record."""
    numeric = [s.name for s in encoder.numeric_]
    if name in numeric:
        j = numeric.index(name)
        seen = observed[:, j].astype(np.float64)
        parts = [np.where(seen > 0, x_num[:, j], 0.0)]
        if encoder.numeric_[j].has_missing:
            parts.append(seen)
        return np.column_stack(parts)
    k = [s.name for s in encoder.categorical_].index(name)
    codes = x_cat[:, k]
    return (codes[:, None] == np.unique(codes)[None, :]).astype(np.float64)
