"""Signing model directories with the custodian key, and the key file itself."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from synthgen.errors import InputError, TamperedModelError
from synthgen.models.integrity import INTEGRITY_FILE, sign_directory, verify_directory
from synthgen.models.keys import KEY_BYTES, KEY_ENV, custodian_key, key_path

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    directory = tmp_path / "model"
    (directory / "state").mkdir(parents=True)
    (directory / "model.json").write_text('{"a": 1}', encoding="utf-8")
    (directory / "state" / "weights.bin").write_bytes(bytes(range(256)) * 4)
    sign_directory(directory, KEY)
    return directory


def test_signed_directory_verifies(signed: Path) -> None:
    verify_directory(signed, KEY)
    record = json.loads((signed / INTEGRITY_FILE).read_text(encoding="utf-8"))
    assert record["kind"] == "synthgen.integrity"
    assert record["algorithm"] == "HMAC-SHA256"
    assert sorted(record["files"]) == ["model.json", "state/weights.bin"]
    assert len(record["mac"]) == 64


def test_signing_is_deterministic(signed: Path) -> None:
    first = (signed / INTEGRITY_FILE).read_text(encoding="utf-8")
    sign_directory(signed, KEY)  # the old record is not itself covered
    assert (signed / INTEGRITY_FILE).read_text(encoding="utf-8") == first


def test_other_key_refused(signed: Path) -> None:
    with pytest.raises(TamperedModelError, match="not signed with this custodian's key"):
        verify_directory(signed, OTHER_KEY)


def test_changed_file_refused(signed: Path) -> None:
    file = signed / "state" / "weights.bin"
    data = bytearray(file.read_bytes())
    data[100] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(TamperedModelError, match=r"changed or missing: state/weights.bin\)"):
        verify_directory(signed, KEY)


def test_added_and_removed_files_named(signed: Path) -> None:
    (signed / "model.json").unlink()
    (signed / "state" / "extra.npy").write_bytes(b"\x00")
    with pytest.raises(TamperedModelError) as info:
        verify_directory(signed, KEY)
    message = str(info.value)
    assert "changed or missing: model.json" in message
    assert "unexpected: state/extra.npy" in message


@pytest.mark.parametrize(
    "record",
    [
        None,  # no record at all
        "not json",
        json.dumps({"files": {}}),  # no mac
        json.dumps({"kind": "something.else", "files": {}, "mac": "00"}),
        json.dumps({"kind": "synthgen.integrity", "files": ["model.json"], "mac": "00"}),
        json.dumps(["a list"]),
    ],
)
def test_missing_or_malformed_record_refused(signed: Path, record: str | None) -> None:
    if record is None:
        (signed / INTEGRITY_FILE).unlink()
    else:
        (signed / INTEGRITY_FILE).write_text(record, encoding="utf-8")
    with pytest.raises(TamperedModelError, match="no valid integrity record"):
        verify_directory(signed, KEY)


def test_record_edited_without_the_key_refused(signed: Path) -> None:
    file = signed / "model.json"
    file.write_text('{"a": 2}', encoding="utf-8")
    record = json.loads((signed / INTEGRITY_FILE).read_text(encoding="utf-8"))
    import hashlib

    record["files"]["model.json"] = hashlib.sha256(file.read_bytes()).hexdigest()
    (signed / INTEGRITY_FILE).write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(TamperedModelError, match="not signed"):
        verify_directory(signed, KEY)


# ------------------------------------------------------------------------ key file


@pytest.fixture
def fresh_key_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "conf" / "synthgen" / "custodian.key"
    monkeypatch.setenv(KEY_ENV, str(path))
    return path


def test_key_created_private_on_first_use(fresh_key_path: Path) -> None:
    assert not fresh_key_path.exists()
    key = custodian_key()
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(os.stat(fresh_key_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(fresh_key_path.parent).st_mode) & 0o077 == 0
    assert custodian_key() == key  # read back, not regenerated
    assert custodian_key(create=False) == key


def test_two_new_keys_differ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "a.key"))
    a = custodian_key()
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "b.key"))
    assert custodian_key() != a


def test_missing_key_not_created_when_asked(fresh_key_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        custodian_key(create=False)
    assert not fresh_key_path.exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"SECRETNOTHEX\n", "not a hex key"),
        (b"abc\n", "not a hex key"),  # odd number of digits
        (b"\xff\xfe\x00binary", "not a hex key"),
        (b"00112233\n", "too short"),
        (b"", "too short"),
    ],
)
def test_malformed_key_file_refused(fresh_key_path: Path, content: bytes, fragment: str) -> None:
    fresh_key_path.parent.mkdir(parents=True)
    fresh_key_path.write_bytes(content)
    fresh_key_path.chmod(0o600)
    with pytest.raises(InputError, match=fragment) as info:
        custodian_key()
    shown = content.decode("ascii", errors="ignore").strip()
    if shown:
        assert shown not in str(info.value)  # the key material is never echoed
    assert fresh_key_path.read_bytes() == content  # never replaced behind the user's back


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_readable_by_others_refused(fresh_key_path: Path, mode: int) -> None:
    key = custodian_key()
    fresh_key_path.chmod(mode)
    with pytest.raises(InputError, match="readable by other users") as info:
        custodian_key()
    assert key.hex() not in str(info.value)
    fresh_key_path.chmod(0o600)
    assert custodian_key() == key


def test_key_path_defaults_under_xdg_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert key_path() == tmp_path / "synthgen" / "custodian.key"


def test_key_path_honours_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "k"))
    assert key_path() == tmp_path / "k"


def test_suite_never_uses_the_home_key(custodian_key_file: Path) -> None:
    assert key_path() == custodian_key_file
    assert str(key_path()).startswith(str(custodian_key_file.parent))
