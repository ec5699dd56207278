"""Every registered generator on the demo cohort and real clinical cohorts (issue 6).

For each cohort x generator, at the generator's default parameters: the CLI's seeded
train/holdout split (``Cohort.split``, 20% held out), fit (timed), sample as many rows as the
training split (timed), and ``synthgen.evaluate`` (no subgroup break-down, no shadow-model
attack). From the report: sdmetrics quality, detection (C2ST) AUC, TSTR against TRTR for each
target, the strongest membership attack's AUC and the highest TPR at 1% FPR, each next to its
holdout-vs-train ceiling where the report gives one.

    pip install -e ".[bench]"          # lifelines, for the real cohorts
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_cohorts.py
    python benchmarks/bench_cohorts.py --cohorts gbsg2 --generators tvae --param tvae.epochs=5
    python benchmarks/bench_cohorts.py --quick --generators gaussian_copula tvae --param epochs=2
    python benchmarks/bench_cohorts.py --table         # print the table of the results file

Generators come from ``synthgen.list_generators()`` (names starting ``test_`` are skipped), so
a newly registered one is included. Results are merged into ``benchmarks/results/cohorts.json``
(``--quick``: ``cohorts_quick.json``) after every run, atomically: a run replaces an earlier one
with the same cohort, generator, seed, overrides and settings, others are kept, and
``--resume`` skips runs already there. Timings are wall-clock seconds in this process, after
one untimed warm-up fit of each generator on 200 rows (one-off library start-up is not training).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # cohorts.py and _tables.py, also when imported from elsewhere

import _tables  # noqa: E402
from cohorts import COHORTS, DEFAULT_COHORTS, BenchCohort, load_cohort  # noqa: E402

HOLDOUT = 0.2  # the CLI's default holdout share
N_BOOT = 100  # bootstrap replicates for the attack and utility intervals
QUICK = {"demo_rows": 2_000, "n_boot": 20}
LOW_FPR = "0.01"
WARMUP_ROWS = 200
# the cheapest setting of the parameters that set training length, where a generator has them
WARMUP_PARAMS = {"epochs": 1, "iterations": 2}  # the report's key for TPR at 1% FPR
KIND = "synthgen.benchmark.cohorts"
FORMAT_VERSION = 1


# ------------------------------------------------------------------ generators, parameters
def registered_generators() -> list[str]:
    """Registered generator names, without the test doubles (``test_*``)."""
    import synthgen as sg

    return [name for name in sg.list_generators() if not name.startswith("test_")]


def parse_overrides(items: Iterable[str]) -> dict[str | None, dict[str, Any]]:
    """``NAME=VALUE`` (every generator that accepts NAME) or ``GENERATOR.NAME=VALUE``.

    VALUE is read as YAML: ``2``, ``0.5``, ``null``, ``true``, ``[64, 64]``.
    """
    out: dict[str | None, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param {item!r}: expected NAME=VALUE or GENERATOR.NAME=VALUE")
        scope, _, name = key.rpartition(".")
        value = yaml.safe_load(raw)
        out.setdefault(scope or None, {})[name] = tuple(value) if isinstance(value, list) else value
    return out


def check_overrides(overrides: dict[str | None, dict[str, Any]], generators: Sequence[str]) -> None:
    """Refuse an override no selected generator accepts (a typo would silently do nothing)."""
    from synthgen.models.registry import accepted_params, generator_class

    accepted = {g: accepted_params(generator_class(g)) for g in generators}
    for scope, params in overrides.items():
        if scope is not None and scope not in accepted:
            raise SystemExit(f"--param {scope}.*: '{scope}' is not among {', '.join(generators)}")
        for name in params:
            takers = [g for g in ([scope] if scope else generators) if name in accepted[g]]
            if not takers:
                raise SystemExit(f"--param {name}: no selected generator accepts it")


def applicable_overrides(name: str, overrides: dict[str | None, dict[str, Any]]) -> dict[str, Any]:
    """The command line's overrides for generator ``name``: unscoped ones it accepts, and its own
    (recorded with each run; empty means default parameters)."""
    from synthgen.models.registry import accepted_params, generator_class

    accepted = accepted_params(generator_class(name))
    out = {k: v for k, v in overrides.get(None, {}).items() if k in accepted}
    out.update(overrides.get(name, {}))
    return out


def generator_params(
    name: str, overrides: dict[str | None, dict[str, Any]], seed: int
) -> dict[str, Any]:
    """Default parameters, plus ``seed`` (where accepted) and the applicable overrides."""
    from synthgen.models.registry import accepted_params, generator_class

    params: dict[str, Any] = {}
    if "seed" in accepted_params(generator_class(name)):
        params["seed"] = seed
    return {**params, **applicable_overrides(name, overrides)}


# ------------------------------------------------------------------ figures from the report
def _get(d: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _fig(d: Any, *keys: str) -> dict[str, Any] | None:
    """``{value, ci, baseline}`` of a report figure, or None when the report lacks it."""
    f = _get(d, *keys)
    if not isinstance(f, dict) or "value" not in f:
        return None
    return {k: f[k] for k in ("value", "ci", "baseline", "baseline_ci") if k in f}


def figures(report: dict[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    """The comparison's figures, read from ``EvaluationReport.to_dict()``.

    Keys used (``fidelity.`` / ``privacy.``):
    quality ``quality_report.synthetic_vs_train.overall`` (ceiling
    ``baseline_holdout_vs_train.overall``); detection ``detection.auc``; TSTR
    ``utility.targets.<t>.models.boosting.auc`` (``r2`` for a numeric target; its ``baseline``
    is TRTR); membership ``membership_attacks.<attack>.auc`` and
    ``membership_attacks.<attack>.tpr_at_fpr."0.01"`` (with its ``reliable`` flag), each the
    maximum over the attacks run.
    """
    fid, priv = report["fidelity"], report["privacy"]
    q = fid["quality_report"]
    out: dict[str, Any] = {
        "quality": {
            "value": _get(q, "synthetic_vs_train", "overall"),
            "baseline": _get(q, "baseline_holdout_vs_train", "overall"),
            "column_shapes": _get(q, "synthetic_vs_train", "column_shapes"),
            "column_pair_trends": _get(q, "synthetic_vs_train", "column_pair_trends"),
        },
        "detection_auc": _fig(fid, "detection", "auc"),
        "tstr": {},
        "alpha_precision": _fig(fid, "precision_recall", "alpha_precision"),
        "beta_recall": _fig(fid, "precision_recall", "beta_recall"),
        "km_integrated_difference": _fig(fid, "survival", "overall", "integrated_abs_difference"),
        "cox_c_index": _fig(fid, "survival", "cox", "c_index"),
        "invalid_share": _fig(fid, "validity", "invalid_share"),
    }
    for target in targets:
        tu = _get(fid, "utility", "targets", target) or {}
        metric = "r2" if tu.get("task") == "regression" else "auc"
        m = _get(tu, "models", "boosting", metric) or {}
        out["tstr"][target] = {
            "metric": metric,
            "model": "boosting",
            "value": m.get("value"),
            "ci": m.get("ci"),
            "baseline": m.get("baseline"),
            "difference": _get(m, "difference", "value"),
            "reason": tu.get("reason") or m.get("reason"),
        }
    attacks = {}
    for name, a in (priv.get("membership_attacks") or {}).items():
        attacks[name] = {
            "auc": _fig(a, "auc"),
            "tpr_at_1pct_fpr": _fig(a, "tpr_at_fpr", LOW_FPR),
            "n_members": a.get("n_members"),
            "n_nonmembers": a.get("n_nonmembers"),
        }
        if attacks[name]["tpr_at_1pct_fpr"]:  # False with fewer than 100 non-members
            attacks[name]["tpr_at_1pct_fpr"]["reliable"] = _get(
                a, "tpr_at_fpr", LOW_FPR, "reliable"
            )

    def strongest(key: str) -> dict[str, Any] | None:
        scored = [(n, a[key]) for n, a in attacks.items() if a[key] and a[key]["value"] is not None]
        if not scored:
            return None
        name, fig = max(scored, key=lambda item: item[1]["value"])
        return {**fig, "attack": name}

    out["membership"] = {
        "attacks": attacks,
        "max_auc": strongest("auc"),
        "max_tpr_at_1pct_fpr": strongest("tpr_at_1pct_fpr"),
    }
    return out


# ------------------------------------------------------------------ one run
def machine() -> dict[str, Any]:
    """The machine, software and commit a result came from (``sdv`` None where SDV is not
    installed, as on the GPU machine of ``bench_device.py``; ``gpu`` None without one)."""
    import torch

    import synthgen as sg

    try:
        import sdv
    except ImportError:
        sdv = None

    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "sdv": None if sdv is None else sdv.__version__,
        "synthgen": sg.__version__,
        "commit": commit,
    }


def split_cohort(cohort: BenchCohort, *, seed: int, holdout: float = HOLDOUT):
    """The split ``synthgen train`` makes: ``Cohort(typed).split(holdout, seed=seed)``."""
    import synthgen as sg

    return sg.Cohort(cohort.data).split(holdout, seed=seed)


def plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def evaluate_figures(cohort: BenchCohort, split, synthetic, *, seed: int, n_boot: int) -> dict:
    """``synthgen.evaluate`` (no subgroups) of one synthetic cohort, reduced to :func:`figures`."""
    import synthgen as sg

    report = sg.evaluate(
        train=split.train,
        holdout=split.holdout,
        synthetic=synthetic,
        schema=cohort.schema,
        seed=seed,
        n_boot=n_boot,
        targets=list(cohort.targets),
        by_subgroup=False,
    )
    return figures(report.to_dict(), cohort.targets)


def run_one(
    cohort: BenchCohort, split, generator: str, params: dict[str, Any], *, seed: int, n_boot: int
) -> dict[str, Any]:
    """Fit, sample ``len(train)`` rows, evaluate; figures and timings (or the error)."""
    import synthgen as sg

    out: dict[str, Any] = {"params": None, "fit_s": None, "sample_s": None, "eval_s": None}
    try:
        gen = sg.create_generator(generator, **params)
        out["params"] = plain(gen.get_params())
        start = time.perf_counter()
        gen.fit(split.train, cohort.schema)
        out["fit_s"] = round(time.perf_counter() - start, 2)
        out["privacy_budget"] = plain(getattr(gen, "privacy_budget_", None))
        start = time.perf_counter()
        synthetic = gen.sample(len(split.train), seed=seed)
        out["sample_s"] = round(time.perf_counter() - start, 2)
        del gen
        start = time.perf_counter()
        out["figures"] = evaluate_figures(cohort, split, synthetic, seed=seed, n_boot=n_boot)
        out["eval_s"] = round(time.perf_counter() - start, 2)
        out["error"] = None
    except Exception as exc:  # one failing generator must not end a run of hours
        traceback.print_exc(file=sys.stderr)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        out["error"] = f"{type(exc).__name__}: {message}"[:300]
    return out


def warm_up(generator: str, params: dict[str, Any], cohort: BenchCohort, split) -> bool:
    """Fit and sample once on a few rows before the timed run, so that one-off start-up costs
    (lazy imports, first calls into SDV's and torch's machinery: several seconds for the first SDV
    model in a process) are not counted as training time of whichever generator runs first.
    Best effort: returns False when the warm-up fit fails (the timed run is still made)."""
    import synthgen as sg
    from synthgen.models.registry import accepted_params, generator_class

    accepted = accepted_params(generator_class(generator))
    cheap = {k: v for k, v in WARMUP_PARAMS.items() if k in accepted}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gen = sg.create_generator(generator, **{**params, **cheap})
            gen.fit(split.train.head(WARMUP_ROWS), cohort.schema).sample(10, seed=0)
    except Exception as exc:
        print(
            f"warm-up of {generator} failed ({type(exc).__name__}); its first fit may include "
            "start-up time",
            file=sys.stderr,
        )
        return False
    return True


# ------------------------------------------------------------------ the results file
def run_key(run: dict[str, Any]) -> str:
    """Runs with the same key replace each other in the results file."""
    fields = ("cohort", "generator", "epsilon_label", "seed", "overrides", "n_rows", "n_boot")
    fields += ("holdout",)
    return json.dumps([run.get(f) for f in fields], sort_keys=True, default=str)


def load_runs(path: Path, kind: str = KIND) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("kind") != kind:
        raise SystemExit(f"{path} is not a {kind} results file")
    return list(doc.get("runs", []))


def save_runs(path: Path, runs: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """Write atomically (temporary sibling, then rename); ``meta`` holds ``kind``."""
    from synthgen.data.atomic import write_text_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**meta, "format_version": FORMAT_VERSION, "runs": runs}
    write_text_atomic(path, json.dumps(doc, indent=2, default=str) + "\n", mode=0o644)


def merge(runs: list[dict[str, Any]], run: dict[str, Any]) -> list[dict[str, Any]]:
    key = run_key(run)
    return [r for r in runs if run_key(r) != key] + [run]


def execute(
    jobs: list[dict[str, Any]],
    *,
    out: Path,
    meta: dict[str, Any],
    seed: int,
    n_boot: int,
    holdout: float,
    demo_rows: int | None,
    resume: bool,
) -> list[dict[str, Any]]:
    """Run ``jobs`` (``cohort``, ``generator``, ``params``, ``overrides``, extra fields),
    cohort by cohort, saving the merged results after each one. Returns all runs in the file."""
    runs = load_runs(out, meta["kind"])
    done = {run_key(r) for r in runs if not r.get("error")}
    info = machine()
    cohorts: dict[str, tuple[BenchCohort, Any]] = {}
    warmed: dict[tuple[str, bool], bool] = {}  # (generator, private) -> warm-up succeeded
    for i, job in enumerate(jobs, start=1):
        name = job["cohort"]
        if name not in cohorts:
            cohorts.clear()  # one cohort in memory at a time
            cohort = load_cohort(name, demo_rows=demo_rows)
            cohorts[name] = (cohort, split_cohort(cohort, seed=seed, holdout=holdout))
        cohort, split = cohorts[name]
        base = {
            "cohort": name,
            "generator": job["generator"],
            **{k: v for k, v in job.items() if k not in ("cohort", "generator", "params")},
            "seed": seed,
            "n_rows": len(cohort.data),
            "n_train": len(split.train),
            "n_holdout": len(split.holdout),
            "holdout": holdout,
            "n_boot": n_boot,
            "targets": list(cohort.targets),
        }
        label = f"[{i}/{len(jobs)}] {name} x {job['generator']}"
        if job.get("epsilon_label"):
            label += f" epsilon={job['epsilon_label']}"
        if resume and run_key(base) in done:
            print(f"{label}: in {out.name} already, skipped", file=sys.stderr, flush=True)
            continue
        print(f"{label} ...", file=sys.stderr, flush=True)
        warm_key = (job["generator"], "epsilon" in job["params"])
        if warm_key not in warmed:
            warmed[warm_key] = warm_up(job["generator"], job["params"], cohort, split)
        base["warmed_up"] = warmed[warm_key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run_one(
                cohort, split, job["generator"], job["params"], seed=seed, n_boot=n_boot
            )
        run = {**base, **result, "machine": info}
        run["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        runs = merge(runs, run)
        save_runs(out, runs, meta)
        status = run["error"] or (
            f"fit {run['fit_s']} s, sample {run['sample_s']} s, evaluate {run['eval_s']} s"
        )
        print(f"{label}: {status}", file=sys.stderr, flush=True)
    return runs


def execute_from_arguments(
    jobs: list[dict[str, Any]], args: argparse.Namespace, kind: str
) -> list[dict[str, Any]]:
    """:func:`execute` with the settings of the shared command line (``common_arguments``)."""
    meta = {
        "kind": kind,
        "quick": args.quick,
        "note": "quick smoke run, not results" if args.quick else None,
    }
    return execute(
        jobs,
        out=args.out,
        meta=meta,
        seed=args.seed,
        n_boot=args.n_boot,
        holdout=args.holdout,
        demo_rows=args.demo_rows,
        resume=args.resume,
    )


# ------------------------------------------------------------------ the table
def table(runs: list[dict[str, Any]]) -> str:
    order = {name: i for i, name in enumerate(COHORTS)}
    rows = []
    key = lambda r: (order.get(r["cohort"], 99), r["cohort"], r["generator"], r["seed"])  # noqa: E731
    for r in sorted(runs, key=key):
        labels = [f"{k}={v}" for k, v in (r.get("overrides") or {}).items()]
        labels += [f"seed {r['seed']}"] if r["seed"] else []
        overrides = ", ".join(labels)
        rows.append(
            [
                r["cohort"],
                f"{r['n_train']:,} / {r['n_holdout']:,}",
                r["generator"] + (f" ({overrides})" if overrides else ""),
                *_tables.figure_cells(r),
            ]
        )
    return _tables.markdown(
        ["cohort", "train / holdout", "generator", *_tables.FIGURE_HEADERS], rows
    )


# ------------------------------------------------------------------ command line
def common_arguments(
    parser: argparse.ArgumentParser, *, default_cohorts: Sequence[str], default_out: Path
) -> None:
    """Arguments shared with ``bench_dp.py``."""
    parser.add_argument(
        "--cohorts",
        nargs="+",
        default=list(default_cohorts),
        choices=list(COHORTS),
        help=f"default: {' '.join(default_cohorts)}",
    )
    parser.add_argument(
        "--generators",
        nargs="+",
        help="registered names (default: every registered one; bench_dp.py: every DP one)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="[GENERATOR.]NAME=VALUE",
        help="override a parameter, e.g. epochs=2 (every generator accepting it) or "
        "tvae.epochs=5; VALUE is YAML. Repeatable.",
    )
    parser.add_argument("--seed", type=int, default=0, help="split, training, sampling, scoring")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK['demo_rows']:,} demo rows, {QUICK['n_boot']} bootstrap "
        "replicates, results to *_quick.json (generator parameters stay as given)",
    )
    parser.add_argument("--demo-rows", type=int, help="rows of the demo cohort (default 10,000)")
    parser.add_argument("--n-boot", type=int, help=f"bootstrap replicates (default {N_BOOT})")
    parser.add_argument("--holdout", type=float, default=HOLDOUT, help="held-out share")
    parser.add_argument("--resume", action="store_true", help="skip runs already in the file")
    parser.add_argument("--table", action="store_true", help="only print the results file's table")
    parser.add_argument("--out", type=Path, help=f"results file (default {default_out})")


def resolve(args: argparse.Namespace, default_out: Path) -> None:
    """Fill in the defaults that depend on ``--quick``."""
    if args.out is None:
        args.out = (
            default_out.with_name(default_out.stem + "_quick.json") if args.quick else default_out
        )
    if args.n_boot is None:
        args.n_boot = QUICK["n_boot"] if args.quick else N_BOOT
    if args.demo_rows is None and args.quick:
        args.demo_rows = QUICK["demo_rows"]


def select_generators(
    names: Sequence[str] | None, keep: Callable[[str], bool] = lambda name: True
) -> list[str]:
    known = registered_generators()
    if names is None:
        return [g for g in known if keep(g)]
    unknown = [g for g in names if g not in known]
    if unknown:
        raise SystemExit(
            f"unknown generator(s) {', '.join(unknown)}; registered: {', '.join(known)}"
        )
    return list(names)


def main(argv: Sequence[str] | None = None) -> None:
    default_out = HERE / "results" / "cohorts.json"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_arguments(parser, default_cohorts=DEFAULT_COHORTS, default_out=default_out)
    args = parser.parse_args(argv)
    resolve(args, default_out)
    if args.table:
        print(table(load_runs(args.out)) + "\n\n" + _tables.NOTES)
        return
    generators = select_generators(args.generators)
    overrides = parse_overrides(args.param)
    check_overrides(overrides, generators)
    jobs = [
        {
            "cohort": c,
            "generator": g,
            "params": generator_params(g, overrides, args.seed),
            "overrides": plain(applicable_overrides(g, overrides)),
        }
        for c in args.cohorts
        for g in generators
    ]
    runs = execute_from_arguments(jobs, args, KIND)
    print(table(runs) + "\n\n" + _tables.NOTES)
    print(f"\n{len(runs)} runs in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
