"""The shadow-model membership attack on the actual generator configuration (TAPAS style).

Distance and density attacks judge every record by one fixed rule. A shadow-model attack
instead *learns* what the generator does to a record it was trained on, by running the very
same generator (same name, same hyper-parameters) many times on data the attacker controls
(Stadler, Oprisanu and Troncoso, "Synthetic Data -- Anonymisation Groundhog Day", 2022; the
TAPAS toolbox). It is the strongest of the audit's membership attacks and the most costly.

Threat model (TAPAS "auxiliary data" attacker): the attacker knows

- a *reference* sample of the population (here: the holdout, which the generator never saw),
- the generator's configuration (its registry name and parameters),
- the target record itself, and the released synthetic table.

For each target record the attack:

1. draws ``n_shadows`` shadow training sets from the reference, half with the target put
   in ("in") and half without ("out"), each of the size of the real training set (capped
   by what the reference holds);
2. fits a fresh generator on each and samples a synthetic set of the released size;
3. describes each synthetic set *relative to the target*: distances from the target to its
   nearest synthetic records, the share of synthetic records within fixed radii, and how
   often the target's categorical and boolean values (alone and all together) occur;
4. trains a classifier (a seeded random forest) to tell "in" from "out" on those features,
   and applies it to the released synthetic table: its probability of "in" is the target's
   membership score.

Targets are the records the attack is most likely to expose: those farthest from their
nearest neighbours (outliers, members of rare subgroups), plus a few random *controls*.
To turn scores into an AUC, the same is done for an equal number of holdout records
(non-members, chosen the same way among the holdout, and removed from the reference used
for their own shadows). Few targets make the interval wide; it is reported.

All shadow fits are independent and run in worker processes; every fit's randomness comes
from an explicit :class:`numpy.random.SeedSequence` child, so the result does not depend on
the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.evaluation.privacy.scores import AttackResult, evaluate_attack

K_NEAREST = 5
"""Neighbours used for a record's vulnerability and for the attack's distance features."""

RADIUS_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5)
"""Quantiles of the reference's nearest-neighbour distances used as radii for counting."""

N_TREES = 25


# ---------------------------------------------------------------------------- result
def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _plain(value: Any) -> Any:
    """A JSON-able version of a generator parameter value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)


@dataclass(frozen=True)
class ShadowResult:
    """The outcome of :func:`shadow_model_attack`.

    Attributes:
        attack: AUC and TPR at low FPR, with intervals, over the member targets (training
            records) against the non-member targets (holdout records); named
            ``"shadow_model"``.
        member_rows: row positions of the member targets in the training table: the
            ``n_targets`` most vulnerable first, then the ``n_controls`` random controls.
        member_vulnerability: each member target's vulnerability (mean distance to its 5
            nearest other training records; larger is more exposed).
        member_scores: each member target's membership score on the released table.
        member_shadow_accuracy: each member target's cross-validated shadow accuracy.
        nonmember_rows: row positions of the non-member targets in the holdout, same order.
        nonmember_vulnerability: their vulnerability among the holdout records.
        nonmember_scores: their membership scores on the released table.
        nonmember_shadow_accuracy: their cross-validated shadow accuracies.
        n_targets: vulnerable targets per side.
        n_controls: random control targets per side.
        n_shadows: shadow generators fitted per target (half "in", half "out").
        shadow_size: rows of each shadow training set.
        synthetic_size: rows sampled from each shadow generator.
        generator_name: the generator attacked.
        generator_params: its parameters.
        seed: the seed of the whole attack.
    """

    attack: AttackResult
    member_rows: np.ndarray = field(compare=False)
    member_vulnerability: np.ndarray = field(compare=False)
    member_scores: np.ndarray = field(compare=False)
    member_shadow_accuracy: np.ndarray = field(compare=False)
    nonmember_rows: np.ndarray = field(compare=False)
    nonmember_vulnerability: np.ndarray = field(compare=False)
    nonmember_scores: np.ndarray = field(compare=False)
    nonmember_shadow_accuracy: np.ndarray = field(compare=False)
    n_targets: int
    n_controls: int
    n_shadows: int
    shadow_size: int
    synthetic_size: int
    generator_name: str
    generator_params: Mapping[str, Any] = field(compare=False)
    seed: int | None

    name = "shadow_model"
    direction = "lower is better"

    @property
    def shadow_accuracy(self) -> float:
        """Mean cross-validated accuracy of the shadow classifiers over every target.

        How well the attacker tells "in" from "out" on its own shadow data (0.5 = it cannot;
        near 1 = the generator's output clearly reveals the target's presence).
        """
        both = np.concatenate([self.member_shadow_accuracy, self.nonmember_shadow_accuracy])
        return float(both.mean())

    @property
    def max_member_score(self) -> float:
        """The highest membership score of any member target (the worst-case record)."""
        return float(self.member_scores.max())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: figures, target row positions and scores; never a cell value."""

        def targets(side, rows, vuln, scores, acc):
            return [
                {
                    "table": side,
                    "row": int(row),
                    "kind": "vulnerable" if i < self.n_targets else "control",
                    "vulnerability": _r(v),
                    "score": _r(s),
                    "shadow_accuracy": _r(a),
                }
                for i, (row, v, s, a) in enumerate(zip(rows, vuln, scores, acc, strict=True))
            ]

        return {
            "name": self.name,
            "attack": self.attack.to_dict(),
            "shadow_accuracy": {
                "value": _r(self.shadow_accuracy),
                "direction": self.direction,
                "baseline": 0.5,
            },
            "max_member_score": {
                "value": _r(self.max_member_score),
                "direction": self.direction,
                "baseline": 0.5,
            },
            "targets": targets(
                "train",
                self.member_rows,
                self.member_vulnerability,
                self.member_scores,
                self.member_shadow_accuracy,
            )
            + targets(
                "holdout",
                self.nonmember_rows,
                self.nonmember_vulnerability,
                self.nonmember_scores,
                self.nonmember_shadow_accuracy,
            ),
            "config": {
                "generator": self.generator_name,
                "params": _plain(dict(self.generator_params)),
                "n_targets": int(self.n_targets),
                "n_controls": int(self.n_controls),
                "n_shadows": int(self.n_shadows),
                "shadow_size": int(self.shadow_size),
                "synthetic_size": int(self.synthetic_size),
                "seed": self.seed,
            },
        }


# ------------------------------------------------------------------------- features
@dataclass(frozen=True)
class _FeatureMap:
    """Describes a synthetic table relative to one target (holds no real rows)."""

    encoder: Any  # a fitted MixedEncoder
    radii: np.ndarray
    blocks: tuple[tuple[int, int], ...]  # feature ranges of categorical and boolean columns

    def features(self, target: np.ndarray, synthetic: pd.DataFrame) -> np.ndarray:
        enc = self.encoder.transform(synthetic).astype(np.float64)
        t = target.astype(np.float64)
        n = enc.shape[0]
        diff = enc - t
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        k = min(K_NEAREST, n)
        closest = np.sort(np.partition(dist, k - 1)[:k]) if n else np.zeros(0)
        closest = np.concatenate([closest, np.full(K_NEAREST - k, closest[-1] if k else 0.0)])
        within = [(dist <= r + 1e-9).mean() if n else 0.0 for r in self.radii]
        joint = np.ones(n, dtype=bool)
        shares = []
        for lo, hi in self.blocks:
            same = np.all(np.abs(enc[:, lo:hi] - t[lo:hi]) < 1e-6, axis=1)
            joint &= same
            shares.append(same.mean() if n else 0.0)
        return np.concatenate([closest, within, shares, [joint.mean() if n else 0.0]]).astype(
            np.float64
        )


def _blocks(encoder: Any) -> tuple[tuple[int, int], ...]:
    out, at = [], 0
    for plan in encoder.plans_:
        width = len(plan["features"])
        if plan["type"] in ("categorical", "boolean"):
            out.append((at, at + width))
        at += width
    return tuple(out)


def _vulnerability(encoded: np.ndarray) -> np.ndarray:
    """Mean distance of every row to its nearest other rows (larger: more exposed)."""
    from synthgen.evaluation.neighbours import nearest

    k = min(K_NEAREST, encoded.shape[0] - 1)
    dist, _ = nearest(encoded, encoded, k=k, exclude_self=True)
    return dist.astype(np.float64).mean(axis=1)


def _choose_targets(
    vulnerability: np.ndarray, n_targets: int, n_controls: int, rng: np.random.Generator
) -> np.ndarray:
    """The ``n_targets`` most vulnerable rows (ties by lower row), then random controls."""
    order = np.lexsort((np.arange(vulnerability.size), -vulnerability))
    top = order[:n_targets]
    rest = np.setdiff1d(np.arange(vulnerability.size), top)
    controls = np.sort(rng.choice(rest, size=n_controls, replace=False))
    return np.concatenate([top, controls]).astype(np.int64)


# ---------------------------------------------------------------------- shadow fits
def _seed_int(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0] >> 1)


def _shadow_fit(
    cls: type,
    params: dict[str, Any],
    data: pd.DataFrame,
    schema: Schema,
    n_rows: int,
    sample_seed: int,
) -> pd.DataFrame:
    """Fit one shadow generator and sample it (model columns only).

    Runs in a worker process; BLAS and OpenMP are held to one thread so that parallel fits
    do not oversubscribe the cores. Features are computed in the calling process (the
    encoder is not sent to workers: its missing-value marker does not survive pickling).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        gen = cls(**params).fit(data, schema)
        return gen.sample(n_rows, seed=sample_seed)


def _run_tasks(
    tasks: list[tuple],
    describe: Callable[[int, pd.DataFrame], np.ndarray],
    n_jobs: int | None,
    progress: Callable[[int, int], None] | None,
) -> list[np.ndarray]:
    """Run every shadow fit; ``describe(i, synthetic)`` turns task ``i``'s output to features."""
    from joblib import Parallel, delayed

    total = len(tasks)
    workers = min(n_jobs or os.cpu_count() or 1, total)
    if workers <= 1:
        outputs = (_shadow_fit(*task) for task in tasks)
    else:
        # Results come back in task order as they complete; each task carries its own
        # seeds, so the outcome is the same for any number of workers.
        parallel = Parallel(n_jobs=workers, backend="loky", return_as="generator")
        outputs = parallel(delayed(_shadow_fit)(*task) for task in tasks)
    results: list[np.ndarray] = []
    for i, synthetic in enumerate(outputs):  # one synthetic table held at a time
        results.append(describe(i, synthetic))
        if progress is not None:
            progress(len(results), total)
    return results


def _shadow_sets(
    reference: pd.DataFrame,
    target_row: pd.DataFrame,
    shadow_size: int,
    n_shadows: int,
    seq: np.random.SeedSequence,
) -> list[tuple[pd.DataFrame, int, int]]:
    """``n_shadows`` seeded shadow training sets: (frame, label in=1/out=0, sample seed)."""
    out = []
    n_in = n_shadows // 2
    for s, child in enumerate(seq.spawn(n_shadows)):
        draw_seq, sample_seq = child.spawn(2)
        rng = np.random.default_rng(draw_seq)
        label = 1 if s < n_in else 0
        # Without replacement only when the reference is large enough for shadow sets to
        # differ; otherwise a bootstrap (the reference as the population), so the classifier
        # sees how the rest of the data varies and does not learn one fixed background.
        replace = len(reference) < 2 * shadow_size
        rows = rng.choice(len(reference), size=shadow_size - label, replace=replace)
        parts = [reference.iloc[rows]] + ([target_row] if label else [])
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        out.append((frame, label, _seed_int(sample_seq)))
    return out


def _classify(x: np.ndarray, y: np.ndarray, released: np.ndarray, seed: int) -> tuple[float, float]:
    """Train in/out on the shadow features; return (score on the released table, CV accuracy)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    def forest() -> RandomForestClassifier:
        # every feature at every split: with a handful of shadow sets many features separate
        # "in" from "out" by chance, and the forest should prefer the one that does so best
        return RandomForestClassifier(
            n_estimators=N_TREES, max_features=None, random_state=seed, n_jobs=1
        )

    folds = int(min(5, np.bincount(y).min()))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    accuracy = float(cross_val_score(forest(), x, y, cv=cv, scoring="accuracy").mean())
    clf = forest().fit(x, y)
    score = float(clf.predict_proba(released[None, :])[0, list(clf.classes_).index(1)])
    return score, accuracy


# -------------------------------------------------------------------------- the attack
def _validate(train, holdout, synthetic, schema, n_targets, n_controls, n_shadows, size):
    columns = schema.model_columns
    if not columns:
        raise InputError("the schema has no model columns to compare")
    problems = []
    for name, df in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"{name} must be a pandas DataFrame; got {type(df).__name__}")
        missing = [c for c in columns if c not in df.columns]
        if missing:
            problems.append(f"the {name} table lacks model columns: {', '.join(missing)}")
        elif len(df) == 0:
            problems.append(f"the {name} table has no rows")

    def whole(value, what, low):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            problems.append(f"{what} must be an integer of at least {low}; got {value!r}")
            return False
        return True

    ok = whole(n_targets, "n_targets", 1) & whole(n_controls, "n_controls", 0)
    if whole(n_shadows, "n_shadows", 4) and n_shadows % 2:
        problems.append(f"n_shadows must be even (half in, half out); got {n_shadows}")
    if size is not None:
        whole(size, "synthetic_size", 1)
    if ok and not problems:
        n = n_targets + n_controls
        if n >= len(train):
            problems.append(
                f"n_targets + n_controls = {n} targets need more than {n} training rows; "
                f"the training table has {len(train)}"
            )
        if n + 2 > len(holdout):
            problems.append(
                f"n_targets + n_controls = {n} non-member targets need at least {n + 2} "
                f"holdout rows (the reference); the holdout has {len(holdout)}"
            )
    if problems:
        raise InputError("; ".join(problems))
    return columns


def shadow_model_attack(
    *,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    generator_name: str,
    generator_params: Mapping[str, Any] | None = None,
    n_targets: int = 10,
    n_controls: int = 5,
    n_shadows: int = 8,
    synthetic_size: int | None = None,
    seed: int | None,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    n_boot: int = 200,
) -> ShadowResult:
    """Membership inference by shadow generators of the released generator's configuration.

    Cost: ``2 × (n_targets + n_controls) × n_shadows`` generator fits (240 by default),
    spread over ``n_jobs`` worker processes.

    Args:
        train: the training table (typed); the released generator was fitted on it.
        holdout: the holdout table (typed); the attacker's reference data and the source of
            the non-member targets.
        synthetic: the released synthetic table (typed).
        schema: the schema; only its model columns are compared.
        generator_name: the registry name of the released generator.
        generator_params: its parameters (e.g. ``generator.get_params()``).
        n_targets: most vulnerable records attacked on each side (train and holdout).
        n_controls: random records attacked on each side, as controls.
        n_shadows: shadow generators per target, half with the target and half without
            (even, at least 4).
        synthetic_size: rows each shadow generator samples; default ``len(synthetic)``.
        seed: seed of target choice, shadow sets, sampling, classifiers and intervals.
        n_jobs: worker processes; default every core. The result does not depend on it.
        progress: called as ``progress(done, total)`` in the calling process as shadow fits
            complete.
        n_boot: bootstrap replicates for the intervals.

    Returns:
        A :class:`ShadowResult`.

    Raises:
        InputError: tables lack model columns or rows, or the counts do not fit the tables.
        UnknownModelError: no generator has that name.
        ParameterError: the generator does not accept a parameter.
    """
    from synthgen.evaluation.encoding import MixedEncoder
    from synthgen.evaluation.neighbours import nearest
    from synthgen.models import create_generator

    columns = _validate(
        train, holdout, synthetic, schema, n_targets, n_controls, n_shadows, synthetic_size
    )
    params = dict(generator_params or {})
    cls = type(create_generator(generator_name, **params))  # unknown names, bad params fail here
    n_rows = int(synthetic_size) if synthetic_size is not None else len(synthetic)
    # the same size for both sides; a non-member target's reference lacks that one record
    shadow_size = min(len(train), len(holdout) - 1)
    # Direct identifiers are never learned, so shadow generators get only the model columns.
    train = train[columns].reset_index(drop=True)
    holdout = holdout[columns].reset_index(drop=True)
    synthetic = synthetic[columns]
    model_schema = Schema(tuple(c for c in schema.columns if c.name in set(columns)))

    root = np.random.SeedSequence(seed)
    choice_seq, member_seq, nonmember_seq, clf_seq, boot_seq = root.spawn(5)
    choice_rng = np.random.default_rng(choice_seq)

    # Targets, chosen by the custodian's distance (encoder fitted on the training table).
    custodian = MixedEncoder().fit(train, schema, columns=columns)
    member_vuln = _vulnerability(custodian.transform(train))
    nonmember_vuln = _vulnerability(custodian.transform(holdout))
    member_rows = _choose_targets(member_vuln, n_targets, n_controls, choice_rng)
    nonmember_rows = _choose_targets(nonmember_vuln, n_targets, n_controls, choice_rng)

    # The attacker's feature space: fitted on what it knows (reference and the targets), so
    # members' and non-members' values are equally "seen" by the encoder.
    known = pd.concat([holdout, train.iloc[member_rows]], ignore_index=True)
    attacker = MixedEncoder().fit(known, schema, columns=columns)
    ref_enc = attacker.transform(holdout)
    nn = nearest(ref_enc, ref_enc, k=1, exclude_self=True)[0][:, 0].astype(np.float64)
    fmap = _FeatureMap(
        encoder=attacker,
        radii=np.quantile(nn, RADIUS_QUANTILES),
        blocks=_blocks(attacker),
    )

    # Every target's shadow sets, with seeds drawn here so workers only compute.
    targets: list[tuple[np.ndarray, list[int]]] = []  # (target vector, in/out labels)
    tasks: list[tuple] = []
    sides = (
        (train, member_rows, member_seq, False),
        (holdout, nonmember_rows, nonmember_seq, True),
    )
    for table, rows, seq, from_reference in sides:
        for row, t_seq in zip(rows, seq.spawn(len(rows)), strict=True):
            target_row = table.iloc[[int(row)]]
            reference = holdout.drop(index=int(row)) if from_reference else holdout
            vector = attacker.transform(target_row)[0]
            sets = _shadow_sets(reference, target_row, shadow_size, n_shadows, t_seq)
            targets.append((vector, [label for _, label, _ in sets]))
            for frame, _, sample_seed in sets:
                tasks.append((cls, params, frame, model_schema, n_rows, sample_seed))

    features = _run_tasks(
        tasks,
        lambda i, syn: fmap.features(targets[i // n_shadows][0], syn),
        n_jobs,
        progress,
    )

    scores, accuracy = [], []
    clf_seeds = clf_seq.generate_state(len(targets), dtype=np.uint32)
    for j, ((vector, labels), clf_seed) in enumerate(zip(targets, clf_seeds, strict=True)):
        x = np.vstack(features[j * n_shadows : (j + 1) * n_shadows])
        released = fmap.features(vector, synthetic)
        score, acc = _classify(x, np.asarray(labels), released, int(clf_seed >> 1))
        scores.append(score)
        accuracy.append(acc)
    scores_arr, acc_arr = np.asarray(scores), np.asarray(accuracy)
    n = len(member_rows)
    attack = evaluate_attack(
        name="shadow_model",
        member_scores=scores_arr[:n],
        nonmember_scores=scores_arr[n:],
        seed=_seed_int(boot_seq),
        n_boot=n_boot,
        member_rows=member_rows,
        nonmember_rows=nonmember_rows,
    )
    return ShadowResult(
        attack=attack,
        member_rows=member_rows,
        member_vulnerability=member_vuln[member_rows],
        member_scores=scores_arr[:n],
        member_shadow_accuracy=acc_arr[:n],
        nonmember_rows=nonmember_rows,
        nonmember_vulnerability=nonmember_vuln[nonmember_rows],
        nonmember_scores=scores_arr[n:],
        nonmember_shadow_accuracy=acc_arr[n:],
        n_targets=int(n_targets),
        n_controls=int(n_controls),
        n_shadows=int(n_shadows),
        shadow_size=int(shadow_size),
        synthetic_size=n_rows,
        generator_name=generator_name,
        generator_params=params,
        seed=seed,
    )
