"""Custodian-declared domains in the schema: ``bounds`` and ``categories``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgen.data.infer import infer_schema
from synthgen.data.schema import Schema
from synthgen.errors import SchemaError


def _schema() -> Schema:
    return Schema.from_dict(
        {
            "columns": {
                "age": {"kind": "integer", "bounds": [0, 120]},
                "bmi": {"kind": "numeric", "bounds": [10.5, 80]},
                "admitted": {"kind": "datetime", "bounds": ["2000-01-01", "2030-12-31"]},
                "sex": {"kind": "categorical", "categories": ["F", "M", "X"]},
                "smoker": {"kind": "boolean", "categories": [True, False]},
                "note": {"kind": "text"},
            }
        }
    )


def test_declared_domain_is_parsed() -> None:
    schema = _schema()
    assert schema["age"].bounds == (0.0, 120.0)
    assert schema["bmi"].bounds == (10.5, 80.0)
    assert schema["admitted"].bounds == ("2000-01-01T00:00:00", "2030-12-31T00:00:00")
    assert schema["sex"].categories == ("F", "M", "X")
    assert schema["smoker"].categories == ("true", "false")
    assert schema["note"].bounds is None and schema["note"].categories is None


def test_declared_domain_yaml_round_trip(tmp_path: Path) -> None:
    schema = _schema()
    path = schema.save(tmp_path / "schema.yaml")
    text = path.read_text(encoding="utf-8")
    assert "bounds:" in text and "categories:" in text
    assert Schema.load(path) == schema


def test_columns_without_a_domain_keep_the_old_layout(tmp_path: Path) -> None:
    schema = Schema.from_dict({"columns": {"age": {"kind": "integer"}}})
    assert "bounds" not in schema.to_dict()["columns"]["age"]
    assert "categories" not in schema.to_dict()["columns"]["age"]


def test_yaml_words_become_category_text(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(
        "columns:\n  grade:\n    kind: categorical\n    categories: [1, 2.0, yes, A]\n",
        encoding="utf-8",
    )
    assert Schema.load(path)["grade"].categories == ("1", "2", "true", "A")


def test_every_domain_problem_is_reported_at_once() -> None:
    raw = {
        "columns": {
            "a": {"kind": "numeric", "bounds": [5, 5]},
            "b": {"kind": "integer", "bounds": [1]},
            "c": {"kind": "numeric", "bounds": ["x", 3]},
            "d": {"kind": "categorical", "bounds": [0, 1]},
            "e": {"kind": "numeric", "categories": ["a"]},
            "f": {"kind": "categorical", "categories": []},
            "g": {"kind": "categorical", "categories": ["a", "b", "a"]},
            "h": {"kind": "boolean", "categories": ["true", "maybe"]},
            "i": {"kind": "datetime", "bounds": ["2020-01-01", "not a date"]},
            "j": {"kind": "datetime", "bounds": ["2021-01-01", "2020-01-01"]},
            "k": {"kind": "numeric", "bounds": [0, float("inf")]},
            "m": {"kind": "boolean", "categories": ["yes", "true"]},
        }
    }
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(raw)
    message = str(info.value)
    for name, fragment in [
        ("a", "lo must be less than hi"),
        ("b", "expected a list [lo, hi]"),
        ("c", "expected two numbers"),
        ("d", "bounds apply to numeric"),
        ("e", "categories apply to categorical"),
        ("f", "non-empty list"),
        ("g", "more than once: a"),
        ("h", "not true/false words"),
        ("i", "expected two ISO dates"),
        ("j", "lo must be before hi"),
        ("k", "must be finite"),
        ("m", "same boolean value more than once"),
    ]:
        assert f"column '{name}'" in message and fragment in message, (name, fragment)


def test_infer_schema_never_fills_the_domain() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 300),
            "bmi": rng.normal(27, 4, 300),
            "sex": rng.choice(["F", "M"], 300),
            "smoker": rng.choice([True, False], 300),
            "admitted": pd.date_range("2020-01-01", periods=300, freq="D"),
        }
    )
    schema = infer_schema(df)
    assert all(c.bounds is None and c.categories is None for c in schema.columns)


def test_update_sets_a_declared_domain() -> None:
    schema = _schema().update("age", bounds=(18.0, 100.0))
    assert schema["age"].bounds == (18.0, 100.0)
    assert Schema.from_dict(schema.to_dict()) == schema
