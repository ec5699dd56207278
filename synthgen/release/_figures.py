"""Figure builders of the release report: matplotlib figures, and inline SVG from them.

Each builder draws one figure from the report's aggregates (``report["plots"]`` from
:func:`synthgen.evaluation.plots.plot_data`, or the fidelity correlation matrix) and returns
None when its data is missing, so the section renders as "not available".
"""

from __future__ import annotations

import io
import re
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from markupsafe import Markup  # noqa: E402

from synthgen.release._format import _fmt, _get  # noqa: E402

_REAL = "#1f4e79"
_SYN = "#d9822b"
_HOLD = "#7f7f7f"


# ------------------------------------------------------------------------------ plots
def _svg(fig: plt.Figure) -> Markup:
    """The figure as inline SVG: no XML prolog, no DOCTYPE, no metadata (which names URLs)."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "synthgen"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return Markup(text)


def _bin_labels(edges: list[Any]) -> list[str]:
    if not edges:
        return ["all"]
    labels = [f"< {edges[0]}"]
    labels += [f"{a}–{b}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    labels.append(f"≥ {edges[-1]}")
    return labels


def _marginal_axes(ax: plt.Axes, name: str, entry: dict[str, Any]) -> None:
    if entry.get("type") == "binned":
        labels = _bin_labels(entry.get("edges") or [])
    else:
        labels = [str(x) for x in entry.get("labels") or []]
    x = np.arange(len(labels))
    series = [("train", "real (train)", _REAL), ("synthetic", "synthetic", _SYN)]
    width = 0.8 / len(series)
    for i, (key, label, colour) in enumerate(series):
        values = entry.get(key)
        if values and len(values) == len(labels):
            ax.bar(x + (i - 0.5) * width, values, width, label=label, color=colour)
    holdout = entry.get("holdout")
    if holdout and len(holdout) == len(labels):
        ax.plot(x, holdout, "_", color=_HOLD, markersize=8, label="holdout")
    ax.set_title(name, fontsize=9)
    step = max(1, len(labels) // 6)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(
        [textwrap.shorten(s, 14, placeholder="…") for s in labels[::step]],
        rotation=30,
        ha="right",
        fontsize=6,
    )
    ax.tick_params(axis="y", labelsize=6)


def marginals_figure(plots: dict[str, Any]) -> plt.Figure | None:
    entries = plots.get("marginals") or {}
    if not entries:
        return None
    n = len(entries)
    cols = 4
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.3 * rows), squeeze=False)
    for ax, (name, entry) in zip(axes.flat, entries.items(), strict=False):
        _marginal_axes(ax, name, entry)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def correlation_figure(matrix: dict[str, Any] | None) -> plt.Figure | None:
    cols = _get(matrix, "columns")
    values = _get(matrix, "synthetic")
    if not cols or not values:
        return None
    arr = np.array(values, dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(arr, cmap="Reds", vmin=0.0, vmax=max(0.2, float(np.nanmax(arr))))
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(cols)))
    ax.set_yticklabels(cols, fontsize=7)
    ax.set_title("|correlation(synthetic) − correlation(train)|", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig


def km_figure(km: dict[str, Any] | None) -> plt.Figure | None:
    if not km or not km.get("times"):
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    for key, label, colour in (("train", "real (train)", _REAL), ("synthetic", "synthetic", _SYN)):
        if km.get(key):
            ax.step(km["times"], km[key], where="post", label=label, color=colour)
    ax.set_xlabel(
        f"{km.get('time_column', 'time')} (the curves stop before fewer than k remain at risk)",
        fontsize=8,
    )
    ax.set_ylabel("survival", fontsize=8)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title(f"Kaplan–Meier: {km.get('event_column', 'event')}", fontsize=9)
    fig.tight_layout()
    return fig


def roc_figure(roc: dict[str, Any] | None) -> plt.Figure | None:
    if not roc:
        return None
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot([0, 1], [0, 1], ":", color=_HOLD, label="guessing (AUC 0.5)")
    for name, curve in roc.items():
        ax.plot(curve["fpr"], curve["tpr"], label=f"{name} (AUC {_fmt(curve.get('auc'))})")
    ax.set_xlabel("false-positive rate", fontsize=8)
    ax.set_ylabel("true-positive rate", fontsize=8)
    ax.set_title("Membership-inference attacks: ROC", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def dcr_figure(dcr: dict[str, Any] | None) -> plt.Figure | None:
    if not dcr or not dcr.get("holdout"):
        return None
    edges = [round(e, 3) for e in dcr.get("edges") or []]
    lows = [dcr.get("lower", 0.0), *edges]
    labels = [f"{a}–{b}" for a, b in zip(lows[:-1], edges, strict=True)]
    labels.append(f"≥ {edges[-1]}" if edges else "all")
    x = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.bar(x - 0.2, dcr["holdout"], 0.4, label="holdout → train (baseline)", color=_HOLD)
    ax.bar(x + 0.2, dcr["synthetic"], 0.4, label="synthetic → train", color=_SYN)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("share of records", fontsize=8)
    ax.set_title("Distance to the closest training record", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _figures(report: dict[str, Any]) -> dict[str, plt.Figure]:
    plots = report.get("plots") or {}
    built = {
        "marginals": marginals_figure(plots),
        "correlation": correlation_figure(
            _get(report, "fidelity", "marginals", "correlation", "matrix")
        ),
        "km": km_figure(plots.get("km")),
        "roc": roc_figure(plots.get("roc")),
        "dcr": dcr_figure(plots.get("dcr")),
    }
    return {name: fig for name, fig in built.items() if fig is not None}
