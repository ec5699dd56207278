"""End to end: inspect, models, train, sample and demo through the ``synthgen`` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from _cli import assert_ok

MODEL_FILES = ("model.json", "schema.yaml", "integrity.json", "holdout_rows.npy")
KNOWN_MODELS = ("gaussian_copula", "ctgan", "tvae", "copula_gan")


def _real_identifier_values(frame: pd.DataFrame) -> list[str]:
    """A few real identifier cell values that must never be printed."""
    values = []
    for column in ("nhs_number", "name", "postcode"):
        values += [str(v) for v in frame[column].dropna().iloc[:5]]
    return values


# ------------------------------------------------------------------ inspect
def test_inspect_writes_schema_and_prints_table(cli_data, synthgen_cli, cohort_frame, tmp_path):
    out = tmp_path / "schema.yaml"
    result = synthgen_cli("inspect", cli_data, "-o", out)
    assert_ok(result)
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["kind"] == "synthgen.schema"
    assert list(doc["columns"]) == list(cohort_frame.columns)
    assert doc["columns"]["nhs_number"]["role"] == "direct_identifier"
    assert "400 records" in result.stdout
    assert "Schema written to" in result.stdout
    for real in _real_identifier_values(cohort_frame):
        assert real not in result.output


def test_inspect_json_parses_and_holds_no_identifier_values(cli_data, synthgen_cli, cohort_frame):
    result = synthgen_cli("inspect", cli_data, "--json", "--reasons")
    assert_ok(result)
    doc = json.loads(result.stdout)
    assert doc["rows"] == len(cohort_frame)
    assert set(doc["schema"]["columns"]) == set(cohort_frame.columns)
    assert [p["name"] for p in doc["profile"]] == list(cohort_frame.columns)
    for real in _real_identifier_values(cohort_frame):
        assert real not in result.output


def test_inspect_reasons_never_quote_identifiers(cli_data, synthgen_cli, cohort_frame):
    result = synthgen_cli("inspect", cli_data, "--reasons")
    assert_ok(result)
    assert "nhs_number" in result.stdout
    for real in _real_identifier_values(cohort_frame):
        assert real not in result.output


# ------------------------------------------------------------------- models
def test_models_lists_the_registered_generators(synthgen_cli):
    result = synthgen_cli("models")
    assert_ok(result)
    names = [line.split()[0] for line in result.stdout.splitlines() if line[:1].strip()]
    for name in KNOWN_MODELS:
        assert name in names


def test_models_json(synthgen_cli):
    result = synthgen_cli("models", "--json")
    assert_ok(result)
    doc = json.loads(result.stdout)
    assert set(KNOWN_MODELS) <= set(doc)
    assert all(isinstance(v, str) and v for v in doc.values())


def test_help_exits_zero(synthgen_cli):
    result = synthgen_cli("--help")
    assert_ok(result)
    for command in ("inspect", "models", "train", "sample", "demo"):
        assert command in result.stdout


# -------------------------------------------------------------------- train
def test_train_writes_a_signed_model_directory(cli_model, cohort_frame):
    for name in MODEL_FILES:
        assert (cli_model / name).is_file(), name
    assert (cli_model / "state").is_dir()
    doc = json.loads((cli_model / "model.json").read_text(encoding="utf-8"))
    assert doc["generator"] == "gaussian_copula"
    assert doc["params"]["default_distribution"] == "norm"
    rows = np.load(cli_model / "holdout_rows.npy")
    n = len(cohort_frame)
    assert len(rows) == round(0.2 * n)
    assert len(set(rows.tolist())) == len(rows)
    assert rows.min() >= 0 and rows.max() < n
    assert doc["split"]["n_holdout"] == len(rows)
    assert doc["split"]["n_train"] == n - len(rows)
    integrity = json.loads((cli_model / "integrity.json").read_text(encoding="utf-8"))
    assert "model.json" in integrity["files"]
    assert "state/synthesizer.pkl" in integrity["files"]
    leftover = [p.name for p in cli_model.parent.iterdir() if p.name != "model"]
    assert leftover == []


def test_train_holdout_and_params_file(cli_data, cli_schema, synthgen_cli, tmp_path, cohort_frame):
    params = tmp_path / "params.yaml"
    params.write_text("default_distribution: uniform\nenforce_rounding: false\n", encoding="utf-8")
    out = tmp_path / "m30"
    args = ["--params", params, "-p", "enforce_rounding=true", "--holdout", "0.3"]
    result = synthgen_cli("train", cli_data, "--schema", cli_schema, *args, "-o", out)
    assert_ok(result)
    n = len(cohort_frame)
    assert len(np.load(out / "holdout_rows.npy")) == round(0.3 * n)
    assert f"({round(0.3 * n)} held out)" in result.stdout
    doc = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert doc["split"]["holdout_fraction"] == 0.3
    assert doc["params"]["default_distribution"] == "uniform"
    assert doc["params"]["enforce_rounding"] is True  # --param wins over the file


def test_train_ctgan_with_params(cli_data, cli_schema, synthgen_cli, tmp_path):
    out = tmp_path / "ctgan"
    args = ["--param", "epochs=1", "--param", "batch_size=50", "--param", "pac=5"]
    result = synthgen_cli(
        "train", cli_data, "--schema", cli_schema, "-m", "ctgan", *args, "-o", out
    )
    assert_ok(result)
    assert "Trained ctgan" in result.stdout
    doc = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert doc["generator"] == "ctgan"
    got = doc["params"]
    assert (got["epochs"], got["batch_size"], got["pac"]) == (1, 50, 5)
    assert (out / "state").is_dir() and (out / "integrity.json").is_file()


def test_train_overwrite_replaces_the_model(
    cli_data, cli_schema, cli_model, synthgen_cli, tmp_path
):
    out = tmp_path / "m"
    shutil.copytree(cli_model, out)
    (out / "stale.txt").write_text("from before\n", encoding="utf-8")
    first = json.loads((out / "model.json").read_text(encoding="utf-8"))
    args = ["-p", "default_distribution=norm", "--holdout", "0.25", "--overwrite"]
    result = synthgen_cli("train", cli_data, "--schema", cli_schema, *args, "-o", out)
    assert_ok(result)
    second = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert first["split"]["holdout_fraction"] == 0.2
    assert second["split"]["holdout_fraction"] == 0.25
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


# ------------------------------------------------------------------- sample
def _check_synthetic(df: pd.DataFrame, n: int, schema: Path, real: pd.DataFrame) -> None:
    assert len(df) == n
    columns = yaml.safe_load(schema.read_text(encoding="utf-8"))["columns"]
    expected = [name for name, spec in columns.items() if spec.get("handling") != "drop"]
    assert list(df.columns) == expected
    assert "date_of_birth" not in df.columns and "clinical_note" not in df.columns
    for column in ("patient_id", "nhs_number"):  # faked: present and never a real value
        assert df[column].notna().all()
        assert not set(df[column].astype(str)) & set(real[column].astype(str))


def test_sample_parquet(cli_model, cli_schema, synthgen_cli, tmp_path, cohort_frame):
    out = tmp_path / "synthetic.parquet"
    result = synthgen_cli("sample", cli_model, "-n", 250, "--seed", 7, "-o", out)
    assert_ok(result)
    assert "250" in result.stdout
    _check_synthetic(pd.read_parquet(out), 250, cli_schema, cohort_frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def test_sample_csv_same_seed_same_bytes(
    cli_model, cli_schema, synthgen_cli, tmp_path, cohort_frame
):
    """Same seed, same file, whatever the process (each run gets its own hash seed)."""
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    for path, seed, hash_seed in ((a, 7, "1"), (b, 7, "2"), (c, 8, "1")):
        args = ["-n", 250, "--seed", seed, "-o", path]
        result = synthgen_cli("sample", cli_model, *args, extra_env={"PYTHONHASHSEED": hash_seed})
        assert_ok(result)
    _check_synthetic(pd.read_csv(a), 250, cli_schema, cohort_frame)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv", "c.csv"]


def test_sample_where_conditions(cli_model, synthgen_cli, tmp_path):
    out = tmp_path / "old_women.csv"
    result = synthgen_cli(
        "sample",
        cli_model,
        "-n",
        60,
        "--seed",
        1,
        "--where",
        "sex=F",
        "--where",
        "age>=70",
        "-o",
        out,
    )
    assert_ok(result)
    df = pd.read_csv(out)
    assert len(df) == 60
    assert (df["sex"] == "F").all()
    assert (df["age"] >= 70).all()


def test_train_then_sample_is_reproducible_across_processes(
    cli_data, cli_schema, synthgen_cli, tmp_path
):
    """Same data and seed, two runs of the command (each with its own hash seed): same rows."""
    outputs = []
    for hash_seed in ("1", "2"):
        model, csv = tmp_path / f"m{hash_seed}", tmp_path / f"s{hash_seed}.csv"
        env = {"PYTHONHASHSEED": hash_seed}
        trained = synthgen_cli(
            "train",
            cli_data,
            "--schema",
            cli_schema,
            "-p",
            "default_distribution=norm",
            "-o",
            model,
            extra_env=env,
        )
        assert_ok(trained)
        assert_ok(synthgen_cli("sample", model, "-n", 100, "--seed", 3, "-o", csv, extra_env=env))
        outputs.append(csv.read_bytes())
    assert outputs[0] == outputs[1]


# --------------------------------------------------------------------- demo
def test_demo_runs_and_reruns_into_its_own_folder(synthgen_cli, tmp_path):
    out = tmp_path / "demo"
    names = ("cohort.csv", "schema.yaml", "model", "synthetic.csv", "evaluation")
    for run in range(2):  # the second run replaces the first run's outputs
        result = synthgen_cli("demo", "-o", "demo", "-n", 300, cwd=tmp_path)
        assert_ok(result)
        for name in names:
            assert (out / name).exists(), name
            assert f"demo/{name}" in result.stdout, name
        assert "Fidelity" in result.stdout
        if run == 0:
            (out / "synthetic.csv").write_text("stale\n", encoding="utf-8")
            (out / "extra.txt").write_text("from an earlier demo\n", encoding="utf-8")
    assert len(pd.read_csv(out / "synthetic.csv")) == 240  # as many records as trained on
    assert not (out / "extra.txt").exists()
    report = json.loads((out / "evaluation" / "report.json").read_text(encoding="utf-8"))
    quality = report["fidelity"]["quality_report"]
    assert 0 < quality["synthetic_vs_train"]["overall"] <= 1
    assert report["fidelity"]["utility"]["targets"]["hypertension"]
    assert len(report["fidelity"]["validity"]["checks"]["rule"]) == 3
    assert "Utility: a model of hypertension" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_demo_refuses_a_foreign_folder(synthgen_cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me", encoding="utf-8")
    result = synthgen_cli("demo", "-o", out, "-n", 300)
    assert result.returncode == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
    assert (out / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
