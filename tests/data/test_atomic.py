"""Tests for synthgen.data.atomic: targets appear complete or not at all."""

from __future__ import annotations

import gc
import os
import stat

import pytest

from synthgen.data.atomic import (
    AtomicFile,
    atomic_dir,
    atomic_path,
    write_bytes_atomic,
    write_text_atomic,
)
from synthgen.errors import InputError


def listing(directory):
    return sorted(p.name for p in directory.iterdir())


class Boom(Exception):
    pass


# --------------------------------------------------------------------------- atomic_path


def test_atomic_path_writes_via_hidden_sibling(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".out.csv.tmp-")
        assert tmp.exists()
        tmp.write_text("a\n1\n")
        assert not target.exists()  # nothing at the target until the block ends
    assert target.read_text() == "a\n1\n"
    assert listing(tmp_path) == ["out.csv"]


def test_atomic_path_failure_removes_temp_and_keeps_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(Boom), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise Boom
    assert target.read_text() == "old"
    assert listing(tmp_path) == ["out.csv"]


def test_atomic_path_failure_leaves_no_target(tmp_path):
    with pytest.raises(Boom), atomic_path(tmp_path / "new.bin") as tmp:
        tmp.write_bytes(b"partial")
        raise Boom
    assert listing(tmp_path) == []


def test_atomic_path_overwrites_by_default(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_atomic_path_refuses_existing_without_overwrite(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(InputError, match="already exists; choose another path or remove it"):
        with atomic_path(target, overwrite=False):
            pytest.fail("must not yield")  # pragma: no cover
    assert target.read_text() == "old"
    assert listing(tmp_path) == ["x.txt"]


def test_atomic_path_no_overwrite_detects_target_created_meanwhile(tmp_path):
    target = tmp_path / "x.txt"
    with pytest.raises(InputError, match="already exists"):
        with atomic_path(target, overwrite=False) as tmp:
            tmp.write_text("mine")
            target.write_text("theirs")
    assert target.read_text() == "theirs"
    assert listing(tmp_path) == ["x.txt"]


def test_atomic_path_missing_parent_names_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(InputError, match="nope"):
        with atomic_path(missing / "x.csv"):
            pass  # pragma: no cover


def test_atomic_path_refuses_directory_target(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        with atomic_path(tmp_path / "d"):
            pass  # pragma: no cover


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_path_modes(tmp_path):
    with atomic_path(tmp_path / "private") as tmp:
        tmp.write_text("x")
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600
    with atomic_path(tmp_path / "shared", mode=0o644) as tmp:
        tmp.write_text("x")
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o644


def test_atomic_file_removed_when_abandoned(tmp_path):
    handle = AtomicFile(tmp_path / "x.txt")
    tmp = handle.path
    assert tmp.exists()
    del handle
    gc.collect()
    assert not tmp.exists()
    assert listing(tmp_path) == []


def test_atomic_file_commit_and_discard(tmp_path):
    handle = AtomicFile(tmp_path / "x.txt")
    handle.path.write_text("done")
    assert handle.commit() == tmp_path / "x.txt"
    handle.discard()  # no-op after commit
    assert (tmp_path / "x.txt").read_text() == "done"
    other = AtomicFile(tmp_path / "y.txt")
    other.discard()
    other.discard()
    assert listing(tmp_path) == ["x.txt"]


# --------------------------------------------------------------------------- helpers


def test_write_text_and_bytes_atomic(tmp_path):
    assert write_text_atomic(tmp_path / "a.txt", "Zoë\n") == tmp_path / "a.txt"
    assert (tmp_path / "a.txt").read_bytes() == "Zoë\n".encode()
    write_bytes_atomic(tmp_path / "b.bin", b"\x00\x01", mode=0o640)
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == 0o640
    with pytest.raises(InputError, match="already exists"):
        write_text_atomic(tmp_path / "a.txt", "other", overwrite=False)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "Zoë\n"
    assert listing(tmp_path) == ["a.txt", "b.bin"]


# --------------------------------------------------------------------------- atomic_dir


def test_atomic_dir_creates_directory(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".model.tmp-")
        (tmp / "weights.npy").write_bytes(b"w")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "meta.json").write_text("{}")
        assert not target.exists()
    assert (target / "weights.npy").read_bytes() == b"w"
    assert (target / "sub" / "meta.json").read_text() == "{}"
    assert listing(tmp_path) == ["model"]


def test_atomic_dir_failure_leaves_nothing(tmp_path):
    with pytest.raises(Boom), atomic_dir(tmp_path / "model") as tmp:
        (tmp / "half").write_text("x")
        raise Boom
    assert listing(tmp_path) == []


def test_atomic_dir_refuses_existing_by_default(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep").write_text("old")
    with pytest.raises(InputError, match="already exists"):
        with atomic_dir(target):
            pass  # pragma: no cover
    assert (target / "keep").read_text() == "old"
    assert listing(tmp_path) == ["model"]


def test_atomic_dir_overwrite_replaces_whole_directory(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale").write_text("old")
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "fresh").write_text("new")
    assert listing(target) == ["fresh"]
    assert listing(tmp_path) == ["model"]


def test_atomic_dir_failed_overwrite_keeps_old(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale").write_text("old")
    with pytest.raises(Boom), atomic_dir(target, overwrite=True) as tmp:
        (tmp / "fresh").write_text("new")
        raise Boom
    assert listing(target) == ["stale"]
    assert listing(tmp_path) == ["model"]


def test_atomic_dir_refuses_file_target_and_missing_parent(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        with atomic_dir(tmp_path / "f", overwrite=True):
            pass  # pragma: no cover
    with pytest.raises(InputError, match="missing"):
        with atomic_dir(tmp_path / "missing" / "model"):
            pass  # pragma: no cover
    assert listing(tmp_path) == ["f"]
