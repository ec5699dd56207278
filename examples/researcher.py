"""A researcher's first steps with a synthetic cohort received from a custodian.

Run:  python examples/researcher.py SYNTHETIC.csv [SCHEMA.yaml]

(Without arguments it makes a small synthetic cohort first, so the script runs on its own.)
It loads the synthetic cohort with its schema, checks the dtypes, and prototypes an analysis:
a crude mortality rate by age band and a logistic model of death, to be re-run on the real
cohort inside the secure environment by the custodian.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import synthgen as sg


def _make_example(folder: Path) -> tuple[Path, Path]:
    real = sg.datasets.demo_cohort(2000, seed=3)
    schema = sg.infer_schema(real)
    gen = sg.create_generator("gaussian_copula", default_distribution="norm").fit(real, schema)
    path = sg.write_table(gen.sample(2000, seed=1), folder / "synthetic.csv")
    return path, schema.save(folder / "schema.yaml")


def main(synthetic: Path, schema_path: Path) -> None:
    schema = sg.Schema.load(schema_path)
    raw = sg.read_table(synthetic)
    kept = [c for c in schema.names if c in raw.columns]
    syn = sg.Schema(tuple(schema[c] for c in kept)).coerce(raw[kept])
    print(f"{len(syn)} synthetic records, {syn.shape[1]} columns")

    band = pd.cut(syn["age"], [17, 40, 60, 80, 120], labels=["18-40", "41-60", "61-80", "80+"])
    print(syn.groupby(band, observed=True)["died"].mean().rename("crude mortality").round(3))

    features = ["age", "diabetes", "ckd", "statin"]
    x = syn[features].astype(float).to_numpy()
    y = syn["died"].astype(int).to_numpy()
    model = LogisticRegression(max_iter=1000).fit(x, y)
    odds = {f: round(float(v), 2) for f, v in zip(features, np.exp(model.coef_[0]), strict=True)}
    print(f"odds ratios of death (prototype, synthetic data): {odds}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else Path("schema.yaml"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(*_make_example(Path(tmp)))
