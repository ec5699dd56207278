"""Marginal and pairwise fidelity: does each column, and each pair of columns, look right?

Every figure is a distance between a table and the training table, computed twice: for the
synthetic table (the figure's value) and for the holdout (its baseline: what a perfect
synthetic cohort of the holdout's size scores, since the holdout is fresh real data). Lower
is better for every distance; a value near its baseline is as good as real data gets.

Per column (only model columns present in all three tables):

- **numeric, integer, datetime** (datetimes as int64 nanoseconds): the two-sample
  Kolmogorov-Smirnov statistic (largest gap between the two empirical CDFs, in [0, 1]) and
  the Wasserstein-1 distance divided by the train column's inter-quartile range, or by its
  standard deviation (population, ``ddof=0``) when the IQR is 0, so 1 means "one IQR of
  shift". Both on the observed values only; missingness has its own figure.
- **categorical, boolean, text**: the total variation distance between the category shares,
  ``0.5 * sum |p - q|`` in [0, 1], with missing as a category of its own.
- **every column**: the absolute difference of the missing-value shares.

Pairs:

- **numeric, integer and datetime columns**: Spearman rank correlations, as the Pearson
  correlation of each column's average ranks (ranked over the column's observed values),
  over the rows where both columns are observed. Figures are ``|corr(train) - corr(other)|``.
- **categorical and boolean columns**: Cramér's V with Bergsma's (2013) bias correction,
  missing counted as a category. For speed a column keeps its 50 most frequent train
  categories (:data:`MAX_CATEGORIES`); the rest, and categories unseen in train, share one
  "other" category. Figures are ``|V(train) - V(other)|``. Text columns (free text) are not
  paired.

A figure that cannot be computed (a column with no observed values, a constant column with
no scale, a correlation with a constant column) is None, with the reason. No figure is an
estimate of a population quantity with an interval: the baseline shows the sampling noise at
this size. No real cell value, quantile or category label ever enters a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import round4, with_reason
from synthgen.evaluation.fidelity._distances import MAX_CATEGORIES as MAX_CATEGORIES
from synthgen.evaluation.fidelity._distances import (
    _capped,
    _cramers_matrix,
    _label_codes,
    _nanmax,
    _nanmean,
    _number_arrays,
    ks_wasserstein,
    spearman_matrix,
    total_variation,
)
from synthgen.evaluation.fidelity._distances import cramers_v as cramers_v

DIRECTION = "lower is better"
NUMBERLIKE = ("numeric", "integer", "datetime")
LABELLIKE = ("categorical", "boolean", "text")
TABLES = ("train", "holdout", "synthetic")


# -------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Figure:
    """One distance, for the synthetic table (value) and the holdout (baseline).

    Attributes:
        value: synthetic vs train; None when it cannot be computed.
        baseline: holdout vs train; None when it cannot be computed.
        reason: why a figure is None (plain words, no cell value); None otherwise.
        direction: how to read the figure.
    """

    value: float | None
    baseline: float | None
    reason: str | None = None
    direction: str = DIRECTION

    @property
    def excess(self) -> float | None:
        """How far the value is above its baseline (None when either is missing)."""
        if self.value is None or self.baseline is None:
            return None
        return self.value - self.baseline

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": round4(self.value),
            "direction": self.direction,
            "baseline": round4(self.baseline),
        }
        return with_reason(out, self.reason)


@dataclass(frozen=True)
class ColumnFidelity:
    """The figures of one column.

    Attributes:
        column: the column's name.
        kind: its kind in the schema.
        measures: figure name -> :class:`Figure`; ``ks`` and ``wasserstein`` for numeric,
            integer and datetime columns, ``tvd`` for the others, ``missing_share_diff``
            for all.
    """

    column: str
    kind: str
    measures: Mapping[str, Figure]

    @property
    def shape(self) -> Figure:
        """The column's shape figure: KS for number-like columns, TVD for the others."""
        return self.measures["ks"] if "ks" in self.measures else self.measures["tvd"]

    @property
    def shape_measure(self) -> str:
        return "ks" if "ks" in self.measures else "tvd"

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            **{name: fig.to_dict() for name, fig in self.measures.items()},
        }


@dataclass(frozen=True)
class PairFidelity:
    """Absolute differences of a pairwise association, synthetic and holdout vs train.

    Attributes:
        measure: ``"spearman"`` or ``"cramers_v"``.
        columns: the paired columns, in order.
        synthetic: ``|a(train) - a(synthetic)|``, a symmetric matrix (NaN where undefined).
        holdout: ``|a(train) - a(holdout)|``, the baseline.
    """

    measure: str
    columns: tuple[str, ...]
    synthetic: np.ndarray = field(repr=False, compare=False)
    holdout: np.ndarray = field(repr=False, compare=False)

    def pairs(self) -> list[tuple[str, str, Figure]]:
        """Every pair ``i < j`` with its figure."""
        out = []
        for i in range(len(self.columns)):
            for j in range(i + 1, len(self.columns)):
                s, h = self.synthetic[i, j], self.holdout[i, j]
                fig = Figure(
                    value=float(s) if np.isfinite(s) else None,
                    baseline=float(h) if np.isfinite(h) else None,
                    reason=None
                    if np.isfinite(s) and np.isfinite(h)
                    else "undefined where a column is constant or has too few observed values",
                )
                out.append((self.columns[i], self.columns[j], fig))
        return out

    def _upper(self, matrix: np.ndarray) -> np.ndarray:
        return matrix[np.triu_indices(len(self.columns), k=1)]

    def _summary(self, fn) -> Figure:
        if len(self.columns) < 2:
            return Figure(None, None, f"fewer than two columns for {self.measure}")
        value, baseline = fn(self._upper(self.synthetic)), fn(self._upper(self.holdout))
        reason = None if value is not None and baseline is not None else "no pair is defined"
        return Figure(value, baseline, reason)

    @property
    def mean_abs_diff(self) -> Figure:
        """Mean absolute difference over the defined pairs."""
        return self._summary(_nanmean)

    @property
    def max_abs_diff(self) -> Figure:
        """Largest absolute difference over the defined pairs."""
        return self._summary(_nanmax)

    def to_dict(self) -> dict[str, Any]:
        def plain(matrix: np.ndarray) -> list[list[float | None]]:
            return [[round4(v) for v in row] for row in matrix.tolist()]

        return {
            "measure": self.measure,
            "mean_abs_diff": self.mean_abs_diff.to_dict(),
            "max_abs_diff": self.max_abs_diff.to_dict(),
            "matrix": {
                "columns": list(self.columns),
                "synthetic": plain(self.synthetic),
                "holdout": plain(self.holdout),
            },
            "pairs": [{"columns": [a, b], **fig.to_dict()} for a, b, fig in self.pairs()],
        }


@dataclass(frozen=True)
class MarginalResult:
    """Marginal and pairwise fidelity of a synthetic cohort, with holdout baselines.

    Attributes:
        columns: per-column figures, in schema order.
        correlation: Spearman differences between numeric, integer and datetime columns.
        cramers_v: Cramér's V differences between categorical and boolean columns.
        skipped: model columns not compared -> why (absent from a table).
        n_train: rows of the training table.
        n_holdout: rows of the holdout.
        n_synthetic: rows of the synthetic table.
    """

    columns: tuple[ColumnFidelity, ...]
    correlation: PairFidelity
    cramers_v: PairFidelity
    skipped: Mapping[str, str]
    n_train: int
    n_holdout: int
    n_synthetic: int

    def column(self, name: str) -> ColumnFidelity:
        """The figures of column ``name``."""
        for col in self.columns:
            if col.column == name:
                return col
        raise KeyError(name)

    def _mean_of(self, measure: str) -> Figure:
        figs = [c.measures[measure] for c in self.columns if measure in c.measures]
        if not figs:
            return Figure(None, None, f"no column has a {measure} figure")
        values = np.array([np.nan if f.value is None else f.value for f in figs])
        baselines = np.array([np.nan if f.baseline is None else f.baseline for f in figs])
        value, baseline = _nanmean(values), _nanmean(baselines)
        reason = None if value is not None and baseline is not None else "no column is defined"
        return Figure(value, baseline, reason)

    @property
    def mean_ks(self) -> Figure:
        """Mean Kolmogorov-Smirnov statistic over the number-like columns that have one."""
        return self._mean_of("ks")

    @property
    def mean_tvd(self) -> Figure:
        """Mean total variation distance over the categorical, boolean and text columns."""
        return self._mean_of("tvd")

    @property
    def mean_wasserstein(self) -> Figure:
        """Mean IQR-normalised Wasserstein-1 distance over the number-like columns."""
        return self._mean_of("wasserstein")

    @property
    def mean_missing_share_diff(self) -> Figure:
        """Mean absolute difference of the missing-value shares."""
        return self._mean_of("missing_share_diff")

    def _shape(self, which: str) -> float | None:
        values = np.array(
            [
                np.nan if getattr(c.shape, which) is None else getattr(c.shape, which)
                for c in self.columns
            ],
            dtype=np.float64,
        )
        mean = _nanmean(values)
        return None if mean is None else 1.0 - mean

    @property
    def headline(self) -> float | None:
        """The shape score: 1 − the mean per-column KS or TVD of the synthetic table.

        In [0, 1], higher is better; None when no column has a figure. Cheap, for
        subgroup break-downs.
        """
        return self._shape("value")

    @property
    def headline_baseline(self) -> float | None:
        """The shape score of the holdout: the ceiling of :attr:`headline`."""
        return self._shape("baseline")

    def worst_columns(self, n: int = 3) -> list[ColumnFidelity]:
        """The ``n`` columns whose shape figure most exceeds its baseline, worst first."""
        rated = [c for c in self.columns if c.shape.excess is not None]
        rated.sort(key=lambda c: -c.shape.excess)  # type: ignore[operator]
        return rated[:n]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, floats rounded to 4 decimals, NaN as null."""
        return {
            "n_train": int(self.n_train),
            "n_holdout": int(self.n_holdout),
            "n_synthetic": int(self.n_synthetic),
            "summary": {
                "shape_score": {
                    "value": round4(self.headline),
                    "direction": "higher is better",
                    "baseline": round4(self.headline_baseline),
                },
                "mean_ks": self.mean_ks.to_dict(),
                "mean_tvd": self.mean_tvd.to_dict(),
                "mean_wasserstein": self.mean_wasserstein.to_dict(),
                "mean_missing_share_diff": self.mean_missing_share_diff.to_dict(),
                "mean_abs_corr_diff": self.correlation.mean_abs_diff.to_dict(),
                "max_abs_corr_diff": self.correlation.max_abs_diff.to_dict(),
                "mean_abs_cramers_v_diff": self.cramers_v.mean_abs_diff.to_dict(),
                "max_abs_cramers_v_diff": self.cramers_v.max_abs_diff.to_dict(),
                "worst_columns": [
                    {
                        "column": c.column,
                        "measure": c.shape_measure,
                        "value": round4(c.shape.value),
                        "baseline": round4(c.shape.baseline),
                        "excess": round4(c.shape.excess),
                    }
                    for c in self.worst_columns()
                ],
            },
            "columns": {c.column: c.to_dict() for c in self.columns},
            "correlation": self.correlation.to_dict(),
            "cramers_v": self.cramers_v.to_dict(),
            "skipped": dict(self.skipped),
        }


# ---------------------------------------------------------------------------- helpers
def _tables(train: Any, holdout: Any, synthetic: Any, schema: Schema) -> tuple[list, dict]:
    """Checked tables: the compared columns and the skipped ones with reasons."""
    problems = []
    if not isinstance(schema, Schema):
        raise InputError(f"schema must be a synthgen Schema, got {type(schema).__name__}")
    tables = {"train": train, "holdout": holdout, "synthetic": synthetic}
    for name, df in tables.items():
        if not isinstance(df, pd.DataFrame):
            problems.append(f"the {name} table must be a pandas DataFrame, got {type(df).__name__}")
        elif len(df) == 0:
            problems.append(f"the {name} table has no rows")
    if problems:
        raise InputError("; ".join(problems))
    columns, skipped = [], {}
    for col in schema.model_columns:
        absent = [name for name, df in tables.items() if col not in df.columns]
        if absent:
            skipped[col] = f"absent from the {' and '.join(absent)} table"
        else:
            columns.append(col)
    if not columns:
        raise InputError(
            "no model column of the schema is present in all of train, holdout and synthetic"
        )
    return columns, skipped


def _number_figures(arrays: dict[str, np.ndarray]) -> dict[str, Figure]:
    train = arrays["train"]
    train_obs = train[~np.isnan(train)]
    scale, scale_reason = None, None
    if train_obs.size == 0:
        scale_reason = "the train column has no observed values"
    else:
        q1, q3 = np.percentile(train_obs, [25, 75])
        scale = float(q3 - q1)
        if not scale > 0:
            scale = float(np.std(train_obs))
        if not scale > 0:
            scale, scale_reason = None, "the train column is constant: no scale to normalise by"
    ks, wd, reasons = {}, {}, []
    for name in ("synthetic", "holdout"):
        other = arrays[name]
        other_obs = other[~np.isnan(other)]
        if train_obs.size == 0 or other_obs.size == 0:
            which = "train" if train_obs.size == 0 else name
            reasons.append(f"the {which} column has no observed values")
            ks[name] = wd[name] = None
            continue
        k, w = ks_wasserstein(train_obs, other_obs)
        ks[name] = k
        wd[name] = None if scale is None else w / scale
    reason = "; ".join(dict.fromkeys(reasons)) or None
    w_reason = "; ".join(dict.fromkeys(reasons + ([scale_reason] if scale_reason else []))) or None
    return {
        "ks": Figure(ks["synthetic"], ks["holdout"], reason),
        "wasserstein": Figure(wd["synthetic"], wd["holdout"], w_reason),
    }


def _missing_figure(missing: dict[str, np.ndarray]) -> Figure:
    share = {name: float(m.mean()) for name, m in missing.items()}
    return Figure(abs(share["synthetic"] - share["train"]), abs(share["holdout"] - share["train"]))


# ---------------------------------------------------------------------------- measure
def marginal_fidelity(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
) -> MarginalResult:
    """Compare every column's distribution, and every pair's association, with train.

    Each figure is computed for the synthetic table (value) and for the holdout (baseline,
    the ceiling at this size). See the module docstring for the measures.

    Args:
        train: the real training table.
        holdout: real records the generator never saw.
        synthetic: the synthetic table; columns typed or as text (parsed by the schema).
        schema: the schema; its model columns present in all three tables are compared.

    Returns:
        A :class:`MarginalResult`.

    Raises:
        InputError: a table is not a non-empty DataFrame, no model column is in all three
            tables, or a compared column holds values that do not fit its kind (counted,
            never shown; :func:`synthgen.evaluation.fidelity.validity.validity` counts them
            in the synthetic table without raising).
    """
    columns, skipped = _tables(train, holdout, synthetic, schema)
    tables = {"train": train, "holdout": holdout, "synthetic": synthetic}
    problems: list[str] = []
    per_column: list[ColumnFidelity] = []
    number_cols: list[str] = []
    number_arrays: dict[str, list[np.ndarray]] = {name: [] for name in TABLES}
    label_cols: list[str] = []
    label_codes: dict[str, list[np.ndarray]] = {name: [] for name in TABLES}
    label_sizes: list[int] = []

    for col in columns:
        spec = schema[col]
        if spec.kind in NUMBERLIKE:
            arrays = _number_arrays(col, spec, tables, problems)
            if arrays is None:
                continue
            measures = _number_figures(arrays)
            measures["missing_share_diff"] = _missing_figure(
                {name: np.isnan(a) for name, a in arrays.items()}
            )
            number_cols.append(col)
            for name in TABLES:
                number_arrays[name].append(arrays[name])
        else:
            coded = _label_codes(col, spec, tables, problems)
            if coded is None:
                continue
            codes, n_codes = coded
            counts = {name: np.bincount(c, minlength=n_codes) for name, c in codes.items()}
            measures = {
                "tvd": Figure(
                    total_variation(counts["train"], counts["synthetic"]),
                    total_variation(counts["train"], counts["holdout"]),
                ),
                "missing_share_diff": _missing_figure(
                    {name: c == n_codes - 1 for name, c in codes.items()}
                ),
            }
            if spec.kind != "text":
                codes, n_kept = _capped(codes, n_codes)
                label_cols.append(col)
                label_sizes.append(n_kept)
                for name in TABLES:
                    label_codes[name].append(codes[name])
        per_column.append(ColumnFidelity(column=col, kind=spec.kind, measures=measures))
    if problems:
        raise InputError("; ".join(problems))

    corr = {}
    for name in TABLES:
        stacked = (
            np.column_stack(number_arrays[name])
            if number_cols
            else np.empty((len(tables[name]), 0))
        )
        corr[name] = spearman_matrix(stacked)
    cv = {name: _cramers_matrix(label_codes[name], label_sizes) for name in TABLES}
    return MarginalResult(
        columns=tuple(per_column),
        correlation=PairFidelity(
            measure="spearman",
            columns=tuple(number_cols),
            synthetic=np.abs(corr["train"] - corr["synthetic"]),
            holdout=np.abs(corr["train"] - corr["holdout"]),
        ),
        cramers_v=PairFidelity(
            measure="cramers_v",
            columns=tuple(label_cols),
            synthetic=np.abs(cv["train"] - cv["synthetic"]),
            holdout=np.abs(cv["train"] - cv["holdout"]),
        ),
        skipped=skipped,
        n_train=len(train),
        n_holdout=len(holdout),
        n_synthetic=len(synthetic),
    )
