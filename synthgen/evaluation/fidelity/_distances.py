"""Distances behind the marginal and pairwise fidelity figures (pure math, internal).

Two-sample KS and Wasserstein-1, total variation, bias-corrected Cramér's V and pairwise
complete Spearman matrices, with the array helpers that turn a column into numbers or shared
category codes. :mod:`synthgen.evaluation.fidelity.marginals` orchestrates them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.schema import coerce_column
from synthgen.errors import InputError

MAX_CATEGORIES = 50
"""Categories per column kept for Cramér's V (the most frequent in train); the rest pool."""


# -------------------------------------------------------------------------- pure math
def ks_wasserstein(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The two-sample KS statistic and the Wasserstein-1 distance of two samples.

    Both come from the two empirical CDFs evaluated at every pooled value (exact, as
    ``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance``).

    Args:
        a: first sample (no NaN), any order.
        b: second sample (no NaN), any order.

    Returns:
        ``(ks, wasserstein)``.
    """
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        raise InputError("both samples need at least one value")
    pooled = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    gap = np.abs(cdf_a - cdf_b)
    return float(gap.max()), float(np.sum(gap[:-1] * np.diff(pooled)))


def total_variation(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Total variation distance ``0.5 * sum |p - q|`` between two count vectors' shares."""
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    return float(0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def cramers_v(table: np.ndarray) -> float:
    """Bias-corrected Cramér's V of a contingency table (Bergsma 2013).

    Empty rows and columns are dropped first. ``phi2 = chi2 / n`` (no continuity
    correction) is corrected to ``max(0, phi2 - (k-1)(r-1)/(n-1))``, the dimensions to
    ``r - (r-1)^2/(n-1)`` and ``k - (k-1)^2/(n-1)``, and
    ``V = sqrt(phi2_corrected / min(k_corrected - 1, r_corrected - 1))``.

    Returns:
        V in [0, 1]; NaN when undefined (fewer than two categories on a side, n < 2).
    """
    t = np.asarray(table, dtype=np.float64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    n = t.sum()
    r, k = t.shape
    if r < 2 or k < 2 or n < 2:
        return float("nan")
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    chi2 = float(((t - expected) ** 2 / expected).sum())
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    r_c = r - (r - 1) ** 2 / (n - 1)
    k_c = k - (k - 1) ** 2 / (n - 1)
    denom = min(k_c - 1, r_c - 1)
    if not denom > 0:
        return float("nan")
    return float(np.sqrt(phi2 / denom))


def spearman_matrix(values: np.ndarray) -> np.ndarray:
    """Spearman correlations of the columns of ``values`` (NaN = missing), pairwise complete.

    Each column is ranked once over its observed values (average ranks for ties); each pair's
    correlation is the Pearson correlation of those ranks over the rows where both are
    observed, computed for all pairs at once with matrix products. Without missing values
    this is exactly Spearman's rho.

    Returns:
        A symmetric ``(p, p)`` matrix; NaN where a column is constant over the pair's rows
        or fewer than 3 rows are shared.
    """
    values = np.asarray(values, dtype=np.float64)
    p = values.shape[1]
    if values.shape[0] == 0 or p == 0:
        return np.full((p, p), np.nan)
    observed = ~np.isnan(values)
    ranks = pd.DataFrame(values).rank(method="average").to_numpy(dtype=np.float64)
    count = observed.sum(axis=0)
    # centre and scale each column's ranks to about [-0.5, 0.5] for numerical stability
    x = np.where(observed, ranks / np.maximum(count, 1) - 0.5, 0.0)
    m = observed.astype(np.float64)
    n = m.T @ m
    sx = x.T @ m  # sx[i, j]: sum of column i over rows where j is observed
    sxx = (x * x).T @ m
    sxy = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_x = sxx - sx * sx / n
        var_y = var_x.T
        corr = cov / np.sqrt(var_x * var_y)
    tiny = 1e-12 * np.maximum(n, 1)
    corr[(n < 3) | (var_x <= tiny) | (var_y <= tiny)] = np.nan
    return np.clip(corr, -1.0, 1.0)


# ---------------------------------------------------------------------- array helpers
def _nanmean(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else None


def _nanmax(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else None


def _number_arrays(
    column: str, spec, tables: dict[str, pd.DataFrame], problems: list[str]
) -> dict[str, np.ndarray] | None:
    """The column of each table as float64 (int64 ns for datetimes), NaN where missing."""
    out = {}
    for name, df in tables.items():
        values, problem = coerce_column(df[column], spec)
        if problem:
            problems.append(f"the {name} table: {problem}")
            continue
        if spec.kind == "datetime":
            raw = values.to_numpy(dtype="datetime64[ns]")
            arr = raw.view(np.int64).astype(np.float64)
            arr[np.isnat(raw)] = np.nan
        else:
            arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
        out[name] = arr
    return out if len(out) == len(tables) else None


def _label_codes(
    column: str, spec, tables: dict[str, pd.DataFrame], problems: list[str]
) -> tuple[dict[str, np.ndarray], int] | None:
    """Category codes shared across the tables (missing is the last code), and their count."""
    parts = []
    for name, df in tables.items():
        series = df[column]
        if spec.kind == "boolean":
            series, problem = coerce_column(series, spec)
            if problem:
                problems.append(f"the {name} table: {problem}")
                continue
        parts.append(series.astype(object))
    if len(parts) != len(tables):
        return None
    codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True), use_na_sentinel=True)
    n_codes = len(uniques) + 1
    codes = np.where(codes < 0, n_codes - 1, codes)
    bounds = np.cumsum([0] + [len(p) for p in parts])
    return {name: codes[bounds[i] : bounds[i + 1]] for i, name in enumerate(tables)}, n_codes


def _capped(codes: dict[str, np.ndarray], n_codes: int) -> tuple[dict[str, np.ndarray], int]:
    """Keep the :data:`MAX_CATEGORIES` most frequent train codes; pool the rest as 'other'."""
    if n_codes <= MAX_CATEGORIES:
        return codes, n_codes
    counts = np.bincount(codes["train"], minlength=n_codes)
    kept = np.argsort(-counts, kind="stable")[:MAX_CATEGORIES]
    lookup = np.full(n_codes, MAX_CATEGORIES, dtype=np.int64)
    lookup[kept] = np.arange(MAX_CATEGORIES)
    return {name: lookup[c] for name, c in codes.items()}, MAX_CATEGORIES + 1


def _cramers_matrix(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    p = len(codes)
    out = np.full((p, p), np.nan)
    for i in range(p):
        for j in range(i, p):
            flat = codes[i] * sizes[j] + codes[j]
            table = np.bincount(flat, minlength=sizes[i] * sizes[j]).reshape(sizes[i], sizes[j])
            out[i, j] = out[j, i] = cramers_v(table)
    return out
