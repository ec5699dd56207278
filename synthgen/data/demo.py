"""The embedded demo cohort: a simulated English primary-care cohort, no real person in it.

:func:`demo_cohort` draws ``n`` adults registered at GP practices in the nine English regions
(fixed ``seed``, local ``numpy`` generator, locally seeded Faker for names). The generating
model, in the order it runs:

1. region (population shares) -> practice (heavy-tailed list sizes, one region each) ->
   ethnicity (regional ONS-like shares) -> sex -> deprivation quintile (region and ethnicity).
2. rare conditions (cystic fibrosis ~0.1%, sickle cell ~0.3% mostly Black patients,
   Huntington's ~0.05%), then age (18-100; young for cystic fibrosis and sickle cell).
3. index date (2015-2019) and date of birth consistent with age at the index date.
4. smoking, BMI, blood pressure, cholesterol, eGFR/creatinine, HbA1c and the comorbidities
   from logistic and linear models of age, sex, BMI, deprivation and ethnicity.
5. statin use, then survival from a Weibull proportional-hazards model with administrative
   censoring at 2024-12-31 and ~5% random loss to follow-up.
6. missing values (MCAR and MAR), identifiers and a short templated clinical note.

See ``docs/demo_cohort.md`` for the coefficients in words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.fakes import (
    POSTCODE_AREAS,
    fake_person_names,
    fake_uk_postcodes,
    fake_values,
)
from synthgen.errors import InputError

__all__ = ["DEMO_COLUMNS", "demo_cohort"]

REGIONS: tuple[str, ...] = (
    "London",
    "South East",
    "East of England",
    "South West",
    "West Midlands",
    "East Midlands",
    "Yorkshire and The Humber",
    "North West",
    "North East",
)
_REGION_SHARES = np.array([0.156, 0.164, 0.112, 0.101, 0.105, 0.087, 0.097, 0.131, 0.047])
_REGION_SHARES = _REGION_SHARES / _REGION_SHARES.sum()
# Practice-code letters per region (first letter of English GP practice codes).
_PRACTICE_LETTERS = ("F", "H", "D", "L", "M", "C", "B", "P", "A")
# Average deprivation shift per region (positive = more deprived).
_REGION_DEPRIVATION = np.array([0.25, -0.35, -0.2, -0.2, 0.15, 0.0, 0.15, 0.25, 0.35])

ETHNICITIES: tuple[str, ...] = ("White", "Asian", "Black", "Mixed", "Other")
_ETHNICITY_BY_REGION = np.array(
    [
        [0.54, 0.21, 0.13, 0.06, 0.06],  # London
        [0.89, 0.06, 0.02, 0.02, 0.01],  # South East
        [0.875, 0.06, 0.03, 0.025, 0.01],  # East of England
        [0.93, 0.03, 0.01, 0.02, 0.01],  # South West
        [0.77, 0.13, 0.045, 0.035, 0.02],  # West Midlands
        [0.85, 0.09, 0.025, 0.025, 0.01],  # East Midlands
        [0.85, 0.09, 0.02, 0.025, 0.015],  # Yorkshire and The Humber
        [0.85, 0.09, 0.02, 0.025, 0.015],  # North West
        [0.93, 0.04, 0.01, 0.01, 0.01],  # North East
    ]
)
_ETHNICITY_BY_REGION = _ETHNICITY_BY_REGION / _ETHNICITY_BY_REGION.sum(axis=1, keepdims=True)
_ETHNICITY_DEPRIVATION = np.array([0.0, 0.3, 0.45, 0.3, 0.3])

DEMO_COLUMNS: tuple[str, ...] = (
    "patient_id",
    "name",
    "nhs_number",
    "postcode",
    "date_of_birth",
    "age",
    "sex",
    "ethnicity",
    "region",
    "practice_code",
    "deprivation_quintile",
    "smoking_status",
    "bmi",
    "systolic_bp",
    "diastolic_bp",
    "hba1c",
    "total_cholesterol",
    "ldl",
    "egfr",
    "creatinine",
    "diabetes",
    "hypertension",
    "ckd",
    "copd",
    "depression",
    "cystic_fibrosis",
    "sickle_cell",
    "huntingtons",
    "statin",
    "index_date",
    "followup_days",
    "died",
    "clinical_note",
)

_END_OF_FOLLOWUP = np.datetime64("2024-12-31")
_PATIENTS_PER_PRACTICE = 33  # ~3,000 practices at 100,000 patients


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _bernoulli(rng: np.random.Generator, logit: np.ndarray) -> np.ndarray:
    return rng.random(len(logit)) < _expit(logit)


def _categorical(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One draw per row from row-wise probabilities (rows sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cum[:, -1:]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _practices(n: int, rng: np.random.Generator, region: np.ndarray) -> tuple[np.ndarray, ...]:
    """Assign practices: heavy-tailed list sizes, each practice in one region."""
    n_practices = max(len(REGIONS), int(np.ceil(n / _PATIENTS_PER_PRACTICE)))
    p_region = np.concatenate(
        [
            np.arange(len(REGIONS)),
            rng.choice(len(REGIONS), n_practices - len(REGIONS), p=_REGION_SHARES),
        ]
    )
    size = rng.pareto(1.5, n_practices) + 0.3  # Zipf-like list sizes
    p_area = np.empty(n_practices, dtype=object)
    p_district = rng.integers(1, 30, n_practices)
    codes = np.empty(n_practices, dtype=object)
    practice = np.empty(n, dtype=np.int64)
    for r, region_name in enumerate(REGIONS):
        members = np.flatnonzero(p_region == r)
        areas = POSTCODE_AREAS[region_name]
        p_area[members] = np.array(areas, dtype=object)[rng.integers(0, len(areas), len(members))]
        letter = _PRACTICE_LETTERS[r]
        codes[members] = [f"{letter}{81001 + k:05d}" for k in range(len(members))]
        patients = np.flatnonzero(region == r)
        if len(patients):
            w = size[members] / size[members].sum()
            practice[patients] = rng.choice(members, len(patients), p=w)
    return practice, codes, p_area, p_district


def _ages(rng: np.random.Generator, n: int, cf: np.ndarray, sc: np.ndarray, hd: np.ndarray):
    age = 18 + np.floor(82.999 * rng.beta(1.4, 2.1, n)).astype(np.int64)
    age = np.where(cf, 18 + np.floor(27 * rng.beta(1.3, 2.5, n)).astype(np.int64), age)
    age = np.where(sc, 18 + np.floor(45 * rng.beta(1.5, 2.5, n)).astype(np.int64), age)
    age = np.where(hd, 30 + np.floor(40 * rng.beta(2.5, 2.0, n)).astype(np.int64), age)
    return np.clip(age, 18, 100)


def _dates(rng: np.random.Generator, n: int, age: np.ndarray):
    """Index dates in 2015-2019 and birth dates giving exactly ``age`` at the index date."""
    start = np.datetime64("2015-01-01")
    span = (np.datetime64("2019-12-31") - start).astype(np.int64) + 1
    index = pd.DatetimeIndex(start + rng.integers(0, span, n).astype("timedelta64[D]"))
    day = np.where((index.month == 2) & (index.day == 29), 28, index.day)
    birthday = pd.to_datetime(
        pd.DataFrame({"year": index.year - age, "month": index.month, "day": day})
    )
    # The a-th birthday falls on or before the index date; step back less than a year.
    back = rng.integers(0, 365, n)
    dob = birthday - pd.to_timedelta(back, unit="D")
    return index, pd.DatetimeIndex(dob)


def _exact_age(index: pd.DatetimeIndex, dob: pd.DatetimeIndex) -> np.ndarray:
    before = (index.month < dob.month) | ((index.month == dob.month) & (index.day < dob.day))
    return (index.year - dob.year - before.astype(np.int64)).to_numpy().astype(np.int64)


def demo_cohort(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Simulate a clinically plausible English primary-care cohort.

    Every name, NHS number (``999`` test range) and postcode is fake. The same ``(n, seed)``
    always gives the same frame.

    Args:
        n: number of patients (at least 1).
        seed: seed of the local random generator.

    Returns:
        A DataFrame with the columns of :data:`DEMO_COLUMNS`.

    Raises:
        InputError: when ``n`` is not a positive integer.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"The demo cohort needs a positive whole number of rows, got {n!r}.")
    n = int(n)
    rng = np.random.default_rng(seed)

    # --- who and where
    region = rng.choice(len(REGIONS), n, p=_REGION_SHARES)
    practice, codes, p_area, p_district = _practices(n, rng, region)
    eth = _categorical(rng, _ETHNICITY_BY_REGION[region])
    female = rng.random(n) < 0.51
    latent_dep = _REGION_DEPRIVATION[region] + _ETHNICITY_DEPRIVATION[eth] + rng.normal(0.0, 1.0, n)
    # Quintile 1 is the most deprived, as in the English Index of Multiple Deprivation.
    cuts = np.array([0.84, 0.25, -0.25, -0.84]) * 1.05 + 0.1
    dep_q = 1 + (latent_dep < cuts[:, None]).sum(axis=0)
    dep = (3 - dep_q) / 2.0  # +1 most deprived ... -1 least deprived
    black, asian = eth == 2, eth == 1

    # --- rare conditions (they shape age, so they come first)
    cf = rng.random(n) < np.where(eth == 0, 0.0012, 0.0002)  # mostly White
    sc_rate = np.array([0.0001, 0.001, 0.06, 0.008, 0.005])[eth]
    sc = (rng.random(n) < sc_rate) & ~cf
    hd = (rng.random(n) < 0.0005) & ~cf & ~sc
    if n >= 100:  # keep each rare condition present, so no column of a demo is constant
        for flag in (cf, sc, hd):
            if not flag.any():
                flag[rng.choice(np.flatnonzero(~(cf | sc | hd)))] = True

    age = _ages(rng, n, cf, sc, hd)
    index, dob = _dates(rng, n, age)
    age = np.clip(_exact_age(index, dob), 18, 100)
    a50 = (age - 50) / 10.0  # decades from 50

    # --- lifestyle
    p_current = _expit(-1.9 + 0.5 * dep - 0.25 * a50 + 0.25 * ~female - 0.6 * asian)
    p_former = _expit(-1.3 + 0.25 * a50 + 0.2 * ~female) * (1 - p_current)
    smoke = _categorical(
        rng, np.column_stack([1 - p_current - p_former, p_former, p_current])
    )  # 0 never, 1 former, 2 current
    current, former = smoke == 2, smoke == 1

    bmi = (
        28.4
        + 0.9 * a50
        - 0.35 * a50**2
        + 0.8 * dep
        - 0.8 * asian
        + 0.6 * black
        - 0.6 * current
        + rng.normal(0.0, 4.8, n)
    )
    bmi = np.where(cf, rng.normal(20.5, 2.2, n), bmi)
    bmi = np.where(hd, rng.normal(21.5, 2.8, n), bmi)
    bmi = np.clip(bmi, 14.0, 65.0)
    b5 = (bmi - 27.0) / 5.0

    # --- comorbidities and measurements
    diabetes = _bernoulli(
        rng,
        -2.75 + 0.55 * a50 - 0.12 * a50**2 + 0.75 * b5 + 0.9 * asian + 0.5 * black + 0.3 * dep,
    )
    diabetes |= cf & (rng.random(n) < 0.3)  # CF-related diabetes
    hypertension = _bernoulli(
        rng, -1.35 + 0.75 * a50 + 0.5 * b5 + 0.5 * black + 0.45 * diabetes + 0.1 * dep
    )

    sbp = (
        126.0
        + 5.0 * a50
        + 3.0 * b5
        + 9.0 * hypertension
        + 3.0 * ~female
        + 3.0 * black
        + rng.normal(0.0, 12.0, n)
    )
    dbp = 24.0 + 0.42 * sbp - 1.6 * a50 + 1.2 * b5 + rng.normal(0.0, 6.0, n)
    sbp, dbp = np.clip(sbp, 80, 240), np.clip(dbp, 40, 140)
    dbp = np.minimum(dbp, sbp - 15)

    chol = 5.35 + 0.3 * a50 - 0.12 * a50**2 + 0.15 * b5 + 0.15 * female + rng.normal(0, 0.95, n)
    chol = np.where(cf, rng.normal(3.6, 0.5, n), chol)
    chol = np.where(sc, chol - 0.8, chol)
    chol = np.clip(chol, 2.0, 12.0)
    ldl = np.clip(0.72 * chol - 0.7 + rng.normal(0.0, 0.35, n), 0.5, 9.5)

    egfr = (
        104.0
        - 8.0 * np.maximum(age - 35, 0) / 10.0
        - 7.0 * diabetes
        - 5.0 * hypertension
        - 3.0 * current
        + rng.normal(0.0, 12.0, n)
    )
    egfr = np.where(sc & (age < 40), egfr + 15.0, egfr)  # hyperfiltration
    egfr = np.clip(egfr, 6.0, 150.0)
    ckd = np.where(egfr < 60, rng.random(n) < 0.85, rng.random(n) < 0.01 * (egfr < 75))
    # Creatinine (umol/L) from eGFR, roughly inverting CKD-EPI: lower for women.
    creat = (
        78.0
        * (90.0 / egfr)
        * np.where(female, 0.82, 1.0)
        * (1 + 0.006 * np.maximum(age - 40, 0))
        * rng.lognormal(0.0, 0.05, n)
    )
    creat = np.clip(creat, 30.0, 1200.0)

    hba1c = np.where(
        diabetes,
        rng.normal(58.0, 12.0, n) + 2.0 * b5,
        rng.normal(36.5, 3.8, n) + 0.8 * a50 + 1.0 * b5 + 1.5 * (asian | black),
    )
    hba1c = np.where(sc, hba1c - 6.0, hba1c)  # HbA1c reads low with sickle haemoglobin
    hba1c = np.clip(hba1c, 20.0, 150.0)

    copd = _bernoulli(
        rng, -5.0 + 0.75 * a50 + 1.9 * current + 1.1 * former + 0.35 * dep - 0.3 * asian
    )
    depression = _bernoulli(
        rng,
        -2.05
        + 0.5 * female
        + 0.35 * dep
        - 0.12 * a50
        + 0.4 * current
        + 0.3 * copd
        + 0.2 * b5
        + 2.0 * hd,
    )

    statin = _bernoulli(
        rng,
        -2.6 + 0.9 * a50 + 1.4 * diabetes + 0.55 * (chol - 5.2) + 0.6 * ckd + 0.5 * hypertension,
    )

    # --- survival: Weibull proportional hazards, time in days
    lp = (
        0.095 * (age - 50)
        + 0.45 * diabetes
        + 0.55 * ckd
        + 0.75 * copd
        + 0.6 * current
        + 0.25 * former
        + 0.25 * dep
        + 0.25 * ~female
        + 0.2 * depression
        + 0.15 * b5**2
        - 0.25 * statin
        + 2.5 * cf
        + 1.5 * sc
        + 2.2 * hd
    )
    shape = 1.15
    scale = 0.0012 / 365.0**shape  # ~0.12% one-year risk at 50 with no risk factors
    t_event = (-np.log(rng.random(n)) / (scale * np.exp(lp))) ** (1.0 / shape)
    admin = (_END_OF_FOLLOWUP - index.values.astype("datetime64[D]")).astype(np.int64)
    lost = rng.random(n) < 0.05
    t_loss = np.where(lost, rng.uniform(1.0, admin.astype(float)), np.inf)
    t_end = np.minimum(t_loss, admin)
    died = t_event <= t_end
    followup = np.maximum(np.ceil(np.minimum(t_event, t_end)), 1).astype(np.int64)

    # --- missingness (MCAR and MAR)
    miss = rng.random((n, 6))
    smoking_na = miss[:, 0] < 0.04
    bmi_na = miss[:, 1] < _expit(-2.0 - 0.3 * a50 - 0.5 * (diabetes | hypertension))
    bp_na = miss[:, 2] < 0.05 * np.where(hypertension, 0.3, 1.3)
    hba1c_na = miss[:, 3] < np.where(diabetes, 0.03, 0.165)
    chol_na = miss[:, 4] < np.where(statin | diabetes, 0.08, 0.22)
    creat_na = miss[:, 5] < np.where(ckd | diabetes, 0.02, 0.08)
    ldl_na = chol_na | (rng.random(n) < 0.04)

    def masked(x: np.ndarray, na: np.ndarray, decimals: int) -> np.ndarray:
        return np.where(na, np.nan, np.round(x, decimals)).astype(np.float64)

    smoking = np.array(["never", "former", "current"], dtype=object)[smoke]
    smoking[smoking_na] = np.nan

    # --- identifiers (all fake)
    width = max(7, len(str(n)))
    patient_id = [f"P{k:0{width}d}" for k in range(1, n + 1)]
    names = fake_person_names(n, rng=rng, female=female)
    nhs = _unique_nhs(n, rng)
    same_district = rng.random(n) < 0.8
    district = np.where(same_district, p_district[practice], rng.integers(1, 30, n))
    postcode = fake_uk_postcodes(n, rng=rng, areas=p_area[practice], districts=district)

    frame = pd.DataFrame(
        {
            "patient_id": patient_id,
            "name": names,
            "nhs_number": nhs,
            "postcode": postcode,
            "date_of_birth": dob.astype("datetime64[ns]"),
            "age": age.astype(np.int64),
            "sex": np.where(female, "F", "M").astype(object),
            "ethnicity": np.array(ETHNICITIES, dtype=object)[eth],
            "region": np.array(REGIONS, dtype=object)[region],
            "practice_code": codes[practice],
            "deprivation_quintile": dep_q.astype(np.int64),
            "smoking_status": smoking,
            "bmi": masked(bmi, bmi_na, 1),
            "systolic_bp": masked(sbp, bp_na, 0),
            "diastolic_bp": masked(dbp, bp_na, 0),
            "hba1c": masked(hba1c, hba1c_na, 0),
            "total_cholesterol": masked(chol, chol_na, 1),
            "ldl": masked(ldl, ldl_na, 1),
            "egfr": np.round(egfr, 0).astype(np.float64),
            "creatinine": masked(creat, creat_na, 0),
            "diabetes": diabetes.astype(bool),
            "hypertension": hypertension.astype(bool),
            "ckd": ckd.astype(bool),
            "copd": copd.astype(bool),
            "depression": depression.astype(bool),
            "cystic_fibrosis": cf.astype(bool),
            "sickle_cell": sc.astype(bool),
            "huntingtons": hd.astype(bool),
            "statin": statin.astype(bool),
            "index_date": index.astype("datetime64[ns]"),
            "followup_days": followup,
            "died": died.astype(bool),
        }
    )
    frame["clinical_note"] = _notes(rng, frame)
    return frame[list(DEMO_COLUMNS)]


def _unique_nhs(n: int, rng: np.random.Generator) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        for v in fake_values("nhs_number", n - len(out), rng=rng):
            if v not in seen:
                seen.add(v)
                out.append(v)
    return out


_OPENINGS = np.array(
    [
        "Annual review of",
        "Seen in clinic:",
        "Telephone consultation with",
        "Routine check for",
        "Follow-up appointment,",
        "Medication review for",
        "New patient check,",
        "Nurse review of",
    ]
)
_PLANS = np.array(
    [
        "Plan to repeat bloods in three months.",
        "Continue current medication and review next year.",
        "Lifestyle advice given.",
        "Referred for specialist opinion.",
        "Safety-netting advice given.",
        "Patient happy with plan.",
        "Review in six weeks.",
        "Discussed diet and exercise.",
        "No change to treatment today.",
        "Encouraged to attend screening.",
    ]
)
_CONDITION_WORDS = (
    ("cystic_fibrosis", "cystic fibrosis"),
    ("sickle_cell", "sickle cell disease"),
    ("huntingtons", "Huntington's disease"),
    ("diabetes", "type 2 diabetes"),
    ("hypertension", "hypertension"),
    ("ckd", "CKD"),
    ("copd", "COPD"),
    ("depression", "depression"),
)


def _notes(rng: np.random.Generator, frame: pd.DataFrame) -> list[str]:
    """Short templated notes (8-20 words) that mention the patient's conditions."""
    n = len(frame)
    opening = _OPENINGS[rng.integers(0, len(_OPENINGS), n)]
    plan = _PLANS[rng.integers(0, len(_PLANS), n)]
    flags = np.column_stack([frame[c].to_numpy(dtype=bool) for c, _ in _CONDITION_WORDS])
    words = [w for _, w in _CONDITION_WORDS]
    sexes = np.where(frame["sex"].to_numpy() == "F", "woman", "man")
    ages = frame["age"].to_numpy()
    sbp = frame["systolic_bp"].to_numpy()
    dbp = frame["diastolic_bp"].to_numpy()
    smoking = frame["smoking_status"].to_numpy()
    notes: list[str] = []
    for i in range(n):
        conds = [words[j] for j in np.flatnonzero(flags[i])][:3]
        if not conds:
            cond = "No long-term conditions recorded."
        elif len(conds) == 1:
            cond = f"Known {conds[0]}."
        else:
            cond = f"Known {', '.join(conds[:-1])} and {conds[-1]}."
        if sbp[i] == sbp[i]:  # not NaN
            measure = f"BP {sbp[i]:.0f}/{dbp[i]:.0f}."
        elif isinstance(smoking[i], str):
            measure = f"{smoking[i].capitalize()} smoker."
        else:
            measure = ""
        text = f"{opening[i]} {ages[i]} year old {sexes[i]}. {cond} {measure} {plan[i]}"
        tokens = text.split()
        if len(tokens) > 20:
            tokens = tokens[:20]
            tokens[-1] = tokens[-1].rstrip(".,:") + "."
        notes.append(" ".join(tokens))
    return notes
