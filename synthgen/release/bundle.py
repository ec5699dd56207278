"""Release bundles: the signed folder that crosses the border, and its verification.

A bundle holds the synthetic cohort (CSV and Parquet), the evaluation report (HTML, PDF,
JSON), ``manifest.json`` (SHA-256 and size of every file, provenance, policy, verdict) and
``manifest.sig``, an Ed25519 signature over the exact bytes of ``manifest.json``. Nothing
else may be in it: no model, no real data, no stray file. See ``docs/bundle.md``.

The custodian calls :func:`write_bundle` inside the secure environment; a researcher calls
:func:`verify_bundle` or :func:`read_bundle` with the public key the custodian gave them out of
band. Those two live in :mod:`synthgen.release.verify` and are re-exported here; the bundle's
layout (kind, version, allowed files) lives in :mod:`synthgen.release._bundle_format`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path, PurePath
from typing import Any

import pandas as pd
from cryptography.hazmat.primitives import serialization

from synthgen.data.atomic import atomic_dir
from synthgen.data.io import write_table
from synthgen.errors import InputError
from synthgen.release._bundle_format import ALLOWED_FILES as ALLOWED_FILES
from synthgen.release._bundle_format import BUNDLE_FORMAT_VERSION as BUNDLE_FORMAT_VERSION
from synthgen.release._bundle_format import BUNDLE_KIND as BUNDLE_KIND
from synthgen.release._bundle_format import DATA_CSV as DATA_CSV
from synthgen.release._bundle_format import DATA_FILES as DATA_FILES
from synthgen.release._bundle_format import DATA_PARQUET as DATA_PARQUET
from synthgen.release._bundle_format import MANIFEST_FILE as MANIFEST_FILE
from synthgen.release._bundle_format import PUBLIC_KEY_FILE as PUBLIC_KEY_FILE
from synthgen.release._bundle_format import REPORT_FILES as REPORT_FILES
from synthgen.release._bundle_format import SIGNATURE_FILE as SIGNATURE_FILE
from synthgen.release._bundle_format import TamperedBundleError as TamperedBundleError
from synthgen.release._bundle_format import _is_plain_name as _is_plain_name
from synthgen.release._bundle_format import _sha256_file as _sha256_file
from synthgen.release.keys import key_id, load_private_key
from synthgen.release.verify import VerifyResult as VerifyResult
from synthgen.release.verify import _check_signature as _check_signature
from synthgen.release.verify import _file_problems as _file_problems
from synthgen.release.verify import _parse_manifest as _parse_manifest
from synthgen.release.verify import _read_checked as _read_checked
from synthgen.release.verify import read_bundle as read_bundle
from synthgen.release.verify import verify_bundle as verify_bundle

__all__ = [
    "BUNDLE_FORMAT_VERSION",
    "BUNDLE_KIND",
    "REPORT_FILES",
    "TamperedBundleError",
    "VerifyResult",
    "read_bundle",
    "verify_bundle",
    "write_bundle",
]

# --------------------------------------------------------------------------- helpers


def _json_default(value: Any) -> Any:
    # numpy scalars (seeds, epsilons), dates and paths show up in provenance dicts.
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"values of type {type(value).__name__} cannot be stored as JSON")


def _to_plain_json(value: Any, what: str) -> Any:
    """Round-trip ``value`` through JSON so the manifest holds plain data only."""
    if not isinstance(value, Mapping):
        raise InputError(f"{what} must be a mapping (dict), got {type(value).__name__}")
    try:
        return json.loads(json.dumps(dict(value), default=_json_default))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be stored in the manifest: {exc}") from None


def _canonical_sha256(value: Any) -> str:
    payload = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _report_problems(report_files: Mapping[str, bytes | str]) -> tuple[list[str], dict[str, bytes]]:
    problems: list[str] = []
    contents: dict[str, bytes] = {}
    allowed = ", ".join(REPORT_FILES)
    for name, content in report_files.items():
        if not _is_plain_name(name):
            problems.append(f"report file name {name!r} is not a plain file name")
            continue
        if name not in REPORT_FILES:
            problems.append(
                f"'{name}' is not a report file a bundle may carry (allowed: {allowed}); "
                "models and real data never go in a bundle"
            )
            continue
        if isinstance(content, str):
            if name == "report.pdf":
                problems.append("'report.pdf' must be given as bytes, not text")
                continue
            data = content.encode("utf-8")
        elif isinstance(content, (bytes, bytearray, memoryview)):
            data = bytes(content)
        else:
            problems.append(f"'{name}' must be bytes or text, got {type(content).__name__}")
            continue
        # Check each file is what its name says, so nothing else travels under a report name.
        if name == "report.pdf" and not data.startswith(b"%PDF-"):
            problems.append("'report.pdf' does not start with a PDF header")
            continue
        if name in ("report.json", "report.html"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"'{name}' is not UTF-8 text")
                continue
            if name == "report.json":
                try:
                    parsed = json.loads(text)
                except ValueError:
                    problems.append("'report.json' is not valid JSON")
                    continue
                if not isinstance(parsed, dict):
                    problems.append("'report.json' must hold a JSON object")
                    continue
        contents[name] = data
    return problems, contents


def _policy_entry(policy: Any) -> dict[str, Any]:
    definition = _to_plain_json(policy, "policy")
    given = definition.get("sha256")
    digest = (
        given
        if isinstance(given, str) and given
        else _canonical_sha256({k: v for k, v in definition.items() if k != "sha256"})
    )
    return {
        "name": str(definition.get("name") or "unnamed"),
        "sha256": digest,
        "definition": definition,
    }


# --------------------------------------------------------------------------- writing


def write_bundle(
    output: str | Path,
    *,
    synthetic: pd.DataFrame,
    report_files: Mapping[str, bytes | str],
    provenance: Mapping[str, Any],
    verdict: Mapping[str, Any],
    policy: Mapping[str, Any],
    private_key_path: str | Path,
    overwrite: bool = False,
    include_public_key: bool = True,
) -> Path:
    """Write a signed release bundle folder, atomically.

    The folder is built in a hidden temporary sibling of ``output`` and renamed into place
    only when complete; on any error nothing is left behind.

    Args:
        output: the bundle folder to create.
        synthetic: the synthetic cohort; written as ``synthetic.csv`` (UTF-8, ISO dates, no
            index) and ``synthetic.parquet`` (pyarrow, no index).
        report_files: report contents by file name; only ``report.html``, ``report.pdf``
            (bytes, a PDF) and ``report.json`` (a JSON object) are accepted.
        provenance: software versions, generator and parameters, seed, privacy budget, salted
            data fingerprint, source label... stored as given (JSON-serialisable).
        verdict: the release gate's verdict, stored as given.
        policy: the policy applied. Its ``name`` and ``sha256`` (if present, e.g. of the YAML
            file; otherwise the SHA-256 of its canonical JSON) head the manifest's ``policy``
            entry, with the whole dict under ``definition``.
        private_key_path: the custodian's Ed25519 private key (PEM), mode 0600.
        overwrite: replace an existing bundle folder; when false, refuse it.
        include_public_key: also store ``public_key.pem``, for convenience only: recipients
            must verify with the key they were given out of band.

    Returns:
        ``output`` as a path.

    Raises:
        InputError: a report file name is not a plain file name or not an allowed report, a
            report's content does not match its name, provenance/verdict/policy cannot be
            stored as JSON, the private key is unusable, or ``output`` exists and
            ``overwrite`` is false. Every problem with the inputs is listed at once.
        DataFormatError: the synthetic table cannot be written as CSV or Parquet.
    """
    output = Path(output).expanduser()
    problems: list[str] = []
    if not isinstance(synthetic, pd.DataFrame):
        problems.append(f"synthetic must be a pandas DataFrame, got {type(synthetic).__name__}")
    elif synthetic.shape[1] == 0:
        problems.append("synthetic has no columns")
    if not isinstance(report_files, Mapping):
        problems.append(f"report_files must be a mapping, got {type(report_files).__name__}")
        reports: dict[str, bytes] = {}
    else:
        report_problems, reports = _report_problems(report_files)
        problems.extend(report_problems)
    entries: dict[str, Any] = {}
    for what, value in (("provenance", provenance), ("verdict", verdict)):
        try:
            entries[what] = _to_plain_json(value, what)
        except InputError as exc:
            problems.append(str(exc))
    try:
        entries["policy"] = _policy_entry(policy)
    except InputError as exc:
        problems.append(str(exc))
    if problems:
        head = f"cannot write bundle '{output}': "
        if len(problems) == 1:
            raise InputError(head + problems[0])
        raise InputError(head + f"{len(problems)} problems: " + "; ".join(problems))

    private_key = load_private_key(private_key_path)
    signing_id = key_id(private_key)

    with atomic_dir(output, overwrite=overwrite) as tmp:
        write_table(synthetic, tmp / DATA_CSV)
        write_table(synthetic, tmp / DATA_PARQUET)
        for name, data in reports.items():
            (tmp / name).write_bytes(data)
        if include_public_key:
            (tmp / PUBLIC_KEY_FILE).write_bytes(
                private_key.public_key().public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        present = sorted(p.name for p in tmp.iterdir())
        stray = [n for n in present if n not in ALLOWED_FILES]
        if stray:  # a writer above misbehaved; never sign what we did not mean to ship
            raise InputError(f"cannot write bundle '{output}': unexpected files {stray}")
        files = {}
        for name in present:
            digest, size = _sha256_file(tmp / name)
            files[name] = {"sha256": digest, "bytes": size}
        manifest = {
            "kind": BUNDLE_KIND,
            "format_version": BUNDLE_FORMAT_VERSION,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "signing_key_id": signing_id,
            "synthetic": {
                "rows": int(len(synthetic)),
                "columns": {str(c): str(t) for c, t in synthetic.dtypes.items()},
            },
            "files": files,
            "provenance": entries["provenance"],
            "policy": entries["policy"],
            "verdict": entries["verdict"],
        }
        manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        signature = private_key.sign(manifest_bytes)
        (tmp / MANIFEST_FILE).write_bytes(manifest_bytes)
        (tmp / SIGNATURE_FILE).write_bytes(base64.b64encode(signature) + b"\n")
        for name in os.listdir(tmp):
            os.chmod(tmp / name, 0o644)
    os.chmod(output, 0o755)
    return output
