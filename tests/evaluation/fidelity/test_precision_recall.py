"""α-precision, β-recall and authenticity: hand-computed cases, calibration, failure modes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.precision_recall import (
    LEVELS,
    PrecisionRecallResult,
    authenticity_share,
    integrated_score,
    precision_recall,
    support_curve,
)

# ------------------------------------------------------------------ pure functions by hand


def test_support_curve_by_hand():
    # reference radii sorted 1,2,3,4: level 0.25 -> tau 1, 0.5 -> 2, 0.75 -> 3, 1 -> 4
    curve = support_curve(
        reference_radii=[4, 1, 3, 2], query_radii=[0.5, 2.5, 2.0, 9.0], levels=[0.25, 0.5, 0.75, 1]
    )
    assert curve.tolist() == [0.25, 0.5, 0.75, 0.75]


def test_integrated_score_by_hand():
    assert integrated_score(levels=[0.5, 1.0], curve=[0.5, 1.0]) == pytest.approx(1.0)
    # gaps 0 (at 0), 0.5, 0: area 0.25 -> 1 - 0.5
    assert integrated_score(levels=[0.5, 1.0], curve=[1.0, 1.0]) == pytest.approx(0.5)
    # gaps 0, 0.5, 1: area 0.5 -> worst score
    assert integrated_score(levels=[0.5, 1.0], curve=[0.0, 0.0]) == pytest.approx(0.0)


def test_authenticity_share_by_hand():
    # query 0 copies real 0 (0 < 1); query 1 is 3 from real 1 whose own neighbour is 2 away;
    # query 2 is 1 from real 1 (1 < 2)
    authentic, n = authenticity_share(
        query_to_real=[0.0, 3.0, 1.0], nearest_real=[0, 1, 1], real_to_real=[1.0, 2.0]
    )
    assert (authentic, n) == (1, 3)


# --------------------------------------------------------------- the measure on 1-D points
TRAIN_X = [0, 1, 3, 6, 10, 15, 21, 28, 36, 45]
SYN_X = [-3.3, 0.2, 3.7, 6.4, 12.6, 22.2, 30.5, 39.2, 60, 80]


def test_one_dimensional_hand_case():
    """k = 1 on points of a line (scaling does not change any comparison).

    Train's own nearest-neighbour radii: 1 1 2 3 4 5 6 7 8 9. Synthetic radii against train:
    3.3 0.2 0.7 0.4 2.4 1.2 2.5 3.2 15 35. With ten records a level a uses the
    ceil(10 a)-th smallest radius, so P = .3 (a <= .2), .4 (<= .3), .6 (<= .4), then .8.
    Synthetic own radii: 3.5 3.5 2.7 2.7 6.2 8.3 8.3 8.7 20 20; train radii against the
    synthetic points: .2 .8 .7 .4 2.6 2.4 1.2 2.5 3.2 5.8, so R = .8 (b <= .2), .9 (<= .4),
    then 1. Authentic: -3.3 (3.3 > 1), 60 (15 > 9) and 80 (35 > 9): 3 of 10.
    """
    schema = specs_from([ColumnSpec(name="x", kind="numeric")])
    train = pd.DataFrame({"x": np.array(TRAIN_X, float)})
    syn = pd.DataFrame({"x": np.array(SYN_X, float)})
    res = precision_recall(train=train, holdout=syn, synthetic=syn, schema=schema, seed=0, k=1)
    assert res.levels == LEVELS
    expected_p = [0.3] * 4 + [0.4] * 2 + [0.6] * 2 + [0.8] * 12
    expected_r = [0.8] * 4 + [0.9] * 4 + [1.0] * 12
    assert res.synthetic.precision_curve == pytest.approx(expected_p)
    assert res.synthetic.recall_curve == pytest.approx(expected_r)
    # sum of |P - a| over the 20 levels is 3.3, the last gap (0.2) counts half: 0.05 * 3.2
    assert res.delta_precision == pytest.approx(1 - 2 * 0.16)
    # sum of |R - b| is 8.3 and the last gap is 0: 0.05 * 8.3
    assert res.delta_recall == pytest.approx(1 - 2 * 0.415)
    assert res.authenticity == pytest.approx(0.3)
    assert res.headline == pytest.approx((0.68 + 0.17) / 2)
    # the holdout here is the same table, so the baseline equals the figures
    assert res.baseline.delta_precision == pytest.approx(res.delta_precision)


# ------------------------------------------------------------ calibration on the cohort
def _halves(holdout: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    mid = len(holdout) // 2
    return holdout.iloc[:mid], holdout.iloc[mid:]


def test_holdout_as_synthetic_scores_about_the_baseline(cohort):
    train, holdout, _, schema = cohort
    fake, rest = _halves(holdout)
    res = precision_recall(train=train, holdout=rest, synthetic=fake, schema=schema, seed=0)
    d = res.to_dict()
    for name in ("alpha_precision", "beta_recall", "authenticity"):
        fig = d[name]
        assert abs(fig["value"] - fig["baseline"]) < 0.05, name
        assert fig["ci"][0] <= fig["baseline"] + 0.03 and fig["ci"][1] >= fig["baseline"] - 0.03
    assert res.delta_precision > 0.9 and res.delta_recall > 0.9
    # the curves of a perfect sample follow the diagonal
    assert np.abs(np.array(res.synthetic.precision_curve) - np.array(LEVELS)).max() < 0.08


def test_copy_of_train_is_not_authentic(cohort):
    train, holdout, _, schema = cohort
    res = precision_recall(train=train, holdout=holdout, synthetic=train, schema=schema, seed=0)
    assert res.authenticity < 0.01
    assert res.baseline.authenticity > 0.4


def test_copies_are_caught_even_when_train_is_subsampled(cohort):
    # authenticity looks at every training record, not only the subsample behind the curves
    train, holdout, _, schema = cohort
    res = precision_recall(
        train=train, holdout=holdout, synthetic=train, schema=schema, seed=0, max_rows=300
    )
    assert res.n_train == 300 and res.n_train_authenticity == len(train) and res.subsampled
    assert res.authenticity < 0.01


def test_mode_collapse_lowers_recall_not_precision(cohort):
    # a synthetic cohort from a single region covers little of the real data
    train, holdout, _, schema = cohort
    region = holdout["region"].value_counts().index[0]
    fake = holdout[holdout["region"] == region]
    res = precision_recall(train=train, holdout=holdout, synthetic=fake, schema=schema, seed=0)
    assert res.delta_recall < res.baseline.delta_recall - 0.2
    assert res.delta_recall < res.to_dict()["beta_recall"]["baseline_ci"][0]
    assert res.delta_precision > 0.8


def test_one_sex_lowers_recall(cohort):
    train, holdout, _, schema = cohort
    fake = holdout[holdout["sex"] == holdout["sex"].value_counts().index[0]]
    res = precision_recall(train=train, holdout=holdout, synthetic=fake, schema=schema, seed=0)
    assert res.delta_recall < res.baseline.delta_recall - 0.1


def test_same_seed_same_result(cohort):
    train, holdout, fresh, schema = cohort
    kw = dict(train=train, holdout=holdout, synthetic=fresh, schema=schema, max_rows=500)
    a, b = precision_recall(**kw, seed=4), precision_recall(**kw, seed=4)
    assert a == b and a.to_dict() == b.to_dict()
    assert a.subsampled and a.n_synthetic == 500


def test_to_dict_layout_and_no_cell_values(cohort):
    train, holdout, fresh, schema = cohort
    res = precision_recall(
        train=train, holdout=holdout, synthetic=fresh, schema=schema, seed=0, max_rows=400
    )
    d = res.to_dict()
    text = json.dumps(d)
    for name in ("alpha_precision", "beta_recall", "authenticity"):
        assert {"value", "direction", "ci", "baseline", "baseline_ci"} <= set(d[name])
        assert d[name]["direction"].startswith("higher is better")
    assert "not 1" in d["authenticity"]["direction"]
    assert len(d["curves"]["levels"]) == len(d["curves"]["alpha_precision"]["synthetic"]) == 20
    assert d["subsampling"] == {"max_rows_per_table": 400, "applied": True}
    for value in ("London", "North East", "White", "never"):
        assert value not in text
    assert isinstance(res, PrecisionRecallResult)


def test_small_tables_work_and_tiny_tables_give_a_reason(cohort):
    train, holdout, fresh, schema = cohort
    small = precision_recall(
        train=train.iloc[:40],
        holdout=holdout.iloc[:40],
        synthetic=fresh.iloc[:40],
        schema=schema,
        seed=0,
    )
    assert small.headline is not None and small.baseline is not None and small.reason is None
    tiny = precision_recall(
        train=train.iloc[:40],
        holdout=holdout.iloc[:4],
        synthetic=fresh.iloc[:40],
        schema=schema,
        seed=0,
    )
    assert tiny.baseline is None and tiny.synthetic is not None
    assert "holdout" in tiny.reason
    assert tiny.to_dict()["alpha_precision"]["baseline"] is None
    none = precision_recall(
        train=train.iloc[:5],
        holdout=holdout.iloc[:40],
        synthetic=fresh.iloc[:40],
        schema=schema,
        seed=0,
    )
    assert none.headline is None and "train" in none.reason


def test_every_input_problem_is_reported_at_once(cohort):
    train, holdout, _, schema = cohort
    with pytest.raises(InputError) as err:
        precision_recall(
            train=train, holdout=None, synthetic=train, schema=schema, seed=0, k=0, max_rows=2
        )
    msg = str(err.value)
    assert "holdout table must be a pandas DataFrame" in msg
    assert "k must be" in msg and "max_rows" in msg
