"""Validity: does the synthetic cohort keep the hard facts of the real one?

Checks, each on the synthetic table and, as its baseline, on the holdout (fresh real data
breaks some checks too: a holdout patient can be older than every training patient, and
that is what perfect synthetic data of this size does as well). For every model column
present in the synthetic table:

- **type**: values that do not parse as the column's kind (a word in a numeric column, a
  decimal in an integer column, an unparseable date, a boolean that is not true/false,
  yes/no or 1/0), parsed with the schema's coercion rules. The synthetic table may arrive
  typed or as text.
- **range** (numeric, integer, datetime): values outside the train column's ``[min, max]``.
  The bounds themselves are never reported.
- **category** (categorical, boolean): values never seen in the train column. Text columns
  (free text) are not checked.
- **missing** (columns with no missing value in train): missing values.
- **rule**: each declared rule (:mod:`synthgen.data.rules`) broken; rows where either side
  is missing do not count. A rule on a column absent from the synthetic table (a direct
  identifier that was dropped, say) is reported as not checked, with the reason.

Each check gives the number and share of rows that break it; the overall figure is the share
of rows that break at least one check. Lower is better everywhere. Only counts and shares
are reported, never a cell value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.rules import Rule, parse_rules
from synthgen.data.schema import (
    FALSE_WORDS,
    TRUE_WORDS,
    ColumnSpec,
    Schema,
    coerce_column,
    parse_dates,
)
from synthgen.errors import InputError

DIRECTION = "lower is better"
CHECKS = ("type", "range", "category", "missing", "rule")
"""The kinds of check, in report order."""


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


# -------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Check:
    """One check on one column or rule.

    Attributes:
        check: one of :data:`CHECKS`.
        target: the column, or the rule's text.
        violations: synthetic rows that break the check; None when not checked.
        share: ``violations`` over the synthetic rows; None when not checked.
        baseline_violations: holdout rows that break it; None without a holdout or when the
            holdout cannot be checked.
        baseline_share: their share of the holdout rows.
        reason: why the check was not run (or has no baseline); None otherwise.
    """

    check: str
    target: str
    violations: int | None
    share: float | None
    baseline_violations: int | None = None
    baseline_share: float | None = None
    reason: str | None = None

    @property
    def checked(self) -> bool:
        return self.violations is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            ("rule" if self.check == "rule" else "column"): self.target,
            "checked": self.checked,
            "violations": {
                "value": self.violations,
                "direction": DIRECTION,
                "baseline": self.baseline_violations,
            },
            "share": {
                "value": _r(self.share),
                "direction": DIRECTION,
                "baseline": _r(self.baseline_share),
            },
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class ValidityResult:
    """Every validity check of a synthetic cohort, with holdout baselines.

    Attributes:
        checks: every check, grouped by :data:`CHECKS` order, then schema or rule order.
        n_synthetic: rows of the synthetic table.
        n_holdout: rows of the holdout (None without one).
        invalid_rows: synthetic rows that break at least one check.
        baseline_invalid_rows: holdout rows that break at least one check (None without one).
    """

    checks: tuple[Check, ...]
    n_synthetic: int
    n_holdout: int | None
    invalid_rows: int
    baseline_invalid_rows: int | None

    @property
    def invalid_share(self) -> float:
        """Share of synthetic rows that break at least one check."""
        return self.invalid_rows / self.n_synthetic

    @property
    def baseline_invalid_share(self) -> float | None:
        """Share of holdout rows that break at least one check."""
        if self.baseline_invalid_rows is None or not self.n_holdout:
            return None
        return self.baseline_invalid_rows / self.n_holdout

    @property
    def headline(self) -> float:
        """Share of synthetic rows that pass every check (higher is better)."""
        return 1.0 - self.invalid_share

    def get(self, check: str, target: str) -> Check:
        """The check of kind ``check`` on column (or rule) ``target``."""
        for c in self.checks:
            if c.check == check and c.target == target:
                return c
        raise KeyError((check, target))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the overall share, then the checks grouped by kind."""
        grouped: dict[str, list[dict[str, Any]]] = {name: [] for name in CHECKS}
        for c in self.checks:
            grouped[c.check].append(c.to_dict())
        return {
            "n_synthetic": int(self.n_synthetic),
            "n_holdout": None if self.n_holdout is None else int(self.n_holdout),
            "invalid_rows": {
                "value": int(self.invalid_rows),
                "direction": DIRECTION,
                "baseline": self.baseline_invalid_rows,
            },
            "invalid_share": {
                "value": _r(self.invalid_share),
                "direction": DIRECTION,
                "baseline": _r(self.baseline_invalid_share),
            },
            "checks": grouped,
            "not_checked": [
                {"check": c.check, "target": c.target, "reason": c.reason}
                for c in self.checks
                if not c.checked
            ],
        }


# ---------------------------------------------------------------------------- helpers
def parse_leniently(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, np.ndarray]:
    """Type a column by its spec, turning values that do not fit into missing ones.

    Uses :func:`synthgen.data.schema.coerce_column` (the schema's own coercion) when every
    value fits; otherwise parses value by value with the same rules.

    Returns:
        ``(typed, failed)``: the typed values (failures missing) and a boolean mask of the
        rows whose present value did not fit the kind.
    """
    values, problem = coerce_column(series, spec)
    if problem is None:
        return values, np.zeros(len(series), dtype=bool)
    present = series.notna().to_numpy(dtype=bool)
    kind = spec.kind
    if kind in ("numeric", "integer"):
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            numbers = series.astype("float64")
        else:
            numbers = pd.to_numeric(series.astype("string").str.strip(), errors="coerce")
        arr = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            failed = present & ~np.isfinite(arr)
            if kind == "integer":
                failed |= np.isfinite(arr) & (arr != np.round(arr))
        arr = np.where(failed, np.nan, arr)
        return pd.Series(arr, index=series.index), failed
    if kind == "boolean":
        text = series.astype("string").str.strip().str.lower()
        is_true = text.isin(TRUE_WORDS).fillna(False).to_numpy(dtype=bool)
        is_false = text.isin(FALSE_WORDS).fillna(False).to_numpy(dtype=bool)
        typed = pd.Series(pd.NA, index=series.index, dtype="boolean")
        typed[is_true] = True
        typed[is_false] = False
        return typed, present & ~(is_true | is_false)
    # datetime: categorical and text always fit
    typed = parse_dates(series, spec.datetime_format)
    return typed, present & typed.isna().to_numpy(dtype=bool)


def _numbers(values: pd.Series, kind: str) -> np.ndarray:
    """Typed values as float64 (int64 ns for datetimes, exact), NaN where missing."""
    if kind == "datetime":
        raw = values.to_numpy(dtype="datetime64[ns]")
        out = raw.view(np.int64).astype(np.float64)
        out[np.isnat(raw)] = np.nan
        return out
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _range_mask(values: pd.Series, kind: str, low: float, high: float) -> np.ndarray:
    arr = _numbers(values, kind)
    with np.errstate(invalid="ignore"):
        return (arr < low) | (arr > high)


def _category_mask(values: pd.Series, seen: pd.Index) -> np.ndarray:
    present = values.notna().to_numpy(dtype=bool)
    return present & ~pd.Index(values.astype(object)).isin(seen)


class _Counter:
    """Collects checks and the running "breaks any check" masks of both tables."""

    def __init__(self, n_syn: int, n_hold: int | None):
        self.checks: list[Check] = []
        self.any_syn = np.zeros(n_syn, dtype=bool)
        self.any_hold = None if n_hold is None else np.zeros(n_hold, dtype=bool)

    def add(
        self,
        check: str,
        target: str,
        syn: np.ndarray,
        hold: np.ndarray | None,
        hold_reason: str | None = None,
    ) -> None:
        self.any_syn |= syn
        if hold is not None and self.any_hold is not None:
            self.any_hold |= hold
        self.checks.append(
            Check(
                check=check,
                target=target,
                violations=int(syn.sum()),
                share=float(syn.mean()),
                baseline_violations=None if hold is None else int(hold.sum()),
                baseline_share=None if hold is None else float(hold.mean()),
                reason=hold_reason,
            )
        )

    def skip(self, check: str, target: str, reason: str) -> None:
        self.checks.append(Check(check, target, None, None, reason=reason))


def _check_inputs(train: Any, holdout: Any, synthetic: Any, schema: Any) -> None:
    problems = []
    if not isinstance(schema, Schema):
        raise InputError(f"schema must be a synthgen Schema, got {type(schema).__name__}")
    for name, df in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if df is None and name == "holdout":
            continue
        if not isinstance(df, pd.DataFrame):
            problems.append(f"the {name} table must be a pandas DataFrame, got {type(df).__name__}")
        elif len(df) == 0:
            problems.append(f"the {name} table has no rows")
    if isinstance(train, pd.DataFrame):
        absent = [c for c in schema.model_columns if c not in train.columns]
        if absent:
            problems.append(f"the train table lacks columns: {', '.join(absent)}")
    if problems:
        raise InputError("; ".join(problems))


# ---------------------------------------------------------------------------- measure
def validity(
    *,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    holdout: pd.DataFrame | None = None,
    rules: Iterable[str] | None = None,
) -> ValidityResult:
    """Count the synthetic rows that break type, range, category, missingness and rule checks.

    Args:
        train: the real training table; it sets the ranges, category sets and which columns
            may be missing. It must hold every model column and fit the schema.
        synthetic: the synthetic table, typed or as text.
        schema: the schema; model columns (direct identifiers excluded) are checked.
        holdout: real records the generator never saw; every check is repeated on it as the
            baseline. Without it baselines are None.
        rules: declared rules to check, ``<column> <op> <column-or-literal>``; default the
            schema's own ``rules``. Pass ``()`` to check none.

    Returns:
        A :class:`ValidityResult`.

    Raises:
        InputError: a table is not a non-empty DataFrame, train lacks a model column or holds
            values that do not fit the schema, or a rule does not parse (every problem is
            listed at once).
    """
    _check_inputs(train, holdout, synthetic, schema)
    rule_texts = list(schema.rules if rules is None else rules)
    parsed, problems = parse_rules(rule_texts, schema.kinds)
    columns = schema.model_columns
    train_typed = {}
    for col in columns:
        values, problem = coerce_column(train[col], schema[col])
        if problem:
            problems.append(f"the train table: {problem}")
        train_typed[col] = values
    if problems:
        raise InputError("; ".join(problems))

    counter = _Counter(len(synthetic), None if holdout is None else len(holdout))
    typed: dict[str, dict[str, pd.Series]] = {"synthetic": {}, "holdout": {}}
    failed: dict[str, dict[str, np.ndarray]] = {"synthetic": {}, "holdout": {}}
    absent_from: dict[str, str] = {}
    for col in columns:
        if col not in synthetic.columns:
            absent_from[col] = "synthetic"
            continue
        for name, df in (("synthetic", synthetic), ("holdout", holdout)):
            if df is not None and col in df.columns:
                typed[name][col], failed[name][col] = parse_leniently(df[col], schema[col])

    def other(col: str) -> tuple[pd.Series | None, str | None]:
        if holdout is None:
            return None, None
        if col not in typed["holdout"]:
            return None, "absent from the holdout table: no baseline"
        return typed["holdout"][col], None

    # type
    for col in columns:
        if col in absent_from:
            counter.skip("type", col, "absent from the synthetic table")
            continue
        _, reason = other(col)
        counter.add("type", col, failed["synthetic"][col], failed["holdout"].get(col), reason)
    # range
    for col in columns:
        kind = schema[col].kind
        if kind not in ("numeric", "integer", "datetime"):
            continue
        if col in absent_from:
            counter.skip("range", col, "absent from the synthetic table")
            continue
        observed = _numbers(train_typed[col], kind)
        observed = observed[~np.isnan(observed)]
        if observed.size == 0:
            counter.skip("range", col, "the train column has no observed values")
            continue
        low, high = float(observed.min()), float(observed.max())
        hold, reason = other(col)
        counter.add(
            "range",
            col,
            _range_mask(typed["synthetic"][col], kind, low, high),
            None if hold is None else _range_mask(hold, kind, low, high),
            reason,
        )
    # category
    for col in columns:
        if schema[col].kind not in ("categorical", "boolean"):
            continue
        if col in absent_from:
            counter.skip("category", col, "absent from the synthetic table")
            continue
        seen = pd.Index(pd.unique(train_typed[col].dropna().astype(object)))
        hold, reason = other(col)
        counter.add(
            "category",
            col,
            _category_mask(typed["synthetic"][col], seen),
            None if hold is None else _category_mask(hold, seen),
            reason,
        )
    # missing where train has none; values that failed to parse count as type failures only
    for col in columns:
        if train_typed[col].isna().any():
            continue
        if col in absent_from:
            counter.skip("missing", col, "absent from the synthetic table")
            continue
        hold, reason = other(col)
        syn_missing = synthetic[col].isna().to_numpy(dtype=bool)
        hold_missing = None if hold is None else holdout[col].isna().to_numpy(dtype=bool)
        counter.add("missing", col, syn_missing, hold_missing, reason)
    # rules
    for rule in parsed:
        _check_rule(rule, schema, synthetic, holdout, typed, counter)

    return ValidityResult(
        checks=tuple(counter.checks),
        n_synthetic=len(synthetic),
        n_holdout=None if holdout is None else len(holdout),
        invalid_rows=int(counter.any_syn.sum()),
        baseline_invalid_rows=None if counter.any_hold is None else int(counter.any_hold.sum()),
    )


def _rule_table(
    rule: Rule, schema: Schema, df: pd.DataFrame, typed: dict[str, pd.Series]
) -> tuple[dict[str, pd.Series] | None, str]:
    """The typed columns a rule reads from one table, or why it cannot be evaluated there."""
    absent = [c for c in rule.columns if c not in df.columns]
    if absent:
        return None, f"{', '.join(repr(c) for c in absent)} absent from the"
    # a direct identifier kept in the table (faked) is not among the typed model columns
    table = {
        col: typed[col] if col in typed else parse_leniently(df[col], schema[col])[0]
        for col in rule.columns
    }
    return table, ""


def _check_rule(
    rule: Rule,
    schema: Schema,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    typed: dict[str, dict[str, pd.Series]],
    counter: _Counter,
) -> None:
    kinds = schema.kinds
    table, why = _rule_table(rule, schema, synthetic, typed["synthetic"])
    if table is None:
        counter.skip("rule", rule.text, f"{why} synthetic table")
        return
    broken, _ = rule.violations(table, kinds)
    hold_broken, hold_reason = None, None
    if holdout is not None:
        hold_table, why = _rule_table(rule, schema, holdout, typed["holdout"])
        if hold_table is None:
            hold_reason = f"no baseline: {why} holdout table"
        else:
            hold_broken, _ = rule.violations(hold_table, kinds)
    counter.add("rule", rule.text, broken, hold_broken, hold_reason)
