"""Mixed-type records as float32 vectors, so that Euclidean distance is a proper mixed distance.

The privacy audit compares records by distance (copies, distance to closest record, the
distance attack). Health records mix numbers, dates, flags and categories, often with gaps;
:class:`MixedEncoder` turns each record into a vector whose Euclidean distance weighs every
column on one scale, learned from a *reference* frame (the real training data):

- **numeric, integer, datetime** (datetimes as days since 1970-01-01): robust-scaled,
  ``(x − median) / IQR`` with the reference median and inter-quartile range (the standard
  deviation when the IQR is 0, and 1 when that is 0 too), then clipped to ±10 so that one
  extreme value cannot dominate a distance. A difference of one IQR counts 1.
- **boolean**: 0 or 1, so a mismatch counts 1.
- **categorical, text**: one-hot over the reference's ``max_categories`` most frequent values
  (ties by first appearance) plus an ``<other>`` slot for the rest and for values never seen
  in the reference. Each block holds ``1/sqrt(2)`` instead of 1, so two records that differ
  in the column are exactly 1 apart (squared distance 1/2 + 1/2), like one IQR of a number.
  A missing value is a category of its own (``<missing>``) when the reference has any.
- **missing values** in numeric, integer, datetime and boolean columns are imputed with the
  reference median (0 after scaling for numbers), and a 0/1 missing-indicator feature is
  added for each such column that has a missing value in the reference. A column with no
  gaps in the reference gets no indicator; a gap that appears later is imputed silently.

Only medians, IQRs and category lists are kept; no row of the reference is stored.
Feature order: columns in order, each column's features together
(``age``, ``age__missing``, ``sex=F``, ``sex=M``, ``sex=<other>``, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema, coerce_column
from synthgen.errors import InputError, NotFittedError

CLIP = 10.0
ONE_HOT = np.float32(1.0 / np.sqrt(2.0))
OTHER = "<other>"
MISSING = "<missing>"
_DAY_NS = 86_400 * 10**9


class _Missing:
    """Stands for a missing categorical value in a category list (NaN never equals itself)."""

    def __reduce__(self) -> str:
        # unpickle to the module's singleton, so identity checks (`is _MISSING`) keep working
        # in worker processes
        return "_MISSING"

    def __repr__(self) -> str:
        return MISSING


_MISSING = _Missing()


class MixedEncoder:
    """Encodes mixed-type records as float32 vectors for a proper mixed-type distance.

    Args:
        max_categories: one-hot slots kept per categorical or text column (the most frequent
            reference values); the rest share one ``<other>`` slot.

    Attributes:
        columns_: the encoded columns, in order.
        n_features_: width of :meth:`transform`'s output.
        feature_names_: one name per output feature.
    """

    def __init__(self, *, max_categories: int = 50):
        self.max_categories = max_categories

    # ------------------------------------------------------------------ fit
    def fit(
        self, reference: pd.DataFrame, schema: Schema, columns: list[str] | None = None
    ) -> MixedEncoder:
        """Learn medians, scales and category lists from ``reference``.

        Args:
            reference: the real records distances are measured against (e.g. train).
            schema: the column kinds.
            columns: the columns to encode; default every model column of the schema
                (direct identifiers excluded) present in ``reference``.

        Raises:
            InputError: bad ``max_categories``, an empty reference, or columns missing from
                the schema or the data, or values that do not fit their kind.
        """
        problems = []
        m = self.max_categories
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            problems.append(f"max_categories must be a positive integer; got {m!r}")
        if not isinstance(reference, pd.DataFrame):
            raise InputError(
                f"reference must be a pandas DataFrame; got {type(reference).__name__}"
            )
        if len(reference) == 0:
            problems.append("reference has no rows; the encoder needs data to learn scales from")
        if columns is None:
            columns = [c for c in schema.model_columns if c in reference.columns]
            if not columns:
                problems.append("reference has none of the schema's model columns")
        else:
            columns = list(columns)
            not_schema = [c for c in columns if c not in schema]
            not_data = [c for c in columns if c not in reference.columns]
            if not_schema:
                problems.append(f"columns not in the schema: {', '.join(map(str, not_schema))}")
            if not_data:
                problems.append(f"columns not in reference: {', '.join(map(str, not_data))}")
            if not columns:
                problems.append("columns is empty; give at least one column to encode")
        if problems:
            raise InputError("; ".join(problems))

        plans = []
        for name in columns:
            spec = schema[name]
            if spec.kind in ("categorical", "text"):
                plans.append(_fit_categorical(name, reference[name], int(m)))
            else:
                values, problem = _numbers(reference[name], spec)
                if problem:
                    problems.append(problem)
                    continue
                plans.append(_fit_numeric(name, spec, values))
        if problems:
            raise InputError("; ".join(problems))

        self.schema_ = schema
        self.columns_ = list(columns)
        self.plans_ = plans
        self.feature_names_ = [f for p in plans for f in p["features"]]
        self.n_features_ = len(self.feature_names_)
        return self

    # ------------------------------------------------------------ transform
    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Encode ``df`` (same columns as the reference) as float32 ``(len(df), n_features_)``.

        Raises:
            NotFittedError: before :meth:`fit`.
            InputError: ``df`` lacks an encoded column or holds values that do not fit its kind.
        """
        if not hasattr(self, "plans_"):
            raise NotFittedError(
                "this MixedEncoder is not fitted; call fit(reference, schema) first"
            )
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"transform needs a pandas DataFrame; got {type(df).__name__}")
        absent = [c for c in self.columns_ if c not in df.columns]
        if absent:
            raise InputError(f"columns the encoder was fitted on are missing: {', '.join(absent)}")
        n = len(df)
        # column-major while filling (each feature is one contiguous write), C order at the end
        out = np.zeros((self.n_features_, n), np.float32)
        problems = []
        at = 0
        for plan in self.plans_:
            width = len(plan["features"])
            name = plan["column"]
            if plan["type"] == "categorical":
                codes = _category_codes(df[name], plan)
                block = out[at : at + width]
                block[codes, np.arange(n)] = ONE_HOT
            else:
                values, problem = _numbers(df[name], self.schema_[name])
                if problem:
                    problems.append(problem)
                else:
                    _encode_numeric(values, plan, out[at : at + width])
            at += width
        if problems:
            raise InputError("; ".join(problems))
        return np.ascontiguousarray(out.T)

    def fit_transform(
        self, reference: pd.DataFrame, schema: Schema, columns: list[str] | None = None
    ) -> np.ndarray:
        """``fit`` then ``transform`` the same frame."""
        return self.fit(reference, schema, columns).transform(reference)


# ---------------------------------------------------------------- numbers
def _numbers(series: pd.Series, spec) -> tuple[np.ndarray | None, str | None]:
    """The column as float64 (days since epoch for datetimes), NaN where missing."""
    values, problem = coerce_column(series, spec)
    if problem:
        return None, problem
    if spec.kind == "datetime":
        raw = values.to_numpy(dtype="datetime64[ns]")
        ints = raw.view(np.int64)
        out = ints / _DAY_NS
        out[np.isnat(raw)] = np.nan
        return out, None
    return values.to_numpy(dtype=np.float64, na_value=np.nan), None


def _fit_numeric(name: str, spec, values: np.ndarray) -> dict:
    observed = values[~np.isnan(values)]
    has_missing = observed.size < values.size
    if observed.size == 0:
        centre, scale = 0.0, 1.0
    elif spec.kind == "boolean":
        centre, scale = float(np.median(observed)), 1.0
    else:
        centre = float(np.median(observed))
        q1, q3 = np.percentile(observed, [25, 75])
        scale = float(q3 - q1)
        if not scale > 0:
            scale = float(np.std(observed))
        if not scale > 0 or not np.isfinite(scale):
            scale = 1.0
    features = [name] + ([f"{name}__missing"] if has_missing else [])
    return {
        "type": "boolean" if spec.kind == "boolean" else "numeric",
        "column": name,
        "centre": centre,
        "scale": scale,
        "indicator": has_missing,
        "features": features,
    }


def _encode_numeric(values: np.ndarray, plan: dict, block: np.ndarray) -> None:
    missing = np.isnan(values)
    if plan["type"] == "boolean":
        block[0] = np.where(missing, plan["centre"], values)
    else:
        scaled = (values - plan["centre"]) / plan["scale"]
        scaled[missing] = 0.0  # the median, scaled
        block[0] = np.clip(scaled, -CLIP, CLIP)
    if plan["indicator"]:
        block[1] = missing


# ------------------------------------------------------------- categories
def _as_keys(series: pd.Series) -> pd.Series:
    """Plain objects with one marker for every kind of missing value (None, NaN, NA)."""
    obj = series.astype(object)
    return obj.where(series.notna(), _MISSING)


def _fit_categorical(name: str, series: pd.Series, max_categories: int) -> dict:
    keys = _as_keys(series)
    # value_counts sorts by count; a stable sort keeps first-appearance order among ties
    counts = keys.value_counts(sort=False)
    order = np.argsort(-counts.to_numpy(), kind="stable")
    kept = list(counts.index[order[:max_categories]])
    labels = [f"{name}={MISSING if k is _MISSING else k}" for k in kept]
    return {
        "type": "categorical",
        "column": name,
        "categories": pd.Index(kept, dtype=object),
        "features": labels + [f"{name}={OTHER}"],
    }


def _category_codes(series: pd.Series, plan: dict) -> np.ndarray:
    cats: pd.Index = plan["categories"]
    codes = cats.get_indexer(pd.Index(_as_keys(series), dtype=object))
    codes[codes < 0] = len(cats)  # unseen values (and unseen gaps) go to <other>
    return codes
