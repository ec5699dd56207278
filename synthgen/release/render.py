"""Rendering a release report: one self-contained HTML file, a PDF, and versioned JSON.

The HTML is a single file with no network references (no external CSS, scripts, fonts or
images) and no script at all: plots are inline SVG drawn with matplotlib, tables are plain
HTML, and the page is styled by one inline ``<style>``. It can be opened offline, archived,
and read by an output checker line by line. The PDF (matplotlib's ``PdfPages``: text pages for
the tables, figure pages for the plots) carries the same content without a browser.

The renderer draws only what the report holds: figures (aggregates), ``report["plots"]`` (the
output-checked plot data of :func:`synthgen.evaluation.plots.plot_data`), the verdict of the
gate and the output check's summary. Per-record data (e.g. the shadow attack's target
scores) is never shown. Every optional section renders as "not available" when missing.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from collections.abc import Iterable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import jinja2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from markupsafe import Markup  # noqa: E402

RELEASE_REPORT_KIND = "synthgen.release-report"
FORMAT_VERSION = 1
TEMPLATE = "report.html.j2"
SECTIONS: tuple[tuple[str, str], ...] = (
    ("verdict", "Release verdict"),
    ("fidelity", "Fidelity"),
    ("utility", "Utility"),
    ("privacy", "Privacy"),
    ("subgroups", "Subgroups"),
    ("provenance", "Provenance"),
    ("output-check", "Output checking"),
)
"""Section anchors and headings, in page order."""
FIGURES = ("marginals", "correlation", "km", "roc", "dcr")

_REAL = "#1f4e79"
_SYN = "#d9822b"
_HOLD = "#7f7f7f"


# ------------------------------------------------------------------------ small helpers
def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def _interval(ci: Any) -> str:
    if isinstance(ci, (list, tuple)) and len(ci) == 2 and None not in ci:
        return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"
    return "—"


def _figure_row(label: str, fig: Any) -> dict[str, str] | None:
    """A table row from a figure dict (value / ci / baseline / direction)."""
    if not isinstance(fig, dict) or "value" not in fig:
        return None
    return {
        "measure": label,
        "value": _fmt(fig.get("value")),
        "interval": _interval(fig.get("ci")),
        "ceiling": _fmt(fig.get("baseline")),
        "direction": _fmt(fig.get("direction")) if fig.get("direction") else "",
    }


def _rows(pairs: Iterable[tuple[str, Any]]) -> list[dict[str, str]]:
    return [row for label, fig in pairs if (row := _figure_row(label, fig)) is not None]


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


# ------------------------------------------------------------------------- view model
def _verdict_view(verdict: dict[str, Any] | None) -> dict[str, Any]:
    if verdict is None:
        return {"gated": False, "status": "not gated", "policy": None, "checks": []}
    checks = [
        {
            "rule": _fmt(c.get("rule")),
            "target": _fmt(c.get("target")),
            "value": _fmt(c.get("value")),
            "threshold": f"{c.get('op', '')} {_fmt(c.get('threshold'))}".strip(),
            "passed": bool(c.get("passed")),
            "reason": _fmt(c.get("reason")) if c.get("reason") else "",
        }
        for c in verdict.get("checks") or []
    ]
    released = bool(verdict.get("released"))
    return {
        "gated": True,
        "released": released,
        "status": "released" if released else "blocked",
        "policy": _policy_name(verdict.get("policy")),
        "checks": checks,
        "n_failed": sum(not c["passed"] for c in checks),
    }


def _fidelity_rows(fid: dict[str, Any]) -> list[dict[str, str]]:
    qr = fid.get("quality_report") or {}
    syn, base = qr.get("synthetic_vs_train") or {}, qr.get("baseline_holdout_vs_train") or {}
    pairs: list[tuple[str, Any]] = [
        (
            f"quality report: {part.replace('_', ' ')}",
            {"value": syn[part], "baseline": base.get(part), "direction": qr.get("direction")},
        )
        for part in ("overall", "column_shapes", "column_pair_trends")
        if part in syn
    ]
    summary = _get(fid, "marginals", "summary") or {}
    pairs += [(k.replace("_", " "), v) for k, v in summary.items() if isinstance(v, dict)]
    pairs += [("detection AUC", _get(fid, "detection", "auc"))]
    pr = fid.get("precision_recall") or {}
    pairs += [
        (k.replace("_", "-"), pr.get(k)) for k in ("alpha_precision", "beta_recall", "authenticity")
    ]
    pairs += [
        ("utility: TSTR − TRTR", _get(fid, "utility", "headline")),
        ("survival: integrated KM difference", _get(fid, "survival", "headline")),
        ("survival: Cox CI overlap share", _get(fid, "survival", "cox", "overlap_share")),
        ("survival: C-index", _get(fid, "survival", "cox", "c_index")),
        ("validity: invalid share", _get(fid, "validity", "invalid_share")),
    ]
    return _rows(pairs)


def _utility_view(fid: dict[str, Any]) -> list[dict[str, Any]]:
    targets = _get(fid, "utility", "targets") or {}
    out = []
    for target, entry in targets.items():
        if not isinstance(entry, dict):
            continue
        rows = []
        for model, metrics in (entry.get("models") or {}).items():
            for metric, fig in (metrics or {}).items():
                if isinstance(fig, dict) and "value" in fig:
                    rows.append(
                        {
                            "model": model,
                            "metric": metric,
                            "value": _fmt(fig.get("value")),
                            "interval": _interval(fig.get("ci")),
                            "ceiling": _fmt(fig.get("baseline")),
                            "difference": _fmt(_get(fig, "difference", "value")),
                        }
                    )
        out.append(
            {
                "target": target,
                "task": _fmt(entry.get("task")),
                "rows": rows,
                "reason": entry.get("reason"),
            }
        )
    return out


def _privacy_rows(priv: dict[str, Any]) -> list[dict[str, str]]:
    pairs: list[tuple[str, Any]] = [
        ("exact copies (share)", _get(priv, "copies", "exact_copies")),
        ("near copies (share)", _get(priv, "copies", "near_copies")),
        (
            "DCR share (closer to train than holdout)",
            _get(priv, "distance_to_closest_record", "dcr_share"),
        ),
    ]
    for p, fig in (_get(priv, "distance_to_closest_record", "dcr_percentiles") or {}).items():
        pairs.append((f"DCR {p}th percentile", fig))
    pairs.append(("NNDR median", _get(priv, "distance_to_closest_record", "nndr_median")))
    for name, attack in (priv.get("membership_attacks") or {}).items():
        pairs.append((f"attack {name}: AUC", _get(attack, "auc")))
        for fpr, fig in (_get(attack, "tpr_at_fpr") or {}).items():
            pairs.append((f"attack {name}: TPR at FPR {fpr}", fig))
    shadow = priv.get("shadow_model")
    if isinstance(shadow, dict):  # aggregates only: its per-target rows are never shown
        pairs += [
            ("shadow models: accuracy", shadow.get("shadow_accuracy")),
            ("shadow models: max member score", shadow.get("max_member_score")),
        ]
    for name, entry in (_get(priv, "worst_case", "attacks") or {}).items():
        pairs.append(
            (
                f"worst case {name}: members above every non-member",
                _get(entry, "members_above_every_nonmember"),
            )
        )
    reid = priv.get("quasi_identifier_reidentification")
    if isinstance(reid, dict):
        pairs += [
            ("quasi-identifiers: unique share (real cohort)", reid.get("unique_share")),
            ("quasi-identifiers: match share", reid.get("match_share")),
            ("quasi-identifiers: sensitive agreement (all)", reid.get("sensitive_agreement_all")),
        ]
    disclosure = priv.get("disclosure") or {}
    for name in ("singling_out", "linkability"):
        if isinstance(disclosure.get(name), dict):
            pairs.append((f"{name.replace('_', ' ')} risk", disclosure[name].get("risk")))
    for secret, entry in (disclosure.get("inference") or {}).items():
        pairs.append((f"attribute inference risk: {secret}", _get(entry, "risk")))
    return _rows(pairs)


def _subgroup_view(fid: dict[str, Any]) -> dict[str, Any] | None:
    by = fid.get("by_subgroup")
    if not isinstance(by, dict) or not by.get("groups"):
        return None
    measures = by.get("measures") or {}
    rows = []
    for g in by["groups"]:
        cells = []
        flagged = False
        for m in measures:
            fig = g.get(m) if isinstance(g.get(m), dict) else {}
            worst = bool(fig.get("worst"))
            flagged |= worst
            cells.append(
                {
                    "value": _fmt(fig.get("value")),
                    "ceiling": _fmt(fig.get("baseline")),
                    "worst": worst,
                }
            )
        rows.append(
            {
                "column": g.get("column"),
                "level": g.get("level"),
                "n": _fmt(g.get("n_train")),
                "too_few": bool(g.get("too_few_records")),
                "cells": cells,
                "flagged": flagged,
            }
        )
    return {
        "measures": [(m, _fmt(v.get("label", m))) for m, v in measures.items()],
        "rows": rows,
        "min_records": by.get("min_records"),
    }


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        out: list[tuple[str, str]] = []
        for key, value in data.items():
            out += _flatten(
                value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}"
            )
        if not data and prefix:
            out.append((prefix.rstrip("."), "—"))
        return out
    return [(prefix, _fmt(data))]


def _output_check_view(output_check: Any) -> list[dict[str, str]] | None:
    if output_check is None:
        return None
    items = (
        output_check.get("items", output_check) if isinstance(output_check, dict) else output_check
    )
    return [
        {"item": _fmt(i.get("item")), "rule": _fmt(i.get("rule")), "status": _fmt(i.get("status"))}
        for i in items or []
        if isinstance(i, dict)
    ]


def _view(report: dict[str, Any], verdict: Any, output_check: Any) -> dict[str, Any]:
    fid = report.get("fidelity") or {}
    priv = report.get("privacy") or {}
    plots = report.get("plots") or {}
    return {
        "sections": SECTIONS,
        "verdict": _verdict_view(verdict),
        "fidelity_rows": _fidelity_rows(fid),
        "marginals_skipped": plots.get("marginals_skipped") or {},
        "min_count": plots.get("min_count"),
        "utility": _utility_view(fid),
        "privacy_rows": _privacy_rows(priv),
        "subgroups": _subgroup_view(fid),
        "sizes": _flatten(report.get("sizes") or {}),
        "settings": _flatten(report.get("settings") or {}),
        "provenance": _flatten(report.get("provenance") or {}),
        "output_check": _output_check_view(output_check),
    }


# -------------------------------------------------------------------------------- API
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("synthgen.release", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _policy_name(policy: Any) -> Any:
    """The policy's name, from a verdict's ``{"name", "sha256"}`` or a plain name."""
    return policy.get("name") if isinstance(policy, dict) else policy


def render_html(
    report: dict[str, Any],
    *,
    verdict: dict[str, Any] | None = None,
    output_check: Any = None,
) -> str:
    """The report as one self-contained, script-free HTML page.

    Args:
        report: an evaluation report as plain data (``EvaluationReport.to_dict()``), with
            ``report["plots"]`` from :func:`synthgen.evaluation.plots.plot_data` if plots are
            wanted.
        verdict: the gate's verdict (``{"policy", "released", "checks": [...]}``); None
            renders "not gated".
        output_check: the output check's items (``[{"item", "rule", "status"}]``, or a dict
            holding them under ``"items"``); None renders "not run".

    Returns:
        The HTML text.
    """
    figures: dict[str, Markup | None] = dict.fromkeys(FIGURES)
    figures.update({name: _svg(fig) for name, fig in _figures(report).items()})
    template = _environment().get_template(TEMPLATE)
    return template.render(**_view(report, verdict, output_check), svg=figures)


def _text_pages(title: str, lines: list[str], pdf: Any, per_page: int = 60) -> None:
    for start in range(0, max(len(lines), 1), per_page):
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.text(
            0.06,
            0.96,
            title + (" (continued)" if start else ""),
            fontsize=13,
            weight="bold",
            va="top",
        )
        fig.text(
            0.06,
            0.93,
            "\n".join(lines[start : start + per_page]),
            fontsize=7,
            family="monospace",
            va="top",
        )
        pdf.savefig(fig)
        plt.close(fig)


def _table_lines(rows: list[dict[str, str]], keys: list[str]) -> list[str]:
    if not rows:
        return ["(none)"]
    widths = {k: min(48, max(len(k), *(len(str(r.get(k, ""))) for r in rows))) for k in keys}
    head = "  ".join(k.ljust(widths[k]) for k in keys)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            "  ".join(
                textwrap.shorten(str(r.get(k, "")), widths[k], placeholder="…").ljust(widths[k])
                for k in keys
            )
        )
    return lines


def render_pdf(
    report: dict[str, Any],
    *,
    verdict: dict[str, Any] | None = None,
    output_check: Any = None,
) -> bytes:
    """The same content as :func:`render_html` as a PDF (no browser needed).

    Text pages hold the tables, figure pages the plots, in the HTML's section order.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    view = _view(report, verdict, output_check)
    figures = _figures(report)
    buf = io.BytesIO()
    with PdfPages(
        buf, metadata={"Title": "synthgen release report", "CreationDate": None, "ModDate": None}
    ) as pdf:
        v = view["verdict"]
        lines = [f"Status: {v['status'].upper()}"]
        if v["gated"]:
            lines += [f"Policy: {_fmt(v['policy'])}", ""]
            rows = [{**c, "result": "pass" if c["passed"] else "FAIL"} for c in v["checks"]]
            lines += _table_lines(rows, ["rule", "target", "value", "threshold", "result"])
        _text_pages("1. Release verdict", lines, pdf)
        _text_pages(
            "2. Fidelity",
            _table_lines(view["fidelity_rows"], ["measure", "value", "interval", "ceiling"]),
            pdf,
        )
        for name in ("marginals", "correlation", "km"):
            if name in figures:
                pdf.savefig(figures.pop(name))
        lines = []
        for t in view["utility"]:
            lines += [f"Target: {t['target']} ({t['task']})"]
            lines += _table_lines(
                t["rows"], ["model", "metric", "value", "interval", "ceiling", "difference"]
            ) + [""]
        _text_pages("3. Utility", lines or ["Not available."], pdf)
        _text_pages(
            "4. Privacy",
            _table_lines(view["privacy_rows"], ["measure", "value", "interval", "ceiling"]),
            pdf,
        )
        for name in ("roc", "dcr"):
            if name in figures:
                pdf.savefig(figures.pop(name))
        sub = view["subgroups"]
        lines = ["Not available."]
        if sub:
            keys = ["group", *[label for _, label in sub["measures"]], "flag"]
            rows = [
                {
                    "group": f"{r['column']}={r['level']}",
                    **{
                        label: c["value"] + (" *" if c["worst"] else "")
                        for (_, label), c in zip(sub["measures"], r["cells"], strict=True)
                    },
                    "flag": "worst" if r["flagged"] else "",
                }
                for r in sub["rows"]
            ]
            lines = _table_lines(rows, keys)
        _text_pages("5. Subgroups", lines, pdf)
        lines = ["Sizes"] + [f"  {k}: {v}" for k, v in view["sizes"]]
        lines += ["", "Settings"] + [f"  {k}: {v}" for k, v in view["settings"]]
        lines += ["", "Provenance"] + [f"  {k}: {v}" for k, v in view["provenance"]]
        _text_pages("6. Provenance", lines, pdf)
        oc = view["output_check"]
        _text_pages(
            "7. Output checking",
            ["Not run."] if oc is None else _table_lines(oc, ["item", "rule", "status"]),
            pdf,
        )
        for fig in figures.values():
            plt.close(fig)
    return buf.getvalue()


def render_json(
    report: dict[str, Any],
    *,
    verdict: dict[str, Any] | None = None,
    output_check: Any = None,
) -> str:
    """The versioned JSON of a release report: the report, the verdict and the output check."""
    return json.dumps(
        {
            "kind": RELEASE_REPORT_KIND,
            "format_version": FORMAT_VERSION,
            "report": report,
            "verdict": verdict,
            "output_check": output_check,
        },
        indent=2,
        default=_plain,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
