"""Disclosure-safe data for the report's plots: binned, merged and cut so that it passes an
output check on real data.

:func:`plot_data` turns the real tables (train, holdout), the synthetic table, the attacks'
score vectors and the distances to closest record into plain JSON that the renderer
(:mod:`synthgen.release.render`) draws. Every figure obeys the usual output-checking rules for
real records:

- no real row and no per-record score leaves: only shares of bins, curve points and ROC
  points (aggregates over every member and non-member);
- no real minimum or maximum: numeric bins are cut at (rounded) real percentiles, the outer
  bins are open-ended ("below" / "at or above"), and an edge at or beyond a real extreme is
  dropped;
- no count of real records below ``k``: a bin, category or missing-value cell holding fewer
  than ``k`` real records (in train or in holdout) is merged with a neighbour, folded into
  "(other)", or suppressed;
- the Kaplan-Meier curves stop, on a coarse time, before fewer than ``k`` real records remain
  at risk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError

PLOT_KIND = "synthgen.plot-data"
FORMAT_VERSION = 1
MAX_COLUMNS = 30

MAX_CATEGORIES = 30
"""Categorical columns with more distinct training values are not plotted."""
"""At most this many model columns get a marginal plot."""
N_BINS = 20
"""Bins of a numeric marginal before merging (two of them open-ended)."""
N_KM_POINTS = 40
MAX_ROC_POINTS = 100
N_DCR_BINS = 20
MAX_ROWS = 200_000
"""Larger tables are subsampled (seeded) for the marginals."""
OTHER = "(other)"
MISSING = "(missing)"
_NUMERIC_KINDS = ("numeric", "integer", "datetime")
_CATEGORY_KINDS = ("categorical", "boolean")


# ---------------------------------------------------------------------------- helpers
def _share(count: float, total: float) -> float:
    return round(float(count) / total, 4) if total > 0 else 0.0


def _shares(counts: np.ndarray, total: float) -> list[float]:
    return [_share(c, total) for c in counts]


def _round_sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant figures."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def _floor_sig(x: float, digits: int = 2) -> float:
    """``x`` rounded down to ``digits`` significant figures (for x > 0)."""
    if x <= 0 or not math.isfinite(x):
        return 0.0
    scale = 10.0 ** (math.floor(math.log10(x)) - digits + 1)
    return float(f"{math.floor(x / scale + 1e-9) * scale:.{digits}g}")


def _floats(series: pd.Series, kind: str) -> np.ndarray:
    """A column as float64 (datetimes as days since 1970-01-01); missing as NaN."""
    if kind == "datetime":
        raw = pd.to_datetime(series, errors="coerce").to_numpy(dtype="datetime64[ns]")
        out = raw.astype(np.int64) / 86_400e9
        out[np.isnat(raw)] = np.nan
        return out
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in ``(-inf, e0), [e0, e1), ..., [e_last, inf)``; NaN values are left out."""
    v = values[~np.isnan(values)]
    idx = np.searchsorted(edges, v, side="right")
    return np.bincount(idx, minlength=edges.size + 1).astype(np.int64)


def merge_small_bins(
    edges: np.ndarray, real: list[np.ndarray], other: list[np.ndarray], k: int
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Merge adjacent bins until every bin holds at least ``k`` records of every real table.

    The bin with the fewest real records goes first (the leftmost on ties) and joins whichever
    neighbour holds fewer real records (the left one on ties). ``other`` counts (synthetic)
    are merged alongside but never decide anything.

    Args:
        edges: interior bin edges, ascending (one fewer than the bins).
        real: count vectors of the real tables, one entry per bin.
        other: count vectors that follow the merges.
        k: the smallest count of real records a bin may show.

    Returns:
        ``(edges, real, other)`` after merging (a single bin when the total is below ``k``).
    """
    edges = np.asarray(edges, dtype=np.float64)
    real = [np.asarray(c, dtype=np.int64).copy() for c in real]
    other = [np.asarray(c, dtype=np.int64).copy() for c in other]
    while edges.size > 0:
        low = np.min(np.vstack(real), axis=0)
        if low.min() >= k:
            break
        i = int(np.argmin(low))
        if i == 0:
            j = 1
        elif i == low.size - 1:
            j = i - 1
        else:
            j = i - 1 if low[i - 1] <= low[i + 1] else i + 1
        a, b = min(i, j), max(i, j)  # bins a and b=a+1 merge; edge a between them goes
        for vec_list in (real, other):
            for n, c in enumerate(vec_list):
                merged = c.copy()
                merged[a] += merged[b]
                vec_list[n] = np.delete(merged, b)
        edges = np.delete(edges, a)
    return edges, real, other


def _subsample(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    if len(df) <= MAX_ROWS:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=MAX_ROWS, replace=False))]


# -------------------------------------------------------------------------- marginals
def _numeric_edges(train: np.ndarray, kind: str) -> np.ndarray:
    """Interior edges at rounded real percentiles, strictly inside the real range."""
    v = train[~np.isnan(train)]
    raw = np.percentile(v, np.linspace(2.5, 97.5, N_BINS - 1))
    if kind == "datetime":
        edges = np.round(raw)  # whole days
    elif kind == "integer":
        edges = np.round([_round_sig(x) for x in raw])
    else:
        edges = np.array([_round_sig(x) for x in raw])
    edges = np.unique(edges)
    # an edge at or beyond a real extreme would show it (the top bin holding only the max)
    return edges[(edges > v.min()) & (edges < v.max())]


def _edge_labels(edges: np.ndarray, kind: str) -> list[Any]:
    if kind == "datetime":
        return [str(np.datetime64(int(e), "D")) for e in edges]
    if kind == "integer":
        return [int(e) for e in edges]
    return [float(e) for e in edges]


def _missing_shares(
    real: dict[str, np.ndarray], synthetic_missing: int, n: dict[str, int], k: int
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, miss in real.items():
        count = int(miss)
        out[name] = _share(count, n[name]) if count == 0 or count >= k else None
    out["synthetic"] = _share(synthetic_missing, n["synthetic"])
    return out


def _numeric_marginal(
    col: str, kind: str, tables: dict[str, pd.DataFrame], k: int
) -> dict[str, Any] | str:
    values = {name: _floats(df[col], kind) for name, df in tables.items()}
    real_names = [n for n in ("train", "holdout") if n in values]
    present = {n: int((~np.isnan(values[n])).sum()) for n in values}
    if any(present[n] < 2 * k for n in real_names):
        return f"fewer than {2 * k} non-missing real values"
    edges = _numeric_edges(values["train"], kind)
    real_counts = [_bin_counts(values[n], edges) for n in real_names]
    syn_counts = [_bin_counts(values["synthetic"], edges)]
    edges, real_counts, syn_counts = merge_small_bins(edges, real_counts, syn_counts, k)
    if edges.size == 0:
        return f"fewer than {k} real values on either side of every cut"
    out: dict[str, Any] = {
        "kind": kind,
        "type": "binned",
        "edges": _edge_labels(edges, kind),
        "open_ended": True,
    }
    for name, counts in zip(real_names, real_counts, strict=True):
        out[name] = _shares(counts, present[name])
    out["synthetic"] = _shares(syn_counts[0], present["synthetic"])
    if "holdout" not in real_names:
        out["holdout"] = None
    n = {name: len(values[name]) for name in values}
    out["missing"] = _missing_shares(
        {name: n[name] - present[name] for name in real_names},
        n["synthetic"] - present["synthetic"],
        n,
        k,
    )
    return out


def _category_keys(series: pd.Series) -> pd.Series:
    keys = series.astype(object).where(series.notna(), None)
    return keys.map(lambda v: MISSING if v is None else str(v))


def _category_marginal(
    col: str, kind: str, tables: dict[str, pd.DataFrame], k: int
) -> dict[str, Any] | str:
    keys = {name: _category_keys(df[col]) for name, df in tables.items()}
    real_names = [n for n in ("train", "holdout") if n in keys]
    counts = {name: s.value_counts() for name, s in keys.items()}

    def real_count(label: str) -> list[int]:
        return [int(counts[n].get(label, 0)) for n in real_names]

    # the train's order (most frequent first) is the display order
    shown = [c for c in counts["train"].index if min(real_count(c)) >= k]

    def other_counts(kept: list[str]) -> list[int]:
        return [int(counts[n].drop(kept, errors="ignore").sum()) for n in real_names]

    # secondary suppression: "(other)" must hold 0 or at least k real records everywhere,
    # else the smallest shown category joins it
    while shown:
        oc = other_counts(shown)
        if all(c == 0 for c in oc) or min(oc) >= k:
            break
        shown.pop()  # the least frequent in train
    if not shown:
        return f"no category holds {k} or more real records"
    labels = list(shown)
    synthetic_other = int(counts["synthetic"].drop(shown, errors="ignore").sum())
    has_other = any(c > 0 for c in other_counts(shown)) or synthetic_other > 0
    if has_other:
        labels.append(OTHER)
    out: dict[str, Any] = {"kind": kind, "type": "categories", "labels": labels}
    for name in [*real_names, "synthetic"]:
        total = len(keys[name])
        vec = [_share(counts[name].get(c, 0), total) for c in shown]
        if has_other:
            vec.append(_share(counts[name].drop(shown, errors="ignore").sum(), total))
        out[name] = vec
    if "holdout" not in real_names:
        out["holdout"] = None
    return out


def _marginals(
    tables: dict[str, pd.DataFrame], schema: Schema, k: int
) -> tuple[dict[str, Any], dict[str, str]]:
    plots: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for col in schema.model_columns:
        kind = schema[col].kind
        if kind not in _NUMERIC_KINDS + _CATEGORY_KINDS:
            skipped[col] = f"{kind} columns are not plotted"
            continue
        if len(plots) >= MAX_COLUMNS:
            skipped[col] = f"only the first {MAX_COLUMNS} columns are plotted"
            continue
        if any(col not in df.columns for df in tables.values()):
            skipped[col] = "missing from a table"
            continue
        roles = schema[col].roles
        if kind == "categorical" and "quasi_identifier" in roles and "subgroup" not in roles:
            # its values (a practice code) help single people out; only the categories of
            # declared subgroup columns are listed in a report
            skipped[col] = "a quasi-identifier that is not a subgroup column"
            continue
        if kind == "categorical" and tables["train"][col].nunique() > MAX_CATEGORIES:
            # a bar per value of a high-cardinality quasi-identifier (a practice code) says
            # little and lists real identifying values: its fidelity is in the tables instead
            skipped[col] = f"more than {MAX_CATEGORIES} categories"
            continue
        build = _numeric_marginal if kind in _NUMERIC_KINDS else _category_marginal
        result = build(col, kind, tables, k)
        if isinstance(result, str):
            skipped[col] = result
        else:
            plots[col] = result
    return plots, skipped


# ------------------------------------------------------------------------ Kaplan-Meier
def _km(
    train: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, k: int
) -> dict[str, Any] | None:
    from synthgen.evaluation.fidelity._survival_math import _event_pair, _step, kaplan_meier

    time_col, event_col, problem = _event_pair(schema, {"train": train, "synthetic": synthetic})
    if problem is not None:
        return None
    curves = {}
    for name, df in (("train", train), ("synthetic", synthetic)):
        t = _floats(df[time_col], schema[time_col].kind)
        e = _floats(df[event_col].astype("Float64"), "numeric")
        ok = ~np.isnan(t) & ~np.isnan(e)
        curves[name] = (t[ok], e[ok] != 0)
    t_real = curves["train"][0]
    if t_real.size < k:
        return None
    # at risk at t = records with time >= t: at least k up to the k-th largest time
    kth_largest = float(np.sort(t_real)[-k])
    t_max = _floor_sig(kth_largest, 2)
    if not t_max > 0:
        return None
    grid = np.linspace(0.0, t_max, N_KM_POINTS)
    out: dict[str, Any] = {
        "time_column": time_col,
        "event_column": event_col,
        "max_time": t_max,
        "times": [round(float(x), 6) for x in grid],
    }
    for name, (t, e) in curves.items():
        if t.size == 0:
            out[name] = None
            continue
        times, surv = kaplan_meier(time=t, event=e)
        out[name] = [round(float(s), 4) for s in _step(times, surv, grid)]
    return out


# --------------------------------------------------------------------------------- ROC
def _downsample(n: int, most: int) -> np.ndarray:
    if n <= most:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, most)).astype(int))


def _roc(attacks: Mapping[str, Any]) -> dict[str, Any]:
    from sklearn.metrics import roc_curve

    out: dict[str, Any] = {}
    for name, attack in attacks.items():
        m = np.asarray(attack.member_scores, dtype=np.float64)
        n = np.asarray(attack.nonmember_scores, dtype=np.float64)
        if m.size == 0 or n.size == 0:
            continue
        y = np.r_[np.ones(m.size), np.zeros(n.size)]
        fpr, tpr, _ = roc_curve(y, np.r_[m, n], drop_intermediate=True)
        keep = _downsample(fpr.size, MAX_ROC_POINTS)
        out[name] = {
            "fpr": [round(float(x), 4) for x in fpr[keep]],
            "tpr": [round(float(x), 4) for x in tpr[keep]],
            "auc": round(float(attack.auc), 4),
            "n_members": int(m.size),
            "n_nonmembers": int(n.size),
        }
    return out


# --------------------------------------------------------------------------------- DCR
def _dcr(dcr: Any, k: int) -> dict[str, Any] | str:
    syn = getattr(dcr, "synthetic_dcr", None)
    hold = getattr(dcr, "holdout_dcr", None)
    if syn is None or hold is None:
        return "the distances were not kept"
    syn = np.asarray(syn, dtype=np.float64)
    hold = np.asarray(hold, dtype=np.float64)
    syn, hold = syn[~np.isnan(syn)], hold[~np.isnan(hold)]
    if hold.size < 2 * k or syn.size == 0:
        return f"fewer than {2 * k} holdout distances"
    top = _round_sig(float(np.percentile(hold, 99)), 2)
    if not top > 0:
        return "the holdout distances are all zero"
    edges = np.linspace(0.0, top, N_DCR_BINS + 1)[1:]  # bins [0, e1) ... [top, inf)
    real = [_bin_counts(hold, edges)]
    other = [_bin_counts(syn, edges)]
    edges, real, other = merge_small_bins(edges, real, other, k)
    return {
        "edges": [round(float(e), 6) for e in edges],
        "lower": 0.0,
        "open_ended": True,
        "holdout": _shares(real[0], hold.size),
        "synthetic": _shares(other[0], syn.size),
    }


# ---------------------------------------------------------------------------------- API
def plot_data(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    attacks: Mapping[str, Any],
    dcr: Any,
    k: int = 10,
    seed: int = 0,
) -> dict[str, Any]:
    """Plain, output-checked data for the report's plots.

    Args:
        train: the training records (typed by ``schema``).
        holdout: the holdout records; shown next to train when it has at least ``20 * k``
            rows (smaller holdouts would merge every bin away).
        synthetic: the synthetic table, typed.
        schema: the schema the model was trained with.
        attacks: membership attacks by name
            (:class:`~synthgen.evaluation.privacy.scores.AttackResult`).
        dcr: the :class:`~synthgen.evaluation.privacy.similarity.DCRResult` (its in-memory
            distance arrays are binned; without them there is no DCR plot).
        k: the smallest count of real records any figure may rest on.
        seed: seeds the subsample of tables over :data:`MAX_ROWS` rows.

    Returns:
        ``{"kind", "format_version", "min_count", "marginals", "marginals_skipped", "km",
        "roc", "dcr", "dcr_skipped"}``; see the module docstring for the rules.

    Raises:
        InputError: ``k`` is below 1.
    """
    if int(k) < 1:
        raise InputError(f"k (the smallest count of real records shown) must be >= 1, got {k}")
    k = int(k)
    rng = np.random.default_rng(seed)
    tables = {"train": _subsample(train, rng)}
    if len(holdout) >= 20 * k:
        tables["holdout"] = _subsample(holdout, rng)
    tables["synthetic"] = _subsample(synthetic, rng)
    marginals, skipped = _marginals(tables, schema, k)
    dcr_plot = _dcr(dcr, k) if dcr is not None else "no distances given"
    return {
        "kind": PLOT_KIND,
        "format_version": FORMAT_VERSION,
        "min_count": k,
        "marginals": marginals,
        "marginals_skipped": skipped,
        "km": _km(train, synthetic, schema, k),
        "roc": _roc(attacks),
        "dcr": dcr_plot if isinstance(dcr_plot, dict) else None,
        "dcr_skipped": None if isinstance(dcr_plot, dict) else dcr_plot,
    }
