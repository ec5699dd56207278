"""Tests for validity checks and declared rules: exact counts on tiny frames, then the demo."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.rules import parse_rule
from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.validity import validity

SCHEMA = Schema(
    (
        ColumnSpec("pid", "text", ("direct_identifier",), handling="drop"),
        ColumnSpec("age", "integer"),
        ColumnSpec("sex", "categorical"),
        ColumnSpec("visit", "datetime"),
        ColumnSpec("smoker", "boolean"),
        ColumnSpec("sbp", "integer"),
        ColumnSpec("dbp", "integer"),
        ColumnSpec("bmi", "numeric"),
    ),
    rules=("dbp < sbp", "visit >= 2020-01-01", "pid != 'X'"),
)

TRAIN = SCHEMA.coerce(
    pd.DataFrame(
        {
            "pid": ["A", "B", "C", "D"],
            "age": [30, 40, 50, 60],
            "sex": ["F", "M", "F", "M"],
            "visit": ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"],
            "smoker": [True, False, True, False],
            "sbp": [120, 130, 140, 150],
            "dbp": [80, 85, 90, 95],
            "bmi": [20.0, None, 25.0, 30.0],
        }
    )
)

HOLDOUT = SCHEMA.coerce(
    pd.DataFrame(
        {
            "pid": ["E", "F"],
            "age": [25, 45],  # 25 is below the train range
            "sex": ["F", "M"],
            "visit": ["2020-01-02", "2020-01-03"],
            "smoker": [True, False],
            "sbp": [120, 130],
            "dbp": [80, 135],  # 135: above the train range, and breaks dbp < sbp
            "bmi": [None, 22.0],
        }
    )
)

# the synthetic table as raw text, identifiers dropped; the comment names what each row breaks
SYNTHETIC = pd.DataFrame(
    [
        ["35", "F", "2020-01-02", "yes", "125", "80", "22"],  # nothing
        ["abc", "M", "2020-01-02", "no", "130", "85", None],  # type: age
        ["70", "X", "2020-01-03", "true", "120", "125", "21"],  # range age/dbp, category, rule
        ["45.5", None, "not a date", "maybe", None, "90", "19"],  # 3 types, 2 missing
        ["20", "F", "2019-12-31", "no", "140", "90", "40"],  # range age/visit/bmi, rule
        ["30", "M", "2020-01-04", "1", "150", "95", "30"],  # nothing
    ],
    columns=["age", "sex", "visit", "smoker", "sbp", "dbp", "bmi"],
)


@pytest.fixture(scope="module")
def result():
    return validity(train=TRAIN, holdout=HOLDOUT, synthetic=SYNTHETIC, schema=SCHEMA)


def _counts(result, check: str) -> dict[str, int | None]:
    return {c.target: c.violations for c in result.checks if c.check == check}


def test_type_failures_are_counted(result) -> None:
    assert _counts(result, "type") == {
        "age": 2,  # a word and a decimal
        "sex": 0,
        "visit": 1,
        "smoker": 1,
        "sbp": 0,
        "dbp": 0,
        "bmi": 0,
    }
    assert result.get("type", "age").share == pytest.approx(2 / 6)
    assert all(c.baseline_violations == 0 for c in result.checks if c.check == "type")


def test_values_outside_the_train_range_are_counted(result) -> None:
    assert _counts(result, "range") == {
        "age": 2,  # unparseable values are not also out of range
        "visit": 1,
        "sbp": 0,
        "dbp": 1,
        "bmi": 2,
    }
    age = result.get("range", "age")
    assert (age.baseline_violations, age.baseline_share) == (1, 0.5)
    assert result.get("range", "dbp").baseline_violations == 1


def test_unseen_categories_and_missing_values_are_counted(result) -> None:
    assert _counts(result, "category") == {"sex": 1, "smoker": 0}
    # bmi has gaps in train, so its gaps are fine; a failed parse is not a gap
    assert _counts(result, "missing") == {
        "age": 0,
        "sex": 1,
        "visit": 0,
        "smoker": 0,
        "sbp": 1,
        "dbp": 0,
    }
    assert result.get("missing", "sex").baseline_violations == 0


def test_rules_count_violations_and_skip_missing_sides(result) -> None:
    rule = result.get("rule", "dbp < sbp")
    assert (rule.violations, rule.baseline_violations) == (1, 1)  # row 3 lacks sbp: not counted
    assert rule.baseline_share == 0.5
    dated = result.get("rule", "visit >= 2020-01-01")
    assert (dated.violations, dated.baseline_violations) == (1, 0)
    skipped = result.get("rule", "pid != 'X'")
    assert not skipped.checked and skipped.violations is None
    assert "'pid' absent from the synthetic table" in skipped.reason


def test_overall_share_of_invalid_rows(result) -> None:
    assert result.invalid_rows == 4  # rows 1 to 4
    assert result.invalid_share == pytest.approx(4 / 6)
    assert result.baseline_invalid_rows == 2
    assert result.headline == pytest.approx(2 / 6)


def test_to_dict_layout_and_no_cell_values(result) -> None:
    out = result.to_dict()
    text = json.dumps(out, allow_nan=False)
    assert out["invalid_share"] == {
        "value": 0.6667,
        "direction": "lower is better",
        "baseline": 1.0,
    }
    assert out["checks"]["range"][0] == {
        "check": "range",
        "column": "age",
        "checked": True,
        "violations": {"value": 2, "direction": "lower is better", "baseline": 1},
        "share": {"value": 0.3333, "direction": "lower is better", "baseline": 0.5},
    }
    assert out["checks"]["rule"][0]["rule"] == "dbp < sbp"
    assert out["not_checked"] == [
        {"check": "rule", "target": "pid != 'X'", "reason": "'pid' absent from the synthetic table"}
    ]
    for value in ("abc", "45.5", "maybe", "not a date", "2019-12-31", '"X"', "60", "95"):
        assert value not in text


def test_typed_synthetic_table_gives_the_same_counts() -> None:
    typed = SCHEMA.coerce(TRAIN).drop(columns=["pid"])
    res = validity(train=TRAIN, holdout=HOLDOUT, synthetic=typed, schema=SCHEMA)
    assert res.invalid_rows == 0
    assert all(c.violations in (0, None) for c in res.checks)


def test_rules_argument_overrides_the_schema_rules() -> None:
    res = validity(train=TRAIN, synthetic=SYNTHETIC, schema=SCHEMA, rules=("age <= 65",))
    assert [c.target for c in res.checks if c.check == "rule"] == ["age <= 65"]
    assert res.get("rule", "age <= 65").violations == 1
    assert res.get("rule", "age <= 65").baseline_violations is None  # no holdout
    assert res.baseline_invalid_share is None
    none = validity(train=TRAIN, synthetic=SYNTHETIC, schema=SCHEMA, rules=())
    assert not [c for c in none.checks if c.check == "rule"]


def test_faked_identifier_kept_in_the_synthetic_table_is_checked() -> None:
    synthetic = SYNTHETIC.assign(pid=["X", "Y", "Z", "X", "W", "V"])
    res = validity(train=TRAIN, holdout=HOLDOUT, synthetic=synthetic, schema=SCHEMA)
    rule = res.get("rule", "pid != 'X'")
    assert (rule.violations, rule.baseline_violations) == (2, 0)


def test_bad_rules_and_tables_raise_one_error_listing_every_problem() -> None:
    with pytest.raises(InputError) as info:
        validity(
            train=TRAIN,
            synthetic=SYNTHETIC,
            schema=SCHEMA,
            rules=("weight < 200", "sex < 'F'", "age >> 3"),
        )
    text = str(info.value)
    assert "rule 'weight < 200': 'weight' is not a column" in text
    assert "rule 'sex < 'F''" in text and "== or !=" in text
    assert "rule 'age >> 3'" in text
    with pytest.raises(InputError, match="synthetic table has no rows"):
        validity(train=TRAIN, synthetic=SYNTHETIC.iloc[:0], schema=SCHEMA)
    with pytest.raises(InputError, match="train table lacks columns: bmi"):
        validity(train=TRAIN.drop(columns=["bmi"]), synthetic=SYNTHETIC, schema=SCHEMA)


def test_absent_synthetic_column_is_not_checked() -> None:
    res = validity(train=TRAIN, synthetic=SYNTHETIC.drop(columns=["bmi"]), schema=SCHEMA)
    assert not res.get("type", "bmi").checked
    assert not res.get("range", "bmi").checked
    assert res.get("range", "bmi").reason == "absent from the synthetic table"


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("age < sex", "cannot compare 'age' (integer) with 'sex' (categorical)"),
        ("visit > 12", "neither a column of the schema nor a date"),
        ("sex == F", "nor a quoted string"),
        ("smoker > true", "only be compared with == or !="),
        ("age 30", "is not '<column> <op> <column or literal>'"),
    ],
)
def test_parse_rule_messages(rule: str, fragment: str) -> None:
    parsed, problems = parse_rule(rule, SCHEMA.kinds)
    assert parsed is None and len(problems) == 1
    assert f"'{rule}'" in problems[0] and fragment in problems[0]


def test_parse_rule_literals() -> None:
    kinds = SCHEMA.kinds
    assert parse_rule("age>=18", kinds)[0].literal == 18.0
    assert parse_rule("visit < 2021-06-01", kinds)[0].literal == pd.Timestamp("2021-06-01")
    assert parse_rule("smoker == no", kinds)[0].literal is False
    assert parse_rule('sex != "F"', kinds)[0].literal == "F"
    rule = parse_rule("dbp < sbp", kinds)[0]
    assert (rule.left, rule.op, rule.right, rule.columns) == ("dbp", "<", "sbp", ("dbp", "sbp"))


# ------------------------------------------------------------------------- demo cohort

DEMO_RULES = ("diastolic_bp < systolic_bp", "followup_days >= 0", "ldl < total_cholesterol")


def test_real_holdout_passes_the_demo_rules(cohort) -> None:
    train, holdout, fresh, schema = cohort
    schema = schema.with_rules(*DEMO_RULES, "date_of_birth < index_date")
    synthetic = fresh.drop(columns=[c.name for c in schema.identifiers])
    res = validity(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    for rule in DEMO_RULES:
        check = res.get("rule", rule)
        assert check.violations == 0 and check.baseline_violations == 0
    assert not res.get("rule", "date_of_birth < index_date").checked
    assert res.get("rule", "date_of_birth < index_date").reason.startswith("'date_of_birth'")
    # fresh real data sits where the holdout does: few invalid rows
    assert res.invalid_share < 0.2 and res.baseline_invalid_share < 0.2


def test_broken_rows_are_caught_on_the_demo(cohort) -> None:
    train, holdout, _, schema = cohort
    schema = schema.with_rules(*DEMO_RULES)
    synthetic = holdout.copy()
    rng = np.random.default_rng(0)
    rows = rng.choice(len(synthetic), 30, replace=False)
    dbp = synthetic["diastolic_bp"].copy()
    dbp.iloc[rows] = synthetic["systolic_bp"].iloc[rows].to_numpy() + 5
    synthetic["diastolic_bp"] = dbp
    res = validity(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    expected = int((synthetic["systolic_bp"].iloc[rows].notna()).sum())
    assert res.get("rule", "diastolic_bp < systolic_bp").violations == expected


def test_small_demo_as_raw_text_runs(demo_small, demo_schema) -> None:
    schema = demo_schema.with_rules(*DEMO_RULES)
    split = sg.Cohort(schema.coerce(demo_small)).split(0.5, seed=0)
    raw = demo_small.iloc[:30].astype(str).where(demo_small.iloc[:30].notna(), None)
    res = validity(
        train=split.train.iloc[:30], holdout=split.holdout.iloc[:30], synthetic=raw, schema=schema
    )
    assert res.n_synthetic == 30
    assert all(c.violations == 0 for c in res.checks if c.check in ("type", "rule"))
    json.dumps(res.to_dict(), allow_nan=False)
