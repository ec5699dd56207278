"""Ed25519 signing keys: generation, permissions, refusals, key ids."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from synthgen.errors import InputError
from synthgen.release.keys import (
    PASSPHRASE_ENV,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def _no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return generate_keypair(tmp_path / "keys" / "signing.pem", tmp_path / "keys" / "signing.pub")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_round_trip_signs_and_verifies(pair: tuple[Path, Path]) -> None:
    private_path, public_path = pair
    private = load_private_key(private_path)
    public = load_public_key(public_path)
    assert isinstance(private, Ed25519PrivateKey)
    assert isinstance(public, Ed25519PublicKey)
    public.verify(private.sign(b"manifest"), b"manifest")  # raises if they do not pair
    assert key_id(public) == key_id(private)
    assert len(key_id(public)) == 16
    int(key_id(public), 16)


def test_files_are_pem_in_the_expected_formats(pair: tuple[Path, Path]) -> None:
    private_path, public_path = pair
    assert private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


@posix_only
def test_permissions(pair: tuple[Path, Path]) -> None:
    private_path, public_path = pair
    assert _mode(private_path) == 0o600
    assert _mode(public_path) == 0o644
    assert _mode(private_path.parent) & 0o077 == 0
    assert not [p for p in private_path.parent.iterdir() if p.name.startswith(".")]


@posix_only
def test_private_key_readable_by_others_is_refused(pair: tuple[Path, Path]) -> None:
    private_path, _ = pair
    private_path.chmod(0o644)
    with pytest.raises(InputError, match=r"readable by other users \(mode 644\).*chmod 600"):
        load_private_key(private_path)
    private_path.chmod(0o640)
    with pytest.raises(InputError, match="readable by other users"):
        load_private_key(private_path)


def test_overwrite_is_refused_unless_asked(pair: tuple[Path, Path]) -> None:
    private_path, public_path = pair
    before = (private_path.read_bytes(), public_path.read_bytes())
    with pytest.raises(InputError, match="already exists; refusing to overwrite"):
        generate_keypair(private_path, public_path)
    assert (private_path.read_bytes(), public_path.read_bytes()) == before
    generate_keypair(private_path, public_path, overwrite=True)
    assert private_path.read_bytes() != before[0]
    load_public_key(public_path).verify(load_private_key(private_path).sign(b"x"), b"x")


def test_existing_public_key_blocks_before_anything_is_written(tmp_path: Path) -> None:
    public_path = tmp_path / "signing.pub"
    public_path.write_text("keep me")
    with pytest.raises(InputError, match="public signing key"):
        generate_keypair(tmp_path / "signing.pem", public_path)
    assert not (tmp_path / "signing.pem").exists()
    assert public_path.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing.pub"]


def test_same_path_for_both_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the same"):
        generate_keypair(tmp_path / "k.pem", tmp_path / "k.pem")


@pytest.mark.parametrize(
    "content",
    [b"", b"not a key at all", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
)
@posix_only
def test_wrong_format_private_key(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.pem"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(InputError, match=r"is not an Ed25519 private key in PEM \(PKCS8\) format"):
        load_private_key(path)


@posix_only
def test_public_key_given_as_private_and_rsa_key_are_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    _, public_path = pair
    public_path.chmod(0o600)
    with pytest.raises(InputError, match="it holds a public key"):
        load_private_key(public_path)
    rsa_path = tmp_path / "rsa.pem"
    rsa_path.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    rsa_path.chmod(0o600)
    with pytest.raises(InputError, match="not an Ed25519 private key.*RSA"):
        load_private_key(rsa_path)


def test_public_key_refusals(pair: tuple[Path, Path], tmp_path: Path) -> None:
    private_path, _ = pair
    with pytest.raises(InputError, match="holds a private key"):
        load_public_key(private_path)
    bad = tmp_path / "bad.pub"
    bad.write_text("hello")
    with pytest.raises(InputError, match="is not an Ed25519 public key in PEM format"):
        load_public_key(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_public_key(tmp_path / "missing.pub")
    with pytest.raises(InputError, match="does not exist"):
        load_private_key(tmp_path / "missing.pem")


@posix_only
def test_passphrase_encrypted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    private_path, public_path = generate_keypair(tmp_path / "s.pem", tmp_path / "s.pub")
    assert private_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert key_id(load_private_key(private_path)) == key_id(load_public_key(public_path))
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(InputError, match="could not be decrypted"):
        load_private_key(private_path)
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(InputError, match=f"is encrypted; set {PASSPHRASE_ENV}"):
        load_private_key(private_path)


def test_key_id_is_stable_and_distinct(pair: tuple[Path, Path], tmp_path: Path) -> None:
    _, public_path = pair
    assert key_id(load_public_key(public_path)) == key_id(load_public_key(public_path))
    _, other = generate_keypair(tmp_path / "o.pem", tmp_path / "o.pub")
    assert key_id(load_public_key(other)) != key_id(load_public_key(public_path))
