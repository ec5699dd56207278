"""Helpers shared by the fidelity measures: input checks, subsampling, rounding (internal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema


# ------------------------------------------------------------------------- rounding
def round4(x: float | None) -> float | None:
    """``x`` rounded to 4 decimals for JSON; None when it is None, NaN or infinite."""
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def round4_ci(ci: tuple[float, float] | None) -> list[float | None] | None:
    """An interval as a rounded ``[low, high]`` list (None stays None)."""
    return None if ci is None else [round4(ci[0]), round4(ci[1])]


def with_sizes(out: dict[str, Any], result: Any, reason: str | None) -> dict[str, Any]:
    """``out`` plus the ``n_train``, ``n_synthetic`` and ``n_holdout`` of ``result``, and
    ``reason`` when there is one."""
    out.update(
        n_train=int(result.n_train),
        n_synthetic=int(result.n_synthetic),
        n_holdout=int(result.n_holdout),
    )
    return with_reason(out, reason)


def with_reason(out: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """``out`` with a ``reason`` entry when ``reason`` is set."""
    if reason:
        out["reason"] = reason
    return out


# --------------------------------------------------------------------------- inputs
def shared_columns(schema: Schema, **tables: Any) -> tuple[list[str], list[str]]:
    """The schema's model columns present in every table, and the problems found.

    Returns:
        ``(columns, problems)``: problems name every table that is not a DataFrame, or say
        that no model column is shared; the caller raises them with its own.
    """
    problems = [
        f"the {name} table must be a pandas DataFrame, got {type(df).__name__}"
        for name, df in tables.items()
        if not isinstance(df, pd.DataFrame)
    ]
    if problems:
        return [], problems
    columns = [c for c in schema.model_columns if all(c in df.columns for df in tables.values())]
    if not columns:
        problems.append(
            "no model column of the schema is present in all of "
            + ", ".join(f"the {name} table" for name in tables)
        )
    return columns, problems


def int_problem(name: str, value: Any, least: int) -> list[str]:
    """A one-item problem list when ``value`` is not an integer of at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        return [f"{name} must be an integer of at least {least}; got {value!r}"]
    return []


def input_problems(
    frames: Mapping[str, Any], schema: Any, settings: Mapping[str, tuple[Any, int]]
) -> list[str]:
    """Problems with tables that are not DataFrames, a schema that is not a Schema, and
    settings (name -> ``(value, least)``) that are not integers of at least ``least``."""
    problems = [
        f"{what} must be a pandas DataFrame; got {type(df).__name__}"
        for what, df in frames.items()
        if not isinstance(df, pd.DataFrame)
    ]
    if not isinstance(schema, Schema):
        problems.append(f"schema must be a synthgen Schema; got {type(schema).__name__}")
    for what, (value, least) in settings.items():
        problems += int_problem(what, value, least)
    return problems


# ------------------------------------------------------------------------ sampling
def subsample_rows(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Row positions of a seeded subsample of at most ``cap`` of ``n`` rows, in order.

    All rows (and no draw from ``rng``) when ``n <= cap``.
    """
    if n <= cap:
        return np.arange(n)
    return np.sort(rng.choice(n, cap, replace=False))


def child_seeds(seed: int | None, n: int) -> tuple[int, ...]:
    """``n`` integer seeds drawn from a generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    return tuple(int(s) for s in rng.integers(0, 2**31 - 1, size=n))
