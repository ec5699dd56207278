"""Singling-out risk as Anonymeter defines it (Giomi et al. 2023).

An attacker *singles out* a patient when it can write a predicate ("age <= 23 and
region == 'X' and bmi >= 41.2") that exactly one record of the real cohort satisfies. The
attacker writes predicates from the synthetic data: each one is built so that it singles out
one *synthetic* record, and succeeds when it also singles out one *training* record. The
control attack checks the same predicates against the holdout; the baseline writes random
predicates (random columns, random values, random comparisons) that are checked against
train. The risk, its interval and the baseline flag are those of
:mod:`~synthgen.evaluation.privacy.disclosure`.

Predicates are held as arrays (column, operator, value) and evaluated many at a time as numpy
boolean masks over a float matrix of the data (categories as shared integer codes), never as
strings or per-row Python. Predicates hold real-looking values, so none is ever returned.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy.disclosure import (
    DisclosureResult,
    check_frames,
    check_n_attacks,
    column_arrays,
    disclosure_result,
)

# operator codes of a predicate term
EQ, NE, LT, LE, GT, GE, ISNAN, NOTNAN = range(8)
MASK_VALUES = 4_000_000
"""Booleans per block of predicate evaluation (predicates × rows)."""
FIRST_ROWS, GROW = 128, 2
"""Rows in the first chunk when looking for single matches, and growth of the next ones."""


def singling_out_risk(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    n_attacks: int = 500,
    mode: str = "multivariate",
    n_cols: int = 3,
    columns: Sequence[str] | None = None,
    max_attempts: int = 200_000,
    seed: int | None,
) -> DisclosureResult:
    """Risk that the synthetic data lets an attacker single out a training record.

    Predicates come from the synthetic records:

    - ``"univariate"``: one column each: a value that occurs once in the synthetic data,
      ``<=`` its minimum, ``>=`` its maximum, or "is missing" when exactly one value is;
    - ``"multivariate"``: the values of a random synthetic record on ``n_cols`` random
      columns, joined by *and*: equality for categories and booleans, and for numbers
      ``>=`` the value when it lies above the synthetic median, ``<=`` otherwise.

    Only distinct predicates that match exactly one synthetic record are kept (up to
    ``n_attacks``). One succeeds when it matches exactly one training record (main) or
    one holdout record (control). Duplicate rows are dropped first (a duplicated record
    cannot be singled out), and the larger of train and holdout is subsampled to the size of
    the smaller, since the chance of matching exactly one record depends on the size.

    Args:
        train: the records the generator learned from.
        holdout: records it never saw.
        synthetic: the synthetic records.
        schema: column kinds.
        n_attacks: predicates wanted; fewer when the synthetic data do not give that many
            (the rates are then over the predicates made).
        mode: ``"multivariate"`` or ``"univariate"``.
        n_cols: columns per multivariate predicate.
        columns: the columns predicates may use; default every model column of the schema
            (direct identifiers excluded).
        max_attempts: candidate multivariate predicates tried at most.
        seed: seed of the predicate generation, the size matching and the baseline.

    Returns:
        A :class:`~synthgen.evaluation.privacy.disclosure.DisclosureResult` named
        ``"singling_out"``.
    """
    check_n_attacks(n_attacks)
    problems = []
    if mode not in ("univariate", "multivariate"):
        problems.append(f"mode must be 'univariate' or 'multivariate'; got {mode!r}")
    if columns is None:
        columns = [
            c
            for c in schema.model_columns
            if all(
                isinstance(df, pd.DataFrame) and c in df.columns
                for df in (train, holdout, synthetic)
            )
        ]
    columns = list(columns)
    if not columns:
        problems.append("no column to build predicates from")
    width = 1 if mode == "univariate" else n_cols
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        problems.append(f"n_cols must be a positive integer; got {n_cols!r}")
    elif columns and width > len(columns):
        problems.append(f"n_cols={n_cols} but only {len(columns)} columns are available")
    if problems:
        raise InputError("; ".join(problems))
    check_frames(train, holdout, synthetic, schema, columns)

    tr, ho, sy = (_distinct(a) for a in column_arrays([train, holdout, synthetic], schema, columns))
    categorical = np.array([schema[c].kind in ("categorical", "text") for c in columns])
    boolean = np.array([schema[c].kind == "boolean" for c in columns])
    rng = np.random.default_rng(seed)
    n = min(len(tr), len(ho))
    tr = tr[np.sort(rng.choice(len(tr), n, replace=False))] if len(tr) > n else tr
    ho = ho[np.sort(rng.choice(len(ho), n, replace=False))] if len(ho) > n else ho

    if mode == "univariate":
        queries = _univariate(sy, categorical, boolean, n_attacks, rng)
    else:
        queries = _multivariate(sy, categorical | boolean, int(width), n_attacks, max_attempts, rng)
    n_made = len(queries[0])
    baseline = _random_queries(sy, categorical, boolean, n_made, int(width), rng)
    on_train = _shuffled(tr)
    return disclosure_result(
        name="singling_out",
        main_successes=int(_singles(on_train, *queries).sum()),
        main_trials=n_made,
        control_successes=int(_singles(_shuffled(ho), *queries).sum()),
        control_trials=n_made,
        baseline_successes=int(_singles(on_train, *baseline).sum()),
        baseline_trials=n_made,
        details={
            "mode": mode,
            "n_cols": int(width),
            "n_requested": int(n_attacks),
            "columns": columns,
            "n_records": int(n),
        },
    )


def count_matches(
    data: np.ndarray, cols: np.ndarray, ops: np.ndarray, vals: np.ndarray
) -> np.ndarray:
    """How many rows of ``data`` satisfy each predicate.

    Args:
        data: ``(rows, columns)`` float matrix, NaN where missing.
        cols: ``(predicates, terms)`` column of each term.
        ops: ``(predicates, terms)`` operator code of each term (``EQ`` ... ``NOTNAN``).
        vals: ``(predicates, terms)`` value of each term (ignored by ``ISNAN``/``NOTNAN``).

    Returns:
        int64 ``(predicates,)``: rows matching all of a predicate's terms. A missing value
        satisfies only ``ISNAN``.
    """
    n_q, n_rows = cols.shape[0], data.shape[0]
    counts = np.zeros(n_q, np.int64)
    if n_q == 0 or n_rows == 0:
        return counts
    return _mask_counts(np.ascontiguousarray(data.T), cols, ops, vals)


def _shuffled(data: np.ndarray) -> np.ndarray:
    """``data`` transposed to ``(columns, rows)``, its rows in a fixed shuffled order.

    Row order does not change a count; shuffling keeps sorted data from slowing
    :func:`_singles`, and a fixed order keeps the results independent of the seed.
    """
    return np.ascontiguousarray(data[np.random.default_rng(0).permutation(len(data))].T)


def _singles(
    data_t: np.ndarray,
    cols: np.ndarray,
    ops: np.ndarray,
    vals: np.ndarray,
    first: int = FIRST_ROWS,
    grow: int = GROW,
) -> np.ndarray:
    """Whether each predicate matches exactly one row of ``data_t`` (from :func:`_shuffled`).

    Rows are read in chunks of growing size, and a predicate is dropped once two rows match
    it: most predicates match many rows, and few need the whole matrix.
    """
    n_q, n_rows = cols.shape[0], data_t.shape[1]
    counts = np.zeros(n_q, np.int64)
    if n_q == 0 or n_rows == 0:
        return counts == 1
    live = np.arange(n_q)
    start, step = 0, first
    while live.size and start < n_rows:
        stop = min(n_rows, start + step)
        counts[live] += _mask_counts(data_t[:, start:stop], cols[live], ops[live], vals[live])
        live = live[counts[live] < 2]
        start, step = stop, step * grow
    return counts == 1


def _mask_counts(
    data_t: np.ndarray, cols: np.ndarray, ops: np.ndarray, vals: np.ndarray
) -> np.ndarray:
    """:func:`count_matches` on a ``(columns, rows)`` matrix, by blocks of boolean masks."""
    n_q, n_rows = cols.shape[0], data_t.shape[1]
    counts = np.zeros(n_q, np.int64)
    if n_q == 0 or n_rows == 0:
        return counts
    block = max(1, MASK_VALUES // n_rows)
    for qs in range(0, n_q, block):
        qe = min(qs + block, n_q)
        mask = np.ones((qe - qs, n_rows), bool)
        for j in range(cols.shape[1]):
            x = data_t[cols[qs:qe, j]]
            v = vals[qs:qe, j, None]
            op = ops[qs:qe, j]
            term = np.zeros_like(mask)
            with np.errstate(invalid="ignore"):
                for code, fn in _OPS.items():
                    rows = np.flatnonzero(op == code)
                    if rows.size:
                        term[rows] = fn(x[rows], v[rows])
            mask &= term
        counts[qs:qe] = mask.sum(axis=1)
    return counts


_OPS = {
    EQ: lambda x, v: x == v,
    NE: lambda x, v: (x != v) & ~np.isnan(x),
    LT: lambda x, v: x < v,
    LE: lambda x, v: x <= v,
    GT: lambda x, v: x > v,
    GE: lambda x, v: x >= v,
    ISNAN: lambda x, v: np.isnan(x),
    NOTNAN: lambda x, v: ~np.isnan(x),
}


def _distinct(arr: np.ndarray) -> np.ndarray:
    # pandas treats NaN as equal to NaN when dropping duplicates; numpy's unique does not
    return pd.DataFrame(arr).drop_duplicates().to_numpy(np.float64)


def _keep_unique(
    found: dict[bytes, int],
    cols: np.ndarray,
    ops: np.ndarray,
    vals: np.ndarray,
    singles: np.ndarray,
    limit: int,
) -> list[int]:
    """Indices of new, distinct, singling-out predicates, in order, while under ``limit``."""
    kept = []
    for i in np.flatnonzero(singles):
        if len(found) >= limit:
            break
        key = cols[i].tobytes() + ops[i].tobytes() + vals[i].tobytes()
        if key not in found:
            found[key] = len(found)
            kept.append(int(i))
    return kept


def _univariate(sy, categorical, boolean, n_attacks, rng):
    cols, ops, vals = [], [], []
    for c in range(sy.shape[1]):
        x = sy[:, c]
        missing = np.isnan(x)
        if missing.sum() == 1:
            cols.append(c), ops.append(ISNAN), vals.append(0.0)
        seen = x[~missing]
        if seen.size == 0:
            continue
        if not (categorical[c] or boolean[c]):
            cols += [c, c]
            ops += [LE, GE]
            vals += [float(seen.min()), float(seen.max())]
        values, counts = np.unique(seen, return_counts=True)
        rare = values[counts == 1]
        cols += [c] * rare.size
        ops += [EQ] * rare.size
        vals += rare.tolist()
    cols_a = np.array(cols, np.int64).reshape(-1, 1)
    ops_a = np.array(ops, np.int8).reshape(-1, 1)
    vals_a = np.array(vals, np.float64).reshape(-1, 1)
    order = rng.permutation(len(cols_a))
    cols_a, ops_a, vals_a = cols_a[order], ops_a[order], vals_a[order]
    singles = _singles(_shuffled(sy), cols_a, ops_a, vals_a)
    kept = _keep_unique({}, cols_a, ops_a, vals_a, singles, n_attacks)
    return cols_a[kept], ops_a[kept], vals_a[kept]


def _multivariate(sy, exact, width, n_attacks, max_attempts, rng, batch=1000):
    medians = np.nanmedian(np.where(np.isnan(sy).all(axis=0), 0.0, sy), axis=0)
    sy_t = _shuffled(sy)
    found: dict[bytes, int] = {}
    out_c, out_o, out_v = [], [], []
    tried = 0
    while len(found) < n_attacks and tried < max_attempts:
        size = min(batch, max_attempts - tried)
        tried += size
        rows = rng.integers(0, sy.shape[0], size=size)
        # width distinct random columns per predicate, sorted so equal predicates look equal
        cols = np.sort(np.argsort(rng.random((size, sy.shape[1])), axis=1)[:, :width], axis=1)
        vals = sy[rows[:, None], cols]
        ops = np.where(vals > medians[cols], GE, LE).astype(np.int8)
        ops[exact[cols]] = EQ
        ops[np.isnan(vals)] = ISNAN
        vals = np.where(np.isnan(vals), 0.0, vals)
        singles = _singles(sy_t, cols, ops, vals)
        kept = _keep_unique(found, cols, ops, vals, singles, n_attacks)
        out_c.append(cols[kept]), out_o.append(ops[kept]), out_v.append(vals[kept])
    return (
        np.concatenate(out_c) if out_c else np.empty((0, width), np.int64),
        np.concatenate(out_o) if out_o else np.empty((0, width), np.int8),
        np.concatenate(out_v) if out_v else np.empty((0, width), np.float64),
    )


def _random_queries(sy, categorical, boolean, n, width, rng):
    """The baseline: random columns, a random value seen in the synthetic data, a random test."""
    n_c = sy.shape[1]
    cols = np.sort(np.argsort(rng.random((n, n_c)), axis=1)[:, :width], axis=1)
    vals = np.zeros((n, width), np.float64)
    draw = rng.random((n, width))
    for c in np.unique(cols):
        at = cols == c
        uniq = np.unique(sy[:, c])  # NaN, if any, sorts last and stays as one value
        uniq = uniq[: np.flatnonzero(np.isnan(uniq))[0] + 1] if np.isnan(uniq).any() else uniq
        vals[at] = uniq[np.minimum((draw[at] * uniq.size).astype(int), uniq.size - 1)]
    numeric_ops = np.array([EQ, NE, LT, LE, GT, GE], np.int8)
    ops = numeric_ops[rng.integers(0, 6, size=(n, width))]
    two = rng.integers(0, 2, size=(n, width)).astype(bool)
    cat = categorical[cols]
    ops[cat] = np.where(two[cat], EQ, NE)
    is_bool = boolean[cols]
    ops[is_bool] = EQ  # "is true" or "is false", at random
    vals[is_bool] = two[is_bool].astype(np.float64)
    missing = np.isnan(vals)
    ops[missing] = np.where(two[missing], ISNAN, NOTNAN)
    vals[missing] = 0.0
    return cols, ops, vals


__all__ = ["count_matches", "singling_out_risk"]
