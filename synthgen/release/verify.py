"""Verifying and reading a release bundle with the custodian's public key.

:func:`verify_bundle` checks the Ed25519 signature over ``manifest.json``, every listed file's
size and SHA-256, and that nothing was added; :func:`read_bundle` verifies, then loads the
synthetic cohort and the report. Both are also importable from
:mod:`synthgen.release.bundle`. See ``docs/bundle.md``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from cryptography.exceptions import InvalidSignature

from synthgen.errors import InputError
from synthgen.release._bundle_format import (
    ALLOWED_FILES,
    BUNDLE_FORMAT_VERSION,
    BUNDLE_KIND,
    DATA_PARQUET,
    MANIFEST_FILE,
    SIGNATURE_FILE,
    TamperedBundleError,
    _is_plain_name,
    _sha256_file,
)
from synthgen.release.keys import key_id, load_public_key

__all__ = ["VerifyResult", "read_bundle", "verify_bundle"]


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify_bundle` found.

    Attributes:
        ok: the signature matches the given key and every file is exactly as signed.
        problems: one line per problem, naming the file and what differs; empty when ``ok``.
        manifest: the parsed ``manifest.json`` (``{}`` when it could not be read). Trust it
            only when ``ok`` is true.
        key_id: the id of the public key the bundle was checked against.
    """

    ok: bool
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    key_id: str = ""


# --------------------------------------------------------------------------- verifying


def _check_signature(
    bundle: Path, manifest_bytes: bytes, public_key: Any, kid: str, claimed_id: object
) -> str | None:
    sig_path = bundle / SIGNATURE_FILE
    if not sig_path.is_file():
        return f"{SIGNATURE_FILE}: missing (the bundle is not signed)"
    try:
        signature = base64.b64decode(sig_path.read_bytes().strip(), validate=True)
    except (OSError, binascii.Error, ValueError):
        return f"{SIGNATURE_FILE}: unreadable or not a base64 signature"
    try:
        public_key.verify(signature, manifest_bytes)
    except InvalidSignature:
        if isinstance(claimed_id, str) and claimed_id != kid:
            why = f"the manifest says it was signed with key {claimed_id}"
        else:
            why = "manifest.json or manifest.sig was changed after signing"
        return f"{MANIFEST_FILE} signature does not match the key {kid} ({why})"
    return None


def _parse_manifest(manifest_bytes: bytes) -> tuple[dict[str, Any], list[str]]:
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        return {}, [f"{MANIFEST_FILE}: not UTF-8 text"]
    except json.JSONDecodeError as exc:
        return {}, [f"{MANIFEST_FILE}: not valid JSON (line {exc.lineno}: {exc.msg})"]
    if not isinstance(manifest, dict):
        return {}, [f"{MANIFEST_FILE}: not a JSON object"]
    problems = []
    kind = manifest.get("kind")
    if kind != BUNDLE_KIND:
        problems.append(f"{MANIFEST_FILE}: kind is {kind!r}, expected '{BUNDLE_KIND}'")
    version = manifest.get("format_version")
    if version != BUNDLE_FORMAT_VERSION:
        problems.append(
            f"{MANIFEST_FILE}: format_version {version!r} is not supported "
            f"(this synthgen reads version {BUNDLE_FORMAT_VERSION})"
        )
    if not isinstance(manifest.get("files"), dict):
        problems.append(f"{MANIFEST_FILE}: 'files' is missing or not a mapping")
    return manifest, problems


def _file_problems(bundle: Path, files: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in sorted(files, key=str):
        entry = files[name]
        if not _is_plain_name(name) or name in (MANIFEST_FILE, SIGNATURE_FILE):
            problems.append(f"{name!r}: listed in the manifest but not a file a bundle may list")
            continue
        if name not in ALLOWED_FILES:
            problems.append(f"{name}: listed in the manifest but not a file a bundle may carry")
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("bytes"), int)
        ):
            problems.append(f"{name}: manifest entry is malformed (needs sha256 and bytes)")
            continue
        path = bundle / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            problems.append(f"{name}: not a regular file")
            continue
        if not path.exists():
            problems.append(f"{name}: listed in the manifest but missing")
            continue
        try:
            digest, size = _sha256_file(path)
        except OSError as exc:
            problems.append(f"{name}: unreadable ({exc.strerror or exc})")
            continue
        if size != entry["bytes"]:
            problems.append(
                f"{name}: size differs from the manifest ({size} bytes, "
                f"manifest says {entry['bytes']})"
            )
        elif digest != entry["sha256"]:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    for path in sorted(bundle.iterdir()):
        name = path.name
        if name in (MANIFEST_FILE, SIGNATURE_FILE) or name in files:
            continue
        shown = name + "/" if path.is_dir() and not path.is_symlink() else name
        problems.append(f"{shown}: not listed in the manifest (added after signing)")
    return problems


def verify_bundle(bundle_dir: str | Path, *, public_key_path: str | Path) -> VerifyResult:
    """Check a bundle against the custodian's public key.

    The signature over ``manifest.json`` is checked first, then every listed file's size and
    SHA-256, then that no unlisted file was added. Every problem is reported, one line each,
    naming the file and what differs. A tampered bundle never raises.

    Args:
        bundle_dir: the bundle folder.
        public_key_path: the custodian's public key, as given to you out of band, never the
            ``public_key.pem`` inside the bundle (a forger would replace that too).

    Returns:
        A :class:`VerifyResult`; ``ok`` is true only when there is no problem at all.

    Raises:
        InputError: the bundle folder does not exist, or the public key is missing,
            unreadable or not an Ed25519 public key.
    """
    bundle = Path(bundle_dir).expanduser()
    if not bundle.is_dir():
        what = "is not a folder" if bundle.exists() else "does not exist"
        raise InputError(f"bundle '{bundle}' {what}")
    key_file = Path(public_key_path).expanduser()
    public_key = load_public_key(key_file)
    kid = key_id(public_key)
    problems: list[str] = []
    if key_file.resolve().parent == bundle.resolve():
        problems.append(
            f"{key_file.name}: the key given is the one inside the bundle, which proves "
            "nothing; verify with the public key the custodian gave you out of band"
        )

    manifest_path = bundle / MANIFEST_FILE
    if not manifest_path.is_file():
        problems.append(f"{MANIFEST_FILE}: missing (not a synthgen bundle, or damaged)")
        return VerifyResult(ok=False, problems=problems, manifest={}, key_id=kid)
    try:
        manifest_bytes = manifest_path.read_bytes()
    except OSError as exc:
        problems.append(f"{MANIFEST_FILE}: unreadable ({exc.strerror or exc})")
        return VerifyResult(ok=False, problems=problems, manifest={}, key_id=kid)

    manifest, manifest_problems = _parse_manifest(manifest_bytes)
    signature_problem = _check_signature(
        bundle, manifest_bytes, public_key, kid, manifest.get("signing_key_id")
    )
    if signature_problem:
        problems.append(signature_problem)
    problems.extend(manifest_problems)
    files = manifest.get("files")
    if isinstance(files, dict):
        problems.extend(_file_problems(bundle, files))
    return VerifyResult(ok=not problems, problems=problems, manifest=manifest, key_id=kid)


# --------------------------------------------------------------------------- reading


def _read_checked(bundle: Path, name: str, manifest: dict[str, Any]) -> bytes:
    """Read a listed file and re-check its hash, so it cannot change between check and use."""
    entry = manifest["files"][name]
    data = (bundle / name).read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise TamperedBundleError([f"{name}: SHA-256 differs from the manifest"], bundle=bundle)
    return data


def read_bundle(
    bundle_dir: str | Path, *, public_key_path: str | Path
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Verify a bundle, then load its synthetic cohort and its report.

    Args:
        bundle_dir: the bundle folder.
        public_key_path: the custodian's public key, as given to you out of band.

    Returns:
        ``(synthetic, report)``: the synthetic cohort from ``synthetic.parquet`` (dtypes as
        the custodian wrote them) and the parsed ``report.json`` (``{}`` when the bundle
        carries no JSON report).

    Raises:
        TamperedBundleError: verification found any problem; the message lists them all.
        InputError: the folder or the key is missing or unusable.
    """
    bundle = Path(bundle_dir).expanduser()
    result = verify_bundle(bundle, public_key_path=public_key_path)
    if not result.ok:
        raise TamperedBundleError(result.problems, bundle=bundle)
    manifest = result.manifest
    if DATA_PARQUET not in manifest["files"]:
        raise TamperedBundleError([f"{DATA_PARQUET}: not listed in the manifest"], bundle=bundle)
    synthetic = pd.read_parquet(io.BytesIO(_read_checked(bundle, DATA_PARQUET, manifest)))
    report: dict[str, Any] = {}
    if "report.json" in manifest["files"]:
        report = json.loads(_read_checked(bundle, "report.json", manifest).decode("utf-8"))
    return synthetic, report
