"""Models and metrics behind the utility figures (internal).

Fitting the linear and boosting models on one source, predicting class probabilities or
values, bootstrap-weighted metrics (one sort serves every replicate), percentile intervals,
target encoding and permutation importances per original column.
:mod:`synthgen.evaluation.fidelity.utility` orchestrates them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
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
from synthgen.evaluation.fidelity._common import subsample_rows

FAMILIES: tuple[str, ...] = ("linear", "boosting")
"""The model families trained for every target."""

MIN_RECORDS = 20
"""Fewest rows (with a known target) a training or test table needs for a figure."""

TOP_K = 5
"""Most important columns reported per model."""

_OTHER = -1  # class code of the lumped rare classes


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


# -------------------------------------------------------------------- targets
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


# --------------------------------------------------------------------- models
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


def _prepare_targets(
    tables: dict[str, pd.DataFrame],
    target: str,
    spec,
    *,
    features: list[str],
    task: str,
    max_classes: int,
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray], int | None]:
    """Feature frames and target values of each table (rows with a known target), and the
    number of classes modelled (None for a regression)."""
    ys = {}
    frames = {}
    for which, df in tables.items():
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
    return frames, ys, n_classes


# ------------------------------------------------------------------ holdout scores
def _holdout_scores(
    fitted: dict[str, dict[str, _Fitted]],
    hold: pd.DataFrame,
    yh: np.ndarray,
    *,
    task: str,
    n_classes: int | None,
    metric_names: tuple[str, ...],
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[dict[tuple[str, str, str], float], dict[tuple[str, str, str], list[np.ndarray]]]:
    """Point values and bootstrap replicates of every metric of every available model,
    keyed ``(source, family, metric)``."""
    # predictions of every available model on the holdout
    preds: dict[tuple[str, str], np.ndarray] = {}
    for which in ("train", "synthetic"):
        for fam in FAMILIES:
            f = fitted[which][fam]
            if f.model is not None:
                preds[which, fam] = _predict(f.model, f.encoder.transform(hold), task, n_classes)

    # point values (weights all one) and bootstrap replicates, same rows for all models
    one = np.ones((1, len(yh)))
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
        w = _boot_weights(rng, len(yh), b)
        for key, pred in preds.items():
            for m in metric_names:
                reps[(*key, m)].append(_metric_values(m, pred, yh, w))
        done += b
    return points, reps


def _compare(
    points: dict[tuple[str, str, str], float],
    reps: dict[tuple[str, str, str], list[np.ndarray]],
    fitted: dict[str, dict[str, _Fitted]],
    fam: str,
    m: str,
    *,
    level: float,
    holdout_one_class: bool,
) -> dict[str, Any]:
    """TSTR value, TRTR baseline, their difference and the intervals of one metric."""
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
    return dict(
        value=value,
        baseline=base,
        ci=_interval(s_reps, level) if s_ok else None,
        baseline_ci=_interval(r_reps, level) if r_ok else None,
        difference=diff,
        difference_ci=diff_ci,
        reason=reason,
    )


def _importance_fields(
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
) -> dict[str, Any]:
    """Spearman agreement and top columns of the two models' permutation importances."""
    if real.model is None or synth.model is None:
        return dict(spearman=None, reason=real.reason or synth.reason, n_repeats=n_repeats)
    rows = subsample_rows(len(holdout), max_rows, rng)
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
    return dict(
        spearman=rho,
        top_real=top_real,
        top_synthetic=top_synth,
        n_rows=m,
        n_repeats=n_repeats,
        reason=reason,
    )
