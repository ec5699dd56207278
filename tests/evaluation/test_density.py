"""The density-ratio (DOMIAS) attack: who is scored, and calibration on the demo cohort."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError
from synthgen.evaluation.privacy.density import MIN_DISTANCE, density_attack
from synthgen.evaluation.privacy.scores import MAX_MEMBERS, member_rows


def test_copying_generator_is_caught(cohort, noisy_copy):
    train, holdout, _, schema = cohort
    copied = train.sample(frac=1.0, random_state=0).reset_index(drop=True)
    for synthetic in (copied, noisy_copy(train, schema, 0)):
        res = density_attack(
            train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0, n_boot=50
        )
        assert res.name == "density_ratio"
        assert res.auc >= 0.9
        assert res.auc_ci[0] >= 0.85
        assert res.tpr_at_fpr[0.01] >= 0.5


def test_fresh_sample_is_not_flagged(cohort):
    train, holdout, fresh, schema = cohort
    res = density_attack(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0, n_boot=50
    )
    assert abs(res.auc - 0.5) <= 0.05
    assert res.auc_ci[0] <= 0.5 + 0.05
    # every holdout record is a non-member, so TPR at 1% FPR is measurable, and near 1%
    assert res.to_dict()["tpr_at_fpr"]["0.01"]["reliable"]
    assert res.tpr_at_fpr[0.01] <= 0.03


def test_default_cross_fit_scores_every_holdout_record_once(cohort):
    train, holdout, fresh, schema = cohort
    res = density_attack(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=3, n_boot=5
    )
    # each half of the holdout is the reference for the other: every holdout record is a
    # non-member; every training record is a member (the fixture is below MAX_MEMBERS)
    assert len(train) <= MAX_MEMBERS
    assert np.array_equal(res.nonmember_rows, np.arange(len(holdout)))
    assert np.array_equal(res.member_rows, np.arange(len(train)))
    assert np.isfinite(res.member_scores).all() and np.isfinite(res.nonmember_scores).all()
    # a record scored against a reference holding itself would sit at the distance floor
    # and score far below the rest; under the cross-fit no non-member does
    floor = np.log(MIN_DISTANCE)
    assert res.nonmember_scores.min() > floor / 2


def test_large_training_tables_are_sampled_to_max_members():
    rng = np.random.default_rng(0)
    big = member_rows(MAX_MEMBERS * 3, 500, rng)
    assert big.size == MAX_MEMBERS and np.all(np.diff(big) > 0)
    # never fewer members than non-members
    assert member_rows(MAX_MEMBERS * 3, MAX_MEMBERS * 2, rng).size == MAX_MEMBERS * 2
    assert np.array_equal(member_rows(300, 80, rng), np.arange(300))


def test_explicit_reference_makes_every_holdout_row_a_nonmember(cohort):
    train, holdout, fresh, schema = cohort
    small_holdout = holdout.iloc[:400]
    res = density_attack(
        train=train,
        holdout=small_holdout,
        synthetic=train,
        schema=schema,
        seed=0,
        n_boot=5,
        reference=fresh,
    )
    assert res.n_nonmembers == 400 and res.n_members == len(train)
    assert np.array_equal(res.nonmember_rows, np.arange(400))
    assert res.auc >= 0.9


def test_same_seed_same_numbers(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, synthetic=fresh, schema=schema, n_boot=20)
    a = density_attack(seed=7, **kw)
    b = density_attack(seed=7, **kw)
    assert a.to_dict(include_scores=True) == b.to_dict(include_scores=True)
    assert np.array_equal(a.member_rows, b.member_rows)
    json.dumps(a.to_dict())


def test_tiny_memorised_points_score_highest():
    schema = specs_from([ColumnSpec("x", "numeric"), ColumnSpec("g", "categorical")])
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=40), "g": ["a", "b"] * 20})
    holdout = pd.DataFrame({"x": rng.normal(size=80), "g": ["a", "b"] * 40})
    synthetic = pd.concat([train, train], ignore_index=True)  # every member twice
    res = density_attack(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0, n_boot=5, k=2
    )
    assert res.n_members == 40 and res.n_nonmembers == 80
    assert res.auc >= 0.9


def test_bad_input_is_one_clear_error(cohort):
    train, holdout, fresh, schema = cohort
    with pytest.raises(InputError, match="lacks columns"):
        density_attack(
            train=train,
            holdout=holdout,
            synthetic=fresh.drop(columns=["age"]),
            schema=schema,
            seed=0,
        )
    with pytest.raises(InputError, match="at least 2 rows"):
        density_attack(
            train=train, holdout=holdout.iloc[:1], synthetic=fresh, schema=schema, seed=0
        )
    with pytest.raises(InputError, match="k must be"):
        density_attack(train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0, k=0)
