"""Fixtures for the end-to-end CLI tests.

The CLI runs in a subprocess (``python -m synthgen.cli``), so exit codes, the one-line error
contract and the absence of tracebacks are checked exactly as a custodian would see them.
One small cohort and one trained model are built per session and shared by many tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from _cli import RARE_COLUMNS, CliResult, assert_ok, run_synthgen

import synthgen as sg


@pytest.fixture(scope="session")
def cli_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The custodian key file every CLI subprocess of this session uses."""
    return tmp_path_factory.mktemp("cli-key") / "custodian.key"


@pytest.fixture(autouse=True)
def _cli_key_env(cli_key: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep in-process calls away from the real key too (harmless next to tests/conftest.py)."""
    monkeypatch.setenv("SYNTHGEN_KEY_FILE", str(cli_key))


@pytest.fixture(scope="session")
def synthgen_cli(cli_key: Path) -> Callable[..., CliResult]:
    """Run the CLI with the session's custodian key: ``synthgen_cli("models", "--json")``."""

    def run(
        *args: object,
        key_file: Path | None = None,
        cwd: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> CliResult:
        return run_synthgen(list(args), key_file=key_file or cli_key, cwd=cwd, extra_env=extra_env)

    return run


@pytest.fixture(scope="session")
def cohort_frame() -> pd.DataFrame:
    """400 simulated records (seed 5) without the ultra-rare condition columns."""
    return sg.datasets.demo_cohort(400, seed=5).drop(columns=list(RARE_COLUMNS))


@pytest.fixture(scope="session")
def cli_data(tmp_path_factory: pytest.TempPathFactory, cohort_frame: pd.DataFrame) -> Path:
    """The session cohort as a CSV file."""
    path = tmp_path_factory.mktemp("cli-data") / "cohort.csv"
    cohort_frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def cli_schema(cli_data: Path, synthgen_cli: Callable[..., CliResult]) -> Path:
    """The schema YAML written by ``synthgen inspect``."""
    path = cli_data.parent / "schema.yaml"
    result = synthgen_cli("inspect", cli_data, "-o", path)
    assert_ok(result)
    return path


@pytest.fixture(scope="session")
def cli_model(
    tmp_path_factory: pytest.TempPathFactory,
    cli_data: Path,
    cli_schema: Path,
    synthgen_cli: Callable[..., CliResult],
) -> Path:
    """A Gaussian-copula model directory trained through the CLI (do not modify it)."""
    path = tmp_path_factory.mktemp("cli-model") / "model"
    result = synthgen_cli(
        "train",
        cli_data,
        "--schema",
        cli_schema,
        "-m",
        "gaussian_copula",
        "-p",
        "default_distribution=norm",
        "-o",
        path,
    )
    assert_ok(result)
    return path
