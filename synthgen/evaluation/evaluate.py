"""One call that scores a synthetic cohort against the records it was learned from.

``evaluate(train=, holdout=, synthetic=, schema=)`` returns an :class:`EvaluationReport` with
the fidelity figures (sdmetrics QualityReport, next to the holdout-vs-train ceiling) and the
privacy figures available so far: copies, distance to closest record and the distance
membership-inference attack. Further measures extend the same report.
"""

from __future__ import annotations

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy import count_copies, distance_attack, distance_to_closest_record
from synthgen.evaluation.quality import quality_score
from synthgen.evaluation.report import EvaluationReport


def typed_synthetic(synthetic: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Type a synthetic table by the schema's columns it holds (dropped identifiers are absent).

    Raises:
        InputError: a column the model learned is missing, or values do not fit the schema.
    """
    missing = [c for c in schema.model_columns if c not in synthetic.columns]
    if missing:
        raise InputError(
            f"the synthetic table lacks column(s) the model learned: {', '.join(missing)}"
        )
    kept = [c for c in schema.names if c in synthetic.columns]
    return Schema(tuple(schema[c] for c in kept)).coerce(synthetic[kept], source="synthetic")


def evaluate(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int = 0,
    n_boot: int = 200,
) -> EvaluationReport:
    """Score ``synthetic`` for fidelity and privacy against ``train`` and ``holdout``.

    Args:
        train: the records the generator learned (members), typed by ``schema``.
        holdout: records it never saw (non-members), typed by ``schema``.
        synthetic: the synthetic cohort, typed by ``schema``.
        schema: the schema the model was trained with.
        seed: seeds every subsample and bootstrap: the same inputs and seed give the same
            numbers.
        n_boot: bootstrap replicates for attack confidence intervals.

    Returns:
        A plain, versioned :class:`EvaluationReport`.
    """
    if len(holdout) < 2:
        raise InputError("the evaluation needs at least 2 holdout records (non-members)")
    if len(synthetic) == 0:
        raise InputError("the synthetic table holds no rows")
    quality = quality_score(train, synthetic, schema)
    ceiling = quality_score(train, holdout, schema)
    copies = count_copies(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    dcr = distance_to_closest_record(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=seed
    )
    attack = distance_attack(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        seed=seed,
        n_boot=n_boot,
    )
    return EvaluationReport(
        sizes={"train": len(train), "holdout": len(holdout), "synthetic": len(synthetic)},
        fidelity={
            "quality_report": {
                "metric": "sdmetrics QualityReport",
                "direction": "higher is better",
                "synthetic_vs_train": quality.to_dict(),
                "baseline_holdout_vs_train": ceiling.to_dict(),
            }
        },
        privacy={
            "copies": copies.to_dict(),
            "distance_to_closest_record": dcr.to_dict(),
            "membership_attacks": {"distance": attack.to_dict()},
        },
        settings={"seed": seed, "n_boot": n_boot},
    )
