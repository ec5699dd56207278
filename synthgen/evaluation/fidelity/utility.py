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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import (
    input_problems,
    round4,
    round4_ci,
    shared_columns,
    subsample_rows,
    with_reason,
    with_sizes,
)
from synthgen.evaluation.fidelity._utility_models import (
    FAMILIES,
    MIN_RECORDS,
    _compare,
    _fit_source,
    _holdout_scores,
    _importance_fields,
    _prepare_targets,
)
from synthgen.evaluation.fidelity._utility_models import TOP_K as TOP_K
from synthgen.evaluation.fidelity._utility_models import _metric_values as _metric_values
from synthgen.evaluation.fidelity._utility_models import weighted_auc as weighted_auc

CLASSIFICATION_METRICS: tuple[str, ...] = ("auc", "accuracy")
REGRESSION_METRICS: tuple[str, ...] = ("r2", "mae")
DIRECTIONS: dict[str, str] = {
    "auc": "higher is better",
    "accuracy": "higher is better",
    "r2": "higher is better",
    "mae": "lower is better",
}


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
            "value": round4(self.value),
            "direction": self.direction,
            "ci": round4_ci(self.ci),
            "baseline": round4(self.baseline),
            "baseline_ci": round4_ci(self.baseline_ci),
            "difference": {"value": round4(self.difference), "ci": round4_ci(self.difference_ci)},
        }
        return with_reason(out, self.reason)


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
                "value": round4(self.spearman),
                "direction": "higher is better",
                "baseline": 1.0,
            },
            "top_real": list(self.top_real),
            "top_synthetic": list(self.top_synthetic),
            "model": self.model,
            "n_rows": int(self.n_rows),
            "n_repeats": int(self.n_repeats),
        }
        return with_reason(out, self.reason)


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
        }
        return with_sizes(out, self, self.reason)


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
                "value": round4(self.headline),
                "direction": "higher is better",
                "baseline": 0.0,
                "description": "mean TSTR minus TRTR of the boosting model's AUC or R2",
            },
            "targets": {t.target: t.to_dict() for t in self.targets},
        }
        with_sizes(out, self, None)
        out.update(max_train_rows=int(self.max_train_rows), n_boot=int(self.n_boot), seed=self.seed)
        return with_reason(out, self.reason)


# ----------------------------------------------------------------------- helpers
def _validate(
    frames: dict[str, Any],
    schema: Any,
    targets: Sequence[str] | None,
    level: Any,
    settings: dict[str, tuple[Any, int]],
) -> None:
    problems = input_problems(frames, schema, settings)
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
    return df.iloc[subsample_rows(len(df), cap, rng)].reset_index(drop=True)


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

    frames, ys, n_classes = _prepare_targets(
        {"train": train, "synthetic": synthetic, "holdout": holdout},
        target,
        spec,
        features=features,
        task=task,
        max_classes=max_classes,
    )
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
    described = dict(
        target=target,
        task=task,
        n_classes=n_classes,
        features=tuple(features),
        n_train=len(frames["train"]),
        n_synthetic=len(frames["synthetic"]),
        n_holdout=len(frames["holdout"]),
    )
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
        return TargetUtility(metrics=metrics, reason=reason, **described)

    points, reps = _holdout_scores(
        fitted,
        hold,
        yh,
        task=task,
        n_classes=n_classes,
        metric_names=metric_names,
        n_boot=n_boot,
        rng=np.random.default_rng(boot_seed),
    )
    holdout_one_class = task == "classification" and np.unique(yh).size < 2
    metrics: dict[str, dict[str, UtilityMetric]] = {}
    for fam in FAMILIES:
        metrics[fam] = {}
        for m in metric_names:
            fields = _compare(
                points, reps, fitted, fam, m, level=level, holdout_one_class=holdout_one_class
            )
            metrics[fam][m] = UtilityMetric(name=m, **fields)

    agreement = None
    if importance:
        agreement = ImportanceAgreement(
            **_importance_fields(
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
        )
    target_reason = fitted["synthetic"]["boosting"].reason or fitted["train"]["boosting"].reason
    return TargetUtility(metrics=metrics, importance=agreement, reason=target_reason, **described)


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
        {"train": train, "holdout": holdout, "synthetic": synthetic},
        schema,
        targets,
        level,
        {
            "max_train_rows": (max_train_rows, MIN_RECORDS),
            "max_test_rows": (max_test_rows, MIN_RECORDS),
            "n_boot": (n_boot, 1),
            "max_classes": (max_classes, 2),
        },
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
    usable, _ = shared_columns(schema, train=train, holdout=holdout, synthetic=synthetic)
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
