"""Signing and checking a directory with an HMAC-SHA256 under the custodian key.

Every file is hashed; the table of hashes is signed. A directory passes only when its files are
exactly the signed ones with the signed contents, so nothing is unpickled from a model that was
altered, extended or made with another custodian's key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from synthgen.errors import TamperedModelError

INTEGRITY_FILE = "integrity.json"
INTEGRITY_KIND = "synthgen.integrity"


def _file_digests(directory: Path) -> dict[str, str]:
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != INTEGRITY_FILE:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            out[path.relative_to(directory).as_posix()] = h.hexdigest()
    return out


def _mac(key: bytes, files: dict[str, str]) -> str:
    payload = json.dumps(files, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def sign_directory(directory: Path, key: bytes) -> None:
    """Write ``integrity.json`` covering every file now in ``directory``."""
    files = _file_digests(directory)
    doc = {
        "kind": INTEGRITY_KIND,
        "format_version": 1,
        "algorithm": "HMAC-SHA256",
        "files": files,
        "mac": _mac(key, files),
    }
    (directory / INTEGRITY_FILE).write_text(json.dumps(doc, indent=2), encoding="utf-8")


def verify_directory(directory: Path, key: bytes) -> None:
    """Refuse a directory whose files are not exactly those signed with ``key``.

    Raises:
        TamperedModelError: the signature is missing, malformed, made with another key, or a
            file was changed, added or removed.
    """
    where = f"model directory '{directory}'"
    try:
        doc = json.loads((directory / INTEGRITY_FILE).read_text(encoding="utf-8"))
        files, mac = doc["files"], doc["mac"]
        if doc.get("kind") != INTEGRITY_KIND or not isinstance(files, dict):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        raise TamperedModelError(
            f"{where} has no valid integrity record; refusing to load"
        ) from None
    if not hmac.compare_digest(_mac(key, files), str(mac)):
        raise TamperedModelError(
            f"{where} was not signed with this custodian's key or its integrity record was "
            "altered; refusing to load"
        )
    actual = _file_digests(directory)
    changed = sorted(f for f in files if actual.get(f) != files[f])
    added = sorted(set(actual) - set(files))
    if changed or added:
        parts = []
        if changed:
            parts.append(f"changed or missing: {', '.join(changed)}")
        if added:
            parts.append(f"unexpected: {', '.join(added)}")
        raise TamperedModelError(
            f"{where} failed its integrity check ({'; '.join(parts)}); refusing to load"
        )
