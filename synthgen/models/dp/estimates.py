"""DP estimates of a column's domain: bounds by noisy histogram and exponential-mechanism
quantiles on public grids, categories by thresholded noisy counts.

Pure functions: each takes the values, a privacy parameter and a numpy Generator; the caller
(:func:`synthgen.models.dp.domain.build_domain`) charges the budget. See
:mod:`synthgen.models.dp.domain` for the whole scheme.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import category_text
from synthgen.models.dp.accounting import exponential_epsilon

#: the quantiles whose DP estimates become a column's bounds when none are declared
BOUND_QUANTILES = (0.01, 0.99)
#: symmetric-log step of the candidate grid for numeric bounds (about 0.5% apart)
SYMLOG_STEP = 0.005
SYMLOG_MAX = 1e9
INTEGER_GRID = 10_000
#: symmetric-log step of the coarse cells that first locate the bulk of a column
COARSE_STEP = 0.25
#: chance that the coarse step lets any empty cell through (family-wise)
RANGE_FWER = 0.01
DATE_GRID = ("1900-01-01", "2100-01-01")
DATE_STEP_DAYS = 1.0
DATE_COARSE_DAYS = 365.25
EPOCH = np.datetime64("1970-01-01T00:00:00", "ns")
NS_PER_DAY = 86_400 * 10**9


def symlog_grid() -> np.ndarray:
    """The public candidate grid for numeric bounds: ±1e9 on a symmetric-log scale, plus
    every whole number in ±10,000 (where scores and counts have heavy atoms)."""
    top = math.log1p(SYMLOG_MAX)
    t = np.arange(0.0, top + SYMLOG_STEP, SYMLOG_STEP)
    half = np.expm1(t)
    whole = np.arange(-INTEGER_GRID, INTEGER_GRID + 1, dtype=float)
    return np.unique(np.concatenate([-half[:0:-1], half, whole]))


def date_grid() -> np.ndarray:
    """The public candidate grid for date bounds, in days since 1970-01-01."""
    lo, hi = (to_days(np.datetime64(d, "ns")) for d in DATE_GRID)
    return np.arange(lo, hi + DATE_STEP_DAYS, DATE_STEP_DAYS)


def dp_quantile(
    values: np.ndarray,
    *,
    q: float,
    candidates: np.ndarray,
    epsilon: float,
    rng: np.random.Generator,
) -> float:
    """One candidate chosen by the exponential mechanism for the ``q``-quantile.

    The utility of candidate ``c`` is minus the distance from ``q n`` to the interval
    ``[#{x < c}, #{x <= c}]``; adding or removing a record moves each end by at most 1 and
    ``q n`` by ``q``, so the utility moves by at most 1 and the mechanism is ``ε``-DP (and
    ``ε²/8``-zCDP).
    """
    ordered = np.sort(values)
    below = np.searchsorted(ordered, candidates, side="left")
    upto = np.searchsorted(ordered, candidates, side="right")
    target = q * len(ordered)
    utility = -np.maximum(np.maximum(below - target, target - upto), 0.0)
    # Gumbel-max: argmax of ε u / 2 + Gumbel noise samples the exponential mechanism
    scores = 0.5 * epsilon * utility + rng.gumbel(size=len(candidates))
    return float(candidates[int(np.argmax(scores))])


def coarse_edges(kind: str) -> np.ndarray:
    """Public cell edges for locating the bulk: symmetric-log factors of ~1.28, or years."""
    if kind == "datetime":
        lo, hi = (to_days(np.datetime64(d, "ns")) for d in DATE_GRID)
        return np.arange(lo, hi + DATE_COARSE_DAYS, DATE_COARSE_DAYS)
    t = np.arange(0.0, math.log1p(SYMLOG_MAX) + COARSE_STEP, COARSE_STEP)
    half = np.expm1(t)
    return np.concatenate([-half[:0:-1], half])


def dp_range(
    values: np.ndarray, *, edges: np.ndarray, rho: float, rng: np.random.Generator
) -> tuple[float, float]:
    """The span of public cells whose Gaussian-noised count clears the threshold (ρ-zCDP).

    One record moves one count by 1 (L2 sensitivity 1). When no cell clears the threshold
    the cell with the largest noisy count is taken.
    """
    x = np.clip(values, edges[0], edges[-1])
    cells = len(edges) - 1
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, cells - 1)
    sigma = 1.0 / math.sqrt(2.0 * rho)
    noisy = np.bincount(idx, minlength=cells) + rng.normal(0.0, sigma, cells)
    hits = np.flatnonzero(noisy >= sigma * -NormalDist().inv_cdf(RANGE_FWER / cells))
    if hits.size == 0:
        hits = np.array([int(np.argmax(noisy))])
    return float(edges[hits[0]]), float(edges[hits[-1] + 1])


def dp_bounds(
    values: np.ndarray, *, kind: str, rho: float, rng: np.random.Generator
) -> tuple[float, float]:
    """DP bounds of ``values`` (days for datetimes): the 1st and 99th percentiles, ρ in all.

    A third of ``rho`` locates the bulk with :func:`dp_range`, a third goes to each quantile.
    """
    a, b = dp_range(values, edges=coarse_edges(kind), rho=rho / 3, rng=rng)
    grid = date_grid() if kind == "datetime" else symlog_grid()
    candidates = np.unique(np.concatenate([grid[(grid >= a) & (grid <= b)], [a, b]]))
    epsilon = exponential_epsilon(rho=rho / 3)
    lo, hi = (
        dp_quantile(values, q=q, candidates=candidates, epsilon=epsilon, rng=rng)
        for q in BOUND_QUANTILES
    )
    if lo > hi:
        lo, hi = hi, lo
    if lo == hi:  # widen to the neighbouring candidates (post-processing)
        i = int(np.searchsorted(candidates, lo))
        lo = float(candidates[max(i - 1, 0)])
        hi = float(candidates[min(i + 1, len(candidates) - 1)])
    return lo, hi


def category_threshold(*, sigma: float, delta: float) -> float:
    """The noisy count a category needs to be kept: ``1 + σ Φ⁻¹(1-δ)``."""
    return 1.0 + sigma * -NormalDist().inv_cdf(delta)


def dp_categories(
    keys: pd.Series,
    *,
    rho: float,
    delta: float,
    max_categories: int,
    rng: np.random.Generator,
) -> list[Any]:
    """The values of ``keys`` whose Gaussian-noised counts clear the δ threshold.

    ``(δ, ρ)``-approximately zCDP: counts of values both neighbours hold get noise of
    sensitivity 1 (ρ), and a value only one of them holds appears with probability ≤ δ.
    """
    counts = keys.value_counts(dropna=True, sort=False)
    if counts.empty:
        return []
    order = np.argsort([category_text(v) for v in counts.index], kind="stable")
    values = [counts.index[i] for i in order]
    sigma = 1.0 / math.sqrt(2.0 * rho)
    noisy = counts.to_numpy(dtype=float)[order] + rng.normal(0.0, sigma, len(order))
    keep = np.flatnonzero(noisy >= category_threshold(sigma=sigma, delta=delta))
    if len(keep) > max_categories:  # the largest noisy counts, ties by position
        keep = keep[np.argsort(-noisy[keep], kind="stable")[:max_categories]]
    return sorted((_plain(values[i]) for i in keep), key=category_text)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def to_days(values: Any) -> Any:
    """Datetimes as (fractional) days since 1970-01-01."""
    return (np.asarray(values, dtype="datetime64[ns]") - EPOCH).astype(np.int64) / NS_PER_DAY
