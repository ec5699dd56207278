"""Tests for marginal and pairwise fidelity: exact figures on tiny frames, then calibration."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import synthgen as sg
from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.marginals import (
    MAX_CATEGORIES,
    cramers_v,
    ks_wasserstein,
    marginal_fidelity,
    spearman_matrix,
    total_variation,
)

# ------------------------------------------------------------------------- pure math


def test_ks_and_wasserstein_of_known_samples() -> None:
    ks, w = ks_wasserstein(np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0]))
    assert ks == pytest.approx(1 / 3)
    assert w == pytest.approx(1.0)  # a shift by 1
    ks, w = ks_wasserstein(np.array([0.0, 0.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0, 1.0]))
    assert ks == pytest.approx(0.25)
    assert w == pytest.approx(0.25)


def test_ks_and_wasserstein_match_scipy() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=301).round(1)  # ties on purpose
    b = rng.normal(0.3, 1.4, size=157).round(1)
    ks, w = ks_wasserstein(a, b)
    assert ks == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert w == pytest.approx(stats.wasserstein_distance(a, b), abs=1e-12)


def test_total_variation_of_known_counts() -> None:
    # p = (1/2, 1/4, 1/4), q = (1/4, 3/4, 0): 0.5 * (1/4 + 1/2 + 1/4)
    assert total_variation(np.array([2, 1, 1]), np.array([1, 3, 0])) == pytest.approx(0.5)
    assert total_variation(np.array([5, 5]), np.array([1, 1])) == 0.0


def test_cramers_v_of_known_tables() -> None:
    assert cramers_v(np.array([[10, 0], [0, 10]])) == pytest.approx(1.0)
    # chi2 = 10/3, n = 30: phi2 = 1/9 - 1/29; r~ = k~ = 2 - 1/29
    expected = np.sqrt((1 / 9 - 1 / 29) / (1 - 1 / 29))
    assert cramers_v(np.array([[10, 5], [5, 10]])) == pytest.approx(expected)
    assert cramers_v(np.array([[5, 5], [5, 5]])) == 0.0  # independence, clipped at 0
    assert np.isnan(cramers_v(np.array([[7, 3], [0, 0]])))  # one row category only


def test_spearman_matrix_without_missing_matches_scipy() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 4.0])
    corr = spearman_matrix(np.column_stack([x, y]))
    assert corr[0, 1] == pytest.approx(0.8)  # 1 - 6 * 2 / (4 * 15)
    rng = np.random.default_rng(1)
    values = rng.normal(size=(200, 4)).round(1)
    values[:, 1] += values[:, 0]
    expected = stats.spearmanr(values).statistic
    assert np.allclose(spearman_matrix(values), expected)


def test_spearman_matrix_pairwise_complete_and_constant() -> None:
    values = np.array(
        [[1.0, 2.0, 5.0], [2.0, np.nan, 5.0], [3.0, 1.0, 5.0], [4.0, 4.0, 5.0], [5.0, 3.0, 5.0]]
    )
    corr = spearman_matrix(values)
    assert np.isnan(corr[0, 2]) and np.isnan(corr[2, 2])  # a constant column
    assert corr[0, 0] == pytest.approx(1.0)
    assert -1.0 <= corr[0, 1] <= 1.0 and corr[0, 1] == corr[1, 0]


# ------------------------------------------------------------------------- tiny frames

TINY_SCHEMA = Schema(
    (
        ColumnSpec("pid", "text", ("direct_identifier",), handling="drop"),
        ColumnSpec("x", "numeric"),
        ColumnSpec("n", "integer"),
        ColumnSpec("when", "datetime"),
        ColumnSpec("sex", "categorical"),
        ColumnSpec("flag", "boolean"),
    )
)


def _tiny(shift: float = 0.0) -> pd.DataFrame:
    x = np.arange(9, dtype=float) + shift
    return pd.DataFrame(
        {
            "pid": [f"P{i}" for i in range(9)],
            "x": x,
            "n": np.arange(9) * 2,
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(9) + shift, unit="D"),
            "sex": ["F", "F", "M", "M", "F", "M", "F", None, "M"],
            "flag": [True, False, True, False, True, False, True, False, True],
        }
    )


def test_numeric_figures_on_shifted_column() -> None:
    train = _tiny()
    result = marginal_fidelity(
        train=train, holdout=train.copy(), synthetic=_tiny(shift=2.0), schema=TINY_SCHEMA
    )
    x = result.column("x")
    # 0..8 shifted by 2: the CDFs differ by 2/9 at most; W1 = 2, IQR = 6 - 2 = 4
    assert x.measures["ks"].value == pytest.approx(2 / 9)
    assert x.measures["wasserstein"].value == pytest.approx(0.5)
    assert x.measures["ks"].baseline == 0.0 and x.measures["wasserstein"].baseline == 0.0
    when = result.column("when")  # datetimes: a 2-day shift, the same figures
    assert when.measures["ks"].value == pytest.approx(2 / 9)
    assert when.measures["wasserstein"].value == pytest.approx(0.5)
    assert "pid" not in [c.column for c in result.columns]  # direct identifier
    assert result.worst_columns(2)[0].column in ("x", "when")


def test_wasserstein_falls_back_to_std_when_iqr_is_zero() -> None:
    schema = Schema((ColumnSpec("x", "numeric"),))
    train = pd.DataFrame({"x": [0.0] * 8 + [1.0, 10.0]})
    synthetic = pd.DataFrame({"x": train["x"] + 1.0})
    result = marginal_fidelity(train=train, holdout=train, synthetic=synthetic, schema=schema)
    w = result.column("x").measures["wasserstein"].value
    assert w == pytest.approx(1.0 / np.std(train["x"]))


def test_tvd_and_missing_share_on_known_categories() -> None:
    schema = Schema((ColumnSpec("sex", "categorical"),))
    train = pd.DataFrame({"sex": ["F", "F", "M", None]})
    holdout = pd.DataFrame({"sex": ["F", "M", "F", None]})
    synthetic = pd.DataFrame({"sex": ["M", "M", "M", "F"]})
    result = marginal_fidelity(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    col = result.column("sex")
    # train (F, M, missing) = (1/2, 1/4, 1/4); synthetic = (1/4, 3/4, 0)
    assert col.measures["tvd"].value == pytest.approx(0.5)
    assert col.measures["tvd"].baseline == 0.0
    assert col.measures["missing_share_diff"].value == pytest.approx(0.25)
    assert col.measures["missing_share_diff"].baseline == 0.0
    assert result.headline == pytest.approx(0.5)
    assert result.headline_baseline == pytest.approx(1.0)


def test_pairs_report_cramers_v_and_correlation_differences() -> None:
    schema = Schema(
        (
            ColumnSpec("a", "categorical"),
            ColumnSpec("b", "categorical"),
            ColumnSpec("x", "numeric"),
            ColumnSpec("y", "numeric"),
        )
    )
    train = pd.DataFrame(
        {
            "a": ["u"] * 10 + ["v"] * 10,
            "b": ["s"] * 10 + ["t"] * 10,  # V(a, b) = 1
            "x": np.arange(20.0),
            "y": np.arange(20.0),  # rho = 1
        }
    )
    synthetic = pd.DataFrame(
        {
            "a": ["u"] * 10 + ["v"] * 10,
            "b": ["s", "t"] * 10,  # independent of a: V = 0
            "x": np.arange(20.0),
            "y": np.arange(20.0)[::-1],  # rho = -1
        }
    )
    result = marginal_fidelity(train=train, holdout=train, synthetic=synthetic, schema=schema)
    assert result.cramers_v.columns == ("a", "b")
    assert result.cramers_v.synthetic[0, 1] == pytest.approx(1.0)
    assert result.cramers_v.holdout[0, 1] == 0.0
    assert result.correlation.synthetic[0, 1] == pytest.approx(2.0)
    out = result.to_dict()
    assert out["correlation"]["measure"] == "spearman"
    assert out["correlation"]["matrix"]["columns"] == ["x", "y"]
    assert out["correlation"]["matrix"]["synthetic"] == [[0.0, 2.0], [2.0, 0.0]]
    assert out["correlation"]["pairs"] == [
        {"columns": ["x", "y"], "value": 2.0, "direction": "lower is better", "baseline": 0.0}
    ]
    summary = out["summary"]
    assert summary["mean_abs_cramers_v_diff"]["value"] == 1.0
    assert summary["mean_abs_cramers_v_diff"]["baseline"] == 0.0
    assert summary["max_abs_corr_diff"] == {
        "value": 2.0,
        "direction": "lower is better",
        "baseline": 0.0,
    }


def test_degenerate_columns_give_none_with_a_reason() -> None:
    schema = Schema(
        (
            ColumnSpec("const", "numeric"),
            ColumnSpec("empty", "numeric"),
            ColumnSpec("gone", "categorical"),
            ColumnSpec("ok", "numeric"),
        )
    )
    train = pd.DataFrame(
        {"const": [3.0] * 5, "empty": [np.nan] * 5, "gone": ["a"] * 5, "ok": np.arange(5.0)}
    )
    synthetic = pd.DataFrame(
        {"const": [3.0] * 5, "empty": [np.nan] * 5, "gone": [None] * 5, "ok": np.arange(5.0)}
    )
    result = marginal_fidelity(train=train, holdout=train, synthetic=synthetic, schema=schema)
    const = result.column("const").measures
    assert const["ks"].value == 0.0
    assert const["wasserstein"].value is None and "constant" in const["wasserstein"].reason
    empty = result.column("empty").measures
    assert empty["ks"].value is None and "no observed values" in empty["ks"].reason
    assert result.column("gone").measures["tvd"].value == pytest.approx(1.0)
    assert np.isnan(result.correlation.synthetic[0, 2])  # constant column: undefined
    out = result.to_dict()
    json.dumps(out, allow_nan=False)  # plain JSON: no NaN
    assert out["correlation"]["matrix"]["synthetic"][0][2] is None
    assert out["cramers_v"]["mean_abs_diff"]["value"] is None  # fewer than two columns


def test_skipped_columns_and_input_errors() -> None:
    train = _tiny()
    synthetic = train.drop(columns=["flag"])
    result = marginal_fidelity(train=train, holdout=train, synthetic=synthetic, schema=TINY_SCHEMA)
    assert result.skipped == {"flag": "absent from the synthetic table"}
    assert "flag" not in [c.column for c in result.columns]
    with pytest.raises(InputError, match="holdout table has no rows.*synthetic table must be"):
        marginal_fidelity(train=train, holdout=train.iloc[:0], synthetic=[1], schema=TINY_SCHEMA)
    bad = train.astype({"x": object})
    bad.loc[[1, 2], "x"] = "SECRET"
    with pytest.raises(InputError) as info:
        marginal_fidelity(train=train, holdout=train, synthetic=bad, schema=TINY_SCHEMA)
    assert "'x'" in str(info.value) and "SECRET" not in str(info.value)


def test_high_cardinality_columns_are_capped_for_cramers_v() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    codes = rng.integers(0, 4 * MAX_CATEGORIES, n)
    schema = Schema((ColumnSpec("many", "categorical"), ColumnSpec("few", "categorical")))
    df = pd.DataFrame({"many": [f"c{c}" for c in codes], "few": [f"g{c % 3}" for c in codes]})
    result = marginal_fidelity(train=df, holdout=df, synthetic=df, schema=schema)
    assert result.cramers_v.synthetic[0, 1] == 0.0
    assert result.column("many").measures["tvd"].value == 0.0


# ------------------------------------------------------------------------- calibration


def test_holdout_as_synthetic_scores_at_the_ceiling(cohort) -> None:
    train, holdout, _, schema = cohort
    result = marginal_fidelity(train=train, holdout=holdout, synthetic=holdout, schema=schema)
    for col in result.columns:
        for fig in col.measures.values():
            assert fig.value == fig.baseline
    assert np.array_equal(result.correlation.synthetic, result.correlation.holdout, equal_nan=True)
    assert result.headline == result.headline_baseline > 0.9


def test_fresh_draw_is_close_to_the_baseline(cohort) -> None:
    train, holdout, fresh, schema = cohort
    result = marginal_fidelity(train=train, holdout=holdout, synthetic=fresh, schema=schema)
    assert result.mean_ks.value < 2 * result.mean_ks.baseline + 0.01
    assert result.correlation.mean_abs_diff.value < 2 * result.correlation.mean_abs_diff.baseline
    assert result.headline > 0.9


def test_independently_shuffled_columns_keep_shapes_but_lose_pairs(cohort) -> None:
    train, holdout, _, schema = cohort
    rng = np.random.default_rng(5)
    shuffled = holdout.copy()
    for col in shuffled.columns:
        shuffled[col] = shuffled[col].to_numpy()[rng.permutation(len(shuffled))]
    result = marginal_fidelity(train=train, holdout=holdout, synthetic=shuffled, schema=schema)
    assert result.mean_ks.value == pytest.approx(result.mean_ks.baseline)
    assert result.mean_tvd.value == pytest.approx(result.mean_tvd.baseline)
    assert result.headline == pytest.approx(result.headline_baseline)
    corr, cv = result.correlation.mean_abs_diff, result.cramers_v.mean_abs_diff
    assert corr.value > 5 * corr.baseline and corr.value > 0.1
    # most categorical pairs are nearly independent in the cohort, which dilutes the mean
    assert cv.value > 2 * cv.baseline
    cv_max = result.cramers_v.max_abs_diff
    assert cv_max.value > 0.3 and cv_max.value > 2 * cv_max.baseline


def test_small_subset_and_no_real_values_in_the_report(cohort) -> None:
    train, holdout, fresh, schema = cohort
    result = marginal_fidelity(
        train=train.iloc[:30], holdout=holdout.iloc[:30], synthetic=fresh.iloc[:30], schema=schema
    )
    text = json.dumps(result.to_dict(), allow_nan=False)
    for col in ("practice_code", "region", "ethnicity"):
        for label in train[col].dropna().unique()[:20]:
            assert f'"{label}"' not in text
    assert set(result.to_dict()["summary"]) >= {
        "shape_score",
        "mean_ks",
        "mean_tvd",
        "mean_wasserstein",
        "mean_abs_corr_diff",
        "mean_abs_cramers_v_diff",
        "worst_columns",
    }
    assert len(result.to_dict()["summary"]["worst_columns"]) == 3


def test_demo_cohort_columns_are_the_model_columns() -> None:
    real = sg.datasets.demo_cohort(200, seed=2)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    result = marginal_fidelity(
        train=split.train, holdout=split.holdout, synthetic=split.holdout, schema=schema
    )
    assert [c.column for c in result.columns] == schema.model_columns
