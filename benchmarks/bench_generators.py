"""Fit time, sample time and peak memory of every generator on the demo cohort.

Each (generator, size) runs in its own process so that peak memory (max RSS) is its own.
GAN/VAE generators train for a stated number of epochs (``--epochs``); the time per epoch is
reported so a full default run (300 epochs) can be estimated, and is labelled as an estimate.

    python benchmarks/bench_generators.py --rows 10000 100000 --epochs 5

Writes ``benchmarks/results/generators.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EPOCH_MODELS = {"ctgan", "tvae", "copula_gan"}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(model: str, rows: int, epochs: int, seed: int) -> dict:
    """Runs inside the child process."""
    import synthgen as sg

    df = sg.datasets.demo_cohort(rows, seed=seed)
    schema = sg.infer_schema(df)
    typed = schema.coerce(df)
    split = sg.Cohort(typed).split(0.2, seed=seed)
    params = {"epochs": epochs} if model in EPOCH_MODELS else {}
    gen = sg.create_generator(model, seed=seed, **params)
    import sdv.single_table  # noqa: F401 - load the libraries before the baseline reading
    import torch  # noqa: F401

    base_rss = _rss_mb()
    epoch_ends: list[float] = []
    t0 = time.perf_counter()
    gen.fit(
        split.train, schema, progress=lambda done, total: epoch_ends.append(time.perf_counter())
    )
    fit_s = time.perf_counter() - t0
    per_epoch = None
    if len(epoch_ends) >= 2:  # epochs after the first: excludes preprocessing
        per_epoch = (epoch_ends[-1] - epoch_ends[0]) / (len(epoch_ends) - 1)
    fit_rss = _rss_mb()
    t0 = time.perf_counter()
    syn = gen.sample(rows, seed=seed)
    sample_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "key"
        os.environ["SYNTHGEN_KEY_FILE"] = str(key)
        t0 = time.perf_counter()
        gen.save(Path(tmp) / "model")
        save_s = time.perf_counter() - t0
        size_mb = (
            sum(p.stat().st_size for p in (Path(tmp) / "model").rglob("*") if p.is_file()) / 2**20
        )
    return {
        "model": model,
        "rows": rows,
        "train_rows": len(split.train),
        "model_columns": len(schema.model_columns),
        "epochs": epochs if model in EPOCH_MODELS else None,
        "fit_s": round(fit_s, 2),
        "fit_s_per_epoch": None if per_epoch is None else round(per_epoch, 2),
        "sample_s": round(sample_s, 2),
        "sample_rows": len(syn),
        "save_s": round(save_s, 2),
        "model_dir_mb": round(size_mb, 1),
        "baseline_rss_mb": round(base_rss),
        "peak_rss_fit_mb": round(fit_rss),
        "peak_rss_mb": round(_rss_mb()),
    }


def run_stream(rows: int, seed: int) -> dict:
    """Stream a large sample from a GaussianCopula model to CSV through the CLI path."""
    import synthgen as sg

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SYNTHGEN_KEY_FILE"] = str(Path(tmp) / "key")
        cohort = Path(tmp) / "cohort.parquet"
        sg.write_table(sg.datasets.demo_cohort(10_000, seed=seed), cohort)
        # train in another process so this one's peak memory is the sampling alone
        subprocess.run(
            [
                sys.executable,
                "-m",
                "synthgen.cli",
                "train",
                str(cohort),
                "-o",
                str(Path(tmp) / "model"),
                "--seed",
                str(seed),
            ],
            check=True,
            capture_output=True,
        )
        import sdv.single_table  # noqa: F401
        import torch  # noqa: F401

        base = _rss_mb()
        t0 = time.perf_counter()
        res = sg.sample_to_file(Path(tmp) / "model", rows, output=Path(tmp) / "out.csv", seed=seed)
        secs = time.perf_counter() - t0
        size_mb = res.path.stat().st_size / 2**20
    return {
        "model": "gaussian_copula (streamed to CSV)",
        "rows": rows,
        "sample_s": round(secs, 1),
        "rows_per_s": round(rows / secs),
        "file_mb": round(size_mb),
        "baseline_rss_mb": round(base),
        "peak_rss_mb": round(_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--models", nargs="+", default=["gaussian_copula", "ctgan", "tvae", "copula_gan"]
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--stream-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "generators.json")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-stream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_one(args.child[0], int(args.child[1]), args.epochs, args.seed)))
        return
    if args.child_stream:
        print(json.dumps(run_stream(args.child_stream, args.seed)))
        return

    results = []
    jobs = [[m, str(r)] for r in args.rows for m in args.models]
    for model, rows in jobs:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            model,
            rows,
            "--epochs",
            str(args.epochs),
            "--seed",
            str(args.seed),
        ]
        print(f"running {model} on {rows} rows ...", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    stream = None
    if args.stream_rows:
        cmd = [
            sys.executable,
            __file__,
            "--child-stream",
            str(args.stream_rows),
            "--seed",
            str(args.seed),
        ]
        print(f"streaming {args.stream_rows} rows ...", file=sys.stderr, flush=True)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        stream = json.loads(out.stdout.strip().splitlines()[-1])
    doc = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "epochs": args.epochs,
        "results": results,
        "streaming": stream,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2))
    print(
        "| model | rows | fit s | s/epoch | fit s outside epochs | sample s (same rows) "
        "| peak RSS MB (baseline) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        per = other = ""
        if r["fit_s_per_epoch"] is not None:
            per = f"{r['fit_s_per_epoch']} ({r['epochs']} ep.)"
            other = f"{r['fit_s'] - r['epochs'] * r['fit_s_per_epoch']:.1f}"
        print(
            f"| {r['model']} | {r['rows']:,} | {r['fit_s']} | {per} | {other} | {r['sample_s']} | "
            f"{r['peak_rss_mb']} ({r['baseline_rss_mb']}) |"
        )
    if stream:
        print(
            f"\nStreaming {stream['rows']:,} rows to CSV: {stream['sample_s']} s "
            f"({stream['rows_per_s']:,} rows/s), peak RSS {stream['peak_rss_mb']} MB "
            f"(baseline {stream['baseline_rss_mb']} MB)"
        )


if __name__ == "__main__":
    main()
