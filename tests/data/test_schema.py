"""Tests for the Schema: YAML round trips, validation, and coercing data to the schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthgen.data.pii import DEFAULT_HANDLING
from synthgen.data.schema import HANDLINGS, KINDS, ROLES, ColumnSpec, Schema
from synthgen.errors import InputError, SchemaError

# ----------------------------------------------------------------- strategies

NAMES = st.text(
    alphabet=st.characters(
        whitelist_categories=("L", "N", "Pc", "Pd", "Zs"), whitelist_characters="_.-/()%#:'\""
    ),
    min_size=1,
    max_size=24,
)
REASONS = st.one_of(
    st.just(""),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")),
        max_size=60,
    ),
)
FORMATS = st.sampled_from([None, "%d/%m/%Y", "%Y-%m-%d", "%m/%d/%Y %H:%M", "%d %b %Y", "%Y%m%d"])
FAKEABLE = sorted(t for t, h in DEFAULT_HANDLING.items() if h == "fake")
PLAIN_ROLES = [r for r in ROLES if r != "direct_identifier"]


@st.composite
def column_specs(draw: st.DrawFn, name: str) -> ColumnSpec:
    kind = draw(st.sampled_from(KINDS))
    reason = draw(REASONS)
    fmt = draw(FORMATS) if kind == "datetime" else None
    if draw(st.booleans()):
        handling = draw(st.sampled_from(HANDLINGS))
        pii = (
            draw(st.sampled_from(FAKEABLE))
            if handling == "fake"
            else draw(st.sampled_from([None, *DEFAULT_HANDLING]))
        )
        extra = draw(st.lists(st.sampled_from(PLAIN_ROLES), unique=True, max_size=2))
        roles = tuple(draw(st.permutations(["direct_identifier", *extra])))
        return ColumnSpec(name, kind, roles, reason, pii, handling, fmt)
    roles = tuple(draw(st.lists(st.sampled_from(PLAIN_ROLES), unique=True, min_size=1, max_size=4)))
    return ColumnSpec(name, kind, roles, reason, None, None, fmt)


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    names = draw(st.lists(NAMES, min_size=1, max_size=8, unique=True))
    return Schema(tuple(draw(column_specs(n)) for n in names))


# ----------------------------------------------------------------- round trip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schema=schemas())
def test_yaml_round_trip(schema: Schema, tmp_path: Path) -> None:
    path = schema.save(tmp_path / "schema.yaml")
    loaded = Schema.load(path)
    assert loaded == schema
    assert loaded.names == schema.names


def test_from_dict_round_trip_keeps_order_and_defaults() -> None:
    schema = Schema(
        (
            ColumnSpec("z", "numeric"),
            ColumnSpec("a", "categorical", ("quasi_identifier", "subgroup")),
            ColumnSpec("nhs", "text", ("direct_identifier",), pii="nhs_number", handling="fake"),
        )
    )
    again = Schema.from_dict(schema.to_dict())
    assert again == schema
    assert again.names == ["z", "a", "nhs"]
    assert again.model_columns == ["z", "a"]
    assert [c.name for c in again.identifiers] == ["nhs"]


def test_identifier_without_handling_defaults_to_drop() -> None:
    schema = Schema.from_dict(
        {"columns": {"dob": {"kind": "datetime", "role": "direct_identifier"}}}
    )
    assert schema["dob"].handling == "drop"


def test_saved_file_has_review_header_and_version(tmp_path: Path) -> None:
    path = Schema((ColumnSpec("age", "integer"),)).save(tmp_path / "s.yaml")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# synthgen schema")
    assert "format_version: 1" in text
    assert "kind: synthgen.schema" in text


# ----------------------------------------------------------------- validation


def test_from_dict_reports_every_problem_at_once() -> None:
    raw = {
        "columns": {
            "age": {"kind": "numbr", "role": "plain"},
            "sex": {"kind": "categorical", "role": "secret_role"},
            "bmi": {"kind": "numeric", "role": "plain", "colour": "blue"},
        }
    }
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(raw, source="schema.yaml")
    problems = info.value.problems
    assert len(problems) == 3
    text = str(info.value)
    assert text.startswith("schema.yaml: 3 problems")
    assert "'age'" in text and "numbr" in text
    assert "'sex'" in text and "secret_role" in text
    assert "'bmi'" in text and "colour" in text


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"kind": "other.thing", "columns": {"a": {"kind": "numeric"}}}, "kind is"),
        ({"format_version": 9, "columns": {"a": {"kind": "numeric"}}}, "format_version 9"),
        ({"columns": {}}, "'columns' section"),
        ({"columns": {"a": "numeric"}}, "must be a mapping"),
        (
            {"columns": {"a": {"kind": "text", "role": "direct_identifier", "handling": "hide"}}},
            "handling 'hide'",
        ),
        (
            {
                "columns": {
                    "a": {
                        "kind": "text",
                        "role": "direct_identifier",
                        "handling": "fake",
                        "pii": "shoe_size",
                    }
                }
            },
            "pii type",
        ),
        (
            {
                "columns": {
                    "a": {
                        "kind": "datetime",
                        "role": "direct_identifier",
                        "handling": "fake",
                        "pii": "date_of_birth",
                    }
                }
            },
            "can only be dropped",
        ),
        ({"columns": {"a": {"kind": "numeric", "handling": "drop"}}}, "not a direct identifier"),
    ],
)
def test_from_dict_rejects(raw: dict, fragment: str) -> None:
    with pytest.raises(SchemaError, match=fragment):
        Schema.from_dict(raw)


def test_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(SchemaError):
        Schema.from_dict(["age", "sex"])


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        Schema.load(tmp_path / "nope.yaml")


def test_load_invalid_yaml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("columns:\n  age: {kind: numeric\n  sex: [\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"not valid YAML \(line \d+\)"):
        Schema.load(path)


def test_schema_error_is_an_input_error() -> None:
    with pytest.raises(InputError):
        Schema.from_dict({"columns": {"a": {"kind": "?"}}})
    with pytest.raises(ValueError):
        Schema.from_dict({"columns": {"a": {"kind": "?"}}})


def test_update_and_with_role() -> None:
    schema = Schema((ColumnSpec("age", "integer"), ColumnSpec("sex", "categorical")))
    changed = schema.update("sex", roles=("subgroup", "quasi_identifier"))
    assert changed.with_role("subgroup") == ["sex"]
    assert schema.with_role("subgroup") == []  # the original is unchanged
    assert "age" in changed and "weight" not in changed
    with pytest.raises(KeyError):
        schema["weight"]


# ----------------------------------------------------------------- coerce

SCHEMA = Schema(
    (
        ColumnSpec("age", "integer"),
        ColumnSpec("bmi", "numeric"),
        ColumnSpec("smoker", "boolean"),
        ColumnSpec("visit", "datetime", datetime_format="%d/%m/%Y"),
        ColumnSpec("sex", "categorical"),
        ColumnSpec("visits", "integer"),
    )
)


def _good_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": ["34", "51", "67", "80"],
            "bmi": [22.5, None, 31.0, 27.25],
            "smoker": ["yes", "No", "TRUE", "0"],
            "visit": ["05/03/2020", "25/12/2019", "01/01/2021", "13/07/2018"],
            "sex": ["F", "M", "F", None],
            "visits": [1.0, 2.0, None, 4.0],
        }
    )


def test_coerce_types_every_kind() -> None:
    out = SCHEMA.coerce(_good_frame())
    assert list(out.columns) == SCHEMA.names
    assert str(out["age"].dtype) == "int64"
    assert out["age"].tolist() == [34, 51, 67, 80]
    assert str(out["bmi"].dtype) == "float64"
    assert str(out["smoker"].dtype) == "bool"
    assert out["smoker"].tolist() == [True, False, True, False]
    assert str(out["visit"].dtype) == "datetime64[ns]"
    assert out["visit"].iloc[0] == pd.Timestamp("2020-03-05")  # day first, per the format
    assert out["sex"].dtype == object
    assert out["sex"].iloc[3] is None
    assert str(out["visits"].dtype) == "Int64"  # integers with a missing value
    assert out["visits"].isna().tolist() == [False, False, True, False]


def test_coerce_nullable_boolean() -> None:
    schema = Schema((ColumnSpec("flag", "boolean"),))
    out = schema.coerce(pd.DataFrame({"flag": ["y", None, "n"]}))
    assert str(out["flag"].dtype) == "boolean"
    assert out["flag"].isna().tolist() == [False, True, False]


def test_coerce_keeps_real_bool_and_datetime() -> None:
    schema = Schema((ColumnSpec("flag", "boolean"), ColumnSpec("when", "datetime")))
    df = pd.DataFrame(
        {
            "flag": [True, False],
            "when": pd.to_datetime(["2020-01-01T10:00", "2021-06-01T00:00"]).tz_localize(
                "Europe/London"
            ),
        }
    )
    out = schema.coerce(df)
    assert str(out["flag"].dtype) == "bool"
    assert str(out["when"].dtype) == "datetime64[ns]"
    assert out["when"].iloc[0] == pd.Timestamp("2020-01-01T10:00")  # GMT in winter = UTC


def test_coerce_collects_every_mismatch_without_values() -> None:
    df = pd.DataFrame(
        {
            # 'visits' (in the schema) is missing; 'colour' is extra
            "age": ["34", "unknown", "SECRETVALUE", "80"],
            "bmi": [22.5, 30.1, 27.0, 19.0],
            "smoker": ["yes", "maybe", "SECRETVALUE", "no"],
            "visit": ["05/03/2020", "2020-03-05", "SECRETVALUE", "31/02/2020"],
            "sex": ["F", "M", "F", "M"],
            "colour": ["red", "blue", "green", "red"],
        }
    )
    schema = Schema(SCHEMA.columns[:5] + (ColumnSpec("visits", "integer"),))
    with pytest.raises(SchemaError) as info:
        schema.coerce(df, source="cohort.csv")
    problems = info.value.problems
    text = str(info.value)
    assert len(problems) == 5, problems
    assert text.startswith("cohort.csv: 5 problems")
    assert any("not in the data: visits" in p for p in problems)
    assert any("not in the schema: colour" in p for p in problems)
    assert any("'age'" in p and "2 of 4 values are not numbers" in p for p in problems)
    assert any("'smoker'" in p and "2 values" in p for p in problems)
    assert any("'visit'" in p and "3 of 4 values are unparseable dates" in p for p in problems)
    for value in ("unknown", "SECRETVALUE", "maybe", "31/02/2020", "red", "green"):
        assert value not in text


def test_coerce_reports_decimals_in_integer_column() -> None:
    schema = Schema((ColumnSpec("count", "integer"),))
    with pytest.raises(SchemaError, match=r"'count' is integer .* 2 values have decimals"):
        schema.coerce(pd.DataFrame({"count": [1.0, 2.5, 3.0, 4.75]}))


def test_coerce_reports_duplicate_column_names() -> None:
    df = pd.DataFrame([[1, 2]], columns=["age", "age"])
    with pytest.raises(SchemaError, match="more than once"):
        Schema((ColumnSpec("age", "integer"),)).coerce(df)


def test_coerce_keeps_the_index() -> None:
    df = pd.DataFrame({"age": [1, 2, 3]}, index=[10, 20, 30])
    out = Schema((ColumnSpec("age", "integer"),)).coerce(df)
    assert out.index.tolist() == [10, 20, 30]


def test_coerce_numbers_and_numeric_booleans() -> None:
    schema = Schema((ColumnSpec("x", "numeric"), ColumnSpec("b", "boolean")))
    out = schema.coerce(pd.DataFrame({"x": [" 1.5 ", "2", None], "b": [1, 0, 1]}))
    assert out["x"].tolist()[:2] == [1.5, 2.0] and np.isnan(out["x"].iloc[2])
    assert out["b"].tolist() == [True, False, True]


def test_coerce_infinite_value_in_integer_column_is_a_schema_error() -> None:
    schema = Schema((ColumnSpec("count", "integer"),))
    with pytest.raises(SchemaError, match="'count'"):
        schema.coerce(pd.DataFrame({"count": [1.0, 2.0, np.inf]}))


# ----------------------------------------------------------------- declared rules

RULED = Schema(
    (
        ColumnSpec("sbp", "integer"),
        ColumnSpec("dbp", "integer"),
        ColumnSpec("index_date", "datetime"),
        ColumnSpec("sex", "categorical"),
        ColumnSpec("dob", "datetime", ("direct_identifier",), handling="drop"),
    ),
    rules=("dbp < sbp", "index_date >= 2000-01-01", "sex != 'X'", "dob < index_date"),
)


def test_rules_yaml_round_trip(tmp_path: Path) -> None:
    path = RULED.save(tmp_path / "schema.yaml")
    text = path.read_text(encoding="utf-8")
    assert "rules:\n- dbp < sbp\n" in text
    loaded = Schema.load(path)
    assert loaded == RULED
    assert loaded.rules == RULED.rules


def test_schema_without_rules_keeps_the_old_layout(tmp_path: Path) -> None:
    schema = Schema((ColumnSpec("age", "integer"),))
    assert "rules" not in schema.to_dict()
    old = tmp_path / "old.yaml"
    old.write_text(
        "kind: synthgen.schema\nformat_version: 1\ncolumns:\n  age: {kind: integer}\n",
        encoding="utf-8",
    )
    assert Schema.load(old).rules == ()


def test_update_and_replace_column_keep_the_rules() -> None:
    changed = RULED.update("sex", roles=("subgroup",))
    assert changed.rules == RULED.rules
    assert changed.replace_column(ColumnSpec("sbp", "numeric")).rules == RULED.rules


def test_bad_rule_is_one_message_naming_the_rule() -> None:
    raw = RULED.to_dict()
    raw["rules"] = ["dbp < sbp", "dbp < weight"]
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(raw, source="schema.yaml")
    assert info.value.problems == [
        "rule 'dbp < weight': the right side is neither a column of the schema nor a number "
        "(the left column 'dbp' is integer)"
    ]
    assert str(info.value).startswith("schema.yaml: rule 'dbp < weight'")


def test_rule_problems_are_collected_with_column_problems() -> None:
    raw = {
        "columns": {"age": {"kind": "numbr"}, "sex": {"kind": "categorical"}},
        "rules": ["height > 0", "sex <= 'F'", "age > 0", "age ~ 3"],
    }
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(raw)
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert any("'age'" in p and "numbr" in p for p in problems)
    assert any("rule 'height > 0'" in p and "not a column" in p for p in problems)
    assert any("rule 'sex <= 'F''" in p and "== or !=" in p for p in problems)
    assert any("rule 'age ~ 3'" in p and "is not '<column> <op>" in p for p in problems)
    # 'age > 0' names a column whose own spec is broken: only existence is checked


@pytest.mark.parametrize("rules", ["dbp < sbp", {"a": 1}, 3])
def test_rules_section_must_be_a_list(rules: object) -> None:
    raw = RULED.to_dict()
    raw["rules"] = rules
    with pytest.raises(SchemaError, match="'rules' section must be a list"):
        Schema.from_dict(raw)


def test_with_rules_validates_and_replaces() -> None:
    assert RULED.with_rules("sbp > 0").rules == ("sbp > 0",)
    with pytest.raises(SchemaError, match="rule 'sbp > soon'"):
        RULED.with_rules("sbp > soon")
