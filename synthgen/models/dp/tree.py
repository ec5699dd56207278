"""MST's measure-select-measure-estimate steps on integer-coded data, and tree sampling.

McKenna, Miklau & Sheldon (2021), "Winning the NIST Contest: A scalable and general approach
to differentially private synthetic data". With ``m`` columns and a zCDP budget ``ρ``:

1. measure every 1-way marginal with Gaussian noise (``ρ/3``); cells whose noisy count is
   below ``3σ`` are merged into one cell per column (Private-PGM's domain compression);
2. choose a spanning tree over the columns, one edge at a time as in Kruskal's algorithm,
   by the exponential mechanism (``ρ/3`` over ``m-1`` rounds) scoring each pair by the L1
   distance between its true 2-way marginal and the product of the noisy 1-way ones;
3. measure the 2-way marginals of the tree's edges with Gaussian noise (``ρ/3``);
4. estimate a consistent tree model from the noisy measurements only: node marginals
   combine each column's 1-way measurement with the margins of its edges' tables by inverse
   variance and are projected onto the simplex; each edge table is projected onto the simplex
   and fitted to its two node marginals by iterative proportional fitting. (Private-PGM fits
   a graphical model by mirror descent; on a tree this closed-form post-processing is
   consistent by construction.)

Sampling draws the root column from its marginal and every other column from its
conditional on its parent, vectorised with cumulative sums and ``searchsorted``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthgen.models.dp.accounting import Budget, exponential_epsilon

IPF_ITERS = 50
MERGE_SIGMAS = 3.0


def project_simplex(v: np.ndarray, total: float) -> np.ndarray:
    """The Euclidean projection of ``v`` onto ``{x >= 0, sum(x) = total}``."""
    v = np.asarray(v, dtype=float)
    if total <= 0 or v.size == 0:
        return np.zeros_like(v)
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - total
    idx = np.arange(1, v.size + 1)
    r = np.flatnonzero(u - css / idx > 0)[-1]
    return np.maximum(v - css[r] / (r + 1), 0.0)


def ipf(table: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Scale a non-negative table until its margins match ``rows`` and ``cols``."""
    t = table + 1e-9 * max(rows.sum(), 1.0) / table.size  # lets empty rows take mass
    for _ in range(IPF_ITERS):
        t *= (rows / np.maximum(t.sum(axis=1), 1e-300))[:, None]
        t *= (cols / np.maximum(t.sum(axis=0), 1e-300))[None, :]
    return t


@dataclass
class Compression:
    """One column's cells after merging the noise-level ones into a final shared cell."""

    to_compressed: np.ndarray  # original code -> compressed code
    size: int

    def members(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Original codes sorted by compressed code, their offsets and counts."""
        order = np.argsort(self.to_compressed, kind="stable")
        counts = np.bincount(self.to_compressed, minlength=self.size)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        return order, starts, counts


def compress(y: np.ndarray, sigma: float) -> tuple[Compression, np.ndarray, np.ndarray]:
    """Merge cells whose noisy count is below ``3σ``; the measurement re-expressed on the rest.

    Returns the compression, the compressed measurement and each cell's noise variance.
    """
    keep = y >= MERGE_SIGMAS * sigma
    var = np.full(y.size, sigma**2)
    if keep.all():
        return Compression(np.arange(y.size), y.size), y.copy(), var
    n_keep = int(keep.sum())
    mapping = np.full(y.size, n_keep)
    mapping[keep] = np.arange(n_keep)
    merged = int((~keep).sum())
    y2 = np.append(y[keep], y[~keep].sum())
    var2 = np.append(var[keep], merged * sigma**2)
    return Compression(mapping, n_keep + 1), y2, var2


def pair_counts(a: np.ndarray, b: np.ndarray, da: int, db: int) -> np.ndarray:
    return np.bincount(a * db + b, minlength=da * db).reshape(da, db).astype(float)


@dataclass
class TreeModel:
    """A fitted tree: root marginal and one conditional table per edge, on compressed codes."""

    compressions: list[Compression]
    root: int
    edges: list[tuple[int, int]]  # (parent, child) in sampling order
    root_marginal: np.ndarray
    conditionals: list[np.ndarray]  # P(child | parent), rows = parent codes

    # --------------------------------------------------------------- sample
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` rows of original codes, one column per model column."""
        m = len(self.compressions)
        comp = np.zeros((n, m), dtype=np.int64)
        comp[:, self.root] = _draw(self.root_marginal, rng.random(n))
        for (parent, child), cond in zip(self.edges, self.conditionals, strict=True):
            comp[:, child] = _draw_conditional(cond, comp[:, parent], rng.random(n))
        out = np.empty_like(comp)
        for j, c in enumerate(self.compressions):
            order, starts, counts = c.members()
            pick = np.floor(rng.random(n) * counts[comp[:, j]]).astype(np.int64)
            out[:, j] = order[starts[comp[:, j]] + pick]
        return out

    # ----------------------------------------------------------- plain data
    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        meta = {"root": self.root, "edges": [list(e) for e in self.edges]}
        arrays = {"root_marginal": self.root_marginal}
        for j, c in enumerate(self.compressions):
            arrays[f"compress_{j}"] = c.to_compressed.astype(np.int64)
        for i, cond in enumerate(self.conditionals):
            arrays[f"conditional_{i}"] = cond
        return meta, arrays

    @classmethod
    def from_arrays(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], m: int) -> TreeModel:
        comps = []
        for j in range(m):
            mapping = np.asarray(arrays[f"compress_{j}"], dtype=np.int64)
            comps.append(Compression(mapping, int(mapping.max()) + 1))
        edges = [(int(p), int(c)) for p, c in meta["edges"]]
        conds = [np.asarray(arrays[f"conditional_{i}"], dtype=float) for i in range(len(edges))]
        return cls(comps, int(meta["root"]), edges, np.asarray(arrays["root_marginal"]), conds)


def _draw(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.minimum(np.searchsorted(cum, u, side="right"), p.size - 1)


def _draw_conditional(cond: np.ndarray, parent: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Child codes given parent codes: one flat searchsorted over row-offset cumsums."""
    rows, k = cond.shape
    cum = np.cumsum(cond, axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(rows)[:, None]).ravel()
    idx = np.searchsorted(flat, parent + u, side="right") - parent * k
    return np.clip(idx, 0, k - 1)


def fit_tree(
    codes: np.ndarray,
    sizes: list[int],
    *,
    budget: Budget,
    rho: float,
    rng: np.random.Generator,
    names: list[str] | None = None,
) -> TreeModel:
    """Run MST on integer codes (column ``j`` in ``0..sizes[j]-1``), charging ``budget``."""
    n, m = codes.shape
    names = names or [str(j) for j in range(m)]
    rho1 = rho if m == 1 else rho / 3.0
    sigma1 = math.sqrt(m / (2.0 * rho1))
    budget.spend(f"1-way marginals of {m} columns (Gaussian, sigma={sigma1:.4g})", rho=rho1)
    comps, y1, v1 = [], [], []
    for j in range(m):
        y = np.bincount(codes[:, j], minlength=sizes[j]) + rng.normal(0.0, sigma1, sizes[j])
        c, yc, vc = compress(y, sigma1)
        comps.append(c)
        y1.append(yc)
        v1.append(vc)
    cc = np.column_stack([c.to_compressed[codes[:, j]] for j, c in enumerate(comps)])
    dims = [c.size for c in comps]
    # total from the 1-way measurements (each total has variance d_j σ²)
    totals = [(y.sum(), v.sum()) for y, v in zip(y1, v1, strict=True)]
    if m == 1:
        n_hat = max(_inverse_variance(totals), 1.0)
        z = project_simplex(y1[0], n_hat)
        marg = z / z.sum() if z.sum() > 0 else np.full(dims[0], 1.0 / dims[0])
        return TreeModel(comps, 0, [], marg, [])

    # ------------------------------------------------------------- select
    n_hat1 = max(_inverse_variance(totals), 1.0)
    probs = [_normalise(project_simplex(y, n_hat1)) for y in y1]
    pairs = [(a, b) for a in range(m) for b in range(a + 1, m)]
    scores = np.array(
        [
            np.abs(
                pair_counts(cc[:, a], cc[:, b], dims[a], dims[b])
                - n_hat1 * np.outer(probs[a], probs[b])
            ).sum()
            for a, b in pairs
        ]
    )
    rho2 = rho / 3.0
    eps_round = exponential_epsilon(rho=rho2 / (m - 1))
    parent = list(range(m))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    chosen: list[tuple[int, int]] = []
    for _ in range(m - 1):
        open_ = np.array([find(a) != find(b) for a, b in pairs])
        gumbel = rng.gumbel(size=len(pairs))
        # exponential mechanism, sensitivity 1: an L1 error moves by at most 1 per record
        noisy = np.where(open_, 0.5 * eps_round * scores + gumbel, -np.inf)
        a, b = pairs[int(np.argmax(noisy))]
        parent[find(a)] = find(b)
        chosen.append((a, b))
    budget.spend(
        f"tree selection: {m - 1} exponential-mechanism rounds (epsilon={eps_round:.4g} each)",
        rho=rho2,
    )

    # ------------------------------------------------------------ measure
    rho3 = rho / 3.0
    sigma2 = math.sqrt((m - 1) / (2.0 * rho3))
    y2 = {}
    for a, b in chosen:
        x = pair_counts(cc[:, a], cc[:, b], dims[a], dims[b])
        y2[(a, b)] = x + rng.normal(0.0, sigma2, x.shape)
    budget.spend(f"2-way marginals of {m - 1} tree edges (Gaussian, sigma={sigma2:.4g})", rho=rho3)

    # ----------------------------------------------------------- estimate
    totals += [(t.sum(), t.size * sigma2**2) for t in y2.values()]
    n_hat = max(_inverse_variance(totals), 1.0)
    num = [y / v for y, v in zip(y1, v1, strict=True)]
    den = [1.0 / v for v in v1]
    for (a, b), t in y2.items():
        num[a] += t.sum(axis=1) / (dims[b] * sigma2**2)
        den[a] += 1.0 / (dims[b] * sigma2**2)
        num[b] += t.sum(axis=0) / (dims[a] * sigma2**2)
        den[b] += 1.0 / (dims[a] * sigma2**2)
    margs = [_normalise(project_simplex(nu / de, n_hat)) for nu, de in zip(num, den, strict=True)]
    tables = {
        e: ipf(project_simplex(t.ravel(), n_hat).reshape(t.shape), margs[e[0]], margs[e[1]])
        for e, t in y2.items()
    }

    # ------------------------------------------- orient the tree from the root
    root = 0
    adjacent: dict[int, list[tuple[int, int]]] = {j: [] for j in range(m)}
    for a, b in chosen:
        adjacent[a].append((a, b))
        adjacent[b].append((a, b))
    edges, conds, seen, queue = [], [], {root}, [root]
    while queue:
        node = queue.pop(0)
        for a, b in sorted(adjacent[node]):
            child = b if a == node else a
            if child in seen:
                continue
            table = tables[(a, b)] if a == node else tables[(a, b)].T
            rows = table.sum(axis=1, keepdims=True)
            fallback = np.broadcast_to(margs[child], table.shape)
            cond = np.where(rows > 0, table / np.where(rows > 0, rows, 1.0), fallback)
            edges.append((node, child))
            conds.append(cond)
            seen.add(child)
            queue.append(child)
    return TreeModel(comps, root, edges, margs[root], conds)


def _inverse_variance(values: list[tuple[float, float]]) -> float:
    weights = np.array([1.0 / v for _, v in values])
    return float(np.dot(weights, [x for x, _ in values]) / weights.sum())


def _normalise(z: np.ndarray) -> np.ndarray:
    s = z.sum()
    return z / s if s > 0 else np.full(z.size, 1.0 / z.size)
