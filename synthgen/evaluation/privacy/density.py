"""The density-ratio membership attack (DOMIAS, van Breugel et al., AISTATS 2023).

A generator that over-fits puts more synthetic probability mass on its training records than
the population does. The attacker holds some real data from the same population (the
*reference*) and scores every record ``x`` by

    log p_syn(x) − log p_ref(x)

the log ratio of the synthetic density to the reference density at ``x``: high where the
synthetic data is denser than the population, i.e. around memorised records. Dividing by the
reference density is what separates this from the distance attack: a record in a crowded part
of the population is close to synthetic rows whether or not it was trained on, and the ratio
cancels that.

**Density estimate.** Both densities are k-nearest-neighbour estimates in the
:class:`~synthgen.evaluation.encoding.MixedEncoder` space (fitted on the reference, so the
attack uses only what the attacker holds). With ``r_j(x)`` the distance from ``x`` to its
``j``-th nearest row of a set of ``n`` rows in ``d`` encoded dimensions, the j-NN estimate is
``p(x) ≈ j / (n · V_d · r_j(x)^d)``. The log estimates for ``j = 1..k`` are averaged (a
smoother estimate than the k-th neighbour alone, and one that sees an exact copy through
``r_1 = 0``), so

    log p_syn(x) − log p_ref(x) = d · (mean_j log r_j,ref(x) − mean_j log r_j,syn(x)) + c

with ``c = log(n_ref / n_syn)`` the same for every record. AUC and TPR at a fixed FPR depend
only on the order of the scores, and ``d`` and ``c`` are the same for all records, so the
score kept is the bracket itself, the mean log distance ratio (the log density ratio per
dimension, up to a constant). This avoids choosing an "effective dimension" for mixed data,
which would change no figure. Distances are floored at :data:`MIN_DISTANCE` so an exact copy
scores high but finite.

**Who is who.** The attacker's reference must be real records the generator never saw,
and a record must not be scored against a reference that holds it. By default the holdout is
cut at random (seeded) into two halves, and the attack is cross-fitted: each half is the
reference (and fits the encoder) for scoring the other half, so every holdout record is a
non-member, scored once. The members, the training records chosen by
:func:`~synthgen.evaluation.privacy.scores.member_rows` (all of them unless the table is
large), are dealt at random between the two references in the same proportions as the
non-members, so that under the null members and non-members are scored alike. Using every
holdout record rather than half is what lets a holdout of a hundred-odd records measure TPR
at 1% FPR. Given an explicit ``reference`` (real records from the same population that are
neither in train nor in the holdout), it is the one reference and every holdout record is a
non-member.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy._checks import check_tables
from synthgen.evaluation.privacy.scores import AttackResult, evaluate_attack, member_rows

DEFAULT_K = 5
"""Neighbours used for each k-NN density estimate."""

MIN_DISTANCE = 1e-3
"""Floor on encoded distances before taking logs (one thousandth of an IQR or a mismatch)."""


def _mean_log_knn(query: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    from synthgen.evaluation.neighbours import nearest

    dist = nearest(query, reference, k=k)[0].astype(np.float64)
    return np.log(np.maximum(dist, MIN_DISTANCE)).mean(axis=1)


def _log_ratio(x: np.ndarray, e_ref: np.ndarray, e_syn: np.ndarray, k: int) -> np.ndarray:
    """The attack's score: mean log k-NN distance to the reference minus that to the synthetic."""
    return _mean_log_knn(x, e_ref, min(k, len(e_ref))) - _mean_log_knn(x, e_syn, min(k, len(e_syn)))


def density_attack(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    seed: int | None,
    n_boot: int = 200,
    reference: pd.DataFrame | None = None,
    k: int = DEFAULT_K,
) -> AttackResult:
    """Membership inference by the ratio of synthetic to reference density (DOMIAS).

    See the module docstring for the estimator and for how records are split between the
    attacker's reference, the members and the non-members.

    Args:
        train: the training table (typed).
        holdout: the holdout table (typed), never seen by the generator.
        synthetic: the synthetic table (typed).
        schema: the schema; only its model columns are compared.
        seed: seed of the halving of the holdout, the members and their folds, and the bootstrap.
        n_boot: bootstrap replicates for the intervals.
        reference: real records from the same population held by the attacker, in neither
            train nor holdout; None cross-fits the two halves of the holdout.
        k: neighbours per density estimate; capped by the sizes of the synthetic and
            reference tables.

    Returns:
        An :class:`~synthgen.evaluation.privacy.scores.AttackResult` named
        ``"density_ratio"``, with ``member_rows`` (positions in ``train``) and
        ``nonmember_rows`` (positions in ``holdout``).

    Raises:
        InputError: missing columns, empty tables, a holdout too small to split, or a bad ``k``.
    """
    columns = check_tables(
        schema, train=train, holdout=holdout, synthetic=synthetic, reference=reference
    )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"k must be a positive integer; got {k!r}")
    rng = np.random.default_rng(seed)
    if reference is None:
        if len(holdout) < 2:
            raise InputError(
                "the holdout needs at least 2 rows: each half is the attacker's reference "
                f"for the other; it has {len(holdout)}"
            )
        order = rng.permutation(len(holdout))
        half = len(holdout) // 2
        # (reference, non-members) pairs: each half of the holdout scores the other
        folds = [
            (holdout.iloc[order[:half]], order[half:]),
            (holdout.iloc[order[half:]], order[:half]),
        ]
    else:
        folds = [(reference, np.arange(len(holdout)))]
    members = member_rows(len(train), len(holdout), rng)
    # deal the members to the folds in the non-members' proportions
    dealt = rng.permutation(members.size)
    cuts = np.cumsum([len(non) for _, non in folds])[:-1] * members.size // len(holdout)
    member_folds = np.split(dealt, cuts)

    from synthgen.evaluation.encoding import MixedEncoder

    m_scores = np.empty(members.size)
    n_scores = np.empty(len(holdout))
    for (ref_frame, non_rows), m_at in zip(folds, member_folds, strict=True):
        enc = MixedEncoder().fit(ref_frame, schema, columns=columns)
        e_ref, e_syn = enc.transform(ref_frame), enc.transform(synthetic)
        m_scores[m_at] = _log_ratio(enc.transform(train.iloc[members[m_at]]), e_ref, e_syn, k)
        n_scores[non_rows] = _log_ratio(enc.transform(holdout.iloc[non_rows]), e_ref, e_syn, k)
    return evaluate_attack(
        name="density_ratio",
        member_scores=m_scores,
        nonmember_scores=n_scores,
        seed=int(rng.integers(0, 2**63 - 1)),
        n_boot=n_boot,
        member_rows=members,
        nonmember_rows=np.arange(len(holdout)),
    )
