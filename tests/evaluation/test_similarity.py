"""Copies, distance to closest record and the distance attack: by hand and calibrated."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.evaluation.privacy.similarity import (
    count_copies,
    distance_attack,
    distance_to_closest_record,
)


# ------------------------------------------------------------------ tiny hand-made tables
@pytest.fixture()
def tiny():
    schema = specs_from(
        [
            ColumnSpec("pid", "text", ("direct_identifier",), handling="drop"),
            ColumnSpec("age", "integer"),
            ColumnSpec("sex", "categorical"),
            ColumnSpec("bmi", "numeric"),
        ]
    )
    train = pd.DataFrame(
        {
            "pid": ["a", "b", "c", "d"],
            "age": [30, 40, 50, 60],
            "sex": ["F", "M", "F", None],
            "bmi": [20.0, np.nan, 30.0, 25.0],
        }
    )
    holdout = pd.DataFrame(
        {
            "pid": ["e", "f", "g", "h"],
            "age": [30, 45, 55, 65],
            "sex": ["F", "M", "M", "F"],
            "bmi": [20.0, 22.0, 31.0, 24.0],
        }
    )
    synthetic = pd.DataFrame(
        {
            "pid": ["x", "y", "z", "w", "v"],  # identifiers differ: never compared
            "age": [30, 40, 60, 50, 33],
            "sex": ["F", "M", None, "M", "M"],
            "bmi": [20.0, np.nan, 25.0, 30.0, 21.0],
        }
    )
    return (
        schema.coerce(train),
        schema.coerce(holdout),
        schema.coerce(synthetic),
        schema,
    )


def test_exact_copies_by_hand(tiny):
    train, holdout, synthetic, schema = tiny
    res = count_copies(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    # rows 0 (plain copy), 1 (missing bmi == missing) and 2 (missing sex == missing) copy;
    # row 3 differs from train row 2 in sex, row 4 matches nothing
    assert res.exact_synthetic == 3 and res.n_synthetic == 5
    assert res.exact_holdout == 1 and res.n_holdout == 4  # holdout row 0 equals train row 0
    d = res.to_dict()
    json.dumps(d)
    assert d["exact_copies"]["value"] == 0.6
    assert d["exact_copies"]["baseline"] == 0.25
    lo, hi = d["exact_copies"]["ci"]
    assert lo < 0.6 < hi
    # the holdout has an exact copy, so the 1st percentile threshold is 0: exact rows only
    assert res.near_threshold == 0.0
    assert res.near_synthetic == 3 and res.near_holdout == 1


def test_copies_ignore_dtype_differences(tiny):
    train, holdout, synthetic, schema = tiny
    recast = synthetic.copy()
    recast["age"] = recast["age"].astype("float64")
    res = count_copies(train=train, holdout=holdout, synthetic=recast, schema=schema)
    assert res.exact_synthetic == 3


def test_explicit_near_threshold(tiny):
    train, holdout, synthetic, schema = tiny
    res = count_copies(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, near_threshold=1e9
    )
    assert res.near_synthetic == 5 and res.near_holdout == 4


def test_dcr_share_by_hand():
    schema = specs_from([ColumnSpec("x", "numeric")])
    train = pd.DataFrame({"x": [0.0, 10.0, 20.0, 30.0]})
    holdout = pd.DataFrame({"x": [5.0, 15.0, 25.0, 35.0]})
    # synthetic 0 and 20 sit on train rows, 35 on a holdout row, 12.5 halfway (tie)
    synthetic = pd.DataFrame({"x": [0.0, 20.0, 35.0, 12.5]})
    res = distance_to_closest_record(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0
    )
    assert res.dcr_share == pytest.approx((1 + 1 + 0 + 0.5) / 4)
    assert res.n_reference == 4
    d = res.to_dict()
    json.dumps(d)
    assert d["dcr_share"]["baseline"] == 0.5
    assert set(d["dcr_percentiles"]) == {"5", "50", "95"}
    # two synthetic rows are exact copies: their NNDR is 0
    assert res.synthetic_percentiles[5][0] == 0.0
    assert res.synthetic_nndr_median[0] <= res.holdout_nndr_median[0]


# --------------------------------------------------------------------------- calibration
def test_copying_generator_is_caught(cohort, noisy_copy):
    train, holdout, _, schema = cohort
    copied = train.sample(frac=1.0, random_state=0).reset_index(drop=True)
    for synthetic, exact in ((copied, True), (noisy_copy(train, schema, 0), False)):
        attack = distance_attack(
            train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0, n_boot=50
        )
        assert attack.auc >= 0.9
        assert attack.tpr_at_fpr[0.01] > 0.5
        dcr = distance_to_closest_record(
            train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0
        )
        assert dcr.dcr_share > 0.9
        assert dcr.synthetic_percentiles[50][0] < dcr.holdout_percentiles[50][0]
        copies = count_copies(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
        assert copies.near_share > 0.5 > copies.near_share_baseline
        if exact:
            assert copies.exact_share == 1.0 and copies.exact_share_baseline < 0.05


def test_fresh_sample_is_not_flagged(cohort):
    train, holdout, fresh, schema = cohort
    attack = distance_attack(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0, n_boot=50
    )
    assert abs(attack.auc - 0.5) <= 0.05
    assert attack.auc_ci[0] <= 0.5 + 0.05 and attack.auc_ci[1] >= 0.5 - 0.05
    # every holdout record is a non-member and every training record a member
    assert np.array_equal(attack.nonmember_rows, np.arange(len(holdout)))
    assert np.array_equal(attack.member_rows, np.arange(len(train)))
    assert attack.tpr_at_fpr[0.01] <= 0.03
    dcr = distance_to_closest_record(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0
    )
    assert abs(dcr.dcr_share - 0.5) <= 0.05
    copies = count_copies(train=train, holdout=holdout, synthetic=fresh, schema=schema)
    assert abs(copies.exact_share - copies.exact_share_baseline) < 0.02
    assert abs(copies.near_share - copies.near_share_baseline) < 0.02


def test_same_seed_same_numbers(cohort):
    train, holdout, fresh, schema = cohort
    runs = [
        (
            distance_attack(
                train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=7, n_boot=20
            ).to_dict(),
            distance_to_closest_record(
                train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=7
            ).to_dict(),
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1]
    json.dumps(runs[0])
