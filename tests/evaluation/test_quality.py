"""The first fidelity figure: sdmetrics' QualityReport on our schema."""

from __future__ import annotations

import numpy as np
import pytest

import synthgen as sg
from synthgen.evaluation.quality import quality_score


@pytest.fixture(scope="module")
def halves():
    real = sg.datasets.demo_cohort(1200, seed=21)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    return split.train, split.holdout, schema


def test_holdout_scores_high_and_shuffled_columns_lose_pair_trends(halves):
    train, holdout, schema = halves
    ceiling = quality_score(train, holdout, schema)
    rng = np.random.default_rng(0)
    shuffled = holdout.copy()
    for col in schema.model_columns:  # break every dependence, keep every marginal
        shuffled[col] = shuffled[col].to_numpy()[rng.permutation(len(shuffled))]
    broken = quality_score(train, shuffled, schema)
    assert ceiling.overall > 0.85
    assert abs(broken.column_shapes - ceiling.column_shapes) < 0.01  # same marginals
    assert broken.column_pair_trends < ceiling.column_pair_trends - 0.03
    assert 0 <= broken.overall <= 1


def test_identifiers_are_left_out(halves):
    train, holdout, schema = halves
    # a differing identifier column must not change the score
    other = holdout.copy()
    other["nhs_number"] = "999 000 0000"
    assert quality_score(train, other, schema) == quality_score(train, holdout, schema)


def test_large_tables_are_subsampled_with_the_seed(monkeypatch) -> None:
    """Above MAX_ROWS the score comes from a seeded subsample (sdmetrics' own is unseeded)."""
    import synthgen.evaluation.quality as quality

    real = sg.datasets.demo_cohort(400, seed=1)
    schema = sg.infer_schema(real)
    real = schema.coerce(real)
    other = schema.coerce(sg.datasets.demo_cohort(400, seed=2))
    monkeypatch.setattr(quality, "MAX_ROWS", 150)
    a = quality_score(real, other, schema, seed=0)
    assert a == quality_score(real, other, schema, seed=0)
    assert a != quality_score(real, other, schema, seed=1)
