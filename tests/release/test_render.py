"""Rendering the release report: one self-contained HTML page, a PDF, versioned JSON."""

from __future__ import annotations

import copy
import json
import re

import pytest

import synthgen as sg
from synthgen.evaluation.evaluate import typed_synthetic
from synthgen.evaluation.plots import plot_data
from synthgen.evaluation.privacy import distance_attack, distance_to_closest_record
from synthgen.release.render import SECTIONS, render_html, render_json, render_pdf

VERDICT = {
    "policy": "cross-border",
    "released": False,
    "checks": [
        {
            "rule": "max_detection_auc",
            "target": "fidelity",
            "path": "fidelity.detection.auc.value",
            "value": 0.93,
            "op": "<=",
            "threshold": 0.8,
            "passed": False,
            "reason": "synthetic records are <easily> told apart",
        },
        {
            "rule": "max_mia_auc",
            "target": "privacy",
            "path": "privacy.membership_attacks.distance.auc.value",
            "value": 0.51,
            "op": "<=",
            "threshold": 0.6,
            "passed": True,
            "reason": "",
        },
    ],
}
OUTPUT_CHECK = [{"item": "report.html", "rule": "no cell below 10 real records", "status": "pass"}]


@pytest.fixture(scope="module")
def demo_report(demo_split, demo_schema, gaussian_copula) -> dict:
    """A real evaluation of the demo cohort (small settings) with its plot data."""
    train, holdout = demo_split.train, demo_split.holdout
    synthetic = gaussian_copula.sample(len(train), seed=0)
    report = sg.evaluate(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=demo_schema,
        n_boot=20,
        n_attacks=50,
    ).to_dict()
    synthetic = typed_synthetic(synthetic, demo_schema)
    tables = dict(train=train, holdout=holdout, synthetic=synthetic, schema=demo_schema)
    report["plots"] = plot_data(
        **tables,
        attacks={"distance": distance_attack(**tables, seed=0, n_boot=5)},
        dcr=distance_to_closest_record(**tables, seed=0),
    )
    return report


def test_html_holds_the_verdict_every_section_and_inline_svg(demo_report):
    html = render_html(demo_report, verdict=VERDICT, output_check=OUTPUT_CHECK)
    assert html.startswith("<!DOCTYPE html>")
    assert "Blocked under policy" in html and "cross-border" in html
    assert "max_detection_auc" in html and "max_mia_auc" in html
    assert "&lt;easily&gt;" in html  # autoescaped
    positions = [html.index(f"<h2>{heading}</h2>") for _, heading in SECTIONS]
    assert positions == sorted(positions)  # verdict first, output checking last
    assert html.count("<svg") >= 5  # marginals, correlation, KM, ROC, DCR
    assert "no cell below 10 real records" in html


def test_html_is_self_contained_and_script_free(demo_report):
    html = render_html(demo_report, verdict=VERDICT, output_check=OUTPUT_CHECK)
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.I)
    external = [r for r in refs if not r.startswith(("#", "data:image/"))]  # heatmap: inline PNG
    assert refs and not external, external
    assert "<script" not in html.lower()
    assert "@import" not in html
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", html))  # clip paths
    # the only URLs left are XML namespace names, never fetched
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_html_without_verdict_output_check_or_optional_sections(demo_report):
    bare = copy.deepcopy(demo_report)
    bare.pop("plots")
    for name in ("utility", "survival", "by_subgroup", "precision_recall"):
        bare["fidelity"].pop(name, None)
    bare["privacy"]["shadow_model"] = None
    bare["privacy"].pop("disclosure")
    html = render_html(bare)
    assert "Not gated" in html and "Not run" in html
    for _, heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in html
    assert html.count("<svg") == 1  # the correlation heatmap comes from the report itself
    minimal = render_html(
        {"kind": "synthgen.evaluation", "format_version": 1, "sizes": {"train": 10}}
    )
    assert "<svg" not in minimal and "Not available" in minimal


def test_pdf_has_several_pages(demo_report):
    pdf = render_pdf(demo_report, verdict=VERDICT, output_check=OUTPUT_CHECK)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 8
    assert render_pdf({"sizes": {"train": 10}}).startswith(b"%PDF")


def test_json_round_trip(demo_report):
    text = render_json(demo_report, verdict=VERDICT, output_check=OUTPUT_CHECK)
    data = json.loads(text)
    assert data["kind"] == "synthgen.release-report" and data["format_version"] == 1
    assert data["report"] == json.loads(json.dumps(demo_report))
    assert data["verdict"] == VERDICT and data["output_check"] == OUTPUT_CHECK
    assert json.loads(render_json(demo_report))["verdict"] is None


def test_verdict_names_its_policy() -> None:
    from synthgen.release.render import render_html

    verdict = {
        "policy": {"name": "partner", "sha256": "ab" * 32},
        "released": False,
        "checks": [
            {
                "rule": "exact_copies",
                "target": None,
                "path": "privacy/copies/exact_copies",
                "value": 0.2,
                "op": "<=",
                "threshold": 0.001,
                "passed": False,
                "reason": "0.2 is not <= 0.001",
            }
        ],
    }
    html = render_html({"kind": "synthgen.evaluation", "sizes": {}}, verdict=verdict)
    assert "partner" in html and "sha256" not in html
