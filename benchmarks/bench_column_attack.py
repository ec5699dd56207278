"""Which columns carry a membership signal: the density-ratio attack on column subsets.

``bench_seeds.py`` measures the density-ratio attack (every training record a member) on all
learned columns at once. This script asks where the signal lives: for each seed, run and
column subset it repeats that attack with the attacker encoding only those columns, for

- each column on its own (``age``),
- every column but one (``-age``),
- all columns (``ALL``),

averaged over ``--halvings`` halvings of the holdout, and reports each subset's mean ±
standard error over seeds. A column whose values a generator reproduces exactly scores high
on its own (the ``independent`` reference, which resamples each column from the training
records, does on columns with many distinct values); a signal that only the joint structure
carries shows up on ``ALL`` and does not drop when any single column is left out.

    OMP_NUM_THREADS=2 python benchmarks/bench_column_attack.py --cohort gbsg2 --seeds 12 \\
        --run tvae --run diffusion --run independent
    python benchmarks/bench_column_attack.py --table

Results go to ``benchmarks/results/column_attack.json`` (a run replaces an earlier one with
the same cohort, generator and settings).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _tables  # noqa: E402
import bench_cohorts as bc  # noqa: E402
import bench_seeds as bs  # noqa: E402
from cohorts import COHORTS  # noqa: E402

KIND = "synthgen.benchmark.column_attack"
ALL = "ALL"


def subsets(columns: list[str]) -> dict[str, list[str]]:
    """Each column alone, every column but one, and all of them, by label."""
    out = {c: [c] for c in columns}
    out.update({f"-{c}": [d for d in columns if d != c] for c in columns})
    out[ALL] = list(columns)
    return out


def one_seed(cohort, name: str, overrides: dict[str, Any], seed: int, halvings: int):
    """The attack's AUC on every subset for one seed's split and synthetic cohort."""
    split = bc.split_cohort(cohort, seed=seed)
    synthetic, _ = bs.synthesise(cohort, split, name, overrides, seed)
    schema = cohort.schema
    return {
        label: bs.density_all(split, synthetic, schema, seed, columns=cols, halvings=halvings)
        for label, cols in subsets(schema.model_columns).items()
    }


def table(runs: list[dict[str, Any]]) -> str:
    """One row per column subset, one column per run (cohort by cohort)."""
    out = []
    for cohort in sorted({r["cohort"] for r in runs}):
        these = [r for r in runs if r["cohort"] == cohort]
        labels = list(these[0]["per_seed"][0])
        headers = ["columns"] + [f"{bs.run_label(r)} ({len(r['per_seed'])} seeds)" for r in these]
        rows = []
        for label in labels:
            cells = [label]
            for r in these:
                v = np.array([s[label] for s in r["per_seed"] if label in s], dtype=float)
                se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
                cells.append(f"{v.mean():.3f} ± {se:.3f}")
            rows.append(cells)
        out.append(f"**{cohort}**\n\n" + _tables.markdown(headers, rows))
    note = (
        "\n\nDensity-ratio attack AUC (every training record a member) with the attacker "
        "encoding only the named columns (-c: all but c), mean ± standard error over seeds"
    )
    return "\n\n".join(out) + note


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", default="gbsg2", choices=list(COHORTS))
    parser.add_argument("--seeds", type=int, default=12, help="seeds 0..S-1 (default 12)")
    parser.add_argument("--halvings", type=int, default=5, help="holdout halvings per seed")
    parser.add_argument("--run", action="append", default=[], metavar='"GENERATOR [K=V ...]"')
    parser.add_argument("--out", type=Path, default=HERE / "results" / "column_attack.json")
    parser.add_argument("--table", action="store_true", help="only print the results table")
    args = parser.parse_args(argv)
    if args.table:
        print(table(bc.load_runs(args.out, KIND)))
        return
    if not args.run:
        parser.error("give at least one --run")

    def one(cohort, name, overrides, seed):
        return one_seed(cohort, name, overrides, seed, args.halvings)

    print(table(bs.run_all(args, KIND, one, extra={"halvings": args.halvings})))


if __name__ == "__main__":
    main()
