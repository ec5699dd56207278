"""Membership-inference risk by subgroup: does an attack succeed more on some people?

Attacks succeed most on rare and outlying patients, so a cohort-wide AUC near 0.5 can hide a
group (an ethnicity, an age band) whose members are easy to pick out. This module takes the
per-record scores an attack already produced and breaks its AUC and TPR at 1% FPR down by
every level of every subgroup column of the schema (role ``subgroup``).

- Categorical, text and boolean columns: one group per value (missing values form a
  ``<missing>`` group).
- Numeric, integer and datetime columns: quartile bands of the scored records' values
  (members and non-members pooled, so both sides share one set of bands), labelled ``Q1`` to
  ``Q4`` without their edges, so no real value is reported. Where many records share a value
  (e.g. a small integer scale) equal edges merge and fewer bands are made, labelled
  ``band i of n``.

Group labels are category values of subgroup columns: aggregates, allowed in a report. A
group with fewer than ``min_records`` members or non-members is reported as "too few
records": its label only, without figures or counts (a small cell would itself disclose).
Intervals are stratified bootstrap intervals, seeded. The worst groups are those with the
highest lower bound of the AUC interval: the groups the attack most surely beats.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy.scores import (
    AUC_BASELINE,
    AttackResult,
    bootstrap_ci,
    roc_auc,
    tpr_at_fpr,
)

SUBGROUP_FPR = 0.01
"""The false-positive rate at which each group's TPR is reported."""

MISSING_LABEL = "<missing>"


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


@dataclass(frozen=True)
class GroupRisk:
    """The attack's success on one group (one level of one subgroup column).

    Attributes:
        column: the subgroup column.
        level: the group's label (a category value, or a quartile band ``Q1``..``Q4``).
        n_members: scored members in the group.
        n_nonmembers: scored non-members in the group.
        auc: the group's AUC; None when the group is too small.
        auc_ci: its bootstrap interval; None when too small.
        tpr: TPR at :data:`SUBGROUP_FPR`; None when too small.
        tpr_ci: its bootstrap interval; None when too small.
    """

    column: str
    level: str
    n_members: int
    n_nonmembers: int
    auc: float | None = None
    auc_ci: tuple[float, float] | None = None
    tpr: float | None = None
    tpr_ci: tuple[float, float] | None = None

    @property
    def too_few(self) -> bool:
        return self.auc is None

    def to_dict(self, *, worst: bool = False) -> dict[str, Any]:
        """Plain JSON; a group that is too small keeps only its label."""
        out: dict[str, Any] = {"column": self.column, "level": self.level}
        if self.too_few:
            out.update(
                too_few_records=True,
                n_members=None,
                n_nonmembers=None,
                auc={
                    "value": None,
                    "ci": None,
                    "direction": "lower is better",
                    "baseline": AUC_BASELINE,
                },
                tpr_at_fpr={
                    str(SUBGROUP_FPR): {
                        "value": None,
                        "ci": None,
                        "direction": "lower is better",
                        "baseline": SUBGROUP_FPR,
                        "reliable": False,
                    }
                },
                worst=False,
            )
            return out
        assert self.auc_ci is not None and self.tpr_ci is not None
        out.update(
            too_few_records=False,
            n_members=int(self.n_members),
            n_nonmembers=int(self.n_nonmembers),
            auc={
                "value": _r(self.auc),
                "ci": [_r(self.auc_ci[0]), _r(self.auc_ci[1])],
                "direction": "lower is better",
                "baseline": AUC_BASELINE,
            },
            tpr_at_fpr={
                str(SUBGROUP_FPR): {
                    "value": _r(self.tpr),
                    "ci": [_r(self.tpr_ci[0]), _r(self.tpr_ci[1])],
                    "direction": "lower is better",
                    "baseline": SUBGROUP_FPR,  # a guessing attacker's TPR equals its FPR
                    "reliable": self.n_nonmembers >= 1.0 / SUBGROUP_FPR,
                }
            },
            worst=worst,
        )
        return out


@dataclass(frozen=True)
class SubgroupResult:
    """An attack's AUC and TPR broken down by subgroup.

    Attributes:
        attack: the attack's name.
        min_records: the smallest member and non-member count for which figures are given.
        groups: every group of every subgroup column, in column order then level order.
        worst: positions in ``groups`` of the worst groups, worst first (highest AUC lower
            bound among the groups with figures).
        overall_auc: the attack's AUC over all scored records, for context.
    """

    attack: str
    min_records: int
    groups: tuple[GroupRisk, ...]
    worst: tuple[int, ...]
    overall_auc: float

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(g.column for g in self.groups))

    def group(self, column: str, level: str) -> GroupRisk:
        """The group of ``column`` labelled ``level``."""
        for g in self.groups:
            if g.column == column and g.level == level:
                return g
        raise KeyError((column, level))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: groups by column; figures of small groups withheld."""
        worst = set(self.worst)
        by_column: dict[str, list[dict[str, Any]]] = {}
        for i, g in enumerate(self.groups):
            by_column.setdefault(g.column, []).append(g.to_dict(worst=i in worst))
        return {
            "attack": self.attack,
            "min_records": int(self.min_records),
            "overall_auc": _r(self.overall_auc),
            "groups": by_column,
            "worst": [
                {
                    "column": self.groups[i].column,
                    "level": self.groups[i].level,
                    "auc": _r(self.groups[i].auc),
                    "auc_ci_low": _r(self.groups[i].auc_ci[0]),  # type: ignore[index]
                }
                for i in self.worst
            ],
        }


# ------------------------------------------------------------------------------ helpers
def _labels(members: pd.Series, nonmembers: pd.Series, kind: str) -> tuple[np.ndarray, ...]:
    """Group labels (strings) of the scored members and non-members, and the level order."""
    both = pd.concat([members, nonmembers], ignore_index=True)
    missing = both.isna().to_numpy()
    numberlike = kind in ("numeric", "integer", "datetime") or (
        kind not in ("boolean", "categorical", "text")
        and (pd.api.types.is_numeric_dtype(both) or pd.api.types.is_datetime64_any_dtype(both))
    )
    if numberlike and not pd.api.types.is_bool_dtype(both):
        if pd.api.types.is_datetime64_any_dtype(both):
            raw = pd.to_datetime(both).to_numpy(dtype="datetime64[ns]")
            values = raw.view(np.int64).astype(np.float64)
        else:
            values = both.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.where(missing, np.nan, values)
        observed = values[~np.isnan(values)]
        edges = (
            np.unique(np.quantile(observed, [0.25, 0.5, 0.75])) if observed.size else np.array([])
        )
        n_bands = edges.size + 1
        names = (
            [f"Q{i + 1}" for i in range(4)]
            if n_bands == 4
            else [f"band {i + 1} of {n_bands}" for i in range(n_bands)]
        )
        band = np.searchsorted(edges, np.nan_to_num(values), side="left")
        labels = np.array(names, dtype=object)[np.minimum(band, n_bands - 1)]
        order = list(names)
    else:
        labels = both.astype(str).to_numpy(dtype=object)
        order = sorted(set(labels[~missing].tolist()))
    labels = np.where(missing, MISSING_LABEL, labels)
    if missing.any():
        order.append(MISSING_LABEL)
    present = set(labels.tolist())
    order = [o for o in order if o in present]
    n_m = len(members)
    return labels[:n_m], labels[n_m:], np.array(order, dtype=object)


def _rows(rows: np.ndarray | None, n: int, what: str, table: str) -> np.ndarray:
    if rows is None:
        raise InputError(
            f"the attack result has no {what}; attack_by_subgroup needs the row positions of "
            "the scored records (distance_attack and density_attack keep them)"
        )
    arr = np.asarray(rows)
    if arr.dtype.kind not in "iu":
        raise InputError(f"{what} must be integer row positions; got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise InputError(f"{what} point outside the {table} table ({n} rows)")
    return arr.astype(np.int64)


# ------------------------------------------------------------------------------- measure
def attack_by_subgroup(
    *,
    result: AttackResult,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    schema: Schema,
    min_records: int = 20,
    seed: int | None = 0,
    n_boot: int = 200,
    n_worst: int = 3,
) -> SubgroupResult:
    """Break an attack's AUC and TPR at 1% FPR down by the schema's subgroup columns.

    Args:
        result: an attack result that kept ``member_rows`` and ``nonmember_rows``.
        train: the training table the members' row positions point into.
        holdout: the holdout table the non-members' row positions point into.
        schema: the schema; its ``subgroup`` columns (direct identifiers excluded) are used.
        min_records: the fewest members and the fewest non-members a group needs for figures.
        seed: seed of the bootstrap intervals; the same seed gives the same intervals.
        n_boot: bootstrap replicates per group and figure.
        n_worst: how many of the worst groups to flag.

    Returns:
        A :class:`SubgroupResult`.

    Raises:
        InputError: the result lacks row positions or they do not fit the tables, the
            schema has no subgroup column, or a table lacks one.
    """
    if not isinstance(result, AttackResult):
        raise InputError(f"result must be an AttackResult; got {type(result).__name__}")
    if isinstance(min_records, bool) or not isinstance(min_records, (int, np.integer)):
        raise InputError(f"min_records must be an integer; got {min_records!r}")
    if min_records < 1:
        raise InputError(f"min_records must be at least 1; got {min_records}")
    if n_worst < 0:
        raise InputError(f"n_worst must be at least 0; got {n_worst}")
    member_rows = _rows(result.member_rows, len(train), "member_rows", "train")
    nonmember_rows = _rows(result.nonmember_rows, len(holdout), "nonmember_rows", "holdout")
    m_scores = np.asarray(result.member_scores, dtype=np.float64)
    n_scores = np.asarray(result.nonmember_scores, dtype=np.float64)
    if m_scores.size != member_rows.size or n_scores.size != nonmember_rows.size:
        raise InputError(
            "the attack result's row positions and scores differ in length "
            f"({member_rows.size} vs {m_scores.size} members, "
            f"{nonmember_rows.size} vs {n_scores.size} non-members)"
        )
    model = schema.model_columns
    columns = [c for c in schema.with_role("subgroup") if c in model]
    if not columns:
        raise InputError("the schema has no subgroup columns; mark some with role 'subgroup'")
    problems = []
    for name, df in (("train", train), ("holdout", holdout)):
        missing = [c for c in columns if c not in df.columns]
        if missing:
            problems.append(f"the {name} table lacks subgroup columns: {', '.join(missing)}")
    if problems:
        raise InputError("; ".join(problems))

    rng = np.random.default_rng(seed)
    tpr_stat = partial(tpr_at_fpr, fpr=SUBGROUP_FPR)
    groups: list[GroupRisk] = []
    for col in columns:
        m_lab, n_lab, order = _labels(
            train[col].iloc[member_rows].reset_index(drop=True),
            holdout[col].iloc[nonmember_rows].reset_index(drop=True),
            schema[col].kind,
        )
        for level in order:
            # two seeds per group drawn whether or not it is small, so one group's size
            # never shifts another group's intervals
            s_auc, s_tpr = (int(s) for s in rng.integers(0, 2**63 - 1, size=2))
            m = m_scores[m_lab == level]
            n = n_scores[n_lab == level]
            if m.size < min_records or n.size < min_records:
                groups.append(GroupRisk(col, str(level), int(m.size), int(n.size)))
                continue
            groups.append(
                GroupRisk(
                    column=col,
                    level=str(level),
                    n_members=int(m.size),
                    n_nonmembers=int(n.size),
                    auc=roc_auc(member_scores=m, nonmember_scores=n),
                    auc_ci=bootstrap_ci(
                        member_scores=m,
                        nonmember_scores=n,
                        statistic=roc_auc,
                        n_boot=n_boot,
                        seed=s_auc,
                    ),
                    tpr=tpr_stat(member_scores=m, nonmember_scores=n),
                    tpr_ci=bootstrap_ci(
                        member_scores=m,
                        nonmember_scores=n,
                        statistic=tpr_stat,
                        n_boot=n_boot,
                        seed=s_tpr,
                    ),
                )
            )
    rated = [i for i, g in enumerate(groups) if not g.too_few]
    # highest AUC lower bound first; ties by AUC, then by position (stable)
    rated.sort(key=lambda i: (-groups[i].auc_ci[0], -groups[i].auc))  # type: ignore[index]
    return SubgroupResult(
        attack=result.name,
        min_records=int(min_records),
        groups=tuple(groups),
        worst=tuple(rated[:n_worst]),
        overall_auc=float(result.auc),
    )
