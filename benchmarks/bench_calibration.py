"""Calibration of the privacy audit: leaky generators are caught, a perfect one is not.

    python benchmarks/bench_calibration.py --rows 4000

Real records: ``demo_cohort(rows, seed=1)`` split 50/50 (train | holdout). Synthetic sets:

- ``copy``: the training records themselves (a generator that memorises);
- ``copy+noise``: the training records with 5% of an IQR of Gaussian noise on every number;
- ``fresh``: a new draw ``demo_cohort(rows // 2, seed=99)`` from the same simulator, i.e. what
  a perfect generator would output;
- ``gaussian_copula``: a sample of SDV's Gaussian copula fitted on the training records.

For each, the headline figures of ``synthgen.evaluate`` with their intervals. Writes
``benchmarks/results/calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def headline(report) -> dict:
    p = report.privacy
    out = {}
    for name, attack in p["membership_attacks"].items():
        out[f"{name} AUC"] = (attack["auc"]["value"], attack["auc"]["ci"])
        tpr = attack["tpr_at_fpr"]["0.01"]
        out[f"{name} TPR@1%FPR"] = (tpr["value"], tpr["ci"])
    out["DCR share"] = (
        p["distance_to_closest_record"]["dcr_share"]["value"],
        p["distance_to_closest_record"]["dcr_share"]["ci"],
    )
    out["exact copies"] = (p["copies"]["exact_copies"]["value"], p["copies"]["exact_copies"]["ci"])
    d = p["disclosure"]
    out["singling out risk"] = (d["singling_out"]["risk"]["value"], d["singling_out"]["risk"]["ci"])
    if "linkability" in d:
        out["linkability risk"] = (
            d["linkability"]["risk"]["value"],
            d["linkability"]["risk"]["ci"],
        )
        # the secret whose risk is surely highest: largest lower bound, then value
        worst = max(
            d["inference"].items(),
            key=lambda kv: (kv[1]["risk"]["ci"][0], kv[1]["risk"]["value"]),
        )
        out[f"worst inference risk ({worst[0]})"] = (
            worst[1]["risk"]["value"],
            worst[1]["risk"]["ci"],
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "calibration.json")
    args = parser.parse_args()

    import synthgen as sg
    from synthgen.evaluation.evaluate import typed_synthetic

    real = sg.datasets.demo_cohort(args.rows, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    train, holdout = split.train, split.holdout
    rng = np.random.default_rng(args.seed)
    noisy = train.copy()
    for col in schema.model_columns:
        if schema[col].kind in ("numeric", "integer"):
            values = noisy[col].astype("float64")
            iqr = float(values.quantile(0.75) - values.quantile(0.25)) or 1.0
            jitter = values + rng.normal(0, 0.05 * iqr, len(values))
            noisy[col] = jitter.round() if schema[col].kind == "integer" else jitter
    noisy = schema.coerce(noisy)
    gen = sg.create_generator("gaussian_copula", seed=args.seed).fit(train, schema)
    cases = {
        "copy": train,
        "copy+noise": noisy,
        "fresh": schema.coerce(sg.datasets.demo_cohort(args.rows // 2, seed=99)),
        "gaussian_copula": typed_synthetic(gen.sample(len(train), seed=args.seed), schema),
    }
    results = {}
    for name, synthetic in cases.items():
        t0 = time.perf_counter()
        report = sg.evaluate(
            train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=args.seed
        )
        seconds = time.perf_counter() - t0
        results[name] = {
            "seconds": round(seconds, 1),
            **{k: v for k, v in headline(report).items()},
        }
        print(f"\n## {name} ({seconds:.1f} s)")
        for k, (value, ci) in headline(report).items():
            print(f"  {k:<40} {value:.3f}  [{ci[0]:.3f}, {ci[1]:.3f}]")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": args.rows, "results": results}, indent=2))


if __name__ == "__main__":
    main()
