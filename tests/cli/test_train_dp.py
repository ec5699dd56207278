"""The privacy budget end to end: ``train --epsilon``, the model directory, evaluate, release.

The real DP generators are slow to train; a test double stands in for them: a Gaussian copula
that declares ``supports_dp`` and records the budget it was given (it is not private). The CLI
runs in a subprocess that registers the double first (:data:`BOOT`), so exit codes and the
one-line error contract are checked as a custodian sees them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _cli import ANSI, CliResult, assert_ok, assert_one_line_error, cli_env

from synthgen.models.registry import register_generator
from synthgen.models.sdv_adapters import GaussianCopula


class DPCopula(GaussianCopula):
    """Test double: a Gaussian copula that records the (ε, δ) it was given as its budget."""

    name = "test_dp_copula"
    summary = "test only: a Gaussian copula that records a DP budget (it is not private)"
    supports_dp = True

    def __init__(
        self,
        *,
        epsilon: float | None = None,
        delta: float = 1e-6,
        default_distribution: str = "norm",
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        seed: int = 0,
    ):
        super().__init__(
            default_distribution=default_distribution,
            enforce_min_max_values=enforce_min_max_values,
            enforce_rounding=enforce_rounding,
            seed=seed,
        )
        self.epsilon = epsilon
        self.delta = delta

    def _sdv_kwargs(self) -> dict[str, Any]:
        kwargs = super()._sdv_kwargs()
        kwargs.pop("epsilon")
        kwargs.pop("delta")
        return kwargs

    def _fit(self, data, progress) -> None:
        super()._fit(data, progress)
        if self.epsilon is not None:
            self.privacy_budget_ = {
                "epsilon": float(self.epsilon),
                "delta": float(self.delta),
                "mechanism": "test double",
                "accountant": "none",
            }


register_generator(DPCopula.name, DPCopula)

# the CLI with the double registered: python -c BOOT ARGS...
HERE = str(Path(__file__).parent)
BOOT = (
    f"import sys; sys.path.insert(0, {HERE!r}); import test_train_dp; "
    "from synthgen.cli import main; sys.argv = ['synthgen', *sys.argv[1:]]; main()"
)

POLICY = """\
kind: synthgen.policy
format_version: 1
name: {name}
extends: internal
differential_privacy:
  required: true
  max_epsilon: {cap}
"""


@pytest.fixture(scope="module")
def dp_cli(cli_key):
    """Run the CLI (with the DP double registered) as ``dp_cli("train", ...)``."""

    def run(*args: object) -> CliResult:
        proc = subprocess.run(
            [sys.executable, "-c", BOOT, *map(str, args)],
            env=cli_env(cli_key),
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        return CliResult(proc.returncode, ANSI.sub("", proc.stdout), ANSI.sub("", proc.stderr))

    return run


@pytest.fixture(scope="module")
def dp_trained(dp_cli, cli_data, cli_schema, tmp_path_factory) -> tuple[Path, CliResult]:
    """A model directory of the double trained with ``--epsilon 1`` (δ left to the default)."""
    path = tmp_path_factory.mktemp("dp") / "model"
    result = dp_cli(
        "train", cli_data, "-s", cli_schema, "-m", DPCopula.name, "--epsilon", 1, "-o", path
    )
    return path, result


@pytest.fixture(scope="module")
def policies(tmp_path_factory) -> dict[str, Path]:
    """Policies requiring DP with ε capped at 2 and at 0.5."""
    folder = tmp_path_factory.mktemp("dp-policies")
    out = {}
    for name, cap in (("dp-cap-2", 2), ("dp-cap-half", 0.5)):
        out[name] = folder / f"{name}.yaml"
        out[name].write_text(POLICY.format(name=name, cap=cap), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def keys(synthgen_cli, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dp-release") / "keys"
    assert_ok(synthgen_cli("keygen", "-o", folder))
    return folder


# -------------------------------------------------------------------------- train
def test_models_marks_the_dp_capable_generators(dp_cli):
    result = dp_cli("models")
    assert_ok(result)
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line[:1].strip()}
    assert " DP " in lines[DPCopula.name]
    assert " DP " not in lines["gaussian_copula"]
    assert "--epsilon" in result.stdout


def test_train_with_epsilon_records_the_budget_in_the_signed_model(dp_trained):
    path, result = dp_trained
    assert_ok(result)
    assert "Privacy budget spent: ε = 1, δ = 1e-6 (test double, none)" in result.stdout
    doc = json.loads((path / "model.json").read_text(encoding="utf-8"))
    assert doc["privacy_budget"] == {
        "epsilon": 1.0,
        "delta": 1e-6,
        "mechanism": "test double",
        "accountant": "none",
    }
    assert doc["params"]["epsilon"] == 1.0 and doc["params"]["delta"] == 1e-6


def test_delta_is_passed_through(dp_cli, cli_data, cli_schema, tmp_path):
    out = tmp_path / "model"
    args = ("-s", cli_schema, "-m", DPCopula.name, "-o", out)
    result = dp_cli("train", cli_data, *args, "--epsilon", 0.5, "--delta", 1e-7)
    assert_ok(result)
    budget = json.loads((out / "model.json").read_text(encoding="utf-8"))["privacy_budget"]
    assert budget["epsilon"] == 0.5 and budget["delta"] == 1e-7
    assert "ε = 0.5, δ = 1e-7" in result.stdout


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            ("-m", "gaussian_copula", "--epsilon", "1"),
            "model 'gaussian_copula' cannot train under differential privacy",
        ),
        (("-m", DPCopula.name, "--epsilon", "1", "-p", "epsilon=2"), "epsilon given twice"),
        (("-m", DPCopula.name, "--delta", "1e-6"), "give --epsilon with it"),
        (("-m", DPCopula.name, "--epsilon", "-1"), "--epsilon must be a positive number"),
        (("-m", DPCopula.name, "--epsilon", "1", "--delta", "1"), "--delta must be a number"),
        # 320 training records: delta must be well below 1/320
        (("-m", DPCopula.name, "--epsilon", "1", "--delta", "0.01"), "not below 1/n = 1/320"),
    ],
)
def test_bad_budgets_are_one_line_errors_and_write_nothing(
    dp_cli, cli_data, cli_schema, tmp_path, extra, expected
):
    out = tmp_path / "model"
    line = assert_one_line_error(dp_cli("train", cli_data, "-s", cli_schema, *extra, "-o", out))
    assert expected in line
    if "gaussian_copula" in extra:
        assert DPCopula.name in line  # names the models that can
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name != "model"]


def test_a_hand_edited_epsilon_is_refused_as_tampered(dp_trained, dp_cli, tmp_path):
    path, result = dp_trained
    assert_ok(result)
    copy = tmp_path / "model"
    shutil.copytree(path, copy)
    doc = json.loads((copy / "model.json").read_text(encoding="utf-8"))
    doc["privacy_budget"]["epsilon"] = 0.1  # a smaller claim than was spent
    (copy / "model.json").write_text(json.dumps(doc), encoding="utf-8")
    line = assert_one_line_error(dp_cli("sample", copy, "-n", 10, "-o", tmp_path / "s.csv"))
    assert "model.json" in line and "refusing to load" in line
    assert not (tmp_path / "s.csv").exists()


# ----------------------------------------------------------------------- evaluate
def test_evaluate_reports_the_budget(dp_trained, dp_cli, tmp_path):
    path, result = dp_trained
    assert_ok(result)
    assert_ok(dp_cli("sample", path, "-n", 200, "-o", tmp_path / "syn.csv"))
    evaluated = dp_cli("evaluate", path, "--synthetic", tmp_path / "syn.csv", "-o", tmp_path / "r")
    assert_ok(evaluated)
    assert "Differential privacy: ε = 1, δ = 1e-6 (test double, none)" in evaluated.stdout
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    section = report["privacy"]["differential_privacy"]
    assert section["private"] is True and section["epsilon"] == 1.0
    assert section["delta"] == 1e-6 and section["mechanism"] == "test double"


# ------------------------------------------------------------------------ release
def test_release_under_a_dp_cap_records_and_verifies_the_budget(
    dp_trained, dp_cli, policies, keys, tmp_path
):
    path, result = dp_trained
    assert_ok(result)
    bundle = tmp_path / "bundle"
    key = ("--key", keys / "signing_key.pem")
    released = dp_cli(
        "release", path, "--policy", policies["dp-cap-2"], "-n", 200, "-o", bundle, *key
    )
    assert_ok(released)
    assert "RELEASED" in released.stdout
    (row,) = [r for r in released.stdout.splitlines() if "differential_privacy" in r]
    assert re.search(r"epsilon\W+1\W+<= 2\W+pass", row), row
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["provenance"]["privacy_budget"]["epsilon"] == 1.0
    assert manifest["provenance"]["privacy_budget"]["delta"] == 1e-6
    line = "ε = 1, δ = 1e-6 (test double, none)"
    html = (bundle / "report.html").read_text(encoding="utf-8")
    assert f"<strong>Differential privacy:</strong> {line}" in html
    assert "<script" not in html.lower()
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert report["report"]["privacy"]["differential_privacy"]["epsilon"] == 1.0
    public = ("--key", keys / "signing_key.pub.pem")
    verified = dp_cli("verify", bundle, *public)
    assert_ok(verified)
    assert f"Differential privacy: {line}" in verified.stdout
    as_json = json.loads(dp_cli("verify", bundle, *public, "--json").stdout)
    assert as_json["ok"] is True and as_json["privacy_budget"]["epsilon"] == 1.0


def test_an_epsilon_over_the_cap_blocks_the_release(dp_trained, dp_cli, policies):
    path, result = dp_trained
    assert_ok(result)
    blocked = dp_cli("release", path, "--policy", policies["dp-cap-half"], "-n", 200, "--dry-run")
    assert blocked.returncode == 2, blocked.output
    assert "differential_privacy (epsilon 1 is not <= 0.5)" in " ".join(blocked.stdout.split())


def test_a_model_without_dp_is_blocked_by_a_policy_requiring_it(cli_model, synthgen_cli, policies):
    blocked = synthgen_cli(
        "release", cli_model, "--policy", policies["dp-cap-2"], "-n", 200, "--dry-run"
    )
    assert blocked.returncode == 2, blocked.output
    text = " ".join(blocked.stdout.split())  # rich wraps long lines
    assert "differential_privacy (the model is not differentially private" in text
    assert "Differential privacy: none: empirical audit only" in text
