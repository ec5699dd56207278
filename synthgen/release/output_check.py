"""Output checking: what may leave the secure environment, and the checker's summary.

A trusted research environment lets results out only after an output check: no
individual-level data, no small cells, no real extremes. synthgen applies the same rules to
everything in a release bundle, mechanically, and lists what it did in the form output
checkers expect (each item, the rule, what happened to it).

The evaluation report (:func:`check_report`):

- **per-record content is removed**: the shadow-model attack's target list (row positions
  and per-target scores) and any per-record score list;
- **small cells are suppressed**: every count of real records between 1 and ``k - 1`` is
  replaced by ``None``, together with the share, interval and baseline computed from it (a
  share and its denominator would give the count back); zeros are kept (a structural zero
  discloses nothing about a person);
- **no real extremes**: percentile tables drop their 0th and 100th percentiles.

The synthetic cohort (:func:`protect_categories`): a category (or a boolean ``True``) that
stands for fewer than ``k`` real training records would point at those few people, so it is
merged into one ``other`` category or suppressed (set missing), as the policy says.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError

OTHER = "other"
"""The label rare categories are merged into."""

REAL_COUNT_KEYS = frozenset(
    {
        "count",
        "baseline_count",
        "n",
        "baseline_n",
        "n_members",
        "n_nonmembers",
        "n_train",
        "n_holdout",
        "n_reference",
        "records_flagged_by_every_attack",
    }
)
"""Keys whose integer value counts real records (train or holdout), wherever they appear."""

DERIVED_KEYS = ("value", "ci", "baseline", "baseline_ci", "share")
"""Siblings computed from a count: suppressed with it."""

PER_RECORD_KEYS = frozenset({"targets", "member_scores", "nonmember_scores", "member_rows"})
"""Keys that hold per-record content; removed wherever they appear under ``privacy``."""


@dataclass(frozen=True)
class CheckedItem:
    """One line of the output-checking summary."""

    item: str
    rule: str
    status: str  # "passed", "suppressed", "removed", "merged"
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"item": self.item, "rule": self.rule, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class OutputCheck:
    """What the output check did: the summary a TRE output checker reads."""

    k: int
    items: tuple[CheckedItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "small_cell_k": self.k,
            "rules": {
                "per-record content": "no real rows, row positions or per-record scores",
                "small cells": f"counts of real records from 1 to {self.k - 1} suppressed, "
                "with the shares and intervals computed from them",
                "extremes": "no real minimum or maximum: percentiles 0 and 100 removed; plot "
                "bins are open-ended at the real 2.5th and 97.5th percentiles",
                "rare categories": f"synthetic categories standing for fewer than {self.k} "
                "real records merged or suppressed",
            },
            "items": [i.to_dict() for i in self.items],
        }


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise InputError(f"the small-cell threshold k must be an integer of at least 2; got {k!r}")


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every dict in ``node`` with its path (parents before children)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in list(node.items()):
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, str(i)))


def _is_small(value: Any, k: int) -> bool:
    return (
        isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 < int(value) < k
    )


def check_report(report: dict[str, Any], *, k: int = 10) -> tuple[dict[str, Any], OutputCheck]:
    """A copy of an evaluation report fit for release, and the output-checking summary.

    Args:
        report: ``EvaluationReport.to_dict()`` (plain data); not modified.
        k: the small-cell threshold (counts of real records below it are suppressed).

    Returns:
        ``(checked_report, summary)``.
    """
    _check_k(k)
    out = copy.deepcopy(report)
    items: list[CheckedItem] = []
    # 1. per-record content
    for path, node in list(_walk(out.get("privacy", {}), ("privacy",))):
        for key in sorted(PER_RECORD_KEYS & set(node)):
            del node[key]
            items.append(CheckedItem("/".join((*path, key)), "per-record content", "removed"))
    # 2. small cells of real records, with the figures derived from them
    for path, node in list(_walk(out, ())):
        if path[:1] in (("settings",), ("provenance",)):
            continue
        small = [key for key in REAL_COUNT_KEYS & set(node) if _is_small(node[key], k)]
        if not small:
            continue
        for key in sorted(small):
            node[key] = None
        # a small baseline count hides the baseline figures; a small count of the scored
        # records hides the value figures; a small group size hides everything
        base = any(key.startswith("baseline") for key in small)
        main = any(key in ("count", "n") for key in small)
        whole = not (base or main) or any(
            not key.startswith("baseline") and key not in ("count", "n") for key in small
        )
        derived = [
            key
            for key in DERIVED_KEYS
            if key in node
            and (
                whole
                or (key.startswith("baseline") and base)
                or (not key.startswith("baseline") and main)
            )
        ]
        for key in derived:
            node[key] = None
        node["suppressed"] = f"fewer than {k} real records"
        items.append(
            CheckedItem(
                "/".join(path),
                f"small cells (k = {k})",
                "suppressed",
                ", ".join(sorted(small) + derived),
            )
        )
    # 2b. validity: a check's baseline is a count of holdout (real) rows breaking it
    for path, node in list(_walk(out.get("fidelity", {}).get("validity") or {}, ())):
        counts = [key for key in ("violations", "invalid_rows") if isinstance(node.get(key), dict)]
        if not any(_is_small(node[key].get("baseline"), k) for key in counts):
            continue
        for key in ("violations", "invalid_rows", "share", "invalid_share"):
            if isinstance(node.get(key), dict):
                node[key]["baseline"] = None
        items.append(
            CheckedItem(
                "/".join(("fidelity", "validity", *path)),
                f"small cells (k = {k})",
                "suppressed",
                "baseline count of holdout rows",
            )
        )
    # 3. no real extremes in percentile tables
    for path, node in list(_walk(out, ())):
        if path and path[-1].endswith("percentiles"):
            for key in ("0", "100"):
                if key in node:
                    del node[key]
                    items.append(CheckedItem("/".join((*path, key)), "extremes", "removed"))
    # the sections that passed untouched
    touched = {i.item.split("/")[0] + "/" + i.item.split("/")[1] for i in items if "/" in i.item}
    for section in ("fidelity", "privacy", "plots"):
        for name in (out.get(section) or {}) if isinstance(out.get(section), dict) else ():
            item = f"{section}/{name}"
            if item not in touched:
                items.append(CheckedItem(item, "aggregates only; no cell below k", "passed"))
    return out, OutputCheck(k=int(k), items=tuple(items))


def protect_categories(
    synthetic: pd.DataFrame,
    *,
    train: pd.DataFrame,
    schema: Schema,
    k: int = 10,
    action: str = "merge",
) -> tuple[pd.DataFrame, list[CheckedItem]]:
    """Merge or suppress synthetic categories that stand for fewer than ``k`` real records.

    Categorical and text columns: a value held by fewer than ``k`` training records becomes
    :data:`OTHER` (``action="merge"``; if the merged category itself stands for fewer than
    ``k`` records, it is suppressed) or missing (``action="suppress"``). Boolean columns: a
    value (True or False) held by fewer than ``k`` training records is set missing (a boolean
    has nothing to merge with). Direct identifiers (fake values) and numbers are left alone.

    Returns:
        ``(protected_synthetic, summary_items)``; the items never name the rare categories.
    """
    _check_k(k)
    if action not in ("merge", "suppress"):
        raise InputError(f"rare_categories must be 'merge' or 'suppress'; got {action!r}")
    out = synthetic.copy()
    items: list[CheckedItem] = []
    for name in schema.model_columns:
        spec = schema[name]
        if spec.kind not in ("categorical", "text", "boolean") or name not in out.columns:
            continue
        if name not in train.columns:
            continue
        counts = train[name].dropna().astype(str).value_counts()
        rare = set(counts.index[counts < k])
        column = out[name]
        as_text = column.astype(str).where(column.notna())
        hit = as_text.isin(rare).to_numpy()
        # values the real data never held stand for no real record: nothing to protect
        if not hit.any():
            items.append(CheckedItem(f"synthetic/{name}", f"rare categories (k = {k})", "passed"))
            continue
        merged_total = int(counts[counts < k].sum())
        if spec.kind == "boolean" or action == "suppress" or merged_total < k:
            out[name] = column.mask(hit)
            status, detail = (
                "suppressed",
                f"{len(rare)} value(s) set missing in {int(hit.sum())} rows",
            )
        else:
            out[name] = column.astype("object").where(~hit, OTHER)
            status = "merged"
            detail = f"{len(rare)} categories merged into '{OTHER}' in {int(hit.sum())} rows"
        items.append(CheckedItem(f"synthetic/{name}", f"rare categories (k = {k})", status, detail))
    return out, items
