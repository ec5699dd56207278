"""Data shared by the privacy-measure tests: one calibration cohort, built once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen as sg


@pytest.fixture(scope="session")
def cohort():
    """Demo cohort of 3,000 split 50/50 (train | holdout), a fresh draw of 1,500, the schema."""
    real = sg.datasets.demo_cohort(3000, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    fresh = schema.coerce(sg.datasets.demo_cohort(1500, seed=99))
    return split.train, split.holdout, fresh, schema


def _noisy_copy(train: pd.DataFrame, schema: sg.Schema, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = train.copy()
    for col in schema.model_columns:
        if schema[col].kind == "numeric":
            values = out[col].to_numpy(dtype=float, na_value=np.nan)
            out[col] = values + rng.normal(0, 0.02 * np.nanstd(values), len(values))
    return out


@pytest.fixture(scope="session")
def noisy_copy():
    """``noisy_copy(train, schema, seed)``: the training rows with 2%-sd noise on numerics."""
    return _noisy_copy
