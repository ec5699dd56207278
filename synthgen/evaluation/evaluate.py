"""One call that scores a synthetic cohort against the records it was learned from.

``evaluate(train=, holdout=, synthetic=, schema=)`` returns an :class:`EvaluationReport` with
the fidelity figures (sdmetrics QualityReport, next to the holdout-vs-train ceiling) and the
privacy figures available so far: copies, distance to closest record, the distance and
density-ratio membership-inference attacks (also by subgroup), and re-identification through
quasi-identifiers. Further measures extend the same report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy import (
    attack_by_subgroup,
    count_copies,
    density_attack,
    distance_attack,
    distance_to_closest_record,
    inference_risks,
    linkability_risk,
    quasi_identifier_risk,
    shadow_model_attack,
    singling_out_risk,
)
from synthgen.evaluation.privacy.worst_case import worst_case
from synthgen.evaluation.quality import quality_score
from synthgen.evaluation.report import EvaluationReport

MIN_HOLDOUT = 20


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
    n_attacks: int = 500,
    shadow: dict[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
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
        n_attacks: attacks per singling-out, linkability and inference estimate.
        shadow: run the shadow-model attack with these settings: ``generator_name`` and
            ``generator_params`` (the released model's configuration), and optionally
            ``n_targets``, ``n_controls``, ``n_shadows``, ``n_jobs``. It fits
            2 x (n_targets + n_controls) x n_shadows generators, so it is opt-in.
        progress: called as ``progress(done, total)`` as shadow generators are fitted.

    Returns:
        A plain, versioned :class:`EvaluationReport`.
    """
    if len(holdout) < MIN_HOLDOUT:
        raise InputError(
            f"the evaluation needs at least {MIN_HOLDOUT} holdout records (non-members); "
            f"got {len(holdout)}"
        )
    if len(synthetic) == 0:
        raise InputError("the synthetic table holds no rows")
    quality = quality_score(train, synthetic, schema)
    ceiling = quality_score(train, holdout, schema)
    tables = {"train": train, "holdout": holdout, "synthetic": synthetic, "schema": schema}
    copies = count_copies(**tables)
    dcr = distance_to_closest_record(**tables, seed=seed)
    attacks = {
        "distance": distance_attack(**tables, seed=seed, n_boot=n_boot),
        "density_ratio": density_attack(**tables, seed=seed, n_boot=n_boot),
    }
    shadow_result = None
    if shadow:
        shadow_result = shadow_model_attack(
            **tables, seed=seed, n_boot=n_boot, progress=progress, **shadow
        )
        attacks["shadow_model"] = shadow_result.attack
    by_subgroup = {}
    if schema.with_role("subgroup"):
        by_subgroup = {
            name: attack_by_subgroup(
                result=result,
                train=train,
                holdout=holdout,
                schema=schema,
                seed=seed,
                n_boot=n_boot,
            ).to_dict()
            for name, result in attacks.items()
        }
    reid = None
    if schema.with_role("quasi_identifier"):
        reid = quasi_identifier_risk(**tables).to_dict()
    disclosure = {
        "singling_out": singling_out_risk(**tables, n_attacks=n_attacks, seed=seed).to_dict(),
    }
    if schema.with_role("quasi_identifier") and schema.with_role("sensitive"):
        disclosure["linkability"] = linkability_risk(
            **tables, n_attacks=n_attacks, seed=seed
        ).to_dict()
        disclosure["inference"] = {
            secret: result.to_dict()
            for secret, result in inference_risks(**tables, n_attacks=n_attacks, seed=seed).items()
        }
    exposed = worst_case(attacks=attacks, n_train=len(train))
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
            "membership_attacks": {name: a.to_dict() for name, a in attacks.items()},
            "shadow_model": None if shadow_result is None else shadow_result.to_dict(),
            "attacks_by_subgroup": by_subgroup,
            "worst_case": exposed.to_dict(),
            "quasi_identifier_reidentification": reid,
            "disclosure": disclosure,
        },
        settings={
            "seed": seed,
            "n_boot": n_boot,
            "n_attacks": n_attacks,
            "shadow": dict(shadow) if shadow else None,
        },
        worst_case=exposed,
    )
