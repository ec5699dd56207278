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
from scipy import stats

from synthgen.data.schema import Schema, coerce_column
from synthgen.errors import InputError

ALPHA = 0.05
"""Significance level at which log-rank conclusions are compared."""

_Z95 = float(stats.norm.ppf(0.975))


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


# ------------------------------------------------------------------ the estimators
def kaplan_meier(*, time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    """The Kaplan-Meier estimator.

    Args:
        time: ``(n,)`` follow-up times.
        event: ``(n,)`` true (or 1) where the follow-up ended in the event.

    Returns:
        ``(times, survival)``: the distinct event times, ascending, and the estimated
        survival just after each. Survival is 1 before the first event time.
    """
    t = np.asarray(time, dtype=np.float64)
    d = np.asarray(event, dtype=bool)
    if t.shape != d.shape or t.ndim != 1:
        raise InputError("time and event must be one-dimensional and of the same length")
    uniq, inverse = np.unique(t, return_inverse=True)
    deaths = np.bincount(inverse, weights=d.astype(np.float64), minlength=uniq.size)
    leaving = np.bincount(inverse, minlength=uniq.size).astype(np.float64)
    at_risk = t.size - np.r_[0.0, np.cumsum(leaving)[:-1]]
    keep = deaths > 0
    surv = np.cumprod(1.0 - deaths[keep] / at_risk[keep])
    return uniq[keep], surv


def _step(times: np.ndarray, surv: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Right-continuous step function ``S(at)``; 1 before the first step."""
    if times.size == 0:  # no event: the curve stays at 1
        return np.ones(np.shape(at))
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, surv[np.maximum(idx, 0)], 1.0)


def km_distance(
    *, time_a: Any, event_a: Any, time_b: Any, event_b: Any
) -> tuple[float | None, float | None]:
    """Maximum and integrated absolute difference of two Kaplan-Meier curves.

    Both over the common time range ``[min(first times), min(last times)]``; the integral is
    divided by the range's length (so both are in [0, 1]).

    Returns:
        ``(max_abs, integrated_abs)``; ``(None, None)`` when the common range is empty.
    """
    ta, tb = np.asarray(time_a, np.float64), np.asarray(time_b, np.float64)
    if ta.size == 0 or tb.size == 0:
        return None, None
    lo = min(ta.min(), tb.min())
    hi = min(ta.max(), tb.max())
    if not hi > lo:
        return None, None
    xa, sa = kaplan_meier(time=ta, event=event_a)
    xb, sb = kaplan_meier(time=tb, event=event_b)
    pts = np.unique(np.concatenate([[lo], xa, xb]))
    pts = pts[(pts >= lo) & (pts <= hi)]
    diff = np.abs(_step(xa, sa, pts) - _step(xb, sb, pts))
    widths = np.diff(np.r_[pts, hi])
    return float(diff.max()), float((diff * widths).sum() / (hi - lo))


def logrank_test(*, time: Any, event: Any, group: Any) -> tuple[float, int, float]:
    """The k-sample log-rank test.

    Args:
        time: ``(n,)`` follow-up times.
        event: ``(n,)`` event flags.
        group: ``(n,)`` group labels (any hashable values); at least two groups.

    Returns:
        ``(statistic, df, p_value)``: the chi-square statistic with ``k - 1`` degrees of
        freedom (hypergeometric variance) and its p-value.
    """
    t = np.asarray(time, dtype=np.float64)
    d = np.asarray(event, dtype=bool)
    labels, g = np.unique(np.asarray(group), return_inverse=True)
    k = labels.size
    if k < 2:
        raise InputError("the log-rank test needs at least two groups")
    ev_times = np.unique(t[d])
    if ev_times.size == 0:
        return 0.0, k - 1, 1.0
    # at risk per group at each event time: group size minus those who left earlier
    at_risk = np.empty((ev_times.size, k))
    deaths = np.zeros((ev_times.size, k))
    for j in range(k):
        tj = np.sort(t[g == j])
        at_risk[:, j] = tj.size - np.searchsorted(tj, ev_times, side="left")
    pos = np.searchsorted(ev_times, t[d])
    np.add.at(deaths, (pos, g[d]), 1.0)
    n = at_risk.sum(axis=1)
    dd = deaths.sum(axis=1)
    share = at_risk / n[:, None]
    observed_minus_expected = (deaths - dd[:, None] * share).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n > 1, dd * (n - dd) / (n - 1), 0.0)
    var = np.einsum("t,tg,gh->gh", factor, share, np.eye(k)) - np.einsum(
        "t,tg,th->gh", factor, share, share
    )
    u = observed_minus_expected[:-1]
    v = var[:-1, :-1]
    stat = float(u @ np.linalg.pinv(v) @ u)
    return stat, k - 1, float(stats.chi2.sf(stat, k - 1))


def cox_fit(
    *,
    time: Any,
    event: Any,
    x: Any,
    ridge: float = 1e-2,
    max_iter: int = 50,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Cox proportional hazards by penalised Newton-Raphson (Breslow ties).

    Maximises ``log PL(beta) - ridge / 2 * ||beta||^2`` with step halving; standard errors
    from the inverse of the penalised information matrix.

    Args:
        time: ``(n,)`` follow-up times.
        event: ``(n,)`` event flags.
        x: ``(n, p)`` covariates (standardise them; the penalty is on their scale).
        ridge: the ridge penalty.
        max_iter: most Newton steps.
        tol: convergence tolerance on the change of the penalised log-likelihood.

    Returns:
        ``(beta, standard_errors, converged)``.
    """
    t = np.asarray(time, dtype=np.float64)
    d = np.asarray(event, dtype=bool)
    x = np.asarray(x, dtype=np.float64)
    n, p = x.shape
    order = np.argsort(-t, kind="stable")  # descending: the risk set of a row is a prefix
    t, d, x = t[order], d[order], x[order]
    starts_flag = np.r_[True, t[1:] != t[:-1]]
    gid = np.cumsum(starts_flag) - 1
    starts = np.flatnonzero(starts_flag)
    ends = np.r_[starts[1:], n] - 1
    end_row, start_row = ends[gid], starts[gid]
    xe = x[d]

    def evaluate(beta: np.ndarray, full: bool):
        eta = x @ beta
        m = eta.max() if n else 0.0
        w = np.exp(eta - m)
        s0 = np.cumsum(w)[end_row]
        ll = float((eta[d] - np.log(s0[d]) - m).sum()) - 0.5 * ridge * float(beta @ beta)
        if not full:
            return ll, None, None
        s1 = np.cumsum(w[:, None] * x, axis=0)[end_row]
        mean = s1[d] / s0[d, None]
        grad = xe.sum(axis=0) - mean.sum(axis=0) - ridge * beta
        a = np.where(d, 1.0 / s0, 0.0)
        c = np.cumsum(a[::-1])[::-1][start_row]  # sum of 1/S0 over events whose risk set holds j
        info = (x * (w * c)[:, None]).T @ x - mean.T @ mean + ridge * np.eye(p)
        return ll, grad, info

    beta = np.zeros(p)
    converged = False
    ll, grad, info = evaluate(beta, True)
    for _ in range(max_iter):
        step = np.linalg.solve(info, grad) if p else np.zeros(0)
        new = beta + step
        new_ll, _, _ = evaluate(new, False)
        halvings = 0
        while not new_ll >= ll - 1e-12 and halvings < 30:
            step = step / 2.0
            new = beta + step
            new_ll, _, _ = evaluate(new, False)
            halvings += 1
        if not new_ll >= ll - 1e-12:
            break
        done = abs(new_ll - ll) < tol * (abs(ll) + 1.0) and np.max(np.abs(step), initial=0) < 1e-5
        beta = new
        ll, grad, info = evaluate(beta, True)
        if done:
            converged = True
            break
    se = np.sqrt(np.clip(np.diag(np.linalg.inv(info)), 0.0, None)) if p else np.zeros(0)
    return beta, se, converged


def concordance_index(*, time: Any, event: Any, risk: Any) -> float | None:
    """Harrell's C-index: the share of comparable pairs the risk score orders correctly.

    A pair is comparable when ``t_i < t_j`` and ``i`` had the event; it is concordant when
    ``risk_i > risk_j``; tied risks count half. Exact; sorts once and merges risk sets.

    Returns:
        The C-index in [0, 1], or None when no pair is comparable.
    """
    t = np.asarray(time, dtype=np.float64)
    d = np.asarray(event, dtype=bool)
    r = np.asarray(risk, dtype=np.float64)
    order = np.argsort(-t, kind="stable")
    t, d, r = t[order], d[order], r[order]
    bounds = np.flatnonzero(np.r_[True, t[1:] != t[:-1], True])
    seen = np.empty(0)
    concordant = 0.0
    comparable = 0
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        risks = r[a:b]
        ev = risks[d[a:b]]
        if ev.size and seen.size:
            less = np.searchsorted(seen, ev, side="left")
            equal = np.searchsorted(seen, ev, side="right") - less
            concordant += float(less.sum()) + 0.5 * float(equal.sum())
            comparable += ev.size * seen.size
        risks = np.sort(risks)
        seen = np.insert(seen, np.searchsorted(seen, risks), risks)
    return concordant / comparable if comparable else None


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
        return {"value": _r(self.value), "direction": self.direction, "baseline": _r(self.baseline)}


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
            "n_train": int(self.n_train),
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": int(self.n_holdout),
        }
        if self.reason:
            out["reason"] = self.reason
        return out


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
            "p_real": _r(self.p_real),
            "p_synthetic": _r(self.p_synthetic),
            "p_holdout": _r(self.p_holdout),
            "alpha": ALPHA,
            "n_groups": int(self.n_groups),
            "agree": {
                "value": self.agree,
                "direction": "true is better",
                "baseline": self.baseline_agree,
            },
        }
        if self.reason:
            out["reason"] = self.reason
        return out


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
            return None if c is None else [_r(c[0]), _r(c[1])]

        return {
            "real": {"hr": _r(self.real), "ci": ci(self.real_ci)},
            "synthetic": {"hr": _r(self.synthetic), "ci": ci(self.synthetic_ci)},
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
            "n_train": int(self.n_train),
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": int(self.n_holdout),
            "ridge": self.ridge,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


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
                "value": _r(self.headline),
                "direction": "lower is better",
                "baseline": _r(base),
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
            "n_train": int(self.n_train),
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": int(self.n_holdout),
            "seed": self.seed,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


# ------------------------------------------------------------------------ helpers
@dataclass
class _Table:
    """One table's survival data (internal)."""

    frame: pd.DataFrame
    time: np.ndarray
    event: np.ndarray


def _floats(series: pd.Series, spec) -> np.ndarray:
    values, problem = coerce_column(series, spec)
    if problem:
        raise InputError(problem)
    if spec.kind == "datetime":
        raw = values.to_numpy(dtype="datetime64[ns]")
        out = raw.view(np.int64) / 86_400e9
        out[np.isnat(raw)] = np.nan
        return out
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _subsample_rows(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    return np.sort(rng.choice(n, cap, replace=False))


def _prepare(
    df: pd.DataFrame, schema: Schema, time_col: str, event_col: str, cap: int, rng
) -> _Table:
    t = _floats(df[time_col], schema[time_col])
    e = _floats(df[event_col], schema[event_col])
    ok = np.flatnonzero(~np.isnan(t) & ~np.isnan(e))
    ok = ok[_subsample_rows(ok.size, cap, rng)]
    return _Table(frame=df.iloc[ok].reset_index(drop=True), time=t[ok], event=e[ok] != 0)


def _level_keys(series: pd.Series, spec) -> pd.Series:
    """Group labels as strings (missing values form no group)."""
    values, problem = coerce_column(series, spec)
    if problem:
        raise InputError(problem)
    return (
        values.astype(object)
        .where(values.notna(), None)
        .map(lambda v: None if v is None else str(v))
    )


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
    ps: dict[str, float | None] = {}
    reasons = []
    for which, tab in tables.items():
        k = keys[which]
        counts = k.value_counts()
        use = [lvl for lvl in levels if counts.get(lvl, 0) >= min_records]
        if len(use) < 2:
            ps[which] = None
            reasons.append(f"fewer than two levels with enough records in {which}")
            continue
        mask = k.isin(use).to_numpy()
        if not tab.event[mask].any():
            ps[which] = None
            reasons.append(f"no events in {which}")
            continue
        _, _, p = logrank_test(
            time=tab.time[mask], event=tab.event[mask], group=k[mask].to_numpy(dtype=object)
        )
        ps[which] = p

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


class _Design:
    """Covariates for the Cox model, learned on the real training table (internal)."""

    def __init__(
        self, train: pd.DataFrame, schema: Schema, columns: list[str], *, max_levels, min_records
    ):
        self.parts: list[tuple] = []
        self.names: list[str] = []
        self.excluded: dict[str, str] = {}
        for col in columns:
            spec = schema[col]
            if spec.kind == "text":
                self.excluded[col] = "text column"
            elif spec.kind == "categorical":
                keys = _level_keys(train[col], spec).fillna("<missing>")
                counts = keys.value_counts()
                if len(counts) > max_levels:
                    self.excluded[col] = f"more than {max_levels} levels"
                    continue
                kept = [lvl for lvl in counts.index[1:] if counts[lvl] >= min_records]
                if not kept:
                    self.excluded[col] = "no level besides the most frequent has enough records"
                    continue
                self.parts.append(("cat", col, kept))
                self.names += [f"{col}={lvl}" for lvl in kept]
            else:
                v = _floats(train[col], spec)
                miss = np.isnan(v)
                obs = v[~miss]
                if obs.size < min_records:
                    self.excluded[col] = "too few recorded values"
                    continue
                if spec.kind == "boolean":
                    minority = min(int((obs != 0).sum()), int((obs == 0).sum()))
                    if minority < min_records:
                        self.excluded[col] = "too few records in its rarer value"
                        continue
                    centre, scale = float(obs.mean()), 1.0
                    shift = 0.0
                else:
                    centre, scale = float(obs.mean()), float(obs.std())
                    if not scale > 0:
                        self.excluded[col] = "constant"
                        continue
                    shift = centre
                indicator = int(miss.sum()) >= min_records
                self.parts.append(("num", col, (centre, shift, scale, indicator)))
                self.names.append(col)
                if indicator:
                    self.names.append(f"{col}__missing")

    def transform(self, df: pd.DataFrame, schema: Schema) -> np.ndarray:
        cols = []
        for kind, col, info in self.parts:
            if kind == "cat":
                keys = _level_keys(df[col], schema[col]).fillna("<missing>").to_numpy(object)
                cols += [(keys == lvl).astype(np.float64) for lvl in info]
            else:
                centre, shift, scale, indicator = info
                v = _floats(df[col], schema[col])
                miss = np.isnan(v)
                z = (np.where(miss, centre, v) - shift) / scale
                cols.append(z)
                if indicator:
                    cols.append(miss.astype(np.float64))
        return np.column_stack(cols) if cols else np.zeros((len(df), 0))


def _overlap(a: tuple[float, float], b: tuple[float, float] | None) -> bool | None:
    if b is None:
        return None
    return bool(a[0] <= b[1] and b[0] <= a[1])


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
    subs = {}
    for which, tab in tables.items():
        rows = _subsample_rows(len(tab.time), cap, rng)
        subs[which] = _Table(
            frame=tab.frame.iloc[rows].reset_index(drop=True),
            time=tab.time[rows],
            event=tab.event[rows],
        )
    sizes = {f"n_{w}": len(s.time) for w, s in subs.items()}
    design = _Design(
        subs["train"].frame, schema, columns, max_levels=max_levels, min_records=min_records
    )
    if not design.names:
        return CoxComparison(
            excluded=design.excluded, ridge=ridge, reason="no usable covariate", **sizes
        )
    fits: dict[str, tuple | None] = {}
    reasons = []
    xs = {w: design.transform(s.frame, schema) for w, s in subs.items()}
    # a column identical to an earlier one in train (e.g. two readings missing together)
    # is not identifiable; keep the first
    _, first = np.unique(xs["train"], axis=1, return_index=True)
    keep = np.sort(first)
    for j in sorted(set(range(len(design.names))) - set(keep.tolist())):
        twin = next(k for k in keep if np.array_equal(xs["train"][:, k], xs["train"][:, j]))
        design.excluded[design.names[j]] = f"identical to {design.names[twin]} in train"
    design.names = [design.names[j] for j in keep]
    xs = {w: x[:, keep] for w, x in xs.items()}
    for which, s in subs.items():
        n_events = int(s.event.sum())
        if len(s.time) < min_records or n_events < 2:
            fits[which] = None
            reasons.append(f"too few records or events in {which}")
            continue
        fits[which] = cox_fit(time=s.time, event=s.event, x=xs[which], ridge=ridge)
    if fits["train"] is None:
        return CoxComparison(
            excluded=design.excluded, ridge=ridge, reason="; ".join(reasons), **sizes
        )

    def cis(fit):
        beta, se, _ = fit
        return np.exp(beta), np.exp(beta - _Z95 * se), np.exp(beta + _Z95 * se)

    hr_r, lo_r, hi_r = cis(fits["train"])
    other = {w: cis(fits[w]) if fits[w] is not None else None for w in ("synthetic", "holdout")}
    hrs = []
    for i, name in enumerate(design.names):
        ci_r = (float(lo_r[i]), float(hi_r[i]))
        syn = other["synthetic"]
        hol = other["holdout"]
        ci_s = None if syn is None else (float(syn[1][i]), float(syn[2][i]))
        ci_h = None if hol is None else (float(hol[1][i]), float(hol[2][i]))
        hrs.append(
            HazardRatio(
                covariate=name,
                real=float(hr_r[i]),
                real_ci=ci_r,
                synthetic=None if syn is None else float(syn[0][i]),
                synthetic_ci=ci_s,
                overlap=_overlap(ci_r, ci_s),
                baseline_overlap=_overlap(ci_r, ci_h),
            )
        )

    def share(flags):
        flags = [f for f in flags if f is not None]
        return float(np.mean(flags)) if flags else None

    hold = subs["holdout"]
    c_vals = {}
    for which in ("synthetic", "train"):
        fit = fits[which]
        c_vals[which] = (
            None
            if fit is None or len(hold.time) < min_records
            else concordance_index(time=hold.time, event=hold.event, risk=xs["holdout"] @ fit[0])
        )
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


def _validate(train, holdout, synthetic, schema, groups, settings) -> None:
    problems: list[str] = []
    frames = {"train": train, "holdout": holdout, "synthetic": synthetic}
    for what, df in frames.items():
        if not isinstance(df, pd.DataFrame):
            problems.append(f"{what} must be a pandas DataFrame; got {type(df).__name__}")
    if not isinstance(schema, Schema):
        problems.append(f"schema must be a synthgen Schema; got {type(schema).__name__}")
    for what, (v, low) in settings.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            problems.append(f"{what} must be an integer of at least {low}; got {v!r}")
    if groups is not None:
        if isinstance(groups, str):
            problems.append("groups must be a list of column names, not one string")
        elif isinstance(schema, Schema):
            for g in groups:
                if g not in schema:
                    problems.append(f"group column '{g}' is not in the schema")
                for what, df in frames.items():
                    if isinstance(df, pd.DataFrame) and g not in df.columns:
                        problems.append(f"group column '{g}' is missing from {what}")
    if problems:
        raise InputError("; ".join(problems))


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
    time_cols = schema.with_role("time_to_event_time")
    event_cols = schema.with_role("time_to_event_event")
    if not time_cols or not event_cols:
        return SurvivalResult(
            time_column=time_cols[0] if time_cols else None,
            event_column=event_cols[0] if event_cols else None,
            seed=seed,
            reason="the schema has no time-to-event pair (roles time_to_event_time and "
            "time_to_event_event)",
        )
    time_col, event_col = time_cols[0], event_cols[0]
    frames = {"train": train, "synthetic": synthetic, "holdout": holdout}
    absent = [
        f"'{c}' is missing from {w}"
        for w, df in frames.items()
        for c in (time_col, event_col)
        if c not in df.columns
    ]
    if absent:
        return SurvivalResult(
            time_column=time_col, event_column=event_col, seed=seed, reason="; ".join(absent)
        )
    bad_kind = [
        f"'{c}' is {schema[c].kind}"
        for c, ok in (
            (time_col, ("numeric", "integer")),
            (event_col, ("boolean", "integer", "numeric")),
        )
        if schema[c].kind not in ok
    ]
    if bad_kind:
        return SurvivalResult(
            time_column=time_col,
            event_column=event_col,
            seed=seed,
            reason="unsupported kinds: " + "; ".join(bad_kind),
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
