"""Generators compared over many seeds on one cohort, with a lower-variance membership measure.

On a small cohort one run says little: ``gbsg2`` holds out 137 records, so a membership
attack's AUC has an interval about ±0.09 wide and TSTR about ±0.1. This script repeats
``bench_cohorts.run_one`` (split, fit, sample, ``synthgen.evaluate``) for seeds 0..S-1 and
reports each figure's mean and standard error over seeds, and adds three membership
figures:

- ``density_all``: the density-ratio attack (``synthgen.evaluation.privacy.density``: k = 5
  nearest neighbours, ``MixedEncoder`` fitted on the attacker's reference) with every training
  record a member, averaged over 10 random halvings of the holdout into reference and
  non-members (the report cross-fits one halving);
- ``distance_all`` and ``distance_tpr_all``: the report's distance attack (minus the distance
  to the closest synthetic record, every training record a member, every holdout record a
  non-member), its AUC and its TPR at 1% FPR, shown on their own because the report's
  headline figures are the larger of the two attacks'.

A fresh sample from the population scores 0.5 on both; only differences between generators
larger than a couple of standard errors mean anything. A second table gives each run's
membership figures minus TVAE's, seed by seed (same split, same attack subsamples), with the
standard error of that paired difference.

``--run independent`` is a reference, not a generator: every column resampled on its own from
the training records (seeded), so it keeps each column's distribution and learns no relation
between columns. Its membership figures are the floor a generator that learns the joint
distribution at all can be held to on that cohort (the report's strongest-attack AUC is a
maximum of two noisy AUCs, so its floor lies above 0.5).

    OMP_NUM_THREADS=2 python benchmarks/bench_seeds.py --cohort gbsg2 --seeds 20 \\
        --run tvae --run diffusion --run "diffusion swap_share=0.5"
    python benchmarks/bench_seeds.py --table

``--extend`` keeps the seeds a stored run with the same settings already holds and runs only
the rest (``--seeds 100`` after a 40-seed run runs seeds 40 to 99); the run records which
seeds came from where under ``earlier``.

Results are merged into ``benchmarks/results/seeds.json``: a run replaces an earlier one with
the same cohort, generator and settings, whatever its number of seeds (the paired table pairs
each run with the baseline seed by seed, so runs over fewer seeds still compare).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _tables  # noqa: E402
import bench_cohorts as bc  # noqa: E402
from cohorts import COHORTS, load_cohort  # noqa: E402

KIND = "synthgen.benchmark.seeds"
HALVINGS = 10
N_BOOT = 20  # the report's own intervals are not used here; the spread over seeds is
FIGURES = ("quality", "detection", "tstr", "membership_auc", "tpr_1pct")
FIGURES += ("density_all", "distance_all", "distance_tpr_all", "fit_s")
INDEPENDENT = "independent"


def parse_run(text: str) -> tuple[str, dict[str, Any]]:
    """``"diffusion swap_share=0.5 width=96"`` -> ``("diffusion", {...})``."""
    name, *items = text.split()
    if name == INDEPENDENT:
        if items:
            raise SystemExit("the independent-columns reference takes no parameters")
        return name, {}
    overrides = bc.parse_overrides(items).get(None, {})
    bc.check_overrides({None: overrides}, [name])
    return name, overrides


def density_all(
    split, synthetic, schema, seed: int, columns=None, halvings: int = HALVINGS
) -> float:
    """The density-ratio attack's AUC with every training record a member, averaged over
    ``halvings`` halvings of the holdout into the attacker's reference and non-members.

    ``columns``: the columns the attacker encodes (default: every learned column)."""
    from synthgen.evaluation.encoding import MixedEncoder
    from synthgen.evaluation.privacy.density import DEFAULT_K, _log_ratio
    from synthgen.evaluation.privacy.scores import roc_auc

    cols = schema.model_columns if columns is None else list(columns)
    train, holdout = split.train, split.holdout
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(halvings):
        order = rng.permutation(len(holdout))
        half = len(holdout) // 2
        ref, non = holdout.iloc[order[:half]], holdout.iloc[order[half:]]
        enc = MixedEncoder().fit(ref, schema, columns=cols)
        e_ref, e_syn = enc.transform(ref), enc.transform(synthetic)
        member = _log_ratio(enc.transform(train), e_ref, e_syn, DEFAULT_K)
        nonmember = _log_ratio(enc.transform(non), e_ref, e_syn, DEFAULT_K)
        aucs.append(roc_auc(member_scores=member, nonmember_scores=nonmember))
    return float(np.mean(aucs))


def independent_columns(train, seed: int):
    """Every column resampled with replacement on its own (the no-joint-structure reference).

    Only the learned columns are passed in: identifiers are never copied, not even here."""
    rng = np.random.default_rng(seed)
    n = len(train)
    return train.apply(lambda col: col.iloc[rng.integers(0, n, n)].reset_index(drop=True))


def synthesise(cohort, split, name: str, overrides: dict[str, Any], seed: int):
    """A synthetic cohort as large as the training split, and the fit time in seconds (0 for
    the :data:`INDEPENDENT` reference)."""
    import synthgen as sg

    if name == INDEPENDENT:
        return independent_columns(split.train[cohort.schema.model_columns], seed), 0.0
    gen = sg.create_generator(name, **bc.generator_params(name, {None: overrides}, seed))
    start = time.perf_counter()
    gen.fit(split.train, cohort.schema)
    fit_s = round(time.perf_counter() - start, 2)
    return gen.sample(len(split.train), seed=seed), fit_s


def one_seed(cohort, name: str, overrides: dict[str, Any], seed: int) -> dict[str, Any]:
    """``bench_cohorts.run_one``'s steps and figures, plus :func:`density_all`."""
    split = bc.split_cohort(cohort, seed=seed)
    synthetic, fit_s = synthesise(cohort, split, name, overrides, seed)
    f = bc.evaluate_figures(cohort, split, synthetic, seed=seed, n_boot=N_BOOT)
    tstr = f["tstr"][cohort.targets[0]]
    distance = f["membership"]["attacks"]["distance"]
    return {
        "seed": seed,
        "quality": f["quality"]["value"],
        "detection": f["detection_auc"]["value"],
        "tstr": tstr["value"],
        "trtr": tstr["baseline"],
        "membership_auc": f["membership"]["max_auc"]["value"],
        "tpr_1pct": f["membership"]["max_tpr_at_1pct_fpr"]["value"],
        "fit_s": fit_s,
        "density_all": density_all(split, synthetic, cohort.schema, seed),
        # the report's distance attack already scores every training and holdout record
        "distance_all": distance["auc"]["value"],
        "distance_tpr_all": distance["tpr_at_1pct_fpr"]["value"],
    }


def summary(per_seed: list[dict[str, Any]]) -> dict[str, list[float]]:
    out = {}
    for key in (*FIGURES, "trtr"):
        v = np.array([r[key] for r in per_seed if r.get(key) is not None], dtype=float)
        out[key] = [round(float(v.mean()), 4), round(float(v.std(ddof=1) / np.sqrt(len(v))), 4)]
    return out


def run_label(run: dict[str, Any]) -> str:
    """``"diffusion swap_share=0.5"``: the generator and its overrides, as given to --run."""
    return run["generator"] + "".join(f" {k}={v}" for k, v in run["overrides"].items())


def table(runs: list[dict[str, Any]]) -> str:
    headers = ["cohort", "generator", "seeds", "quality", "detection AUC", "TSTR (TRTR)"]
    headers += ["membership AUC (report)", "TPR at 1% FPR", "density, all records"]
    headers += ["distance, all records", "distance TPR at 1%, all records", "fit s"]

    def cell(s, key):
        if key not in s:  # a figure added after the run was made
            return ""
        mean, se = s[key]
        return f"{mean:.3f} ± {se:.3f}"

    rows = []
    for r in sorted(runs, key=lambda r: (r["cohort"], r["generator"], json.dumps(r["overrides"]))):
        s = r["summary"]
        rows.append(
            [
                r["cohort"],
                run_label(r),
                str(len(r["per_seed"])),
                cell(s, "quality"),
                cell(s, "detection"),
                f"{cell(s, 'tstr')} ({s['trtr'][0]:.3f})",
                cell(s, "membership_auc"),
                cell(s, "tpr_1pct"),
                cell(s, "density_all"),
                cell(s, "distance_all"),
                cell(s, "distance_tpr_all"),
                f"{s['fit_s'][0]:.1f}",
            ]
        )
    return _tables.markdown(headers, rows) + "\n\nmean ± standard error over seeds 0..S-1"


PAIRED = ("membership_auc", "tpr_1pct", "density_all", "distance_all", "distance_tpr_all")


def paired(runs: list[dict[str, Any]], baseline: str = "tvae") -> str:
    """Each run's membership figures minus ``baseline``'s on the same cohort, seed by seed.

    The same seed gives both runs the same split and the same attack subsamples, so the
    comparison is paired and its standard error is the one to read (on gbsg2 it ranges from
    about the two means' errors combined, for the report's AUC, to half of that, for the
    all-record distance attack). A positive difference is more risk than the baseline's."""
    headers = ["cohort", "generator", "seeds"] + [f"{k} − {baseline}" for k in PAIRED]
    rows = []
    for r in sorted(runs, key=lambda r: (r["cohort"], r["generator"], json.dumps(r["overrides"]))):
        base = [b for b in runs if b["cohort"] == r["cohort"] and b["generator"] == baseline]
        if r["generator"] == baseline or not base or base[0]["overrides"]:
            continue
        by_seed = {x["seed"]: x for x in base[0]["per_seed"]}
        pairs = [(x, by_seed[x["seed"]]) for x in r["per_seed"] if x["seed"] in by_seed]
        if len(pairs) < 2:
            continue
        cells = []
        for key in PAIRED:
            if any(key not in a or key not in b for a, b in pairs):
                cells.append("")
                continue
            d = np.array([a[key] - b[key] for a, b in pairs], dtype=float)
            cells.append(f"{d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(len(d)):.3f}")
        rows.append([r["cohort"], run_label(r), str(len(pairs)), *cells])
    note = f"\n\nmean ± standard error over seeds of the per-seed difference from {baseline}"
    return _tables.markdown(headers, rows) + note


def run_key(run: dict[str, Any]) -> tuple[str, str, str]:
    """Runs with the same cohort, generator and overrides replace each other."""
    return run["cohort"], run["generator"], json.dumps(run["overrides"], sort_keys=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", default="gbsg2", choices=list(COHORTS))
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..S-1 (default 20)")
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar='"GENERATOR [NAME=VALUE ...]"',
        help="a generator and its overrides; repeatable",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "seeds.json")
    parser.add_argument(
        "--extend",
        action="store_true",
        help="keep the seeds a stored run with the same settings already holds; run the rest",
    )
    parser.add_argument("--table", action="store_true", help="only print the results table")
    args = parser.parse_args(argv)
    if args.table:
        runs = bc.load_runs(args.out, KIND)
        print(table(runs) + "\n\n" + paired(runs))
        return
    if not args.run:
        parser.error("give at least one --run")
    runs = run_all(args, KIND, one_seed, summarise=summary)
    print(table(runs) + "\n\n" + paired(runs))


def earlier_parts(stored: dict[str, Any], kept: set[int]) -> list[dict[str, Any]]:
    """Where the kept seeds of an extended run came from: the stored run's own earlier parts,
    then the seeds it ran itself, each part with its machine and time."""
    parts = list(stored.get("earlier", []))
    before = {s for part in parts for s in part["seeds"]}
    parts.append(
        {
            "seeds": sorted(x["seed"] for x in stored["per_seed"] if x["seed"] not in before),
            "machine": stored.get("machine"),
            "when": stored.get("when"),
        }
    )
    parts = [dict(part, seeds=[s for s in part["seeds"] if s in kept]) for part in parts]
    return [part for part in parts if part["seeds"]]


def run_all(
    args: argparse.Namespace,
    kind: str,
    one: Callable[..., dict[str, Any]],
    extra: dict[str, Any] | None = None,
    summarise: Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Each ``--run`` over seeds 0..``args.seeds``-1 on ``args.cohort``, merged into
    ``args.out`` after every run; the merged runs.

    ``one(cohort, generator, overrides, seed)`` gives one seed's figures; ``extra`` is stored
    with each run and ``summarise(per_seed)`` as its ``summary``. With ``args.extend``, the
    seeds a stored run with the same key already holds are kept, not run again (a seed's
    figures depend only on the seed and the code), and the run records which seeds came from
    that earlier run and its machine and time under ``earlier``."""
    runs = bc.load_runs(args.out, kind)
    cohort = load_cohort(args.cohort)
    info = bc.machine()
    for text in args.run:
        name, overrides = parse_run(text)
        key = run_key({"cohort": args.cohort, "generator": name, "overrides": bc.plain(overrides)})
        stored = [r for r in runs if run_key(r) == key] if getattr(args, "extend", False) else []
        kept = {x["seed"]: x for x in stored[0]["per_seed"]} if stored else {}
        kept = {s: x for s, x in kept.items() if s < args.seeds}
        print(
            f"{args.cohort} x {text}: {args.seeds} seeds ({len(kept)} kept) ...",
            file=sys.stderr,
            flush=True,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            per_seed = [
                kept[s] if s in kept else one(cohort, name, overrides, s) for s in range(args.seeds)
            ]
        run = {
            "cohort": args.cohort,
            "generator": name,
            "overrides": bc.plain(overrides),
            "seeds": args.seeds,
            **(extra or {}),
            "per_seed": per_seed,
        }
        if summarise is not None:
            run["summary"] = summarise(per_seed)
        if kept:
            run["earlier"] = earlier_parts(stored[0], set(kept))
        run.update(machine=info, when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        runs = [r for r in runs if run_key(r) != run_key(run)] + [run]
        bc.save_runs(args.out, runs, {"kind": kind})
        print(f"  done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return runs


if __name__ == "__main__":
    main()
