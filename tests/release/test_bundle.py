"""Release bundles: writing, verification of every kind of tampering, atomicity, reading."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthgen.release.bundle as bundle_mod
from synthgen.errors import InputError, SynthgenError
from synthgen.release.bundle import (
    TamperedBundleError,
    VerifyResult,
    read_bundle,
    verify_bundle,
    write_bundle,
)
from synthgen.release.keys import PASSPHRASE_ENV, generate_keypair, key_id, load_public_key

EXPECTED_FILES = [
    "manifest.json",
    "manifest.sig",
    "public_key.pem",
    "report.html",
    "report.json",
    "report.pdf",
    "synthetic.csv",
    "synthetic.parquet",
]


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("signing")
    priv, pub = generate_keypair(base / "custodian.pem", base / "custodian.pub")
    other_priv, other_pub = generate_keypair(base / "other.pem", base / "other.pub")
    return {"private": priv, "public": pub, "other_private": other_priv, "other_public": other_pub}


@pytest.fixture
def synthetic() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": np.array([34, 71, 58, 46], dtype="int64"),
            "bmi": [22.5, np.nan, 31.25, 27.0],
            "smoker": [True, False, False, True],
            "admitted": pd.to_datetime(["2020-01-01", "2021-02-03", None, "2019-12-31"]),
            "region": pd.Categorical(["north", "south", "north", "east"]),
            "visits": pd.array([1, None, 3, 0], dtype="Int64"),
            "code": ["E11", "I10", None, "J45"],
        }
    )


REPORTS = {
    "report.html": "<html><body>fidelity</body></html>",
    "report.pdf": b"%PDF-1.7\n% tiny test pdf\n",
    "report.json": json.dumps({"kind": "synthgen.evaluation", "metrics": {"ks": 0.04}}),
}
PROVENANCE = {
    "versions": {"synthgen": "0.1.0", "sdv": "1.x", "torch": "2.x"},
    "generator": "gaussian_copula",
    "parameters": {"epochs": 10},
    "seed": np.int64(7),
    "privacy_budget": None,
    "data_fingerprint": "ab" * 32,
    "source": "demo cohort",
}
VERDICT = {"released": True, "checks": [{"rule": "dcr", "value": 0.3, "passed": True}]}
POLICY = {"name": "cross-border", "rules": [{"metric": "dcr", "min": 0.2}]}


def _write(out: Path, keys: dict[str, Path], synthetic: pd.DataFrame, **overrides) -> Path:
    kwargs = {
        "synthetic": synthetic,
        "report_files": REPORTS,
        "provenance": PROVENANCE,
        "verdict": VERDICT,
        "policy": POLICY,
        "private_key_path": keys["private"],
    }
    kwargs.update(overrides)
    return write_bundle(out, **kwargs)


@pytest.fixture
def bundle(tmp_path: Path, keys: dict[str, Path], synthetic: pd.DataFrame) -> Path:
    return _write(tmp_path / "release", keys, synthetic)


def _problems(bundle: Path, public: Path) -> list[str]:
    result = verify_bundle(bundle, public_key_path=public)
    assert isinstance(result, VerifyResult)
    assert result.ok is (not result.problems)
    return result.problems


# --------------------------------------------------------------------------- writing


def test_bundle_is_written_and_verifies(bundle: Path, keys: dict[str, Path]) -> None:
    assert sorted(p.name for p in bundle.iterdir()) == EXPECTED_FILES
    result = verify_bundle(bundle, public_key_path=keys["public"])
    assert result.ok and result.problems == []
    assert result.key_id == key_id(load_public_key(keys["public"]))
    assert not [p for p in bundle.parent.iterdir() if p.name.startswith(".")]


def test_manifest_contents(bundle: Path, keys: dict[str, Path], synthetic: pd.DataFrame) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "synthgen.bundle"
    assert manifest["format_version"] == 1
    assert manifest["created"].endswith("Z")
    assert manifest["signing_key_id"] == key_id(load_public_key(keys["public"]))
    assert sorted(manifest["files"]) == [
        n for n in EXPECTED_FILES if n not in ("manifest.json", "manifest.sig")
    ]
    for name, entry in manifest["files"].items():
        data = (bundle / name).read_bytes()
        assert entry["bytes"] == len(data)
        assert len(entry["sha256"]) == 64
    assert manifest["provenance"]["seed"] == 7  # numpy scalar stored as plain JSON
    assert manifest["provenance"]["generator"] == "gaussian_copula"
    assert manifest["verdict"] == VERDICT
    assert manifest["policy"]["name"] == "cross-border"
    assert len(manifest["policy"]["sha256"]) == 64
    assert manifest["policy"]["definition"] == POLICY
    assert manifest["synthetic"]["rows"] == len(synthetic)


def test_policy_sha256_given_by_caller_is_kept(
    tmp_path: Path, keys: dict[str, Path], synthetic: pd.DataFrame
) -> None:
    out = _write(tmp_path / "b", keys, synthetic, policy={**POLICY, "sha256": "f" * 64})
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["policy"]["sha256"] == "f" * 64


def test_csv_has_no_index_and_iso_dates(bundle: Path) -> None:
    lines = (bundle / "synthetic.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "age,bmi,smoker,admitted,region,visits,code"
    assert lines[1].startswith("34,22.5,True,2020-01-01,north,1,E11")


def test_signature_is_over_the_exact_manifest_bytes(bundle: Path, keys: dict[str, Path]) -> None:
    import base64

    signature = base64.b64decode((bundle / "manifest.sig").read_bytes())
    load_public_key(keys["public"]).verify(signature, (bundle / "manifest.json").read_bytes())


def test_without_public_key_copy(tmp_path: Path, keys: dict[str, Path], synthetic) -> None:
    out = _write(tmp_path / "b", keys, synthetic, include_public_key=False)
    assert "public_key.pem" not in os.listdir(out)
    assert verify_bundle(out, public_key_path=keys["public"]).ok


def test_existing_bundle_is_not_overwritten(bundle: Path, keys, synthetic) -> None:
    before = (bundle / "manifest.json").read_bytes()
    with pytest.raises(InputError, match="already exists"):
        _write(bundle, keys, synthetic)
    assert (bundle / "manifest.json").read_bytes() == before
    _write(bundle, keys, synthetic, overwrite=True)
    assert verify_bundle(bundle, public_key_path=keys["public"]).ok


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("model.pkl", "'model.pkl' is not a report file a bundle may carry"),
        ("train.csv", "'train.csv' is not a report file a bundle may carry"),
        ("../x", "report file name '../x' is not a plain file name"),
        ("sub/report.html", "is not a plain file name"),
        (".hidden", "is not a plain file name"),
        ("", "is not a plain file name"),
    ],
)
def test_refused_report_names_leave_nothing(
    tmp_path: Path, keys, synthetic, name: str, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _write(tmp_path / "b", keys, synthetic, report_files={**REPORTS, name: b"data"})
    assert os.listdir(tmp_path) == []
    assert not (tmp_path.parent / "x").exists()


def test_every_input_problem_is_reported_at_once(tmp_path: Path, keys, synthetic) -> None:
    with pytest.raises(InputError) as info:
        _write(
            tmp_path / "b",
            keys,
            synthetic,
            report_files={
                "model.pkl": b"\x80\x04",
                "report.pdf": b"not a pdf",
                "report.json": "[]",
            },
            verdict="passed",
        )
    text = str(info.value)
    assert "4 problems" in text
    for part in ("model.pkl", "PDF header", "JSON object", "verdict must be a mapping"):
        assert part in text
    assert os.listdir(tmp_path) == []


def test_unusable_private_key_leaves_nothing(tmp_path: Path, keys, synthetic) -> None:
    with pytest.raises(InputError, match="does not exist"):
        _write(tmp_path / "b", keys, synthetic, private_key_path=tmp_path / "nope.pem")
    assert os.listdir(tmp_path) == []


def test_failure_mid_write_leaves_no_folder_and_no_temp(
    tmp_path: Path, keys, synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args, **_kwargs):
        raise OSError("disk full")

    # Fails after both tables and the reports are in the temporary folder.
    monkeypatch.setattr(bundle_mod, "_sha256_file", boom)
    with pytest.raises(OSError, match="disk full"):
        _write(tmp_path / "b", keys, synthetic)
    assert os.listdir(tmp_path) == []


def test_unwritable_table_leaves_nothing(tmp_path: Path, keys) -> None:
    bad = pd.DataFrame({"mixed": [1, "a", 2.5]})
    with pytest.raises(SynthgenError, match="Parquet"):
        _write(tmp_path / "b", keys, bad)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- tampering


def test_modified_csv_byte(bundle: Path, keys) -> None:
    path = bundle / "synthetic.csv"
    data = bytearray(path.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
    assert _problems(bundle, keys["public"]) == ["synthetic.csv: SHA-256 differs from the manifest"]


def test_truncated_file_reports_size(bundle: Path, keys) -> None:
    path = bundle / "report.html"
    path.write_bytes(path.read_bytes()[:-1])
    size = path.stat().st_size
    assert _problems(bundle, keys["public"]) == [
        f"report.html: size differs from the manifest ({size} bytes, manifest says {size + 1})"
    ]


def test_deleted_report(bundle: Path, keys) -> None:
    (bundle / "report.pdf").unlink()
    assert _problems(bundle, keys["public"]) == ["report.pdf: listed in the manifest but missing"]


def test_added_file(bundle: Path, keys) -> None:
    (bundle / "notes.txt").write_text("hello")
    (bundle / "extra").mkdir()
    assert _problems(bundle, keys["public"]) == [
        "extra/: not listed in the manifest (added after signing)",
        "notes.txt: not listed in the manifest (added after signing)",
    ]


def test_edited_manifest(bundle: Path, keys) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["verdict"]["released"] = "yes, trust me"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    kid = key_id(load_public_key(keys["public"]))
    assert _problems(bundle, keys["public"]) == [
        f"manifest.json signature does not match the key {kid} "
        "(manifest.json or manifest.sig was changed after signing)"
    ]


def test_edited_manifest_hiding_a_changed_file_is_still_caught(bundle: Path, keys) -> None:
    import hashlib

    csv = bundle / "synthetic.csv"
    csv.write_bytes(csv.read_bytes().replace(b"34,", b"35,"))
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"]["synthetic.csv"]["sha256"] = hashlib.sha256(csv.read_bytes()).hexdigest()
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    problems = _problems(bundle, keys["public"])
    assert len(problems) == 1
    assert problems[0].startswith("manifest.json signature does not match the key")


def test_verified_with_another_public_key(bundle: Path, keys) -> None:
    custodian = key_id(load_public_key(keys["public"]))
    other = key_id(load_public_key(keys["other_public"]))
    assert _problems(bundle, keys["other_public"]) == [
        f"manifest.json signature does not match the key {other} "
        f"(the manifest says it was signed with key {custodian})"
    ]


def test_signed_with_another_key(tmp_path: Path, keys, synthetic) -> None:
    out = _write(tmp_path / "b", keys, synthetic, private_key_path=keys["other_private"])
    custodian = key_id(load_public_key(keys["public"]))
    other = key_id(load_public_key(keys["other_public"]))
    assert _problems(out, keys["public"]) == [
        f"manifest.json signature does not match the key {custodian} "
        f"(the manifest says it was signed with key {other})"
    ]


def test_missing_or_garbled_signature(bundle: Path, keys) -> None:
    (bundle / "manifest.sig").write_text("%%% not base64 %%%")
    assert _problems(bundle, keys["public"]) == [
        "manifest.sig: unreadable or not a base64 signature"
    ]
    (bundle / "manifest.sig").unlink()
    assert _problems(bundle, keys["public"]) == ["manifest.sig: missing (the bundle is not signed)"]


def test_invalid_manifest_json(bundle: Path, keys) -> None:
    (bundle / "manifest.json").write_text("{not json", encoding="utf-8")
    problems = _problems(bundle, keys["public"])
    assert problems[0].startswith("manifest.json signature does not match the key")
    assert problems[1].startswith("manifest.json: not valid JSON (line 1")
    assert len(problems) == 2


def test_wrong_kind_and_version(bundle: Path, keys) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["kind"] = "synthgen.integrity"
    manifest["format_version"] = 9
    path.write_text(json.dumps(manifest), encoding="utf-8")
    problems = _problems(bundle, keys["public"])
    assert problems[1:] == [
        "manifest.json: kind is 'synthgen.integrity', expected 'synthgen.bundle'",
        "manifest.json: format_version 9 is not supported (this synthgen reads version 1)",
    ]


def test_missing_manifest(bundle: Path, keys) -> None:
    (bundle / "manifest.json").unlink()
    result = verify_bundle(bundle, public_key_path=keys["public"])
    assert not result.ok
    assert result.manifest == {}
    assert result.problems == ["manifest.json: missing (not a synthgen bundle, or damaged)"]


def test_several_problems_are_all_reported(bundle: Path, keys) -> None:
    (bundle / "report.pdf").unlink()
    (bundle / "notes.txt").write_text("x")
    csv = bundle / "synthetic.csv"
    csv.write_bytes(csv.read_bytes().replace(b"34,", b"35,"))
    assert _problems(bundle, keys["public"]) == [
        "report.pdf: listed in the manifest but missing",
        "synthetic.csv: SHA-256 differs from the manifest",
        "notes.txt: not listed in the manifest (added after signing)",
    ]


def test_verifying_with_the_key_inside_the_bundle_is_flagged(bundle: Path) -> None:
    problems = _problems(bundle, bundle / "public_key.pem")
    assert len(problems) == 1
    assert "the key given is the one inside the bundle" in problems[0]


def test_missing_folder_or_bad_key_raise(tmp_path: Path, bundle: Path, keys) -> None:
    with pytest.raises(InputError, match="does not exist"):
        verify_bundle(tmp_path / "nowhere", public_key_path=keys["public"])
    with pytest.raises(InputError, match="public signing key"):
        verify_bundle(bundle, public_key_path=tmp_path / "missing.pub")
    with pytest.raises(InputError, match="holds a private key"):
        verify_bundle(bundle, public_key_path=keys["private"])


# --------------------------------------------------------------------------- reading


def test_read_bundle_round_trips_data_and_dtypes(bundle: Path, keys, synthetic) -> None:
    data, report = read_bundle(bundle, public_key_path=keys["public"])
    pd.testing.assert_frame_equal(data, synthetic)
    assert data["age"].dtype == np.int64
    assert data["bmi"].dtype == np.float64
    assert data["smoker"].dtype == bool
    assert str(data["admitted"].dtype).startswith("datetime64")
    assert report == json.loads(REPORTS["report.json"])


def test_read_bundle_without_json_report(tmp_path: Path, keys, synthetic) -> None:
    out = _write(tmp_path / "b", keys, synthetic, report_files={"report.html": "<p>x</p>"})
    data, report = read_bundle(out, public_key_path=keys["public"])
    assert report == {}
    assert len(data) == len(synthetic)


def test_read_bundle_refuses_a_tampered_bundle(bundle: Path, keys) -> None:
    (bundle / "report.pdf").unlink()
    (bundle / "notes.txt").write_text("x")
    with pytest.raises(TamperedBundleError) as info:
        read_bundle(bundle, public_key_path=keys["public"])
    assert isinstance(info.value, SynthgenError) and isinstance(info.value, ValueError)
    assert info.value.problems == [
        "report.pdf: listed in the manifest but missing",
        "notes.txt: not listed in the manifest (added after signing)",
    ]
    assert "2 problems" in str(info.value)


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_bundle_permissions(bundle: Path) -> None:
    assert bundle.stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in bundle.iterdir()} == {0o644}


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_listed_file_replaced_by_a_link(bundle: Path, keys, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.csv"
    target.write_bytes((bundle / "synthetic.csv").read_bytes())
    (bundle / "synthetic.csv").unlink()
    (bundle / "synthetic.csv").symlink_to(target)
    assert _problems(bundle, keys["public"]) == ["synthetic.csv: not a regular file"]
