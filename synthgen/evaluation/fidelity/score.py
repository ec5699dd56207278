"""Every fidelity and utility measure in one call: the ``fidelity`` section of the report.

Runs sdmetrics' QualityReport, the per-column and pairwise distances, detection, α-precision /
β-recall / authenticity, train-on-synthetic utility for the schema's targets, survival
agreement for its time-to-event pair, validity, and the break-down by subgroup. Each figure
sits next to the holdout-vs-train ceiling. Measures that subsample say so, with the size, in
their own section.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.evaluation.fidelity.detection import detection
from synthgen.evaluation.fidelity.marginals import marginal_fidelity
from synthgen.evaluation.fidelity.precision_recall import precision_recall
from synthgen.evaluation.fidelity.subgroups import Measure, fidelity_by_subgroup
from synthgen.evaluation.fidelity.survival import survival
from synthgen.evaluation.fidelity.utility import utility
from synthgen.evaluation.quality import MAX_ROWS as QUALITY_MAX_ROWS
from synthgen.evaluation.quality import quality_score

SUBGROUP_ROWS = 3_000
"""Records per table and group used by the subgroup break-down's detection and utility."""

SUBGROUP_MIN_RECORDS = 50
"""The fewest records a group needs in each table to be scored."""


@dataclass(frozen=True)
class _Headline:
    headline: float | None
    headline_baseline: float | None
    reason: str | None = None


def _subgroup_measures(schema: Schema, seed: int, targets: Sequence[str]) -> dict[str, Measure]:
    """Cheap versions of the headline measures, for re-running inside every group."""

    def shape(**tables: pd.DataFrame) -> Any:
        return marginal_fidelity(**tables, schema=schema)

    def detect(**tables: pd.DataFrame) -> _Headline:
        r = detection(**tables, schema=schema, seed=seed, n_folds=3, max_rows=SUBGROUP_ROWS)
        return _Headline(r.auc, r.baseline_auc, r.reason)

    def coverage(**tables: pd.DataFrame) -> _Headline:
        r = precision_recall(**tables, schema=schema, seed=seed, max_rows=SUBGROUP_ROWS)
        base = r.baseline
        return _Headline(
            r.headline,
            None if base is None else (base.delta_precision + base.delta_recall) / 2.0,
            r.reason,
        )

    measures = {
        "shape_score": Measure(shape, "higher is better", "mean column shape score"),
        "detection_auc": Measure(detect, "lower is better", "detection AUC (0.5 is ideal)"),
        "precision_recall": Measure(
            coverage, "higher is better", "mean of alpha-precision and beta-recall"
        ),
    }
    if targets:

        def tstr(**tables: pd.DataFrame) -> _Headline:
            r = utility(
                **tables,
                schema=schema,
                seed=seed,
                targets=list(targets),
                max_train_rows=SUBGROUP_ROWS,
                max_test_rows=SUBGROUP_ROWS,
                n_boot=50,
                importance=False,
            )
            return _Headline(r.headline, 0.0 if r.headline is not None else None)

        measures["utility_gap"] = Measure(
            tstr,
            "higher is better",
            "TSTR minus TRTR of the boosting model, trained on the whole cohort (0 is ideal)",
            whole_training=True,
        )
    return measures


def _caps() -> dict[str, Any]:
    """The most records each measure uses (seeded subsamples above these; whole tables below)."""
    import inspect

    def default(fn: Any, name: str) -> Any:
        return inspect.signature(fn).parameters[name].default

    return {
        "quality_report": {"max_rows_per_table": QUALITY_MAX_ROWS},
        "marginals": None,
        "validity": None,
        "detection": {"max_rows_per_side": default(detection, "max_rows")},
        "precision_recall": {
            "max_rows_per_table": default(precision_recall, "max_rows"),
            "authenticity": "against every training record",
        },
        "utility": {
            "max_train_rows": default(utility, "max_train_rows"),
            "max_test_rows": default(utility, "max_test_rows"),
            "importance_rows": default(utility, "importance_rows"),
        },
        "survival": {
            "max_rows": default(survival, "max_rows"),
            "max_cox_rows": default(survival, "max_cox_rows"),
        },
        "by_subgroup": {"max_rows_per_table": SUBGROUP_ROWS},
    }


def score_fidelity(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    validity_result: Any,
    seed: int = 0,
    targets: Sequence[str] | None = None,
    by_subgroup: bool = True,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The report's fidelity section (plain data).

    Args:
        train: training records, typed.
        holdout: holdout records, typed.
        synthetic: synthetic records, typed.
        schema: the schema.
        validity_result: the :class:`~synthgen.evaluation.fidelity.validity.ValidityResult`
            of the synthetic table as it arrived (before typing turned misfits into missing).
        seed: seeds every subsample, fold and bootstrap.
        targets: utility targets; default the schema's ``target`` columns.
        by_subgroup: also break the headline measures down by the schema's subgroup columns.
        timings: if given, filled with the seconds each part took (for benchmarks; never
            part of the report, which must be the same for the same inputs and seed).

    Returns:
        The ``fidelity`` section.
    """
    tables = {"train": train, "holdout": holdout, "synthetic": synthetic}
    clock = timings if timings is not None else {}
    if targets is None:
        targets = [c for c in schema.with_role("target") if c in schema.model_columns]

    def timed(name: str, fn, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        clock[name] = round(time.perf_counter() - start, 2)
        return out

    quality = timed("quality_report", quality_score, train, synthetic, schema, seed=seed)
    ceiling = timed("quality_report_ceiling", quality_score, train, holdout, schema, seed=seed)
    section: dict[str, Any] = {
        "quality_report": {
            "metric": "sdmetrics QualityReport",
            "direction": "higher is better",
            "synthetic_vs_train": quality.to_dict(),
            "baseline_holdout_vs_train": ceiling.to_dict(),
        },
        "marginals": timed("marginals", marginal_fidelity, **tables, schema=schema).to_dict(),
        "detection": timed("detection", detection, **tables, schema=schema, seed=seed).to_dict(),
        "precision_recall": timed(
            "precision_recall", precision_recall, **tables, schema=schema, seed=seed
        ).to_dict(),
        "utility": None,
        "survival": None,
        "validity": validity_result.to_dict(),
        "by_subgroup": None,
        "subsampling": _caps(),
    }
    if targets:
        section["utility"] = timed(
            "utility", utility, **tables, schema=schema, seed=seed, targets=list(targets)
        ).to_dict()
    if schema.with_role("time_to_event_time") and schema.with_role("time_to_event_event"):
        section["survival"] = timed(
            "survival", survival, **tables, schema=schema, seed=seed
        ).to_dict()
    subgroup_columns = [c for c in schema.with_role("subgroup") if c in schema.model_columns]
    if by_subgroup and subgroup_columns:
        section["by_subgroup"] = timed(
            "by_subgroup",
            fidelity_by_subgroup,
            **tables,
            schema=schema,
            measures=_subgroup_measures(schema, seed, targets),
            min_records=SUBGROUP_MIN_RECORDS,
        ).to_dict()
    return section
