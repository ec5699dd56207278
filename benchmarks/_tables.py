"""Markdown tables for the generator comparison (``bench_cohorts.py``, ``bench_dp.py``).

Each run is one dict as the scripts write it to JSON; the cells are built here so both tables
read the figures the same way. A figure the report did not give prints as an empty cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def num(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def with_ceiling(figure: dict[str, Any] | None) -> str:
    """``value (holdout-vs-train ceiling)``."""
    if not figure or figure.get("value") is None:
        return ""
    return f"{num(figure['value'])} ({num(figure.get('baseline'))})"


def with_ci(figure: dict[str, Any] | None) -> str:
    """``value [low, high]``."""
    if not figure or figure.get("value") is None:
        return ""
    ci = figure.get("ci")
    return num(figure["value"]) + (f" [{num(ci[0])}, {num(ci[1])}]" if ci else "")


def tstr(run: dict[str, Any]) -> str:
    """``TSTR / TRTR`` per target (boosting model; AUC or R²), ``; ``-separated."""
    cells = []
    for target, fig in (run.get("figures") or {}).get("tstr", {}).items():
        if fig.get("value") is None:
            cells.append(f"{target}: n/a")
        else:
            cells.append(
                f"{target} {fig['metric']} {num(fig['value'])} / {num(fig.get('baseline'))}"
            )
    return "; ".join(cells)


def membership(run: dict[str, Any]) -> tuple[str, str]:
    """The strongest membership attack's AUC [CI] (and which), and the highest TPR at 1% FPR."""
    fig = (run.get("figures") or {}).get("membership") or {}
    auc = fig.get("max_auc")
    auc_cell = f"{with_ci(auc)} {auc['attack']}" if auc and auc.get("value") is not None else ""
    tpr = fig.get("max_tpr_at_1pct_fpr")
    tpr_cell = ""
    if tpr and tpr.get("value") is not None:
        unreliable = "*" if tpr.get("reliable") is False else ""
        tpr_cell = f"{num(tpr['value'])}{unreliable} {tpr['attack']}"
    return auc_cell, tpr_cell


def figure_cells(run: dict[str, Any]) -> list[str]:
    """Quality, detection, TSTR, membership AUC, TPR at 1% FPR, fit s, sample s."""
    if run.get("error"):
        return [f"failed: {run['error']}"] + [""] * 6
    figs = run.get("figures") or {}
    auc_cell, tpr_cell = membership(run)
    return [
        with_ceiling(figs.get("quality")),
        with_ceiling(figs.get("detection_auc")),
        tstr(run),
        auc_cell,
        tpr_cell,
        seconds(run.get("fit_s")),
        seconds(run.get("sample_s")),
    ]


NOTES = (
    "Quality, detection: value (holdout-vs-train ceiling: what a perfect synthetic cohort of "
    "this size scores). TSTR / TRTR: boosting model trained on synthetic / on the real training "
    "records, scored on the holdout. Membership: the strongest attack's AUC with its bootstrap "
    "interval, and the highest TPR at 1% FPR over the attacks (0.5 and 0.01 are chance); "
    "* marks a TPR measured on fewer than 100 non-members (not reliable)."
)

FIGURE_HEADERS = (
    "quality (ceiling)",
    "detection AUC (ceiling)",
    "TSTR / TRTR",
    "membership AUC [95% CI]",
    "TPR at 1% FPR",
    "fit s",
    "sample s",
)


def markdown(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in rows]
    return "\n".join(lines)
