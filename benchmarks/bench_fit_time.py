"""Fit time of generators on the benchmark cohorts, repeated and interleaved (issue 6).

``bench_cohorts.py`` times one fit per generator and cohort. On a shared 2-core machine one fit
can take a third longer than the next (TVAE's actg175 fit took 8.9 s and 14.8 s in two runs on
the same day), so a single pair of runs cannot say which of two generators with similar times
trains faster. This script fits each generator ``--repeats`` times on each cohort's seed-0
training split, the generators taking turns (A, B, A, B, ...) so that a slow spell of the
machine falls on both, after one untimed warm-up fit each (``bench_cohorts.warm_up``). It
reports every time, the median, and the median of the per-round ratios to the first generator.

    OMP_NUM_THREADS=2 python benchmarks/bench_fit_time.py --generators diffusion tvae
    python benchmarks/bench_fit_time.py --table

Results go to ``benchmarks/results/fit_time.json`` (a run replaces an earlier one with the
same cohort, generators and overrides).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_cohorts as bc  # noqa: E402
from cohorts import COHORTS, DEFAULT_COHORTS, load_cohort  # noqa: E402

KIND = "synthgen.benchmark.fit_time"


def time_cohort(
    name: str, generators: list[str], overrides: dict, repeats: int, seed: int
) -> dict[str, Any]:
    """Interleaved timed fits of ``generators`` on one cohort's training split."""
    import synthgen as sg

    cohort = load_cohort(name)
    split = bc.split_cohort(cohort, seed=seed)
    params = {g: bc.generator_params(g, overrides, seed) for g in generators}
    for g in generators:
        bc.warm_up(g, params[g], cohort, split)
    times: dict[str, list[float]] = {g: [] for g in generators}
    for round_ in range(repeats):
        for g in generators:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gen = sg.create_generator(g, **params[g])
                start = time.perf_counter()
                gen.fit(split.train, cohort.schema)
                times[g].append(round(time.perf_counter() - start, 3))
            print(f"{name} round {round_ + 1}/{repeats}: {g} {times[g][-1]:.2f} s", flush=True)
    first = generators[0]
    return {
        "cohort": name,
        "n_train": len(split.train),
        "generators": generators,
        "overrides": {str(k): v for k, v in overrides.items()},
        "seed": seed,
        "repeats": repeats,
        "times_s": times,
        "median_s": {g: statistics.median(t) for g, t in times.items()},
        "median_ratio_to_first": {
            g: statistics.median(a / b for a, b in zip(t, times[first], strict=True))
            for g, t in times.items()
        },
        "machine": bc.machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| cohort | train records | generator | fits | median fit s | min - max s "
        "| median ratio to first |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for g in run["generators"]:
            t = run["times_s"][g]
            lines.append(
                f"| {run['cohort']} | {run['n_train']:,} | {g} | {len(t)} "
                f"| {run['median_s'][g]:.2f} | {min(t):.2f} - {max(t):.2f} "
                f"| {run['median_ratio_to_first'][g]:.2f} |"
            )
    return "\n".join(lines)


def run_key(run: dict[str, Any]) -> str:
    return repr((run["cohort"], run["generators"], sorted(run["overrides"].items())))


def main(argv: list[str] | None = None) -> None:
    default_out = HERE / "results" / "fit_time.json"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cohorts", nargs="+", default=list(DEFAULT_COHORTS), choices=list(COHORTS)
    )
    parser.add_argument("--generators", nargs="+", default=["diffusion", "tvae"])
    parser.add_argument("--param", action="append", default=[], metavar="[GENERATOR.]NAME=VALUE")
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per generator")
    parser.add_argument("--seed", type=int, default=0, help="split and generator seed")
    parser.add_argument("--table", action="store_true", help="only print the results table")
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    runs = bc.load_runs(args.out, KIND)
    if not args.table:
        if args.repeats < 1:
            raise SystemExit("--repeats must be at least 1")
        overrides = bc.parse_overrides(args.param)
        bc.check_overrides(overrides, args.generators)
        for name in args.cohorts:
            run = time_cohort(name, args.generators, overrides, args.repeats, args.seed)
            runs = [r for r in runs if run_key(r) != run_key(run)] + [run]
            bc.save_runs(args.out, runs, {"kind": KIND})
    print(table(runs))


if __name__ == "__main__":
    main()
