"""Ed25519 keys that sign release bundles.

The custodian makes a key pair once (``synthgen keygen``). The private key stays inside the
secure environment, readable by its owner only; the public key is handed to researchers out of
band (e-mail, a data-access agreement, a web page the custodian controls) and is what
:func:`synthgen.release.bundle.verify_bundle` checks a bundle against.

These keys are separate from the HMAC custodian key in :mod:`synthgen.models.keys`, which
protects model directories and never leaves the site.

Private keys are PEM, PKCS8. They are unencrypted unless the environment variable
``SYNTHGEN_SIGNING_PASSPHRASE`` is set when the pair is made; the same variable must then be
set whenever the key is loaded.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from synthgen.data.atomic import AtomicFile
from synthgen.errors import InputError

__all__ = [
    "PASSPHRASE_ENV",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
]

PASSPHRASE_ENV = "SYNTHGEN_SIGNING_PASSPHRASE"
"""Environment variable holding the passphrase of an encrypted private signing key."""

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644
_MAX_KEY_FILE_BYTES = 64 * 1024  # a PEM Ed25519 key is a few hundred bytes


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def _check_free(path: Path, *, overwrite: bool, what: str) -> None:
    if path.is_dir():
        raise InputError(f"{what} path '{path}' is a directory; give a file path")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise InputError(
            f"{what} '{path}' already exists; refusing to overwrite it (pass overwrite=True, "
            "or --force on the command line, to replace the key pair)"
        )


def generate_keypair(
    private_path: str | Path, public_path: str | Path, *, overwrite: bool = False
) -> tuple[Path, Path]:
    """Make a new Ed25519 key pair for signing bundles.

    The private key is written as PEM (PKCS8) with mode ``0600``, encrypted with the
    passphrase in ``SYNTHGEN_SIGNING_PASSPHRASE`` when that variable is set; the public key as
    PEM (SubjectPublicKeyInfo) with mode ``0644``. Both are written atomically, and both paths
    are checked before either file is written. Missing parent folders are created (the private
    key's with mode ``0700``).

    Args:
        private_path: where the private key goes; it must never leave the secure environment.
        public_path: where the public key goes; give this file to researchers.
        overwrite: replace existing key files; when false, refuse them.

    Returns:
        ``(private_path, public_path)`` as paths.

    Raises:
        InputError: either path exists and ``overwrite`` is false, is a folder, or both paths
            are the same file.
    """
    private_path = Path(private_path).expanduser()
    public_path = Path(public_path).expanduser()
    if private_path.resolve() == public_path.resolve():
        raise InputError(
            f"the private and public key paths are the same ('{private_path}'); give two files"
        )
    _check_free(private_path, overwrite=overwrite, what="private signing key")
    _check_free(public_path, overwrite=overwrite, what="public signing key")
    private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_path.parent.mkdir(parents=True, exist_ok=True)

    key = Ed25519PrivateKey.generate()
    passphrase = _passphrase()
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    private_file = AtomicFile(private_path, overwrite=overwrite, mode=PRIVATE_MODE)
    public_file: AtomicFile | None = None
    try:
        public_file = AtomicFile(public_path, overwrite=overwrite, mode=PUBLIC_MODE)
        private_file.path.write_bytes(private_pem)
        public_file.path.write_bytes(public_pem)
        private_file.commit()
    except BaseException:
        private_file.discard()
        if public_file is not None:
            public_file.discard()
        raise
    try:
        public_file.commit()
    except BaseException:
        # Never leave a private key without its public half: the pair is one thing.
        private_path.unlink(missing_ok=True)
        raise
    return private_path, public_path


def _read_key_file(path: Path, what: str) -> bytes:
    if not path.exists():
        raise InputError(f"{what} '{path}' does not exist")
    if not path.is_file():
        raise InputError(f"{what} '{path}' is not a file")
    try:
        if path.stat().st_size > _MAX_KEY_FILE_BYTES:
            raise InputError(f"{what} '{path}' is too large to be a PEM Ed25519 key")
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what} '{path}' is unreadable ({exc.strerror or exc})") from None


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read the custodian's private signing key.

    Args:
        path: a PEM (PKCS8) Ed25519 private key made by :func:`generate_keypair`.

    Returns:
        The private key.

    Raises:
        InputError: the file is missing, readable by group or others, encrypted without
            ``SYNTHGEN_SIGNING_PASSPHRASE`` set (or with the wrong passphrase), or not a PEM
            Ed25519 private key.
    """
    path = Path(path).expanduser()
    what = "private signing key"
    if not path.exists():
        raise InputError(f"{what} '{path}' does not exist")
    if os.name == "posix" and path.is_file():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise InputError(
                f"{what} '{path}' is readable by other users (mode {mode:o}); "
                f"run: chmod 600 '{path}'"
            )
    data = _read_key_file(path, what)
    bad_format = f"{what} '{path}' is not an Ed25519 private key in PEM (PKCS8) format"
    if b"PUBLIC KEY-----" in data and b"PRIVATE KEY-----" not in data:
        raise InputError(f"{bad_format}: it holds a public key")
    encrypted = b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data
    passphrase = _passphrase()
    if encrypted and passphrase is None:
        raise InputError(f"{what} '{path}' is encrypted; set {PASSPHRASE_ENV} to its passphrase")
    try:
        key = serialization.load_pem_private_key(data, password=passphrase if encrypted else None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        if encrypted:
            raise InputError(
                f"{what} '{path}' could not be decrypted: wrong passphrase in {PASSPHRASE_ENV}"
                " or a damaged file"
            ) from None
        raise InputError(bad_format) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{bad_format}: it holds a {type(key).__name__.lstrip('_')}")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Read a public signing key, as given to a researcher by the custodian.

    Args:
        path: a PEM (SubjectPublicKeyInfo) Ed25519 public key.

    Returns:
        The public key.

    Raises:
        InputError: the file is missing, unreadable, a private key, or not a PEM Ed25519
            public key.
    """
    path = Path(path).expanduser()
    what = "public signing key"
    data = _read_key_file(path, what)
    bad_format = f"{what} '{path}' is not an Ed25519 public key in PEM format"
    if b"PRIVATE KEY-----" in data:
        raise InputError(
            f"{bad_format}: it holds a private key, which must stay with the custodian; "
            "verify with the public key"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(bad_format) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{bad_format}: it holds a {type(key).__name__.lstrip('_')}")
    return key


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """A short, stable name for a key pair: the first 16 hex digits of SHA-256 of the raw
    32-byte public key. A private key gives the id of its public half.
    """
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"key_id needs an Ed25519 key, got {type(key).__name__}")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]
