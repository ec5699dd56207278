"""One call that scores a synthetic cohort against the records it was learned from.

``evaluate(train=, holdout=, synthetic=, schema=)`` returns an :class:`EvaluationReport` with
two sections. Fidelity and utility (:mod:`synthgen.evaluation.fidelity`): sdmetrics'
QualityReport, per-column and pairwise distances, detection, α-precision / β-recall /
authenticity, train-on-synthetic utility, survival agreement, validity, and all of it by
subgroup, each next to the holdout-vs-train ceiling. Privacy
(:mod:`synthgen.evaluation.privacy`): copies, distance to closest record, membership-inference
attacks (distance, density ratio, optionally shadow models; also by subgroup, and the
worst-case view), re-identification through quasi-identifiers, and singling out, linkability
and attribute inference, next to the formal guarantee when there is one: the differential
privacy budget the generator spent (or the statement that there is none, and the numbers are
an empirical audit only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.fidelity.score import score_fidelity
from synthgen.evaluation.fidelity.validity import parse_leniently, validity
from synthgen.evaluation.plots import plot_data
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
from synthgen.evaluation.report import EvaluationReport, budget_section

MIN_HOLDOUT = 20


def _check_learned_columns(synthetic: pd.DataFrame, schema: Schema) -> None:
    missing = [c for c in schema.model_columns if c not in synthetic.columns]
    if missing:
        raise InputError(
            f"the synthetic table lacks column(s) the model learned: {', '.join(missing)}"
        )


def _check_targets(targets: Sequence[str], schema: Schema) -> None:
    learned = set(schema.model_columns)
    unknown = [t for t in targets if t not in learned]
    if unknown:
        raise InputError(
            f"target column(s) {', '.join(map(repr, unknown))} are not columns the model "
            f"learned; choose from: {', '.join(schema.model_columns)}"
        )


def typed_synthetic(synthetic: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Type a synthetic table by the schema's columns it holds (dropped identifiers are absent).

    A value that does not fit its column's kind becomes missing: a synthetic cohort from any
    tool is scored, not refused, and :func:`~synthgen.evaluation.fidelity.validity.validity`
    counts such values on the table as it arrived.

    Raises:
        InputError: a column the model learned is missing.
    """
    _check_learned_columns(synthetic, schema)
    kept = [c for c in schema.names if c in synthetic.columns]
    frame = synthetic[kept]
    misfits = {}
    for name in kept:
        _, failed = parse_leniently(frame[name], schema[name])
        if failed.any():
            misfits[name] = frame[name].mask(failed)
    if misfits:
        frame = frame.assign(**misfits)
    return Schema(tuple(schema[c] for c in kept)).coerce(frame, source="synthetic")


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
    targets: Sequence[str] | None = None,
    by_subgroup: bool = True,
    small_cell_k: int = 10,
    privacy_budget: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> EvaluationReport:
    """Score ``synthetic`` for fidelity and privacy against ``train`` and ``holdout``.

    Args:
        train: the records the generator learned (members), typed by ``schema``.
        holdout: records it never saw (non-members), typed by ``schema``.
        synthetic: the synthetic cohort, as read (values that do not fit the schema are
            counted by the validity checks and then treated as missing).
        schema: the schema the model was trained with.
        seed: seeds every subsample and bootstrap: the same inputs and seed give the same
            numbers.
        n_boot: bootstrap replicates for attack confidence intervals.
        n_attacks: attacks per singling-out, linkability and inference estimate.
        shadow: run the shadow-model attack with these settings: ``generator_name`` and
            ``generator_params`` (the released model's configuration), and optionally
            ``n_targets``, ``n_controls``, ``n_shadows``, ``n_jobs``. It fits
            2 x (n_targets + n_controls) x n_shadows generators, so it is opt-in.
        targets: utility targets (train on synthetic, test on real); default the schema's
            ``target`` columns.
        by_subgroup: break fidelity, utility and attack figures down by the schema's
            subgroup columns.
        small_cell_k: the plots' small-cell threshold: no bin or category of the report's
            figures stands for fewer real records.
        privacy_budget: the differential-privacy budget the generator spent (its
            ``privacy_budget_``, or ``model.json``'s ``privacy_budget``: ``epsilon``,
            ``delta``, ``mechanism``, ``accountant``); None for a model that is not
            differentially private. Recorded as ``privacy["differential_privacy"]``.
        progress: called as ``progress(done, total)`` as shadow generators are fitted.
        timings: if given, filled with the seconds each fidelity part took (benchmarks).

    Returns:
        A plain, versioned :class:`EvaluationReport`.
    """
    dp_section = budget_section(privacy_budget)  # a malformed budget fails before the work
    if len(holdout) < MIN_HOLDOUT:
        raise InputError(
            f"the evaluation needs at least {MIN_HOLDOUT} holdout records (non-members); "
            f"got {len(holdout)}"
        )
    if len(synthetic) == 0:
        raise InputError("the synthetic table holds no rows")
    _check_learned_columns(synthetic, schema)
    if targets is not None:
        _check_targets(targets, schema)
    valid = validity(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    synthetic = typed_synthetic(synthetic, schema)
    fidelity = score_fidelity(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        validity_result=valid,
        seed=seed,
        targets=targets,
        by_subgroup=by_subgroup,
        timings=timings,
    )
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
    attacks_by_subgroup = {}
    if by_subgroup and schema.with_role("subgroup"):
        attacks_by_subgroup = {
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
    plots = plot_data(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        attacks=attacks,
        dcr=dcr,
        k=small_cell_k,
        seed=seed,
    )
    return EvaluationReport(
        sizes={"train": len(train), "holdout": len(holdout), "synthetic": len(synthetic)},
        fidelity=fidelity,
        plots=plots,
        privacy={
            "differential_privacy": dp_section,
            "copies": copies.to_dict(),
            "distance_to_closest_record": dcr.to_dict(),
            "membership_attacks": {name: a.to_dict() for name, a in attacks.items()},
            "shadow_model": None if shadow_result is None else shadow_result.to_dict(),
            "attacks_by_subgroup": attacks_by_subgroup,
            "worst_case": exposed.to_dict(),
            "quasi_identifier_reidentification": reid,
            "disclosure": disclosure,
        },
        settings={
            "seed": seed,
            "n_boot": n_boot,
            "n_attacks": n_attacks,
            "shadow": dict(shadow) if shadow else None,
            "targets": list(targets) if targets is not None else None,
            "by_subgroup": by_subgroup,
            "small_cell_k": small_cell_k,
        },
        worst_case=exposed,
    )
