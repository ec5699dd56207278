"""A first fidelity figure: sdmetrics' QualityReport (column shapes and column pair trends).

Scored twice: synthetic against train, and holdout against train. The second is what a perfect
synthetic cohort of this size would score, the ceiling the first is judged against.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.models.base import to_model_frame

MAX_ROWS = 50_000
"""Rows of each table the QualityReport sees (sdmetrics' own subsample size, but seeded)."""


def sdmetrics_metadata(schema: Schema, columns: list[str]) -> dict:
    """sdmetrics single-table metadata for ``columns`` from our schema."""
    sdtypes = {
        "numeric": "numerical",
        "integer": "numerical",
        "boolean": "boolean",
        "datetime": "datetime",
        "categorical": "categorical",
        "text": "categorical",
    }
    return {"columns": {c: {"sdtype": sdtypes[schema[c].kind]} for c in columns}}


@dataclass(frozen=True)
class QualityScore:
    """sdmetrics QualityReport scores in [0, 1] (1 is a perfect match).

    Attributes:
        overall: mean of the two property scores.
        column_shapes: per-column marginal similarity (KS complement / TV complement).
        column_pair_trends: similarity of pairwise correlations / contingency tables.
    """

    overall: float
    column_shapes: float
    column_pair_trends: float

    def to_dict(self) -> dict:
        """Plain JSON, rounded to 4 decimals; a score sdmetrics could not compute is None."""
        return {
            k: (round(float(v), 4) if v is not None and math.isfinite(v) else None)
            for k, v in asdict(self).items()
        }


def quality_score(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, *, seed: int | None = 0
) -> QualityScore:
    """Score ``synthetic`` against ``real`` with sdmetrics' QualityReport.

    Direct identifiers are left out: they are never learned, only faked. sdmetrics draws an
    unseeded subsample of 50,000 rows for its contingency pairs on larger tables, which would
    make the score differ between runs; so tables above :data:`MAX_ROWS` are first cut to a
    seeded subsample of that size here, and sdmetrics never subsamples.

    Args:
        real: the real records.
        synthetic: the records scored against them.
        schema: the schema.
        seed: seed of the subsample (only used above :data:`MAX_ROWS` rows).
    """
    with warnings.catch_warnings():  # the single-table report is deprecated but stable
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

    columns = [c for c in schema.model_columns if c in real.columns and c in synthetic.columns]
    rng = np.random.default_rng(seed)
    real, synthetic = (
        df.iloc[np.sort(rng.choice(len(df), MAX_ROWS, replace=False))] if len(df) > MAX_ROWS else df
        for df in (real, synthetic)
    )
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(
            to_model_frame(real[columns]),
            to_model_frame(synthetic[columns]),
            sdmetrics_metadata(schema, columns),
            verbose=False,
        )
    props = report.get_properties().set_index("Property")["Score"]
    return QualityScore(
        overall=float(report.get_score()),
        column_shapes=float(props.get("Column Shapes", float("nan"))),
        column_pair_trends=float(props.get("Column Pair Trends", float("nan"))),
    )
