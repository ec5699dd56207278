"""The EvaluationReport: plain, versioned, JSON-serialisable results of an evaluation.

Every figure in it carries its value, its direction (which way is better), a confidence
interval where it is an estimate, and the baseline it is judged against (the holdout compared
with the training records: what perfect synthetic data would score). The report holds
aggregates only, never a record.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthgen.errors import InputError

REPORT_KIND = "synthgen.evaluation"
FORMAT_VERSION = 1


@dataclass
class EvaluationReport:
    """Results of :func:`synthgen.evaluation.evaluate.evaluate`.

    Attributes:
        sizes: record counts of train, holdout and synthetic.
        fidelity: fidelity and utility sections, by name.
        privacy: privacy sections (copies, distance to closest record, attacks...), by name.
        settings: seed and other parameters that determine the numbers.
        provenance: where the inputs came from (model directory, file names).
        plots: disclosure-safe data for the report's figures (binned marginals, Kaplan-Meier
            curves on a coarse grid, ROC curves, DCR histograms; no cell below the
            small-cell threshold).
        worst_case: the per-record exposure of the training records
            (:class:`~synthgen.evaluation.privacy.worst_case.WorstCase`) when the report was
            just computed; it stays in memory and is never written with the report.
    """

    sizes: dict[str, int]
    fidelity: dict[str, Any] = field(default_factory=dict)
    privacy: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    plots: dict[str, Any] = field(default_factory=dict)
    worst_case: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data; the per-record worst-case view is never part of it."""
        sections = ("sizes", "fidelity", "privacy", "plots", "settings", "provenance")
        return {
            "kind": REPORT_KIND,
            "format_version": FORMAT_VERSION,
            **{name: copy.deepcopy(getattr(self, name)) for name in sections},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=_plain)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> EvaluationReport:
        if not isinstance(raw, dict) or raw.get("kind") != REPORT_KIND:
            raise InputError("not a synthgen evaluation report")
        if raw.get("format_version") != FORMAT_VERSION:
            raise InputError(
                f"evaluation report format {raw.get('format_version')!r} is not supported "
                f"(expected {FORMAT_VERSION})"
            )
        keys = ("sizes", "fidelity", "privacy", "plots", "settings", "provenance")
        return cls(**{k: raw.get(k) or {} for k in keys})

    @classmethod
    def load(cls, path: str | Path) -> EvaluationReport:
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"'{path}' is not a readable evaluation report") from None
        return cls.from_dict(raw)


NOT_PRIVATE = "none: empirical audit only"
"""What the report says of a model trained without differential privacy."""

_BUDGET_KEYS = ("epsilon", "delta", "mechanism", "accountant")


def _number(value: Any) -> str:
    """A budget figure as people write it: ``1``, ``0.5``, ``1e-6``."""
    text = f"{value:.4g}"
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), text)


def describe_budget(budget: Mapping[str, Any] | None) -> str:
    """One line on a privacy budget: ``ε = 1, δ = 1e-6 (MST, zCDP)``, or :data:`NOT_PRIVATE`.

    Args:
        budget: a generator's ``privacy_budget_`` (``{"epsilon", "delta", "mechanism",
            "accountant", ...}``), the ``differential_privacy`` section of a report, or None.
    """
    if not budget or not budget.get("epsilon"):
        return NOT_PRIVATE
    parts = [f"ε = {_number(float(budget['epsilon']))}"]
    if budget.get("delta") is not None:
        parts.append(f"δ = {_number(float(budget['delta']))}")
    how = [str(budget[k]) for k in ("mechanism", "accountant") if budget.get(k)]
    return ", ".join(parts) + (f" ({', '.join(how)})" if how else "")


def budget_section(budget: Mapping[str, Any] | None) -> dict[str, Any]:
    """The report's ``privacy/differential_privacy`` entry for a spent budget (or none).

    Raises:
        InputError: ``budget`` is given but holds no positive, finite epsilon or a delta
            outside [0, 1).
    """
    if budget is None:
        return {"private": False, **dict.fromkeys(_BUDGET_KEYS), "statement": NOT_PRIVATE}
    if not isinstance(budget, Mapping):
        raise InputError(
            f"privacy_budget must be a dict with epsilon and delta, found {type(budget).__name__}"
        )
    eps, delta = budget.get("epsilon"), budget.get("delta", 0.0)
    problems = []
    if (
        isinstance(eps, bool)
        or not isinstance(eps, (int, float))
        or not (math.isfinite(eps) and eps > 0)
    ):
        problems.append(f"epsilon must be a positive number, found {eps!r}")
    if delta is not None and (
        isinstance(delta, bool) or not isinstance(delta, (int, float)) or not 0 <= delta < 1
    ):
        problems.append(f"delta must be a number in [0, 1), found {delta!r}")
    if problems:
        raise InputError("privacy_budget: " + "; ".join(problems))
    section: dict[str, Any] = {"private": True, **{k: budget.get(k) for k in _BUDGET_KEYS}}
    section["epsilon"] = float(eps)
    section["delta"] = None if delta is None else float(delta)
    # the accountant's scalar figures (rho, epsilon actually spent...); the itemised spends
    # stay in the signed model directory and the bundle's manifest
    details = {
        k: v
        for k, v in budget.items()
        if k not in _BUDGET_KEYS and (v is None or isinstance(v, (str, int, float)))
    }
    if details:
        section["details"] = details
    section["statement"] = describe_budget(section)
    return section


def _plain(value: Any) -> Any:
    """JSON fallback for numpy scalars and arrays."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
