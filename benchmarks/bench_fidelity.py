"""Speed and calibration of the fidelity and utility measures.

    python benchmarks/bench_fidelity.py                  # both parts
    python benchmarks/bench_fidelity.py --skip-speed     # calibration only

Speed: ``demo_cohort(2 * rows, seed=1)`` split 50/50 (``rows`` training and ``rows`` holdout
records, 28 learned columns), a Gaussian-copula sample of ``rows`` records, and the whole
fidelity section of ``synthgen.evaluate`` (QualityReport twice, marginals, detection,
α-precision / β-recall / authenticity, utility for one target, survival, validity, every
headline by subgroup), timed part by part with the default subsampling.

Calibration (``--calibration-rows`` real records split 50/50): the headline figures for
three synthetic sets: half of the holdout (a perfect generator: it must score at the ceiling),
the same half with every column shuffled independently (right shapes, no relations: pairs,
detection and utility must collapse), and a Gaussian-copula sample.

Writes ``benchmarks/results/fidelity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TARGET = "hypertension"


def _cohort(n: int):
    import synthgen as sg

    real = sg.datasets.demo_cohort(n, seed=1)
    schema = sg.infer_schema(real).update(TARGET, roles=("sensitive", "target"))
    schema = schema.with_rules("diastolic_bp < systolic_bp", "ldl < total_cholesterol")
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    return split.train, split.holdout, schema


def _copula(train, schema, n: int, seed: int):
    import synthgen as sg

    return sg.create_generator("gaussian_copula").fit(train, schema).sample(n, seed=seed)


def _score(train, holdout, synthetic, schema, timings=None) -> dict:
    from synthgen.evaluation.evaluate import typed_synthetic
    from synthgen.evaluation.fidelity.score import score_fidelity
    from synthgen.evaluation.fidelity.validity import validity

    start = time.perf_counter()
    valid = validity(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    synthetic = typed_synthetic(synthetic, schema)
    if timings is not None:
        timings["validity_and_typing"] = round(time.perf_counter() - start, 2)
    return score_fidelity(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        validity_result=valid,
        seed=0,
        timings=timings,
    )


def headline(fid: dict) -> dict:
    """Value and baseline of the headline figures."""

    def pair(fig):
        return [fig["value"], fig["baseline"]]

    q = fid["quality_report"]
    util = fid["utility"]["targets"][TARGET]["models"]["boosting"]["auc"]
    m = fid["marginals"]["summary"]
    return {
        "quality (sdmetrics)": [
            round(q["synthetic_vs_train"]["overall"], 4),
            round(q["baseline_holdout_vs_train"]["overall"], 4),
        ],
        "column shape score": pair(m["shape_score"]),
        "mean |d corr|": pair(m["mean_abs_corr_diff"]),
        "mean |d Cramer's V|": pair(m["mean_abs_cramers_v_diff"]),
        "detection AUC": pair(fid["detection"]["auc"]),
        "alpha-precision": pair(fid["precision_recall"]["alpha_precision"]),
        "beta-recall": pair(fid["precision_recall"]["beta_recall"]),
        "authenticity": pair(fid["precision_recall"]["authenticity"]),
        f"TSTR {TARGET} AUC (boosting)": pair(util),
        "KM integrated difference": pair(fid["survival"]["overall"]["integrated_abs_difference"]),
        "Cox C-index": pair(fid["survival"]["cox"]["c_index"]),
        "invalid rows (share)": pair(fid["validity"]["invalid_share"]),
    }


def speed(rows: int) -> dict:
    train, holdout, schema = _cohort(2 * rows)
    synthetic = _copula(train, schema, rows, seed=1)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    _score(train, holdout, synthetic, schema, timings)
    total = time.perf_counter() - start
    print(f"fidelity section, {rows:,} x {rows:,} x {rows:,}: {total:.1f} s  {timings}", flush=True)
    return {"rows": rows, "seconds": round(total, 1), "parts": timings}


def calibration(rows: int) -> dict:
    train, holdout, schema = _cohort(rows)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(holdout))
    reference = holdout.iloc[order[: len(order) // 2]].reset_index(drop=True)
    perfect = holdout.iloc[order[len(order) // 2 :]].reset_index(drop=True)
    shuffled = perfect.copy()
    for col in shuffled.columns:
        shuffled[col] = shuffled[col].to_numpy()[rng.permutation(len(shuffled))]
    cases = {
        "holdout half (perfect)": perfect,
        "columns shuffled": shuffled,
        "gaussian_copula": _copula(train, schema, len(perfect), seed=1),
    }
    out = {}
    for name, synthetic in cases.items():
        fid = _score(train, reference, synthetic, schema)
        out[name] = headline(fid)
        print(name, json.dumps(out[name]), flush=True)
    return {"rows": rows, "reference": "the other half of the holdout", "cases": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calibration-rows", type=int, default=8_000)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fidelity.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    doc = json.loads(args.out.read_text()) if args.out.exists() else {}
    doc["cores"] = os.cpu_count()
    if not args.skip_speed:
        doc["speed"] = speed(args.rows)
    doc["calibration"] = calibration(args.calibration_rows)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
