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
import textwrap
from collections.abc import Iterable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import jinja2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from markupsafe import Markup  # noqa: E402

from synthgen.evaluation.report import NOT_PRIVATE, describe_budget  # noqa: E402
from synthgen.release._figures import _HOLD as _HOLD  # noqa: E402
from synthgen.release._figures import _REAL as _REAL  # noqa: E402
from synthgen.release._figures import _SYN as _SYN  # noqa: E402
from synthgen.release._figures import _bin_labels as _bin_labels  # noqa: E402
from synthgen.release._figures import _figures as _figures  # noqa: E402
from synthgen.release._figures import _marginal_axes as _marginal_axes  # noqa: E402
from synthgen.release._figures import _svg as _svg  # noqa: E402
from synthgen.release._figures import correlation_figure as correlation_figure  # noqa: E402
from synthgen.release._figures import dcr_figure as dcr_figure  # noqa: E402
from synthgen.release._figures import km_figure as km_figure  # noqa: E402
from synthgen.release._figures import marginals_figure as marginals_figure  # noqa: E402
from synthgen.release._figures import roc_figure as roc_figure  # noqa: E402
from synthgen.release._format import _fmt as _fmt  # noqa: E402
from synthgen.release._format import _get as _get  # noqa: E402

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


# ------------------------------------------------------------------------ small helpers
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


def _dp_view(priv: dict[str, Any]) -> dict[str, Any]:
    """The line on differential privacy: the budget spent, or that there is none."""
    section = priv.get("differential_privacy")
    if not isinstance(section, dict):
        return {"private": False, "statement": "not recorded in this report", "details": []}
    private = bool(section.get("private"))
    return {
        "private": private,
        "statement": describe_budget(section) if private else NOT_PRIVATE,
        "details": _flatten(section.get("details") or {}) if private else [],
    }


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
        "dp": _dp_view(priv),
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
        dp_line = f"Differential privacy: {view['dp']['statement']}"
        lines = [f"Status: {v['status'].upper()}", dp_line]
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
        lines = [dp_line] + [f"  {k}: {val}" for k, val in view["dp"]["details"]] + [""]
        lines += _table_lines(view["privacy_rows"], ["measure", "value", "interval", "ceiling"])
        _text_pages("4. Privacy", lines, pdf)
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
