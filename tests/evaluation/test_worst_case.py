"""The worst-case view: exposure per member, aggregates for the report, the custodian's list."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthgen.errors import InputError
from synthgen.evaluation.privacy.scores import evaluate_attack
from synthgen.evaluation.privacy.worst_case import exposure, worst_case


def test_exposure_is_the_share_of_nonmembers_scoring_at_least_as_high() -> None:
    got = exposure(member_scores=[5.0, 3.0, 0.5, 2.0], nonmember_scores=[1.0, 2.0, 3.0, 4.0])
    # 5 beats all; 3 ties one and is beaten by one; 0.5 is beaten by all; 2 ties one of 3
    np.testing.assert_allclose(got, [0.0, 0.5, 1.0, 0.75])
    with pytest.raises(InputError, match="nonmember"):
        exposure(member_scores=[1.0], nonmember_scores=[])


def _attack(name, m, n, m_rows):
    return evaluate_attack(
        name=name,
        member_scores=m,
        nonmember_scores=n,
        seed=0,
        n_boot=20,
        member_rows=np.asarray(m_rows),
        nonmember_rows=np.arange(len(n)),
    )


def test_attacks_line_up_by_training_row() -> None:
    a = _attack("a", [9.0, 1.0, 2.0], [0.0, 1.5, 3.0, 4.0], [4, 0, 2])
    b = _attack("b", [0.1, 7.0], [1.0, 2.0, 3.0, 4.0], [2, 7])  # scores other rows
    wc = worst_case(attacks={"a": a, "b": b}, n_train=10)
    np.testing.assert_array_equal(wc.rows, [0, 2, 4, 7])
    np.testing.assert_allclose(wc.scores[:, 0], [1.0, 2.0, 9.0, np.nan])
    np.testing.assert_allclose(wc.exposure[:, 0], [0.75, 0.5, 0.0, np.nan])
    np.testing.assert_allclose(wc.exposure[:, 1], [np.nan, 1.0, np.nan, 0.0])
    np.testing.assert_array_equal(wc.flagged(), [0, 0, 1, 1])

    table = wc.table()
    assert list(table.columns) == [
        "row",
        "attacks_flagging",
        "a_score",
        "a_exposure",
        "b_score",
        "b_exposure",
    ]
    assert table["row"].tolist() == [4, 7, 2, 0]  # exposure 0 first (ties by row), then 0.5
    shifted = wc.table(source_rows=np.arange(10) * 10, top=2)
    assert shifted["row"].tolist() == [40, 70]

    d = wc.to_dict()
    json.dumps(d)
    fig = d["attacks"]["a"]["members_above_every_nonmember"]
    assert fig["count"] == 1 and fig["value"] == round(1 / 3, 4)
    assert fig["baseline"] == round(1 / 5, 4) and fig["direction"] == "lower is better"
    assert d["records_flagged_by_every_attack"] == 0
    assert "rows" not in json.dumps(d)


def test_attacks_without_rows_or_out_of_range_are_refused() -> None:
    no_rows = evaluate_attack(name="x", member_scores=[1.0], nonmember_scores=[0.0], seed=0)
    far = _attack("far", [1.0], [0.0], [50])
    with pytest.raises(InputError) as err:
        worst_case(attacks={"x": no_rows, "far": far}, n_train=10)
    assert "'x' kept no member row" in str(err.value) and "'far'" in str(err.value)
    with pytest.raises(InputError, match="at least one"):
        worst_case(attacks={}, n_train=10)
