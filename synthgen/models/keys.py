"""The custodian key: a secret that signs model directories made on this site.

It is created on first use with 0600 permissions. ``SYNTHGEN_KEY_FILE`` overrides its path;
by default it lives under ``$XDG_CONFIG_HOME/synthgen`` (``~/.config/synthgen``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from synthgen.errors import InputError

KEY_ENV = "SYNTHGEN_KEY_FILE"
KEY_BYTES = 32


def key_path() -> Path:
    """Where the custodian key is read from (and created if missing)."""
    override = os.environ.get(KEY_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "synthgen" / "custodian.key"


def custodian_key(*, create: bool = True) -> bytes:
    """Read the custodian key, creating it with 0600 permissions on first use.

    Raises:
        InputError: the key file is unreadable or malformed, or missing while ``create`` is
            False.
    """
    path = key_path()
    if not path.exists():
        if not create:
            raise InputError(f"custodian key '{path}' does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return custodian_key(create=False)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(KEY_BYTES) + "\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InputError(
            f"custodian key '{path}' is readable by other users (mode {mode:o}); "
            f"run: chmod 600 '{path}'"
        )
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError):
        raise InputError(f"custodian key '{path}' is unreadable or not a hex key") from None
    if len(key) < 16:
        raise InputError(f"custodian key '{path}' is too short")
    return key
