"""The EvaluationReport: plain, versioned, JSON-serialisable results of an evaluation.

Every figure in it carries its value, its direction (which way is better), a confidence
interval where it is an estimate, and the baseline it is judged against (the holdout compared
with the training records: what perfect synthetic data would score). The report holds
aggregates only, never a record.
"""

from __future__ import annotations

import copy
import json
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


def _plain(value: Any) -> Any:
    """JSON fallback for numpy scalars and arrays."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
