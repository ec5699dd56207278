"""The shadow-model attack: calibration on a copying and a fresh generator, seeding, workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.errors import InputError, UnknownModelError
from synthgen.evaluation.privacy.shadow import ShadowResult, shadow_model_attack
from synthgen.models import create_generator
from synthgen.models.base import Generator
from synthgen.models.registry import register_generator


class _CopyGenerator(Generator):
    """Memorises its training rows and returns them: a shuffled copy, repeated if needed."""

    name = "test_shadow_copy"
    summary = "test only: returns its training rows"

    def __init__(self, *, seed: int = 0):
        self.seed = seed

    def _fit(self, data: pd.DataFrame, progress: Any) -> None:
        self.rows_ = data.reset_index(drop=True)

    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        reps = -(-n // len(self.rows_))
        order = np.concatenate([rng.permutation(len(self.rows_)) for _ in range(reps)])[:n]
        return self.rows_.iloc[order].reset_index(drop=True)

    def _save_state(self, directory: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
        raise NotImplementedError


class _NoisyCopyGenerator(_CopyGenerator):
    """Returns its training rows with Gaussian noise of 5% of a standard deviation on numbers."""

    name = "test_shadow_noisy_copy"
    summary = "test only: returns its training rows, slightly perturbed"

    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        out = super()._sample_model(n, seed)
        rng = np.random.default_rng([seed, 1])
        for col in out.columns:
            if pd.api.types.is_float_dtype(out[col]):
                values = out[col].to_numpy(dtype=float, na_value=np.nan)
                out[col] = values + rng.normal(0, 0.05 * np.nanstd(values), len(values))
        return out


class _FreshGenerator(Generator):
    """Ignores its training rows; samples a fixed, independent draw of the demo simulator."""

    name = "test_shadow_fresh"
    summary = "test only: fresh rows from the true distribution"
    _pool: pd.DataFrame | None = None

    def __init__(self, *, seed: int = 0):
        self.seed = seed

    @classmethod
    def pool(cls, columns: list[str]) -> pd.DataFrame:
        if cls._pool is None:
            real = sg.datasets.demo_cohort(3000, seed=99)
            cls._pool = sg.infer_schema(real).coerce(real)
        return cls._pool[columns]

    def _fit(self, data: pd.DataFrame, progress: Any) -> None:
        self.model_columns_ = list(data.columns)

    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        pool = self.pool(self.model_columns_)
        rows = np.random.default_rng(seed).integers(0, len(pool), size=n)
        return pool.iloc[rows].reset_index(drop=True)

    def _save_state(self, directory: Path) -> dict[str, Any]:
        raise NotImplementedError

    def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
        raise NotImplementedError


register_generator(_CopyGenerator.name, _CopyGenerator)
register_generator(_NoisyCopyGenerator.name, _NoisyCopyGenerator)
register_generator(_FreshGenerator.name, _FreshGenerator)

SMALL = {"n_targets": 5, "n_controls": 3, "n_shadows": 6}


@pytest.fixture(scope="module")
def cohort() -> tuple[pd.DataFrame, pd.DataFrame, sg.Schema]:
    real = sg.datasets.demo_cohort(600, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    return split.train, split.holdout, schema


def _attack(cohort, name: str, *, seed: int = 0, n_jobs: int = 1, **kw: Any) -> ShadowResult:
    train, holdout, schema = cohort
    gen = create_generator(name).fit(train, schema)
    synthetic = gen.sample(len(train), seed=7)
    kw = {**SMALL, **kw}
    return shadow_model_attack(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        generator_name=name,
        generator_params=gen.get_params(),
        seed=seed,
        n_jobs=n_jobs,
        **kw,
    )


@pytest.fixture(scope="module")
def copy_result(cohort) -> ShadowResult:
    return _attack(cohort, _CopyGenerator.name)


@pytest.fixture(scope="module")
def fresh_result(cohort) -> ShadowResult:
    # More targets than the copy test: under the null the AUC of 8 against 8 scores has a
    # standard deviation of about 0.15; with 15 against 15 it is about 0.11.
    return _attack(cohort, _FreshGenerator.name, n_targets=10, n_controls=5)


def test_copying_generator_is_caught(copy_result: ShadowResult) -> None:
    assert copy_result.attack.name == "shadow_model"
    assert copy_result.attack.auc >= 0.9
    assert copy_result.attack.n_members == copy_result.attack.n_nonmembers == 8
    assert copy_result.shadow_accuracy >= 0.8


def test_noisy_copying_generator_is_caught(cohort) -> None:
    result = _attack(cohort, _NoisyCopyGenerator.name)
    assert result.attack.auc >= 0.9
    assert result.shadow_accuracy >= 0.8


def test_fresh_generator_is_not_caught(fresh_result: ShadowResult) -> None:
    auc = fresh_result.attack.auc
    assert abs(auc - 0.5) <= 0.25
    low, high = fresh_result.attack.auc_ci
    assert low <= 0.5 <= high


def test_targets_are_the_most_vulnerable_then_controls(cohort, copy_result) -> None:
    train, holdout, _ = cohort
    r = copy_result
    assert len(r.member_rows) == len(r.nonmember_rows) == 8
    assert len(set(r.member_rows.tolist())) == 8
    assert len(set(r.nonmember_rows.tolist())) == 8
    assert r.member_rows.max() < len(train) and r.nonmember_rows.max() < len(holdout)
    # vulnerable targets are ordered by vulnerability and beat every control
    top, controls = r.member_vulnerability[:5], r.member_vulnerability[5:]
    assert np.all(np.diff(top) <= 0)
    assert top.min() >= controls.max()


def test_to_dict_is_plain_json_without_cell_values(cohort, copy_result) -> None:
    train, _, schema = cohort
    d = copy_result.to_dict()
    text = json.dumps(d)
    assert d["name"] == "shadow_model"
    assert d["attack"]["auc"]["baseline"] == 0.5
    assert len(d["targets"]) == 16
    assert {t["kind"] for t in d["targets"]} == {"vulnerable", "control"}
    assert d["config"]["generator"] == _CopyGenerator.name
    # no categorical cell value of a target appears in the output
    for row in copy_result.member_rows:
        for col in ("practice_code", "region", "ethnicity"):
            assert f'"{train.loc[row, col]}"' not in text


def test_same_seed_same_result_for_any_worker_count(cohort, copy_result) -> None:
    calls: list[tuple[int, int]] = []
    again = _attack(
        cohort,
        _CopyGenerator.name,
        n_jobs=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert again.to_dict() == copy_result.to_dict()
    np.testing.assert_array_equal(again.member_scores, copy_result.member_scores)
    np.testing.assert_array_equal(again.nonmember_scores, copy_result.nonmember_scores)
    total = 2 * 8 * 6
    assert calls == [(i, total) for i in range(1, total + 1)]


def test_another_seed_gives_other_shadow_sets(cohort, copy_result) -> None:
    other = _attack(cohort, _CopyGenerator.name, seed=1, n_targets=5, n_controls=3)
    # the vulnerable targets do not depend on the seed, the random controls do
    np.testing.assert_array_equal(other.member_rows[:5], copy_result.member_rows[:5])
    assert not np.array_equal(other.member_scores, copy_result.member_scores)


def test_bad_arguments_are_reported_together(cohort) -> None:
    train, holdout, schema = cohort
    base = {
        "train": train,
        "holdout": holdout,
        "synthetic": train,
        "schema": schema,
        "generator_name": _CopyGenerator.name,
        "seed": 0,
    }
    with pytest.raises(InputError) as err:
        shadow_model_attack(**base, n_targets=0, n_shadows=5)
    assert "n_targets" in str(err.value) and "n_shadows" in str(err.value)
    with pytest.raises(InputError, match="holdout"):
        shadow_model_attack(**{**base, "holdout": holdout.iloc[:5]}, n_targets=4, n_controls=1)
    with pytest.raises(UnknownModelError, match="known models"):
        shadow_model_attack(**{**base, "generator_name": "no_such_model"})


@pytest.mark.filterwarnings("ignore")
def test_runs_on_the_gaussian_copula(cohort) -> None:
    train, holdout, schema = cohort
    gen = create_generator("gaussian_copula", default_distribution="norm").fit(train, schema)
    synthetic = gen.sample(len(train), seed=1)
    result = shadow_model_attack(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        generator_name="gaussian_copula",
        generator_params={"default_distribution": "norm"},
        n_targets=2,
        n_controls=1,
        n_shadows=4,
        seed=0,
        n_jobs=2,
    )
    assert 0.0 <= result.attack.auc <= 1.0
    assert result.attack.n_members == 3
    json.dumps(result.to_dict())
