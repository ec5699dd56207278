"""Bad input through the CLI: exit 1, one ``Error:`` line, no traceback, nothing left behind."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from _cli import assert_one_line_error, leftovers


def _base_frame(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(20, 90, n),
            "sex": rng.choice(["F", "M"], n),
            "bmi": rng.normal(27, 4, n).round(1),
        }
    )


def _write_missing(path: Path) -> None:
    """Write nothing: the file does not exist."""


def _write_xlsx(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 not really a workbook")


def _write_empty(path: Path) -> None:
    path.write_bytes(b"")


def _write_header_only(path: Path) -> None:
    path.write_text("age,sex,bmi\n", encoding="utf-8")


def _write_single_row(path: Path) -> None:
    _base_frame().head(1).to_csv(path, index=False)


def _write_all_null_column(path: Path) -> None:
    df = _base_frame()
    df["lab_result"] = np.nan
    df.to_csv(path, index=False)


def _write_constant_column(path: Path) -> None:
    df = _base_frame()
    df["site"] = "RXH01"
    df.to_csv(path, index=False)


def _write_mixed_types(path: Path) -> None:
    df = _base_frame().astype({"bmi": object})
    df.loc[[3, 10, 20, 30, 40], "bmi"] = "unknown"
    df.to_csv(path, index=False)


def _write_bad_dates(path: Path) -> None:
    df = _base_frame()
    df["visit_date"] = pd.date_range("2020-01-01", periods=len(df)).strftime("%Y-%m-%d")
    df.loc[[5, 6, 7], "visit_date"] = "not-a-date"
    df.to_csv(path, index=False)


def _write_duplicate_names(path: Path) -> None:
    rows = "\n".join(f"{20 + i},{'FM'[i % 2]},{30 + i}" for i in range(40))
    path.write_text("age,sex,age\n" + rows + "\n", encoding="utf-8")


# name, file name, writer, words the error line must hold, words it must not hold
DATA_CASES = [
    ("missing", "missing.csv", _write_missing, ["missing.csv", "does not exist"], []),
    ("xlsx", "cohort.xlsx", _write_xlsx, ["cohort.xlsx", "unsupported"], []),
    ("empty", "empty.csv", _write_empty, ["empty.csv", "empty"], []),
    ("header_only", "header.csv", _write_header_only, ["header.csv", "no rows"], []),
    ("single_row", "one.csv", _write_single_row, ["one.csv", "1 row"], []),
    ("all_null", "allnull.csv", _write_all_null_column, ["lab_result", "empty"], []),
    ("constant", "const.csv", _write_constant_column, ["site", "same value"], ["RXH01"]),
    ("mixed_types", "mixed.csv", _write_mixed_types, ["bmi", "5 of 100"], ["unknown"]),
    ("bad_dates", "dates.csv", _write_bad_dates, ["visit_date", "3 of 100"], ["not-a-date"]),
    ("duplicate_names", "dupe.csv", _write_duplicate_names, ["'age'", "2 times"], []),
]


@pytest.mark.parametrize("command", ["inspect", "train"])
@pytest.mark.parametrize(
    ("file_name", "writer", "expected", "forbidden"),
    [case[1:] for case in DATA_CASES],
    ids=[case[0] for case in DATA_CASES],
)
def test_bad_data_is_one_line_error(
    synthgen_cli, tmp_path, command, file_name, writer, expected, forbidden
):
    data = tmp_path / file_name
    writer(data)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / ("schema.yaml" if command == "inspect" else "model")
    result = synthgen_cli(command, data, "-o", out)
    line = assert_one_line_error(result)
    for word in expected:
        assert word in line
    for word in forbidden:
        assert word not in result.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert leftovers(tmp_path) == []


def test_data_errors_never_quote_real_identifiers(synthgen_cli, tmp_path, cohort_frame):
    """A numeric column holding a few names is refused without printing those names."""
    df = cohort_frame.copy()
    leaked = df["name"].iloc[:4].tolist() + df["nhs_number"].iloc[:4].tolist()
    df["age"] = df["age"].astype(object)
    df.loc[df.index[:8], "age"] = leaked
    data = tmp_path / "cohort.csv"
    df.to_csv(data, index=False)
    for command in ("inspect", "train"):
        result = synthgen_cli(command, data, "-o", tmp_path / "out")
        line = assert_one_line_error(result)
        assert "'age'" in line
        for value in leaked:
            assert value not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.csv"]


# ------------------------------------------------------------------ schemas
def test_schema_not_matching_the_data_names_every_problem(
    synthgen_cli, tmp_path, cli_data, cli_schema
):
    doc = yaml.safe_load(cli_schema.read_text(encoding="utf-8"))
    doc["columns"] = {
        ("age_years" if name == "age" else name): spec for name, spec in doc["columns"].items()
    }
    doc["columns"]["sex"]["kind"] = "numeric"
    doc["columns"]["region"]["kind"] = "integer"
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    out = tmp_path / "model"
    result = synthgen_cli("train", cli_data, "--schema", schema, "-o", out)
    line = assert_one_line_error(result)
    assert "not in the data: age_years" in line
    assert "not in the schema: age" in line
    assert "'sex'" in line and "'region'" in line
    assert "problems" in line
    assert "London" not in line  # a region value
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schema.yaml"]


@pytest.mark.parametrize(
    "text",
    [
        "kind: synthgen.schema\ncolumns: [age, {sex: \n  - : :\n",
        "just a string\n",
        "kind: synthgen.schema\nformat_version: 1\ncolumns:\n  age:\n    kind: weird\n",
    ],
    ids=["bad_yaml", "not_a_mapping", "unknown_kind"],
)
def test_malformed_schema(synthgen_cli, tmp_path, cli_data, text):
    schema = tmp_path / "schema.yaml"
    schema.write_text(text, encoding="utf-8")
    out = tmp_path / "model"
    line = assert_one_line_error(synthgen_cli("train", cli_data, "-s", schema, "-o", out))
    assert "schema.yaml" in line
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_missing_schema_file(synthgen_cli, tmp_path, cli_data):
    out = tmp_path / "model"
    result = synthgen_cli("train", cli_data, "-s", tmp_path / "nope.yaml", "-o", out)
    line = assert_one_line_error(result)
    assert "nope.yaml" in line
    assert not out.exists()


# ------------------------------------------------------- models and params
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "nosuch"], ["nosuch", "gaussian_copula", "ctgan", "tvae", "copula_gan"]),
        (["-p", "epochs"], ["epochs", "NAME=VALUE"]),
        (["-p", "=5"], ["=5", "NAME=VALUE"]),
        (["-p", "nosuch=1"], ["nosuch", "default_distribution"]),
        (["-m", "ctgan", "-p", "epochs=0"], ["epochs", "0"]),
        (["-p", "default_distribution=zipf"], ["default_distribution", "zipf"]),
        (["--params", "missing-params.yaml"], ["missing-params.yaml"]),
    ],
    ids=[
        "unknown_model",
        "param_no_equals",
        "param_no_name",
        "unknown_param",
        "epochs_zero",
        "bad_distribution",
        "missing_params_file",
    ],
)
def test_bad_model_or_parameter(synthgen_cli, tmp_path, cli_data, cli_schema, args, expected):
    out = tmp_path / "model"
    result = synthgen_cli("train", cli_data, "-s", cli_schema, *args, "-o", out, cwd=tmp_path)
    line = assert_one_line_error(result)
    for word in expected:
        assert word in line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_params_file_not_a_mapping(synthgen_cli, tmp_path, cli_data, cli_schema):
    params = tmp_path / "params.yaml"
    params.write_text("- epochs\n- 5\n", encoding="utf-8")
    out = tmp_path / "model"
    result = synthgen_cli("train", cli_data, "-s", cli_schema, "--params", params, "-o", out)
    assert "params.yaml" in assert_one_line_error(result)
    assert not out.exists()


# ------------------------------------------------------------- overwriting
def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_train_refuses_an_existing_model_dir(
    synthgen_cli, tmp_path, cli_data, cli_schema, cli_model
):
    out = tmp_path / "model"
    shutil.copytree(cli_model, out)
    before = _snapshot(out)
    result = synthgen_cli("train", cli_data, "-s", cli_schema, "-o", out)
    line = assert_one_line_error(result)
    assert "already exists" in line and "--overwrite" in line
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


# ------------------------------------------------------------------ sample
@pytest.fixture
def model_copy(cli_model: Path, tmp_path: Path) -> Path:
    """A private copy of the session model, free to tamper with."""
    target = tmp_path / "model"
    shutil.copytree(cli_model, target)
    return target


def _flip_pickle_byte(model: Path) -> None:
    path = model / "state" / "synthesizer.pkl"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_model_json(model: Path) -> None:
    path = model / "model.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["n_train"] = doc["n_train"] + 1
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _add_file(model: Path) -> None:
    (model / "state" / "extra.pkl").write_bytes(b"\x80\x04N.")


def _remove_file(model: Path) -> None:
    (model / "holdout_rows.npy").unlink()


def _edit_integrity(model: Path) -> None:
    path = model / "integrity.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["files"]["model.json"] = "0" * 64
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_flip_pickle_byte, "state/synthesizer.pkl"),
        (_edit_model_json, "model.json"),
        (_add_file, "state/extra.pkl"),
        (_remove_file, "holdout_rows.npy"),
        (_edit_integrity, "integrity"),
    ],
    ids=["flipped_pickle_byte", "edited_model_json", "added_file", "removed_file", "edited_mac"],
)
def test_sample_refuses_a_tampered_model(
    synthgen_cli, tmp_path, model_copy, tamper: Callable[[Path], None], expected
):
    tamper(model_copy)
    out = tmp_path / "synthetic.csv"
    line = assert_one_line_error(synthgen_cli("sample", model_copy, "-n", 10, "-o", out))
    assert "refusing to load" in line
    assert expected in line or "integrity" in line
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_sample_refuses_a_model_signed_with_another_key(synthgen_cli, tmp_path, cli_model):
    other = tmp_path / "other.key"
    other.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    out = tmp_path / "synthetic.csv"
    result = synthgen_cli("sample", cli_model, "-n", 10, "-o", out, key_file=other)
    line = assert_one_line_error(result)
    assert "key" in line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.key"]


def test_sample_refuses_when_this_machine_has_no_key(synthgen_cli, tmp_path, cli_model):
    missing = tmp_path / "keys" / "custodian.key"
    out = tmp_path / "synthetic.csv"
    result = synthgen_cli("sample", cli_model, "-n", 10, "-o", out, key_file=missing)
    line = assert_one_line_error(result)
    assert "key" in line
    assert not out.exists()
    assert not missing.exists()  # sampling never creates a key that would accept the model


@pytest.mark.parametrize(
    ("args", "out_name", "expected"),
    [
        (["-n", "10"], "synthetic.xlsx", ["synthetic.xlsx", "unsupported"]),
        (["-n", "10", "--where", "nosuchcol=1"], "synthetic.csv", ["nosuchcol"]),
        (["-n", "10", "--where", "age"], "synthetic.csv", ["age", "COLUMN=VALUE"]),
        (["-n", "0"], "synthetic.csv", ["0"]),
        (["-n", "10"], "no-such-folder/synthetic.csv", ["no-such-folder"]),
    ],
    ids=[
        "unsupported_extension",
        "unknown_condition_column",
        "malformed_condition",
        "zero_rows",
        "missing_folder",
    ],
)
def test_bad_sample_request(synthgen_cli, tmp_path, cli_model, args, out_name, expected):
    out = tmp_path / out_name
    line = assert_one_line_error(synthgen_cli("sample", cli_model, *args, "-o", out))
    for word in expected:
        assert word in line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_sample_from_a_missing_model(synthgen_cli, tmp_path):
    out = tmp_path / "synthetic.csv"
    line = assert_one_line_error(synthgen_cli("sample", tmp_path / "nomodel", "-o", out))
    assert "nomodel" in line
    assert list(tmp_path.iterdir()) == []


def test_sample_refuses_a_folder_that_is_not_a_model(synthgen_cli, tmp_path):
    folder = tmp_path / "notamodel"
    folder.mkdir()
    (folder / "model.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "synthetic.csv"
    line = assert_one_line_error(synthgen_cli("sample", folder, "-o", out))
    assert "notamodel" in line
    assert not out.exists()


# ------------------------------------------------------------------- usage
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train"], "Missing argument"),
        (["sample"], "Missing argument"),
        (["inspect"], "Missing argument"),
        (["train", "cohort.csv"], "--output"),
        (["inspect", "--bogus", "cohort.csv"], "--bogus"),
        (["sample", "model", "-o", "x.csv", "-n", "many"], "--rows"),
        (["frobnicate"], "frobnicate"),
    ],
    ids=[
        "train_no_args",
        "sample_no_args",
        "inspect_no_args",
        "train_no_output",
        "unknown_option",
        "bad_int",
        "unknown_command",
    ],
)
def test_usage_errors_are_one_line(synthgen_cli, tmp_path, args, expected):
    result = synthgen_cli(*args, cwd=tmp_path)
    line = assert_one_line_error(result)
    assert expected in line
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_no_arguments_prints_help(synthgen_cli):
    result = synthgen_cli()
    assert result.returncode == 0, result.output
    assert "inspect" in result.stdout and "train" in result.stdout
