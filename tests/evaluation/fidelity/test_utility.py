"""Train-on-synthetic, test-on-real utility: metric plumbing, calibration, small inputs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score

import synthgen as sg
from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.utility import _metric_values, utility, weighted_auc

ENV = dict(n_boot=50, importance_rows=1000, n_repeats=2)


@pytest.fixture(scope="module")
def demo():
    """Real cohort split train | holdout; the holdout split again into A and B.

    A is an independent real sample of the same size as the (subsampled) training table, so
    "synthetic = A, scored on B" is exactly what a perfect generator would give.
    """
    real = sg.datasets.demo_cohort(6000, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    halves = sg.Cohort(split.holdout).split(0.5, seed=1)
    train = split.train.sample(len(halves.train), random_state=0).reset_index(drop=True)
    return train, halves.train, halves.holdout, schema


# ---------------------------------------------------------------- metric plumbing
def test_weighted_auc_hand_values():
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    labels = np.array([0, 0, 1, 1], bool)
    assert weighted_auc(scores=scores, labels=labels, weights=np.ones((1, 4)))[0] == 0.75
    # ties count half: pairs (0.5|0.5)=1/2, (0.5|0.2)=1, (0.9|0.5)=1, (0.9|0.2)=1 -> 3.5/4
    scores = np.array([0.5, 0.5, 0.2, 0.9])
    labels = np.array([1, 0, 0, 1], bool)
    assert weighted_auc(scores=scores, labels=labels, weights=np.ones((1, 4)))[0] == 0.875
    # weight 2 on the first positive = that row twice: (2 * 1.5 + 2) / (3 * 2)
    w = np.array([[2.0, 1.0, 1.0, 1.0]])
    assert weighted_auc(scores=scores, labels=labels, weights=w)[0] == pytest.approx(5 / 6)
    # a replicate without negatives has no AUC
    w = np.array([[1.0, 0.0, 0.0, 1.0]])
    assert np.isnan(weighted_auc(scores=scores, labels=labels, weights=w)[0])


def test_bootstrap_weights_match_resampled_rows():
    """Integer weights give exactly the metrics of the explicitly resampled rows."""
    rng = np.random.default_rng(0)
    n = 200
    y_cls = rng.integers(0, 3, n)
    proba = rng.dirichlet(np.ones(3), n)
    y_reg = rng.normal(size=n)
    pred = y_reg + rng.normal(scale=0.5, size=n)
    idx = rng.integers(0, n, (4, n))
    w = np.stack([np.bincount(i, minlength=n) for i in idx]).astype(float)
    for b, rows in enumerate(idx):
        got = {m: _metric_values(m, proba, y_cls, w)[b] for m in ("auc", "accuracy")}
        got.update({m: _metric_values(m, pred, y_reg, w)[b] for m in ("r2", "mae")})
        assert got["auc"] == pytest.approx(
            roc_auc_score(y_cls[rows], proba[rows], multi_class="ovr", average="macro")
        )
        assert got["accuracy"] == pytest.approx(accuracy_score(y_cls[rows], proba[rows].argmax(1)))
        assert got["r2"] == pytest.approx(r2_score(y_reg[rows], pred[rows]))
        assert got["mae"] == pytest.approx(mean_absolute_error(y_reg[rows], pred[rows]))


def _tiny(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "x": x,
            "colour": rng.choice(["red", "blue"], n).astype(object),
            "flag": x > 0,
            "y": 2.0 * x + 1.0,
        }
    )
    schema = specs_from(
        [
            ColumnSpec("x", "numeric"),
            ColumnSpec("colour", "categorical"),
            ColumnSpec("flag", "boolean", roles=("target",)),
            ColumnSpec("y", "numeric"),
        ]
    )
    return df, schema


def test_identical_training_tables_give_zero_difference():
    """Synthetic == train: every TSTR figure equals its TRTR baseline, difference exactly 0."""
    df, schema = _tiny()
    train, holdout = df.iloc[:40].reset_index(drop=True), df.iloc[40:].reset_index(drop=True)
    res = utility(
        train=train, holdout=holdout, synthetic=train.copy(), schema=schema, seed=0, **ENV
    )
    (t,) = res.targets  # targets=None -> the schema's target column
    assert t.target == "flag" and t.task == "classification" and t.n_classes == 2
    assert t.features == ("x", "colour", "y")
    for fam in ("linear", "boosting"):
        for m in ("auc", "accuracy"):
            fig = t.metrics[fam][m]
            assert fig.value == fig.baseline and fig.difference == 0.0
            assert fig.difference_ci == (0.0, 0.0)
    # flag is x > 0 and x is a feature: the linear model separates the holdout perfectly
    assert t.metrics["linear"]["auc"].value == 1.0
    assert res.headline == 0.0
    reg = utility(
        train=train, holdout=holdout, synthetic=train, schema=schema, seed=0, targets=["y"], **ENV
    )
    fig = reg.targets[0].metrics["linear"]["r2"]
    assert reg.targets[0].task == "regression" and fig.value > 0.95
    assert reg.targets[0].metrics["linear"]["mae"].direction == "lower is better"


def test_one_class_synthetic_target_reports_none_with_reason():
    df, schema = _tiny()
    train, holdout = df.iloc[:40].reset_index(drop=True), df.iloc[40:].reset_index(drop=True)
    synthetic = train.assign(flag=True)
    res = utility(train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0, **ENV)
    t = res.targets[0]
    fig = t.metrics["boosting"]["auc"]
    assert fig.value is None and fig.baseline is not None and fig.difference is None
    assert "only one class" in fig.reason and "synthetic" in fig.reason
    assert t.importance.spearman is None
    assert res.headline is None
    json.dumps(res.to_dict())


def test_too_few_records_and_no_target():
    df, schema = _tiny(n=30)
    train, holdout = df.iloc[:15], df.iloc[15:]
    res = utility(train=train, holdout=holdout, synthetic=train, schema=schema, seed=0, **ENV)
    fig = res.targets[0].metrics["linear"]["auc"]
    assert fig.value is None and "too few records" in fig.reason
    no_target = schema.update("flag", roles=("plain",))
    res = utility(train=df, holdout=df, synthetic=df, schema=no_target, seed=0, **ENV)
    assert res.targets == () and "no target" in res.reason
    assert res.to_dict()["headline"]["value"] is None


def test_bad_input_lists_every_problem():
    df, schema = _tiny()
    with pytest.raises(InputError) as err:
        utility(
            train=df,
            holdout="nope",
            synthetic=df.drop(columns="y"),
            schema=schema,
            seed=0,
            targets=["y", "ghost"],
            n_boot=0,
        )
    msg = str(err.value)
    for part in (
        "holdout must be",
        "'ghost' is not in the schema",
        "'y' is missing from",
        "n_boot",
    ):
        assert part in msg


# ------------------------------------------------------------------- calibration
def test_real_sample_as_synthetic_scores_like_real(demo):
    train, a, b, schema = demo
    res = utility(
        train=train,
        holdout=b,
        synthetic=a,
        schema=schema,
        seed=0,
        targets=["diabetes", "hypertension"],
        **ENV,
    )
    for t in res.targets:
        assert "followup_days" not in t.features and "died" not in t.features
        assert t.target not in t.features
        for fam in ("linear", "boosting"):
            fig = t.metrics[fam]["auc"]
            assert abs(fig.difference) < 0.03, (t.target, fam, fig)
            assert fig.difference_ci[0] < 0 < fig.difference_ci[1]
            assert fig.ci[0] <= fig.value <= fig.ci[1]
    diabetes = res.targets[0]
    assert diabetes.metrics["boosting"]["auc"].baseline > 0.9  # HbA1c nearly diagnoses it
    assert diabetes.importance.top_real[0] == "hba1c"
    assert diabetes.importance.top_synthetic[0] == "hba1c"
    assert diabetes.importance.spearman > 0  # the many near-zero importances are noisy
    assert abs(res.headline) < 0.03


def test_shuffled_target_gives_chance_auc(demo):
    train, a, b, schema = demo
    shuffled = a.copy()
    rng = np.random.default_rng(0)
    shuffled["hypertension"] = rng.permutation(shuffled["hypertension"].to_numpy())
    res = utility(
        train=train,
        holdout=b,
        synthetic=shuffled,
        schema=schema,
        seed=0,
        targets=["hypertension"],
        importance=False,
        **ENV,
    )
    t = res.targets[0]
    for fam in ("linear", "boosting"):
        fig = t.metrics[fam]["auc"]
        assert 0.42 < fig.value < 0.58, fig
        assert fig.baseline > 0.7
        assert fig.difference_ci[1] < -0.1
    assert t.importance is None


def test_multiclass_and_regression_targets(demo):
    train, a, b, schema = demo
    res = utility(
        train=train,
        holdout=b,
        synthetic=a,
        schema=schema,
        seed=0,
        targets=["smoking_status", "bmi"],
        importance=False,
        max_train_rows=1000,
        **ENV,
    )
    smoking, bmi = res.targets
    assert smoking.task == "classification" and smoking.n_classes == 3
    assert smoking.n_train <= 1000 and smoking.n_synthetic <= 1000
    assert 0.5 < smoking.metrics["boosting"]["auc"].baseline < 1.0
    assert bmi.task == "regression" and bmi.metrics["linear"]["r2"].baseline > 0.05
    d = res.to_dict()
    assert d["max_train_rows"] == 1000 and d["n_train"] == 1000
    fig = d["targets"]["bmi"]["models"]["boosting"]["r2"]
    assert set(fig) >= {"value", "direction", "ci", "baseline", "baseline_ci", "difference"}


def test_small_subset_does_not_crash(demo):
    train, a, b, schema = demo
    res = utility(
        train=train.iloc[:40],
        holdout=b.iloc[:40],
        synthetic=a.iloc[:40],
        schema=schema,
        seed=0,
        targets=["diabetes", "cystic_fibrosis", "bmi"],
        **ENV,
    )
    d = res.to_dict()
    json.dumps(d)
    cf = res.targets[1]
    assert cf.metrics["boosting"]["auc"].value is None
    assert "only one class" in cf.metrics["boosting"]["auc"].reason


def test_same_seed_same_result(demo):
    train, a, b, schema = demo
    kwargs = dict(
        train=train.iloc[:400],
        holdout=b.iloc[:400],
        synthetic=a.iloc[:400],
        schema=schema,
        targets=["hypertension"],
        **ENV,
    )
    first = utility(seed=3, **kwargs).to_dict()
    assert utility(seed=3, **kwargs).to_dict() == first
    assert utility(seed=4, **kwargs).to_dict() != first
