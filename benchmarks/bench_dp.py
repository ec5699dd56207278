"""Differentially private generators against the privacy budget epsilon (issue 7).

For each generator with ``supports_dp = True`` x each epsilon x each cohort (default: the demo
cohort and ACTG 175): the same split, fit, sample and evaluation as ``bench_cohorts.py``, and
the same figures (quality, detection AUC, TSTR / TRTR, membership-attack AUC and TPR at 1% FPR,
fit and sample time), plus the budget the generator reports having spent
(``privacy_budget_``). Epsilon "inf" means the generator at its defaults without ``epsilon``
(skipped for a generator whose default epsilon is a number: it is always private, so that
point would repeat its default); every other parameter (``delta`` included) stays at its
default unless ``--param`` overrides it.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_dp.py
    python benchmarks/bench_dp.py --epsilons 1 inf --cohorts demo --quick --param epochs=2
    python benchmarks/bench_dp.py --table

Results are merged into ``benchmarks/results/dp.json`` (``--quick``: ``dp_quick.json``) after
every run, atomically, as in ``bench_cohorts.py``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _tables  # noqa: E402
import bench_cohorts as bc  # noqa: E402
from cohorts import COHORTS  # noqa: E402

EPSILONS: tuple[float, ...] = (0.1, 0.5, 1.0, 4.0, 10.0, math.inf)
DEFAULT_COHORTS: tuple[str, ...] = ("demo", "actg175")
KIND = "synthgen.benchmark.dp"
AUDIT_BAND = 0.05  # issue 7: at epsilon = 1 the membership AUC is within 0.5 +/- 0.05


def parse_epsilon(text: str) -> float:
    if text.strip().lower() in ("inf", "infinity", "∞", "none"):
        return math.inf
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"epsilon must be positive or inf, got {text}")
    return value


def epsilon_label(epsilon: float) -> str:
    return "inf" if math.isinf(epsilon) else f"{epsilon:g}"


def dp_generators() -> list[str]:
    from synthgen.models.registry import generator_class

    return [g for g in bc.registered_generators() if generator_class(g).supports_dp]


def reported(run: dict[str, Any]) -> str:
    """The epsilon the fitted generator records in ``privacy_budget_`` (spent, else budgeted)."""
    budget = run.get("privacy_budget")
    eps = None
    if isinstance(budget, dict):
        eps = budget.get("epsilon_spent", budget.get("epsilon"))
    if eps is not None:
        return f"{float(eps):.4g}"
    return "none" if budget is None and not run.get("error") and run.get("fit_s") else ""


def within_band(run: dict[str, Any]) -> str:
    auc = ((run.get("figures") or {}).get("membership") or {}).get("max_auc")
    if not auc or auc.get("value") is None:
        return ""
    return "yes" if abs(auc["value"] - 0.5) <= AUDIT_BAND else "no"


def table(runs: list[dict[str, Any]]) -> str:
    order = {name: i for i, name in enumerate(COHORTS)}

    def eps_order(r: dict[str, Any]) -> float:
        return math.inf if r.get("epsilon") is None else float(r["epsilon"])

    rows = []
    for r in sorted(
        runs, key=lambda r: (r["generator"], order.get(r["cohort"], 99), r["cohort"], eps_order(r))
    ):
        overrides = ", ".join(
            f"{k}={v}" for k, v in (r.get("overrides") or {}).items() if k != "epsilon"
        )
        rows.append(
            [
                r["generator"] + (f" ({overrides})" if overrides else ""),
                r["cohort"],
                r.get("epsilon_label") or "",
                reported(r),
                *_tables.figure_cells(r),
                within_band(r),
            ]
        )
    headers = [
        "generator",
        "cohort",
        "ε asked",
        "ε recorded",
        *_tables.FIGURE_HEADERS,
        f"membership AUC within 0.5 ± {AUDIT_BAND}",
    ]
    return _tables.markdown(headers, rows)


NOTES = (
    "ε asked: the epsilon passed to the generator (inf: none passed, trained without DP). "
    "ε recorded: the epsilon in the fitted generator's privacy_budget_ ('none': trained "
    "without DP). "
    "The last column checks the point estimate of the strongest attack's AUC only; read it "
    "with the interval."
)


def main(argv: Sequence[str] | None = None) -> None:
    default_out = HERE / "results" / "dp.json"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bc.common_arguments(parser, default_cohorts=DEFAULT_COHORTS, default_out=default_out)
    parser.add_argument(
        "--epsilons",
        nargs="+",
        type=parse_epsilon,
        default=list(EPSILONS),
        help="privacy budgets; 'inf' = without epsilon (default: 0.1 0.5 1 4 10 inf)",
    )
    args = parser.parse_args(argv)
    bc.resolve(args, default_out)
    if args.table:
        print(table(bc.load_runs(args.out, KIND)) + "\n\n" + NOTES + "\n" + _tables.NOTES)
        return
    available = dp_generators()
    generators = bc.select_generators(args.generators, keep=lambda g: g in available)
    not_dp = [g for g in generators if g not in available]
    if not_dp:
        raise SystemExit(f"{', '.join(not_dp)}: not a DP generator (supports_dp is False)")
    if not generators:
        registered = ", ".join(bc.registered_generators())
        raise SystemExit(f"no registered generator supports DP (registered: {registered})")
    overrides = bc.parse_overrides(args.param)
    if any("epsilon" in params for params in overrides.values()):
        raise SystemExit("give epsilon with --epsilons, not --param")
    bc.check_overrides(overrides, generators)
    from synthgen.models.registry import accepted_params, generator_class

    always_private = {
        g: accepted_params(generator_class(g)).get("epsilon")
        for g in generators
        if accepted_params(generator_class(g)).get("epsilon") is not None
    }
    for g, default in always_private.items():
        if math.inf in args.epsilons:
            print(
                f"{g}: always private (default epsilon={default}); no epsilon=inf point",
                file=sys.stderr,
            )
    jobs = []
    for cohort in args.cohorts:
        for g in generators:
            for eps in args.epsilons:
                if math.isinf(eps) and g in always_private:
                    continue
                params = bc.generator_params(g, overrides, args.seed)
                if not math.isinf(eps):
                    params["epsilon"] = eps
                jobs.append(
                    {
                        "cohort": cohort,
                        "generator": g,
                        "params": params,
                        "overrides": bc.plain(bc.applicable_overrides(g, overrides)),
                        "epsilon": None if math.isinf(eps) else eps,
                        "epsilon_label": epsilon_label(eps),
                    }
                )
    runs = bc.execute_from_arguments(jobs, args, KIND)
    print(table(runs) + "\n\n" + NOTES + "\n" + _tables.NOTES)
    print(f"\n{len(runs)} runs in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
