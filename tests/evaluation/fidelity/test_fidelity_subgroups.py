"""Fidelity by subgroup: labels, small groups, shortfall, and a damaged group is found."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.score import _subgroup_measures
from synthgen.evaluation.fidelity.subgroups import (
    MISSING_LABEL,
    Measure,
    fidelity_by_subgroup,
    group_labels,
    shortfall,
)


def test_category_labels_and_missing_group() -> None:
    t, (o,), order = group_labels(
        pd.Series(["b", "a", None, "a"]), [pd.Series(["a", "c", None])], "categorical"
    )
    assert t.tolist() == ["b", "a", MISSING_LABEL, "a"]
    assert o.tolist() == ["a", "c", MISSING_LABEL]
    assert order == ["a", "b", MISSING_LABEL]  # groups are the training table's levels


def test_numeric_bands_come_from_training_quartiles() -> None:
    train = pd.Series(np.arange(1, 101, dtype=float))  # quartiles 25.75, 50.5, 75.25
    other = pd.Series([0.0, 26.0, 50.0, 1000.0, np.nan])
    t, (o,), order = group_labels(train, [other], "numeric")
    assert order == ["Q1", "Q2", "Q3", "Q4"]  # train has no missing values: no such group
    assert o.tolist() == ["Q1", "Q2", "Q2", "Q4", MISSING_LABEL]
    assert (t == "Q1").sum() == 25
    # a scale with few values is grouped by value
    t, (o,), order = group_labels(
        pd.Series([1, 1, 1, 1, 2, 2, 3, 3]), [pd.Series([2.0, 3.0, np.nan])], "integer"
    )
    assert order == ["1", "2", "3"] and o.tolist() == ["2", "3", MISSING_LABEL]
    # many tied values merge equal quartile edges into fewer bands
    tied = pd.Series([0.0] * 60 + list(np.arange(1.0, 41.0)))
    _, _, order = group_labels(tied, [], "numeric")
    assert order == ["band 1 of 3", "band 2 of 3", "band 3 of 3"]


def test_shortfall_follows_the_direction() -> None:
    assert shortfall(0.8, 0.9, "higher is better") == pytest.approx(0.1)
    assert shortfall(0.7, 0.5, "lower is better") == pytest.approx(0.2)
    assert shortfall(None, 0.5, "lower is better") is None


@dataclass
class _Mean:
    headline: float
    headline_baseline: float


def _tables():
    schema = Schema((ColumnSpec("g", "categorical", ("subgroup",)), ColumnSpec("x", "numeric")))
    train = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4 + ["c"], "x": [1.0] * 8 + [5.0]})
    holdout = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4, "x": [1.0] * 4 + [2.0] * 4})
    synthetic = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 4 + ["c"] * 4, "x": [3.0] * 4 + [1.0] * 8})
    return train, holdout, synthetic, schema


def _gap(**t: pd.DataFrame) -> _Mean:
    """|mean x of synthetic - train| against |mean x of holdout - train|."""
    return _Mean(
        abs(t["synthetic"]["x"].mean() - t["train"]["x"].mean()),
        abs(t["holdout"]["x"].mean() - t["train"]["x"].mean()),
    )


def test_each_group_gets_its_figures_and_small_groups_none() -> None:
    train, holdout, synthetic, schema = _tables()
    calls = []

    def whole(**t: pd.DataFrame) -> _Mean:
        calls.append({k: len(v) for k, v in t.items()})
        return _Mean(0.0, 0.0)

    result = fidelity_by_subgroup(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        measures={
            "gap": Measure(_gap, "lower is better", "mean gap"),
            "whole": Measure(whole, "lower is better", "whole", whole_training=True),
        },
        min_records=4,
        n_worst=1,
    )
    d = result.to_dict()
    json.dumps(d)
    by_level = {g["level"]: g for g in d["groups"]}
    assert by_level["a"]["gap"]["value"] == 2.0 and by_level["a"]["gap"]["baseline"] == 0.0
    assert by_level["a"]["gap"]["shortfall"] == 2.0 and by_level["a"]["gap"]["worst"]
    assert by_level["b"]["gap"]["value"] == 0.0 and by_level["b"]["gap"]["baseline"] == 1.0
    assert by_level["b"]["gap"]["shortfall"] == -1.0 and not by_level["b"]["gap"]["worst"]
    assert by_level["c"] == {"column": "g", "level": "c", "too_few_records": True}
    assert d["worst"]["gap"] == [{"column": "g", "level": "a"}]
    # whole-training measures see the whole train and synthetic tables, the group's holdout
    assert calls == [{"train": 9, "holdout": 4, "synthetic": 12}] * 2


def test_bad_arguments() -> None:
    train, holdout, synthetic, schema = _tables()
    kw = {"train": train, "holdout": holdout, "synthetic": synthetic, "measures": {}}
    with pytest.raises(InputError, match="no subgroup columns"):
        fidelity_by_subgroup(**kw, schema=Schema((ColumnSpec("x", "numeric"),)))
    with pytest.raises(InputError, match="synthetic table lacks subgroup"):
        fidelity_by_subgroup(**{**kw, "synthetic": synthetic[["x"]]}, schema=schema)
    with pytest.raises(InputError, match="min_records"):
        fidelity_by_subgroup(**kw, schema=schema, min_records=1)


@pytest.mark.filterwarnings("ignore")
def test_a_damaged_region_is_the_worst_group(cohort) -> None:
    """Synthetic = a fresh half of the holdout, except one region whose columns are shuffled."""
    train, holdout, _, schema = cohort
    schema = schema.update("hypertension", roles=("sensitive", "target"))
    order = np.random.default_rng(0).permutation(len(holdout))
    reference, synthetic = holdout.iloc[order[:750]], holdout.iloc[order[750:]].copy()
    damaged = (synthetic["region"] == "London").to_numpy()
    rng = np.random.default_rng(1)
    for col in schema.model_columns:
        if col != "region":
            values = synthetic.loc[damaged, col].to_numpy()
            synthetic.loc[damaged, col] = values[rng.permutation(values.size)]
    result = fidelity_by_subgroup(
        train=train,
        holdout=reference.reset_index(drop=True),
        synthetic=synthetic.reset_index(drop=True),
        schema=schema,
        measures=_subgroup_measures(schema, 0, ["hypertension"]),
        min_records=30,
        n_worst=1,
    )
    for measure in ("detection_auc", "utility_gap"):
        assert [(g.column, g.level) for g in result.worst(measure)] == [("region", "London")]
