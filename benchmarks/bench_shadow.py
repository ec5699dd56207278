"""Calibration and cost of the shadow-model membership attack.

    python benchmarks/bench_shadow.py                    # everything
    python benchmarks/bench_shadow.py --only fresh copy  # some cases

Real records: ``demo_cohort(rows, seed=1)`` split 50/50 (train | holdout). Cases:

- ``copy``: a generator that returns its training rows (must be caught: AUC >= 0.9);
- ``copy+noise``: the same with Gaussian noise of 5% of a standard deviation on every
  floating-point column (must be caught);
- ``fresh``: a generator that ignores its training rows and samples an independent draw of
  the demo simulator, i.e. a perfect generator (AUC must be 0.5 +/- 0.05). Many targets are
  attacked (``--calibration-targets`` vulnerable + as many controls per side) so that the
  AUC's own sampling error (about 0.03 at 150 against 150) is below that tolerance;
- ``gaussian_copula``: SDV's Gaussian copula with the CLI's default attack settings
  (10 vulnerable targets + 5 controls per side, 8 shadow models each: 240 fits), timed.

Writes ``benchmarks/results/shadow.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _generators():
    """Register the benchmark's stand-in generators (copying, noisy, perfect)."""
    import synthgen as sg
    from synthgen.models.base import Generator
    from synthgen.models.registry import list_generators, register_generator

    class Copy(Generator):
        name = "bench_copy"
        summary = "benchmark only: returns its training rows"

        def __init__(self, *, seed: int = 0):
            self.seed = seed

        def _fit(self, data: pd.DataFrame, progress: Any) -> None:
            self.rows_ = data.reset_index(drop=True)

        def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
            rng = np.random.default_rng(seed)
            reps = -(-n // len(self.rows_))
            order = np.concatenate([rng.permutation(len(self.rows_)) for _ in range(reps)])
            return self.rows_.iloc[order[:n]].reset_index(drop=True)

        def _save_state(self, directory: Path) -> dict[str, Any]:
            raise RuntimeError("benchmark generator: not saved")

        def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
            raise RuntimeError("benchmark generator: not saved")

    class NoisyCopy(Copy):
        name = "bench_noisy_copy"
        summary = "benchmark only: returns its training rows with noise"

        def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
            out = super()._sample_model(n, seed)
            rng = np.random.default_rng([seed, 1])
            for col in out.columns:
                if pd.api.types.is_float_dtype(out[col]):
                    values = out[col].to_numpy(dtype=float, na_value=np.nan)
                    out[col] = values + rng.normal(0, 0.05 * np.nanstd(values), len(values))
            return out

    class Fresh(Copy):
        name = "bench_fresh"
        summary = "benchmark only: fresh rows from the true distribution"
        pool: pd.DataFrame | None = None

        def _fit(self, data: pd.DataFrame, progress: Any) -> None:
            self.columns_ = list(data.columns)
            if Fresh.pool is None:  # one independent draw per process, never the real rows
                draw = sg.datasets.demo_cohort(20_000, seed=99)
                Fresh.pool = sg.infer_schema(draw).coerce(draw)

        def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
            rows = np.random.default_rng(seed).integers(0, len(Fresh.pool), size=n)
            return Fresh.pool[self.columns_].iloc[rows].reset_index(drop=True)

    for cls in (Copy, NoisyCopy, Fresh):
        if cls.name not in list_generators():
            register_generator(cls.name, cls)
    return {"copy": Copy.name, "copy+noise": NoisyCopy.name, "fresh": Fresh.name}


def run_case(name, generator, params, train, holdout, schema, settings, seed) -> dict:
    import synthgen as sg
    from synthgen.evaluation.privacy import shadow_model_attack

    gen = sg.create_generator(generator, **params).fit(train, schema)
    synthetic = gen.sample(len(train), seed=seed + 1)
    start = time.perf_counter()
    result = shadow_model_attack(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        generator_name=generator,
        generator_params=params,
        seed=seed,
        **settings,
    )
    seconds = time.perf_counter() - start
    fits = 2 * (settings["n_targets"] + settings["n_controls"]) * settings["n_shadows"]
    a = result.attack
    out = {
        "generator": generator,
        "settings": settings,
        "shadow_fits": fits,
        "seconds": round(seconds, 1),
        "seconds_per_fit": round(seconds / fits, 3),
        "auc": round(a.auc, 4),
        "auc_ci": [round(v, 4) for v in a.auc_ci],
        "tpr_at_1pct_fpr": round(a.tpr_at_fpr[0.01], 4),
        "shadow_accuracy": round(result.shadow_accuracy, 4),
        "targets_per_side": a.n_members,
    }
    print(
        f"{name:16s} AUC {a.auc:.3f} [{a.auc_ci[0]:.3f}, {a.auc_ci[1]:.3f}]  "
        f"shadow accuracy {result.shadow_accuracy:.3f}  {fits} fits in {seconds:.1f} s",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibration-targets", type=int, default=75)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "shadow.json")
    args = parser.parse_args()

    import synthgen as sg

    names = _generators()
    real = sg.datasets.demo_cohort(args.rows, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    k = args.calibration_targets
    calibration = {"n_targets": k, "n_controls": k, "n_shadows": 8}
    cases = {
        "copy": (names["copy"], {}, calibration),
        "copy+noise": (names["copy+noise"], {}, calibration),
        "fresh": (names["fresh"], {}, calibration),
        "gaussian_copula": (
            "gaussian_copula",
            {},
            {"n_targets": 10, "n_controls": 5, "n_shadows": 8},
        ),
    }
    previous = json.loads(args.out.read_text())["results"] if args.out.exists() else {}
    results = dict(previous)
    for name, (generator, params, settings) in cases.items():
        if args.only and name not in args.only:
            continue
        key = name if args.seed == 0 else f"{name}, seed {args.seed}"
        results[key] = run_case(
            name, generator, params, split.train, split.holdout, schema, settings, args.seed
        )
    doc = {"rows": args.rows, "cores": __import__("os").cpu_count(), "results": results}
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
