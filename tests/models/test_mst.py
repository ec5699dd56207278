"""MST: learns dependence at large ε, loses it at tiny ε, and keeps its budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.schema import Schema
from synthgen.errors import ParameterError
from synthgen.models.dp.accounting import rho_for_epsilon
from synthgen.models.dp.mst import MST
from synthgen.models.registry import generator_class

LEVEL = {"a": 1, "b": 2, "c": 3}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """4,000 rows: ``grade`` follows ``group`` 90% of the time; ``value`` is independent."""
    rng = np.random.default_rng(0)
    n = 4_000
    group = rng.choice(list(LEVEL), n, p=[0.5, 0.3, 0.2])
    grade = np.array([LEVEL[g] for g in group])
    flip = rng.random(n) < 0.1
    grade[flip] = rng.integers(1, 4, flip.sum())
    value = rng.normal(50, 10, n).round(1)
    value[rng.random(n) < 0.3] = np.nan
    return pd.DataFrame({"group": group.astype(object), "grade": grade, "value": value})


@pytest.fixture(scope="module")
def schema(frame: pd.DataFrame) -> Schema:
    return sg.infer_schema(frame)


def _agreement(df: pd.DataFrame) -> float:
    level = pd.to_numeric(df["group"].map(LEVEL), errors="coerce").to_numpy(float)
    grade = pd.to_numeric(df["grade"], errors="coerce").to_numpy(float, na_value=np.nan)
    return float(np.mean(level == grade))  # a missing value never agrees


def test_learns_dependence_at_large_epsilon(frame, schema) -> None:
    gen = MST(epsilon=20.0, seed=0).fit(frame, schema)
    out = gen.sample(4_000, seed=1)
    assert _agreement(frame) == pytest.approx(0.93, abs=0.02)
    assert _agreement(out) == pytest.approx(_agreement(frame), abs=0.05)
    # the tree links the two dependent columns
    assert (0, 1) in gen.tree_.edges or (1, 0) in gen.tree_.edges
    # marginals and missingness are close too
    assert out["group"].value_counts(normalize=True)["a"] == pytest.approx(0.5, abs=0.05)
    assert out["value"].isna().mean() == pytest.approx(0.3, abs=0.05)
    assert out["value"].mean() == pytest.approx(frame["value"].mean(), abs=2.0)


def test_loses_dependence_at_tiny_epsilon(frame, schema) -> None:
    out = MST(epsilon=0.01, seed=0).fit(frame, schema).sample(4_000, seed=1)
    assert _agreement(out) < 0.6


def test_same_seed_same_rows_and_fit_is_seeded(frame, schema) -> None:
    a = MST(epsilon=1.0, seed=3).fit(frame, schema)
    b = MST(epsilon=1.0, seed=3).fit(frame, schema)
    pd.testing.assert_frame_equal(a.sample(300, seed=5), b.sample(300, seed=5))
    c = MST(epsilon=1.0, seed=4).fit(frame, schema)
    assert not a.sample(300, seed=5).equals(c.sample(300, seed=5))


def test_privacy_budget_report(frame, schema) -> None:
    gen = MST(epsilon=0.5, delta=1e-7, seed=0).fit(frame, schema)
    pb = gen.privacy_budget_
    assert json.loads(json.dumps(pb)) == pb
    assert pb["epsilon"] == 0.5 and pb["delta"] == 1e-7
    assert pb["mechanism"] == "MST (zCDP)"
    assert pb["accountant"] == "zCDP (Canonne-Kamath-Steinke conversion)"
    # 'group' needs estimated categories: a quarter of δ is reserved for the threshold
    assert pb["delta_reserved"] == pytest.approx(0.25e-7)
    assert pb["rho"] == pytest.approx(rho_for_epsilon(epsilon=0.5, delta=0.75e-7))
    assert sum(s["rho"] for s in pb["spent"]) == pytest.approx(pb["rho"])
    assert pb["epsilon_spent"] == pytest.approx(0.5) and pb["epsilon_spent"] <= 0.5
    whats = [s["what"] for s in pb["spent"]]
    assert [w.split(" ")[0] for w in whats] == [
        "categories",
        "bounds",
        "bounds",
        "1-way",
        "tree",
        "2-way",
    ]
    domain_rho = sum(s["rho"] for s in pb["spent"][:3])
    assert domain_rho == pytest.approx(0.1 * pb["rho"])  # domain_share


def test_fully_declared_schema_spends_everything_on_the_model(frame, schema) -> None:
    declared = (
        schema.update("group", categories=("a", "b", "c"))
        .update("grade", bounds=(1.0, 3.0))
        .update("value", bounds=(0.0, 100.0))
    )
    gen = MST(epsilon=1.0, seed=0).fit(frame, declared)
    pb = gen.privacy_budget_
    assert pb["delta_reserved"] == 0.0
    assert [s["what"].split(" ")[0] for s in pb["spent"]] == ["1-way", "tree", "2-way"]
    assert [d.source for d in gen.domains_] == ["declared"] * 3


def test_values_outside_declared_bounds_are_clipped(frame, schema) -> None:
    data = frame.copy()
    data.loc[:200, "value"] = 1_000.0
    declared = schema.update("value", bounds=(0.0, 100.0))
    out = MST(epsilon=50.0, seed=0).fit(data, declared).sample(3_000, seed=0)
    assert out["value"].max() <= 100.0
    assert (out["value"] > 96.875).mean() > 0.03  # the clipped records sit in the top cell


def test_unknown_category_is_sampled_as_missing(frame, schema) -> None:
    declared = schema.update("group", categories=("a", "b"))  # 'c' (20%) is not declared
    out = MST(epsilon=50.0, seed=0).fit(frame, declared).sample(4_000, seed=0)
    assert set(out["group"].dropna()) <= {"a", "b"}
    assert out["group"].isna().mean() == pytest.approx(0.2, abs=0.04)


def test_save_load_round_trip_uses_no_pickle(frame, schema, tmp_path: Path) -> None:
    gen = MST(epsilon=1.0, seed=0).fit(frame, schema)
    path = gen.save(tmp_path / "model")
    assert sorted(p.name for p in (path / "state").iterdir()) == ["mst.json", "tree.npz"]
    with np.load(path / "state" / "tree.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    loaded = sg.load_generator(path)
    assert loaded.privacy_budget_ == gen.privacy_budget_
    pd.testing.assert_frame_equal(loaded.sample(500, seed=2), gen.sample(500, seed=2))


def test_output_dtypes_are_nullable(frame, schema) -> None:
    out = MST(epsilon=1.0, seed=0).fit(frame, schema).sample(50, seed=0)
    assert out.dtypes.astype(str).to_dict() == {
        "group": "object",
        "grade": "Int64",
        "value": "float64",
    }


def test_single_column_and_registry(frame) -> None:
    one = frame[["grade"]]
    gen = sg.create_generator("mst", epsilon=50.0).fit(one)
    out = gen.sample(1_000, seed=0)
    assert set(out["grade"].dropna()) <= {1, 2, 3}
    assert [s["what"].split(" ")[0] for s in gen.privacy_budget_["spent"]] == ["bounds", "1-way"]
    assert generator_class("mst") is MST and MST.supports_dp


def test_large_samples_cross_chunks(frame, schema) -> None:
    gen = MST(epsilon=1.0, seed=0).fit(frame, schema)
    out = gen.sample(60_000, seed=0)  # two chunks of the base sampler
    assert len(out) == 60_000 and out.index.is_unique
    assert (
        not out.iloc[:50_000]
        .reset_index(drop=True)
        .equals(out.iloc[10_000:].reset_index(drop=True))
    )


def test_membership_audit_at_epsilon_one_finds_nothing() -> None:
    """At ε = 1 on the demo cohort, both membership attacks sit within 0.5 ± 0.05."""
    from synthgen.data.infer import infer_schema
    from synthgen.datasets import demo_cohort
    from synthgen.evaluation.privacy.density import density_attack
    from synthgen.evaluation.privacy.similarity import distance_attack

    df = demo_cohort(3000, seed=4)
    demo_schema = infer_schema(df)
    data = demo_schema.coerce(df)
    train, holdout = data.iloc[:2400], data.iloc[2400:]
    synthetic = MST(epsilon=1.0, seed=0).fit(train, demo_schema).sample(len(train), seed=0)
    for attack in (distance_attack, density_attack):
        result = attack(
            train=train, holdout=holdout, synthetic=synthetic, schema=demo_schema, seed=0, n_boot=20
        )
        assert abs(result.auc - 0.5) <= 0.05, attack.__name__


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"epsilon": 0}, "epsilon must be a positive number"),
        ({"delta": 1.0}, "delta must be a number between 0 and 1"),
        ({"bins": 1}, "bins must be an integer of at least 2"),
        ({"max_categories": 0}, "max_categories must be a positive integer"),
        ({"domain_share": 1.0}, "domain_share must be between 0 and 1"),
        ({"seed": "x"}, "seed must be an integer"),
    ],
)
def test_bad_parameters(frame, params: dict, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment):
        MST(**params).fit(frame)
