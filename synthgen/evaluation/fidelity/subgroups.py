"""Fidelity and utility by subgroup: where will models trained on the synthetic cohort fail?

A synthetic cohort can match the whole population and still misrepresent a minority: a
model trained on it then fails exactly where it was needed. Every measure given here is
re-run inside each level of each subgroup column of the schema (role ``subgroup``):

- categorical, text and boolean columns: one group per value (missing values form a
  ``<missing>`` group);
- numeric, integer and datetime columns with more than ten distinct values: quartile bands
  of the *training* values, applied to all three tables and labelled ``Q1`` to ``Q4``
  without their edges (no real value is reported); where many records share a value, equal
  edges merge and fewer bands are made, labelled ``band i of n``. With ten or fewer distinct
  values (e.g. a deprivation quintile) each value is a group.

Each measure reports, per group, its headline figure for the synthetic records of the group
and its baseline: the same figure for the holdout records of the group (what a perfect
synthetic cohort scores there). Utility is the exception: its models are trained on the whole
synthetic (and, for the baseline, the whole training) cohort, as a researcher would train
them, and tested on the group's holdout records: the question is where those models fail.
The *shortfall* is how much worse the synthetic figure is than its baseline; the groups with
the largest shortfall are flagged as the worst. A group with fewer than ``min_records``
records in the training, holdout or synthetic table is reported as "too few records": its
label only, no figures, no counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError

MISSING_LABEL = "<missing>"

MAX_VALUE_GROUPS = 10
"""A numeric subgroup column with at most this many distinct values is grouped by value."""


def _r(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


@dataclass(frozen=True)
class Measure:
    """A fidelity or utility measure that can be re-run on a group's records.

    Attributes:
        run: called as ``run(train=, holdout=, synthetic=)`` on one group's rows; returns an
            object with ``headline`` and ``headline_baseline`` (floats or None).
        direction: ``"higher is better"`` or ``"lower is better"`` for the headline.
        label: what the headline is, in a few words (e.g. "detection AUC").
        whole_training: pass the *whole* training and synthetic tables and only the group's
            holdout records, e.g. for utility: models are trained on the whole cohort, as a
            researcher would, and tested on the group, where they may fail.
    """

    run: Callable[..., Any]
    direction: str
    label: str
    whole_training: bool = False


@dataclass(frozen=True)
class GroupFidelity:
    """One group's figures: ``{measure: (synthetic, baseline, reason)}``."""

    column: str
    level: str
    n: tuple[int, int, int] | None  # train, holdout, synthetic; None when too few
    figures: Mapping[str, tuple[float | None, float | None, str | None]]

    @property
    def too_few(self) -> bool:
        return self.n is None


def shortfall(value: float | None, baseline: float | None, direction: str) -> float | None:
    """How much worse ``value`` is than ``baseline`` (positive = worse), or None."""
    if value is None or baseline is None:
        return None
    diff = float(baseline) - float(value)
    return diff if direction.startswith("higher") else -diff


@dataclass(frozen=True)
class FidelityBySubgroup:
    """The outcome of :func:`fidelity_by_subgroup`."""

    measures: Mapping[str, Measure]
    groups: tuple[GroupFidelity, ...]
    min_records: int
    n_worst: int

    def worst(self, measure: str) -> list[GroupFidelity]:
        """The groups with the largest shortfall on ``measure`` (positive shortfalls only)."""
        direction = self.measures[measure].direction
        rated = []
        for g in self.groups:
            if g.too_few:
                continue
            value, baseline, _ = g.figures[measure]
            gap = shortfall(value, baseline, direction)
            if gap is not None and gap > 0:
                rated.append((gap, g))
        rated.sort(key=lambda pair: -pair[0])
        return [g for _, g in rated[: self.n_worst]]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: per group, each measure's value, baseline and shortfall."""
        worst = {name: {(g.column, g.level) for g in self.worst(name)} for name in self.measures}
        groups = []
        for g in self.groups:
            entry: dict[str, Any] = {"column": g.column, "level": g.level}
            if g.too_few:
                entry["too_few_records"] = True
                groups.append(entry)
                continue
            entry["too_few_records"] = False
            entry["n_train"], entry["n_holdout"], entry["n_synthetic"] = g.n
            for name, measure in self.measures.items():
                value, baseline, reason = g.figures[name]
                fig: dict[str, Any] = {
                    "value": _r(value),
                    "direction": measure.direction,
                    "baseline": _r(baseline),
                    "shortfall": _r(shortfall(value, baseline, measure.direction)),
                    "worst": (g.column, g.level) in worst[name],
                }
                if reason:
                    fig["reason"] = reason
                entry[name] = fig
            groups.append(entry)
        return {
            "min_records": self.min_records,
            "measures": {
                name: {"label": m.label, "direction": m.direction}
                for name, m in self.measures.items()
            },
            "groups": groups,
            "worst": {
                name: [{"column": g.column, "level": g.level} for g in self.worst(name)]
                for name in self.measures
            },
        }


def _as_text(s: pd.Series) -> np.ndarray:
    """Values as labels; whole floats without their ``.0`` (3.0 reads "3")."""
    if pd.api.types.is_float_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(values) & (values == np.round(values))
        text = s.astype(str).to_numpy(dtype=object)
        text[whole] = values[whole].astype(np.int64).astype(str)
        return text
    return s.astype(str).to_numpy(dtype=object)


def group_labels(
    train: pd.Series, others: list[pd.Series], kind: str
) -> tuple[np.ndarray, list[np.ndarray], list[str]]:
    """Group labels of ``train`` and of each of ``others``, and the level order.

    Numbers and dates with more than :data:`MAX_VALUE_GROUPS` distinct training values are
    cut at the training quartiles; anything else (a quintile scale, a category) is grouped by
    value.
    """
    few_values = train.nunique(dropna=True) <= MAX_VALUE_GROUPS
    if (
        kind in ("numeric", "integer", "datetime")
        and not few_values
        and not pd.api.types.is_bool_dtype(train)
    ):

        def numbers(s: pd.Series) -> np.ndarray:
            if pd.api.types.is_datetime64_any_dtype(s):
                raw = pd.to_datetime(s).to_numpy(dtype="datetime64[ns]")
                out = raw.view(np.int64).astype(np.float64)
                return np.where(s.isna().to_numpy(), np.nan, out)
            return s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)

        values = [numbers(train)] + [numbers(s) for s in others]
        observed = values[0][~np.isnan(values[0])]
        edges = (
            np.unique(np.quantile(observed, [0.25, 0.5, 0.75])) if observed.size else np.array([])
        )
        n_bands = edges.size + 1
        names = (
            [f"Q{i + 1}" for i in range(4)]
            if n_bands == 4
            else [f"band {i + 1} of {n_bands}" for i in range(n_bands)]
        )
        labelled = []
        for v in values:
            band = np.searchsorted(edges, np.nan_to_num(v), side="left")
            lab = np.array(names, dtype=object)[np.minimum(band, n_bands - 1)]
            labelled.append(np.where(np.isnan(v), MISSING_LABEL, lab))
        order = list(names)
    else:
        labelled = [
            np.where(s.isna().to_numpy(), MISSING_LABEL, _as_text(s)) for s in [train, *others]
        ]
        order = sorted({x for x in labelled[0].tolist() if x != MISSING_LABEL})
    if any((lab == MISSING_LABEL).any() for lab in labelled):
        order.append(MISSING_LABEL)
    present = set(labelled[0].tolist())
    order = [o for o in order if o in present]  # groups are defined by the training records
    return labelled[0], labelled[1:], order


def fidelity_by_subgroup(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    measures: Mapping[str, Measure],
    min_records: int = 50,
    n_worst: int = 3,
) -> FidelityBySubgroup:
    """Re-run each measure within every level of every subgroup column.

    Args:
        train: the training records, typed.
        holdout: the holdout records, typed.
        synthetic: the synthetic records, typed.
        schema: the schema; its ``subgroup`` columns (direct identifiers excluded) are used.
        measures: the measures to re-run, by name.
        min_records: the fewest training, holdout and synthetic records a group needs.
        n_worst: how many of the worst groups to flag per measure.

    Returns:
        A :class:`FidelityBySubgroup`.

    Raises:
        InputError: the schema has no subgroup column, a table lacks one, or bad counts.
    """
    if isinstance(min_records, bool) or not isinstance(min_records, (int, np.integer)):
        raise InputError(f"min_records must be an integer; got {min_records!r}")
    if min_records < 2:
        raise InputError(f"min_records must be at least 2; got {min_records}")
    columns = [c for c in schema.with_role("subgroup") if c in schema.model_columns]
    if not columns:
        raise InputError("the schema has no subgroup columns; mark some with role 'subgroup'")
    tables = {"train": train, "holdout": holdout, "synthetic": synthetic}
    problems = [
        f"the {name} table lacks subgroup columns: {', '.join(missing)}"
        for name, df in tables.items()
        if (missing := [c for c in columns if c not in df.columns])
    ]
    if problems:
        raise InputError("; ".join(problems))

    groups: list[GroupFidelity] = []
    for col in columns:
        t_lab, (h_lab, s_lab), order = group_labels(
            train[col], [holdout[col], synthetic[col]], schema[col].kind
        )
        for level in order:
            parts = [
                df.loc[lab == level].reset_index(drop=True)
                for df, lab in ((train, t_lab), (holdout, h_lab), (synthetic, s_lab))
            ]
            sizes = tuple(len(p) for p in parts)
            if min(sizes) < min_records:
                groups.append(GroupFidelity(col, str(level), None, {}))
                continue
            figures = {}
            for name, measure in measures.items():
                if measure.whole_training:
                    result = measure.run(train=train, holdout=parts[1], synthetic=synthetic)
                else:
                    result = measure.run(train=parts[0], holdout=parts[1], synthetic=parts[2])
                reason = getattr(result, "reason", None)
                figures[name] = (result.headline, result.headline_baseline, reason)
            groups.append(GroupFidelity(col, str(level), sizes, figures))  # type: ignore[arg-type]
    return FidelityBySubgroup(
        measures=dict(measures),
        groups=tuple(groups),
        min_records=int(min_records),
        n_worst=int(n_worst),
    )
