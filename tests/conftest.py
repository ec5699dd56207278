"""Fixtures shared by the whole test suite.

Every test runs with ``SYNTHGEN_KEY_FILE`` pointing into a per-session temporary folder, so
no test reads or creates the real custodian key under ``~/.config``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import synthgen as sg


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A per-session folder for custodian keys."""
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(autouse=True)
def custodian_key_file(key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the custodian key at a session temp file (created on first use)."""
    path = key_dir / "custodian.key"
    monkeypatch.setenv("SYNTHGEN_KEY_FILE", str(path))
    return path


@pytest.fixture(scope="session")
def demo_small() -> pd.DataFrame:
    """600 rows of the demo cohort (seed 3)."""
    return sg.datasets.demo_cohort(600, seed=3)


@pytest.fixture(scope="session")
def demo_schema(demo_small: pd.DataFrame) -> sg.Schema:
    """The schema inferred from :func:`demo_small`."""
    return sg.infer_schema(demo_small)


@pytest.fixture(scope="session")
def demo_split(demo_small: pd.DataFrame, demo_schema: sg.Schema) -> sg.Split:
    """A seeded 80/20 split of the coerced demo cohort."""
    return sg.Cohort(demo_schema.coerce(demo_small)).split(0.2, seed=0)


@pytest.fixture(scope="session")
def gaussian_copula(demo_split: sg.Split, demo_schema: sg.Schema) -> sg.Generator:
    """A Gaussian copula fitted on the demo training split (fast: normal marginals)."""
    gen = sg.create_generator("gaussian_copula", default_distribution="norm", seed=0)
    return gen.fit(demo_split.train, demo_schema)
