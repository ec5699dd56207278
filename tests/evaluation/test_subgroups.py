"""Attack success by subgroup: by hand, small groups withheld, and calibrated."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError
from synthgen.evaluation.privacy.density import density_attack
from synthgen.evaluation.privacy.scores import evaluate_attack
from synthgen.evaluation.privacy.subgroups import attack_by_subgroup


@pytest.fixture()
def tiny():
    schema = specs_from(
        [
            ColumnSpec("pid", "text", ("direct_identifier",), handling="drop"),
            ColumnSpec("sex", "categorical", ("subgroup",)),
            ColumnSpec("age", "integer", ("subgroup",)),
            ColumnSpec("bmi", "numeric"),
        ]
    )
    sexes = ["F"] * 25 + ["M"] * 25 + ["X"] * 5
    train = pd.DataFrame(
        {"pid": [f"t{i}" for i in range(55)], "sex": sexes, "age": np.arange(55), "bmi": 20.0}
    )
    holdout = pd.DataFrame(
        {
            "pid": [f"h{i}" for i in range(55)],
            "sex": sexes,
            "age": np.arange(55, 110),
            "bmi": 20.0,
        }
    )
    # rows listed in reverse, so a wrong row mapping would scramble the groups
    member_rows = np.arange(55)[::-1]
    nonmember_rows = np.arange(55)[::-1]
    m_sex = np.array(sexes)[member_rows]
    member_scores = np.where(m_sex == "F", 1.0, 0.5)
    nonmember_scores = np.where(m_sex == "F", 0.0, 0.5)
    result = evaluate_attack(
        name="toy",
        member_scores=member_scores,
        nonmember_scores=nonmember_scores,
        seed=0,
        n_boot=10,
        member_rows=member_rows,
        nonmember_rows=nonmember_rows,
    )
    return result, schema.coerce(train), schema.coerce(holdout), schema


def test_tiny_exact_aucs(tiny):
    result, train, holdout, schema = tiny
    res = attack_by_subgroup(result=result, train=train, holdout=holdout, schema=schema, n_boot=20)
    assert res.columns == ["sex", "age"]
    f, m, x = res.group("sex", "F"), res.group("sex", "M"), res.group("sex", "X")
    assert (f.n_members, f.n_nonmembers) == (25, 25)
    assert f.auc == 1.0 and f.auc_ci == (1.0, 1.0) and f.tpr == 1.0
    assert m.auc == 0.5 and m.tpr == 0.0  # all tied: no threshold keeps FPR at 1%
    assert x.too_few and x.auc is None
    assert res.groups[res.worst[0]] is f
    # age: members and non-members pooled into quartile bands, labelled without their edges
    bands = [g for g in res.groups if g.column == "age"]
    assert [g.level for g in bands] == ["Q1", "Q2", "Q3", "Q4"]
    assert sum(g.n_members for g in bands) == 55 and sum(g.n_nonmembers for g in bands) == 55


def test_small_groups_are_reported_without_figures(tiny):
    result, train, holdout, schema = tiny
    res = attack_by_subgroup(result=result, train=train, holdout=holdout, schema=schema, n_boot=20)
    d = res.to_dict()
    json.dumps(d)
    x = next(g for g in d["groups"]["sex"] if g["level"] == "X")
    assert x["too_few_records"] is True
    assert x["n_members"] is None and x["n_nonmembers"] is None
    assert x["auc"]["value"] is None and x["auc"]["ci"] is None
    assert x["tpr_at_fpr"]["0.01"]["value"] is None
    f = next(g for g in d["groups"]["sex"] if g["level"] == "F")
    assert f["auc"] == {
        "value": 1.0,
        "ci": [1.0, 1.0],
        "direction": "lower is better",
        "baseline": 0.5,
    }
    assert f["worst"] is True and d["worst"][0]["level"] == "F"
    # ages are reported as bands only, never as values
    assert {g["level"] for g in d["groups"]["age"]} == {"Q1", "Q2", "Q3", "Q4"}
    # with a lower bar the small group gets its figures
    res = attack_by_subgroup(
        result=result, train=train, holdout=holdout, schema=schema, min_records=5, n_boot=5
    )
    assert res.group("sex", "X").auc == 0.5


def test_result_without_rows_is_refused(tiny):
    result, train, holdout, schema = tiny
    bare = evaluate_attack(
        name="bare",
        member_scores=result.member_scores,
        nonmember_scores=result.nonmember_scores,
        seed=0,
        n_boot=2,
    )
    with pytest.raises(InputError, match="row positions"):
        attack_by_subgroup(result=bare, train=train, holdout=holdout, schema=schema)
    with pytest.raises(InputError, match="outside the train"):
        attack_by_subgroup(result=result, train=train.iloc[:10], holdout=holdout, schema=schema)
    plain = specs_from([ColumnSpec("sex", "categorical")])
    with pytest.raises(InputError, match="no subgroup"):
        attack_by_subgroup(result=result, train=train, holdout=holdout, schema=plain)


def test_same_seed_same_numbers(tiny):
    result, train, holdout, schema = tiny
    kw = dict(result=result, train=train, holdout=holdout, schema=schema, n_boot=20)
    assert attack_by_subgroup(seed=3, **kw).to_dict() == attack_by_subgroup(seed=3, **kw).to_dict()


def test_only_the_copied_group_is_caught():
    real = sg.datasets.demo_cohort(3000, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    train, holdout = split.train, split.holdout
    fresh = schema.coerce(sg.datasets.demo_cohort(1500, seed=99))
    # a generator that copies its female training records and samples everyone else afresh
    synthetic = pd.concat(
        [train[train["sex"] == "F"], fresh[fresh["sex"] != "F"]], ignore_index=True
    )
    result = density_attack(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0, n_boot=20
    )
    res = attack_by_subgroup(result=result, train=train, holdout=holdout, schema=schema, n_boot=50)
    f, m = res.group("sex", "F"), res.group("sex", "M")
    assert f.auc >= 0.9
    assert abs(m.auc - 0.5) <= 0.1
    assert res.groups[res.worst[0]] is f
