"""The diffusion generator on a GPU against the CPU of the same machine (issue 6).

With ``device="cuda"`` the generator trains and samples on a GPU; the default ``"auto"``
samples there and trains on the CPU, because of what this script measured. It checks, on the
benchmark cohorts' seed-0 training splits:

- speed: fit and sample times on the GPU and on the machine's CPU (all its cores), each
  after one untimed warm-up fit, and sampling 100,000 rows from the demo cohort's model;
- reproducibility: two fits with one seed on the GPU give the same network and rows; the
  same with PyTorch's deterministic kernels switched off (which the generator switches on
  for a GPU fit: the loss's per-column ``scatter_add`` uses atomic adds otherwise), to show
  whether the switch is needed and what it costs;
- moving: a GPU-trained model saved and loaded samples the same rows, on the GPU and in a
  process that sees no GPU; and how far a GPU fit lands from a CPU fit with the same seed;
- DP: a DP-SGD fit on the GPU runs and repeats.

It writes each cohort's CPU and GPU samples beside the results, so that their fidelity can be
scored on a machine with SDV and sdmetrics (the GPU machine has neither):

    python benchmarks/bench_device.py --out DIR       # on the GPU machine
    python benchmarks/bench_device.py --score DIR     # here: adds quality, detection, TSTR
    python benchmarks/bench_device.py --table

``--score`` writes ``benchmarks/results/device.json`` (a new run replaces the old one).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _tables  # noqa: E402
import bench_cohorts as bc  # noqa: E402
from cohorts import load_cohort  # noqa: E402

KIND = "synthgen.benchmark.device"
RESULTS = HERE / "results" / "device.json"
COHORTS = ("demo", "gbsg2", "actg175")
BIG_SAMPLE = 100_000
DP_PARAMS = {"epsilon": 1.0, "iterations": 300}


def _fit(cohort, split, device: str, **params):
    import synthgen as sg

    gen = sg.create_generator("diffusion", seed=0, device=device, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        gen.fit(split.train, cohort.schema)
        fit_s = time.perf_counter() - start
    return gen, round(fit_s, 3)


def _sample(gen, n: int):
    start = time.perf_counter()
    rows = gen.sample(n, seed=0)
    return rows, round(time.perf_counter() - start, 3)


def _same_rows(a, b) -> float:
    """Share of cells equal in two samples (missing equals missing)."""
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    equal = (a == b) | (a.isna() & b.isna())
    return round(float(equal.to_numpy().mean()), 6)


def _weight_gap(a, b) -> float:
    """Largest absolute difference between two networks' weights."""

    pa, pb = a.network_.state_dict(), b.network_.state_dict()
    return float(max((pa[k].float() - pb[k].float()).abs().max() for k in pa))


@contextlib.contextmanager
def _without_deterministic_kernels():
    """The generator's GPU fit as it would be without ``torch.use_deterministic_algorithms``
    (the switch is made a no-op meanwhile; everything else about the fit is unchanged)."""
    import torch

    original = torch.use_deterministic_algorithms
    torch.use_deterministic_algorithms = lambda *args, **kwargs: None
    try:
        yield
    finally:
        torch.use_deterministic_algorithms = original


def _sample_without_gpu(model_dir: Path, n: int, out: Path) -> None:
    code = (
        "import sys, torch, synthgen as sg; assert not torch.cuda.is_available();"
        f"sg.load_generator(sys.argv[1]).sample({n}, seed=0).to_parquet(sys.argv[2])"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", code, str(model_dir), str(out)], env=env, check=True)


def run_cohort(name: str, out: Path) -> dict[str, Any]:
    """Every check on one cohort; a check that fails is recorded (``errors``), not fatal."""
    cohort = load_cohort(name)
    split = bc.split_cohort(cohort, seed=0)
    res: dict[str, Any] = {"cohort": name, "n_train": len(split.train), "errors": {}}
    for device in ("cpu", "cuda"):  # untimed warm-up: library start-up and CUDA context
        _fit(cohort, split, device, iterations=2)
    fitted: dict[str, Any] = {}
    for check in (_speed, _repeat, _loose, _moved, _private):
        try:
            check(cohort, split, res, fitted, out)
        except Exception as exc:  # noqa: BLE001 - one check must not hide the others
            traceback.print_exc()
            res["errors"][check.__name__] = f"{type(exc).__name__}: {exc}"[:300]
    print(json.dumps(res), flush=True)
    return res


def _speed(cohort, split, res, fitted, out) -> None:
    n = len(split.train)
    for device, label in (("cpu", "cpu"), ("cuda", "gpu")):
        gen, res[f"{label}_fit_s"] = _fit(cohort, split, device)
        rows, res[f"{label}_sample_s"] = _sample(gen, n)
        rows.to_parquet(out / f"{cohort.name}_{label}.parquet")
        fitted[label] = (gen, rows)
    res["cpu_vs_gpu_same_cells"] = _same_rows(fitted["cpu"][1], fitted["gpu"][1])
    res["cpu_vs_gpu_weight_gap"] = _weight_gap(fitted["cpu"][0], fitted["gpu"][0])
    if cohort.name == "demo":  # the sampler's cost is the network's: one cohort shows it
        _, res["cpu_sample_100k_s"] = _sample(fitted["cpu"][0], BIG_SAMPLE)
        _, res["gpu_sample_100k_s"] = _sample(fitted["gpu"][0], BIG_SAMPLE)


def _repeat(cohort, split, res, fitted, out) -> None:
    gpu, rows = fitted["gpu"]
    again, res["gpu_fit_again_s"] = _fit(cohort, split, "cuda")
    res["gpu_repeat_same_cells"] = _same_rows(rows, _sample(again, len(rows))[0])
    res["gpu_repeat_weight_gap"] = _weight_gap(gpu, again)


def _loose(cohort, split, res, fitted, out) -> None:
    n = len(split.train)
    with _without_deterministic_kernels():
        one, res["gpu_fit_nondeterministic_s"] = _fit(cohort, split, "cuda")
        two, _ = _fit(cohort, split, "cuda")
    res["gpu_nondeterministic_repeat_same_cells"] = _same_rows(
        _sample(one, n)[0], _sample(two, n)[0]
    )
    res["gpu_nondeterministic_weight_gap"] = _weight_gap(one, two)


def _moved(cohort, split, res, fitted, out) -> None:
    import pandas as pd

    import synthgen as sg

    gpu, rows = fitted["gpu"]
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = gpu.save(Path(tmp) / "model")
        loaded = sg.load_generator(model_dir)
        res["gpu_saved_loaded_same_cells"] = _same_rows(rows, _sample(loaded, len(rows))[0])
        _sample_without_gpu(model_dir, len(rows), Path(tmp) / "nogpu.parquet")
        nogpu = pd.read_parquet(Path(tmp) / "nogpu.parquet")
        res["gpu_model_sampled_without_gpu_same_cells"] = _same_rows(rows, nogpu)


def _private(cohort, split, res, fitted, out) -> None:
    if cohort.name != "gbsg2":  # one small cohort shows whether DP-SGD runs on a GPU
        return
    n = len(split.train)
    one, res["gpu_dp_fit_s"] = _fit(cohort, split, "cuda", **DP_PARAMS)
    two, _ = _fit(cohort, split, "cuda", **DP_PARAMS)
    res["gpu_dp_repeat_same_cells"] = _same_rows(_sample(one, n)[0], _sample(two, n)[0])
    res["dp_params"] = DP_PARAMS


def measure(out: Path, cohorts: list[str]) -> None:
    import torch

    if not torch.cuda.is_available():
        sys.exit("bench_device: no CUDA GPU on this machine")
    out.mkdir(parents=True, exist_ok=True)
    runs = [run_cohort(name, out) for name in cohorts]
    doc = {"kind": KIND, "machine": bc.machine(), "when": _now(), "runs": runs}
    (out / "device.json").write_text(json.dumps(doc, indent=1))


def score(source: Path) -> None:
    """Fidelity of the samples ``measure`` wrote, scored as bench_cohorts scores a run."""
    import pandas as pd

    doc = json.loads((source / "device.json").read_text())
    for run in doc["runs"]:
        cohort = load_cohort(run["cohort"])
        split = bc.split_cohort(cohort, seed=0)
        for device in ("cpu", "gpu"):
            rows = pd.read_parquet(source / f"{run['cohort']}_{device}.parquet")
            run[f"{device}_figures"] = bc.evaluate_figures(
                cohort, split, rows, seed=0, n_boot=bc.N_BOOT
            )
            print(run["cohort"], device, run[f"{device}_figures"], flush=True)
    bc.save_runs(RESULTS, [doc], {"kind": KIND})


def table(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    lines = [
        f"{m['gpu']}; CPU: {m['cpus']} cores ({m['torch_threads']} torch threads); "
        f"torch {m['torch']}",
        "",
        "| cohort | train records | fit s CPU | fit s GPU | GPU, no deterministic kernels "
        "| sample s CPU / GPU | 100k rows s CPU / GPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in doc["runs"]:
        lines.append(
            f"| {r['cohort']} | {r['n_train']:,} | {_s(r, 'cpu_fit_s')} | {_s(r, 'gpu_fit_s')} "
            f"| {_s(r, 'gpu_fit_nondeterministic_s')} "
            f"| {_s(r, 'cpu_sample_s', 2)} / {_s(r, 'gpu_sample_s', 2)} "
            f"| {_s(r, 'cpu_sample_100k_s')} / {_s(r, 'gpu_sample_100k_s')} |"
        )
    lines += [
        "",
        "| cohort | GPU fit twice | the same without deterministic kernels | saved, loaded "
        "| loaded where no GPU | CPU fit against GPU fit |",
        "|---|---|---|---|---|---|",
    ]
    for r in doc["runs"]:
        lines.append(
            f"| {r['cohort']} | {_share(r, 'gpu_repeat_same_cells')} "
            f"| {_share(r, 'gpu_nondeterministic_repeat_same_cells')} "
            f"| {_share(r, 'gpu_saved_loaded_same_cells')} "
            f"| {_share(r, 'gpu_model_sampled_without_gpu_same_cells')} "
            f"| {_share(r, 'cpu_vs_gpu_same_cells')} |"
        )
    if any("cpu_figures" in r for r in doc["runs"]):
        lines += [
            "",
            "| cohort | fitted on | quality | detection AUC | TSTR | membership AUC |",
            "|---|---|---|---|---|---|",
        ]
        for r in doc["runs"]:
            for device in ("cpu", "gpu"):
                f = r.get(f"{device}_figures") or {}
                lines.append(
                    f"| {r['cohort']} | {device.upper()} | {_value(f, 'quality')} "
                    f"| {_value(f, 'detection_auc')} | {_tstr(f)} "
                    f"| {_value(f.get('membership', {}), 'max_auc')} |"
                )
    for r in doc["runs"]:
        for check, error in (r.get("errors") or {}).items():
            lines.append(f"\n{r['cohort']}, {check.lstrip('_')}: {error}")
    return "\n".join(lines)


def _s(run: dict, key: str, digits: int = 1) -> str:
    return "-" if run.get(key) is None else f"{run[key]:.{digits}f}"


def _share(run: dict, key: str) -> str:
    x = run.get(key)
    if x is None:
        return "-"
    return "identical" if x == 1.0 else f"{100 * x:.2f}% of cells equal"


def _value(figures: dict, key: str) -> str:
    return _tables.num((figures.get(key) or {}).get("value"))


def _tstr(figures: dict) -> str:
    """The first target's TSTR (each benchmark cohort has one)."""
    return next((_tables.num(t.get("value")) for t in figures.get("tstr", {}).values()), "-")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, help="measure here (a GPU machine); write to DIR")
    what.add_argument("--score", type=Path, help="score the samples a --out run wrote")
    what.add_argument("--table", action="store_true", help="print the results file's tables")
    ap.add_argument("--cohorts", nargs="+", default=list(COHORTS))
    args = ap.parse_args(argv)
    if args.out:
        measure(args.out, args.cohorts)
    elif args.score:
        score(args.score)
    else:
        print(table(bc.load_runs(RESULTS, KIND)[-1]))


if __name__ == "__main__":
    main()
