"""Scoring a membership-inference attack: AUC, TPR at low FPR, and their intervals.

An attack gives every record a score; a higher score means "more likely a member" (a record
the generator was trained on). Members are training records, non-members holdout records.
Everything here is pure math on those two score vectors; the attacks that produce the scores
live in their own modules, and choose who is scored with :func:`member_rows`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from scipy import stats

from synthgen.errors import InputError
from synthgen.evaluation.fidelity._common import subsample_rows

FPR_LEVELS: tuple[float, ...] = (0.01, 0.001)
"""The false-positive rates at which every attack reports its true-positive rate."""

AUC_BASELINE = 0.5
"""The AUC of an attacker who guesses: what perfect synthetic data scores."""

MAX_MEMBERS = 10_000
"""Training records an attack scores at most, unless it has more non-members than that."""


def member_rows(n_train: int, n_nonmembers: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of the training records an attack scores as members.

    Every training record up to :data:`MAX_MEMBERS` (or up to the number of non-members, if
    larger), else a seeded sample of that many. Neither AUC nor TPR at a fixed FPR needs
    the two classes to be the same size, so members are not cut down to the non-members'
    number: the more of each are scored, the narrower the intervals. The non-members, which
    set how low an FPR can be measured, are never subsampled.
    """
    return subsample_rows(n_train, max(MAX_MEMBERS, n_nonmembers), rng)


def _scores(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise InputError(f"{what} is empty; an attack needs at least one score on each side")
    if np.isnan(arr).any():
        raise InputError(f"{what} holds {int(np.isnan(arr).sum())} missing (NaN) scores")
    return arr


def roc_auc(*, member_scores: Any, nonmember_scores: Any) -> float:
    """Area under the ROC curve of an attack (the Mann-Whitney U statistic, normalised).

    The chance that a random member scores higher than a random non-member; ties count
    half. 0.5 is guessing, 1 a perfect attack.

    Args:
        member_scores: scores of the members (higher means "more likely a member").
        nonmember_scores: scores of the non-members.

    Returns:
        The AUC in [0, 1].
    """
    m = _scores(member_scores, "member_scores")
    n = _scores(nonmember_scores, "nonmember_scores")
    ranks = stats.rankdata(np.concatenate([m, n]))  # average ranks: ties count half
    rank_sum = ranks[: m.size].sum()
    u = rank_sum - m.size * (m.size + 1) / 2.0
    return float(u / (m.size * n.size))


def tpr_at_fpr(*, member_scores: Any, nonmember_scores: Any, fpr: float) -> float:
    """The largest true-positive rate an attack reaches at a false-positive rate of ``fpr``.

    A threshold ``t`` calls every record with score ``>= t`` a member, so records tied at the
    threshold are all in or all out. Every distinct score (and "nobody", TPR = FPR = 0) is
    tried as a threshold; the answer is the largest TPR among thresholds whose FPR is at
    most ``fpr``. Exact, no interpolation.

    Args:
        member_scores: scores of the members.
        nonmember_scores: scores of the non-members.
        fpr: the allowed false-positive rate, in [0, 1].

    Returns:
        The TPR in [0, 1].
    """
    if not 0.0 <= fpr <= 1.0:
        raise InputError(f"fpr must be in [0, 1], got {fpr}")
    m = np.sort(_scores(member_scores, "member_scores"))
    n = np.sort(_scores(nonmember_scores, "nonmember_scores"))
    thresholds = np.unique(np.concatenate([m, n]))
    # records with score >= t = size - (number strictly below t)
    tpr = (m.size - np.searchsorted(m, thresholds, side="left")) / m.size
    fp = (n.size - np.searchsorted(n, thresholds, side="left")) / n.size
    ok = fp <= fpr + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def bootstrap_ci(
    *,
    member_scores: Any,
    nonmember_scores: Any,
    statistic: Callable[..., float],
    n_boot: int = 200,
    level: float = 0.95,
    seed: int | None,
) -> tuple[float, float]:
    """A percentile bootstrap interval for an attack statistic.

    Members and non-members are resampled separately (a stratified bootstrap), so every
    replicate keeps the class sizes of the data.

    Args:
        member_scores: scores of the members.
        nonmember_scores: scores of the non-members.
        statistic: called as ``statistic(member_scores=..., nonmember_scores=...)``, e.g.
            :func:`roc_auc` or ``functools.partial(tpr_at_fpr, fpr=0.01)``.
        n_boot: number of bootstrap replicates.
        level: the interval's coverage, in (0, 1).
        seed: seed of the local random generator; the same seed gives the same interval.

    Returns:
        ``(low, high)``.
    """
    if n_boot < 1:
        raise InputError(f"n_boot must be at least 1, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be in (0, 1), got {level}")
    m = _scores(member_scores, "member_scores")
    n = _scores(nonmember_scores, "nonmember_scores")
    rng = np.random.default_rng(seed)
    # draw every replicate's indices at once; the statistic is arbitrary, so it runs per row
    m_idx = rng.integers(0, m.size, size=(n_boot, m.size))
    n_idx = rng.integers(0, n.size, size=(n_boot, n.size))
    values = np.fromiter(
        (
            statistic(member_scores=m[mi], nonmember_scores=n[ni])
            for mi, ni in zip(m_idx, n_idx, strict=True)
        ),
        dtype=np.float64,
        count=n_boot,
    )
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def binomial_ci(successes: float, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a share ``successes / trials``.

    Well behaved near 0 and 1 and for small ``trials``, unlike the normal approximation.
    ``successes`` may be fractional (e.g. ties counted half).

    Returns:
        ``(low, high)`` in [0, 1]; ``(0.0, 1.0)`` when ``trials`` is 0.
    """
    if trials < 0 or successes < 0 or successes > trials:
        raise InputError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be in (0, 1), got {level}")
    if trials == 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(1.0 - (1.0 - level) / 2.0))
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


@dataclass(frozen=True)
class AttackResult:
    """The outcome of one membership-inference attack.

    Attributes:
        name: the attack's name, e.g. ``"distance"``.
        auc: area under the ROC curve (0.5 = guessing; lower is better for the release).
        auc_ci: bootstrap interval of the AUC.
        tpr_at_fpr: ``{fpr: tpr}`` for every level in :data:`FPR_LEVELS`.
        tpr_ci: ``{fpr: (low, high)}`` bootstrap intervals of those TPRs.
        n_members: how many members were scored.
        n_nonmembers: how many non-members were scored.
        member_scores: per-record scores of the members (for the worst-case view; never
            leaves the secure environment unless asked for).
        nonmember_scores: per-record scores of the non-members.
        member_rows: optional row positions of the scored members in the training table.
        nonmember_rows: optional row positions of the scored non-members in the holdout.
    """

    name: str
    auc: float
    auc_ci: tuple[float, float]
    tpr_at_fpr: Mapping[float, float]
    tpr_ci: Mapping[float, tuple[float, float]]
    n_members: int
    n_nonmembers: int
    member_scores: np.ndarray = field(repr=False, compare=False)
    nonmember_scores: np.ndarray = field(repr=False, compare=False)
    member_rows: np.ndarray | None = field(default=None, repr=False, compare=False)
    nonmember_rows: np.ndarray | None = field(default=None, repr=False, compare=False)

    direction = "lower is better"

    def reliable(self, fpr: float) -> bool:
        """Whether there are enough non-members (at least ``1 / fpr``) to measure TPR at ``fpr``."""
        return self.n_nonmembers >= 1.0 / fpr

    def to_dict(self, *, include_scores: bool = False) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals; per-record scores only when asked for."""
        out: dict[str, Any] = {
            "name": self.name,
            "auc": {
                "value": _r(self.auc),
                "ci": [_r(self.auc_ci[0]), _r(self.auc_ci[1])],
                "direction": self.direction,
                "baseline": AUC_BASELINE,
            },
            "tpr_at_fpr": {
                str(fpr): {
                    "value": _r(tpr),
                    "ci": [_r(self.tpr_ci[fpr][0]), _r(self.tpr_ci[fpr][1])],
                    "direction": self.direction,
                    "baseline": fpr,  # a guessing attacker's TPR equals its FPR
                    "reliable": self.reliable(fpr),
                }
                for fpr, tpr in self.tpr_at_fpr.items()
            },
            "n_members": int(self.n_members),
            "n_nonmembers": int(self.n_nonmembers),
        }
        if include_scores:
            out["member_scores"] = [_r(v) for v in self.member_scores]
            out["nonmember_scores"] = [_r(v) for v in self.nonmember_scores]
        return out


def evaluate_attack(
    *,
    name: str,
    member_scores: Any,
    nonmember_scores: Any,
    seed: int | None,
    n_boot: int = 200,
    level: float = 0.95,
    member_rows: np.ndarray | None = None,
    nonmember_rows: np.ndarray | None = None,
) -> AttackResult:
    """Score an attack: AUC and TPR at each of :data:`FPR_LEVELS`, with bootstrap intervals.

    TPR at a false-positive rate ``f`` is only meaningful with at least ``1 / f``
    non-members (1,000 for 0.1%): with fewer, the only threshold allowed is one no
    non-member passes. The value is still reported, with ``"reliable": false`` in
    :meth:`AttackResult.to_dict`.

    Args:
        name: the attack's name.
        member_scores: scores of the members (higher means "more likely a member").
        nonmember_scores: scores of the non-members.
        seed: seed of the bootstrap.
        n_boot: bootstrap replicates.
        level: coverage of the intervals.
        member_rows: optional row positions of the members, kept for the worst-case view.
        nonmember_rows: optional row positions of the non-members.

    Returns:
        An :class:`AttackResult`.
    """
    m = _scores(member_scores, "member_scores")
    n = _scores(nonmember_scores, "nonmember_scores")
    # one generator feeds every interval, so all intervals move together with the seed
    seeds = np.random.default_rng(seed).integers(0, 2**63 - 1, size=1 + len(FPR_LEVELS))
    auc = roc_auc(member_scores=m, nonmember_scores=n)
    auc_ci = bootstrap_ci(
        member_scores=m,
        nonmember_scores=n,
        statistic=roc_auc,
        n_boot=n_boot,
        level=level,
        seed=int(seeds[0]),
    )
    tprs: dict[float, float] = {}
    tpr_cis: dict[float, tuple[float, float]] = {}
    for fpr, s in zip(FPR_LEVELS, seeds[1:], strict=True):
        stat = partial(tpr_at_fpr, fpr=fpr)
        tprs[fpr] = stat(member_scores=m, nonmember_scores=n)
        tpr_cis[fpr] = bootstrap_ci(
            member_scores=m,
            nonmember_scores=n,
            statistic=stat,
            n_boot=n_boot,
            level=level,
            seed=int(s),
        )
    return AttackResult(
        name=name,
        auc=auc,
        auc_ci=auc_ci,
        tpr_at_fpr=tprs,
        tpr_ci=tpr_cis,
        n_members=int(m.size),
        n_nonmembers=int(n.size),
        member_scores=m,
        nonmember_scores=n,
        member_rows=None if member_rows is None else np.asarray(member_rows),
        nonmember_rows=None if nonmember_rows is None else np.asarray(nonmember_rows),
    )
