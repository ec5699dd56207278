"""Sampling conditions such as ``sex=F`` or ``age>=80``: parsed, typed by the schema, applied."""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from synthgen.data.schema import FALSE_WORDS, TRUE_WORDS, Schema, parse_dates
from synthgen.errors import ParameterError

_OPS = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_PATTERN = re.compile(r"^\s*([^=!<>]+?)\s*(==|!=|>=|<=|=|>|<)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Condition:
    """One condition on one column: ``column op value``."""

    column: str
    op: str
    value: Any

    def mask(self, df: pd.DataFrame) -> pd.Series:
        """Rows of ``df`` that meet the condition (missing values never do)."""
        col = df[self.column]
        value = self.value
        if isinstance(value, str) and pd.api.types.is_numeric_dtype(col):
            # a categorical column coded as numbers (e.g. deprivation quintile 1-5)
            try:
                value = float(value)
            except ValueError:
                return pd.Series(False, index=df.index)
        result = _OPS[self.op](col, value)
        return result.fillna(False).astype(bool) & col.notna()

    def __str__(self) -> str:
        return f"{self.column}{self.op}{self.value}"


def parse_condition(text: str) -> tuple[str, str, str]:
    """Split ``"age>=80"`` into column, operator and raw value."""
    m = _PATTERN.match(text)
    if not m or not m.group(3):
        raise ParameterError(
            f"condition '{text}' is not of the form COLUMN=VALUE, COLUMN>=VALUE, ... "
            "(operators: = != >= <= > <)"
        )
    return m.group(1), m.group(2), m.group(3)


def _typed(value: Any, column: str, kind: str) -> Any:
    if not isinstance(value, str):
        return value
    raw = value.strip().strip("'\"")
    if kind in ("numeric", "integer"):
        try:
            return float(raw)
        except ValueError:
            raise ParameterError(f"condition on '{column}': '{raw}' is not a number") from None
    if kind == "boolean":
        low = raw.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise ParameterError(f"condition on '{column}': '{raw}' is not true or false")
    if kind == "datetime":
        parsed = parse_dates(pd.Series([raw]), None).iloc[0]
        if pd.isna(parsed):
            raise ParameterError(f"condition on '{column}': '{raw}' is not a date")
        return parsed
    return raw


def build_conditions(
    conditions: Iterable[str | Condition] | Mapping[str, Any] | None, schema: Schema
) -> list[Condition]:
    """Normalise conditions (strings, :class:`Condition` or a ``{column: value}`` dict).

    Every problem is collected and raised at once.
    """
    if not conditions:
        return []
    items: list[tuple[str, str, Any]] = []
    problems: list[str] = []
    if isinstance(conditions, Mapping):
        items = [(str(k), "==", v) for k, v in conditions.items()]
    else:
        for c in conditions:
            if isinstance(c, Condition):
                items.append((c.column, c.op, c.value))
            else:
                try:
                    items.append(parse_condition(str(c)))
                except ParameterError as exc:
                    problems.append(str(exc))
    out = []
    for column, op, value in items:
        if column not in schema:
            problems.append(f"condition on unknown column '{column}'")
            continue
        spec = schema[column]
        if spec.is_identifier:
            problems.append(f"condition on '{column}': direct identifiers cannot be conditioned on")
            continue
        if op not in ("==", "=", "!=") and spec.kind in ("categorical", "boolean", "text"):
            problems.append(f"condition on '{column}': {spec.kind} columns only take = or !=")
            continue
        try:
            out.append(
                Condition(column, "==" if op == "=" else op, _typed(value, column, spec.kind))
            )
        except ParameterError as exc:
            problems.append(str(exc))
    if problems:
        raise ParameterError("; ".join(problems))
    return out


def apply_conditions(df: pd.DataFrame, conditions: list[Condition]) -> pd.DataFrame:
    """Rows of ``df`` that meet every condition."""
    if not conditions:
        return df
    keep = pd.Series(True, index=df.index)
    for c in conditions:
        keep &= c.mask(df)
    return df[keep.to_numpy()]
