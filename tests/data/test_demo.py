"""Tests for the embedded demo cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.data.demo import DEMO_COLUMNS, REGIONS, demo_cohort
from synthgen.data.pii import is_valid_nhs_number
from synthgen.datasets import demo_cohort as exported
from synthgen.errors import InputError

EXPECTED_DTYPES = {
    "patient_id": "object",
    "name": "object",
    "nhs_number": "object",
    "postcode": "object",
    "date_of_birth": "datetime64[ns]",
    "age": "int64",
    "sex": "object",
    "ethnicity": "object",
    "region": "object",
    "practice_code": "object",
    "deprivation_quintile": "int64",
    "smoking_status": "object",
    "bmi": "float64",
    "systolic_bp": "float64",
    "diastolic_bp": "float64",
    "hba1c": "float64",
    "total_cholesterol": "float64",
    "ldl": "float64",
    "egfr": "float64",
    "creatinine": "float64",
    "diabetes": "bool",
    "hypertension": "bool",
    "ckd": "bool",
    "copd": "bool",
    "depression": "bool",
    "cystic_fibrosis": "bool",
    "sickle_cell": "bool",
    "huntingtons": "bool",
    "statin": "bool",
    "index_date": "datetime64[ns]",
    "followup_days": "int64",
    "died": "bool",
    "clinical_note": "object",
}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return demo_cohort(5000, seed=0)


def test_exported_from_datasets():
    assert exported is demo_cohort


def test_columns_and_dtypes(df):
    assert list(df.columns) == list(DEMO_COLUMNS) == list(EXPECTED_DTYPES)
    assert {c: str(t) for c, t in df.dtypes.items()} == EXPECTED_DTYPES
    assert len(df) == 5000
    assert df.index.equals(pd.RangeIndex(5000))


def test_deterministic_and_seed_dependent(df):
    pd.testing.assert_frame_equal(df, demo_cohort(5000, seed=0))
    other = demo_cohort(5000, seed=1)
    assert not df["bmi"].equals(other["bmi"])
    assert not df["name"].equals(other["name"])


@pytest.mark.parametrize("n", [1, 2, 10])
def test_tiny_cohorts(n):
    small = demo_cohort(n, seed=3)
    assert len(small) == n
    assert list(small.columns) == list(DEMO_COLUMNS)
    assert {c: str(t) for c, t in small.dtypes.items()} == EXPECTED_DTYPES


@pytest.mark.parametrize("n", [0, -5, 2.5, "10", True])
def test_bad_n_rejected(n):
    with pytest.raises(InputError):
        demo_cohort(n)


def test_identifiers(df):
    assert df["patient_id"].is_unique
    assert df["patient_id"].str.fullmatch(r"P\d{7}").all()
    assert df["nhs_number"].is_unique
    assert df["nhs_number"].str.fullmatch(r"\d{3} \d{3} \d{4}").all()
    assert df["nhs_number"].map(is_valid_nhs_number).all()
    assert df["name"].str.fullmatch(r"[A-Z][A-Za-z'\-]+ [A-Z][A-Za-z'\-]+").all()
    assert df["name"].nunique() > 0.8 * len(df)
    assert df["postcode"].str.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}").all()
    # Patients of one practice share the postcode area.
    area = df["postcode"].str.extract(r"^([A-Z]+)")[0]
    assert (area.groupby(df["practice_code"]).nunique() == 1).all()


def test_age_consistent_with_dates(df):
    idx, dob = df["index_date"].dt, df["date_of_birth"].dt
    before = (idx.month < dob.month) | ((idx.month == dob.month) & (idx.day < dob.day))
    exact = idx.year - dob.year - before.astype(int)
    assert (exact == df["age"]).all()
    assert df["age"].between(18, 100).all()
    assert df["index_date"].min() >= pd.Timestamp("2015-01-01")
    assert df["index_date"].max() <= pd.Timestamp("2019-12-31")


def test_categories_and_shares(df):
    assert set(df["sex"]) == {"F", "M"}
    assert set(df["region"]) == set(REGIONS)
    assert set(df["deprivation_quintile"]) == {1, 2, 3, 4, 5}
    assert set(df["smoking_status"].dropna()) == {"never", "former", "current"}
    shares = df["ethnicity"].value_counts(normalize=True)
    assert 0.75 < shares["White"] < 0.88
    assert 0.06 < shares["Asian"] < 0.13
    assert 0.02 < shares["Black"] < 0.07
    london = df["region"] == "London"
    white_london = (df.loc[london, "ethnicity"] == "White").mean()
    white_elsewhere = (df.loc[~london, "ethnicity"] == "White").mean()
    assert white_london < white_elsewhere - 0.15
    # Each practice belongs to one region.
    assert (df.groupby("practice_code")["region"].nunique() == 1).all()
    assert df["practice_code"].str.fullmatch(r"[A-Z]\d{5}").all()


def test_practice_count_scales():
    big = demo_cohort(100_000, seed=0)
    assert 2500 <= big["practice_code"].nunique() <= 3500
    sizes = big["practice_code"].value_counts()
    assert sizes.iloc[0] > 5 * sizes.median()  # heavy-tailed list sizes


def test_plausible_ranges(df):
    ranges = {
        "bmi": (14, 65),
        "systolic_bp": (80, 240),
        "diastolic_bp": (40, 140),
        "hba1c": (20, 150),
        "total_cholesterol": (2, 12),
        "ldl": (0.5, 9.5),
        "egfr": (4, 150),
        "creatinine": (20, 1500),
    }
    for col, (lo, hi) in ranges.items():
        s = df[col].dropna()
        assert s.between(lo, hi).all(), col
    assert 25 < df["bmi"].mean() < 30
    assert 120 < df["systolic_bp"].mean() < 140
    assert ((df["diastolic_bp"] < df["systolic_bp"]) | df["systolic_bp"].isna()).all()
    assert (df["followup_days"] >= 1).all()
    assert (df["followup_days"] <= 10 * 366 + 1).all()


def test_correlations(df):
    assert df["ldl"].corr(df["total_cholesterol"]) > 0.5
    assert df["egfr"].corr(df["age"]) < -0.4
    assert df["egfr"].corr(df["creatinine"], method="spearman") < -0.7
    assert df["systolic_bp"].corr(df["diastolic_bp"]) > 0.4
    assert df["systolic_bp"].corr(df["age"]) > 0.1
    assert df["systolic_bp"].corr(df["bmi"]) > 0.05
    by_dm = df.groupby("diabetes")["hba1c"].mean()
    assert by_dm[True] > by_dm[False] + 10
    by_ckd = df.groupby("ckd")["egfr"].mean()
    assert by_ckd[True] < by_ckd[False] - 20
    assert df.groupby("statin")["age"].mean()[True] > df.groupby("statin")["age"].mean()[False]


def test_prevalences(df):
    prev = df[["diabetes", "hypertension", "ckd", "copd", "depression", "statin"]].mean()
    assert 0.04 < prev["diabetes"] < 0.14
    assert 0.15 < prev["hypertension"] < 0.40
    assert 0.03 < prev["ckd"] < 0.15
    assert 0.01 < prev["copd"] < 0.08
    assert 0.08 < prev["depression"] < 0.25
    assert 0.10 < prev["statin"] < 0.35
    old = df["age"] >= 65
    assert df.loc[old, "hypertension"].mean() > df.loc[~old, "hypertension"].mean()
    smokers = df["smoking_status"] == "current"
    assert df.loc[smokers, "copd"].mean() > df.loc[df["smoking_status"] == "never", "copd"].mean()


def test_missingness(df):
    missing = df.isna().mean()
    assert 0.06 < missing["bmi"] < 0.15
    assert 0.11 < missing["hba1c"] < 0.19
    assert 0.0 < missing["creatinine"] < 0.15
    assert 0.0 < missing["smoking_status"] < 0.10
    for col in ["patient_id", "name", "nhs_number", "age", "sex", "egfr", "followup_days"]:
        assert missing[col] == 0, col
    # HbA1c is missing at random: far more often in people without diabetes.
    by_dm = df["hba1c"].isna().groupby(df["diabetes"]).mean()
    assert by_dm[False] > 3 * by_dm[True]


def test_survival(df):
    rate = df["died"].mean()
    assert 0.03 < rate < 0.20
    old = df["age"] >= 75
    assert df.loc[old, "died"].mean() > 3 * df.loc[~old, "died"].mean()
    # Administrative censoring: no follow-up beyond 2024-12-31.
    end = df["index_date"] + pd.to_timedelta(df["followup_days"], unit="D")
    assert (end <= pd.Timestamp("2024-12-31")).all()
    censored_at_end = (~df["died"]) & (end == pd.Timestamp("2024-12-31"))
    lost = (~df["died"]) & (end < pd.Timestamp("2024-12-31"))
    assert censored_at_end.mean() > 0.6
    assert 0.02 < lost.mean() < 0.08


def test_rare_conditions_present_and_unusual():
    big = demo_cohort(20_000, seed=0)
    for col in ["cystic_fibrosis", "sickle_cell", "huntingtons"]:
        assert big[col].sum() >= 1, col
    cf = big["cystic_fibrosis"]
    assert big.loc[cf, "age"].max() <= 45
    assert big.loc[cf, "bmi"].mean() < big.loc[~cf, "bmi"].mean() - 3
    sc = big["sickle_cell"]
    assert (big.loc[sc, "ethnicity"] == "Black").mean() > 0.5
    assert 0.0005 < sc.mean() < 0.006


def test_clinical_notes(df):
    words = df["clinical_note"].str.split().str.len()
    assert words.between(8, 20).all()
    assert df["clinical_note"].nunique() > 0.5 * len(df)
    dm = df["diabetes"] & ~df[["cystic_fibrosis", "sickle_cell", "huntingtons"]].any(axis=1)
    assert df.loc[dm, "clinical_note"].str.contains("diabetes").mean() > 0.9
    # No identifiers leak into the notes.
    assert not df["clinical_note"].str.contains(r"\d{3} \d{3} \d{4}").any()


def test_large_cohort_is_fast():
    import time

    start = time.perf_counter()
    demo_cohort(100_000, seed=2)
    assert time.perf_counter() - start < 8.0


def test_no_global_random_state_touched():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    demo_cohort(50, seed=9)
    assert np.random.random() == before
