"""What the ``synthgen`` command modules share: exit codes, consoles, options, progress bars."""

from __future__ import annotations

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
