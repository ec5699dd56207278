"""Attack scoring on tiny hand-computed examples."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest

from synthgen.errors import InputError
from synthgen.evaluation.privacy.scores import (
    AttackResult,
    binomial_ci,
    bootstrap_ci,
    evaluate_attack,
    roc_auc,
    tpr_at_fpr,
)


def test_auc_by_hand_with_a_tie():
    # pairs (3,1) (3,2) (2,1) win, (2,2) ties: (1 + 1 + 1 + 0.5) / 4
    assert roc_auc(member_scores=[3, 2], nonmember_scores=[1, 2]) == 0.875


@pytest.mark.parametrize(
    ("members", "nonmembers", "expected"),
    [([5, 6, 7], [1, 2], 1.0), ([1, 2], [5, 6, 7], 0.0), ([4, 4], [4, 4, 4], 0.5)],
)
def test_auc_extremes(members, nonmembers, expected):
    assert roc_auc(member_scores=members, nonmember_scores=nonmembers) == expected


def test_auc_matches_brute_force_on_random_scores():
    rng = np.random.default_rng(0)
    m = rng.integers(0, 10, 40).astype(float)
    n = rng.integers(0, 10, 30).astype(float)
    diff = m[:, None] - n[None, :]
    brute = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size
    assert roc_auc(member_scores=m, nonmember_scores=n) == pytest.approx(brute)


def test_tpr_at_fpr_by_hand():
    members = [10, 9, 8, 5, 1]
    nonmembers = [9, 4, 3, 2]  # n=4: FPR steps are 0, 0.25, 0.5, ...
    # t=10: TPR 1/5, FPR 0; t=9: TPR 2/5, FPR 1/4 (the tie at 9 counts both sides)
    assert tpr_at_fpr(member_scores=members, nonmember_scores=nonmembers, fpr=0.0) == 0.2
    assert tpr_at_fpr(member_scores=members, nonmember_scores=nonmembers, fpr=0.2) == 0.2
    # t=5: TPR 4/5 with FPR still 1/4
    assert tpr_at_fpr(member_scores=members, nonmember_scores=nonmembers, fpr=0.25) == 0.8
    # t=1: everyone, FPR 1
    assert tpr_at_fpr(member_scores=members, nonmember_scores=nonmembers, fpr=1.0) == 1.0


def test_tpr_at_fpr_keeps_ties_together():
    # every score tied: the only thresholds are "nobody" and "everybody"
    assert tpr_at_fpr(member_scores=[1, 1], nonmember_scores=[1, 1], fpr=0.5) == 0.0
    assert tpr_at_fpr(member_scores=[1, 1], nonmember_scores=[1, 1], fpr=1.0) == 1.0


def test_tpr_at_fpr_perfect_and_reversed():
    assert tpr_at_fpr(member_scores=[5, 6], nonmember_scores=[1, 2], fpr=0.0) == 1.0
    assert tpr_at_fpr(member_scores=[1, 2], nonmember_scores=[5, 6], fpr=0.01) == 0.0


def test_bootstrap_ci_contains_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    m = rng.normal(0.5, 1, 300)
    n = rng.normal(0.0, 1, 300)
    auc = roc_auc(member_scores=m, nonmember_scores=n)
    ci = bootstrap_ci(member_scores=m, nonmember_scores=n, statistic=roc_auc, seed=3)
    assert ci[0] < auc < ci[1]
    assert ci[1] - ci[0] < 0.2
    assert ci == bootstrap_ci(member_scores=m, nonmember_scores=n, statistic=roc_auc, seed=3)
    assert ci != bootstrap_ci(member_scores=m, nonmember_scores=n, statistic=roc_auc, seed=4)
    tpr = partial(tpr_at_fpr, fpr=0.1)
    lo, hi = bootstrap_ci(member_scores=m, nonmember_scores=n, statistic=tpr, seed=3)
    assert lo <= tpr(member_scores=m, nonmember_scores=n) <= hi


def test_wilson_interval_by_hand():
    # Wilson 95% for 5 of 10: centre 0.5, half-width z*sqrt(.025 + z^2/400)/(1 + z^2/10)
    z = 1.959963984540054
    half = z * np.sqrt(0.25 / 10 + z * z / 400) / (1 + z * z / 10)
    lo, hi = binomial_ci(5, 10)
    assert lo == pytest.approx(0.5 - half) and hi == pytest.approx(0.5 + half)
    assert binomial_ci(0, 20)[0] == 0.0 and binomial_ci(0, 20)[1] > 0.1
    assert binomial_ci(20, 20)[1] == 1.0
    assert binomial_ci(0, 0) == (0.0, 1.0)
    with pytest.raises(InputError):
        binomial_ci(3, 2)


def test_evaluate_attack_and_plain_json():
    rng = np.random.default_rng(2)
    m = rng.normal(1, 1, 500)
    n = rng.normal(0, 1, 500)
    res = evaluate_attack(name="toy", member_scores=m, nonmember_scores=n, seed=0, n_boot=50)
    assert isinstance(res, AttackResult)
    assert res.auc == roc_auc(member_scores=m, nonmember_scores=n)
    assert res.auc_ci[0] <= res.auc <= res.auc_ci[1]
    assert set(res.tpr_at_fpr) == {0.01, 0.001}
    assert res.n_members == 500 and res.n_nonmembers == 500
    d = res.to_dict()
    json.dumps(d)
    assert "member_scores" not in d
    assert d["auc"]["baseline"] == 0.5 and d["auc"]["direction"] == "lower is better"
    assert d["tpr_at_fpr"]["0.01"]["reliable"] is True
    assert d["tpr_at_fpr"]["0.001"]["reliable"] is False  # 500 non-members < 1,000
    assert d["tpr_at_fpr"]["0.01"]["baseline"] == 0.01
    assert d["auc"]["value"] == round(res.auc, 4)
    full = res.to_dict(include_scores=True)
    assert len(full["member_scores"]) == 500
    again = evaluate_attack(name="toy", member_scores=m, nonmember_scores=n, seed=0, n_boot=50)
    assert again.to_dict() == d


def test_empty_or_nan_scores_are_refused():
    with pytest.raises(InputError):
        roc_auc(member_scores=[], nonmember_scores=[1.0])
    with pytest.raises(InputError):
        tpr_at_fpr(member_scores=[np.nan], nonmember_scores=[1.0], fpr=0.01)
