"""Re-identification through quasi-identifiers.

An intruder who knows a person's quasi-identifiers (age, sex, ethnicity, region, ...) looks
them up in the synthetic cohort. If the person is the only training record with that
combination (a *unique* record) and a synthetic row carries exactly that combination, the
intruder may take the synthetic row's sensitive values (diagnoses, test results) as the
person's. This module measures, on the schema's quasi-identifier and sensitive columns:

- **unique share**: the share of training records unique on the quasi-identifiers (how
  exposed the real cohort is at all);
- **match share**: the share of synthetic rows that equal a unique training record on every
  quasi-identifier;
- **sensitive agreement**: among those matches, how often the sensitive values agree with the
  matched training record, column by column and all together.

The baseline is the same computation for the holdout against train: real people from the
same population who were never trained on. A generator that does not leak should show match
and agreement shares near the holdout's; matches and agreement well above it point at
records carried over from the training data.

**Matching rules.** Quasi-identifiers match on exact values, missing equal to missing;
numeric quasi-identifiers such as age are compared as exact values unless ``bins`` coarsens
them (an intruder who only knows an age band is modelled by binning). A sensitive value
agrees when it is equal (missing equal to missing); a numeric or integer sensitive value
also agrees when it lies within :data:`NUMERIC_TOLERANCE` (5%) of the training record's
value, ``|s − t| ≤ 0.05·|t|``. Datetimes, booleans, categories and text must be equal.
Only the schema's model columns are used (direct identifiers are never learned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy._checks import check_tables
from synthgen.evaluation.privacy.scores import binomial_ci

NUMERIC_TOLERANCE = 0.05
"""Relative tolerance under which a numeric sensitive value counts as the same value."""

_NUMERIC_KINDS = ("numeric", "integer")


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _share_figure(
    count: int,
    n: int,
    *,
    direction: str,
    baseline: tuple[int, int] | None,
) -> dict[str, Any]:
    """A share with its Wilson interval, and its baseline share (with interval) when given."""
    value = count / n if n else None
    out: dict[str, Any] = {
        "value": _r(value),
        "direction": direction,
        "ci": [_r(v) for v in binomial_ci(count, n)],
        "baseline": None,
        "baseline_ci": None,
        "count": int(count),
        "n": int(n),
    }
    if baseline is not None:
        b_count, b_n = baseline
        out["baseline"] = _r(b_count / b_n) if b_n else None
        out["baseline_ci"] = [_r(v) for v in binomial_ci(b_count, b_n)]
        out["baseline_count"] = int(b_count)
        out["baseline_n"] = int(b_n)
    return out


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True)
class MatchCounts:
    """How one table (synthetic, or the holdout baseline) matches unique training records.

    Attributes:
        n: rows of the table.
        matches: rows equal to a unique training record on every quasi-identifier.
        agree: ``{column: rows}`` among the matches whose sensitive value agrees.
        agree_all: matches whose sensitive values all agree.
    """

    n: int
    matches: int
    agree: Mapping[str, int] = field(default_factory=dict)
    agree_all: int = 0


@dataclass(frozen=True)
class ReidResult:
    """Re-identification risk through quasi-identifiers.

    Attributes:
        columns: the quasi-identifier columns matched on.
        sensitive_columns: the sensitive columns compared after a match.
        binned: the quasi-identifiers that were coarsened into bins.
        n_train: training records.
        n_train_unique: training records unique on the quasi-identifiers.
        synthetic: the synthetic table's matches.
        holdout: the holdout's matches (the baseline); None when no holdout was given.
    """

    columns: tuple[str, ...]
    sensitive_columns: tuple[str, ...]
    binned: tuple[str, ...]
    n_train: int
    n_train_unique: int
    synthetic: MatchCounts
    holdout: MatchCounts | None

    @property
    def unique_share(self) -> float:
        return self.n_train_unique / self.n_train

    @property
    def match_share(self) -> float:
        return self.synthetic.matches / self.synthetic.n

    @property
    def match_share_baseline(self) -> float | None:
        return None if self.holdout is None else self.holdout.matches / self.holdout.n

    def agreement(self, column: str | None = None) -> float | None:
        """Share of synthetic matches whose sensitive ``column`` agrees (None: all columns)."""
        if self.synthetic.matches == 0:
            return None
        count = self.synthetic.agree_all if column is None else self.synthetic.agree[column]
        return count / self.synthetic.matches

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: counts and shares only, never a cell value."""
        hold = self.holdout

        def agreement(column: str | None) -> dict[str, Any]:
            count = self.synthetic.agree_all if column is None else self.synthetic.agree[column]
            base = None
            if hold is not None:
                b_count = hold.agree_all if column is None else hold.agree[column]
                base = (b_count, hold.matches)
            return _share_figure(
                count, self.synthetic.matches, direction="lower is better", baseline=base
            )

        unique = _share_figure(
            self.n_train_unique,
            self.n_train,
            direction="lower is better (how exposed the real cohort is; not a property of "
            "the synthetic data)",
            baseline=None,
        )
        return {
            "columns": list(self.columns),
            "sensitive_columns": list(self.sensitive_columns),
            "binned": list(self.binned),
            "numeric_tolerance": NUMERIC_TOLERANCE,
            "unique_share": unique,
            "match_share": _share_figure(
                self.synthetic.matches,
                self.synthetic.n,
                direction="lower is better",
                baseline=None if hold is None else (hold.matches, hold.n),
            ),
            "sensitive_agreement": {c: agreement(c) for c in self.sensitive_columns},
            "sensitive_agreement_all": agreement(None),
        }


# ------------------------------------------------------------------------------ helpers
def _numbers(series: pd.Series, kind: str) -> np.ndarray:
    """float64 values (ns since epoch for datetimes), NaN where missing."""
    if kind == "datetime" or pd.api.types.is_datetime64_any_dtype(series):
        raw = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")
        out = raw.view(np.int64).astype(np.float64)
        out[np.isnat(raw)] = np.nan
        return out
    return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _is_numberlike(series: pd.Series, kind: str) -> bool:
    return kind in (*_NUMERIC_KINDS, "boolean", "datetime") or (
        pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
    )


def _canonical(series: pd.Series, kind: str, edges: np.ndarray | None) -> pd.DataFrame:
    """One canonical form per column whatever its dtype (``int64``/``Int64``/``float64``,
    ``None``/``NaN``/``NaT``), so equal values hash equal; missing equals missing."""
    missing = series.isna().to_numpy()
    if _is_numberlike(series, kind):
        values = _numbers(series, kind)
        if edges is not None:
            values = np.searchsorted(edges, values, side="right").astype(np.float64)
        values = np.where(missing, 0.0, values) + 0.0  # -0.0 becomes 0.0
        canon = pd.Series(values)
    else:
        canon = pd.Series(np.where(missing, "", series.astype(str).to_numpy()), dtype=object)
    return pd.DataFrame({"v": canon, "m": missing})


def _keys(
    df: pd.DataFrame, schema: Schema, columns: Sequence[str], edges: Mapping[str, np.ndarray]
) -> np.ndarray:
    parts = []
    for i, col in enumerate(columns):
        canon = _canonical(df[col], schema[col].kind, edges.get(col))
        canon.columns = [f"{i}v", f"{i}m"]
        parts.append(canon)
    frame = pd.concat(parts, axis=1)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _bin_edges(
    bins: Mapping[str, int | Sequence[float]] | None,
    train: pd.DataFrame,
    schema: Schema,
    columns: Sequence[str],
) -> dict[str, np.ndarray]:
    if not bins:
        return {}
    problems = []
    edges: dict[str, np.ndarray] = {}
    for col, spec in bins.items():
        if col not in columns:
            problems.append(f"bins names column '{col}', which is not a matched quasi-identifier")
            continue
        kind = schema[col].kind
        if kind not in (*_NUMERIC_KINDS, "datetime"):
            problems.append(f"bins names column '{col}', which is {kind}, not numeric")
            continue
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            if spec < 1:
                problems.append(f"bins for '{col}' must be at least 1, got {spec}")
                continue
            # equal-count bands of the training values; edges stay inside, never reported
            values = _numbers(train[col], kind)
            values = values[~np.isnan(values)]
            qs = np.linspace(0, 1, int(spec) + 1)[1:-1]
            edges[col] = np.unique(np.quantile(values, qs)) if values.size else np.array([])
        else:
            try:
                arr = np.asarray(spec, dtype=np.float64).ravel()
            except (TypeError, ValueError):
                problems.append(f"bins for '{col}' must be a count or a list of edges")
                continue
            if arr.size == 0 or np.isnan(arr).any() or np.any(np.diff(arr) <= 0):
                problems.append(f"bins for '{col}' must be increasing edges without gaps")
                continue
            if kind == "datetime":
                problems.append(f"bins for datetime column '{col}' must be a count of bands")
                continue
            edges[col] = arr
    if problems:
        raise InputError("; ".join(problems))
    return edges


def _agrees(other: pd.Series, truth: pd.Series, kind: str) -> np.ndarray:
    """Element-wise agreement of two aligned columns (see the module docstring)."""
    o_miss = other.isna().to_numpy()
    t_miss = truth.isna().to_numpy()
    both_missing = o_miss & t_miss
    present = ~o_miss & ~t_miss
    if _is_numberlike(truth, kind) and _is_numberlike(other, kind):
        o = _numbers(other, kind)
        t = _numbers(truth, kind)
        with np.errstate(invalid="ignore"):
            same = o == t
            if kind in _NUMERIC_KINDS:
                same |= np.abs(o - t) <= NUMERIC_TOLERANCE * np.abs(t)
    else:
        same = other.astype(str).to_numpy() == truth.astype(str).to_numpy()
    return both_missing | (present & same)


def _match(
    table: pd.DataFrame,
    keys: np.ndarray,
    unique_index: pd.Index,
    unique_rows: np.ndarray,
    train: pd.DataFrame,
    schema: Schema,
    sensitive: Sequence[str],
) -> MatchCounts:
    pos = unique_index.get_indexer(keys)
    hit = pos >= 0
    n_match = int(hit.sum())
    agree: dict[str, int] = {}
    all_agree = np.ones(n_match, dtype=bool)
    if n_match:
        other = table.iloc[np.flatnonzero(hit)]
        truth = train.iloc[unique_rows[pos[hit]]]
        for col in sensitive:
            ok = _agrees(
                other[col].reset_index(drop=True),
                truth[col].reset_index(drop=True),
                schema[col].kind,
            )
            agree[col] = int(ok.sum())
            all_agree &= ok
    else:
        agree = dict.fromkeys(sensitive, 0)
    return MatchCounts(n=len(table), matches=n_match, agree=agree, agree_all=int(all_agree.sum()))


# ------------------------------------------------------------------------------- measure
def quasi_identifier_risk(
    *,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    holdout: pd.DataFrame | None = None,
    columns: Sequence[str] | None = None,
    bins: Mapping[str, int | Sequence[float]] | None = None,
) -> ReidResult:
    """Unique training records, synthetic rows that match them, and sensitive agreement.

    See the module docstring for the matching rules. Everything is hashing and one index
    look-up per row, so 100k × 100k records take seconds.

    Args:
        train: the training table (typed).
        synthetic: the synthetic table (typed).
        schema: the schema.
        holdout: the holdout table (typed), for the baseline; None leaves the baselines out.
        columns: quasi-identifiers to match on; default the schema's ``quasi_identifier``
            columns (direct identifiers excluded).
        bins: optional coarsening of numeric or datetime quasi-identifiers,
            ``{column: n}`` for ``n`` equal-count bands of the training values, or
            ``{column: [edges]}`` for explicit increasing edges (a value ``v`` falls in the
            band of edges ``e_i ≤ v < e_{i+1}``).

    Returns:
        A :class:`ReidResult`.

    Raises:
        InputError: no quasi-identifiers, columns missing from a table or not model columns,
            an empty table, or bad ``bins``.
    """
    model = schema.model_columns
    if columns is None:
        columns = [c for c in schema.with_role("quasi_identifier") if c in model]
        if not columns:
            raise InputError(
                "the schema has no quasi-identifier columns; mark some with role "
                "'quasi_identifier' or pass columns="
            )
    else:
        columns = list(columns)
        if not columns:
            raise InputError("columns is empty; give at least one quasi-identifier")
        not_model = [c for c in columns if c not in model]
        if not_model:
            raise InputError(
                "columns must be model columns of the schema (not direct identifiers); "
                f"these are not: {', '.join(map(str, not_model))}"
            )
    sensitive = [c for c in schema.with_role("sensitive") if c in model and c not in columns]
    needed = list(columns) + sensitive
    check_tables(schema, needed, train=train, synthetic=synthetic, holdout=holdout)

    edges = _bin_edges(bins, train, schema, columns)
    train_keys = _keys(train, schema, columns, edges)
    _, inverse, counts = np.unique(train_keys, return_inverse=True, return_counts=True)
    unique_rows = np.flatnonzero(counts[inverse.ravel()] == 1)  # the one row of each unique key
    unique_index = pd.Index(train_keys[unique_rows])

    def match(df: pd.DataFrame) -> MatchCounts:
        return _match(
            df,
            _keys(df, schema, columns, edges),
            unique_index,
            unique_rows,
            train,
            schema,
            sensitive,
        )

    return ReidResult(
        columns=tuple(columns),
        sensitive_columns=tuple(sensitive),
        binned=tuple(edges),
        n_train=len(train),
        n_train_unique=len(unique_index),
        synthetic=match(synthetic),
        holdout=None if holdout is None else match(holdout),
    )
