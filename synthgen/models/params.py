"""Hyper-parameters from the command line (``--param epochs=50``) or a YAML file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from synthgen.errors import ParameterError


def parse_param(text: str) -> tuple[str, Any]:
    """``"epochs=50"`` -> ``("epochs", 50)``; values are read as YAML scalars or lists."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ParameterError(f"parameter '{text}' is not of the form NAME=VALUE")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise ParameterError(f"parameter '{name}': value '{raw}' is not readable") from None
    if value is None:
        raise ParameterError(f"parameter '{name}' has no value")
    if isinstance(value, str):  # YAML 1.1 reads 2e-4 as text; a number was meant
        try:
            value = float(value)
        except ValueError:
            pass
    return name, value


def load_params(path: str | Path | None = None, items: Iterable[str] = ()) -> dict[str, Any]:
    """Merge parameters from a YAML mapping file and ``NAME=VALUE`` items (items win)."""
    params: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ParameterError(f"parameter file '{path}' does not exist")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            raise ParameterError(f"parameter file '{path}' is not valid YAML") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict) or not all(isinstance(k, str) for k in loaded):
            raise ParameterError(f"parameter file '{path}' must be a mapping of NAME: VALUE")
        params.update(loaded)
    for item in items:
        name, value = parse_param(item)
        params[name] = value
    return params
