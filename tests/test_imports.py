"""``import synthgen`` and the CLI's start stay light: the heavy libraries load on first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

import synthgen as sg

HEAVY = ("pandas", "sklearn", "scipy", "torch", "sdv", "sdmetrics")


def _loaded_after(statement: str) -> list[str]:
    code = f"{statement}; import sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.split()


@pytest.mark.parametrize("statement", ["import synthgen", "import synthgen.cli"])
def test_importing_the_package_or_the_cli_loads_no_heavy_library(statement):
    assert _loaded_after(statement) == []


def test_a_public_name_loads_its_module_on_first_use():
    assert "pandas" in _loaded_after("import synthgen; synthgen.read_table")


def test_every_public_name_resolves():
    for name in sg.__all__:
        assert getattr(sg, name) is not None, name
    assert sg.evaluate.__module__ == "synthgen.evaluation.evaluate"
    assert sg.datasets.__name__ == "synthgen.datasets"
    assert set(sg.__all__) <= set(dir(sg))
    assert set(sg._HOMES) == set(sg.__all__)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        sg.no_such_name  # noqa: B018
