"""Atomic writes: a file or directory appears at its target complete, or not at all.

Everything is first written to a hidden temporary sibling of the target (same directory, so
the final rename stays on one filesystem and is atomic), flushed to disk, then renamed into
place. A failure removes the temporary and leaves the target as it was.

Temporary files are created by :func:`tempfile.mkstemp` and so are readable by their owner
only (``0o600``); results keep that mode unless ``mode`` says otherwise, which suits
patient-level data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from synthgen.errors import InputError

__all__ = [
    "AtomicFile",
    "atomic_dir",
    "atomic_path",
    "write_bytes_atomic",
    "write_text_atomic",
]


def _check_target(target: Path, *, overwrite: bool, want_dir: bool) -> None:
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"Directory '{parent}' does not exist; create it before writing {target}.")
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise InputError(f"{target} already exists; choose another path or remove it")
        if not want_dir and target.is_dir():
            raise InputError(f"{target} is a directory; expected a file path.")
        if want_dir and not target.is_dir():
            raise InputError(f"{target} is a file; expected a directory path.")


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    """Flush ``path`` to disk; best effort for directories (not every OS allows it)."""
    flags = os.O_RDONLY
    if directory:
        flags |= getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass


class AtomicFile:
    """A temporary sibling of ``target`` that becomes ``target`` on :meth:`commit`.

    The non-context-manager form of :func:`atomic_path`, for writers that stay open across
    several calls (e.g. a streaming table writer). If the object is garbage collected
    without :meth:`commit`, the temporary file is removed.

    Args:
        target: final path of the file.
        overwrite: replace an existing file at ``target``; when false, refuse it.
        mode: permission bits for the final file; ``None`` keeps ``0o600``.

    Raises:
        InputError: the parent directory is missing, or ``target`` exists and
            ``overwrite`` is false, or ``target`` is a directory.
    """

    def __init__(self, target: str | Path, *, overwrite: bool = True, mode: int | None = None):
        self.target = Path(target)
        self.overwrite = overwrite
        self.mode = mode
        _check_target(self.target, overwrite=overwrite, want_dir=False)
        fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent)
        os.close(fd)
        self.path = Path(name)
        self.done = False
        self._finalizer = weakref.finalize(self, _remove_quietly, name)

    def commit(self) -> Path:
        """Flush the temporary file to disk and rename it onto the target.

        Returns:
            The target path.
        """
        if self.done:
            raise InputError(f"The temporary file for {self.target} was already finalised.")
        try:
            if self.mode is not None:
                os.chmod(self.path, self.mode)
            _fsync_path(self.path)
            if self.overwrite:
                os.replace(self.path, self.target)
            else:
                self._place_without_overwrite()
        except BaseException:
            self.discard()
            raise
        self.done = True
        self._finalizer.detach()
        _fsync_path(self.target.parent, directory=True)
        return self.target

    def _place_without_overwrite(self) -> None:
        # A hard link fails if the target appeared in the meantime: no check-then-rename race.
        try:
            os.link(self.path, self.target)
        except FileExistsError:
            raise InputError(
                f"{self.target} already exists; choose another path or remove it"
            ) from None
        except OSError:
            # Filesystem without hard links: fall back to check-then-rename.
            if self.target.exists():
                raise InputError(
                    f"{self.target} already exists; choose another path or remove it"
                ) from None
            os.replace(self.path, self.target)
        else:
            os.unlink(self.path)

    def discard(self) -> None:
        """Remove the temporary file; the target is left untouched. Safe to call twice."""
        if not self.done:
            self.done = True
            self._finalizer.detach()
            _remove_quietly(str(self.path))


@contextmanager
def atomic_path(
    target: str | Path, *, overwrite: bool = True, mode: int | None = None
) -> Iterator[Path]:
    """Yield a temporary path that replaces ``target`` when the block ends without error.

    Args:
        target: final path of the file.
        overwrite: replace an existing file at ``target``; when false, refuse it up front.
        mode: permission bits for the final file; ``None`` keeps ``0o600``.

    Yields:
        A hidden temporary path (``.{name}.tmp-<random>``) in the target's directory. It already
        exists (empty); write to it by name.

    Raises:
        InputError: the parent directory is missing, or ``target`` exists and ``overwrite``
            is false.
    """
    handle = AtomicFile(target, overwrite=overwrite, mode=mode)
    try:
        yield handle.path
    except BaseException:
        handle.discard()
        raise
    handle.commit()


@contextmanager
def atomic_dir(target: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that becomes ``target`` when the block ends without error.

    With ``overwrite``, an existing directory at ``target`` is moved aside, the new one is
    renamed into place, and only then is the old one removed; if the swap fails the old one
    is put back.

    Args:
        target: final path of the directory.
        overwrite: replace an existing directory at ``target``; when false, refuse it.

    Yields:
        A hidden, empty temporary directory (``.{name}.tmp-<random>``, mode ``0o700``) next to
        the target.

    Raises:
        InputError: the parent directory is missing, ``target`` exists and ``overwrite`` is
            false, or ``target`` is a file.
    """
    target = Path(target)
    _check_target(target, overwrite=overwrite, want_dir=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        for root, _dirs, files in os.walk(tmp):
            for name in files:
                _fsync_path(Path(root, name))
        _swap_dir_into_place(tmp, target, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_path(target.parent, directory=True)


def _swap_dir_into_place(tmp: Path, target: Path, *, overwrite: bool) -> None:
    if not (target.exists() or target.is_symlink()):
        # os.rename onto an existing empty directory succeeds on POSIX; re-check first.
        os.rename(tmp, target)
        return
    if not overwrite:
        raise InputError(f"{target} already exists; choose another path or remove it")
    if not target.is_dir():
        raise InputError(f"{target} is a file; expected a directory path.")
    aside_root = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    aside = aside_root / "old"
    try:
        os.rename(target, aside)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(aside, target)
            raise
    finally:
        shutil.rmtree(aside_root, ignore_errors=True)


def write_bytes_atomic(
    path: str | Path, data: bytes, *, overwrite: bool = True, mode: int | None = None
) -> Path:
    """Write ``data`` to ``path`` atomically.

    Args:
        path: destination file.
        data: the bytes to write.
        overwrite: replace an existing file; when false, refuse it.
        mode: permission bits for the file; ``None`` keeps ``0o600``.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    with atomic_path(path, overwrite=overwrite, mode=mode) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(
    path: str | Path,
    text: str,
    *,
    overwrite: bool = True,
    mode: int | None = None,
    encoding: str = "utf-8",
) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8, newlines as given).

    Args:
        path: destination file.
        text: the text to write.
        overwrite: replace an existing file; when false, refuse it.
        mode: permission bits for the file; ``None`` keeps ``0o600``.
        encoding: text encoding.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    return write_bytes_atomic(path, text.encode(encoding), overwrite=overwrite, mode=mode)
