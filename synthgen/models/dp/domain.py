"""The domain of a differentially private model: value bounds and category sets.

A marginal-based generator counts records in cells, so every column needs a finite, public
set of cells. Where the custodian declared a column's ``bounds`` or ``categories`` in the
schema they are used as they are (public knowledge: free). Otherwise they are estimated
under DP with part of the budget, never read off the data:

* **bounds** (numeric, integer, datetime), in two steps with a third of the column's ρ each
  (three in all): (1) a Gaussian-noised histogram over public coarse cells (a factor of
  about 1.28 apart on a symmetric-log scale covering ±1e9; one year apart from 1900 to 2100
  for dates) finds the span of cells whose noisy count clears a threshold (at most a 1%
  chance that any empty cell does); (2) inside that span the 1st and 99th percentiles are
  chosen by the exponential mechanism over a finer public grid (symmetric-log steps of 0.5%
  plus every whole number; every day for dates), utility minus the distance from the target
  rank ``q n`` to the candidate's rank interval ``[#{x < c}, #{x <= c}]`` (sensitivity 1;
  the interval makes a heavy atom, such as the lowest level of a score, the exact answer).
  Values outside the bounds are clipped to them, so about 1% of each tail is pulled in.
  With small ``n`` or ε the estimate is poor: declare bounds in the schema where known.
* **categories** (categorical, text): each value seen gets its count plus Gaussian noise and
  is kept when the noisy count clears ``1 + σ Φ⁻¹(1-δ)``; a value held by a single record
  is then revealed with probability at most ``δ`` (the δ this costs comes from the budget's
  reserve). At most ``max_categories`` are kept (the largest noisy counts).
* **booleans** have the public set {False, True}.

Every column also has a *missing* level (the last code) which the model counts like any
other cell: whether a column has gaps is measured with noise, never read off for free.
A value outside a declared category set, or a category dropped by the threshold, is coded
as missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import FALSE_WORDS, TRUE_WORDS, ColumnSpec, category_text
from synthgen.errors import ModelError
from synthgen.models.dp.accounting import Budget
from synthgen.models.dp.estimates import EPOCH, NS_PER_DAY, dp_bounds, dp_categories, to_days

NUMERIC_KINDS = ("numeric", "integer", "datetime")


# ------------------------------------------------------------- column domains


@dataclass
class ColumnDomain:
    """The cells of one column: bins inside bounds, or a category list; plus *missing*.

    Codes ``0 .. n_levels - 1`` are bins (in order) or categories; code ``n_levels`` is
    missing. Datetimes are handled in days since 1970-01-01.
    """

    name: str
    kind: str
    source: str  # "declared", "estimated" or "public"
    lo: float | None = None
    hi: float | None = None
    bins: int = 0
    integer_levels: bool = False
    categories: list[Any] = field(default_factory=list)

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def n_levels(self) -> int:
        return self.bins if self.numeric else len(self.categories)

    @property
    def size(self) -> int:
        """Number of codes, the missing level included."""
        return self.n_levels + 1

    @property
    def width(self) -> float:
        return 1.0 if self.integer_levels else (self.hi - self.lo) / self.bins

    # ------------------------------------------------------------- codes
    def encode(self, values: pd.Series) -> np.ndarray:
        """Codes of ``values``: out-of-bounds numbers clipped, unknown categories missing."""
        missing = self.n_levels
        if self.numeric:
            x = to_days(values.to_numpy()) if self.kind == "datetime" else values.to_numpy(float)
            x = np.asarray(x, dtype=float)
            if self.kind == "datetime":
                x[pd.isna(values).to_numpy()] = np.nan
            present = ~np.isnan(x)
            clipped = np.clip(np.where(present, x, self.lo), self.lo, self.hi)
            if self.integer_levels:
                codes = np.round(clipped) - math.ceil(self.lo)
            else:
                codes = np.floor((clipped - self.lo) / self.width)
            codes = np.clip(codes, 0, self.bins - 1).astype(np.int64)
            return np.where(present, codes, missing)
        lookup = {self._key(c): i for i, c in enumerate(self.categories)}
        keys = values.map(lambda v: None if _isna(v) else self._key(v))
        return keys.map(lambda k: lookup.get(k, missing)).to_numpy(dtype=np.int64)

    def _key(self, value: Any) -> str:
        text = category_text(value)
        if self.kind == "boolean":
            low = text.lower()
            return "true" if low in TRUE_WORDS else "false" if low in FALSE_WORDS else text
        return text

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Values for ``codes``: uniform within a bin (integers rounded), missing -> NaN."""
        missing = codes >= self.n_levels
        if self.numeric:
            if self.integer_levels:
                x = codes + float(math.ceil(self.lo))
            else:
                x = self.lo + (codes + rng.random(len(codes))) * self.width
                x = np.clip(x, self.lo, self.hi)
                if self.kind == "integer":
                    x = np.clip(np.round(x), math.ceil(self.lo), math.floor(self.hi))
            x = np.where(missing, np.nan, x)
            if self.kind != "datetime":
                return pd.Series(x, dtype="float64")
            if self.width >= 1.0:
                x = np.floor(x)  # whole days when a bin spans at least one
            ns = np.where(missing, 0, np.round(x * NS_PER_DAY)).astype(np.int64)
            out = pd.Series(EPOCH + ns.astype("timedelta64[ns]"))
            out[missing] = pd.NaT
            return out
        if self.kind == "boolean":
            cats = np.array([self._key(c) == "true" for c in self.categories] + [None], object)
        else:
            cats = np.array([*self.categories, None], dtype=object)
        out = pd.Series(cats[np.minimum(codes, self.n_levels)], dtype=object)
        return out.where(~missing, np.nan if self.kind == "boolean" else None)

    # ---------------------------------------------------------- plain data
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "source": self.source}
        if self.numeric:
            out.update(lo=self.lo, hi=self.hi, bins=self.bins, integer_levels=self.integer_levels)
        else:
            out["categories"] = list(self.categories)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ColumnDomain:
        try:
            return cls(
                name=str(raw["name"]),
                kind=str(raw["kind"]),
                source=str(raw["source"]),
                lo=None if raw.get("lo") is None else float(raw["lo"]),
                hi=None if raw.get("hi") is None else float(raw["hi"]),
                bins=int(raw.get("bins", 0)),
                integer_levels=bool(raw.get("integer_levels", False)),
                categories=list(raw.get("categories", [])),
            )
        except (KeyError, TypeError, ValueError):
            raise ModelError("the saved DP domain is malformed") from None


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def numeric_domain(
    name: str, kind: str, source: str, lo: float, hi: float, *, bins: int
) -> ColumnDomain:
    """Bins over ``[lo, hi]``: one per integer when an integer range has at most ``bins``."""
    if kind == "integer":
        first, last = math.ceil(lo), math.floor(hi)
        if last < first:  # no whole number inside: keep the nearest one
            first = last = round((lo + hi) / 2)
        if last - first + 1 <= bins:
            return ColumnDomain(
                name, kind, source, float(first), float(last), last - first + 1, True
            )
    return ColumnDomain(name, kind, source, float(lo), float(hi), bins, False)


def build_domain(
    data: pd.DataFrame,
    specs: list[ColumnSpec],
    *,
    budget: Budget,
    rho: float,
    bins: int,
    max_categories: int,
    rng: np.random.Generator,
) -> list[ColumnDomain]:
    """The domain of every column: declared where the schema says, else estimated under DP.

    ``rho`` (and the budget's whole δ reserve) is shared equally by the columns whose domain
    must be estimated; each estimate is charged to ``budget``.
    """
    todo = [s for s in specs if needs_estimate(s)]
    n_cats = sum(1 for s in todo if s.kind not in NUMERIC_KINDS)
    rho_each = rho / len(todo) if todo else 0.0
    delta_each = budget.delta_reserved / n_cats if n_cats else 0.0
    out = []
    for spec in specs:
        col = data[spec.name]
        kind = spec.kind
        if kind in NUMERIC_KINDS:
            if spec.bounds is not None:
                lo, hi = _declared_bounds(spec)
                source = "declared"
            else:
                x = to_days(col.dropna().to_numpy()) if kind == "datetime" else col.dropna()
                lo, hi = dp_bounds(np.asarray(x, dtype=float), kind=kind, rho=rho_each, rng=rng)
                budget.spend(f"bounds of '{spec.name}' (exponential mechanism)", rho=rho_each)
                source = "estimated"
            out.append(numeric_domain(spec.name, kind, source, lo, hi, bins=bins))
        elif spec.categories is not None:
            out.append(ColumnDomain(spec.name, kind, "declared", categories=list(spec.categories)))
        elif kind == "boolean":
            out.append(ColumnDomain(spec.name, kind, "public", categories=[False, True]))
        else:
            cats = dp_categories(
                col, rho=rho_each, delta=delta_each, max_categories=max_categories, rng=rng
            )
            budget.spend(
                f"categories of '{spec.name}' (thresholded Gaussian counts)",
                rho=rho_each,
                delta=delta_each,
            )
            out.append(ColumnDomain(spec.name, "categorical", "estimated", categories=cats))
    return out


def needs_estimate(spec: ColumnSpec) -> bool:
    """Whether a column's domain must be estimated (nothing declared, not public)."""
    if spec.kind in NUMERIC_KINDS:
        return spec.bounds is None
    return spec.categories is None and spec.kind != "boolean"


def _declared_bounds(spec: ColumnSpec) -> tuple[float, float]:
    lo, hi = spec.bounds  # type: ignore[misc]
    if spec.kind == "datetime":
        stamps = [pd.Timestamp(str(v)) for v in (lo, hi)]
        stamps = [t.tz_convert("UTC").tz_localize(None) if t.tzinfo else t for t in stamps]
        lo, hi = (float(to_days(np.datetime64(t.to_datetime64(), "ns"))) for t in stamps)
    lo, hi = float(lo), float(hi)
    if not lo < hi:
        raise ModelError(f"column '{spec.name}' has declared bounds with lo not below hi")
    return lo, hi
