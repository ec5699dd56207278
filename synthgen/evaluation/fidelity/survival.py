"""Survival fidelity: Kaplan-Meier curves, log-rank conclusions and Cox models, real vs synthetic.

The time-to-event pair is the schema's ``time_to_event_time`` column (a numeric or integer
duration) and its ``time_to_event_event`` column (boolean, or 0/1). Rows missing either are
left out. Every figure for the synthetic cohort (against train) comes with the same figure for
the holdout (against train): what a perfect synthetic cohort of this size would score.

- **Kaplan-Meier.** Curves of train and synthetic, overall and per level of every subgroup
  column, compared by the maximum absolute difference and the integrated absolute difference
  over the common time range (from the smaller first time to the smaller last time of the
  two tables), divided by that range's length. The curves themselves are *not* reported:
  their steps sit at real event times.
- **Log-rank.** For every subgroup column, the k-sample log-rank test across its levels (those
  with at least ``min_records`` training records), on train, synthetic and holdout; whether
  synthetic (and holdout) reach the same conclusion as train at the 5% level.
- **Cox proportional hazards.** Breslow ties, Newton-Raphson with step halving and a small
  ridge penalty ``ridge / 2 * ||beta||^2`` (keeps a separated or constant covariate finite).
  Covariates: every other model column present in all tables (text columns and categorical
  columns with more than ``max_levels`` levels left out). The design is learned on the real
  training table and applied unchanged to every table, so hazard ratios are on one scale:
  numbers and dates are z-scored (hazard ratio per standard deviation) with the missing
  imputed by the mean plus a missing indicator; booleans are 0/1; categories are one-hot
  against the most frequent level; a level or boolean with fewer than ``min_records``
  training records in its minority is left out (merged into the reference). Hazard ratios
  with Wald 95% intervals are fitted on train, synthetic and holdout; reported are real and
  synthetic, whether their intervals overlap, and the share of covariates that overlap (the
  holdout's share is the baseline).
- **C-index.** Harrell's concordance (pairs with ``t_i < t_j`` and an event at ``t_i``;
  ties in risk count half) on the holdout of the Cox model fitted on synthetic, with the one
  fitted on train as the baseline. Computed exactly in ``O(n log n)``-ish time on a seeded
  subsample of at most ``max_cox_rows`` holdout rows.

Cox fits and the C-index use seeded subsamples of at most ``max_cox_rows`` rows per table;
everything else uses at most ``max_rows`` rows per table. The sizes are recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import round4, with_reason, with_sizes
from synthgen.evaluation.fidelity._survival_math import _Z95 as _Z95
from synthgen.evaluation.fidelity._survival_math import (
    _c_indices,
    _cox_fits,
    _event_pair,
    _hazard_ratio_cis,
    _level_keys,
    _logrank_ps,
    _overlap,
    _prepare,
    _Table,
    _validate,
    km_distance,
)
from synthgen.evaluation.fidelity._survival_math import concordance_index as concordance_index
from synthgen.evaluation.fidelity._survival_math import cox_fit as cox_fit
from synthgen.evaluation.fidelity._survival_math import kaplan_meier as kaplan_meier
from synthgen.evaluation.fidelity._survival_math import logrank_test as logrank_test

ALPHA = 0.05
"""Significance level at which log-rank conclusions are compared."""


# ------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Figure:
    """A synthetic figure with its holdout baseline.

    Attributes:
        value: synthetic (vs train), or None.
        baseline: holdout (vs train), or None.
        direction: ``"lower is better"`` or ``"higher is better"``.
    """

    value: float | None
    baseline: float | None
    direction: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": round4(self.value),
            "direction": self.direction,
            "baseline": round4(self.baseline),
        }


@dataclass(frozen=True)
class KMComparison:
    """Kaplan-Meier curves of train vs synthetic (and train vs holdout, the baseline).

    Attributes:
        max_abs: the maximum absolute difference of the survival curves.
        integrated_abs: the integrated absolute difference, divided by the range's length.
        n_train: training rows in the curve.
        n_synthetic: synthetic rows in the curve.
        n_holdout: holdout rows in the curve.
        reason: why the figures are None (e.g. "too few records").
    """

    max_abs: Figure | None
    integrated_abs: Figure | None
    n_train: int = 0
    n_synthetic: int = 0
    n_holdout: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.reason and self.max_abs is None:
            return {"reason": self.reason}
        out: dict[str, Any] = {
            "max_abs_difference": self.max_abs.to_dict(),
            "integrated_abs_difference": self.integrated_abs.to_dict(),
        }
        return with_sizes(out, self, self.reason)


@dataclass(frozen=True)
class LogRankComparison:
    """The log-rank test across the levels of one subgroup column, per table.

    Attributes:
        p_real: p-value on train.
        p_synthetic: p-value on synthetic.
        p_holdout: p-value on holdout.
        n_groups: levels tested (those with at least ``min_records`` training records).
        agree: whether synthetic reaches train's conclusion at :data:`ALPHA`.
        baseline_agree: whether holdout does.
        reason: why some figure is None.
    """

    p_real: float | None
    p_synthetic: float | None
    p_holdout: float | None
    n_groups: int = 0
    agree: bool | None = None
    baseline_agree: bool | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "p_real": round4(self.p_real),
            "p_synthetic": round4(self.p_synthetic),
            "p_holdout": round4(self.p_holdout),
            "alpha": ALPHA,
            "n_groups": int(self.n_groups),
            "agree": {
                "value": self.agree,
                "direction": "true is better",
                "baseline": self.baseline_agree,
            },
        }
        return with_reason(out, self.reason)


@dataclass(frozen=True)
class HazardRatio:
    """One covariate's hazard ratio on real (train) and synthetic data.

    Attributes:
        covariate: the design column (``age``, ``sex=M``, ``bmi__missing``).
        real: hazard ratio fitted on train.
        real_ci: its Wald 95% interval.
        synthetic: hazard ratio fitted on synthetic.
        synthetic_ci: its interval.
        overlap: whether the two intervals overlap.
        baseline_overlap: whether the holdout's interval overlaps train's.
    """

    covariate: str
    real: float
    real_ci: tuple[float, float]
    synthetic: float | None
    synthetic_ci: tuple[float, float] | None
    overlap: bool | None
    baseline_overlap: bool | None

    def to_dict(self) -> dict[str, Any]:
        def ci(c):
            return None if c is None else [round4(c[0]), round4(c[1])]

        return {
            "real": {"hr": round4(self.real), "ci": ci(self.real_ci)},
            "synthetic": {"hr": round4(self.synthetic), "ci": ci(self.synthetic_ci)},
            "overlap": self.overlap,
            "baseline_overlap": self.baseline_overlap,
        }


@dataclass(frozen=True)
class CoxComparison:
    """Cox models fitted on train, synthetic and holdout.

    Attributes:
        hazard_ratios: one per design covariate.
        overlap_share: share of covariates whose synthetic interval overlaps train's
            (baseline: the holdout's share).
        c_index: C-index on the holdout of the model fitted on synthetic (baseline: fitted
            on train).
        excluded: ``{column: why}`` for the columns left out of the design.
        converged: ``{table: bool}`` whether each fit converged.
        n_train: training rows fitted.
        n_synthetic: synthetic rows fitted.
        n_holdout: holdout rows fitted and scored.
        ridge: the ridge penalty.
        reason: why figures are None.
    """

    hazard_ratios: tuple[HazardRatio, ...] = ()
    overlap_share: Figure | None = None
    c_index: Figure | None = None
    excluded: Mapping[str, str] = field(default_factory=dict)
    converged: Mapping[str, bool] = field(default_factory=dict)
    n_train: int = 0
    n_synthetic: int = 0
    n_holdout: int = 0
    ridge: float = 0.0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hazard_ratios": {h.covariate: h.to_dict() for h in self.hazard_ratios},
            "overlap_share": None if self.overlap_share is None else self.overlap_share.to_dict(),
            "c_index": None if self.c_index is None else self.c_index.to_dict(),
            "excluded": dict(self.excluded),
            "converged": dict(self.converged),
        }
        with_sizes(out, self, None)
        out["ridge"] = self.ridge
        return with_reason(out, self.reason)


@dataclass(frozen=True)
class SurvivalResult:
    """Survival fidelity of a synthetic cohort.

    Attributes:
        time_column: the follow-up time column (None when the schema has none).
        event_column: the event column.
        overall: Kaplan-Meier comparison over all records.
        groups: ``{column: {level: KMComparison}}``; levels with too few records carry only
            a reason.
        logrank: ``{column: LogRankComparison}``.
        cox: the Cox comparison (None when skipped).
        n_train: training rows used (after subsampling and dropping missing times/events).
        n_synthetic: synthetic rows used.
        n_holdout: holdout rows used.
        seed: the seed.
        reason: why there are no figures.
    """

    time_column: str | None
    event_column: str | None
    overall: KMComparison | None = None
    groups: Mapping[str, Mapping[str, KMComparison]] = field(default_factory=dict)
    logrank: Mapping[str, LogRankComparison] = field(default_factory=dict)
    cox: CoxComparison | None = None
    n_train: int = 0
    n_synthetic: int = 0
    n_holdout: int = 0
    seed: int | None = None
    reason: str | None = None

    @property
    def headline(self) -> float | None:
        """The integrated absolute difference of the overall Kaplan-Meier curves (lower is
        better; the holdout's is the baseline)."""
        if self.overall is None or self.overall.integrated_abs is None:
            return None
        return self.overall.integrated_abs.value

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals; no curve and no real event time."""
        base = None
        if self.overall is not None and self.overall.integrated_abs is not None:
            base = self.overall.integrated_abs.baseline
        out: dict[str, Any] = {
            "headline": {
                "value": round4(self.headline),
                "direction": "lower is better",
                "baseline": round4(base),
                "description": "integrated absolute difference of the Kaplan-Meier curves",
            },
            "time_column": self.time_column,
            "event_column": self.event_column,
            "overall": None if self.overall is None else self.overall.to_dict(),
            "groups": {
                col: {lvl: km.to_dict() for lvl, km in levels.items()}
                for col, levels in self.groups.items()
            },
            "logrank": {col: lr.to_dict() for col, lr in self.logrank.items()},
            "cox": None if self.cox is None else self.cox.to_dict(),
        }
        with_sizes(out, self, None)
        out["seed"] = self.seed
        return with_reason(out, self.reason)


# ------------------------------------------------------------------------ helpers


def _km_figures(a: _Table, b: _Table, h: _Table, ma, mb, mh) -> KMComparison:
    syn = km_distance(
        time_a=a.time[ma], event_a=a.event[ma], time_b=b.time[mb], event_b=b.event[mb]
    )
    hol = km_distance(
        time_a=a.time[ma], event_a=a.event[ma], time_b=h.time[mh], event_b=h.event[mh]
    )
    return KMComparison(
        max_abs=Figure(syn[0], hol[0], "lower is better"),
        integrated_abs=Figure(syn[1], hol[1], "lower is better"),
        n_train=int(np.sum(ma)) if ma.dtype == bool else int(ma.size),
        n_synthetic=int(np.sum(mb)) if mb.dtype == bool else int(mb.size),
        n_holdout=int(np.sum(mh)) if mh.dtype == bool else int(mh.size),
    )


def _logrank_for(
    tables: dict[str, _Table], keys: dict[str, pd.Series], levels: list[str], min_records: int
) -> LogRankComparison:
    ps, reasons = _logrank_ps(tables, keys, levels, min_records)

    def same(p):
        if ps["train"] is None or p is None:
            return None
        return (ps["train"] < ALPHA) == (p < ALPHA)

    return LogRankComparison(
        p_real=ps["train"],
        p_synthetic=ps["synthetic"],
        p_holdout=ps["holdout"],
        n_groups=len(levels),
        agree=same(ps["synthetic"]),
        baseline_agree=same(ps["holdout"]),
        reason="; ".join(reasons) or None,
    )


def _cox(
    tables: dict[str, _Table],
    schema: Schema,
    columns: list[str],
    *,
    cap: int,
    rng: np.random.Generator,
    ridge: float,
    max_levels: int,
    min_records: int,
) -> CoxComparison:
    subs, design, xs, fits, reasons = _cox_fits(
        tables,
        schema,
        columns,
        cap=cap,
        rng=rng,
        ridge=ridge,
        max_levels=max_levels,
        min_records=min_records,
    )
    sizes = {f"n_{w}": len(s.time) for w, s in subs.items()}
    if not design.names:
        return CoxComparison(
            excluded=design.excluded, ridge=ridge, reason="no usable covariate", **sizes
        )
    if fits["train"] is None:
        return CoxComparison(
            excluded=design.excluded, ridge=ridge, reason="; ".join(reasons), **sizes
        )

    hrs = [
        HazardRatio(
            covariate=name,
            real=row["real"],
            real_ci=row["real_ci"],
            synthetic=row["synthetic"],
            synthetic_ci=row["synthetic_ci"],
            overlap=_overlap(row["real_ci"], row["synthetic_ci"]),
            baseline_overlap=_overlap(row["real_ci"], row["holdout_ci"]),
        )
        for name, row in zip(design.names, _hazard_ratio_cis(fits, len(design.names)), strict=True)
    ]

    def share(flags):
        flags = [f for f in flags if f is not None]
        return float(np.mean(flags)) if flags else None

    c_vals = _c_indices(fits, subs["holdout"], xs["holdout"], min_records)
    return CoxComparison(
        hazard_ratios=tuple(hrs),
        overlap_share=Figure(
            share([h.overlap for h in hrs]),
            share([h.baseline_overlap for h in hrs]),
            "higher is better",
        ),
        c_index=Figure(c_vals["synthetic"], c_vals["train"], "higher is better"),
        excluded=design.excluded,
        converged={w: bool(f[2]) for w, f in fits.items() if f is not None},
        ridge=ridge,
        reason="; ".join(reasons) or None,
        **sizes,
    )


# ------------------------------------------------------------------------- public
def survival(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    groups: Sequence[str] | None = None,
    max_rows: int = 50_000,
    max_cox_rows: int = 20_000,
    min_records: int = 20,
    max_levels: int = 10,
    ridge: float = 1e-2,
    cox: bool = True,
) -> SurvivalResult:
    """Compare the survival structure of a synthetic cohort with the real one.

    Args:
        train: real records the generator learned from (typed by ``schema``).
        holdout: real records no generator saw (the baseline).
        synthetic: the synthetic records.
        schema: column kinds and roles; needs a ``time_to_event_time`` and a
            ``time_to_event_event`` column (the first of each is used).
        seed: seeds the subsampling; the same seed gives the same result.
        groups: columns for the per-group curves and the log-rank tests; None means the
            schema's ``subgroup`` columns.
        max_rows: each table is subsampled (seeded) to at most this many rows.
        max_cox_rows: rows per table for the Cox fits and the C-index.
        min_records: fewest records a group (or table) needs for a figure.
        max_levels: a group or categorical covariate with more levels is left out.
        ridge: ridge penalty of the Cox fits.
        cox: whether to fit the Cox models (skip for a quick look).

    Returns:
        A :class:`SurvivalResult`; ``reason`` says why when there are no figures.

    Raises:
        InputError: tables that are not DataFrames, bad settings, unknown group columns.
    """
    _validate(
        train,
        holdout,
        synthetic,
        schema,
        groups,
        {
            "max_rows": (max_rows, 2),
            "max_cox_rows": (max_cox_rows, 2),
            "min_records": (min_records, 2),
            "max_levels": (max_levels, 2),
        },
    )
    if not isinstance(ridge, (int, float)) or isinstance(ridge, bool) or ridge < 0:
        raise InputError(f"ridge must be a non-negative number; got {ridge!r}")
    frames = {"train": train, "synthetic": synthetic, "holdout": holdout}
    time_col, event_col, reason = _event_pair(schema, frames)
    if reason:
        return SurvivalResult(
            time_column=time_col, event_column=event_col, seed=seed, reason=reason
        )

    root = np.random.SeedSequence(seed)
    sub_rng, cox_rng = (np.random.default_rng(s) for s in root.spawn(2))
    tables = {
        w: _prepare(df, schema, time_col, event_col, int(max_rows), sub_rng)
        for w, df in frames.items()
    }
    sizes = {f"n_{w}": len(t.time) for w, t in tables.items()}
    small = [w for w, t in tables.items() if len(t.time) < min_records]
    if small:
        return SurvivalResult(
            time_column=time_col,
            event_column=event_col,
            seed=seed,
            reason=f"too few records in {', '.join(small)} (fewer than {min_records})",
            **sizes,
        )
    a, b, h = tables["train"], tables["synthetic"], tables["holdout"]
    overall = _km_figures(
        a, b, h, np.ones(len(a.time), bool), np.ones(len(b.time), bool), np.ones(len(h.time), bool)
    )

    usable = [
        c
        for c in schema.model_columns
        if all(c in df.columns for df in frames.values()) and c not in (time_col, event_col)
    ]
    group_cols = [
        g for g in (schema.with_role("subgroup") if groups is None else groups) if g in usable
    ]
    km_groups: dict[str, dict[str, KMComparison]] = {}
    logrank: dict[str, LogRankComparison] = {}
    for col in group_cols:
        keys = {w: _level_keys(t.frame[col], schema[col]) for w, t in tables.items()}
        counts = keys["train"].value_counts()
        if len(counts) > max_levels:
            logrank[col] = LogRankComparison(
                None, None, None, reason=f"more than {max_levels} levels"
            )
            continue
        per_level: dict[str, KMComparison] = {}
        for level in counts.index:
            masks = {w: (keys[w] == level).to_numpy() for w in tables}
            if any(m.sum() < min_records for m in masks.values()):
                per_level[level] = KMComparison(None, None, reason="too few records")
                continue
            per_level[level] = _km_figures(
                a, b, h, masks["train"], masks["synthetic"], masks["holdout"]
            )
        km_groups[col] = per_level
        train_ok = [lvl for lvl in counts.index if counts[lvl] >= min_records]
        logrank[col] = _logrank_for(tables, keys, train_ok, min_records)

    cox_result = None
    if cox:
        cox_result = _cox(
            tables,
            schema,
            usable,
            cap=int(max_cox_rows),
            rng=cox_rng,
            ridge=float(ridge),
            max_levels=int(max_levels),
            min_records=int(min_records),
        )
    return SurvivalResult(
        time_column=time_col,
        event_column=event_col,
        overall=overall,
        groups=km_groups,
        logrank=logrank,
        cox=cox_result,
        seed=seed,
        **sizes,
    )
