"""What the ``synthgen`` command modules share: exit codes, consoles, options, progress bars."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

EXIT_USER_ERROR = 1
EXIT_BLOCKED = 2
EXIT_INTERNAL = 3

DEFAULT_DELTA = 1e-6
"""δ of ``synthgen train --epsilon`` when no δ is given: ten times below 1/n up to 100,000
training records (a δ near 1/n would let a mechanism publish a record outright; from a million
records on, a smaller ``--delta`` is needed)."""

console = Console(stderr=False)
err_console = Console(stderr=True)

TableOpt = Annotated[
    str | None, typer.Option("--table", help="Table name, when DATA is a database URL.")
]
QueryOpt = Annotated[
    str | None, typer.Option("--query", help="SQL query, when DATA is a database URL.")
]
SchemaOpt = Annotated[
    Path | None,
    typer.Option("--schema", "-s", help="Reviewed schema YAML (from `synthgen inspect`)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _spinner(text: str) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn(text),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _bar(text: str) -> Progress:
    return Progress(
        TextColumn(text),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def dp_capable() -> list[str]:
    """The registered generators that can train under differential privacy."""
    from synthgen.models import generator_class, list_generators

    return [name for name in list_generators() if generator_class(name).supports_dp]


def with_budget(model: str, params: dict, epsilon: float | None, delta: float | None) -> dict:
    """The hyper-parameters with ``--epsilon``/``--delta`` added, checked before any work."""
    from synthgen.errors import ParameterError
    from synthgen.models import generator_class

    if epsilon is None and delta is None:
        return params
    if epsilon is None:
        raise ParameterError("--delta is part of a DP budget: give --epsilon with it")
    if not generator_class(model).supports_dp:
        capable = ", ".join(dp_capable()) or "none registered"
        raise ParameterError(
            f"model '{model}' cannot train under differential privacy (--epsilon); "
            f"models that can: {capable}"
        )
    given = {"epsilon": epsilon, "delta": delta}
    twice = [k for k, v in given.items() if v is not None and k in params]
    if twice:
        raise ParameterError(
            f"{' and '.join(twice)} given twice, by --{'/--'.join(twice)} and by "
            "--param/--params; give each once"
        )
    problems = []
    if not (math.isfinite(epsilon) and epsilon > 0):
        problems.append(f"--epsilon must be a positive number, got {epsilon:g}")
    if delta is not None and not 0 < delta < 1:
        problems.append(f"--delta must be a number between 0 and 1 (exclusive), got {delta:g}")
    if problems:
        raise ParameterError("; ".join(problems))
    out = {**params, "epsilon": epsilon}
    if delta is not None or "delta" not in out:
        out["delta"] = DEFAULT_DELTA if delta is None else delta
    return out


def print_budget(model_dir: Path, model: str) -> None:
    """The privacy budget the training spent, as recorded in the signed model directory."""
    from rich.markup import escape

    from synthgen.evaluation.report import describe_budget
    from synthgen.models import generator_class
    from synthgen.models.modeldir import read_model_json

    budget = read_model_json(model_dir).get("privacy_budget")
    if budget:
        console.print(f"Privacy budget spent: [bold]{escape(describe_budget(budget))}[/bold]")
    elif generator_class(model).supports_dp:
        console.print(
            "[yellow]Not differentially private: no --epsilon was given; the privacy "
            "evaluation will be an empirical audit only.[/yellow]"
        )
