"""Declared logical rules: ``<column> <op> <column-or-literal>`` checks a cohort must pass.

A schema may carry rules the custodian knows hold in the real data, e.g.
``diastolic_bp < systolic_bp``, ``followup_days >= 0`` or ``index_date >= 2000-01-01``. The
synthetic cohort is checked against them (:func:`synthgen.evaluation.fidelity.validity`).

Grammar: a left column, one operator of ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``, and a
right side that is a column of the schema when one is so named, and a literal otherwise. The
first operator in the text splits it, so a column name may hold spaces but no ``<``, ``>``,
``=`` or ``!``. Literals by the left column's kind:

- numeric, integer: a number (``0``, ``-1.5``, ``1e3``);
- datetime: a date or timestamp pandas can read (``2000-01-01``, ``2020-06-01T12:00``);
- boolean: ``true``/``false`` (or yes/no, 1/0);
- categorical, text: a quoted string (``"F"`` or ``'F'``), with ``==`` and ``!=`` only.

Two columns compare when both are numbers (numeric, integer), both datetimes, both booleans
(equality only) or both categorical/text (equality only). Rows where either side is missing
are not counted as violations: the rule says nothing about them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_ORDERING = frozenset({"<", "<=", ">", ">="})
_PATTERN = re.compile(r"^\s*(?P<left>[^<>=!]+?)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<right>.+?)\s*$")
_FAMILY = {
    "numeric": "number",
    "integer": "number",
    "datetime": "datetime",
    "boolean": "boolean",
    "categorical": "label",
    "text": "label",
}
_LITERAL_WORDS = {
    "number": "a number",
    "datetime": "a date",
    "boolean": "true or false",
    "label": "a quoted string",
}


@dataclass(frozen=True)
class Rule:
    """One parsed rule.

    Attributes:
        text: the rule as declared.
        left: the left column.
        op: the operator.
        right: the right column, or None when the right side is a literal.
        literal: the right-hand literal (float, ``pandas.Timestamp``, bool or str), or None.
    """

    text: str
    left: str
    op: str
    right: str | None = None
    literal: Any = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the rule reads."""
        return (self.left,) if self.right is None else (self.left, self.right)

    def violations(
        self, table: Mapping[str, pd.Series], kinds: Mapping[str, str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which rows break the rule.

        Args:
            table: the typed columns (as :meth:`synthgen.data.schema.Schema.coerce` gives
                them) of every column the rule reads.
            kinds: column name -> kind.

        Returns:
            ``(broken, evaluated)``: boolean arrays, one entry per row. A row is evaluated
            when neither side is missing; only evaluated rows can be broken.
        """
        left, left_ok = _comparable(table[self.left], kinds[self.left])
        if self.right is not None:
            right, right_ok = _comparable(table[self.right], kinds[self.right])
        else:
            right, right_ok = _literal_value(self.literal, kinds[self.left]), True
        evaluated = left_ok & right_ok
        with np.errstate(invalid="ignore"):
            holds = np.asarray(OPERATORS[self.op](left, right), dtype=bool)
        return evaluated & ~holds, np.asarray(evaluated, dtype=bool)


def _comparable(series: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Values as a numpy array that compares by the kind, and a mask of present values."""
    present = series.notna().to_numpy(dtype=bool)
    family = _FAMILY[kind]
    if family == "datetime":
        raw = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")
        return raw.view(np.int64), present
    if family in ("number", "boolean"):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan), present
    return series.to_numpy(dtype=object), present


def _literal_value(literal: Any, kind: str) -> Any:
    family = _FAMILY[kind]
    if family == "datetime":
        return pd.Timestamp(literal).as_unit("ns").value
    if family == "boolean":
        return 1.0 if literal else 0.0
    return literal


def _parse_literal(text: str, family: str) -> tuple[Any, bool]:
    """The literal for a column of ``family``, and whether it parsed."""
    from synthgen.data.schema import FALSE_WORDS, TRUE_WORDS

    quoted = len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""
    bare = text[1:-1] if quoted else text
    if family == "label":
        return (bare, True) if quoted else (None, False)
    if family == "number":
        try:
            value = float(bare)
        except ValueError:
            return None, False
        return value, bool(np.isfinite(value))
    if family == "boolean":
        word = bare.strip().lower()
        if word in TRUE_WORDS:
            return True, True
        if word in FALSE_WORDS:
            return False, True
        return None, False
    try:
        stamp = pd.Timestamp(bare)
    except (ValueError, TypeError, OverflowError):
        return None, False
    if stamp is pd.NaT:
        return None, False
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp, True


def parse_rule(text: Any, kinds: Mapping[str, str | None]) -> tuple[Rule | None, list[str]]:
    """Parse one rule against the schema's columns.

    Args:
        text: the rule, ``<column> <op> <column-or-literal>``.
        kinds: column name -> kind for every column of the schema (None where the kind is
            not known, e.g. a column whose own spec is invalid: only its existence is checked).

    Returns:
        ``(rule, [])``, or ``(None, problems)`` with every problem found, each naming the rule.
    """
    if not isinstance(text, str):
        return None, [f"rule {text!r} must be a string like 'diastolic_bp < systolic_bp'"]
    match = _PATTERN.match(text)
    if match is None:
        return None, [
            f"rule '{text}' is not '<column> <op> <column or literal>' with op one of "
            f"{', '.join(sorted(OPERATORS, key=len))}"
        ]
    left, op, right_text = match["left"], match["op"], match["right"]
    problems = []
    if left not in kinds:
        problems.append(f"rule '{text}': '{left}' is not a column of the schema")
    left_kind = kinds.get(left)
    if right_text in kinds:
        right_kind = kinds[right_text]
        if left_kind and right_kind:
            lf, rf = _FAMILY[left_kind], _FAMILY[right_kind]
            if lf != rf:
                problems.append(
                    f"rule '{text}': cannot compare '{left}' ({left_kind}) with "
                    f"'{right_text}' ({right_kind})"
                )
            elif op in _ORDERING and lf in ("boolean", "label"):
                problems.append(
                    f"rule '{text}': {left_kind} columns can only be compared with == or !="
                )
        rule = Rule(text=text, left=left, op=op, right=right_text)
        return (None, problems) if problems else (rule, [])
    literal = None
    if left_kind:
        family = _FAMILY[left_kind]
        literal, ok = _parse_literal(right_text, family)
        if not ok:
            problems.append(
                f"rule '{text}': the right side is neither a column of the schema nor "
                f"{_LITERAL_WORDS[family]} (the left column '{left}' is {left_kind})"
            )
        elif op in _ORDERING and family in ("boolean", "label"):
            problems.append(
                f"rule '{text}': {left_kind} columns can only be compared with == or !="
            )
    if problems:
        return None, problems
    return Rule(text=text, left=left, op=op, literal=literal), []


def parse_rules(
    rules: Iterable[Any], kinds: Mapping[str, str | None]
) -> tuple[tuple[Rule, ...], list[str]]:
    """Parse every rule; return the parsed ones and every problem found."""
    parsed, problems = [], []
    for text in rules:
        rule, rule_problems = parse_rule(text, kinds)
        problems.extend(rule_problems)
        if rule is not None:
            parsed.append(rule)
    return tuple(parsed), problems
