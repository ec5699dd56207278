"""``synthgen release``, ``keygen``, ``verify``, ``report`` and ``policy``, end to end."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import pandas as pd
import pytest
from _cli import assert_ok, assert_one_line_error


@pytest.fixture(scope="module")
def keys(synthgen_cli, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("release") / "keys"
    assert_ok(synthgen_cli("keygen", "-o", folder))
    return folder


@pytest.fixture(scope="module")
def released(cli_model, keys, synthgen_cli, tmp_path_factory) -> tuple[Path, object]:
    bundle = tmp_path_factory.mktemp("release") / "bundle"
    result = synthgen_cli(
        "release",
        cli_model,
        "--policy",
        "internal",
        "-n",
        300,
        "-o",
        bundle,
        "--key",
        keys / "signing_key.pem",
    )
    return bundle, result


def test_release_writes_a_signed_bundle(released, keys, synthgen_cli, cli_model) -> None:
    bundle, result = released
    assert_ok(result)
    assert "RELEASED" in result.stdout and "Signed bundle written" in result.stdout
    names = sorted(p.name for p in bundle.iterdir())
    assert names == [
        "manifest.json",
        "manifest.sig",
        "public_key.pem",
        "report.html",
        "report.json",
        "report.pdf",
        "synthetic.csv",
        "synthetic.parquet",
    ]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["verdict"]["released"] is True
    assert manifest["policy"]["name"] == "internal"
    salt = json.loads((cli_model / "model.json").read_text())["provenance"]["data"]["salt"]
    assert salt not in json.dumps(manifest)  # the salt stays inside with the model
    assert len(pd.read_csv(bundle / "synthetic.csv")) == 300
    verified = synthgen_cli("verify", bundle, "--key", keys / "signing_key.pub.pem")
    assert_ok(verified)
    assert "Verified" in verified.stdout


def test_tampering_is_named_exactly(released, keys, synthgen_cli, tmp_path) -> None:
    import shutil

    bundle, _ = released
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    with open(copy / "synthetic.csv", "a", encoding="utf-8") as fh:
        fh.write("tampered\n")
    (copy / "notes.txt").write_text("added later\n")
    result = synthgen_cli("verify", copy, "--key", keys / "signing_key.pub.pem")
    assert result.returncode == 1
    assert "synthetic.csv" in result.stdout and "notes.txt" in result.stdout
    assert "failed verification" in result.stderr


def _texts(bundle: Path) -> dict[str, str]:
    """Every file of the bundle as text; PDF streams decompressed."""
    out = {}
    for path in bundle.iterdir():
        raw = path.read_bytes()
        if path.suffix == ".parquet":
            out[path.name] = pd.read_parquet(path).to_csv(index=False)
        elif path.suffix == ".pdf":
            parts = [raw.decode("latin-1")]
            for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.S):
                try:
                    parts.append(zlib.decompress(stream).decode("latin-1"))
                except zlib.error:
                    pass
            out[path.name] = "\n".join(parts)
        else:
            out[path.name] = raw.decode("utf-8", errors="replace")
    return out


def test_no_real_record_in_any_file_of_the_bundle(released, cli_data) -> None:
    bundle, result = released
    assert_ok(result)
    real = pd.read_csv(cli_data)
    texts = _texts(bundle)
    # direct identifiers of every real record: nowhere in any file
    for column in ("patient_id", "name", "nhs_number", "postcode", "clinical_note"):
        values = set(real[column].dropna().astype(str))
        for name, text in texts.items():
            found = [v for v in values if len(v) >= 5 and v in text]
            assert not found, f"{len(found)} real {column} values in {name}"
    # no synthetic record equals a real record on every learned column
    synthetic = pd.read_csv(bundle / "synthetic.csv")
    learned = [
        c
        for c in synthetic.columns
        if c in real.columns
        and c
        not in ("patient_id", "name", "nhs_number", "postcode", "clinical_note", "date_of_birth")
    ]
    merged = synthetic[learned].astype(str).merge(real[learned].astype(str), how="inner")
    assert merged.empty
    # no per-record attack content in the report
    report = json.loads(texts["report.json"])
    assert "targets" not in json.dumps(
        report.get("report", {}).get("privacy", {}).get("shadow_model") or {}
    )
    assert "output_check" in report


def test_blocked_release_exits_2_and_writes_nothing(cli_model, keys, synthgen_cli, tmp_path):
    bundle = tmp_path / "bundle"
    result = synthgen_cli(
        "release",
        cli_model,
        "--policy",
        "cross-border",
        "-n",
        300,
        "-o",
        bundle,
        "--key",
        keys / "signing_key.pem",
    )
    assert result.returncode == 2, result.output
    assert "BLOCKED" in result.stdout and "FAIL" in result.stdout
    assert not bundle.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_dry_run_decides_without_writing(cli_model, synthgen_cli, tmp_path) -> None:
    bundle = tmp_path / "bundle"
    result = synthgen_cli(
        "release", cli_model, "--policy", "internal", "-n", 200, "-o", bundle, "--dry-run"
    )
    assert_ok(result)
    assert "Dry run" in result.stdout and not bundle.exists()


def test_release_needs_a_key_and_a_known_policy(cli_model, synthgen_cli, tmp_path) -> None:
    result = synthgen_cli("release", cli_model, "-n", 10, "-o", tmp_path / "b")
    assert "--key" in assert_one_line_error(result)
    result = synthgen_cli("release", cli_model, "-n", 10, "--dry-run", "--policy", "no-such-policy")
    assert "cross-border" in assert_one_line_error(result)


def test_policy_list_and_show(synthgen_cli, tmp_path) -> None:
    listed = synthgen_cli("policy", "list")
    assert_ok(listed)
    assert all(name in listed.stdout for name in ("internal", "partner", "cross-border"))
    shown = synthgen_cli("policy", "show", "partner")
    assert_ok(shown)
    assert "rules:" in shown.stdout
    saved = tmp_path / "mine.yaml"  # what `policy show` prints is a valid policy file
    saved.write_text(shown.stdout, encoding="utf-8")
    again = synthgen_cli("policy", "show", saved)
    assert_ok(again)
    assert again.stdout == shown.stdout


def test_report_renders_an_existing_evaluation(cli_model, synthgen_cli, tmp_path, cli_data) -> None:
    synthetic = tmp_path / "s.csv"
    assert_ok(synthgen_cli("sample", cli_model, "-n", 200, "-o", synthetic))
    out = tmp_path / "eval"
    assert_ok(synthgen_cli("evaluate", cli_model, "--synthetic", synthetic, "-o", out))
    for fmt, name in (
        ("html", "report.html"),
        ("pdf", "report.pdf"),
        ("json", "report.output-checked.json"),
    ):
        assert_ok(synthgen_cli("report", out, "--format", fmt))
        assert (out / name).stat().st_size > 1000
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "<svg" in (out / "report.html").read_text()
    again = synthgen_cli("report", out, "--format", "html")
    assert "already exists" in assert_one_line_error(again)
