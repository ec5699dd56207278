"""The whole evaluation, end to end: a perfect synthetic cohort scores at the ceiling; one
whose columns were shuffled independently keeps its shapes and loses everything relational."""

from __future__ import annotations

import json

import numpy as np
import pytest

import synthgen as sg


@pytest.fixture(scope="module")
def reports(cohort):
    train, holdout, _, schema = cohort
    schema = schema.update("hypertension", roles=("sensitive", "target")).with_rules(
        "ldl < total_cholesterol"
    )
    rng = np.random.default_rng(0)
    # as many training records as synthetic ones, so models trained on either compare fairly
    train = train.iloc[np.sort(rng.choice(len(train), 750, replace=False))].reset_index(drop=True)
    order = rng.permutation(len(holdout))
    reference = holdout.iloc[order[:750]].reset_index(drop=True)
    perfect = holdout.iloc[order[750:]].reset_index(drop=True)
    shuffled = perfect.copy()
    for col in shuffled.columns:
        shuffled[col] = shuffled[col].to_numpy()[rng.permutation(len(shuffled))]
    out = {}
    for name, synthetic in (("perfect", perfect), ("shuffled", shuffled)):
        report = sg.evaluate(
            train=train, holdout=reference, synthetic=synthetic, schema=schema, n_boot=50
        )
        out[name] = json.loads(report.to_json())["fidelity"]
    return out


def _value_and_ceiling(fig: dict) -> tuple[float, float]:
    return fig["value"], fig["baseline"]


@pytest.mark.filterwarnings("ignore")
def test_perfect_synthetic_scores_at_the_ceiling(reports) -> None:
    fid = reports["perfect"]
    m = fid["marginals"]["summary"]
    for fig in (m["shape_score"], m["mean_abs_corr_diff"], m["mean_abs_cramers_v_diff"]):
        value, ceiling = _value_and_ceiling(fig)
        assert value == pytest.approx(ceiling, abs=0.02)
    assert abs(fid["detection"]["auc"]["value"] - 0.5) < 0.06
    auc = fid["utility"]["targets"]["hypertension"]["models"]["boosting"]["auc"]
    assert auc["value"] == pytest.approx(auc["baseline"], abs=0.04)
    c_index = fid["survival"]["cox"]["c_index"]
    assert c_index["value"] == pytest.approx(c_index["baseline"], abs=0.03)
    assert fid["validity"]["checks"]["rule"][0]["violations"]["value"] == 0


@pytest.mark.filterwarnings("ignore")
def test_shuffled_columns_keep_shapes_but_lose_relations(reports) -> None:
    fid, ok = reports["shuffled"], reports["perfect"]
    m = fid["marginals"]["summary"]
    assert m["shape_score"]["value"] == pytest.approx(
        ok["marginals"]["summary"]["shape_score"]["value"]
    )
    assert m["mean_abs_corr_diff"]["value"] > 5 * m["mean_abs_corr_diff"]["baseline"]
    assert m["mean_abs_cramers_v_diff"]["value"] > 2 * m["mean_abs_cramers_v_diff"]["baseline"]
    assert fid["detection"]["auc"]["ci"][0] > 0.9
    auc = fid["utility"]["targets"]["hypertension"]["models"]["boosting"]["auc"]
    assert auc["value"] < auc["baseline"] - 0.2
    # a model fitted to noise still ranks structured real records somewhat (its C-index on
    # real data scatters widely around 0.5); what matters is the distance to the ceiling
    c_index = fid["survival"]["cox"]["c_index"]
    assert c_index["value"] < c_index["baseline"] - 0.1
    assert fid["validity"]["checks"]["rule"][0]["violations"]["value"] > 0
    worst = fid["by_subgroup"]["worst"]["detection_auc"]
    assert worst  # every group is worse than its ceiling; the worst are named
