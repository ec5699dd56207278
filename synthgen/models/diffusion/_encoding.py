"""Tables to tensors and back for the diffusion model.

Numeric, integer and datetime columns become one standard-normal coordinate each through a
quantile transform (ties averaged, as scikit-learn does), with a two-level "missing" token
when the column has missing values.

The transform is deliberately smoother than the training sample. A grid with a knot at every
training value maps any smooth density of normal scores back onto values crowded around the
training values themselves, and integers (rounded between two adjacent training values) onto
exact copies of them: on a small cohort a patient's near-unique value (a follow-up time, a lab
count) then reappears in the synthetic data and gives their membership away
(docs/generators.md). So the grid has one knot per :data:`RECORDS_PER_KNOT` records, decoded
values are spread evenly between knots, and integers and whole-day dates are dequantised
(spread uniformly over their rounding interval) before the grid is read and before the
training records are encoded. A value shared by at least ``RECORDS_PER_KNOT`` records (a
score in steps of ten, a common dose) keeps knots at both ends of its run, so it stays an atom,
and the gap between two such values gets one record's share at most, as before. Knots sit at
mid-rank plotting positions (the j-th of n sorted values at CDF level ``(j + 0.5) / n``), so
the most extreme training records encode where the extremes of n normal draws lie, not at the
isolated +-5.2 that levels of exactly 0 and 1 (clipped) would give them.

Categorical, boolean and text columns become integer codes; a missing value is a level of its
own. A column with more than ``max_categories`` levels keeps its most frequent
``max_categories - 1`` and pools the rest into one "other" code, which decoding turns back into
one of the pooled values at their training frequencies.

The fitted encoder is plain data: float arrays (saved with safetensors) and a JSON document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

NUMERIC_KINDS = ("numeric", "integer", "datetime")
N_QUANTILES = 1000
RECORDS_PER_KNOT = 20
"""Training records per knot of a numeric column's grid (fewer knots smooth the marginal)."""
MIN_KNOTS = 20
"""Knots kept however few the records (one per record below this many)."""
CLIP = 1e-7  # quantile levels kept inside (CLIP, 1 - CLIP), as scikit-learn does
NS_PER_DAY = 86_400 * 10**9


@dataclass
class NumericCode:
    """One continuous coordinate: a column's quantile grid and whether it can be missing."""

    name: str
    kind: str
    quantiles: np.ndarray
    has_missing: bool
    resolution: float = 0.0  # decoded values are rounded to a multiple of this (0: not)
    levels: np.ndarray | None = None  # CDF level of each knot; None: evenly spaced

    def cdf_levels(self) -> np.ndarray:
        if self.levels is None:
            return np.linspace(0.0, 1.0, self.quantiles.size)
        return self.levels

    def to_normal(self, values: np.ndarray) -> np.ndarray:
        """Map values to N(0, 1) through the grid's CDF (ties share the middle level)."""
        q, levels = self.quantiles, self.cdf_levels()
        up = np.interp(values, q, levels)
        down = -np.interp(-values, -q[::-1], -levels[::-1])
        u = np.clip(0.5 * (up + down), CLIP, 1 - CLIP)
        return ndtri(u)

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        return np.interp(ndtr(z), self.cdf_levels(), self.quantiles)


def dequantise(values: np.ndarray, resolution: float, rng: np.random.Generator) -> np.ndarray:
    """Spread values recorded to ``resolution`` uniformly over their rounding interval."""
    if not resolution:
        return values
    return values + resolution * (rng.random(values.shape) - 0.5)


def smooth_grid(
    seen: np.ndarray, resolution: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Knot values and CDF levels of one column's grid (see the module docstring).

    Every knot lies on the piecewise-linear quantile function of the dequantised values, so
    the grid is monotone: one knot per :data:`RECORDS_PER_KNOT` records (at least
    :data:`MIN_KNOTS`, or one per record when there are fewer, at most :data:`N_QUANTILES`),
    plus the two ends of every run of at least ``RECORDS_PER_KNOT`` equal values.
    """
    n = seen.size
    if n < 2:
        return np.repeat(seen[:1], 2), np.array([0.0, 1.0])
    ordered = np.sort(seen)
    x = np.sort(dequantise(ordered, resolution, rng))  # stays grouped by value
    k = int(min(N_QUANTILES, max(math.ceil(n / RECORDS_PER_KNOT), min(n, MIN_KNOTS))))
    counts = np.unique(ordered, return_counts=True)[1]
    first = np.cumsum(counts) - counts  # where each value's run starts in the sorted order
    heavy = counts >= RECORDS_PER_KNOT
    # knots at fractional ranks r (0 .. n - 1 of the sorted values): k evenly spaced, plus both
    # ends of every heavy run; each at CDF level (r + 0.5) / n, the mid-rank plotting position,
    # so no training record sits at level 0 or 1 (normal score -inf or +inf, clipped to an
    # isolated -5.2 or 5.2 before 2026-11-26)
    ranks = np.concatenate(
        [np.linspace(0.0, n - 1, k), first[heavy], first[heavy] + counts[heavy] - 1]
    )
    ranks = np.unique(np.round(ranks, 9))
    return np.quantile(x, ranks / (n - 1)), (ranks + 0.5) / n


@dataclass
class CategoricalCode:
    """One discrete coordinate: its levels, and the pooled rare values behind "other"."""

    name: str
    kind: str
    levels: list[Any]  # the kept values; None stands for missing
    other_values: list[Any] = field(default_factory=list)
    other_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def size(self) -> int:
        return len(self.levels) + (1 if self.other_values else 0)


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _float_values(col: pd.Series, kind: str) -> np.ndarray:
    if kind == "datetime":
        stamps = pd.to_datetime(col, errors="coerce")
        out = stamps.to_numpy(dtype="datetime64[ns]").astype("int64").astype(np.float64)
        out[stamps.isna().to_numpy()] = np.nan
        return out / NS_PER_DAY
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _resolution(seen: np.ndarray, kind: str) -> float:
    """Integers to whole numbers; dates to whole days or seconds, as the training data has."""
    if kind == "integer":
        return 1.0
    if kind == "datetime":
        if np.all(seen == np.floor(seen)):
            return 1.0
        seconds = seen * 86_400
        return 1.0 / 86_400 if np.allclose(seconds, np.round(seconds), atol=1e-3) else 0.0
    return 0.0


def _levels_of(arrays: dict[str, np.ndarray], j: int) -> np.ndarray | None:
    """A saved grid's levels: present, increasing inside [0, 1], one per knot."""
    if f"levels.{j}" not in arrays:
        return None
    levels = np.asarray(arrays[f"levels.{j}"], dtype=np.float64)
    q = np.asarray(arrays[f"quantiles.{j}"])
    ok = (
        levels.ndim == 1
        and levels.shape == q.shape
        and levels.size >= 2
        and levels[0] >= 0.0
        and levels[-1] <= 1.0
        and bool(np.all(np.diff(levels) > 0))
    )
    if not ok:
        raise ValueError(f"grid levels {j} are not an increasing sequence inside [0, 1]")
    return levels


class TableEncoder:
    """Fit on the model frame; ``encode`` to arrays; ``decode`` back to a frame."""

    def __init__(self, *, max_categories: int = 100):
        self.max_categories = max_categories

    # ------------------------------------------------------------------ fit
    def fit(
        self, data: pd.DataFrame, kinds: dict[str, str], rng: np.random.Generator | None = None
    ) -> TableEncoder:
        """Learn each column's code; ``rng`` dequantises integers for the grids (seeded)."""
        rng = np.random.default_rng(0) if rng is None else rng
        self.columns_ = list(data.columns)
        self.numeric_: list[NumericCode] = []
        self.categorical_: list[CategoricalCode] = []
        for name in self.columns_:
            kind = kinds[name]
            if kind in NUMERIC_KINDS:
                values = _float_values(data[name], kind)
                seen = values[~np.isnan(values)]
                if seen.size == 0:  # nothing to learn but missingness
                    seen = np.zeros(1)
                resolution = _resolution(seen, kind)
                grid, levels = smooth_grid(seen, resolution, rng)
                missing = bool(np.isnan(values).any())
                self.numeric_.append(NumericCode(name, kind, grid, missing, resolution, levels))
            else:
                self.categorical_.append(self._fit_categorical(data[name], name, kind))
        return self

    def _fit_categorical(self, col: pd.Series, name: str, kind: str) -> CategoricalCode:
        counts = col.astype(object).where(col.notna(), None).value_counts(dropna=False)
        # ties broken by the value's text so the code order does not depend on row order
        order = sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))
        values = [None if pd.isna(v) else _json_value(v) for v in order]
        if len(values) <= self.max_categories:
            return CategoricalCode(name, kind, values)
        keep, rest = values[: self.max_categories - 1], values[self.max_categories - 1 :]
        weights = np.array([counts[v] for v in order[self.max_categories - 1 :]], dtype=float)
        return CategoricalCode(name, kind, keep, rest, weights / weights.sum())

    # ------------------------------------------------------------ encoding
    @property
    def n_numeric(self) -> int:
        return len(self.numeric_)

    @property
    def cardinalities(self) -> list[int]:
        """Sizes of the discrete coordinates: categoricals, then numeric missing tokens."""
        return [c.size for c in self.categorical_] + [2 for c in self.numeric_ if c.has_missing]

    def encode(
        self, data: pd.DataFrame, rng: np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(numeric float32 [n, d], numeric-observed mask [n, d], codes int64 [n, k])``.

        With ``rng``, integers and whole-day dates are dequantised first (training records)."""
        n = len(data)
        x_num = np.zeros((n, self.n_numeric), dtype=np.float32)
        observed = np.ones((n, self.n_numeric), dtype=bool)
        codes = []
        for j, spec in enumerate(self.numeric_):
            values = _float_values(data[spec.name], spec.kind)
            miss = np.isnan(values)
            seen = values[~miss]
            if rng is not None:
                seen = dequantise(seen, spec.resolution, rng)
            x_num[~miss, j] = spec.to_normal(seen)
            observed[:, j] = ~miss
        for spec in self.categorical_:
            codes.append(self._encode_categorical(data[spec.name], spec))
        for j, spec in enumerate(self.numeric_):
            if spec.has_missing:
                codes.append((~observed[:, j]).astype(np.int64))
        x_cat = np.stack(codes, axis=1) if codes else np.zeros((n, 0), dtype=np.int64)
        return x_num, observed, x_cat

    def _encode_categorical(self, col: pd.Series, spec: CategoricalCode) -> np.ndarray:
        lookup = {v: i for i, v in enumerate(spec.levels) if v is not None}
        missing = next((i for i, v in enumerate(spec.levels) if v is None), None)
        other = len(spec.levels) if spec.other_values else None
        fallback = other if other is not None else (missing if missing is not None else 0)
        obj = col.astype(object)
        is_missing = obj.isna().to_numpy()
        mapped = obj.map(lambda v: lookup.get(_json_value(v), -1) if not pd.isna(v) else -1)
        codes = mapped.to_numpy(dtype=np.int64)
        codes[codes < 0] = fallback
        codes[is_missing] = missing if missing is not None else fallback
        return codes

    # ------------------------------------------------------------ decoding
    def decode(
        self, x_num: np.ndarray, x_cat: np.ndarray, rng: np.random.Generator
    ) -> pd.DataFrame:
        """A frame of the model columns from sampled coordinates (``rng`` picks pooled values)."""
        out: dict[str, Any] = {}
        n_cat = len(self.categorical_)
        miss_col = n_cat
        for j, spec in enumerate(self.numeric_):
            values = spec.from_normal(x_num[:, j].astype(np.float64))
            if spec.resolution:
                values = np.round(values / spec.resolution) * spec.resolution
            if spec.has_missing:
                values = np.where(x_cat[:, miss_col] == 1, np.nan, values)
                miss_col += 1
            if spec.kind == "datetime":
                ns = np.round(values * NS_PER_DAY)
                stamps = pd.to_datetime(
                    np.where(np.isnan(ns), np.iinfo(np.int64).min, ns).astype(np.int64)
                )
                out[spec.name] = pd.Series(stamps).where(~np.isnan(ns), pd.NaT)
            else:
                out[spec.name] = values
        for k, spec in enumerate(self.categorical_):
            codes = x_cat[:, k]
            table = np.empty(spec.size, dtype=object)
            table[: len(spec.levels)] = spec.levels
            col = table[codes]
            if spec.other_values:
                pooled = np.flatnonzero(codes == len(spec.levels))
                if pooled.size:
                    picks = rng.choice(
                        len(spec.other_values), size=pooled.size, p=spec.other_weights
                    )
                    pool = np.empty(len(spec.other_values), dtype=object)
                    pool[:] = spec.other_values
                    col[pooled] = pool[picks]
            out[spec.name] = col
        return pd.DataFrame({name: out[name] for name in self.columns_})

    # ---------------------------------------------------------- plain data
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON document and named float arrays (for safetensors)."""
        arrays: dict[str, np.ndarray] = {}
        numeric = []
        for j, spec in enumerate(self.numeric_):
            arrays[f"quantiles.{j}"] = spec.quantiles.astype(np.float64)
            if spec.levels is not None:
                arrays[f"levels.{j}"] = spec.levels.astype(np.float64)
            numeric.append(
                {
                    "name": spec.name,
                    "kind": spec.kind,
                    "has_missing": spec.has_missing,
                    "resolution": spec.resolution,
                }
            )
        categorical = []
        for k, spec in enumerate(self.categorical_):
            if spec.other_values:
                arrays[f"other_weights.{k}"] = spec.other_weights.astype(np.float64)
            categorical.append(
                {
                    "name": spec.name,
                    "kind": spec.kind,
                    "levels": spec.levels,
                    "other_values": spec.other_values,
                }
            )
        doc = {
            "max_categories": self.max_categories,
            "columns": self.columns_,
            "numeric": numeric,
            "categorical": categorical,
        }
        return doc, arrays

    @classmethod
    def from_state(cls, doc: dict[str, Any], arrays: dict[str, np.ndarray]) -> TableEncoder:
        enc = cls(max_categories=int(doc["max_categories"]))
        enc.columns_ = list(doc["columns"])
        enc.numeric_ = [
            NumericCode(
                d["name"],
                d["kind"],
                np.asarray(arrays[f"quantiles.{j}"]),
                d["has_missing"],
                float(d.get("resolution", 0.0)),
                _levels_of(arrays, j),
            )
            for j, d in enumerate(doc["numeric"])
        ]
        enc.categorical_ = []
        for k, d in enumerate(doc["categorical"]):
            weights = arrays.get(f"other_weights.{k}", np.zeros(0))
            enc.categorical_.append(
                CategoricalCode(
                    d["name"],
                    d["kind"],
                    list(d["levels"]),
                    list(d["other_values"]),
                    np.asarray(weights),
                )
            )
        return enc
