"""Release bundles: the signed folder that crosses the border, and its verification.

A bundle holds the synthetic cohort (CSV and Parquet), the evaluation report (HTML, PDF,
JSON), ``manifest.json`` (SHA-256 and size of every file, provenance, policy, verdict) and
``manifest.sig``, an Ed25519 signature over the exact bytes of ``manifest.json``. Nothing
else may be in it: no model, no real data, no stray file. See ``docs/bundle.md``.

The custodian calls :func:`write_bundle` inside the secure environment; a researcher calls
:func:`verify_bundle` or :func:`read_bundle` with the public key the custodian gave them out of
band.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path, PurePath
from typing import Any

import pandas as pd
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from synthgen.data.atomic import atomic_dir
from synthgen.data.io import write_table
from synthgen.errors import InputError, SynthgenError
from synthgen.release.keys import key_id, load_private_key, load_public_key

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

BUNDLE_KIND = "synthgen.bundle"
BUNDLE_FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
PUBLIC_KEY_FILE = "public_key.pem"
DATA_CSV = "synthetic.csv"
DATA_PARQUET = "synthetic.parquet"
DATA_FILES = (DATA_CSV, DATA_PARQUET)
REPORT_FILES = ("report.html", "report.pdf", "report.json")
"""The only report files a bundle may carry."""
ALLOWED_FILES = frozenset((*DATA_FILES, *REPORT_FILES, PUBLIC_KEY_FILE))
"""Every file a bundle may list in its manifest (``manifest.json``/``.sig`` are not listed)."""


class TamperedBundleError(SynthgenError, ValueError):
    """A bundle failed verification and was not read.

    Args:
        problems: every problem :func:`verify_bundle` found; the message lists them all.
        bundle: the bundle folder, for the message.
    """

    def __init__(self, problems: Iterable[str], *, bundle: str | Path | None = None):
        self.problems = list(problems)
        where = f"bundle '{bundle}'" if bundle is not None else "bundle"
        if len(self.problems) == 1:
            detail = self.problems[0]
        else:
            detail = f"{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(f"{where} failed verification, refusing to read it: {detail}")


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


# --------------------------------------------------------------------------- helpers


def _is_plain_name(name: object) -> bool:
    """A single, visible file name: no folders, no '..', no hidden or control characters."""
    if not isinstance(name, str) or not name or name in (".", ".."):
        return False
    if name.startswith(".") or "/" in name or "\\" in name:
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return False
    return PurePath(name).name == name


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


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
