"""Detection: can a classifier tell synthetic records from real ones? (a classifier two-sample test)

A gradient-boosted classifier is trained to tell real (train) records from synthetic ones and
scored by the area under the ROC curve of its out-of-fold predictions (stratified K-fold cross
validation on balanced classes). 0.5 means the two tables cannot be told apart; 1 means every
synthetic record gives itself away. The same detector telling train from holdout (real records
the generator never saw) is the baseline: what a perfect synthetic cohort of this size scores.

Why gradient boosting and not logistic regression. A linear detector only sees differences in
the mean of each encoded feature. A generator that gets every marginal right but breaks the
relations between columns (e.g. columns sampled independently: men with pregnancy codes, an
eGFR that ignores creatinine) leaves every mean in place, so a logistic regression scores
about 0.5 and the synthetic cohort passes. Trees split on one column inside another's range,
so they see interactions, multimodality, changed spreads and impossible combinations; boosted
histogram trees do it fast on tens of thousands of rows and handle categories and missing
values natively.

Features. One feature per model column, so that importances are per column by construction:
numbers, integers and booleans as floats, datetimes as days since 1970-01-01, missing values
left missing (the trees route them on their own); categorical and text columns as category
codes over the most frequent values of the (subsampled) training table (up to 254; the rest,
and values train never holds, share one code), treated as categories by the trees. Nothing
is scaled: trees do not need it.

What the detector leans on. The importance of a column is the drop in out-of-fold AUC when that
column's values are permuted among the held-out records of each fold (the model is not
refitted), so it measures how much the fitted detectors rely on the column to find synthetic
records. The top columns point at what the generator gets wrong.

Interval. DeLong's variance of the AUC (a normal interval, clipped to [0, 1]) computed on the
pooled out-of-fold scores; the folds' models differ slightly, so treat it as approximate.

Size. Each side is subsampled (seeded) to at most ``max_rows`` records; train is then
subsampled further to the size of the other side, so the classes are balanced. The baseline
uses equal-size subsamples of train and holdout (disjoint tables).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthgen.data.schema import Schema, coerce_column
from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import child_seeds, round4, round4_ci
from synthgen.evaluation.fidelity._common import int_problem as int_problem
from synthgen.evaluation.fidelity._common import shared_columns as shared_columns
from synthgen.evaluation.privacy.scores import roc_auc

MIN_ROWS = 20
"""Fewest records per side for a detection figure; below this the figures are None."""

MAX_CATEGORY_CODES = 254
"""Category codes kept per column (the trees bin at most 255 values; one is "other")."""

TOP_FEATURES = 5
"""How many of the detector's most relied-on columns are reported."""

DETECTOR_PARAMS: dict[str, Any] = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "early_stopping": False,
}
"""Settings of the gradient-boosted detector (modest, so one fit takes about a second)."""

_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class DetectionResult:
    """The outcome of the classifier two-sample test.

    Attributes:
        auc: out-of-fold AUC of the detector telling train from synthetic (0.5 is ideal);
            None when there were too few records (see ``reason``).
        auc_ci: DeLong 95% interval of ``auc``.
        baseline_auc: the same detector telling train from holdout: what a perfect synthetic
            cohort of this size scores.
        baseline_ci: DeLong 95% interval of ``baseline_auc``.
        importances: ``(column, importance)`` for the :data:`TOP_FEATURES` columns the
            synthetic detector relies on most (drop in out-of-fold AUC when the column is
            permuted), highest first.
        n_per_side: records per class in the synthetic detector (train and synthetic).
        n_per_side_baseline: records per class in the baseline detector (train and holdout).
        max_rows: the per-side subsampling cap that was applied.
        subsampled: whether any table was subsampled below its full size.
        n_folds: cross-validation folds.
        columns: the model columns compared.
        reason: why a figure is None, or None when both were computed.
    """

    auc: float | None
    auc_ci: tuple[float, float] | None
    baseline_auc: float | None
    baseline_ci: tuple[float, float] | None
    importances: tuple[tuple[str, float], ...]
    n_per_side: int
    n_per_side_baseline: int
    max_rows: int
    subsampled: bool
    n_folds: int
    columns: tuple[str, ...]
    reason: str | None = None

    direction = "closer to 0.5 is better (1 = synthetic records are easily told apart)"

    @property
    def headline(self) -> float | None:
        """The detection AUC (synthetic vs train); 0.5 is ideal."""
        return self.auc

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""
        return {
            "auc": {
                "value": round4(self.auc),
                "direction": self.direction,
                "ci": round4_ci(self.auc_ci),
                "baseline": round4(self.baseline_auc),
                "baseline_ci": round4_ci(self.baseline_ci),
                "ideal": 0.5,
            },
            "top_features": [
                {"column": name, "importance": round4(value)} for name, value in self.importances
            ],
            "detector": "gradient-boosted trees (HistGradientBoostingClassifier)",
            "n_folds": int(self.n_folds),
            "n_per_side": int(self.n_per_side),
            "n_per_side_baseline": int(self.n_per_side_baseline),
            "subsampling": {"max_rows_per_side": int(self.max_rows), "applied": self.subsampled},
            "n_columns": len(self.columns),
            "reason": self.reason,
        }


# --------------------------------------------------------------------------- inputs


def _features(
    frames: list[pd.DataFrame], schema: Schema, columns: list[str]
) -> tuple[list[np.ndarray], np.ndarray]:
    """One float64 feature per column for every frame, and the categorical-feature mask.

    Category codes come from the first frame (the real reference), so a comparison's
    features do not depend on the other tables; values unseen there share the "other" code.
    """
    out = [np.empty((len(df), len(columns)), np.float64) for df in frames]
    mask = np.zeros(len(columns), bool)
    problems = []
    for j, col in enumerate(columns):
        spec = schema[col]
        if spec.kind in ("categorical", "text"):
            mask[j] = True
            keys = [df[col].astype(object).where(df[col].notna(), None) for df in frames]
            # value_counts sorts by count; the stable argsort keeps first appearance among ties
            counts = keys[0].dropna().astype(str).value_counts(sort=False)
            order = np.argsort(-counts.to_numpy(), kind="stable")[:MAX_CATEGORY_CODES]
            kept = pd.Index(counts.index[order], dtype=object)
            for x, k in zip(out, keys, strict=True):
                codes = kept.get_indexer(pd.Index(k.astype(str), dtype=object)).astype(np.float64)
                codes[codes < 0] = MAX_CATEGORY_CODES
                codes[k.isna().to_numpy()] = np.nan
                x[:, j] = codes
            continue
        for x, df in zip(out, frames, strict=True):
            values, problem = coerce_column(df[col], spec)
            if problem:
                problems.append(problem)
                break
            if spec.kind == "datetime":
                raw = values.to_numpy(dtype="datetime64[ns]")
                days = raw.view(np.int64) / _DAY_NS
                days[np.isnat(raw)] = np.nan
                x[:, j] = days
            else:
                x[:, j] = values.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    if problems:
        raise InputError("; ".join(problems))
    return out, mask


# ------------------------------------------------------------------------------ math
def delong_ci(
    *, positive_scores: np.ndarray, negative_scores: np.ndarray, level: float = 0.95
) -> tuple[float, float, float]:
    """AUC with DeLong's normal interval (midranks, so ties count half).

    Args:
        positive_scores: scores of the positive class (higher means "more likely positive").
        negative_scores: scores of the negative class.
        level: coverage of the interval.

    Returns:
        ``(auc, low, high)``, the interval clipped to [0, 1].
    """
    x = np.asarray(positive_scores, np.float64)
    y = np.asarray(negative_scores, np.float64)
    m, n = x.size, y.size
    tz = stats.rankdata(np.concatenate([x, y]))
    tx = stats.rankdata(x)
    ty = stats.rankdata(y)
    auc = (tz[:m].sum() - m * (m + 1) / 2.0) / (m * n)
    v10 = (tz[:m] - tx) / n  # per positive: share of negatives it beats
    v01 = 1.0 - (tz[m:] - ty) / m  # per negative: share of positives that beat it
    var = (np.var(v10, ddof=1) if m > 1 else 0.0) / m + (np.var(v01, ddof=1) if n > 1 else 0.0) / n
    half = float(stats.norm.ppf(0.5 + level / 2.0)) * float(np.sqrt(max(var, 0.0)))
    return float(auc), max(0.0, float(auc) - half), min(1.0, float(auc) + half)


def _oof_detector(
    real: np.ndarray,
    other: np.ndarray,
    mask: np.ndarray,
    *,
    n_folds: int,
    seed: int,
    importance: bool,
) -> tuple[float, tuple[float, float], np.ndarray | None]:
    """Out-of-fold AUC (other = positive class), its interval and per-column importances."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    x = np.concatenate([real, other])
    y = np.r_[np.zeros(len(real), np.int8), np.ones(len(other), np.int8)]
    rng = np.random.default_rng(seed)
    fold_seed, model_seed, perm_seed = (int(s) for s in rng.integers(0, 2**31 - 1, size=3))
    folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=fold_seed)
    perm_rng = np.random.default_rng(perm_seed)
    oof = np.empty(len(y), np.float64)
    n_cols = x.shape[1]
    permuted = np.empty((n_cols, len(y)), np.float64) if importance else None
    for fit_idx, test_idx in folds.split(x, y):
        model = HistGradientBoostingClassifier(
            **DETECTOR_PARAMS,
            categorical_features=mask if mask.any() else None,
            random_state=model_seed,
        )
        model.fit(x[fit_idx], y[fit_idx])
        x_test = x[test_idx]
        oof[test_idx] = model.predict_proba(x_test)[:, 1]
        if permuted is not None:
            # every column's permutation is scored in one predict call (stacked copies)
            stacked = np.tile(x_test, (n_cols, 1))
            nt = len(test_idx)
            for j in range(n_cols):
                stacked[j * nt : (j + 1) * nt, j] = x_test[perm_rng.permutation(nt), j]
            permuted[:, test_idx] = model.predict_proba(stacked)[:, 1].reshape(n_cols, nt)
    auc, low, high = delong_ci(positive_scores=oof[y == 1], negative_scores=oof[y == 0])
    imps = None
    if permuted is not None:
        imps = np.array(
            [auc - roc_auc(member_scores=p[y == 1], nonmember_scores=p[y == 0]) for p in permuted]
        )
    return auc, (low, high), imps


# ------------------------------------------------------------------------ the measure
def detection(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    n_folds: int = 5,
    max_rows: int = 20_000,
) -> DetectionResult:
    """Classifier two-sample test: how well gradient-boosted trees tell synthetic from real.

    Train and synthetic records (balanced by subsampling the larger side, at most
    ``max_rows`` each) are split into ``n_folds`` stratified folds; a detector is fitted on
    all folds but one and scores the one left out. The AUC of those out-of-fold scores is the
    figure (0.5 ideal). The baseline is the same procedure on train against holdout. The
    columns the synthetic detector relies on most are reported with their permutation
    importance (see the module docstring).

    Args:
        train: the training table (typed, coerced to the schema).
        holdout: real records the generator never saw (typed), disjoint from train.
        synthetic: the synthetic table (typed).
        schema: the schema; its model columns present in all three tables are used.
        seed: seed of every subsample, fold split, detector and permutation.
        n_folds: cross-validation folds (at least 2).
        max_rows: most records used per side (seeded subsample above it).

    Returns:
        A :class:`DetectionResult`; its figures are None, with a reason, when a side has fewer
        than :data:`MIN_ROWS` records (or fewer than ``n_folds``).

    Raises:
        InputError: a table is not a DataFrame, no model column is shared, a value does not
            fit its column's kind, or bad ``n_folds`` / ``max_rows``.
    """
    columns, problems = shared_columns(schema, train=train, holdout=holdout, synthetic=synthetic)
    problems += int_problem("n_folds", n_folds, 2) + int_problem("max_rows", max_rows, MIN_ROWS)
    if problems:
        raise InputError("; ".join(problems))
    n_folds, max_rows = int(n_folds), int(max_rows)
    need = max(MIN_ROWS, n_folds)
    s_train, s_hold, s_syn, s_det, s_base = child_seeds(seed, 5)

    n_side = min(len(train), len(synthetic), max_rows)
    n_base = min(len(train), len(holdout), max_rows)
    n_train_used = max(n_side, n_base)
    subsampled = n_train_used < len(train) or n_side < len(synthetic) or n_base < len(holdout)
    too_small = []
    if n_side < need:
        too_small.append(
            f"train vs synthetic has {n_side} records per side; the detector needs at least {need}"
        )
    if n_base < need:
        too_small.append(
            f"train vs holdout has {n_base} records per side; the detector needs at least {need}"
        )

    # one permutation of train feeds both detectors (its first rows), so the baseline and the
    # synthetic figure see the same real records where sizes allow
    tr = train.iloc[np.random.default_rng(s_train).permutation(len(train))[:n_train_used]]
    ho = holdout.iloc[np.random.default_rng(s_hold).permutation(len(holdout))[:n_base]]
    sy = synthetic.iloc[np.random.default_rng(s_syn).permutation(len(synthetic))[:n_side]]
    (x_tr, x_ho, x_sy), mask = _features([tr, ho, sy], schema, columns)

    auc = auc_ci = base = base_ci = None
    importances: tuple[tuple[str, float], ...] = ()
    if n_side >= need:
        auc, auc_ci, imps = _oof_detector(
            x_tr[:n_side], x_sy, mask, n_folds=n_folds, seed=s_det, importance=True
        )
        order = np.argsort(-imps, kind="stable")[:TOP_FEATURES]
        importances = tuple((columns[i], float(imps[i])) for i in order)
    if n_base >= need:
        base, base_ci, _ = _oof_detector(
            x_tr[:n_base], x_ho, mask, n_folds=n_folds, seed=s_base, importance=False
        )
    return DetectionResult(
        auc=auc,
        auc_ci=auc_ci,
        baseline_auc=base,
        baseline_ci=base_ci,
        importances=importances,
        n_per_side=n_side,
        n_per_side_baseline=n_base,
        max_rows=max_rows,
        subsampled=bool(subsampled),
        n_folds=n_folds,
        columns=tuple(columns),
        reason="; ".join(too_small) or None,
    )
