"""The diffusion encoder's smoothed grid: no training value is singled out, atoms stay atoms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from synthgen.models.diffusion._encoding import (
    RECORDS_PER_KNOT,
    NumericCode,
    TableEncoder,
    smooth_grid,
)

DRAWS = 200_000


def _exact_match_ratio(code: NumericCode, train: np.ndarray, holdout: np.ndarray) -> float:
    """How much more often decoded values hit a training value than a held-out one.

    Decodes many standard-normal scores (a model that learned the marginal and nothing of any
    one record) and compares the mean number of exact hits on training and on held-out values
    drawn from the same distribution: 1 means the marginal does not single out the sample.
    """
    z = np.random.default_rng(1).standard_normal(DRAWS)
    values, counts = np.unique(np.round(code.from_normal(z)), return_counts=True)
    hits = dict(zip(values.tolist(), counts.tolist(), strict=True))
    on_train = np.mean([hits.get(v, 0) for v in train.tolist()])
    on_holdout = np.mean([hits.get(v, 0) for v in holdout.tolist()])
    return float(on_train / on_holdout)


def test_decoded_marginal_does_not_single_out_training_values() -> None:
    rng = np.random.default_rng(0)
    train, holdout = (np.round(rng.gamma(4.0, 150.0, 600)) for _ in range(2))
    grid, levels = smooth_grid(train, 1.0, np.random.default_rng(2))
    smooth = NumericCode("days", "integer", grid, False, 1.0, levels)
    # one record in twenty per knot still leans a little towards the sample (about 1.0-1.12
    # over seeds here); a knot at every training value, the grid before smoothing, doubles the
    # hits on training values and is caught by the same measure
    assert _exact_match_ratio(smooth, train, holdout) < 1.25
    per_record = NumericCode("days", "integer", np.sort(train), False, 1.0)
    assert _exact_match_ratio(per_record, train, holdout) > 1.6


def test_values_shared_by_many_records_stay_atoms() -> None:
    rng = np.random.default_rng(3)
    score = rng.choice([70.0, 80.0, 90.0, 100.0], size=800, p=[0.1, 0.2, 0.3, 0.4])
    grid, levels = smooth_grid(score, 1.0, rng)
    code = NumericCode("karnof", "integer", grid, False, 1.0, levels)
    decoded = np.round(code.from_normal(np.random.default_rng(4).standard_normal(DRAWS)))
    # between two runs lies one step of the grid, one record's share, as in the plain
    # empirical quantile function: three gaps, at most 3 / 799 of the draws
    off = ~np.isin(decoded, [70.0, 80.0, 90.0, 100.0])
    assert off.mean() < 3 / 799 + 0.001
    shares = [np.mean(decoded == v) for v in (70.0, 80.0, 90.0, 100.0)]
    np.testing.assert_allclose(shares, [np.mean(score == v) for v in (70, 80, 90, 100)], atol=0.01)
    # a heavy atom inside continuous values keeps its share; the rest is spread
    mixed = np.concatenate([np.zeros(300), rng.normal(50.0, 10.0, 700)])
    grid, levels = smooth_grid(mixed, 0.0, rng)
    code = NumericCode("dose", "numeric", grid, False, 0.0, levels)
    decoded = code.from_normal(np.random.default_rng(5).standard_normal(DRAWS))
    assert np.mean(decoded == 0.0) == pytest.approx(0.3, abs=0.01)
    assert np.unique(decoded[decoded != 0.0]).size > DRAWS * 0.6


def test_grid_size_follows_the_number_of_records() -> None:
    rng = np.random.default_rng(6)
    for n, knots in ((12, 12), (300, 20), (1_000, 1_000 // RECORDS_PER_KNOT), (40_000, 1_000)):
        grid, levels = smooth_grid(rng.normal(size=n), 0.0, rng)
        assert grid.size == levels.size == knots
        # mid-rank plotting positions: the smallest and largest records at 0.5 / n, 1 - 0.5 / n
        assert levels[0] == pytest.approx(0.5 / n) and levels[-1] == pytest.approx(1 - 0.5 / n)
        assert np.all(np.diff(levels) > 0) and np.all(np.diff(grid) >= 0)


def test_training_records_are_dequantised_only_when_asked() -> None:
    frame = pd.DataFrame({"age": np.repeat([40.0, 41.0, 42.0], 50)})
    enc = TableEncoder().fit(frame, {"age": "integer"}, np.random.default_rng(0))
    plain, _, _ = enc.encode(frame)
    spread, _, _ = enc.encode(frame, np.random.default_rng(1))
    assert np.unique(plain).size == 3  # ties share one score
    assert np.unique(spread).size > 0.9 * len(frame)
    # dequantised scores still decode to the recorded integers
    back = enc.decode(spread, np.zeros((len(frame), 0), dtype=np.int64), np.random.default_rng(0))
    np.testing.assert_array_equal(back["age"], frame["age"])


def test_saved_levels_round_trip_and_are_checked() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.normal(size=500)})
    enc = TableEncoder().fit(frame, {"x": "numeric"}, rng)
    doc, arrays = enc.to_state()
    again = TableEncoder.from_state(doc, arrays)
    np.testing.assert_array_equal(again.numeric_[0].levels, enc.numeric_[0].levels)
    bad = dict(arrays)
    bad["levels.0"] = arrays["levels.0"][::-1].copy()
    with pytest.raises(ValueError, match="levels"):
        TableEncoder.from_state(doc, bad)
    # a grid saved without levels (evenly spaced knots) still loads
    del bad["levels.0"]
    assert TableEncoder.from_state(doc, bad).numeric_[0].levels is None


def test_training_extremes_are_not_isolated_in_normal_scores() -> None:
    # the largest of n records encodes where the largest of n normal draws lies, not at the
    # 5.2 that a CDF level of 1 (clipped) gave, far from every other record
    n = 549
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"nodes": np.round(rng.lognormal(1.0, 1.0, n))})
    enc = TableEncoder().fit(frame, {"nodes": "integer"}, rng)
    z = enc.encode(frame, rng)[0][:, 0]
    assert np.abs(z).max() <= ndtri(1 - 0.5 / n) + 1e-6 < 3.2
    decoded = enc.numeric_[0].from_normal(np.array([-8.0, 8.0]))
    assert decoded[0] >= frame["nodes"].min() - 0.5 and decoded[1] <= frame["nodes"].max() + 0.5
