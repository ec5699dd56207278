"""``synthgen evaluate``: both ways of naming the inputs, the report, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _cli import assert_ok, assert_one_line_error, leftovers

import synthgen as sg


@pytest.fixture(scope="module")
def synthetic_file(cli_model: Path, synthgen_cli, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "synthetic.csv"
    assert_ok(synthgen_cli("sample", cli_model, "-n", "300", "--seed", "3", "-o", path))
    return path


def test_evaluate_from_model_dir_writes_versioned_report(
    cli_model, synthetic_file, synthgen_cli, tmp_path
):
    out = tmp_path / "report"
    result = synthgen_cli("evaluate", cli_model, "--synthetic", synthetic_file, "-o", out)
    assert_ok(result)
    assert "MIA distance: AUC" in result.stdout
    doc = json.loads((out / "report.json").read_text())
    assert doc["kind"] == "synthgen.evaluation" and doc["format_version"] == 1
    assert doc["sizes"] == {"train": 320, "holdout": 80, "synthetic": 300}
    attack = doc["privacy"]["membership_attacks"]["distance"]
    assert 0.0 <= attack["auc"]["value"] <= 1.0 and attack["auc"]["baseline"] == 0.5
    assert doc["privacy"]["distance_to_closest_record"]["dcr_share"]["ci"]


def test_same_seed_same_report(cli_model, synthetic_file, synthgen_cli, tmp_path):
    docs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert_ok(synthgen_cli("evaluate", cli_model, "--synthetic", synthetic_file, "-o", out))
        docs.append(json.loads((out / "report.json").read_text()))
    assert docs[0]["privacy"] == docs[1]["privacy"]
    assert docs[0]["fidelity"] == docs[1]["fidelity"]


def test_evaluate_files_made_by_any_tool(cli_data, cli_schema, synthgen_cli, tmp_path):
    frame = pd.read_csv(cli_data)
    train, holdout = tmp_path / "train.csv", tmp_path / "holdout.csv"
    frame.iloc[:300].to_csv(train, index=False)
    frame.iloc[300:].to_csv(holdout, index=False)
    copied = tmp_path / "copied.csv"
    frame.iloc[:300].to_csv(copied, index=False)  # a "generator" that returns its training rows
    out = tmp_path / "report"
    result = synthgen_cli(
        "evaluate",
        "--train",
        train,
        "--holdout",
        holdout,
        "--schema",
        cli_schema,
        "--synthetic",
        copied,
        "-o",
        out,
        "--json",
    )
    assert_ok(result)
    doc = json.loads(result.stdout)
    assert doc["privacy"]["membership_attacks"]["distance"]["auc"]["value"] >= 0.9
    assert doc["privacy"]["copies"]["exact_copies"]["value"] == 1.0


@pytest.mark.parametrize(
    "args",
    [
        ["--train", "T"],  # neither a model dir nor all three files
        ["MODEL", "--train", "T", "--holdout", "T", "--schema", "S"],  # both ways at once
    ],
)
def test_bad_combinations_are_one_line_errors(
    args, cli_model, cli_data, cli_schema, synthetic_file, synthgen_cli, tmp_path
):
    subst = {"MODEL": cli_model, "T": cli_data, "S": cli_schema}
    out = tmp_path / "report"
    result = synthgen_cli(
        "evaluate", *[subst.get(a, a) for a in args], "--synthetic", synthetic_file, "-o", out
    )
    assert_one_line_error(result)
    assert not out.exists() and not leftovers(tmp_path)


def test_synthetic_missing_a_learned_column_is_refused(
    cli_model, synthetic_file, synthgen_cli, tmp_path
):
    broken = tmp_path / "broken.csv"
    pd.read_csv(synthetic_file).drop(columns=["age"]).to_csv(broken, index=False)
    result = synthgen_cli("evaluate", cli_model, "--synthetic", broken, "-o", tmp_path / "r")
    line = assert_one_line_error(result)
    assert "age" in line
    assert not (tmp_path / "r").exists()


def test_existing_report_folder_needs_overwrite(cli_model, synthetic_file, synthgen_cli, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    assert_one_line_error(
        synthgen_cli("evaluate", cli_model, "--synthetic", synthetic_file, "-o", out)
    )
    assert_ok(
        synthgen_cli("evaluate", cli_model, "--synthetic", synthetic_file, "-o", out, "--overwrite")
    )
    assert sg.EvaluationReport.load(out / "report.json").sizes["synthetic"] == 300


def test_shadow_model_attack_from_the_cli(cli_model, synthetic_file, synthgen_cli, tmp_path):
    out = tmp_path / "report"
    result = synthgen_cli(
        "evaluate",
        cli_model,
        "--synthetic",
        synthetic_file,
        "-o",
        out,
        "--shadow",
        "--shadow-targets",
        "2",
        "--shadow-controls",
        "1",
        "--shadow-models",
        "4",
    )
    assert_ok(result)
    assert "shadow_model" in result.stdout
    doc = json.loads((out / "report.json").read_text())
    shadow = doc["privacy"]["shadow_model"]
    assert doc["privacy"]["membership_attacks"]["shadow_model"]["auc"]["baseline"] == 0.5
    assert doc["settings"]["shadow"]["n_shadows"] == 4
    assert json.dumps(shadow)  # plain data


def test_shadow_attack_needs_the_model_dir(
    cli_data, cli_schema, synthetic_file, synthgen_cli, tmp_path
):
    result = synthgen_cli(
        "evaluate",
        "--train",
        cli_data,
        "--holdout",
        cli_data,
        "--schema",
        cli_schema,
        "--synthetic",
        synthetic_file,
        "-o",
        tmp_path / "r",
        "--shadow",
    )
    assert "model directory" in assert_one_line_error(result)


def test_report_holds_no_record_values(cli_model, cli_data, synthetic_file, synthgen_cli, tmp_path):
    out = tmp_path / "report"
    assert_ok(synthgen_cli("evaluate", cli_model, "--synthetic", synthetic_file, "-o", out))
    text = (out / "report.json").read_text()
    real = pd.read_csv(cli_data)
    for column in ("nhs_number", "name", "postcode", "patient_id", "practice_code"):
        leaked = [v for v in real[column].dropna().astype(str).unique() if v in text]
        assert not leaked, column


def test_records_at_risk_list_points_at_copied_rows(cli_data, cli_schema, synthgen_cli, tmp_path):
    frame = pd.read_csv(cli_data)
    train, holdout = tmp_path / "train.csv", tmp_path / "holdout.csv"
    frame.iloc[:300].to_csv(train, index=False)
    frame.iloc[300:].to_csv(holdout, index=False)
    leaky = tmp_path / "leaky.csv"
    frame.iloc[:40].to_csv(leaky, index=False)  # releases 40 training rows verbatim
    out, records = tmp_path / "report", tmp_path / "at_risk.csv"
    args = ["--train", train, "--holdout", holdout, "--schema", cli_schema, "--synthetic"]
    result = synthgen_cli("evaluate", *args, leaky, "-o", out, "--records", records)
    assert_ok(result)
    assert "never release it" in result.stdout
    table = pd.read_csv(records)
    assert list(table.columns[:2]) == ["row", "attacks_flagging"]
    # every copied row the distance attack scored is ranked above every non-member, and
    # nothing else is; the list starts with them
    scored = table[table["distance_score"].notna()]
    copied = scored["row"] < 40
    assert copied.sum() >= 5
    assert (scored.loc[copied, "distance_exposure"] == 0.0).all()
    assert (scored.loc[~copied, "distance_exposure"] > 0.0).all()
    assert set(table["row"].head(int(copied.sum()))) <= set(range(40))
    assert not set(frame.columns) & set(table.columns)  # no cell values, only positions
    doc = json.loads((out / "report.json").read_text())
    worst = doc["privacy"]["worst_case"]["attacks"]["distance"]["members_above_every_nonmember"]
    assert worst["count"] == copied.sum()
    assert worst["value"] >= 10 * worst["baseline"]
    assert "row" not in json.dumps(doc["privacy"]["worst_case"])


def test_records_list_may_not_sit_in_the_report_folder(
    cli_model, synthetic_file, synthgen_cli, tmp_path
):
    out = tmp_path / "report"
    result = synthgen_cli(
        "evaluate",
        cli_model,
        "--synthetic",
        synthetic_file,
        "-o",
        out,
        "--records",
        out / "records.csv",
    )
    assert "must not be written inside the report folder" in assert_one_line_error(result)
    assert not out.exists()


def test_fidelity_and_utility_for_a_chosen_target(
    cli_model, synthetic_file, synthgen_cli, tmp_path
):
    out = tmp_path / "report"
    result = synthgen_cli(
        "evaluate",
        cli_model,
        "--synthetic",
        synthetic_file,
        "-o",
        out,
        "--target",
        "hypertension",
        "--target",
        "bmi",
    )
    assert_ok(result)
    for row in ("Detection AUC", "alpha-precision", "hypertension AUC", "bmi R2", "C-index"):
        assert row in result.stdout
    fid = json.loads((out / "report.json").read_text())["fidelity"]
    assert set(fid["utility"]["targets"]) == {"hypertension", "bmi"}
    for section in ("marginals", "detection", "precision_recall", "survival", "validity"):
        assert fid[section], section
    assert fid["by_subgroup"]["groups"]


def test_unknown_target_is_one_line_error(cli_model, synthetic_file, synthgen_cli, tmp_path):
    out = tmp_path / "report"
    result = synthgen_cli(
        "evaluate", cli_model, "--synthetic", synthetic_file, "-o", out, "--target", "nope"
    )
    assert "'nope'" in assert_one_line_error(result)
    assert not out.exists()


def test_values_that_do_not_fit_are_counted_not_refused(
    cli_model, synthetic_file, synthgen_cli, tmp_path
):
    frame = pd.read_csv(synthetic_file)
    frame["age"] = frame["age"].astype(object)
    frame.loc[:9, "age"] = "unknown"  # ten rows a careless tool got wrong
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    out = tmp_path / "report"
    assert_ok(synthgen_cli("evaluate", cli_model, "--synthetic", broken, "-o", out))
    text = (out / "report.json").read_text()
    doc = json.loads(text)
    age = [c for c in doc["fidelity"]["validity"]["checks"]["type"] if c["column"] == "age"]
    assert age[0]["violations"]["value"] == 10
    assert "unknown" not in text
