"""The worst-case view: which training records the membership attacks pick out.

A cohort-wide AUC near 0.5 can hide a handful of records that an attack singles out with
certainty, and those are the patients a release would expose. Every attack keeps a score per
scored record; this module lines them up per training record (member) and gives each its
*exposure* under each attack: the share of non-members (holdout records) that score at least
as high. An exposure of 0 means the attack ranks the record above every non-member: an
attacker who flags it is never wrong on the holdout.

Two views, kept apart on purpose:

- :meth:`WorstCase.to_dict` holds aggregates only (how many members each attack ranks above
  every non-member, with the count a guessing attacker would reach), safe for the report;
- :meth:`WorstCase.table` lists the exposed records by row position with their scores: a
  custodian's working list, for inside the secure environment only. It holds no cell
  values, but row positions point at real people, so it must never leave with a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.errors import InputError
from synthgen.evaluation.privacy.scores import AttackResult, binomial_ci

EXPOSED_AT = 0.01
"""A record counts as flagged by an attack when at most this share of non-members outscore it."""


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def exposure(*, member_scores: Any, nonmember_scores: Any) -> np.ndarray:
    """For every member, the share of non-members scoring at least as high (0 = above all).

    The empirical false-positive rate of a threshold set at that member's score: ties count
    against the attack (a non-member tied with the member is a false positive).

    Args:
        member_scores: scores of the members (higher means "more likely a member").
        nonmember_scores: scores of the non-members.

    Returns:
        One value in [0, 1] per member, in the members' order.
    """
    m = np.asarray(member_scores, dtype=np.float64).ravel()
    n = np.sort(np.asarray(nonmember_scores, dtype=np.float64).ravel())
    if n.size == 0:
        raise InputError("nonmember_scores is empty; exposure needs at least one non-member")
    at_least = n.size - np.searchsorted(n, m, side="left")
    return at_least / n.size


@dataclass(frozen=True)
class WorstCase:
    """Per-record membership exposure of the training records, across attacks.

    Attributes:
        attacks: the attacks' names, in column order.
        rows: row positions in the training table of every member scored by any attack.
        scores: ``(len(rows), len(attacks))`` membership scores; NaN where an attack did not
            score the record (attacks may score subsamples).
        exposure: same shape; share of that attack's non-members scoring at least as high.
        n_nonmembers: non-members per attack, in column order.
    """

    attacks: tuple[str, ...]
    rows: np.ndarray = field(repr=False)
    scores: np.ndarray = field(repr=False)
    exposure: np.ndarray = field(repr=False)
    n_nonmembers: tuple[int, ...]

    def flagged(self, at: float = EXPOSED_AT) -> np.ndarray:
        """How many attacks flag each record (exposure at most ``at``)."""
        with np.errstate(invalid="ignore"):
            return np.sum(self.exposure <= at + 1e-12, axis=1)

    def to_dict(self) -> dict[str, Any]:
        """Aggregates only: per attack, the share of members ranked above every non-member."""
        out: dict[str, Any] = {"exposed_at": EXPOSED_AT, "attacks": {}}
        for j, name in enumerate(self.attacks):
            scored = ~np.isnan(self.scores[:, j])
            n_m = int(scored.sum())
            n_n = self.n_nonmembers[j]
            above_all = int(np.sum(self.exposure[scored, j] == 0.0))
            # under the null a member is as likely as any of the n_n non-members to score
            # highest, so a share of about 1 / (n_n + 1) beats every non-member by chance
            out["attacks"][name] = {
                "members_above_every_nonmember": {
                    "value": _r(above_all / n_m) if n_m else None,
                    "count": above_all,
                    "ci": [_r(v) for v in binomial_ci(above_all, n_m)],
                    "direction": "lower is better",
                    "baseline": _r(1.0 / (n_n + 1)),
                },
                "n_members": n_m,
                "n_nonmembers": int(n_n),
            }
        flagged = self.flagged()
        out["records_flagged_by_every_attack"] = int(np.sum(flagged == len(self.attacks)))
        return out

    def table(
        self, *, source_rows: np.ndarray | None = None, top: int | None = None
    ) -> pd.DataFrame:
        """The custodian's list of exposed records, most exposed first. Never release it.

        Args:
            source_rows: row position in the source table of each training row (e.g. when
                the split was recorded); default the training table's own positions.
            top: keep only this many records.

        Returns:
            Columns ``row``, ``attacks_flagging``, then ``<attack>_score`` and
            ``<attack>_exposure`` per attack; sorted by the lowest exposure across attacks,
            then by how many attacks flag the record, then by row.
        """
        rows = self.rows if source_rows is None else np.asarray(source_rows)[self.rows]
        data: dict[str, Any] = {"row": rows.astype(np.int64), "attacks_flagging": self.flagged()}
        for j, name in enumerate(self.attacks):
            data[f"{name}_score"] = np.round(self.scores[:, j], 6)
            data[f"{name}_exposure"] = np.round(self.exposure[:, j], 6)
        frame = pd.DataFrame(data)
        lowest = np.nanmin(np.where(np.isnan(self.exposure), np.inf, self.exposure), axis=1)
        order = np.lexsort((rows, -frame["attacks_flagging"].to_numpy(), lowest))
        frame = frame.iloc[order].reset_index(drop=True)
        return frame if top is None else frame.head(top)


def worst_case(*, attacks: Mapping[str, AttackResult], n_train: int) -> WorstCase:
    """Line up every attack's member scores per training record.

    Args:
        attacks: attack results by name; each must have kept ``member_rows`` (positions in
            the training table).
        n_train: rows of the training table.

    Returns:
        A :class:`WorstCase`.

    Raises:
        InputError: no attacks, an attack without row positions, or positions outside the
            training table.
    """
    if not attacks:
        raise InputError("worst_case needs at least one attack result")
    problems = []
    for name, result in attacks.items():
        rows = result.member_rows
        if rows is None:
            problems.append(f"attack '{name}' kept no member row positions")
        elif len(rows) and (np.min(rows) < 0 or np.max(rows) >= n_train):
            problems.append(f"attack '{name}' has member rows outside the training table")
    if problems:
        raise InputError("; ".join(problems))
    names = tuple(attacks)
    all_rows = np.unique(np.concatenate([np.asarray(a.member_rows) for a in attacks.values()]))
    scores = np.full((all_rows.size, len(names)), np.nan)
    exp = np.full_like(scores, np.nan)
    for j, result in enumerate(attacks.values()):
        at = np.searchsorted(all_rows, np.asarray(result.member_rows))
        scores[at, j] = result.member_scores
        exp[at, j] = exposure(
            member_scores=result.member_scores, nonmember_scores=result.nonmember_scores
        )
    return WorstCase(
        attacks=names,
        rows=all_rows.astype(np.int64),
        scores=scores,
        exposure=exp,
        n_nonmembers=tuple(int(a.n_nonmembers) for a in attacks.values()),
    )
