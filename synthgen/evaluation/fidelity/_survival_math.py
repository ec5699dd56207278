"""Survival estimators and the Cox design matrix behind the survival figures (internal).

Kaplan-Meier, the distance between two curves, the k-sample log-rank test, a penalised Cox
fit (Breslow ties) and Harrell's C-index, all pure functions of arrays; plus the helpers that
turn a table into times, events, group labels and covariates.
:mod:`synthgen.evaluation.fidelity.survival` orchestrates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from synthgen.data.schema import Schema, coerce_column
from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import input_problems, subsample_rows

_Z95 = float(stats.norm.ppf(0.975))
"""The normal quantile of two-sided Wald 95% intervals."""


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


def _prepare(
    df: pd.DataFrame, schema: Schema, time_col: str, event_col: str, cap: int, rng
) -> _Table:
    t = _floats(df[time_col], schema[time_col])
    e = _floats(df[event_col], schema[event_col])
    ok = np.flatnonzero(~np.isnan(t) & ~np.isnan(e))
    ok = ok[subsample_rows(ok.size, cap, rng)]
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


def _logrank_ps(
    tables: dict[str, _Table], keys: dict[str, pd.Series], levels: list[str], min_records: int
) -> tuple[dict[str, float | None], list[str]]:
    """The log-rank p-value of each table over ``levels`` (None where untestable), and why."""
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
    return ps, reasons


def _cox_fits(
    tables: dict[str, _Table],
    schema: Schema,
    columns: list[str],
    *,
    cap: int,
    rng: np.random.Generator,
    ridge: float,
    max_levels: int,
    min_records: int,
) -> tuple[dict[str, _Table], _Design, dict[str, np.ndarray], dict[str, tuple | None], list[str]]:
    """Subsamples, the design learned on train, each table's design matrix and Cox fit (None
    where too few records or events), and why fits are missing. No matrix and no fit when
    the design has no covariate."""
    subs = {}
    for which, tab in tables.items():
        rows = subsample_rows(len(tab.time), cap, rng)
        subs[which] = _Table(
            frame=tab.frame.iloc[rows].reset_index(drop=True),
            time=tab.time[rows],
            event=tab.event[rows],
        )
    design = _Design(
        subs["train"].frame, schema, columns, max_levels=max_levels, min_records=min_records
    )
    if not design.names:
        return subs, design, {}, {}, []
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
    return subs, design, xs, fits, reasons


def _hazard_ratio_cis(fits: dict[str, tuple | None], n: int) -> list[dict[str, Any]]:
    """Per covariate (``n`` of them): the hazard ratio and Wald 95% interval of train and
    synthetic, and the holdout's interval; None for the synthetic or holdout where that fit is
    missing. ``fits["train"]`` must be a fit."""

    def cis(fit):
        beta, se, _ = fit
        return np.exp(beta), np.exp(beta - _Z95 * se), np.exp(beta + _Z95 * se)

    hr_r, lo_r, hi_r = cis(fits["train"])
    other = {w: cis(fits[w]) if fits[w] is not None else None for w in ("synthetic", "holdout")}
    rows = []
    for i in range(n):
        syn = other["synthetic"]
        hol = other["holdout"]
        rows.append(
            {
                "real": float(hr_r[i]),
                "real_ci": (float(lo_r[i]), float(hi_r[i])),
                "synthetic": None if syn is None else float(syn[0][i]),
                "synthetic_ci": None if syn is None else (float(syn[1][i]), float(syn[2][i])),
                "holdout_ci": None if hol is None else (float(hol[1][i]), float(hol[2][i])),
            }
        )
    return rows


def _c_indices(
    fits: dict[str, tuple | None], hold: _Table, x_hold: np.ndarray, min_records: int
) -> dict[str, float | None]:
    """Harrell's C on the holdout of the Cox models fitted on synthetic and on train; None
    where that fit is missing or the holdout has fewer than ``min_records`` rows."""
    c_vals = {}
    for which in ("synthetic", "train"):
        fit = fits[which]
        c_vals[which] = (
            None
            if fit is None or len(hold.time) < min_records
            else concordance_index(time=hold.time, event=hold.event, risk=x_hold @ fit[0])
        )
    return c_vals


# ------------------------------------------------------------------------- inputs
def _validate(train, holdout, synthetic, schema, groups, settings) -> None:
    frames = {"train": train, "holdout": holdout, "synthetic": synthetic}
    problems = input_problems(frames, schema, settings)
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


def _event_pair(
    schema: Schema, frames: dict[str, pd.DataFrame]
) -> tuple[str | None, str | None, str | None]:
    """The time and event columns (None where the schema has none), and why they cannot be
    used (None when they can)."""
    time_cols = schema.with_role("time_to_event_time")
    event_cols = schema.with_role("time_to_event_event")
    if not time_cols or not event_cols:
        return (
            time_cols[0] if time_cols else None,
            event_cols[0] if event_cols else None,
            "the schema has no time-to-event pair (roles time_to_event_time and "
            "time_to_event_event)",
        )
    time_col, event_col = time_cols[0], event_cols[0]
    absent = [
        f"'{c}' is missing from {w}"
        for w, df in frames.items()
        for c in (time_col, event_col)
        if c not in df.columns
    ]
    if absent:
        return time_col, event_col, "; ".join(absent)
    bad_kind = [
        f"'{c}' is {schema[c].kind}"
        for c, ok in (
            (time_col, ("numeric", "integer")),
            (event_col, ("boolean", "integer", "numeric")),
        )
        if schema[c].kind not in ok
    ]
    if bad_kind:
        return time_col, event_col, "unsupported kinds: " + "; ".join(bad_kind)
    return time_col, event_col, None
