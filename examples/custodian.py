"""A data custodian's walk inside the secure environment, from Python.

Run:  python examples/custodian.py [WORKDIR]

It simulates a cohort (stand-in for the real extract), infers and saves the schema for review,
holds out 20% of the records, trains a Gaussian copula, writes a signed model directory, and
samples a synthetic cohort, over-sampling women aged 80 and over.
"""

from __future__ import annotations

import sys
from pathlib import Path

import synthgen as sg


def main(workdir: Path, rows: int = 3000) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    cohort_file = workdir / "cohort.parquet"
    sg.write_table(sg.datasets.demo_cohort(rows, seed=42), cohort_file)

    # 1. Profile and review the schema (edit schema.yaml by hand if a guess is wrong).
    inspected = sg.inspect_data(cohort_file)
    inspected.schema.save(workdir / "schema.yaml")
    for spec in inspected.schema.identifiers:
        print(f"direct identifier {spec.name!r}: {spec.pii} (handling: {spec.handling})")

    # 2. Train with a recorded, seeded holdout; the model directory never leaves.
    trained = sg.train_model(
        cohort_file,
        output=workdir / "model",
        schema=workdir / "schema.yaml",
        model="gaussian_copula",
        holdout=0.2,
        seed=7,
        overwrite=True,
    )
    print(f"trained on {trained.n_train} records, {trained.n_holdout} held out")

    # 3. Sample: the same seed gives the same rows.
    sg.sample_to_file(trained.model_dir, rows, output=workdir / "synthetic.csv", seed=1)
    gen = sg.load_generator(trained.model_dir)
    old_women = gen.sample(200, seed=2, conditions=["sex=F", "age>=80"])
    print(
        f"over-sampled {len(old_women)} synthetic women aged 80+;"
        f" mean age {old_women['age'].mean():.1f}"
    )

    # 4. The evaluation later re-uses exactly the recorded split.
    split = sg.recorded_split(trained.model_dir)
    print(f"recorded split: {len(split.train)} train / {len(split.holdout)} holdout")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("custodian-example"))
