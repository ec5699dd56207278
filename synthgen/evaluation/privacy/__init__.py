"""Privacy audit: membership-inference attacks and disclosure measures.

Scoring of attacks lives in :mod:`~synthgen.evaluation.privacy.scores`; copies, distance to
closest record and the distance attack in :mod:`~synthgen.evaluation.privacy.similarity`;
the density-ratio attack in :mod:`~synthgen.evaluation.privacy.density`; re-identification
through quasi-identifiers in :mod:`~synthgen.evaluation.privacy.reidentification`; breakdowns by
subgroup in :mod:`~synthgen.evaluation.privacy.subgroups`; singling out, linkability and
attribute inference (as Anonymeter defines them) in :mod:`~synthgen.evaluation.privacy.singling_out`
and :mod:`~synthgen.evaluation.privacy.disclosure`; the shadow-model attack in
:mod:`~synthgen.evaluation.privacy.shadow`; the per-record worst-case view in
:mod:`~synthgen.evaluation.privacy.worst_case`.
"""

from synthgen.evaluation.privacy.density import density_attack
from synthgen.evaluation.privacy.disclosure import (
    DisclosureResult,
    inference_risk,
    inference_risks,
    linkability_risk,
)
from synthgen.evaluation.privacy.reidentification import (
    MatchCounts,
    ReidResult,
    quasi_identifier_risk,
)
from synthgen.evaluation.privacy.scores import (
    AttackResult,
    binomial_ci,
    bootstrap_ci,
    evaluate_attack,
    roc_auc,
    tpr_at_fpr,
)
from synthgen.evaluation.privacy.shadow import ShadowResult, shadow_model_attack
from synthgen.evaluation.privacy.similarity import (
    CopyResult,
    DCRResult,
    count_copies,
    distance_attack,
    distance_to_closest_record,
)
from synthgen.evaluation.privacy.singling_out import singling_out_risk
from synthgen.evaluation.privacy.subgroups import GroupRisk, SubgroupResult, attack_by_subgroup
from synthgen.evaluation.privacy.worst_case import WorstCase, exposure, worst_case

__all__ = [
    "AttackResult",
    "CopyResult",
    "DCRResult",
    "DisclosureResult",
    "GroupRisk",
    "MatchCounts",
    "ReidResult",
    "ShadowResult",
    "SubgroupResult",
    "WorstCase",
    "attack_by_subgroup",
    "density_attack",
    "quasi_identifier_risk",
    "shadow_model_attack",
    "binomial_ci",
    "bootstrap_ci",
    "count_copies",
    "distance_attack",
    "distance_to_closest_record",
    "evaluate_attack",
    "exposure",
    "inference_risk",
    "inference_risks",
    "linkability_risk",
    "singling_out_risk",
    "roc_auc",
    "tpr_at_fpr",
    "worst_case",
]
