"""Survival fidelity: exact estimators on hand-computed cases, calibration on the demo cohort."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import synthgen as sg
from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.survival import (
    concordance_index,
    cox_fit,
    kaplan_meier,
    km_distance,
    logrank_test,
    survival,
)


@pytest.fixture(scope="module")
def demo():
    """Demo cohort split train | holdout, and an independent fresh draw of the same size."""
    real = sg.datasets.demo_cohort(6000, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    fresh = schema.coerce(sg.datasets.demo_cohort(3000, seed=99))
    return split.train, split.holdout, fresh, schema


# --------------------------------------------------------------------- estimators
def test_kaplan_meier_hand_values():
    # t=1: 6 at risk, 1 dies -> 5/6; t=2: 5 at risk, 1 dies (1 censored) -> 5/6*4/5 = 2/3
    # t=3: 3 at risk, 1 dies -> 4/9; t=4 censored; t=5: 1 at risk, dies -> 0
    times, surv = kaplan_meier(time=[1, 2, 2, 3, 4, 5], event=[1, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(times, [1, 2, 3, 5])
    np.testing.assert_allclose(surv, [5 / 6, 2 / 3, 4 / 9, 0.0])


def test_km_distance_hand_values():
    # A: 2/3 from 1, 1/3 from 2, 0 from 3; B: 1/2 from 2, 0 from 4; common range [1, 3]
    # |A-B|: 1/3 on [1,2), 1/6 on [2,3), 1/2 at 3 -> max 1/2, integral (1/3 + 1/6) / 2
    max_abs, integrated = km_distance(
        time_a=[1, 2, 3], event_a=[1, 1, 1], time_b=[2, 4], event_b=[1, 1]
    )
    assert max_abs == pytest.approx(0.5)
    assert integrated == pytest.approx(0.25)
    same = km_distance(time_a=[1, 2, 3], event_a=[1, 0, 1], time_b=[1, 2, 3], event_b=[1, 0, 1])
    assert same == (0.0, 0.0)


def test_logrank_hand_computation():
    # A dies at 1 and 3; B dies at 2, censored at 4.
    # t=1: n=4 (2 A), d=1 -> E_A=1/2, V=1*3/3*(1/2)(1/2)=1/4
    # t=2: n=3 (1 A), d=1 -> E_A=1/3, V=1*2/2*(1/3)(2/3)=2/9
    # t=3: n=2 (1 A), d=1 -> E_A=1/2, V=1/4
    # O_A - E_A = 2 - 4/3 = 2/3; V = 13/18; chi2 = (4/9) / (13/18) = 8/13
    stat, df, p = logrank_test(time=[1, 3, 2, 4], event=[1, 1, 1, 0], group=["A", "A", "B", "B"])
    assert stat == pytest.approx(8 / 13) and df == 1
    assert p == pytest.approx(stats.chi2.sf(8 / 13, 1))


def test_logrank_textbook_leukaemia():
    """Freireich's 6-MP vs placebo remission data: log-rank chi-square 16.79 (Kleinbaum & Klein,
    Survival Analysis, ch. 2)."""
    treated = [6, 6, 6, 7, 10, 13, 16, 22, 23, 6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
    treated_event = [1] * 9 + [0] * 12
    placebo = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]
    stat, df, p = logrank_test(
        time=treated + placebo,
        event=treated_event + [1] * 21,
        group=[0] * 21 + [1] * 21,
    )
    assert stat == pytest.approx(16.79, abs=0.01) and df == 1 and p < 1e-4
    # three groups: labels do not matter, only the partition
    g = np.array([0] * 21 + [1] * 10 + [2] * 11)
    t, e = np.array(treated + placebo), np.array(treated_event + [1] * 21)
    s1 = logrank_test(time=t, event=e, group=g)
    s2 = logrank_test(time=t, event=e, group=np.array(["c", "a", "b"])[g])
    assert s1[1] == 2 and s1[0] == pytest.approx(s2[0])


def test_cox_exact_small_case():
    # x=(1,0,1), deaths at 1,2,3: PL = u/(2u+1) * 1/(1+u), u = e^b; score 0 at u^2 = 1/2
    beta, se, converged = cox_fit(time=[1, 2, 3], event=[1, 1, 1], x=[[1], [0], [1]], ridge=0.0)
    assert converged
    assert beta[0] == pytest.approx(-np.log(2) / 2, abs=1e-6)


def test_cox_recovers_known_hazard_ratios_with_ties():
    rng = np.random.default_rng(0)
    n = 20_000
    x = np.column_stack([rng.normal(size=n), rng.random(n) < 0.5])
    true = np.array([0.7, -0.5])
    t_event = rng.exponential(1.0 / (0.01 * np.exp(x @ true)))
    t_censor = rng.exponential(150.0, n)
    time = np.ceil(np.minimum(t_event, t_censor))  # whole days: many ties (Breslow)
    event = t_event <= t_censor
    beta, se, converged = cox_fit(time=time, event=event, x=x)
    assert converged
    np.testing.assert_allclose(beta, true, atol=0.04)
    assert np.all(se > 0) and np.all(se < 0.03)
    assert np.all(np.abs(beta - true) < 3 * se)


def _breslow_loglik(beta, time, event, x):
    eta = x @ beta
    return sum(eta[i] - np.log(np.exp(eta[time >= time[i]]).sum()) for i in np.flatnonzero(event))


def test_cox_matches_brute_force_breslow_likelihood():
    from scipy import optimize

    rng = np.random.default_rng(3)
    n = 150
    x = np.column_stack([rng.normal(size=n), rng.random(n) < 0.4, rng.normal(size=n)])
    time = rng.integers(1, 15, n).astype(float)  # heavy ties
    event = rng.random(n) < 0.7
    beta, se, converged = cox_fit(time=time, event=event, x=x, ridge=0.0)
    assert converged
    opt = optimize.minimize(lambda b: -_breslow_loglik(b, time, event, x), np.zeros(3))
    np.testing.assert_allclose(beta, opt.x, atol=1e-4)
    # standard errors: inverse of the numerical Hessian of the log-likelihood
    h, p = 1e-4, 3
    hess = np.empty((p, p))
    for i in range(p):
        for j in range(p):
            ei, ej = np.eye(p)[i] * h, np.eye(p)[j] * h
            hess[i, j] = (
                _breslow_loglik(beta + ei + ej, time, event, x)
                - _breslow_loglik(beta + ei - ej, time, event, x)
                - _breslow_loglik(beta - ei + ej, time, event, x)
                + _breslow_loglik(beta - ei - ej, time, event, x)
            ) / (4 * h * h)
    np.testing.assert_allclose(se, np.sqrt(np.diag(np.linalg.inv(-hess))), rtol=1e-3)


def test_concordance_index_exact():
    # comparable: i=1 with j=2..5 (risk 5 beats 4,4,1,4: 4 concordant); i=3 (t=3, risk 4)
    # with j=5 (risk 4: tie, 1/2); i=4 (t=3, risk 1) with j=5 (risk 4: discordant).
    # j=4 is not comparable with i=3 (same time). C = 4.5 / 6
    c = concordance_index(time=[1, 2, 3, 3, 5], event=[1, 0, 1, 1, 0], risk=[5, 4, 4, 1, 4])
    assert c == pytest.approx(0.75)
    assert concordance_index(time=[1, 2], event=[0, 0], risk=[1, 2]) is None


def test_concordance_index_matches_brute_force():
    rng = np.random.default_rng(1)
    n = 300
    t = rng.integers(1, 40, n).astype(float)
    e = rng.random(n) < 0.6
    r = rng.integers(0, 10, n).astype(float)
    conc = comp = 0.0
    for i in range(n):
        if not e[i]:
            continue
        later = t > t[i]
        comp += later.sum()
        conc += (r[later] < r[i]).sum() + 0.5 * (r[later] == r[i]).sum()
    assert concordance_index(time=t, event=e, risk=r) == pytest.approx(conc / comp)


# --------------------------------------------------------------------- the measure
def test_no_time_to_event_pair_gives_reason():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    schema = specs_from([ColumnSpec("x", "numeric")])
    res = survival(train=df, holdout=df, synthetic=df, schema=schema, seed=0)
    assert res.time_column is None and "no time-to-event pair" in res.reason
    assert res.headline is None
    json.dumps(res.to_dict())


def test_bad_input_lists_every_problem(demo):
    train, holdout, _, schema = demo
    with pytest.raises(InputError) as err:
        survival(
            train=train,
            holdout=None,
            synthetic=train,
            schema=schema,
            seed=0,
            groups=["ghost"],
            min_records=0,
        )
    msg = str(err.value)
    assert "holdout must be" in msg and "'ghost'" in msg and "min_records" in msg


def test_holdout_as_synthetic_equals_baseline(demo):
    train, holdout, _, schema = demo
    res = survival(train=train, holdout=holdout, synthetic=holdout, schema=schema, seed=0)
    assert res.overall.max_abs.value == res.overall.max_abs.baseline
    assert res.overall.integrated_abs.value == res.overall.integrated_abs.baseline
    for lr in res.logrank.values():
        assert lr.p_synthetic == lr.p_holdout and lr.agree == lr.baseline_agree
    assert res.cox.overlap_share.value == res.cox.overlap_share.baseline


def test_fresh_real_sample_scores_like_baseline(demo):
    train, holdout, fresh, schema = demo
    res = survival(train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0)
    assert res.time_column == "followup_days" and res.event_column == "died"
    assert set(res.groups) == {"sex", "ethnicity", "region"}
    km = res.overall
    assert km.max_abs.value < max(2 * km.max_abs.baseline, 0.03)
    assert km.integrated_abs.value < max(2 * km.integrated_abs.baseline, 0.01)
    for lr in res.logrank.values():
        assert lr.p_real is not None and lr.p_synthetic is not None
        assert lr.agree == ((lr.p_real < 0.05) == (lr.p_synthetic < 0.05))
    assert res.logrank["ethnicity"].agree and res.logrank["region"].agree
    cox = res.cox
    assert cox.c_index.baseline > 0.8
    assert abs(cox.c_index.value - cox.c_index.baseline) < 0.02
    assert cox.overlap_share.value >= 0.9 and cox.overlap_share.baseline >= 0.9
    hrs = {h.covariate: h for h in cox.hazard_ratios}
    assert hrs["age"].real > 3  # per SD of age (~18 years at 0.095 a year)
    assert "practice_code" in cox.excluded
    assert all(cox.converged.values())
    d = res.to_dict()
    json.dumps(d)
    assert d["groups"]["sex"]["F"]["max_abs_difference"]["direction"] == "lower is better"

    def lists(node):  # no curve or per-record series leaves: only [low, high] intervals
        if isinstance(node, dict):
            return [x for v in node.values() for x in lists(v)]
        if isinstance(node, list):
            return [node]
        return []

    assert all(len(x) == 2 for x in lists(d))


def test_outcome_shuffled_away_from_covariates(demo):
    """Follow-up time and event shuffled (as a pair) independently of everything else: the
    marginal curve survives, every association is gone."""
    train, holdout, fresh, schema = demo
    perm = np.random.default_rng(0).permutation(len(fresh))
    shuffled = fresh.copy()
    for col in ("followup_days", "died"):
        shuffled[col] = fresh[col].to_numpy()[perm]
    res = survival(train=train, holdout=holdout, synthetic=shuffled, schema=schema, seed=0)
    cox = res.cox
    assert 0.45 < cox.c_index.value < 0.56
    assert cox.c_index.baseline > 0.8
    hrs = {h.covariate: h for h in cox.hazard_ratios}
    assert hrs["age"].overlap is False and hrs["age"].baseline_overlap is True
    assert 0.7 < hrs["age"].synthetic < 1.3
    assert cox.overlap_share.value < cox.overlap_share.baseline
    # the marginal curve is unchanged: the overall KM distance stays small
    assert res.overall.integrated_abs.value < 0.02


def test_time_alone_shuffled_breaks_the_curves_by_group(demo):
    train, holdout, fresh, schema = demo
    shuffled = fresh.copy()
    shuffled["followup_days"] = np.random.default_rng(0).permutation(fresh["followup_days"])
    res = survival(train=train, holdout=holdout, synthetic=shuffled, schema=schema, seed=0)
    assert res.overall.max_abs.value > 2 * res.overall.max_abs.baseline


def test_small_subset_and_rare_groups(demo):
    train, holdout, fresh, schema = demo
    res = survival(
        train=train.iloc[:40],
        holdout=holdout.iloc[:40],
        synthetic=fresh.iloc[:40],
        schema=schema,
        seed=0,
    )
    d = res.to_dict()
    json.dumps(d)
    assert res.overall is not None
    assert any(
        km.reason == "too few records" and km.max_abs is None
        for levels in res.groups.values()
        for km in levels.values()
    )
    tiny = survival(train=train.iloc[:10], holdout=holdout, synthetic=fresh, schema=schema, seed=0)
    assert "too few records" in tiny.reason and tiny.overall is None


def test_same_seed_same_result(demo):
    train, holdout, fresh, schema = demo
    kwargs = dict(train=train, holdout=holdout, synthetic=fresh, schema=schema, max_cox_rows=800)
    first = survival(seed=5, **kwargs).to_dict()
    assert survival(seed=5, **kwargs).to_dict() == first
    assert survival(seed=6, **kwargs).to_dict() != first
