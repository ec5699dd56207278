"""How long a ``synthgen`` process takes to start: the lazy ``import synthgen`` against the
eager one it replaced.

Every CLI call, a usage error or ``--help`` included, pays for importing the package, and the
test suite runs the CLI as about a hundred subprocesses. ``import synthgen`` loads each public
name on first use (PEP 562); before, it loaded all of them, and with them pandas, scikit-learn's
ensembles and scipy.stats. The eager import is measured by touching every name in
``synthgen.__all__``, which loads what the old ``__init__`` loaded. Each statement runs in a
fresh interpreter ``--repeats`` times, the statements taking turns so that a slow spell of the
machine falls on all of them; the table gives the median and the range of the wall times.

    python benchmarks/bench_cli_start.py
    python benchmarks/bench_cli_start.py --table

Results go to ``benchmarks/results/cli_start.json`` (each run replaces the previous one).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _tables  # noqa: E402
import bench_cohorts as bc  # noqa: E402

KIND = "synthgen.benchmark.cli_start"

STATEMENTS = {
    "python alone": ["-c", "pass"],
    "import synthgen (lazy)": ["-c", "import synthgen"],
    "import synthgen, every public name (the old eager import)": [
        "-c",
        "import synthgen as sg; [getattr(sg, n) for n in sg.__all__]",
    ],
    "python -m synthgen.cli --help": ["-m", "synthgen.cli", "--help"],
    "import synthgen.workflow (what train and sample load)": ["-c", "import synthgen.workflow"],
}


def wall_time(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, check=True)
    return time.perf_counter() - start


def table(run: dict) -> str:
    rows = []
    for label, times in run["times"].items():
        rows.append(
            [label, f"{statistics.median(times):.2f}", f"{min(times):.2f} to {max(times):.2f}"]
        )
    return _tables.markdown(["statement (fresh interpreter)", "median s", "range s"], rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "cli_start.json")
    parser.add_argument("--table", action="store_true", help="only print the results table")
    args = parser.parse_args(argv)
    if args.table:
        print(table(bc.load_runs(args.out, KIND)[-1]))
        return
    for spec in STATEMENTS.values():  # warm the file cache once, untimed
        wall_time(spec)
    times: dict[str, list[float]] = {label: [] for label in STATEMENTS}
    for _ in range(args.repeats):
        for label, spec in STATEMENTS.items():
            times[label].append(round(wall_time(spec), 3))
    run = {
        "repeats": args.repeats,
        "times": times,
        "machine": bc.machine(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    bc.save_runs(args.out, [run], {"kind": KIND})
    print(table(run))


if __name__ == "__main__":
    main()
