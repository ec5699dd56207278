"""The layout of a release bundle: its kind and version, the files it may hold, the error a
failed check raises, and the name and hash checks that writing and verifying share.

See :mod:`synthgen.release.bundle` (writing) and :mod:`synthgen.release.verify` (verifying).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path, PurePath

from synthgen.errors import SynthgenError

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
