"""Tests for schema inference: kinds, roles, identifiers, and refusing unusable tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.infer import infer_column, name_tokens
from synthgen.errors import InputError, SchemaError

N = 40
# repeated, unordered whole numbers: a unique rising sequence would look like a row id
WHOLE = [int(v) for v in np.random.default_rng(1).integers(18, 90, N)]


def _kind(values, name: str = "col") -> sg.ColumnSpec:
    spec, problem = infer_column(pd.Series(values, name=name), name)
    assert problem is None, problem
    return spec


# ------------------------------------------------------------------ kinds


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (np.linspace(1.5, 90.25, N), "numeric"),
        (np.array(WHOLE, dtype=np.int64), "integer"),
        (np.array(WHOLE, dtype=float), "integer"),  # whole floats
        ([f"{v:.2f}" for v in np.linspace(1, 9, N)], "numeric"),  # numbers written as text
        ([str(v) for v in WHOLE], "integer"),
        ([True, False] * (N // 2), "boolean"),
        ([0, 1, 1, 0] * (N // 4), "boolean"),  # 0/1 integers
        ([0.0, 1.0, np.nan, 1.0] * (N // 4), "boolean"),
        (["yes", "no", "Yes", "NO"] * (N // 4), "boolean"),
        (["Y", "N"] * (N // 2), "boolean"),
        (["red", "green", "blue", "red"] * (N // 4), "categorical"),
        (pd.date_range("2020-01-01", periods=N, freq="D"), "datetime"),
    ],
)
def test_kind(values, kind: str) -> None:
    assert _kind(values).kind == kind


def test_iso_text_dates() -> None:
    values = [f"2021-{m:02d}-{d:02d}" for m in range(1, 11) for d in (1, 14, 20, 28)]
    spec = _kind(values, "visit_date")
    assert spec.kind == "datetime"
    assert spec.datetime_format is None  # ISO: pandas parses it without a format
    assert "ISO 8601" in spec.reason


def test_day_first_dates_are_dates() -> None:
    values = [f"{d:02d}/{m:02d}/2020" for d in (25, 3, 17, 9) for m in range(1, 11)]
    assert _kind(values, "visit_date").kind == "datetime"


@pytest.mark.parametrize(
    "values",
    [
        # 05/03/2020 could be either; 25/12/2019 shows the column is day-first
        ["05/03/2020", "25/12/2019", "01/02/2018", "13/07/2021"] * 10,
        # the first value is unambiguous
        ["25/12/2019", "05/03/2020", "01/02/2018", "13/07/2021"] * 10,
    ],
)
def test_day_first_dates_store_their_format(values: list[str]) -> None:
    spec = _kind(values, "visit_date")
    assert spec.datetime_format == "%d/%m/%Y"
    parsed = sg.Schema((spec,)).coerce(pd.DataFrame({"visit_date": values}))["visit_date"]
    assert parsed.iloc[values.index("05/03/2020")] == pd.Timestamp("2020-03-05")


def test_long_free_text_is_text() -> None:
    rng = np.random.default_rng(0)
    words = np.array(["patient", "reports", "mild", "pain", "since", "monday", "review", "plan"])
    notes = [" ".join(rng.choice(words, 12)) + f" visit {i}" for i in range(N)]
    spec = _kind(notes, "remarks")
    assert spec.kind == "text"
    assert spec.pii == "free_text" and spec.handling == "drop"  # notes can name people


def test_short_labels_are_categorical_even_when_many() -> None:
    spec = _kind([f"K{i % 30:02d}" for i in range(300)], "code")
    assert spec.kind == "categorical"
    assert "30 distinct" in spec.reason


# ------------------------------------------------------------------ roles


@pytest.mark.parametrize(
    ("name", "values", "roles"),
    [
        ("age", WHOLE, ("quasi_identifier",)),
        ("sex", ["F", "M"] * (N // 2), ("quasi_identifier", "subgroup")),
        (
            "ethnicity",
            ["White", "Asian", "Black", "Mixed"] * (N // 4),
            ("quasi_identifier", "subgroup"),
        ),
        ("died", [True, False] * (N // 2), ("time_to_event_event",)),
        ("followup_days", [v * 11 for v in WHOLE], ("time_to_event_time",)),
        ("readmitted", ["yes", "no"] * (N // 2), ("target",)),
        ("hba1c", np.linspace(30, 80, N), ("sensitive",)),
        ("widget_count", WHOLE, ("plain",)),
    ],
)
def test_roles(name: str, values, roles: tuple[str, ...]) -> None:
    spec = _kind(values, name)
    assert spec.roles == roles
    assert spec.reason  # every guess explains itself


def test_name_tokens_split_camel_case_and_join_neighbours() -> None:
    assert {"age", "band", "ageband"} <= name_tokens("AgeBand")
    assert {"follow", "up", "followup", "days"} <= name_tokens("follow_up_days")


# ---------------------------------------------------------- demo cohort


def test_demo_identifiers(demo_schema: sg.Schema) -> None:
    expected = {
        "patient_id": ("row_id", "fake"),
        "nhs_number": ("nhs_number", "fake"),
        "name": ("person_name", "fake"),
        "postcode": ("uk_postcode", "fake"),
        "date_of_birth": ("date_of_birth", "drop"),
        "clinical_note": ("free_text", "drop"),
    }
    found = {c.name: (c.pii, c.handling) for c in demo_schema.identifiers}
    assert found == expected
    assert set(demo_schema.model_columns).isdisjoint(expected)


def test_demo_kinds_and_roles(demo_schema: sg.Schema) -> None:
    kinds = {c.name: c.kind for c in demo_schema.columns}
    assert kinds["age"] == "integer"
    assert kinds["bmi"] == "numeric"
    assert kinds["diabetes"] == "boolean"
    assert kinds["index_date"] == "datetime"
    assert kinds["smoking_status"] == "categorical"
    assert demo_schema.with_role("time_to_event_time") == ["followup_days"]
    assert demo_schema.with_role("time_to_event_event") == ["died"]
    assert {"sex", "ethnicity"} <= set(demo_schema.with_role("subgroup"))


def test_inferred_schema_coerces_its_own_data(demo_small: pd.DataFrame, demo_schema) -> None:
    typed = demo_schema.coerce(demo_small)
    assert list(typed.columns) == list(demo_small.columns)
    assert str(typed["hba1c"].dtype) == "Int64"  # whole numbers with missing values


def test_reasons_never_quote_cell_values(demo_small: pd.DataFrame, demo_schema) -> None:
    reasons = " ".join(c.reason for c in demo_schema.columns)
    for col in ("name", "nhs_number", "postcode", "patient_id", "practice_code", "region"):
        for value in demo_small[col].dropna().astype(str).unique()[:50]:
            assert value not in reasons, col


# ---------------------------------------------------------------- bad input


def test_empty_frame_refused() -> None:
    with pytest.raises(InputError, match="no rows"):
        sg.infer_schema(pd.DataFrame({"a": pd.Series([], dtype=float)}))
    with pytest.raises(InputError, match="no columns"):
        sg.infer_schema(pd.DataFrame(index=range(5)))


def test_single_row_refused() -> None:
    with pytest.raises(InputError, match="only 1 row"):
        sg.infer_schema(pd.DataFrame({"a": [1.0], "b": ["x"]}), source="one.csv")


def test_unusable_columns_named_together() -> None:
    df = pd.DataFrame(
        {
            "ok": np.arange(N),
            "empty": [None] * N,
            "same": ["SECRETVALUE"] * N,
            "also_empty": [np.nan] * N,
        }
    )
    with pytest.raises(SchemaError) as info:
        sg.infer_schema(df, source="t.csv")
    problems = info.value.problems
    assert len(problems) == 3
    assert any("'empty'" in p and "missing" in p for p in problems)
    assert any("'also_empty'" in p for p in problems)
    assert any("'same'" in p and "same value" in p for p in problems)
    assert "SECRETVALUE" not in str(info.value)


def test_mixed_and_bad_date_columns_named_together() -> None:
    numbers = [str(v) for v in range(N - 2)] + ["unknown", "SECRETVALUE"]
    dates = [f"2020-01-{d:02d}" for d in range(1, 29)] * 2
    dates = dates[: N - 1] + ["2020-13-45"]
    df = pd.DataFrame({"lab_value": numbers, "visit_date": dates, "fine": np.arange(N)})
    with pytest.raises(SchemaError) as info:
        sg.infer_schema(df)
    problems = info.value.problems
    assert len(problems) == 2
    assert any("'lab_value'" in p and "2 of 40" in p for p in problems)
    assert any("'visit_date'" in p and "1 of 40" in p and "unparseable" in p for p in problems)
    text = str(info.value)
    for value in ("unknown", "SECRETVALUE", "2020-13-45"):
        assert value not in text


def test_mostly_text_column_is_categorical_not_an_error() -> None:
    values = [str(v) for v in range(N // 2)] + [f"code{v}" for v in range(N // 2)]
    assert _kind(values).kind == "categorical"


def test_every_kind_of_problem_in_one_error() -> None:
    df = pd.DataFrame(
        {
            "empty": [None] * N,
            "same": [1] * N,
            "lab_value": [str(v) for v in range(N - 1)] + ["x"],
            "visit_date": [f"2020-01-{d % 28 + 1:02d}" for d in range(N - 1)] + ["2020-13-45"],
        }
    )
    with pytest.raises(SchemaError) as info:
        sg.infer_schema(df)
    assert len(info.value.problems) == 4


def test_accented_column_names_match_role_hints() -> None:
    from synthgen.data.infer import name_tokens

    assert "region" in name_tokens("Région")
    assert {"age", "band", "ageband"} <= name_tokens("AgeBand")
