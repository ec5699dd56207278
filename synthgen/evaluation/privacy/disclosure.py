"""Disclosure risk as Anonymeter defines it: linkability and attribute inference.

Giomi et al. (2023), "A Unified Framework for Quantifying Privacy Risk in Synthetic Data",
measure a disclosure risk with three runs of one attack that uses the synthetic data:

- the **main** attack, against records the generator was trained on (targets from train);
- the **control** attack, the same attack against holdout records the generator never saw:
  what any good model of the population would let an attacker do;
- a **baseline** attack that guesses at random, to show the attack is strong enough to say
  anything at all.

Each run gives a success rate with a Wilson score interval. The risk is the excess success of
the main attack over the control, normalised by the room left above the control:

    risk = (main − control) / (1 − control)

computed, as Anonymeter does, on the centres of the Wilson intervals (never exactly 0 or 1, so
the ratio is always defined), with an error propagated from the intervals' half-widths

    err = sqrt((e_main / (1 − control))² + (e_control · (1 − main) / (1 − control)²)²)

and clipped to [0, 1]. A risk near 0 means the synthetic data teaches the attacker nothing
about the training records that it would not teach about anyone else. When the baseline is as
good as the main attack, the attack is too weak for its risk to mean anything
(``baseline_as_good``).

This module holds the result type and risk arithmetic, the linkability attack and the
inference attack; the singling-out attack lives in
:mod:`~synthgen.evaluation.privacy.singling_out`. No output holds a cell value of the data:
only counts, rates and column names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.encoding import MixedEncoder
from synthgen.evaluation.neighbours import nearest
from synthgen.evaluation.privacy.scores import binomial_ci

RELATIVE_TOLERANCE = 0.05
"""A numeric secret is guessed when ``|guess − secret| <= 0.05 · |secret|``."""

_NUMERIC_KINDS = ("numeric", "integer")


# ------------------------------------------------------------------ the risk arithmetic
@dataclass(frozen=True)
class Rate:
    """A success rate: ``successes`` of ``trials``, its share and Wilson interval."""

    successes: float
    trials: int
    value: float
    ci: tuple[float, float]

    @property
    def centre(self) -> float:
        """Centre of the Wilson interval (the estimate Anonymeter's risk is built on)."""
        return (self.ci[0] + self.ci[1]) / 2.0

    @property
    def error(self) -> float:
        """Half-width of the Wilson interval."""
        return (self.ci[1] - self.ci[0]) / 2.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _r(self.value),
            "ci": [_r(self.ci[0]), _r(self.ci[1])],
            "successes": _r(self.successes),
            "trials": int(self.trials),
        }


def success_rate(successes: float, trials: int, level: float = 0.95) -> Rate:
    """The share ``successes / trials`` with its Wilson score interval."""
    lo, hi = binomial_ci(successes, trials, level)
    value = successes / trials if trials else 0.0
    return Rate(successes=float(successes), trials=int(trials), value=float(value), ci=(lo, hi))


def excess_risk(*, main: Rate, control: Rate) -> tuple[float, tuple[float, float], float]:
    """Anonymeter's risk: the main attack's excess success over the control attack.

    Args:
        main: success of the attack on training records.
        control: success of the same attack on holdout records.

    Returns:
        ``(risk, (low, high), residual)``: the risk and its interval clipped to [0, 1], and the
        unclipped residual (negative when the control records were easier to attack).
    """
    m, c = main.centre, control.centre
    residual = (m - c) / (1.0 - c)
    d_main = 1.0 / (1.0 - c)
    d_control = (1.0 - m) / (1.0 - c) ** 2
    error = float(np.hypot(main.error * d_main, control.error * d_control))

    def clip(x: float) -> float:
        return float(min(max(x, 0.0), 1.0))

    return clip(residual), (clip(residual - error), clip(residual + error)), float(residual)


def _r(x: float) -> float:
    return round(float(x), 4)


@dataclass(frozen=True)
class DisclosureResult:
    """The outcome of one disclosure attack (singling out, linkability or inference).

    Attributes:
        name: the attack, e.g. ``"singling_out"``, ``"linkability"``, ``"inference"``.
        risk: excess success of the main attack over the control, in [0, 1] (0 is best).
        risk_ci: its interval, propagated from the rates' Wilson intervals.
        residual: the unclipped risk (negative when holdout records were easier to attack).
        main: success on training records.
        control: success on holdout records.
        baseline: success of random guessing against training records.
        n_attacks: attacks in the main run.
        baseline_as_good: the random baseline did at least as well as the main attack: the
            attack is too weak for its risk to show anything.
        details: the attack's settings (mode, columns, secret, ...): names, never values.
    """

    name: str
    risk: float
    risk_ci: tuple[float, float]
    residual: float
    main: Rate
    control: Rate
    baseline: Rate
    n_attacks: int
    baseline_as_good: bool
    details: Mapping[str, Any] = field(default_factory=dict)

    direction = "lower is better"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data, rounded to 4 decimals."""
        return {
            "name": self.name,
            "risk": {
                "value": _r(self.risk),
                "ci": [_r(self.risk_ci[0]), _r(self.risk_ci[1])],
                "direction": self.direction,
                "baseline": 0.0,  # what perfect synthetic data scores
            },
            "residual": _r(self.residual),
            "main": self.main.to_dict(),
            "control": self.control.to_dict(),
            "baseline": self.baseline.to_dict(),
            "n_attacks": int(self.n_attacks),
            "baseline_as_good": bool(self.baseline_as_good),
            "details": dict(self.details),
        }


def disclosure_result(
    *,
    name: str,
    main_successes: float,
    main_trials: int,
    control_successes: float,
    control_trials: int,
    baseline_successes: float,
    baseline_trials: int,
    level: float = 0.95,
    details: Mapping[str, Any] | None = None,
) -> DisclosureResult:
    """Build a :class:`DisclosureResult` from the success counts of the three runs."""
    main = success_rate(main_successes, main_trials, level)
    control = success_rate(control_successes, control_trials, level)
    baseline = success_rate(baseline_successes, baseline_trials, level)
    risk, ci, residual = excess_risk(main=main, control=control)
    return DisclosureResult(
        name=name,
        risk=risk,
        risk_ci=ci,
        residual=residual,
        main=main,
        control=control,
        baseline=baseline,
        n_attacks=int(main_trials),
        baseline_as_good=bool(baseline.centre >= main.centre),
        details=dict(details or {}),
    )


# ------------------------------------------------------------------ shared checks
def check_frames(
    train: Any, holdout: Any, synthetic: Any, schema: Schema, columns: Sequence[str]
) -> None:
    """One :class:`InputError` naming every problem with the three frames and ``columns``."""
    problems = []
    frames = {"train": train, "holdout": holdout, "synthetic": synthetic}
    for what, df in frames.items():
        if not isinstance(df, pd.DataFrame):
            problems.append(f"{what} must be a pandas DataFrame; got {type(df).__name__}")
        elif len(df) == 0:
            problems.append(f"{what} has no rows")
    if problems:
        raise InputError("; ".join(problems))
    not_schema = [c for c in columns if c not in schema]
    if not_schema:
        problems.append(f"columns not in the schema: {', '.join(map(str, not_schema))}")
    for what, df in frames.items():
        missing = [c for c in columns if c not in df.columns]
        if missing:
            problems.append(f"{what} lacks the columns {', '.join(map(str, missing))}")
    if problems:
        raise InputError("; ".join(problems))


def check_n_attacks(n_attacks: Any) -> None:
    if isinstance(n_attacks, bool) or not isinstance(n_attacks, (int, np.integer)) or n_attacks < 1:
        raise InputError(f"n_attacks must be a positive integer; got {n_attacks!r}")


def column_arrays(
    frames: Sequence[pd.DataFrame], schema: Schema, columns: Sequence[str]
) -> list[np.ndarray]:
    """Each frame as a float64 ``(rows, columns)`` matrix, NaN where missing.

    Numbers stay numbers (datetimes as days since 1970), booleans are 0/1, and categories
    become integer codes shared by all the frames, so equal values get equal codes.
    """
    out = [np.empty((len(df), len(columns)), np.float64) for df in frames]
    for j, name in enumerate(columns):
        kind = schema[name].kind
        if kind in ("categorical", "text"):
            joined = pd.concat([df[name].astype(object) for df in frames], ignore_index=True)
            codes, _ = pd.factorize(joined, use_na_sentinel=True)
            codes = codes.astype(np.float64)
            codes[codes < 0] = np.nan
            at = 0
            for df, arr in zip(frames, out, strict=True):
                arr[:, j] = codes[at : at + len(df)]
                at += len(df)
        else:
            for df, arr in zip(frames, out, strict=True):
                arr[:, j] = _as_float(df[name], kind, name)
    return out


def _as_float(series: pd.Series, kind: str, name: str) -> np.ndarray:
    try:
        if kind == "datetime":
            raw = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")
            vals = raw.view(np.int64) / 86_400e9
            vals[np.isnat(raw)] = np.nan
            return vals
        if kind == "boolean":
            return series.astype("boolean").astype("Float64").to_numpy(np.float64, na_value=np.nan)
        return pd.to_numeric(series).astype("Float64").to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise InputError(
            f"column '{name}' is {kind} in the schema but holds values that are not; "
            "coerce the frames with Schema.coerce first"
        ) from None


def _pick(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    return np.sort(rng.choice(n, size=min(size, n), replace=False))


# ------------------------------------------------------------------ linkability
def linkability_risk(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    aux_cols: tuple[list[str], list[str]] | None = None,
    n_attacks: int = 500,
    n_neighbors: int = 1,
    seed: int | None,
) -> DisclosureResult:
    """Risk that the synthetic data lets an attacker join two halves of a patient's record.

    The attacker holds, for each target, two disjoint sets of columns (say, a register with
    the quasi-identifiers and a leaked lab extract with the clinical values) and wants to know
    which rows of the two belong to the same person. For each half it finds the target's
    ``n_neighbors`` nearest synthetic records (mixed-type distance of
    :class:`~synthgen.evaluation.encoding.MixedEncoder`, fitted on train); the two halves are
    linked when the two neighbour sets share a synthetic record. The baseline draws both
    neighbour sets at random.

    Args:
        train: the records the generator learned from (main targets).
        holdout: records it never saw (control targets).
        synthetic: the synthetic records.
        schema: column kinds and roles.
        aux_cols: the attacker's two column sets; default the schema's quasi-identifiers and
            its sensitive columns.
        n_attacks: targets per run (at most the size of the smaller of train and holdout).
        n_neighbors: synthetic neighbours per half.
        seed: seed of the target sampling and the baseline.

    Returns:
        A :class:`DisclosureResult` named ``"linkability"``.
    """
    check_n_attacks(n_attacks)
    if aux_cols is None:
        aux_cols = (schema.with_role("quasi_identifier"), schema.with_role("sensitive"))
    if not isinstance(aux_cols, (tuple, list)) or len(aux_cols) != 2:
        raise InputError("aux_cols must be a pair of column lists (first half, second half)")
    first, second = list(aux_cols[0]), list(aux_cols[1])
    problems = []
    if not first or not second:
        problems.append(
            "linkability needs two non-empty column sets; the schema has "
            f"{len(first)} in the first and {len(second)} in the second "
            "(mark quasi-identifiers and sensitive columns, or pass aux_cols)"
        )
    shared = sorted(set(first) & set(second))
    if shared:
        problems.append(f"aux_cols must be disjoint; both hold {', '.join(shared)}")
    if problems:
        raise InputError("; ".join(problems))
    check_frames(train, holdout, synthetic, schema, first + second)
    ok = isinstance(n_neighbors, (int, np.integer)) and not isinstance(n_neighbors, bool)
    if not ok or not 1 <= n_neighbors <= len(synthetic):
        raise InputError(
            f"n_neighbors must be an integer from 1 to {len(synthetic)} (the synthetic rows); "
            f"got {n_neighbors!r}"
        )
    k = int(n_neighbors)
    n = int(min(n_attacks, len(train), len(holdout)))
    rng = np.random.default_rng(seed)
    main_rows = _pick(rng, len(train), n)
    control_rows = _pick(rng, len(holdout), n)

    def neighbours(cols: list[str], targets: list[pd.DataFrame]) -> list[np.ndarray]:
        enc = MixedEncoder().fit(train, schema, cols)
        syn = enc.transform(synthetic)
        return [nearest(enc.transform(t), syn, k=k)[1] for t in targets]

    targets = [train.iloc[main_rows], holdout.iloc[control_rows]]
    (m0, c0), (m1, c1) = neighbours(first, targets), neighbours(second, targets)
    b0 = _random_sets(rng, len(synthetic), n, k)
    b1 = _random_sets(rng, len(synthetic), n, k)
    return disclosure_result(
        name="linkability",
        main_successes=_links(m0, m1),
        main_trials=n,
        control_successes=_links(c0, c1),
        control_trials=n,
        baseline_successes=_links(b0, b1),
        baseline_trials=n,
        details={"aux_cols": [first, second], "n_neighbors": k},
    )


def _random_sets(rng: np.random.Generator, n_synthetic: int, n: int, k: int) -> np.ndarray:
    # k distinct random synthetic rows per target: the first k of a random permutation key
    if k == 1:
        return rng.integers(0, n_synthetic, size=(n, 1))
    keys = rng.random((n, n_synthetic))
    return np.argpartition(keys, k - 1, axis=1)[:, :k]


def _links(idx0: np.ndarray, idx1: np.ndarray) -> int:
    """Targets whose two neighbour sets share at least one synthetic record."""
    return int((idx0[:, :, None] == idx1[:, None, :]).any(axis=(1, 2)).sum())


# ------------------------------------------------------------------ inference
def inference_risk(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    secret: str,
    aux_cols: list[str] | None = None,
    n_attacks: int = 500,
    seed: int | None,
) -> DisclosureResult:
    """Risk that the synthetic data reveals a target's secret value from what else is known.

    The attacker knows the target's ``aux_cols`` (default the quasi-identifiers), finds the
    nearest synthetic record on them (:class:`~synthgen.evaluation.encoding.MixedEncoder`
    distance, fitted on train) and guesses that record's ``secret``. The guess is correct when
    equal (categorical, text, boolean; datetimes to the day) or, for numeric and integer
    secrets, within :data:`RELATIVE_TOLERANCE` (5%) of the true value, relative to the true
    value (a true 0 needs an exact 0). Both missing counts as correct. The baseline guesses
    the secret of a random synthetic record.

    Args:
        train: main targets. holdout: control targets. synthetic: the synthetic records.
        schema: column kinds and roles.
        secret: the column to guess.
        aux_cols: the columns the attacker knows; default the quasi-identifiers.
        n_attacks: targets per run (at most the smaller of train and holdout).
        seed: seed of the target sampling and the baseline.

    Returns:
        A :class:`DisclosureResult` named ``"inference"``.
    """
    return inference_risks(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        secrets=[secret],
        aux_cols=aux_cols,
        n_attacks=n_attacks,
        seed=seed,
    )[secret]


def inference_risks(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    secrets: Sequence[str] | None = None,
    aux_cols: list[str] | None = None,
    n_attacks: int = 500,
    seed: int | None,
) -> dict[str, DisclosureResult]:
    """:func:`inference_risk` for every secret (default the schema's sensitive columns).

    The nearest-neighbour search on the auxiliary columns is done once and shared, and every
    secret is attacked on the same targets, so ``inference_risks(...)[s]`` equals
    ``inference_risk(secret=s, ...)`` with the same seed.

    Returns:
        ``{secret: DisclosureResult}`` in the order of ``secrets``.
    """
    check_n_attacks(n_attacks)
    secrets = list(schema.with_role("sensitive") if secrets is None else secrets)
    if not secrets:
        raise InputError("no secret to attack: the schema marks no column as sensitive")
    default_aux = aux_cols is None
    problems = []
    if not default_aux:
        aux_cols = list(aux_cols)  # type: ignore[arg-type]
        if not aux_cols:
            problems.append("aux_cols is empty; the attacker needs at least one known column")
        clash = [s for s in secrets if s in aux_cols]
        if clash:
            problems.append(f"the secret cannot be among aux_cols: {', '.join(clash)}")
    else:
        if not schema.with_role("quasi_identifier"):
            problems.append("the schema marks no quasi-identifier; pass aux_cols")
    if problems:
        raise InputError("; ".join(problems))
    all_aux = aux_cols if not default_aux else schema.with_role("quasi_identifier")
    check_frames(train, holdout, synthetic, schema, list(dict.fromkeys([*all_aux, *secrets])))

    n = int(min(n_attacks, len(train), len(holdout)))
    rng = np.random.default_rng(seed)
    main_rows = _pick(rng, len(train), n)
    control_rows = _pick(rng, len(holdout), n)
    guess_rows = rng.integers(0, len(synthetic), size=n)
    targets = [train.iloc[main_rows], holdout.iloc[control_rows]]

    cache: dict[tuple[str, ...], list[np.ndarray]] = {}
    out: dict[str, DisclosureResult] = {}
    for secret in secrets:
        aux = [c for c in all_aux if c != secret] if default_aux else list(all_aux)
        if not aux:
            raise InputError(f"no auxiliary column left for secret '{secret}'; pass aux_cols")
        key = tuple(aux)
        if key not in cache:
            enc = MixedEncoder().fit(train, schema, aux)
            syn = enc.transform(synthetic)
            cache[key] = [nearest(enc.transform(t), syn, k=1)[1][:, 0] for t in targets]
        main_nn, control_nn = cache[key]
        s_main, s_control, s_syn = column_arrays(
            [targets[0], targets[1], synthetic], schema, [secret]
        )
        s_main, s_control, s_syn = s_main[:, 0], s_control[:, 0], s_syn[:, 0]
        kind = schema[secret].kind
        out[secret] = disclosure_result(
            name="inference",
            main_successes=_correct(s_syn[main_nn], s_main, kind),
            main_trials=n,
            control_successes=_correct(s_syn[control_nn], s_control, kind),
            control_trials=n,
            baseline_successes=_correct(s_syn[guess_rows], s_main, kind),
            baseline_trials=n,
            details={
                "secret": secret,
                "aux_cols": aux,
                "tolerance": RELATIVE_TOLERANCE if kind in _NUMERIC_KINDS else 0.0,
            },
        )
    return out


def _correct(guesses: np.ndarray, secrets: np.ndarray, kind: str) -> int:
    both_missing = np.isnan(guesses) & np.isnan(secrets)
    with np.errstate(invalid="ignore"):
        if kind in _NUMERIC_KINDS:
            hit = np.abs(guesses - secrets) <= RELATIVE_TOLERANCE * np.abs(secrets)
        elif kind == "datetime":
            hit = np.floor(guesses) == np.floor(secrets)
        else:
            hit = guesses == secrets
    return int((hit | both_missing).sum())


__all__ = [
    "RELATIVE_TOLERANCE",
    "DisclosureResult",
    "Rate",
    "disclosure_result",
    "excess_risk",
    "inference_risk",
    "inference_risks",
    "linkability_risk",
    "success_rate",
]
