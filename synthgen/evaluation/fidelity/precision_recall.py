"""α-precision, β-recall and authenticity (Alaa et al., "How Faithful is your Synthetic Data?",
ICML 2022).

- **α-precision** asks whether synthetic records look like *typical* real records: for each
  level α, the share ``P_α`` of synthetic records inside the α-support of the real data (the
  smallest region holding a share α of the real records). A perfect sample has ``P_α = α``.
- **β-recall** asks whether the synthetic data covers the real data, the same way round:
  the share ``R_β`` of real records inside the β-support of the synthetic data. A generator
  that only makes one kind of patient (mode collapse) covers little: ``R_β`` falls below β.
- Each curve is summarised as ``Δ = 1 − 2 ∫₀¹ |P_α − α| dα`` (1 is perfect, 0 the worst).
- **Authenticity** is the share of synthetic records that are not just a copy of a real one:
  a synthetic record is authentic when its distance to its nearest real record is larger
  than that real record's distance to its own nearest other real record.

Space. Records are compared in the :class:`~synthgen.evaluation.encoding.MixedEncoder` space
fitted on the (subsampled) training table: robust-scaled numbers, one-hot categories where a
mismatch costs 1, missing-value indicators. Alaa et al. first learn a one-class embedding that
maps real data into a hypersphere, so that their supports are balls around its centre; without
such an embedding (ours is a fixed, interpretable encoding) a ball around the mean is a poor
support for data made of separate groups (sexes, regions), so the supports here are density
level sets measured by k-nearest-neighbour radii instead:

- the *radius* of a point against a set is its distance to its ``k``-th nearest member of the
  set (a record of the set itself leaves itself out); a small radius means a dense place;
- the α-support of the real data is every point whose radius against the real records is at
  most ``τ_α``, the α-quantile (inverted CDF: the smallest radius that at least a share α of
  the real records do not exceed) of the real records' own radii. It holds a share α of the
  real records and, since the k-NN radius is a decreasing function of the density estimate,
  it is the estimated smallest-volume region that does: the α-support of the paper;
- ``P_α`` is the share of synthetic records whose radius against the real records is at most
  ``τ_α``; ``R_β`` the share of real records whose radius against the synthetic records is at
  most the β-quantile of the synthetic records' own radii.

A fresh draw from the real distribution therefore scores ``P_α ≈ α`` and ``R_β ≈ β`` at any
sample size. The integral runs over :data:`LEVELS` by the trapezoid rule, with
``|P_0 − 0| = 0`` (the empty support holds nothing).

Baselines. The holdout (real records the generator never saw) takes the synthetic table's
place. Its Δ-precision and Δ-recall show how close to 1 a perfect sample of this size comes;
its authenticity is what a perfect sample scores (well below 1: a fresh record often lies
closer to some real record than that record's own nearest neighbour does).

Authenticity is measured against *every* training record (only the synthetic side is
subsampled): a copy of a training record left out of a subsample would otherwise pass as
authentic.

Intervals. Δ-precision and Δ-recall: a bootstrap that resamples the radii of both sides (the
neighbour searches are not redone, so it measures the sampling error of the shares and
quantiles given the radii). Because ``|P_α − α|`` folds noise upwards, the bootstrap values
of a near-perfect score all lie below the estimate; the interval is therefore the bootstrap's
2.5–97.5% spread around its median, placed around the estimate (clipped to [0, 1]).
Authenticity: Wilson interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import child_seeds, int_problem, round4, shared_columns
from synthgen.evaluation.privacy.scores import binomial_ci

LEVELS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 21))
"""The α (and β) levels at which the curves are reported: 0.05, 0.10, ..., 1.00."""

MIN_ROWS = 10
"""Fewest records per table for a figure (and more than ``k``); below it figures are None."""

N_BOOT = 200
"""Bootstrap replicates for the intervals of Δ-precision and Δ-recall."""


def _rl(values: tuple[float, ...] | None) -> list[float | None] | None:
    return None if values is None else [round4(v) for v in values]


# ------------------------------------------------------------------------------ math
def _level_ranks(n: int, levels: np.ndarray) -> np.ndarray:
    """How many of ``n`` sorted values a level must reach: ``ceil(level · n)``, at least 1."""
    return np.maximum(np.ceil(levels * n - 1e-9), 1).astype(np.int64)


def support_curve(*, reference_radii: Any, query_radii: Any, levels: Any = LEVELS) -> np.ndarray:
    """Share of query points inside each level set of the reference.

    The level set for ``level`` holds every point whose radius is at most the level's
    inverted-CDF quantile of ``reference_radii`` (the smallest reference radius that at least
    a share ``level`` of the reference radii do not exceed).

    Args:
        reference_radii: the reference records' own (leave-one-out) k-NN radii.
        query_radii: the query records' k-NN radii against the reference records.
        levels: levels in (0, 1].

    Returns:
        float64 array, one share per level.
    """
    ref = np.sort(np.asarray(reference_radii, np.float64).ravel())
    query = np.sort(np.asarray(query_radii, np.float64).ravel())
    lv = np.asarray(levels, np.float64)
    if ref.size == 0 or query.size == 0:
        raise InputError("support_curve needs at least one reference and one query radius")
    if ((lv <= 0) | (lv > 1)).any():
        raise InputError("levels must lie in (0, 1]")
    tau = ref[_level_ranks(ref.size, lv) - 1]
    return np.searchsorted(query, tau, side="right") / query.size


def integrated_score(*, levels: Any, curve: Any) -> float:
    """``1 − 2 ∫₀¹ |curve(a) − a| da`` by the trapezoid rule, with ``|curve(0) − 0| = 0``.

    Args:
        levels: increasing levels in (0, 1], the last one 1.
        curve: the curve's value at each level.

    Returns:
        The score; 1 when the curve is the diagonal.
    """
    lv = np.r_[0.0, np.asarray(levels, np.float64)]
    gap = np.r_[0.0, np.abs(np.asarray(curve, np.float64) - lv[1:])]
    return float(1.0 - 2.0 * np.sum((gap[1:] + gap[:-1]) / 2.0 * np.diff(lv)))


def authenticity_share(
    *, query_to_real: Any, nearest_real: Any, real_to_real: Any
) -> tuple[int, int]:
    """How many query records are authentic (Alaa et al.'s definition).

    Args:
        query_to_real: each query record's distance to its nearest real record.
        nearest_real: the index of that real record.
        real_to_real: each real record's distance to its nearest *other* real record.

    Returns:
        ``(authentic, total)``: query records strictly farther from their nearest real record
        than that record is from its own nearest neighbour, and the number of query records.
    """
    d = np.asarray(query_to_real, np.float64).ravel()
    own = np.asarray(real_to_real, np.float64).ravel()[np.asarray(nearest_real).ravel()]
    return int((d > own).sum()), int(d.size)


def _boot_ci(
    ref: np.ndarray, query: np.ndarray, levels: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile interval of the integrated score, resampling both radius vectors."""
    ref = np.sort(ref)
    query = np.sort(query)
    n_r, n_q = ref.size, query.size
    ranks = _level_ranks(n_r, levels)
    values = np.empty(N_BOOT)
    estimate = integrated_score(
        levels=levels, curve=support_curve(reference_radii=ref, query_radii=query, levels=levels)
    )
    for b in range(N_BOOT):
        # a resample is a count per (sorted) value; cumulative counts give its order statistics
        cum_r = np.bincount(rng.integers(0, n_r, n_r), minlength=n_r).cumsum()
        tau = ref[np.searchsorted(cum_r, ranks, side="left")]
        cum_q = np.bincount(rng.integers(0, n_q, n_q), minlength=n_q).cumsum()
        below = np.searchsorted(query, tau, side="right")
        inside = np.where(below > 0, cum_q[np.maximum(below - 1, 0)], 0)
        values[b] = integrated_score(levels=levels, curve=inside / n_q)
    # |P - a| folds sampling noise upwards, so near 1 the whole bootstrap distribution sits
    # below the estimate; its spread around its median, placed around the estimate, is kept
    low, mid, high = np.quantile(values, [0.025, 0.5, 0.975])
    return max(0.0, estimate - (mid - low)), min(1.0, estimate + (high - mid))


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class _Side:
    """Everything measured for one table (synthetic, or holdout as the baseline)."""

    precision_curve: tuple[float, ...]
    recall_curve: tuple[float, ...]
    delta_precision: float
    delta_precision_ci: tuple[float, float]
    delta_recall: float
    delta_recall_ci: tuple[float, float]
    authentic: int
    n: int

    @property
    def authenticity(self) -> float:
        return self.authentic / self.n


@dataclass(frozen=True)
class PrecisionRecallResult:
    """α-precision, β-recall and authenticity of the synthetic table, with holdout baselines.

    Attributes:
        levels: the α (= β) levels of the curves.
        synthetic: figures of the synthetic table against train; None when too small.
        baseline: the same figures for the holdout against train; None when too small.
        k: neighbours defining the k-NN radius.
        n_train: training records used for the curves (after subsampling).
        n_train_authenticity: training records authenticity is measured against (all).
        n_synthetic: synthetic records used.
        n_holdout: holdout records used.
        max_rows: the per-table subsampling cap that was applied.
        subsampled: whether any table was subsampled below its full size.
        columns: the model columns compared.
        reason: why figures are None, or None when all were computed.
    """

    levels: tuple[float, ...]
    synthetic: _Side | None
    baseline: _Side | None
    k: int
    n_train: int
    n_train_authenticity: int
    n_synthetic: int
    n_holdout: int
    max_rows: int
    subsampled: bool
    columns: tuple[str, ...]
    reason: str | None = None

    direction = "higher is better"

    @property
    def delta_precision(self) -> float | None:
        """Integrated α-precision of the synthetic table (1 is ideal)."""
        return None if self.synthetic is None else self.synthetic.delta_precision

    @property
    def delta_recall(self) -> float | None:
        """Integrated β-recall of the synthetic table (1 is ideal)."""
        return None if self.synthetic is None else self.synthetic.delta_recall

    @property
    def authenticity(self) -> float | None:
        """Share of authentic synthetic records (a perfect sample scores the baseline)."""
        return None if self.synthetic is None else self.synthetic.authenticity

    @property
    def headline(self) -> float | None:
        """Mean of integrated α-precision and β-recall (1 is ideal): fidelity and coverage."""
        if self.synthetic is None:
            return None
        return (self.synthetic.delta_precision + self.synthetic.delta_recall) / 2.0

    def _figure(self, name: str, direction: str) -> dict[str, Any]:
        syn, base = self.synthetic, self.baseline

        def value(side: _Side | None) -> float | None:
            return None if side is None else getattr(side, name)

        def ci(side: _Side | None) -> list[float | None] | None:
            if side is None:
                return None
            if name == "authenticity":
                low, high = binomial_ci(side.authentic, side.n)
            else:
                low, high = getattr(side, name + "_ci")
            return [round4(low), round4(high)]

        return {
            "value": round4(value(syn)),
            "direction": direction,
            "ci": ci(syn),
            "baseline": round4(value(base)),
            "baseline_ci": ci(base),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""

        def curve(attr: str) -> dict[str, Any]:
            return {
                "synthetic": None if self.synthetic is None else _rl(getattr(self.synthetic, attr)),
                "baseline": None if self.baseline is None else _rl(getattr(self.baseline, attr)),
            }

        return {
            "alpha_precision": {**self._figure("delta_precision", self.direction), "ideal": 1.0},
            "beta_recall": {**self._figure("delta_recall", self.direction), "ideal": 1.0},
            "authenticity": self._figure(
                "authenticity",
                "higher is better (a perfect sample of this size scores the baseline, not 1)",
            ),
            "curves": {
                "levels": [round4(v) for v in self.levels],
                "alpha_precision": curve("precision_curve"),
                "beta_recall": curve("recall_curve"),
                "ideal": "the diagonal: share = level",
            },
            "space": "MixedEncoder fitted on train; supports are k-NN radius level sets",
            "k": int(self.k),
            "n_train": int(self.n_train),
            "n_train_authenticity": int(self.n_train_authenticity),
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": int(self.n_holdout),
            "subsampling": {"max_rows_per_table": int(self.max_rows), "applied": self.subsampled},
            "n_columns": len(self.columns),
            "reason": self.reason,
        }


# ------------------------------------------------------------------------ the measure
def _authentic(query: np.ndarray, train_all: np.ndarray) -> tuple[int, int]:
    """Authenticity counts of ``query`` against every training record."""
    from synthgen.evaluation.neighbours import nearest

    q_dist, q_idx = nearest(query, train_all, k=1)
    used = np.unique(q_idx[:, 0])
    # a record's first neighbour in its own table is itself (or a duplicate), both at 0, so
    # the second is its nearest *other* record
    own = np.zeros(len(train_all), np.float32)
    own[used] = nearest(train_all[used], train_all, k=2)[0][:, 1]
    return authenticity_share(
        query_to_real=q_dist[:, 0], nearest_real=q_idx[:, 0], real_to_real=own
    )


def _side(
    query: np.ndarray,
    real: np.ndarray,
    real_radii: np.ndarray,
    train_all: np.ndarray,
    *,
    k: int,
    levels: np.ndarray,
    rng: np.random.Generator,
) -> _Side:
    from synthgen.evaluation.neighbours import nearest

    q_radii = nearest(query, real, k=k)[0][:, k - 1]  # query against the real records
    own = nearest(query, query, k=k, exclude_self=True)[0][:, k - 1]  # query's own radii
    real_in_q = nearest(real, query, k=k)[0][:, k - 1]  # real records against the query
    p_curve = support_curve(reference_radii=real_radii, query_radii=q_radii, levels=levels)
    r_curve = support_curve(reference_radii=own, query_radii=real_in_q, levels=levels)
    authentic, n = _authentic(query, train_all)
    return _Side(
        precision_curve=tuple(float(v) for v in p_curve),
        recall_curve=tuple(float(v) for v in r_curve),
        delta_precision=integrated_score(levels=levels, curve=p_curve),
        delta_precision_ci=_boot_ci(real_radii, q_radii, levels, rng),
        delta_recall=integrated_score(levels=levels, curve=r_curve),
        delta_recall_ci=_boot_ci(own, real_in_q, levels, rng),
        authentic=authentic,
        n=n,
    )


def precision_recall(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    k: int = 5,
    max_rows: int = 10_000,
) -> PrecisionRecallResult:
    """α-precision and β-recall curves, their integrated scores, and authenticity.

    See the module docstring for the definitions (k-NN radius level sets in the
    MixedEncoder space fitted on train). Every figure is computed for the synthetic table
    against train and, as its baseline, for the holdout against train.

    Args:
        train: the training table (typed, coerced to the schema).
        holdout: real records the generator never saw (typed).
        synthetic: the synthetic table (typed).
        schema: the schema; its model columns present in all three tables are used.
        seed: seed of the subsamples and of the bootstrap intervals.
        k: neighbours defining the k-NN radius (5, as Naeem et al. 2020 use for the related
            density and coverage; 1 makes the supports ragged).
        max_rows: most records used per table (seeded subsample above it) for the curves
            (10,000 keeps a 100k-row cohort to a few seconds; the curves' intervals are then
            about ±0.01 wide);
            authenticity compares the (subsampled) synthetic records with every training
            record.

    Returns:
        A :class:`PrecisionRecallResult`; a side with fewer than :data:`MIN_ROWS` records (or
        not more than ``k``) gets None figures, with a reason.

    Raises:
        InputError: a table is not a DataFrame, no model column is shared, a value does not
            fit its column's kind, or bad ``k`` / ``max_rows``.
    """
    from synthgen.evaluation.encoding import MixedEncoder

    columns, problems = shared_columns(schema, train=train, holdout=holdout, synthetic=synthetic)
    problems += int_problem("k", k, 1) + int_problem("max_rows", max_rows, MIN_ROWS)
    if problems:
        raise InputError("; ".join(problems))
    k, max_rows = int(k), int(max_rows)
    need = max(MIN_ROWS, k + 1)
    s_train, s_hold, s_syn, s_boot_syn, s_boot_hold = child_seeds(seed, 5)

    def pick(df: pd.DataFrame, s: int) -> pd.DataFrame:
        if len(df) <= max_rows:
            return df
        return df.iloc[np.sort(np.random.default_rng(s).choice(len(df), max_rows, replace=False))]

    tr, ho, sy = pick(train, s_train), pick(holdout, s_hold), pick(synthetic, s_syn)
    subsampled = len(tr) < len(train) or len(ho) < len(holdout) or len(sy) < len(synthetic)
    reasons = [
        f"the {name} table has {len(df)} records; at least {need} are needed"
        for name, df in (("train", tr), ("synthetic", sy), ("holdout", ho))
        if len(df) < need
    ]
    levels = np.asarray(LEVELS)
    syn_side = base_side = None
    if len(tr) >= need:
        from synthgen.evaluation.neighbours import nearest

        enc = MixedEncoder().fit(tr, schema, columns=columns)
        e_tr = enc.transform(tr)
        real_radii = nearest(e_tr, e_tr, k=k, exclude_self=True)[0][:, k - 1]
        e_all = e_tr if len(tr) == len(train) else enc.transform(train)
        if len(sy) >= need:
            syn_side = _side(
                enc.transform(sy),
                e_tr,
                real_radii,
                e_all,
                k=k,
                levels=levels,
                rng=np.random.default_rng(s_boot_syn),
            )
        if len(ho) >= need:
            base_side = _side(
                enc.transform(ho),
                e_tr,
                real_radii,
                e_all,
                k=k,
                levels=levels,
                rng=np.random.default_rng(s_boot_hold),
            )
    return PrecisionRecallResult(
        levels=LEVELS,
        synthetic=syn_side,
        baseline=base_side,
        k=k,
        n_train=len(tr),
        n_train_authenticity=len(train),
        n_synthetic=len(sy),
        n_holdout=len(ho),
        max_rows=max_rows,
        subsampled=bool(subsampled),
        columns=tuple(columns),
        reason="; ".join(reasons) or None,
    )
