"""Tests for synthgen.data.pii: NHS check digits, detection and fake values."""

from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
import pytest

from synthgen.data.demo import demo_cohort
from synthgen.data.fakes import fake_values
from synthgen.data.pii import (
    DEFAULT_HANDLING,
    PII_TYPES,
    PiiGuess,
    detect_pii,
    is_valid_nhs_number,
    nhs_check_digit,
)
from synthgen.errors import InputError, ModelError

# ----------------------------------------------------------------------- NHS check digit


def test_nhs_check_digit_hand_computed():
    # 943 476 591: 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2 = 299;
    # 299 mod 11 = 2; 11 - 2 = 9.
    assert nhs_check_digit("943476591") == 9
    # 401 023 213: 40 + 0 + 8 + 0 + 12 + 15 + 8 + 3 + 6 = 92; 92 mod 11 = 4; 11 - 4 = 7.
    assert nhs_check_digit("401023213") == 7
    # 010 000 001: 0*10 + 1*9 + ... + 1*2 = 11; 11 mod 11 = 0; 11 - 0 = 11 -> 0.
    assert nhs_check_digit("010000001") == 0
    # 100 000 001: 1*10 + 1*2 = 12; 12 mod 11 = 1; 11 - 1 = 10 -> no valid number.
    assert nhs_check_digit("100000001") is None


def test_nhs_check_digit_rejects_bad_input():
    with pytest.raises(InputError):
        nhs_check_digit("12345")
    with pytest.raises(InputError):
        nhs_check_digit("12345678a")


@pytest.mark.parametrize(
    "value", ["943 476 5919", "9434765919", "943-476-5919", "401 023 2137", "0100000010"]
)
def test_valid_nhs_numbers(value):
    assert is_valid_nhs_number(value)


@pytest.mark.parametrize(
    "value",
    ["943 476 5918", "401 023 2136", "1000000010", "1000000011", "94347659", "abc", "", None],
)
def test_invalid_nhs_numbers(value):
    assert not is_valid_nhs_number(value)


def test_defaults():
    assert set(DEFAULT_HANDLING) == set(PII_TYPES)
    assert DEFAULT_HANDLING["date_of_birth"] == "drop"
    assert DEFAULT_HANDLING["free_text"] == "drop"
    assert DEFAULT_HANDLING["nhs_number"] == "fake"


# ----------------------------------------------------------------------- detection


def _assert_no_values_in_reason(guess: PiiGuess, series: pd.Series) -> None:
    for v in series.dropna().astype(str).unique()[:500]:
        if len(v) >= 3:
            assert v not in guess.reason


def _check(series: pd.Series, expected: str, name: str | None = None) -> PiiGuess:
    guess = detect_pii(series, name=name)
    assert guess is not None, f"nothing detected, expected {expected}"
    assert guess.pii_type == expected
    assert 0.0 <= guess.share <= 1.0
    _assert_no_values_in_reason(guess, series)
    return guess


RNG_SEED = 12345


def test_detect_email():
    s = pd.Series([f"user{i}@mail{i % 7}.co.uk" for i in range(200)])
    g = _check(s, "email", name="contact")
    assert g.share == 1.0


def test_detect_phone_uk_and_us():
    uk = pd.Series(
        ["07700 900123", "+44 7700 900456", "020 7946 0001", "0161 496 0999", "01632 960123"] * 40
    )
    _check(uk, "phone", name="contact")
    us = pd.Series(["(212) 555-0123", "415-555-0199", "+1 646 555 0100"] * 50)
    _check(us, "phone", name="contact")


def test_detect_nhs_number_formats():
    s = pd.Series(["943 476 5919", "401-023-2137", "4010232137"] * 50)
    g = _check(s, "nhs_number", name="ref")
    assert "check digit" in g.reason


def test_nhs_numbers_not_taken_for_row_ids_or_phones():
    values = fake_values("nhs_number", 300, rng=np.random.default_rng(1))
    as_int = pd.Series(sorted({int(v.replace(" ", "")) for v in values}), dtype="int64")
    _check(as_int, "nhs_number", name="record")
    dashed = pd.Series([v.replace(" ", "-") for v in values])
    _check(dashed, "nhs_number", name="number")


def test_random_ten_digit_numbers_are_not_nhs_numbers():
    rng = np.random.default_rng(RNG_SEED)
    s = pd.Series(rng.integers(10**9, 10**10, 500)).astype(str)
    g = detect_pii(s, name="x")
    assert g is None or g.pii_type != "nhs_number"


def test_detect_ssn():
    s = pd.Series(["123-45-6789", "078-05-1120", "512-11-0001"] * 40)
    _check(s, "us_ssn", name="x")
    # Invalid areas are not SSNs.
    bad = pd.Series(["000-12-3456", "666-12-3456", "912-12-3456"] * 40)
    g = detect_pii(bad, name="x")
    assert g is None or g.pii_type != "us_ssn"
    # Bare nine digits only with a name hint.
    bare = pd.Series(["123456789", "078051120", "512110001"] * 40)
    _check(bare, "us_ssn", name="ssn")


def test_detect_uk_postcode_case_insensitive():
    s = pd.Series(["SW1A 1AA", "M1 1AE", "B33 8TH", "cr2 6xh", "DN55 1PT", "EC1A1BB"] * 30)
    _check(s, "uk_postcode", name="x")


def test_us_zip_needs_a_name_hint():
    s = pd.Series(["02139", "94103", "10001-1234", "60614"] * 30)
    assert detect_pii(s, name="code") is None
    _check(s, "us_zip", name="zip_code")
    _check(pd.Series([2139, 94103, 10001, 60614] * 30), "us_zip", name="zip")


def test_detect_date_of_birth():
    s = pd.Series(["1950-03-01", "1987-12-31", "2001-07-04"] * 20)
    _check(s, "date_of_birth", name="dob")
    _check(pd.to_datetime(s), "date_of_birth", name="birth_date")
    # Dates without a birth hint are ordinary dates.
    assert detect_pii(pd.to_datetime(s), name="visit_date") is None


def test_detect_person_names_by_value_and_by_hint():
    names = pd.Series(fake_values("person_name", 300, rng=np.random.default_rng(3)))
    _check(names, "person_name", name="who")
    surnames = pd.Series(["Smith", "Jones", "O'Brien", "Taylor-Wood"] * 30)
    _check(surnames, "person_name", name="surname")
    # Region names are capitalised pairs but not people.
    regions = pd.Series(["North West", "South East", "East Midlands", "West Midlands"] * 30)
    assert detect_pii(regions, name="area") is None


def test_detect_free_text():
    rng = np.random.default_rng(RNG_SEED)
    words = np.array("patient reports mild chest pain after exercise and some fatigue".split())
    s = pd.Series([" ".join(rng.choice(words, 12)) for _ in range(200)])
    _check(s, "free_text", name="x")


def test_detect_row_ids():
    _check(pd.Series(np.arange(1, 501)), "row_id", name="n")
    _check(pd.Series(np.arange(1, 501).astype(float)), "row_id", name="n")
    shuffled = pd.Series(np.random.default_rng(0).permutation(500))
    assert detect_pii(shuffled, name="value") is None
    _check(shuffled, "row_id", name="record_id")
    _check(pd.Series([f"A{i:06d}X" for i in range(300)]), "row_id", name="code")
    _check(pd.Series([str(i) for i in range(1, 301)]), "row_id", name="code")
    g = detect_pii(pd.Series(np.arange(500)), name="patientId")
    assert g is not None and g.pii_type == "row_id" and g.share == 1.0


def test_non_identifiers_return_none():
    rng = np.random.default_rng(RNG_SEED)
    assert detect_pii(pd.Series(rng.normal(size=300)), name="x") is None
    assert detect_pii(pd.Series(rng.integers(0, 5, 300)), name="score") is None
    assert detect_pii(pd.Series(rng.random(300) < 0.5), name="flag") is None
    assert detect_pii(pd.Series(["a", "b"] * 100), name="group") is None
    assert detect_pii(pd.Series([], dtype=object), name="patient_name") is None
    assert detect_pii(pd.Series([np.nan] * 5), name="email") is None


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return demo_cohort(2000, seed=7)


@pytest.mark.parametrize(
    "column,expected",
    [
        ("patient_id", "row_id"),
        ("name", "person_name"),
        ("nhs_number", "nhs_number"),
        ("postcode", "uk_postcode"),
        ("date_of_birth", "date_of_birth"),
        ("clinical_note", "free_text"),
    ],
)
def test_demo_identifiers_detected(cohort, column, expected):
    _check(cohort[column], expected)


@pytest.mark.parametrize(
    "column",
    [
        "age",
        "sex",
        "bmi",
        "ethnicity",
        "region",
        "practice_code",
        "hba1c",
        "followup_days",
        "diabetes",
        "smoking_status",
        "index_date",
        "deprivation_quintile",
        "egfr",
    ],
)
def test_demo_non_identifiers_not_detected(cohort, column):
    assert detect_pii(cohort[column]) is None


def test_name_argument_overrides_series_name(cohort):
    g = detect_pii(cohort["patient_id"].rename("whatever"), name="patient_id")
    assert g is not None and g.pii_type == "row_id"


def test_detection_is_fast_on_100k_rows():
    rng = np.random.default_rng(0)
    columns = {
        "nhs": pd.Series(fake_values("nhs_number", 100_000, rng=rng)),
        "names": pd.Series(fake_values("person_name", 100_000, rng=rng)),
        "values": pd.Series(rng.normal(size=100_000)),
        "codes": pd.Series(rng.choice(["A", "B", "C"], 100_000)),
    }
    for name, s in columns.items():
        start = time.perf_counter()
        detect_pii(s, name=name)
        assert time.perf_counter() - start < 1.0, name


# ----------------------------------------------------------------------- fake values

FAKEABLE = [t for t in PII_TYPES if DEFAULT_HANDLING[t] == "fake"]

FORMAT = {
    "email": r"^[a-z]+[._]?[a-z]+\d*@example\.(?:org|com|net)$",
    "phone": r"^0[\d ]+$",
    "nhs_number": r"^\d{3} \d{3} \d{4}$",
    "us_ssn": r"^\d{3}-\d{2}-\d{4}$",
    "uk_postcode": r"^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$",
    "us_zip": r"^\d{5}$",
    "person_name": r"^[A-Z][A-Za-z'\-]+ [A-Z][A-Za-z'\-]+$",
    "row_id": r"^SYN\d{7}$",
}

HINT = {"us_zip": "zip", "row_id": "row_id"}


@pytest.mark.parametrize("pii_type", FAKEABLE)
def test_fake_values_format_and_detection(pii_type):
    values = fake_values(pii_type, 500, rng=np.random.default_rng(11))
    assert len(values) == 500
    assert all(isinstance(v, str) for v in values)
    pattern = re.compile(FORMAT[pii_type])
    assert all(pattern.match(v) for v in values), pii_type
    guess = detect_pii(pd.Series(values), name=HINT.get(pii_type, "col"))
    assert guess is not None and guess.pii_type == pii_type


@pytest.mark.parametrize("pii_type", FAKEABLE)
def test_fake_values_deterministic_per_seed(pii_type):
    a = fake_values(pii_type, 200, rng=np.random.default_rng(5))
    b = fake_values(pii_type, 200, rng=np.random.default_rng(5))
    assert a == b
    if pii_type != "row_id":  # row ids are a sequence, whatever the seed
        c = fake_values(pii_type, 200, rng=np.random.default_rng(6))
        assert a != c


def test_fake_nhs_numbers_have_valid_check_digits_and_are_fast():
    start = time.perf_counter()
    values = fake_values("nhs_number", 1_000_000, rng=np.random.default_rng(0))
    assert time.perf_counter() - start < 10.0
    assert len(values) == 1_000_000
    assert all(is_valid_nhs_number(v) for v in values[:20_000])


def test_fake_ssn_valid_parts():
    for v in fake_values("us_ssn", 5000, rng=np.random.default_rng(2)):
        area, group, serial = v.split("-")
        assert 1 <= int(area) <= 899 and int(area) != 666
        assert group != "00" and serial != "0000"


def test_fake_phone_follows_us_format_when_like_is_us():
    like = pd.Series(["(212) 555-0123", "415-555-0199"] * 10)
    values = fake_values("phone", 100, rng=np.random.default_rng(0), like=like)
    assert all(re.match(r"^\(\d{3}\) 555-01\d\d$", v) for v in values)
    assert detect_pii(pd.Series(values)).pii_type == "phone"


def test_fake_row_ids_unique_and_integer_like():
    ids = fake_values("row_id", 5000, rng=np.random.default_rng(0))
    assert len(set(ids)) == 5000
    like = pd.Series([3, 17, 250], dtype="int64")
    ints = fake_values("row_id", 100, rng=np.random.default_rng(0), like=like)
    as_int = [int(v) for v in ints]
    assert len(set(as_int)) == 100
    assert not set(as_int) & set(like)


@pytest.mark.parametrize("pii_type", ["nhs_number", "person_name", "email", "phone", "us_zip"])
def test_forbidden_values_are_redrawn(pii_type):
    calls = []

    def forbid_half(candidates: list[str]) -> np.ndarray:
        calls.append(len(candidates))
        # Deterministic "half": candidates whose character code sum is even.
        return np.array([sum(map(ord, c)) % 2 == 0 for c in candidates], dtype=bool)

    values = fake_values(pii_type, 300, rng=np.random.default_rng(4), forbidden=forbid_half)
    assert len(values) == 300
    assert not forbid_half(values).any()
    assert len(calls) >= 2


def test_forbidden_row_ids_skipped():
    banned = {f"SYN{k:07d}" for k in range(1, 11)}
    ids = fake_values(
        "row_id",
        20,
        rng=np.random.default_rng(0),
        forbidden=lambda c: np.array([v in banned for v in c]),
    )
    assert len(set(ids)) == 20 and not set(ids) & banned


def test_forbidding_everything_raises_model_error():
    with pytest.raises(ModelError, match="nhs_number"):
        fake_values(
            "nhs_number",
            10,
            rng=np.random.default_rng(0),
            forbidden=lambda c: np.ones(len(c), dtype=bool),
        )
    with pytest.raises(ModelError):
        fake_values(
            "row_id",
            10,
            rng=np.random.default_rng(0),
            forbidden=lambda c: np.ones(len(c), dtype=bool),
        )


@pytest.mark.parametrize("pii_type", ["date_of_birth", "free_text"])
def test_dropped_types_are_never_faked(pii_type):
    with pytest.raises(ValueError):
        fake_values(pii_type, 5, rng=np.random.default_rng(0))


def test_unknown_type_and_bad_n():
    with pytest.raises(InputError, match="known types"):
        fake_values("passport", 5, rng=np.random.default_rng(0))
    with pytest.raises(InputError):
        fake_values("email", -1, rng=np.random.default_rng(0))
    assert fake_values("email", 0, rng=np.random.default_rng(0)) == []
