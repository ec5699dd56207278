"""Machine-learning utility: train on synthetic, test on real (TSTR) against the real ceiling.

For every target column, one model is trained on the synthetic cohort and one on the real
training cohort (TRTR); both are scored on the real holdout, which neither saw. The TRTR score
is what a perfect synthetic cohort of this size could reach and is each figure's baseline.

- **Tasks.** A boolean or categorical target is a classification (multi-class allowed: the
  ``max_classes - 1`` most frequent training classes are kept and the rest share one class);
  a numeric or integer target is a regression. Rows whose target is missing are left out.
- **Features.** Every other model column present in all three tables, except the target and
  the time-to-event columns (follow-up time and event flag are outcomes observed after the
  baseline record, so they would leak the future into a baseline prediction). Other targets
  stay in as features.
- **Encoding.** A :class:`~synthgen.evaluation.encoding.MixedEncoder` fitted on each model's
  own training table: numbers robust-scaled (median / IQR) with missing indicators,
  categories one-hot. A TSTR model thus learns nothing from the real data.
- **Model families.** ``linear`` (logistic regression / ridge on the encoding) and
  ``boosting`` (histogram gradient boosting on the same encoding).
- **Metrics.** Classification: AUC (macro one-vs-rest for multi-class, over the classes
  present in the holdout) and accuracy; regression: R² and mean absolute error.
- **Intervals.** A percentile bootstrap over the holdout rows. The same resampled rows score
  TSTR and TRTR, so the interval of their difference is given too.
- **Feature-importance agreement.** Permutation importances of the ``boosting`` models on (a
  seeded subsample of) the holdout, one per original column (all of a column's encoded
  features are permuted together, with the same permutations for both models): the Spearman
  rank correlation of the two importance vectors and the five most important columns of each.

Only aggregates are reported (scores, intervals, column names); no cell value and no class
label of the data appears in a result.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge

from synthgen.data.schema import Schema, coerce_column
from synthgen.errors import InputError
from synthgen.evaluation.encoding import MixedEncoder

FAMILIES: tuple[str, ...] = ("linear", "boosting")
"""The model families trained for every target."""

CLASSIFICATION_METRICS: tuple[str, ...] = ("auc", "accuracy")
REGRESSION_METRICS: tuple[str, ...] = ("r2", "mae")
DIRECTIONS: dict[str, str] = {
    "auc": "higher is better",
    "accuracy": "higher is better",
    "r2": "higher is better",
    "mae": "lower is better",
}
MIN_RECORDS = 20
"""Fewest rows (with a known target) a training or test table needs for a figure."""

TOP_K = 5
_OTHER = -1  # class code of the lumped rare classes


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _ci(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_r(ci[0]), _r(ci[1])]


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class UtilityMetric:
    """One TSTR figure with its TRTR baseline.

    Attributes:
        name: ``"auc"``, ``"accuracy"``, ``"r2"`` or ``"mae"``.
        value: the score of the model trained on synthetic data (None when not computable).
        baseline: the score of the model trained on the real training data.
        ci: bootstrap interval of ``value``.
        baseline_ci: bootstrap interval of ``baseline``.
        difference: ``value - baseline``.
        difference_ci: bootstrap interval of the difference (same resampled holdout rows).
        reason: why a figure is None.
    """

    name: str
    value: float | None
    baseline: float | None
    ci: tuple[float, float] | None = None
    baseline_ci: tuple[float, float] | None = None
    difference: float | None = None
    difference_ci: tuple[float, float] | None = None
    reason: str | None = None

    @property
    def direction(self) -> str:
        return DIRECTIONS[self.name]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""
        out: dict[str, Any] = {
            "value": _r(self.value),
            "direction": self.direction,
            "ci": _ci(self.ci),
            "baseline": _r(self.baseline),
            "baseline_ci": _ci(self.baseline_ci),
            "difference": {"value": _r(self.difference), "ci": _ci(self.difference_ci)},
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class ImportanceAgreement:
    """Agreement of permutation importances, model trained on real vs on synthetic.

    Attributes:
        spearman: Spearman rank correlation of the per-column importances (None when either
            vector is constant or a model is missing).
        top_real: the most important columns of the model trained on real data, best first.
        top_synthetic: the same for the model trained on synthetic data.
        model: the model family the importances are of.
        n_rows: holdout rows the importances were measured on.
        n_repeats: permutations per column.
        reason: why the figures are None.
    """

    spearman: float | None
    top_real: tuple[str, ...] = ()
    top_synthetic: tuple[str, ...] = ()
    model: str = "boosting"
    n_rows: int = 0
    n_repeats: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""
        out: dict[str, Any] = {
            "spearman": {
                "value": _r(self.spearman),
                "direction": "higher is better",
                "baseline": 1.0,
            },
            "top_real": list(self.top_real),
            "top_synthetic": list(self.top_synthetic),
            "model": self.model,
            "n_rows": int(self.n_rows),
            "n_repeats": int(self.n_repeats),
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class TargetUtility:
    """TSTR vs TRTR for one target column.

    Attributes:
        target: the target column.
        task: ``"classification"`` or ``"regression"`` (None when the target was skipped).
        n_classes: classes modelled (classification only).
        features: the feature columns used.
        metrics: ``{family: {metric: UtilityMetric}}``.
        importance: permutation-importance agreement (None when skipped).
        n_train: real training rows used (after subsampling and dropping missing targets).
        n_synthetic: synthetic training rows used.
        n_holdout: holdout rows scored.
        reason: why the target was skipped or why the TSTR figures are None.
    """

    target: str
    task: str | None
    n_classes: int | None = None
    features: tuple[str, ...] = ()
    metrics: Mapping[str, Mapping[str, UtilityMetric]] = field(default_factory=dict)
    importance: ImportanceAgreement | None = None
    n_train: int = 0
    n_synthetic: int = 0
    n_holdout: int = 0
    reason: str | None = None

    @property
    def primary(self) -> UtilityMetric | None:
        """The boosting model's AUC (classification) or R² (regression)."""
        name = "auc" if self.task == "classification" else "r2"
        return self.metrics.get("boosting", {}).get(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""
        out: dict[str, Any] = {
            "task": self.task,
            "n_classes": self.n_classes,
            "n_features": len(self.features),
            "features": list(self.features),
            "models": {
                fam: {name: m.to_dict() for name, m in metrics.items()}
                for fam, metrics in self.metrics.items()
            },
            "importance": None if self.importance is None else self.importance.to_dict(),
            "n_train": int(self.n_train),
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": int(self.n_holdout),
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class UtilityResult:
    """Train-on-synthetic, test-on-real utility of every target.

    Attributes:
        targets: one :class:`TargetUtility` per target, in the order asked for.
        n_train: real training rows available after subsampling.
        n_synthetic: synthetic rows available after subsampling.
        n_holdout: holdout rows available after subsampling.
        max_train_rows: the subsampling cap on each training table.
        n_boot: bootstrap replicates behind every interval.
        seed: the seed.
        reason: why there are no targets.
    """

    targets: tuple[TargetUtility, ...]
    n_train: int
    n_synthetic: int
    n_holdout: int
    max_train_rows: int
    n_boot: int
    seed: int | None
    reason: str | None = None

    @property
    def headline(self) -> float | None:
        """Mean TSTR minus TRTR of the boosting model's AUC or R² over the targets.

        0 means the synthetic cohort trains models as good as the real one; negative is worse.
        None when no target has both figures.
        """
        diffs = [
            t.primary.difference
            for t in self.targets
            if t.primary is not None and t.primary.difference is not None
        ]
        return float(np.mean(diffs)) if diffs else None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""
        out: dict[str, Any] = {
            "headline": {
                "value": _r(self.headline),
                "direction": "higher is better",
                "baseline": 0.0,
                "description": "mean TSTR minus TRTR of the boosting model's AUC or R2",
            },
            "targets": {t.target: t.to_dict() for t in self.targets},
            "n_train": int(self.n_train),
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": int(self.n_holdout),
            "max_train_rows": int(self.max_train_rows),
            "n_boot": int(self.n_boot),
            "seed": self.seed,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


# ----------------------------------------------------------------- weighted metrics
def weighted_auc(*, scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Binary AUC (Mann-Whitney, ties count half) for each row of a weight matrix.

    A bootstrap replicate is the same data with integer weights (how often each row was
    drawn), so one sort serves every replicate.

    Args:
        scores: ``(n,)`` higher means "more likely positive".
        labels: ``(n,)`` booleans.
        weights: ``(b, n)`` non-negative row weights; ones give the plain AUC.

    Returns:
        ``(b,)`` AUCs; NaN where a replicate lacks a positive or a negative.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    order = np.argsort(scores, kind="stable")
    s = scores[order]
    y = labels[order]
    w = weights[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(w * y, starts, axis=1)
    neg = np.add.reduceat(w * ~y, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    denom = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), np.nan)


def _macro_auc(proba: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Macro one-vs-rest AUC over the classes present in ``y`` (binary: one AUC)."""
    k = proba.shape[1]
    if k == 2:
        return weighted_auc(scores=proba[:, 1], labels=y == 1, weights=weights)
    per_class = [
        weighted_auc(scores=proba[:, c], labels=y == c, weights=weights)
        for c in range(k)
        if (y == c).any()
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN replicate
        return np.nanmean(np.vstack(per_class), axis=0)


def _metric_values(name: str, pred: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(b,)`` values of one metric under each row of ``weights``."""
    sw = weights.sum(axis=1)
    if name == "auc":
        return _macro_auc(pred, y, weights)
    if name == "accuracy":
        return weights @ (pred.argmax(axis=1) == y).astype(np.float64) / sw
    res = y - pred
    if name == "mae":
        return weights @ np.abs(res) / sw
    # r2
    mean = weights @ y / sw
    sst = weights @ (y * y) - sw * mean * mean
    sse = weights @ (res * res)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sst > 1e-12 * np.maximum(sw, 1.0), 1.0 - sse / sst, np.nan)


def _boot_weights(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


def _interval(values: np.ndarray, level: float) -> tuple[float, float] | None:
    ok = values[np.isfinite(values)]
    if ok.size < max(10, values.size // 2):  # most replicates undefined: no honest interval
        return None
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(ok, [alpha, 1.0 - alpha])
    return float(low), float(high)


# ----------------------------------------------------------------------- helpers
def _validate(
    train: Any,
    holdout: Any,
    synthetic: Any,
    schema: Any,
    targets: Sequence[str] | None,
    max_train_rows: Any,
    max_test_rows: Any,
    n_boot: Any,
    level: Any,
    max_classes: Any,
) -> None:
    problems: list[str] = []
    frames = {"train": train, "holdout": holdout, "synthetic": synthetic}
    for what, df in frames.items():
        if not isinstance(df, pd.DataFrame):
            problems.append(f"{what} must be a pandas DataFrame; got {type(df).__name__}")
    if not isinstance(schema, Schema):
        problems.append(f"schema must be a synthgen Schema; got {type(schema).__name__}")
    for what, v, low in (
        ("max_train_rows", max_train_rows, MIN_RECORDS),
        ("max_test_rows", max_test_rows, MIN_RECORDS),
        ("n_boot", n_boot, 1),
        ("max_classes", max_classes, 2),
    ):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            problems.append(f"{what} must be an integer of at least {low}; got {v!r}")
    if not isinstance(level, (float, int)) or not 0.0 < level < 1.0:
        problems.append(f"level must be in (0, 1); got {level!r}")
    if targets is not None and isinstance(schema, Schema):
        if isinstance(targets, str):
            problems.append("targets must be a list of column names, not one string")
        else:
            for t in targets:
                if t not in schema:
                    problems.append(f"target '{t}' is not in the schema")
                    continue
                if t not in schema.model_columns:
                    problems.append(f"target '{t}' is a direct identifier, not a model column")
                for what, df in frames.items():
                    if isinstance(df, pd.DataFrame) and t not in df.columns:
                        problems.append(f"target '{t}' is missing from {what}")
    if problems:
        raise InputError("; ".join(problems))


def _subsample(df: pd.DataFrame, cap: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= cap:
        return df.reset_index(drop=True)
    rows = np.sort(rng.choice(len(df), cap, replace=False))
    return df.iloc[rows].reset_index(drop=True)


def _target_values(series: pd.Series, spec) -> tuple[np.ndarray, np.ndarray]:
    """``(values, present)``: floats for numbers and booleans, objects for categories."""
    values, problem = coerce_column(series, spec)
    if problem:
        raise InputError(problem)
    present = values.notna().to_numpy()
    if spec.kind in ("categorical", "text"):
        return values.astype(object).to_numpy(), present
    return values.to_numpy(dtype=np.float64, na_value=np.nan), present


def _class_map(y_train: np.ndarray, max_classes: int) -> dict[Any, int]:
    """Class value -> code: the most frequent training classes; the rest lumped (code -1)."""
    counts = pd.Series(y_train).value_counts(sort=False)
    order = np.argsort(-counts.to_numpy(), kind="stable")
    keys = list(counts.index[order])
    if len(keys) <= max_classes:
        return {k: i for i, k in enumerate(keys)}
    kept = keys[: max_classes - 1]
    out = {k: i for i, k in enumerate(kept)}
    out.update({k: _OTHER for k in keys[max_classes - 1 :]})
    return out


def _encode_classes(y: np.ndarray, mapping: dict[Any, int], n_kept: int) -> np.ndarray:
    """Codes in ``0..n_classes-1``; values unknown to ``mapping`` become -2 (dropped)."""
    codes = pd.Series(y, dtype=object).map(mapping).fillna(-2).to_numpy(dtype=np.int64)
    codes[codes == _OTHER] = n_kept  # the lumped class comes last
    return codes


def _make_model(family: str, task: str, seed: int | None):
    rs = None if seed is None else int(seed)
    if family == "linear":
        if task == "classification":
            return LogisticRegression(C=1.0, max_iter=500)
        return Ridge(alpha=1.0)
    if task == "classification":
        return HistGradientBoostingClassifier(max_iter=100, early_stopping=False, random_state=rs)
    return HistGradientBoostingRegressor(max_iter=100, early_stopping=False, random_state=rs)


def _predict(model, x: np.ndarray, task: str, n_classes: int) -> np.ndarray:
    if task == "regression":
        return np.asarray(model.predict(x), dtype=np.float64)
    proba = np.zeros((len(x), n_classes))
    proba[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(x)
    return proba


@dataclass
class _Fitted:
    """A model, its encoder and the source's reason for failure (internal)."""

    model: Any = None
    encoder: MixedEncoder | None = None
    reason: str | None = None
    n: int = 0


def _fit_source(
    df: pd.DataFrame,
    y: np.ndarray,
    *,
    which: str,
    family_seed: int | None,
    schema: Schema,
    features: list[str],
    task: str,
) -> dict[str, _Fitted]:
    n = len(df)
    if n < MIN_RECORDS:
        reason = f"too few records in {which} with a known target ({n} < {MIN_RECORDS})"
        return {f: _Fitted(reason=reason, n=n) for f in FAMILIES}
    if task == "classification" and np.unique(y).size < 2:
        reason = f"only one class in the {which} target"
        return {f: _Fitted(reason=reason, n=n) for f in FAMILIES}
    if task == "regression" and not np.nanstd(y) > 0:
        reason = f"the {which} target is constant"
        return {f: _Fitted(reason=reason, n=n) for f in FAMILIES}
    encoder = MixedEncoder().fit(df, schema, features)
    x = encoder.transform(df)
    out = {}
    for family in FAMILIES:
        model = _make_model(family, task, family_seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        out[family] = _Fitted(model=model, encoder=encoder, n=n)
    return out


def _column_spans(encoder: MixedEncoder) -> list[tuple[int, int]]:
    spans, at = [], 0
    for plan in encoder.plans_:
        width = len(plan["features"])
        spans.append((at, at + width))
        at += width
    return spans


def _importances(
    fitted: _Fitted,
    df: pd.DataFrame,
    y: np.ndarray,
    perms: np.ndarray,
    task: str,
    n_classes: int,
) -> np.ndarray:
    """Mean drop of the primary score when each original column is permuted."""
    metric = "auc" if task == "classification" else "r2"
    x = fitted.encoder.transform(df)
    ones = np.ones((1, len(y)))
    base = _metric_values(metric, _predict(fitted.model, x, task, n_classes), y, ones)[0]
    spans = _column_spans(fitted.encoder)
    out = np.zeros(len(spans))
    for c, (a, b) in enumerate(spans):
        drops = []
        for perm in perms[c]:
            xp = x.copy()
            xp[:, a:b] = x[perm, a:b]
            score = _metric_values(metric, _predict(fitted.model, xp, task, n_classes), y, ones)
            drops.append(base - score[0])
        out[c] = np.nanmean(drops) if np.isfinite(drops).any() else 0.0
    return out


def _importance_agreement(
    real: _Fitted,
    synth: _Fitted,
    holdout: pd.DataFrame,
    y: np.ndarray,
    *,
    features: list[str],
    task: str,
    n_classes: int,
    max_rows: int,
    n_repeats: int,
    rng: np.random.Generator,
) -> ImportanceAgreement:
    if real.model is None or synth.model is None:
        return ImportanceAgreement(
            spearman=None, reason=real.reason or synth.reason, n_repeats=n_repeats
        )
    rows = np.arange(len(holdout))
    if len(rows) > max_rows:
        rows = np.sort(rng.choice(len(rows), max_rows, replace=False))
    sub, ys = holdout.iloc[rows].reset_index(drop=True), y[rows]
    m = len(rows)
    perms = np.stack([np.stack([rng.permutation(m) for _ in range(n_repeats)]) for _ in features])
    imp_real = _importances(real, sub, ys, perms, task, n_classes)
    imp_synth = _importances(synth, sub, ys, perms, task, n_classes)
    top_real = tuple(features[i] for i in np.argsort(-imp_real, kind="stable")[:TOP_K])
    top_synth = tuple(features[i] for i in np.argsort(-imp_synth, kind="stable")[:TOP_K])
    rho, reason = None, None
    if np.ptp(imp_real) > 0 and np.ptp(imp_synth) > 0 and len(features) > 1:
        rho = float(stats.spearmanr(imp_real, imp_synth).statistic)
    else:
        reason = "importances are constant for one of the models"
    return ImportanceAgreement(
        spearman=rho,
        top_real=top_real,
        top_synthetic=top_synth,
        n_rows=m,
        n_repeats=n_repeats,
        reason=reason,
    )


def _one_target(
    target: str,
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    features: list[str],
    seed_seq: np.random.SeedSequence,
    n_boot: int,
    level: float,
    max_classes: int,
    importance: bool,
    importance_rows: int,
    n_repeats: int,
) -> TargetUtility:
    spec = schema[target]
    if spec.kind in ("boolean", "categorical"):
        task = "classification"
    elif spec.kind in ("numeric", "integer"):
        task = "regression"
    else:
        return TargetUtility(
            target=target, task=None, reason=f"a {spec.kind} target is not supported"
        )
    if not features:
        return TargetUtility(target=target, task=task, reason="no feature columns left")

    ys = {}
    frames = {}
    for which, df in (("train", train), ("synthetic", synthetic), ("holdout", holdout)):
        y, present = _target_values(df[target], spec)
        frames[which] = df.loc[present, features].reset_index(drop=True)
        ys[which] = y[present]

    n_classes = None
    if task == "classification":
        if spec.kind == "boolean":
            mapping: dict[Any, int] = {0.0: 0, 1.0: 1}
        else:
            mapping = _class_map(ys["train"], max_classes)
        n_kept = sum(v >= 0 for v in mapping.values())
        n_classes = n_kept + (1 if _OTHER in mapping.values() else 0)
        n_classes = max(n_classes, 2)
        for which in ys:
            codes = _encode_classes(ys[which], mapping, n_kept)
            keep = codes >= 0  # values unseen in train (no lumped class to take them)
            frames[which] = frames[which].loc[keep].reset_index(drop=True)
            ys[which] = codes[keep]

    fit_seed, boot_seed, imp_seed = (int(s.generate_state(1)[0]) for s in seed_seq.spawn(3))
    fitted = {
        which: _fit_source(
            frames[which],
            ys[which],
            which=which,
            family_seed=fit_seed,
            schema=schema,
            features=features,
            task=task,
        )
        for which in ("train", "synthetic")
    }
    sizes = {k: len(v) for k, v in frames.items()}
    metric_names = CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS
    hold, yh = frames["holdout"], ys["holdout"]
    if len(hold) < MIN_RECORDS:
        reason = f"too few records in holdout with a known target ({len(hold)} < {MIN_RECORDS})"
        metrics = {
            fam: {
                m: UtilityMetric(name=m, value=None, baseline=None, reason=reason)
                for m in metric_names
            }
            for fam in FAMILIES
        }
        return TargetUtility(
            target=target,
            task=task,
            n_classes=n_classes,
            features=tuple(features),
            metrics=metrics,
            n_train=sizes["train"],
            n_synthetic=sizes["synthetic"],
            n_holdout=sizes["holdout"],
            reason=reason,
        )

    # predictions of every available model on the holdout
    preds: dict[tuple[str, str], np.ndarray] = {}
    for which in ("train", "synthetic"):
        for fam in FAMILIES:
            f = fitted[which][fam]
            if f.model is not None:
                preds[which, fam] = _predict(f.model, f.encoder.transform(hold), task, n_classes)

    # point values (weights all one) and bootstrap replicates, same rows for all models
    one = np.ones((1, len(yh)))
    boot_rng = np.random.default_rng(boot_seed)
    chunk = max(1, min(n_boot, 2_000_000 // max(len(yh), 1)))
    reps: dict[tuple[str, str, str], list[np.ndarray]] = {}
    points: dict[tuple[str, str, str], float] = {}
    for key, pred in preds.items():
        for m in metric_names:
            points[(*key, m)] = float(_metric_values(m, pred, yh, one)[0])
            reps[(*key, m)] = []
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        w = _boot_weights(boot_rng, len(yh), b)
        for key, pred in preds.items():
            for m in metric_names:
                reps[(*key, m)].append(_metric_values(m, pred, yh, w))
        done += b

    holdout_one_class = task == "classification" and np.unique(yh).size < 2
    metrics: dict[str, dict[str, UtilityMetric]] = {}
    for fam in FAMILIES:
        metrics[fam] = {}
        for m in metric_names:
            reason = None
            if m == "auc" and holdout_one_class:
                reason = "only one class in the holdout target"
            s_key, r_key = ("synthetic", fam, m), ("train", fam, m)
            s_ok = s_key in points and reason is None
            r_ok = r_key in points and reason is None
            if reason is None and not s_ok:
                reason = fitted["synthetic"][fam].reason
            if reason is None and not r_ok:
                reason = fitted["train"][fam].reason
            s_reps = np.concatenate(reps[s_key]) if s_ok else None
            r_reps = np.concatenate(reps[r_key]) if r_ok else None
            value = points[s_key] if s_ok else None
            base = points[r_key] if r_ok else None
            diff = diff_ci = None
            if s_ok and r_ok:
                diff = value - base
                diff_ci = _interval(s_reps - r_reps, level)
            metrics[fam][m] = UtilityMetric(
                name=m,
                value=value,
                baseline=base,
                ci=_interval(s_reps, level) if s_ok else None,
                baseline_ci=_interval(r_reps, level) if r_ok else None,
                difference=diff,
                difference_ci=diff_ci,
                reason=reason,
            )

    agreement = None
    if importance:
        agreement = _importance_agreement(
            fitted["train"]["boosting"],
            fitted["synthetic"]["boosting"],
            hold,
            yh,
            features=features,
            task=task,
            n_classes=n_classes or 0,
            max_rows=importance_rows,
            n_repeats=n_repeats,
            rng=np.random.default_rng(imp_seed),
        )
    target_reason = fitted["synthetic"]["boosting"].reason or fitted["train"]["boosting"].reason
    return TargetUtility(
        target=target,
        task=task,
        n_classes=n_classes,
        features=tuple(features),
        metrics=metrics,
        importance=agreement,
        n_train=sizes["train"],
        n_synthetic=sizes["synthetic"],
        n_holdout=sizes["holdout"],
        reason=target_reason,
    )


# ----------------------------------------------------------------------- public
def utility(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    targets: Sequence[str] | None = None,
    max_train_rows: int = 20_000,
    max_test_rows: int = 20_000,
    n_boot: int = 200,
    level: float = 0.95,
    max_classes: int = 10,
    importance: bool = True,
    importance_rows: int = 2_000,
    n_repeats: int = 3,
) -> UtilityResult:
    """Train on synthetic, test on real (TSTR), against train on real, test on real (TRTR).

    Args:
        train: the real records the generator learned from (typed by ``schema``).
        holdout: real records no generator saw; every model is scored on them.
        synthetic: the synthetic records.
        schema: column kinds and roles; only its model columns present in all three tables
            are used.
        seed: seeds subsampling, models, bootstrap and permutations; the same seed gives the
            same result.
        targets: the columns to predict; None means the schema's ``target`` columns.
        max_train_rows: each training table (real and synthetic) is subsampled (seeded) to at
            most this many rows.
        max_test_rows: the holdout is subsampled to at most this many rows.
        n_boot: bootstrap replicates behind every interval.
        level: coverage of the intervals.
        max_classes: most classes modelled per categorical target; rarer classes are lumped.
        importance: whether to compute the permutation-importance agreement.
        importance_rows: holdout rows (subsampled, seeded) the importances are measured on.
        n_repeats: permutations per column for the importances.

    Returns:
        A :class:`UtilityResult`.

    Raises:
        InputError: tables that are not DataFrames, unknown or absent targets, bad settings.
    """
    _validate(
        train,
        holdout,
        synthetic,
        schema,
        targets,
        max_train_rows,
        max_test_rows,
        n_boot,
        level,
        max_classes,
    )
    root = np.random.SeedSequence(seed)
    sub_seq, target_seq = root.spawn(2)
    sub_rng = np.random.default_rng(sub_seq)
    train = _subsample(train, int(max_train_rows), sub_rng)
    synthetic = _subsample(synthetic, int(max_train_rows), sub_rng)
    holdout = _subsample(holdout, int(max_test_rows), sub_rng)
    common = dict(
        n_train=len(train),
        n_synthetic=len(synthetic),
        n_holdout=len(holdout),
        max_train_rows=int(max_train_rows),
        n_boot=int(n_boot),
        seed=seed,
    )
    names = list(schema.with_role("target") if targets is None else targets)
    if not names:
        return UtilityResult(
            targets=(),
            reason="no target: the schema has no 'target' column; pass targets=[...]",
            **common,
        )
    usable = [
        c
        for c in schema.model_columns
        if c in train.columns and c in holdout.columns and c in synthetic.columns
    ]
    tte = set(schema.with_role("time_to_event_time")) | set(schema.with_role("time_to_event_event"))
    results = []
    for target, seq in zip(names, target_seq.spawn(len(names)), strict=True):
        features = [c for c in usable if c != target and c not in tte]
        results.append(
            _one_target(
                target,
                train=train,
                holdout=holdout,
                synthetic=synthetic,
                schema=schema,
                features=features,
                seed_seq=seq,
                n_boot=int(n_boot),
                level=float(level),
                max_classes=int(max_classes),
                importance=importance,
                importance_rows=int(importance_rows),
                n_repeats=int(n_repeats),
            )
        )
    return UtilityResult(targets=tuple(results), **common)
