"""Singling out, linkability and inference risk: synthgen against Anonymeter on the same data.

Issue 3 asks that synthgen's disclosure risks agree with Anonymeter's within the intervals
and come at least 10× faster. Anonymeter needs ``numpy<1.27``, which synthgen's environment
does not have, so it runs in its own virtual environment, ``benchmarks/.venv-anonymeter``
(created with ``python -m venv`` and ``pip install anonymeter pyarrow`` when missing; never
committed). The train, holdout and synthetic frames are written to Parquet in a temporary
directory (removed afterwards) and Anonymeter's ``SinglingOutEvaluator`` (multivariate),
``LinkabilityEvaluator`` and ``InferenceEvaluator`` run there in a subprocess, timed around
each ``evaluate`` call; synthgen's functions run in this process on the same frames with the
same ``n_attacks``.

Two "generators" on the demo cohort split 50/50: a Gaussian copula, and one that copies its
training rows (every risk should be high). Both tools see the schema's quasi-identifiers and
sensitive columns; linkability splits them into those two sets; inference attacks each secret
from the quasi-identifiers.

    python benchmarks/bench_anonymeter.py                       # 10,000 demo rows
    python benchmarks/bench_anonymeter.py --rows 2000 --secrets bmi,diabetes
    python benchmarks/bench_anonymeter.py --json benchmarks/results/anonymeter.json

Prints a Markdown table: risk and interval of each tool, whether the intervals overlap, the
wall time of each and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-anonymeter"

ANONYMETER_SCRIPT = r"""
import json, sys, time, warnings
import pandas as pd
from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator

warnings.filterwarnings("ignore")
folder, n_attacks = sys.argv[1], int(sys.argv[2])
cfg = json.loads(sys.argv[3])
train = pd.read_parquet(f"{folder}/train.parquet")
holdout = pd.read_parquet(f"{folder}/holdout.parquet")
syn = pd.read_parquet(f"{folder}/synthetic.parquet")
out = {}

def record(name, ev, seconds):
    res, risk = ev.results(), ev.risk()
    rates = {}
    for key, rate in (("main", res.attack_rate), ("control", res.control_rate),
                      ("baseline", res.baseline_rate)):
        rates[key] = [rate.value - rate.error, rate.value + rate.error]
    out[name] = {"risk": risk.value, "ci": list(risk.ci), "seconds": seconds,
                 "n_attacks": int(res.n_attacks_ori), **rates}

t = time.perf_counter()
ev = SinglingOutEvaluator(ori=train, syn=syn, control=holdout, n_attacks=n_attacks,
                          n_cols=cfg["n_cols"]).evaluate(mode="multivariate")
record("singling_out", ev, time.perf_counter() - t)

t = time.perf_counter()
ev = LinkabilityEvaluator(ori=train, syn=syn, control=holdout, n_attacks=n_attacks,
                          aux_cols=(cfg["qi"], cfg["sensitive"]), n_neighbors=1).evaluate(n_jobs=1)
record("linkability", ev, time.perf_counter() - t)

for secret in cfg["secrets"]:
    t = time.perf_counter()
    aux = [c for c in cfg["qi"] if c != secret]
    ev = InferenceEvaluator(ori=train, syn=syn, control=holdout, aux_cols=aux, secret=secret,
                            n_attacks=n_attacks).evaluate(n_jobs=1)
    record(f"inference:{secret}", ev, time.perf_counter() - t)
print(json.dumps(out))
"""


def ensure_venv() -> Path:
    """The scratch environment's python, creating the environment when it is missing."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} and installing anonymeter (once) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "anonymeter", "pyarrow"], check=True
        )
    return python


def make_data(rows: int):
    import synthgen as sg

    real = sg.datasets.demo_cohort(rows, seed=1)
    schema = sg.infer_schema(real)
    split = sg.Cohort(schema.coerce(real)).split(0.5, seed=0)
    start = time.perf_counter()
    model = sg.create_generator("gaussian_copula").fit(split.train, schema)
    copula = model.sample(len(split.train), seed=0)  # typed by the generator
    fit_s = time.perf_counter() - start
    return (
        schema,
        split.train,
        split.holdout,
        {"gaussian_copula": copula, "copy": split.train.copy()},
        fit_s,
    )


def plain(df, columns):
    """Frames Anonymeter reads: nullable integers as floats (NaN), booleans as bool."""
    out = df[columns].copy()
    for c in columns:
        if str(out[c].dtype) in ("Int64", "Float64"):
            out[c] = out[c].astype("float64")
        elif str(out[c].dtype) == "boolean":
            out[c] = out[c].astype(object)
    return out.reset_index(drop=True)


def run_anonymeter(python, train, holdout, synthetic, cfg, n_attacks):
    with tempfile.TemporaryDirectory(prefix="synthgen-anonymeter-") as folder:
        for name, df in (("train", train), ("holdout", holdout), ("synthetic", synthetic)):
            df.to_parquet(Path(folder) / f"{name}.parquet", index=False)
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        start = time.perf_counter()
        proc = subprocess.run(
            [str(python), "-c", ANONYMETER_SCRIPT, folder, str(n_attacks), json.dumps(cfg)],
            capture_output=True,
            text=True,
            env=env,
        )
        total = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"anonymeter failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), total


def run_ours(schema, train, holdout, synthetic, cfg, n_attacks, seed):
    from synthgen.evaluation.privacy.disclosure import inference_risks, linkability_risk
    from synthgen.evaluation.privacy.singling_out import singling_out_risk

    kw = dict(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=schema,
        n_attacks=n_attacks,
        seed=seed,
    )
    out = {}

    def record(name, result, seconds):
        out[name] = {
            "risk": result.risk,
            "ci": list(result.risk_ci),
            "seconds": seconds,
            "n_attacks": result.n_attacks,
            "main": list(result.main.ci),
            "control": list(result.control.ci),
            "baseline": list(result.baseline.ci),
        }

    t = time.perf_counter()
    r = singling_out_risk(columns=cfg["qi"] + cfg["sensitive"], n_cols=cfg["n_cols"], **kw)
    record("singling_out", r, time.perf_counter() - t)
    t = time.perf_counter()
    r = linkability_risk(aux_cols=(cfg["qi"], cfg["sensitive"]), **kw)
    record("linkability", r, time.perf_counter() - t)
    for secret in cfg["secrets"]:  # one call per secret, timed like Anonymeter's
        t = time.perf_counter()
        r = inference_risks(secrets=[secret], **kw)[secret]
        record(f"inference:{secret}", r, time.perf_counter() - t)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000, help="demo rows, split 50/50")
    ap.add_argument("--n-attacks", type=int, default=500)
    ap.add_argument("--n-cols", type=int, default=3, help="columns per singling-out predicate")
    ap.add_argument("--secrets", default=None, help="comma-separated; default all sensitive")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)

    python = ensure_venv()
    schema, train, holdout, synthetics, fit_s = make_data(args.rows)
    qi, sensitive = schema.with_role("quasi_identifier"), schema.with_role("sensitive")
    secrets = args.secrets.split(",") if args.secrets else sensitive
    cfg = {"qi": qi, "sensitive": sensitive, "secrets": secrets, "n_cols": args.n_cols}
    cols = qi + sensitive
    print(
        f"demo rows {args.rows}: train {len(train)}, holdout {len(holdout)}; "
        f"n_attacks {args.n_attacks}; copula fitted and sampled in {fit_s:.1f} s\n"
    )

    report = {"rows": args.rows, "n_attacks": args.n_attacks, "generators": {}}
    for gen, synthetic in synthetics.items():
        ours = run_ours(schema, train, holdout, synthetic, cfg, args.n_attacks, args.seed)
        theirs, total = run_anonymeter(
            python,
            plain(train, cols),
            plain(holdout, cols),
            plain(synthetic, cols),
            cfg,
            args.n_attacks,
        )
        print(f"### {gen}\n")
        print(
            "| measure | synthgen risk [CI] | anonymeter risk [CI] | overlap "
            "| synthgen s | anonymeter s |"
        )
        print("|---|---|---|---|---|---|")
        rows = {}
        for name in ours:
            a, b = ours[name], theirs[name]
            overlap = a["ci"][0] <= b["ci"][1] and b["ci"][0] <= a["ci"][1]
            rows[name] = {"synthgen": a, "anonymeter": b, "overlap": overlap}
            print(
                f"| {name} | {a['risk']:.3f} [{a['ci'][0]:.3f}, {a['ci'][1]:.3f}] "
                f"| {b['risk']:.3f} [{b['ci'][0]:.3f}, {b['ci'][1]:.3f}] "
                f"| {'yes' if overlap else 'NO'} | {a['seconds']:.3f} | {b['seconds']:.2f} |"
            )
        ours_s = sum(r["seconds"] for r in ours.values())
        theirs_s = sum(r["seconds"] for r in theirs.values())
        n_overlap = sum(r["overlap"] for r in rows.values())
        print(
            f"\ntotal: synthgen {ours_s:.2f} s, anonymeter {theirs_s:.2f} s in evaluate() "
            f"({total:.1f} s with start-up); speed-up {theirs_s / ours_s:.0f}×; "
            f"intervals overlap on {n_overlap} of {len(rows)}\n"
        )
        report["generators"][gen] = {
            "measures": rows,
            "synthgen_seconds": ours_s,
            "anonymeter_seconds": theirs_s,
            "anonymeter_process_seconds": total,
            "speedup": theirs_s / ours_s,
        }
    if args.json:
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(json.dumps(report, indent=2))
        tmp.replace(args.json)


if __name__ == "__main__":
    main()
