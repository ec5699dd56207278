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

**Who is who.** By default the attacker's reference is a seeded random half of the holdout;
the other half of the holdout are the non-members, and an equal number of training records,
drawn at random (seeded), are the members. The reference and the scored non-members are
therefore disjoint, like the members and the reference. Given an explicit ``reference`` (real
records from the same population that are neither in train nor in the holdout), every
holdout record is a non-member and the members are a same-size random sample of train.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy._checks import check_tables
from synthgen.evaluation.privacy.scores import AttackResult, evaluate_attack

DEFAULT_K = 5
"""Neighbours used for each k-NN density estimate."""

MIN_DISTANCE = 1e-3
"""Floor on encoded distances before taking logs (one thousandth of an IQR or a mismatch)."""


def _mean_log_knn(query: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    from synthgen.evaluation.neighbours import nearest

    dist = nearest(query, reference, k=k)[0].astype(np.float64)
    return np.log(np.maximum(dist, MIN_DISTANCE)).mean(axis=1)


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
        seed: seed of the reference/non-member split, the member sample and the bootstrap.
        n_boot: bootstrap replicates for the intervals.
        reference: real records from the same population held by the attacker, in neither
            train nor holdout; None uses half of the holdout.
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
                "the holdout needs at least 2 rows: half is the attacker's reference, "
                f"half the non-members; it has {len(holdout)}"
            )
        order = rng.permutation(len(holdout))
        half = len(holdout) // 2
        ref_frame = holdout.iloc[np.sort(order[:half])]
        nonmember_rows = np.sort(order[half:])
    else:
        ref_frame = reference
        nonmember_rows = np.arange(len(holdout))
    size = min(len(train), len(nonmember_rows))
    if size < len(nonmember_rows):
        nonmember_rows = np.sort(rng.choice(nonmember_rows, size=size, replace=False))
    member_rows = np.sort(rng.choice(len(train), size=size, replace=False))

    from synthgen.evaluation.encoding import MixedEncoder

    enc = MixedEncoder().fit(ref_frame, schema, columns=columns)
    e_ref = enc.transform(ref_frame)
    e_syn = enc.transform(synthetic)
    e_mem = enc.transform(train.iloc[member_rows])
    e_non = enc.transform(holdout.iloc[nonmember_rows])

    k_syn = min(int(k), len(e_syn))
    k_ref = min(int(k), len(e_ref))

    def score(x: np.ndarray) -> np.ndarray:
        return _mean_log_knn(x, e_ref, k_ref) - _mean_log_knn(x, e_syn, k_syn)

    return evaluate_attack(
        name="density_ratio",
        member_scores=score(e_mem),
        nonmember_scores=score(e_non),
        seed=int(rng.integers(0, 2**63 - 1)),
        n_boot=n_boot,
        member_rows=member_rows,
        nonmember_rows=nonmember_rows,
    )
