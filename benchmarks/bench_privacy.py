"""Speed of the distance-based privacy measures at 100k x 100k, and sdmetrics' DCR beside ours.

    python benchmarks/bench_privacy.py --rows 100000 --sdmetrics-rows 5000

Real records: ``demo_cohort(2 * rows, seed=1)`` split in half (train | holdout). Synthetic
records: a fresh draw ``demo_cohort(rows, seed=2)`` from the same simulator, i.e. what a perfect
generator would output, so the measures should sit at their baselines. Writes
``benchmarks/results/privacy.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sdmetrics-rows", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "privacy.json")
    args = parser.parse_args()

    import synthgen as sg
    from synthgen.evaluation.encoding import MixedEncoder
    from synthgen.evaluation.privacy import (
        count_copies,
        distance_attack,
        distance_to_closest_record,
    )

    n = args.rows
    real = sg.datasets.demo_cohort(2 * n, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    train, holdout = split.train, split.holdout
    synthetic = schema.coerce(sg.datasets.demo_cohort(n, seed=2))
    width = MixedEncoder().fit(train, schema).n_features_

    timings, pairs = {}, {}
    t0 = time.perf_counter()
    copies = count_copies(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    timings["copies (exact + near)"] = time.perf_counter() - t0
    pairs["copies (exact + near)"] = (len(synthetic) + len(holdout)) * len(train)
    t0 = time.perf_counter()
    dcr = distance_to_closest_record(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0
    )
    timings["distance to closest record"] = time.perf_counter() - t0
    pairs["distance to closest record"] = len(synthetic) * (2 * len(train)) + len(holdout) * len(
        train
    )
    t0 = time.perf_counter()
    attack = distance_attack(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, seed=0
    )
    timings["distance attack"] = time.perf_counter() - t0
    pairs["distance attack"] = (len(holdout) * 2) * len(synthetic)
    total_s = sum(timings.values())
    total_pairs = sum(pairs.values())

    ours = {
        "rows": n,
        "encoded_width": width,
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "total_seconds": round(total_s, 2),
        "pair_distances": total_pairs,
        "pairs_per_second": round(total_pairs / total_s),
        "dcr_share": dcr.to_dict()["dcr_share"],
        "distance_attack_auc": attack.to_dict()["auc"],
        "exact_copies": copies.to_dict()["exact_copies"],
    }
    print(json.dumps(ours, indent=2))

    # sdmetrics' DCROverfittingProtection on a subsample (it is far slower), beside ours
    m = args.sdmetrics_rows
    sub = {
        "train": train.sample(m, random_state=0).reset_index(drop=True),
        "holdout": holdout.sample(m, random_state=0).reset_index(drop=True),
        "synthetic": synthetic.sample(m, random_state=0).reset_index(drop=True),
    }
    from sdmetrics.single_table import DCROverfittingProtection

    from synthgen.evaluation.quality import sdmetrics_metadata
    from synthgen.models.base import to_model_frame

    cols = schema.model_columns
    meta = sdmetrics_metadata(schema, cols)
    t0 = time.perf_counter()
    sd = DCROverfittingProtection.compute_breakdown(
        to_model_frame(sub["train"][cols]),
        to_model_frame(sub["synthetic"][cols]),
        to_model_frame(sub["holdout"][cols]),
        {"columns": meta["columns"]},
        None,
    )
    sd_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours_sub = distance_to_closest_record(
        train=sub["train"],
        holdout=sub["holdout"],
        synthetic=sub["synthetic"],
        schema=schema,
        seed=0,
    ).to_dict()["dcr_share"]
    ours_sub_s = time.perf_counter() - t0
    sd_pairs = 2 * m * m
    comparison = {
        "rows": m,
        "sdmetrics_seconds": round(sd_s, 2),
        "sdmetrics_pairs_per_second": round(sd_pairs / sd_s),
        "sdmetrics_share_closer_to_training": sd["synthetic_data_percentages"][
            "closer_to_training"
        ],
        "synthgen_seconds": round(ours_sub_s, 2),
        "synthgen_dcr_share": ours_sub,
        "speedup_in_pairs_per_second": round(ours["pairs_per_second"] / (sd_pairs / sd_s), 1),
    }
    print(json.dumps(comparison, indent=2))
    doc = {"machine": {"cpus": os.cpu_count()}, "synthgen": ours, "vs_sdmetrics": comparison}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
