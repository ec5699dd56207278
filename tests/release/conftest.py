"""A ``chromium`` fixture for the headless-browser test of the rendered report.

The browser is found on PATH; failing that, on a Debian machine where the tests run as root,
it is installed once with apt-get (a minute or two). Otherwise the browser test is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
APT_INSTALL = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"


def _which() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def find_or_install_chromium() -> tuple[str | None, str]:
    """The path of a Chromium binary (installing it with apt-get if allowed) and a note."""
    path = _which()
    if path:
        return path, "found on PATH"
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not (is_root and shutil.which("apt-get") and os.path.exists("/etc/debian_version")):
        return None, "chromium is not on PATH and cannot be installed here (needs root + apt-get)"
    done = subprocess.run(
        ["bash", "-c", APT_INSTALL], capture_output=True, text=True, timeout=900, check=False
    )
    path = _which()
    if path:
        return path, "installed with apt-get"
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return None, f"apt-get could not install chromium (exit {done.returncode}): {tail[0]}"


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium; skips the test when none can be had."""
    path, note = find_or_install_chromium()
    if path is None:
        pytest.skip(f"no Chromium for the browser test: {note}")
    return path
