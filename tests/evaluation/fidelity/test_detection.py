"""Detection (classifier two-sample test): calibration, power, importances, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgen.errors import InputError
from synthgen.evaluation.fidelity.detection import (
    DetectionResult,
    delong_ci,
    detection,
)
from synthgen.evaluation.privacy.scores import roc_auc


def _halves(holdout: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two disjoint halves of the holdout: one plays a perfect synthetic table."""
    mid = len(holdout) // 2
    return holdout.iloc[:mid], holdout.iloc[mid:]


def _shuffled(df: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every column permuted independently: marginals intact, relations destroyed."""
    rng = np.random.default_rng(seed)
    out = df.copy()
    for col in out.columns:
        out[col] = out[col].to_numpy()[rng.permutation(len(out))]
    return out


def test_delong_matches_mann_whitney_and_brackets_it():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(0.5, 1, 300), rng.normal(0, 1, 400)
    auc, low, high = delong_ci(positive_scores=pos, negative_scores=neg)
    assert auc == pytest.approx(roc_auc(member_scores=pos, nonmember_scores=neg))
    assert low < auc < high
    assert 0.03 < high - low < 0.2


def test_delong_hand_case_with_ties():
    # pairs (pos, neg): 2>1, 2>1, 1=1 (half), 1>0 -> 3.5 wins of 4
    auc, _, _ = delong_ci(positive_scores=[2.0, 1.0], negative_scores=[1.0, 0.0])
    assert auc == pytest.approx(0.875)


def test_holdout_as_synthetic_is_not_detected(cohort):
    train, holdout, _, schema = cohort
    fake, rest = _halves(holdout)
    res = detection(train=train, holdout=rest, synthetic=fake, schema=schema, seed=0)
    assert abs(res.auc - 0.5) < 0.06
    assert res.auc_ci[0] < 0.5 + 0.03 and res.auc_ci[1] > 0.5 - 0.03
    assert abs(res.baseline_auc - 0.5) < 0.06
    assert res.headline == res.auc


def test_independently_shuffled_columns_are_detected(cohort):
    # Marginals are exact, so only relations between columns give the fake away: a linear
    # detector cannot see that; the boosted trees should find it almost perfectly (0.99 on
    # 750 records a side), and far outside the baseline's interval.
    train, holdout, _, schema = cohort
    fake, rest = _halves(holdout)
    res = detection(train=train, holdout=rest, synthetic=_shuffled(fake, 1), schema=schema, seed=0)
    assert res.auc >= 0.9
    assert res.auc_ci[0] > res.baseline_ci[1]


def test_logistic_regression_would_miss_shuffled_columns(cohort):
    # Why the detector is not linear: the same test with a logistic regression on the
    # encoded features stays near chance.
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from synthgen.evaluation.encoding import MixedEncoder

    train, holdout, _, schema = cohort
    fake = _shuffled(holdout, 1)
    enc = MixedEncoder().fit(train, schema)
    x = np.vstack([enc.transform(train), enc.transform(fake)])
    y = np.r_[np.zeros(len(train)), np.ones(len(fake))]
    p = cross_val_predict(LogisticRegression(max_iter=500), x, y, cv=5, method="predict_proba")
    lr_auc = roc_auc(member_scores=p[y == 1, 1], nonmember_scores=p[y == 0, 1])
    assert lr_auc < 0.65


def test_shifted_column_tops_the_importances(cohort):
    train, holdout, _, schema = cohort
    fake, rest = _halves(holdout)
    fake = fake.copy()
    fake["bmi"] = fake["bmi"] + fake["bmi"].std()
    res = detection(train=train, holdout=rest, synthetic=fake, schema=schema, seed=3)
    assert res.auc > 0.6
    assert res.importances[0][0] == "bmi"
    assert res.importances[0][1] > 2 * res.importances[1][1]
    assert len(res.importances) == 5


def test_same_seed_same_result(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, synthetic=fresh, schema=schema, max_rows=600)
    a, b = detection(**kw, seed=7), detection(**kw, seed=7)
    assert a == b
    assert a.to_dict() == b.to_dict()
    assert a.subsampled and a.n_per_side == 600 and a.n_per_side_baseline == 600


def test_baseline_does_not_depend_on_the_synthetic_table(cohort):
    train, holdout, fresh, schema = cohort
    a = detection(train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=2)
    b = detection(
        train=train, holdout=holdout, synthetic=_shuffled(fresh, 0), schema=schema, seed=2
    )
    assert a.baseline_auc == b.baseline_auc


def test_to_dict_is_plain_json_without_cell_values(cohort):
    train, holdout, fresh, schema = cohort
    res = detection(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0, max_rows=400
    )
    d = res.to_dict()
    text = json.dumps(d)
    assert set(d["auc"]) == {"value", "direction", "ci", "baseline", "baseline_ci", "ideal"}
    assert d["subsampling"] == {"max_rows_per_side": 400, "applied": True}
    assert all(set(f) == {"column", "importance"} for f in d["top_features"])
    for value in ("London", "North East", "White", "never"):
        assert value not in text
    assert d["auc"]["value"] == round(d["auc"]["value"], 4)


def test_small_tables_work_and_tiny_tables_give_a_reason(cohort):
    train, holdout, fresh, schema = cohort
    small = detection(
        train=train.iloc[:40],
        holdout=holdout.iloc[:40],
        synthetic=fresh.iloc[:40],
        schema=schema,
        seed=0,
    )
    assert small.auc is not None and small.baseline_auc is not None and small.reason is None
    tiny = detection(
        train=train.iloc[:40],
        holdout=holdout.iloc[:40],
        synthetic=fresh.iloc[:8],
        schema=schema,
        seed=0,
    )
    assert tiny.auc is None and tiny.importances == ()
    assert tiny.baseline_auc is not None
    assert "synthetic" in tiny.reason
    assert tiny.to_dict()["auc"]["value"] is None


def test_only_columns_shared_by_all_tables_are_used(cohort):
    train, holdout, fresh, schema = cohort
    res = detection(
        train=train,
        holdout=holdout,
        synthetic=fresh.drop(columns=["bmi", "region"]),
        schema=schema,
        seed=0,
        max_rows=300,
    )
    assert "bmi" not in res.columns and "region" not in res.columns
    assert len(res.columns) == len(schema.model_columns) - 2


def test_every_input_problem_is_reported_at_once(cohort):
    train, holdout, _, schema = cohort
    with pytest.raises(InputError) as err:
        detection(
            train=train,
            holdout=holdout,
            synthetic=[1, 2],
            schema=schema,
            seed=0,
            n_folds=1,
            max_rows=5,
        )
    msg = str(err.value)
    assert "synthetic table must be a pandas DataFrame" in msg
    assert "n_folds" in msg and "max_rows" in msg


def test_result_is_a_frozen_dataclass(cohort):
    train, holdout, fresh, schema = cohort
    res = detection(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0, max_rows=200
    )
    assert isinstance(res, DetectionResult)
    with pytest.raises(AttributeError):
        res.auc = 0.5  # type: ignore[misc]
