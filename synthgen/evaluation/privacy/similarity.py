"""Similarity measures: copies, distance to closest record, and the distance attack.

Every function takes typed tables (already coerced to the schema) and compares only the
schema's model columns (direct identifiers are never learned, so never compared). Distances
are Euclidean in the :class:`~synthgen.evaluation.encoding.MixedEncoder` space fitted on the
training table: robust-scaled numerics, one-hot categoricals where a mismatch costs 1, and
missing-value indicators.

Each figure comes with its baseline: what the holdout (real records the generator never saw)
scores against the training table, i.e. what perfect synthetic data would score.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy._checks import check_tables
from synthgen.evaluation.privacy.scores import (
    AttackResult,
    binomial_ci,
    evaluate_attack,
    member_rows,
)

NearestFn = Callable[..., tuple[np.ndarray, np.ndarray]]

PERCENTILES: tuple[int, ...] = (5, 50, 95)
"""The percentiles of distance to closest record that are reported."""


# ------------------------------------------------------------------------------- helpers
def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _figure(
    value: float,
    *,
    direction: str,
    baseline: float | None,
    ci: tuple[float, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _r(value), "direction": direction}
    out["ci"] = None if ci is None else [_r(ci[0]), _r(ci[1])]
    out["baseline"] = _r(baseline)
    out.update(extra)
    return out


def _nearest(nearest_fn: NearestFn | None) -> NearestFn:
    if nearest_fn is not None:
        return nearest_fn
    from synthgen.evaluation.neighbours import nearest

    return nearest


def _encode(
    schema: Schema, columns: list[str], train: pd.DataFrame, *others: pd.DataFrame
) -> list[np.ndarray]:
    from synthgen.evaluation.encoding import MixedEncoder

    enc = MixedEncoder().fit(train, schema, columns=columns)
    return [enc.transform(train)] + [enc.transform(df) for df in others]


def _subsample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of ``size`` of ``n`` rows drawn without replacement (all if fewer)."""
    if size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _quantile_ci(values: np.ndarray, q: float, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free interval for the ``q`` quantile from order statistics.

    The number of values below the true quantile is Binomial(n, q), so the order statistics
    at that binomial's tail quantiles bracket it with at least ``level`` coverage.
    """
    x = np.sort(values)
    n = x.size
    alpha = (1.0 - level) / 2.0
    lo = int(stats.binom.ppf(alpha, n, q))  # 1-based rank of the lower bound
    hi = int(stats.binom.ppf(1.0 - alpha, n, q)) + 1
    return float(x[max(lo, 1) - 1]), float(x[min(hi, n) - 1])


def _row_hashes(df: pd.DataFrame, schema: Schema, columns: list[str]) -> np.ndarray:
    """One 64-bit hash per row of the model columns, equal for rows equal cell by cell.

    Each column is first put in one canonical form whatever its dtype (``int64`` vs
    ``Int64`` vs ``float64``; ``None`` vs ``NaN`` vs ``NaT``), so a synthetic table with
    slightly different dtypes still matches; missing equals missing.
    """
    canon: dict[str, pd.Series] = {}
    for col in columns:
        s = df[col]
        kind = schema[col].kind
        missing = s.isna().to_numpy()
        if kind == "datetime" or pd.api.types.is_datetime64_any_dtype(s):
            vals = pd.to_datetime(s).to_numpy(dtype="datetime64[ns]").astype(np.int64)
            canon[col] = pd.Series(np.where(missing, 0, vals))
        elif kind in ("numeric", "integer", "boolean") or pd.api.types.is_numeric_dtype(s):
            # int64, Int64, float64, bool and boolean all become float64: 1 == 1.0 == True
            vals = s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
            canon[col] = pd.Series(np.where(missing, 0.0, vals) + 0.0)  # -0.0 becomes 0.0
        else:
            canon[col] = pd.Series(np.where(missing, "", s.astype(str).to_numpy()), dtype=object)
        canon[col + "\x00missing"] = pd.Series(missing)
    frame = pd.DataFrame(canon)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


# ---------------------------------------------------------------------------- copies
@dataclass(frozen=True)
class CopyResult:
    """Exact and near copies of real records in the synthetic table.

    Attributes:
        n_synthetic: synthetic rows checked.
        n_holdout: holdout rows checked (the baseline).
        exact_synthetic: synthetic rows identical to some training row.
        exact_holdout: holdout rows identical to some training row (the baseline: records
            that coincide with a training record by chance, e.g. common profiles).
        near_threshold: the encoded distance under which a row is a near-copy.
        near_synthetic: synthetic rows within ``near_threshold`` of a training row
            (exact copies included).
        near_holdout: holdout rows within ``near_threshold`` of a training row.
    """

    n_synthetic: int
    n_holdout: int
    exact_synthetic: int
    exact_holdout: int
    near_threshold: float
    near_synthetic: int
    near_holdout: int

    @property
    def exact_share(self) -> float:
        return self.exact_synthetic / self.n_synthetic

    @property
    def exact_share_baseline(self) -> float:
        return self.exact_holdout / self.n_holdout

    @property
    def near_share(self) -> float:
        return self.near_synthetic / self.n_synthetic

    @property
    def near_share_baseline(self) -> float:
        return self.near_holdout / self.n_holdout

    def to_dict(self) -> dict[str, Any]:
        return {
            "exact_copies": _figure(
                self.exact_share,
                direction="lower is better",
                ci=binomial_ci(self.exact_synthetic, self.n_synthetic),
                baseline=self.exact_share_baseline,
                baseline_ci=[_r(v) for v in binomial_ci(self.exact_holdout, self.n_holdout)],
                count=int(self.exact_synthetic),
                n=int(self.n_synthetic),
            ),
            "near_copies": _figure(
                self.near_share,
                direction="lower is better",
                ci=binomial_ci(self.near_synthetic, self.n_synthetic),
                baseline=self.near_share_baseline,
                baseline_ci=[_r(v) for v in binomial_ci(self.near_holdout, self.n_holdout)],
                count=int(self.near_synthetic),
                n=int(self.n_synthetic),
                threshold=_r(self.near_threshold),
            ),
        }


def count_copies(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    near_threshold: float | None = None,
    nearest_fn: NearestFn | None = None,
) -> CopyResult:
    """Count synthetic rows that copy, or nearly copy, a training row.

    An exact copy equals a training row on every model column (missing equals missing). The
    same count for the holdout is the baseline: real records that happen to coincide with a
    training record; a generator that does not copy should score about the same share.

    A near-copy lies within ``near_threshold`` (encoded distance, inclusive) of its nearest
    training row. By default the threshold is the 1st percentile of the holdout's
    distances to their nearest training row: a synthetic row is then a near-copy when it is
    closer to a training record than 99% of genuinely unseen records are. The baseline
    share (holdout rows under the threshold) is therefore about 1% by construction (more
    when many holdout rows sit at exactly that distance, e.g. at 0); a synthetic share well
    above it points at memorised records.

    Args:
        train: the training table (typed).
        holdout: the holdout table (typed), never seen by the generator.
        synthetic: the synthetic table (typed).
        schema: the schema; only its model columns are compared.
        near_threshold: an explicit near-copy distance; None for the default above.
        nearest_fn: nearest-neighbour search (defaults to
            :func:`synthgen.evaluation.neighbours.nearest`).

    Returns:
        A :class:`CopyResult`.
    """
    columns = check_tables(schema, train=train, holdout=holdout, synthetic=synthetic)
    train_h = _row_hashes(train, schema, columns)
    exact_syn = int(np.isin(_row_hashes(synthetic, schema, columns), train_h).sum())
    exact_hold = int(np.isin(_row_hashes(holdout, schema, columns), train_h).sum())

    nearest = _nearest(nearest_fn)
    e_train, e_hold, e_syn = _encode(schema, columns, train, holdout, synthetic)
    d_hold = nearest(e_hold, e_train, k=1)[0][:, 0].astype(np.float64)
    d_syn = nearest(e_syn, e_train, k=1)[0][:, 0].astype(np.float64)
    if near_threshold is None:
        near_threshold = float(np.quantile(d_hold, 0.01, method="lower"))
    elif near_threshold < 0:
        raise InputError(f"near_threshold must be at least 0, got {near_threshold}")
    return CopyResult(
        n_synthetic=len(synthetic),
        n_holdout=len(holdout),
        exact_synthetic=exact_syn,
        exact_holdout=exact_hold,
        near_threshold=float(near_threshold),
        near_synthetic=int((d_syn <= near_threshold).sum()),
        near_holdout=int((d_hold <= near_threshold).sum()),
    )


# ------------------------------------------------------------ distance to closest record
@dataclass(frozen=True)
class DCRResult:
    """Distance to closest record (DCR) and nearest-neighbour distance ratio (NNDR).

    Attributes:
        dcr_share: share of synthetic rows strictly closer to the (size-matched) training
            table than to the holdout, ties counting half. 0.5 is ideal.
        dcr_share_ci: Wilson interval of ``dcr_share``.
        n_synthetic: synthetic rows.
        n_reference: rows in each of the two reference tables compared for the share.
        synthetic_percentiles: ``{p: (value, (low, high))}`` of synthetic-to-train DCR.
        holdout_percentiles: the same for holdout-to-train DCR (the baseline).
        synthetic_nndr_median: median NNDR of synthetic rows against train, with interval.
        holdout_nndr_median: the same for holdout rows (the baseline).
        synthetic_dcr: every synthetic row's distance to its closest training record (for
            binned plots; never written out per record).
        holdout_dcr: every holdout row's distance to its closest training record.
    """

    dcr_share: float
    dcr_share_ci: tuple[float, float]
    n_synthetic: int
    n_reference: int
    synthetic_percentiles: dict[int, tuple[float, tuple[float, float]]]
    holdout_percentiles: dict[int, tuple[float, tuple[float, float]]]
    synthetic_nndr_median: tuple[float, tuple[float, float]]
    holdout_nndr_median: tuple[float, tuple[float, float]]
    synthetic_dcr: np.ndarray | None = field(default=None, repr=False, compare=False)
    holdout_dcr: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dcr_share": _figure(
                self.dcr_share,
                direction="closer to 0.5 is better (above means closer to train)",
                ci=self.dcr_share_ci,
                baseline=0.5,
                n_synthetic=int(self.n_synthetic),
                n_reference=int(self.n_reference),
            ),
            "dcr_percentiles": {
                str(p): _figure(
                    value,
                    direction="higher is better (not below the baseline)",
                    ci=ci,
                    baseline=self.holdout_percentiles[p][0],
                    baseline_ci=[_r(v) for v in self.holdout_percentiles[p][1]],
                )
                for p, (value, ci) in self.synthetic_percentiles.items()
            },
            "nndr_median": _figure(
                self.synthetic_nndr_median[0],
                direction="higher is better (not below the baseline)",
                ci=self.synthetic_nndr_median[1],
                baseline=self.holdout_nndr_median[0],
                baseline_ci=[_r(v) for v in self.holdout_nndr_median[1]],
            ),
        }


def _nndr(dist: np.ndarray) -> np.ndarray:
    d1 = dist[:, 0].astype(np.float64)
    d2 = dist[:, 1].astype(np.float64)
    # an exact match (d1 == 0) has ratio 0 even when the second neighbour is also at 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d1 == 0, 0.0, d1 / np.where(d2 == 0, 1.0, d2))


def distance_to_closest_record(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    nearest_fn: NearestFn | None = None,
) -> DCRResult:
    """Distance to closest record: are synthetic rows nearer the training data than new data is?

    **DCR share.** For each synthetic row, the distance to its nearest training row and to
    its nearest holdout row. A larger table has nearer neighbours by chance alone, so when
    the holdout is smaller the training table is first subsampled (seeded) to the
    holdout's size (and the other way round). The share of synthetic rows strictly closer
    to train than to holdout (ties count half) is then 0.5 for a generator that does not
    favour its training records; above 0.5 means the synthetic data sits nearer the very
    records it was trained on.

    **DCR percentiles.** The 5th, 50th and 95th percentiles of synthetic-to-train distance
    (against the whole training table), beside the same for holdout-to-train: synthetic
    rows much closer than real unseen rows are suspicious. Intervals are distribution-free
    (order statistics).

    **NNDR.** Nearest over second-nearest training distance; near 0 means a row sits by
    one particular training record rather than among many. Median for synthetic rows and,
    as the baseline, holdout rows.

    Args:
        train: the training table (typed).
        holdout: the holdout table (typed).
        synthetic: the synthetic table (typed).
        schema: the schema; only its model columns are compared.
        seed: seed of the size-matching subsample.
        nearest_fn: nearest-neighbour search (defaults to
            :func:`synthgen.evaluation.neighbours.nearest`).

    Returns:
        A :class:`DCRResult`.
    """
    columns = check_tables(schema, train=train, holdout=holdout, synthetic=synthetic)
    if len(train) < 2:
        raise InputError("the train table needs at least 2 rows for the distance ratio")
    nearest = _nearest(nearest_fn)
    e_train, e_hold, e_syn = _encode(schema, columns, train, holdout, synthetic)
    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout))
    train_ref = e_train[_subsample(len(train), size, rng)]
    hold_ref = e_hold[_subsample(len(holdout), size, rng)]

    to_train = nearest(e_syn, train_ref, k=1)[0][:, 0]
    to_hold = nearest(e_syn, hold_ref, k=1)[0][:, 0]
    successes = float((to_train < to_hold).sum() + 0.5 * (to_train == to_hold).sum())
    share = successes / len(synthetic)

    syn_d = nearest(e_syn, e_train, k=2)[0].astype(np.float64)
    hold_d = nearest(e_hold, e_train, k=2)[0].astype(np.float64)

    def percentiles(d: np.ndarray) -> dict[int, tuple[float, tuple[float, float]]]:
        return {p: (float(np.percentile(d, p)), _quantile_ci(d, p / 100.0)) for p in PERCENTILES}

    def median(r: np.ndarray) -> tuple[float, tuple[float, float]]:
        return float(np.median(r)), _quantile_ci(r, 0.5)

    return DCRResult(
        dcr_share=share,
        dcr_share_ci=binomial_ci(successes, len(synthetic)),
        n_synthetic=len(synthetic),
        n_reference=size,
        synthetic_percentiles=percentiles(syn_d[:, 0]),
        holdout_percentiles=percentiles(hold_d[:, 0]),
        synthetic_nndr_median=median(_nndr(syn_d)),
        holdout_nndr_median=median(_nndr(hold_d)),
        synthetic_dcr=syn_d[:, 0],
        holdout_dcr=hold_d[:, 0],
    )


# ---------------------------------------------------------------------- distance attack
def distance_attack(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    n_boot: int = 200,
    nearest_fn: NearestFn | None = None,
) -> AttackResult:
    """Membership inference by closeness to the synthetic data.

    The attacker's score for a record is minus its distance to the nearest synthetic row:
    a generator that memorises places synthetic rows on or beside its training records.
    Every holdout record is a non-member; the members are the training records chosen by
    :func:`~synthgen.evaluation.privacy.scores.member_rows` (all of them unless the table
    is large). The row positions of the scored records are kept on the result for the
    worst-case view.

    Args:
        train: the training table (typed).
        holdout: the holdout table (typed).
        synthetic: the synthetic table (typed).
        schema: the schema; only its model columns are compared.
        seed: seed of the member sample (large tables) and of the bootstrap intervals.
        n_boot: bootstrap replicates for the intervals.
        nearest_fn: nearest-neighbour search (defaults to
            :func:`synthgen.evaluation.neighbours.nearest`).

    Returns:
        An :class:`~synthgen.evaluation.privacy.scores.AttackResult` named ``"distance"``.
    """
    columns = check_tables(schema, train=train, holdout=holdout, synthetic=synthetic)
    nearest = _nearest(nearest_fn)
    e_train, e_hold, e_syn = _encode(schema, columns, train, holdout, synthetic)
    rng = np.random.default_rng(seed)
    members = member_rows(len(train), len(holdout), rng)
    m = -nearest(e_train[members], e_syn, k=1)[0][:, 0].astype(np.float64)
    n = -nearest(e_hold, e_syn, k=1)[0][:, 0].astype(np.float64)
    return evaluate_attack(
        name="distance",
        member_scores=m,
        nonmember_scores=n,
        seed=int(rng.integers(0, 2**63 - 1)),
        n_boot=n_boot,
        member_rows=members,
        nonmember_rows=np.arange(len(holdout)),
    )
