"""Sampling conditions: parsing, typing by the schema, and conditional sampling."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
import synthgen.models.base as base
from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import ModelError, ParameterError
from synthgen.models.conditions import (
    Condition,
    apply_conditions,
    build_conditions,
    parse_condition,
)

SCHEMA = Schema(
    (
        ColumnSpec("age", "integer"),
        ColumnSpec("bmi", "numeric"),
        ColumnSpec("sex", "categorical"),
        ColumnSpec("died", "boolean"),
        ColumnSpec("index_date", "datetime"),
        ColumnSpec("note", "text"),
        ColumnSpec("nhs_number", "text", ("direct_identifier",), pii="nhs_number", handling="fake"),
    )
)


# ------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("sex=F", ("sex", "=", "F")),
        ("age>=80", ("age", ">=", "80")),
        (" age >= 80 ", ("age", ">=", "80")),
        ("bmi<30.5", ("bmi", "<", "30.5")),
        ("bmi>30", ("bmi", ">", "30")),
        ("age<=17", ("age", "<=", "17")),
        ("sex!=M", ("sex", "!=", "M")),
        ("sex==F", ("sex", "==", "F")),
        ("region=North East", ("region", "=", "North East")),
    ],
)
def test_parse_condition(text: str, parsed: tuple[str, str, str]) -> None:
    assert parse_condition(text) == parsed


@pytest.mark.parametrize("text", ["sex", "=F", "age>=", "", ">=3"])
def test_parse_condition_rejects(text: str) -> None:
    with pytest.raises(ParameterError, match="COLUMN=VALUE"):
        parse_condition(text)


def test_build_conditions_types_values_by_kind() -> None:
    conds = build_conditions(
        ["age>=80", "bmi<30.5", "sex='F'", "died=yes", "index_date>=2018-06-01", "note!=x"],
        SCHEMA,
    )
    assert conds == [
        Condition("age", ">=", 80.0),
        Condition("bmi", "<", 30.5),
        Condition("sex", "==", "F"),
        Condition("died", "==", True),
        Condition("index_date", ">=", pd.Timestamp("2018-06-01")),
        Condition("note", "!=", "x"),
    ]
    assert str(conds[0]) == "age>=80.0"


def test_build_conditions_from_mapping_and_objects() -> None:
    assert build_conditions({"sex": "M", "died": "false"}, SCHEMA) == [
        Condition("sex", "==", "M"),
        Condition("died", "==", False),
    ]
    given = Condition("age", "<", 40)
    assert build_conditions([given], SCHEMA) == [given]
    assert build_conditions(None, SCHEMA) == []
    assert build_conditions([], SCHEMA) == []


@pytest.mark.parametrize(
    ("condition", "fragment"),
    [
        ("weight>3", "unknown column 'weight'"),
        ("nhs_number=9990000000", "direct identifiers cannot be conditioned on"),
        ("sex>F", "categorical columns only take = or !="),
        ("died>=1", "boolean columns only take = or !="),
        ("age>=old", "'old' is not a number"),
        ("died=perhaps", "'perhaps' is not true or false"),
        ("index_date>=someday", "'someday' is not a date"),
        ("sex", "not of the form"),
    ],
)
def test_build_conditions_rejects(condition: str, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment):
        build_conditions([condition], SCHEMA)


def test_build_conditions_reports_every_problem_at_once() -> None:
    bad = ["weight>3", "nhs_number=1", "sex>F", "age>=old", "=2", "bmi<40"]
    with pytest.raises(ParameterError) as info:
        build_conditions(bad, SCHEMA)
    message = str(info.value)
    assert message.count(";") == 4  # five problems, the valid condition is not one
    for fragment in ("'weight'", "'nhs_number'", "'sex'", "'old'", "'=2'"):
        assert fragment in message


def test_condition_mask_never_matches_missing_values() -> None:
    df = pd.DataFrame({"bmi": [20.0, np.nan, 35.0], "sex": ["F", None, "M"]})
    assert Condition("bmi", "<", 30.0).mask(df).tolist() == [True, False, False]
    assert Condition("bmi", "!=", 35.0).mask(df).tolist() == [True, False, False]
    assert Condition("sex", "!=", "M").mask(df).tolist() == [True, False, False]
    kept = apply_conditions(df, [Condition("bmi", ">", 10.0), Condition("sex", "==", "M")])
    assert kept.index.tolist() == [2]
    assert apply_conditions(df, []) is df


# ------------------------------------------------------------------- sampling


def test_conditional_sample_meets_every_condition(gaussian_copula: sg.Generator) -> None:
    out = gaussian_copula.sample(60, seed=2, conditions=["sex=F", "age>=80"])
    assert len(out) == 60
    assert (out["sex"] == "F").all()
    assert (out["age"] >= 80).all()
    again = gaussian_copula.sample(60, seed=2, conditions=["sex=F", "age>=80"])
    pd.testing.assert_frame_equal(out, again)
    plain = gaussian_copula.sample(60, seed=2)
    assert list(out.columns) == list(plain.columns)
    assert out.dtypes.equals(plain.dtypes)


def test_conditional_sample_on_boolean_datetime_and_mapping(gaussian_copula) -> None:
    out = gaussian_copula.sample(40, seed=3, conditions=["died=true", "index_date>=2018-01-01"])
    assert len(out) == 40
    assert out["died"].all()
    assert (out["index_date"] >= pd.Timestamp("2018-01-01")).all()
    male = gaussian_copula.sample(30, seed=3, conditions={"sex": "M"})
    assert (male["sex"] == "M").all() and len(male) == 30


def test_conditions_on_identifiers_refused_before_sampling(gaussian_copula) -> None:
    with pytest.raises(ParameterError, match="direct identifiers"):
        gaussian_copula.sample(5, seed=1, conditions=["nhs_number=999 000 0000"])


def test_impossible_condition_fails_quickly(
    gaussian_copula: sg.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "MAX_CONDITION_DRAWS", 2)
    start = time.perf_counter()
    with pytest.raises(ModelError, match=r"only 0 of 10 rows met age>=1000"):
        gaussian_copula.sample(10, seed=1, conditions=["age>=1000"])
    assert time.perf_counter() - start < 30


def test_condition_on_numeric_categorical(
    demo_split: sg.Split, demo_schema: sg.Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    cols = ["age", "sex", "deprivation_quintile"]
    schema = Schema(tuple(demo_schema[c] for c in cols)).update(
        "deprivation_quintile", kind="categorical"
    )
    gen = sg.create_generator("gaussian_copula", default_distribution="norm")
    gen.fit(demo_split.train[cols], schema)
    monkeypatch.setattr(base, "MAX_CONDITION_DRAWS", 3)
    out = gen.sample(10, seed=1, conditions=["deprivation_quintile=3"])
    assert (out["deprivation_quintile"] == 3).all()
