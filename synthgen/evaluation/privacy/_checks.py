"""Input checks shared by the privacy measures: one error naming every problem."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError


def check_tables(
    schema: Schema, columns: Sequence[str] | None = None, **tables: pd.DataFrame | None
) -> list[str]:
    """Check that every given table is a non-empty DataFrame holding ``columns``.

    Args:
        schema: the schema; ``columns`` defaults to its model columns.
        columns: the columns each table must hold.
        **tables: name -> table; None entries are skipped (optional tables).

    Returns:
        The columns checked.
    """
    columns = list(schema.model_columns if columns is None else columns)
    if not columns:
        raise InputError("the schema has no model columns to compare")
    problems = []
    for name, df in tables.items():
        if df is None:
            continue
        if not isinstance(df, pd.DataFrame):
            problems.append(f"the {name} table must be a pandas DataFrame, got {type(df).__name__}")
            continue
        missing = [c for c in columns if c not in df.columns]
        if missing:
            problems.append(f"the {name} table lacks columns: {', '.join(missing)}")
        elif len(df) == 0:
            problems.append(f"the {name} table has no rows")
    if problems:
        raise InputError("; ".join(problems))
    return columns
