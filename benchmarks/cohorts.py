"""The cohorts the generator comparison runs on: the demo cohort and real clinical cohorts.

Every loader returns a :class:`BenchCohort` ``(name, data, schema, targets)``: the table typed
by its schema, the schema (``infer_schema`` plus what a custodian would add on review: the
outcome as a ``target``, time-to-event roles, kinds of coded columns), and the utility targets.

The real cohorts ship inside installed packages and are read from the package's own files:
nothing is downloaded. lifelines is an optional dependency (``pip install -e ".[bench]"``);
scikit-learn is a dependency of synthgen.

- ``demo``: the simulated primary-care cohort (``synthgen.datasets.demo_cohort``), schema and
  target as in ``synthgen demo``.
- ``gbsg2``: German Breast Cancer Study Group 2 (Schumacher et al., 1994), 686 patients with
  node-positive breast cancer, recurrence-free survival (lifelines ``load_gbsg2``).
- ``actg175``: AIDS Clinical Trials Group Study 175 (Hammer et al., 1996), 2,139 adults with
  HIV-1 randomised to four antiretroviral regimens, time to a composite endpoint
  (``ACTG175.csv`` bundled in ``lifelines.datasets``; lifelines has no loader function for it).
- ``breast_cancer``: Wisconsin diagnostic breast cancer, 569 biopsies, 30 numeric features and
  the diagnosis (scikit-learn ``load_breast_cancer``); all-numeric, and it needs nothing
  beyond synthgen's own dependencies.

    python benchmarks/cohorts.py            # prints each cohort's size, kinds and roles
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pandas as pd

import synthgen as sg
from synthgen.data.schema import Schema

DEMO_ROWS = 10_000
DEMO_DATA_SEED = 0  # the demo cohort is one fixed table; --seed varies split, training, scoring
DEFAULT_COHORTS: tuple[str, ...] = ("demo", "gbsg2", "actg175", "breast_cancer")


class BenchCohort(NamedTuple):
    """One benchmark cohort.

    Attributes:
        name: short name used on the command line and in the results.
        data: the whole table, typed by ``schema`` (split later, as the CLI does).
        schema: column kinds and roles.
        targets: utility targets (train on synthetic, test on real).
    """

    name: str
    data: pd.DataFrame
    schema: Schema
    targets: tuple[str, ...]


def _add_roles(schema: Schema, name: str, *roles: str) -> Schema:
    """Add roles to a column, dropping ``plain`` (which means "no other role")."""
    kept = tuple(r for r in schema[name].roles if r != "plain")
    return schema.update(name, roles=tuple(dict.fromkeys((*kept, *roles))))


def _declare_ranges(schema: Schema, ranges: dict[str, tuple]) -> Schema:
    """Declare the public range of each numeric column, as a custodian would on review.

    The ranges come from the measurement scales and the study designs (an age range, a
    Karnofsky score's 0-100, a follow-up's length), never from the records: a DP generator
    uses them for free, and estimating them from a few hundred records under a budget of
    ε = 1 is hopeless (see docs/differential-privacy.md). Other generators ignore them.
    """
    for name, bounds in ranges.items():
        schema = schema.update(name, bounds=bounds)
    return schema


def _lifelines_datasets():
    try:
        import lifelines.datasets as datasets
    except ImportError:
        raise ImportError(
            "the real clinical cohorts are read from lifelines' bundled data sets; "
            'install them with: pip install -e ".[bench]"'
        ) from None
    return datasets


def demo(*, rows: int | None = None) -> BenchCohort:
    """The simulated demo cohort, with the target and rules ``synthgen demo`` gives it."""
    from synthgen.walkthrough import DEMO_RULES, DEMO_TARGET

    df = sg.datasets.demo_cohort(rows or DEMO_ROWS, seed=DEMO_DATA_SEED)
    schema = sg.infer_schema(df)
    # hypertension is the outcome `synthgen demo` models; followup_days / died are already
    # inferred as the time-to-event pair, identifiers as direct identifiers (never learned)
    schema = _add_roles(schema, DEMO_TARGET, "target").with_rules(*DEMO_RULES)
    # adults; clinical measurement ranges; index dates 2015-2019 and follow-up to the end of
    # 2024 by the study design (docs/demo_cohort.md)
    schema = _declare_ranges(
        schema,
        {
            "age": (18, 100),
            "deprivation_quintile": (1, 5),
            "bmi": (10, 70),
            "systolic_bp": (60, 250),
            "diastolic_bp": (30, 150),
            "hba1c": (20, 150),
            "total_cholesterol": (1, 15),
            "ldl": (0, 10),
            "egfr": (5, 200),
            "creatinine": (20, 1000),
            "index_date": ("2015-01-01", "2019-12-31"),
            "followup_days": (0, 3653),
        },
    )
    return BenchCohort("demo", schema.coerce(df), schema, (DEMO_TARGET,))


def gbsg2() -> BenchCohort:
    """German Breast Cancer Study Group 2: recurrence-free survival after surgery.

    Columns: hormonal therapy (horTh), age, menopausal status, tumour size (mm), tumour grade
    (I-III), positive lymph nodes, progesterone and oestrogen receptors (fmol/l), time to
    recurrence or death (days) and its event indicator (cens: 1 = event, 0 = censored).
    """
    df = _lifelines_datasets().load_gbsg2()
    schema = sg.infer_schema(df)
    # `time` is inferred as the follow-up time; `cens` (0/1) only as a boolean. It is the
    # study's outcome (recurrence or death), so it is the event of the time-to-event pair and
    # the utility target: can a model trained on synthetic patients predict who relapses?
    schema = _add_roles(schema, "time", "time_to_event_time")
    schema = _add_roles(schema, "cens", "time_to_event_event", "target")
    # adult patients; tumour size in mm; nodes examined; receptor assays in fmol; follow-up
    # of up to ten years
    schema = _declare_ranges(
        schema,
        {
            "age": (18, 100),
            "tsize": (0, 150),
            "pnodes": (0, 60),
            "progrec": (0, 3000),
            "estrec": (0, 3000),
            "time": (0, 3650),
        },
    )
    return BenchCohort("gbsg2", schema.coerce(df), schema, ("cens",))


# ACTG 175 codes, from the trial's data dictionary (R package speff2trial, `ACTG175`)
_ACTG_ARMS = {0: "ZDV", 1: "ZDV+ddI", 2: "ZDV+Zal", 3: "ddI"}
_ACTG_STRAT = {1: "naive", 2: "1-52 weeks", 3: "over 52 weeks"}


def actg175() -> BenchCohort:
    """AIDS Clinical Trials Group Study 175: time to CD4 decline, AIDS or death.

    27 columns as shipped: baseline demographics and history (age, weight, haemophilia,
    homosexual activity, drug use, Karnofsky score, prior antiretrovirals, race, gender,
    symptoms), treatment arm, CD4/CD8 counts at baseline, week 20 and week 96 (cd496 missing for
    a third of the patients; ``r`` is its missingness indicator), the event indicator ``cens``
    (>= 50% CD4 decline, AIDS or death) and ``days`` to event or censoring.
    """
    from importlib.resources import files

    datasets = _lifelines_datasets()
    with (files(datasets) / "ACTG175.csv").open("rb") as fh:
        df = pd.read_csv(fh, index_col=0)
    # zprior (prior zidovudine) is 1 for every participant (an entry criterion): infer_schema
    # rightly refuses a constant column, so it goes
    df = df.drop(columns=["zprior"])
    # treatment arm and antiretroviral-history stratum are codes, not quantities: labels make
    # them categorical for every generator (integer kind would let a model interpolate arms)
    df["arms"] = df["arms"].map(_ACTG_ARMS)
    df["strat"] = df["strat"].map(_ACTG_STRAT)
    schema = sg.infer_schema(df)
    # pidnum is inferred as a direct identifier (never learned); treat, str2 and r are kept as
    # shipped although they are functions of arms, strat and cd496: real extracts carry such
    # derived columns and a generator should keep them consistent.
    # days / cens are the trial's primary endpoint: the time-to-event pair, and cens the
    # utility target
    schema = _add_roles(schema, "days", "time_to_event_time")
    schema = _add_roles(schema, "cens", "time_to_event_event", "target")
    # enrolment from age 12; weight in kg; the Karnofsky scale; days of prior antiretroviral
    # therapy; CD4 / CD8 counts per mm3; follow-up of about three and a half years
    schema = _declare_ranges(
        schema,
        {
            "age": (12, 80),
            "wtkg": (30, 200),
            "karnof": (0, 100),
            "preanti": (0, 3000),
            "cd40": (0, 2000),
            "cd420": (0, 2000),
            "cd496": (0, 2000),
            "cd80": (0, 7000),
            "cd820": (0, 7000),
            "days": (0, 1300),
        },
    )
    return BenchCohort("actg175", schema.coerce(df), schema, ("cens",))


def breast_cancer() -> BenchCohort:
    """Wisconsin diagnostic breast cancer (scikit-learn): 30 nuclear features and the diagnosis."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    # scikit-learn codes the diagnosis 0 = malignant, 1 = benign; a named boolean reads better
    frame = frame.assign(malignant=frame.pop("target") == 0)
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    schema = _add_roles(sg.infer_schema(frame), "malignant", "target")
    return BenchCohort("breast_cancer", schema.coerce(frame), schema, ("malignant",))


COHORTS: dict[str, Callable[..., BenchCohort]] = {
    "demo": demo,
    "gbsg2": gbsg2,
    "actg175": actg175,
    "breast_cancer": breast_cancer,
}


def load_cohort(name: str, *, demo_rows: int | None = None) -> BenchCohort:
    """Load a cohort by name; ``demo_rows`` sizes the demo cohort (real cohorts are used whole)."""
    if name not in COHORTS:
        raise ValueError(f"unknown cohort '{name}'; known: {', '.join(COHORTS)}")
    return demo(rows=demo_rows) if name == "demo" else COHORTS[name]()


if __name__ == "__main__":
    for cohort_name in COHORTS:
        c = load_cohort(cohort_name)
        roles = {
            role: c.schema.with_role(role)
            for role in ("direct_identifier", "target", "time_to_event_time", "time_to_event_event")
        }
        kinds = pd.Series(c.schema.kinds)[c.schema.model_columns].value_counts().to_dict()
        print(f"{c.name}: {len(c.data)} rows, learned kinds {kinds}, roles {roles}")
