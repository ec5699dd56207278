"""Helpers for the end-to-end CLI tests: run ``python -m synthgen.cli`` and check the result."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Ultra-rare conditions are constant in a 400-row cohort; the CLI rightly refuses those.
RARE_COLUMNS = ("cystic_fibrosis", "sickle_cell", "huntingtons")
IDENTIFIER_COLUMNS = ("patient_id", "name", "nhs_number", "postcode")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class CliResult:
    """What one CLI run produced (ANSI escapes removed)."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def cli_env(key_file: Path) -> dict[str, str]:
    """The environment of a CLI subprocess: its own custodian key, one thread."""
    env = {k: v for k, v in os.environ.items() if k not in ("SYNTHGEN_DEBUG", "COLUMNS")}
    env.update(
        SYNTHGEN_KEY_FILE=str(key_file),
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONWARNINGS="ignore",
    )
    return env


def run_synthgen(
    args: list[object],
    *,
    key_file: Path,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
) -> CliResult:
    """Run ``python -m synthgen.cli ARGS`` and return its exit code and output."""
    proc = subprocess.run(
        [sys.executable, "-m", "synthgen.cli", *map(str, args)],
        env=cli_env(key_file) | (extra_env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, ANSI.sub("", proc.stdout), ANSI.sub("", proc.stderr))


def assert_ok(result: CliResult) -> None:
    """Exit 0 and no traceback."""
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output


def assert_one_line_error(result: CliResult) -> str:
    """Exit 1, one ``Error:`` line on stderr, no traceback; return that line."""
    assert result.returncode == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error:"), result.stderr
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files or folders (``.NAME.tmp-XXXX``) left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and "tmp" in p.name)
