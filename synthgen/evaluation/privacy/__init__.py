"""Privacy audit: membership-inference attacks and disclosure measures.

Scoring of attacks lives in :mod:`~synthgen.evaluation.privacy.scores`; copies, distance to
closest record and the distance attack in :mod:`~synthgen.evaluation.privacy.similarity`.
"""

from synthgen.evaluation.privacy.scores import (
    AttackResult,
    binomial_ci,
    bootstrap_ci,
    evaluate_attack,
    roc_auc,
    tpr_at_fpr,
)
from synthgen.evaluation.privacy.similarity import (
    CopyResult,
    DCRResult,
    count_copies,
    distance_attack,
    distance_to_closest_record,
)

__all__ = [
    "AttackResult",
    "CopyResult",
    "DCRResult",
    "binomial_ci",
    "bootstrap_ci",
    "count_copies",
    "distance_attack",
    "distance_to_closest_record",
    "evaluate_attack",
    "roc_auc",
    "tpr_at_fpr",
]
