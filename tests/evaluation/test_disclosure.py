"""Singling out, linkability and inference risk (Anonymeter's definitions)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy.disclosure import (
    RELATIVE_TOLERANCE,
    _correct,
    _links,
    disclosure_result,
    excess_risk,
    inference_risk,
    inference_risks,
    linkability_risk,
    success_rate,
)
from synthgen.evaluation.privacy.singling_out import (
    EQ,
    GE,
    ISNAN,
    LE,
    NE,
    NOTNAN,
    count_matches,
    singling_out_risk,
)

Z = 1.959963984540054


def wilson(k: float, n: int) -> tuple[float, float]:
    """Centre and half-width of the Wilson interval, written out independently."""
    centre = (k + Z * Z / 2) / (n + Z * Z)
    half = Z / (n + Z * Z) * math.sqrt(k * (n - k) / n + Z * Z / 4)
    return centre, half


# ------------------------------------------------------------------ risk arithmetic
def test_risk_formula_by_hand():
    main, control = success_rate(50, 100), success_rate(20, 100)
    assert main.value == 0.5 and control.value == 0.2
    (cm, em), (cc, ec) = wilson(50, 100), wilson(20, 100)
    assert main.centre == pytest.approx(cm) and main.error == pytest.approx(em)
    risk, (lo, hi), residual = excess_risk(main=main, control=control)
    expected = (cm - cc) / (1 - cc)
    err = math.sqrt((em / (1 - cc)) ** 2 + (ec * (1 - cm) / (1 - cc) ** 2) ** 2)
    assert risk == pytest.approx(expected) == pytest.approx(residual)
    assert (lo, hi) == (pytest.approx(expected - err), pytest.approx(expected + err))
    # the same numbers worked on paper: centres 0.5 and 0.2111, half-widths 0.0962, 0.0777
    assert risk == pytest.approx(0.3662, abs=1e-4)
    assert err == pytest.approx(0.1370, abs=1e-3)


def test_risk_is_clipped_and_residual_keeps_sign():
    r = disclosure_result(
        name="x",
        main_successes=10,
        main_trials=100,
        control_successes=30,
        control_trials=100,
        baseline_successes=20,
        baseline_trials=100,
    )
    assert r.risk == 0.0 and r.risk_ci[0] == 0.0 and r.residual < 0
    assert r.baseline_as_good  # random guessing beat the attack
    same = disclosure_result(
        name="x",
        main_successes=40,
        main_trials=100,
        control_successes=40,
        control_trials=100,
        baseline_successes=5,
        baseline_trials=100,
    )
    assert same.risk == pytest.approx(0.0, abs=1e-12) and same.risk_ci[0] == 0.0
    assert not same.baseline_as_good
    full = disclosure_result(
        name="x",
        main_successes=100,
        main_trials=100,
        control_successes=0,
        control_trials=100,
        baseline_successes=0,
        baseline_trials=100,
    )
    assert full.risk > 0.95 and full.risk_ci[1] == 1.0


# ------------------------------------------------------------------ building blocks
def test_count_matches_tiny():
    data = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, np.nan], [2.0, 0.0]])
    cols = np.array([[0, 1], [0, 1], [1, 1], [0, 0], [1, 0]])
    ops = np.array([[EQ, EQ], [GE, NE], [ISNAN, ISNAN], [LE, GE], [NOTNAN, EQ]], np.int8)
    vals = np.array([[2.0, 0.0], [2.0, 0.0], [0, 0], [2.0, 2.0], [0.0, 3.0]])
    # x0==2 & x1==0 -> row 3; x0>=2 & x1!=0 (missing is not "!=") -> row 1;
    # x1 missing -> row 2; x0<=2 & x0>=2 -> rows 1, 3; x1 present & x0==3 -> none
    assert count_matches(data, cols, ops, vals).tolist() == [1, 1, 1, 2, 0]


def test_links_and_correct_guesses():
    idx0 = np.array([[0, 1], [2, 3], [4, 5]])
    idx1 = np.array([[1, 9], [7, 8], [5, 4]])
    assert _links(idx0, idx1) == 2
    secrets = np.array([100.0, 100.0, 0.0, 0.0, np.nan, -50.0])
    guesses = np.array([105.0, 105.1, 0.0, 0.01, np.nan, -52.5])
    assert RELATIVE_TOLERANCE == 0.05
    assert _correct(guesses, secrets, "numeric") == 4  # 105 in, 105.1 out, 0 exact, both NaN
    assert _correct(np.array([1.0, 2.0, np.nan]), np.array([1.0, 3.0, np.nan]), "categorical") == 2


def test_singling_out_tiny_copy():
    schema = Schema(
        (
            ColumnSpec(name="age", kind="integer", roles=("quasi_identifier",)),
            ColumnSpec(name="sex", kind="categorical", roles=("quasi_identifier",)),
        )
    )
    train = pd.DataFrame({"age": [20, 30, 30, 40, 50, 60], "sex": list("FMFMFM")})
    holdout = pd.DataFrame({"age": [20, 20, 35, 36, 37, 38], "sex": list("FMMMMF")})
    r = singling_out_risk(
        train=train, holdout=holdout, synthetic=train, schema=schema, mode="univariate", seed=0
    )
    # univariate predicates from the copy: age<=20, age>=60, age==20/40/50/60 -> 6 distinct
    assert r.n_attacks == 6
    assert r.main.successes == 6  # each singles out one training record
    # on the holdout: age<=20 and age==20 match 2; age>=60, ==40, ==50, ==60 match 0
    assert r.control.successes == 0


# ------------------------------------------------------------------ calibration
def _near_zero(r) -> bool:
    return r.risk_ci[0] == 0.0 or r.risk < 0.05


@pytest.mark.parametrize("mode", ["multivariate", "univariate"])
def test_singling_out_calibration(cohort, mode):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, schema=schema, mode=mode, n_attacks=300, seed=0)
    copy = singling_out_risk(synthetic=train.copy(), **kw)
    assert copy.risk_ci[0] > 0.3 and not copy.baseline_as_good
    assert _near_zero(singling_out_risk(synthetic=fresh, **kw))


def test_linkability_calibration(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, schema=schema, n_attacks=300, seed=0)
    copy = linkability_risk(synthetic=train.copy(), **kw)
    assert copy.risk_ci[0] > 0.3
    assert _near_zero(linkability_risk(synthetic=fresh, **kw))
    wider = linkability_risk(synthetic=fresh, n_neighbors=5, **kw)
    assert wider.baseline.value >= 0 and _near_zero(wider)


def test_inference_calibration(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, schema=schema, n_attacks=300, seed=0)
    copy = inference_risks(synthetic=train.copy(), **kw)
    assert set(copy) == set(schema.with_role("sensitive"))
    assert max(r.risk_ci[0] for r in copy.values()) > 0.3
    assert copy["bmi"].risk_ci[0] > 0.3
    for secret, r in inference_risks(synthetic=fresh, **kw).items():
        assert _near_zero(r), secret
    one = inference_risk(synthetic=train.copy(), secret="bmi", **kw)
    assert one.to_dict() == copy["bmi"].to_dict()


def test_same_seed_same_numbers(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, synthetic=fresh, schema=schema, n_attacks=200)
    for fn in (singling_out_risk, linkability_risk):
        assert fn(seed=3, **kw).to_dict() == fn(seed=3, **kw).to_dict()
    a = inference_risk(secret="bmi", seed=3, **kw)
    assert a.to_dict() == inference_risk(secret="bmi", seed=3, **kw).to_dict()


def test_output_holds_no_cell_values(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, synthetic=train.copy(), schema=schema, n_attacks=100)
    results = [
        singling_out_risk(seed=0, **kw),
        linkability_risk(seed=0, **kw),
        inference_risk(secret="smoking_status", seed=0, **kw),
    ]
    text = json.dumps([r.to_dict() for r in results])
    for value in train["practice_code"].unique():
        assert str(value) not in text
    for r in results:
        d = r.to_dict()
        assert d["risk"]["direction"] == "lower is better" and d["risk"]["baseline"] == 0.0
        assert {"main", "control", "baseline", "n_attacks", "baseline_as_good"} <= set(d)


def test_bad_input_is_one_clear_error(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0)
    with pytest.raises(InputError, match="mode"):
        singling_out_risk(mode="bivariate", **kw)
    with pytest.raises(InputError, match="disjoint"):
        linkability_risk(aux_cols=(["age", "sex"], ["sex", "bmi"]), **kw)
    with pytest.raises(InputError, match="secret cannot be"):
        inference_risk(secret="bmi", aux_cols=["age", "bmi"], **kw)
    with pytest.raises(InputError, match="synthetic lacks"):
        inference_risk(
            train=train,
            holdout=holdout,
            synthetic=fresh.drop(columns="bmi"),
            schema=schema,
            secret="bmi",
            seed=0,
        )
    with pytest.raises(InputError, match="n_attacks"):
        linkability_risk(n_attacks=0, **kw)
