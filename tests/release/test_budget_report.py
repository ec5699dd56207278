"""The spent privacy budget in the evaluation report, its renderings and the bundle manifest."""

from __future__ import annotations

import json
import re
import warnings
import zlib

import pandas as pd
import pytest

import synthgen as sg
from synthgen.errors import InputError
from synthgen.evaluation.report import (
    NOT_PRIVATE,
    EvaluationReport,
    budget_section,
    describe_budget,
)
from synthgen.release.output_check import check_report
from synthgen.release.render import render_html, render_json, render_pdf
from synthgen.release.run import bundle_provenance

# what an MST model records (itemised spends included)
MST_BUDGET = {
    "epsilon": 1.0,
    "delta": 1e-6,
    "mechanism": "MST",
    "accountant": "zCDP",
    "rho": 0.0125,
    "epsilon_spent": 0.9871,
    "neighbouring": "add/remove one record",
    "spent": [{"what": "1-way marginals", "rho": 0.004, "delta": 0.0}],
}
LINE = "ε = 1, δ = 1e-6 (MST, zCDP)"


def _report(budget: dict | None, *, section: bool = True) -> dict:
    privacy = {"differential_privacy": budget_section(budget)} if section else {}
    return EvaluationReport(
        sizes={"train": 320, "holdout": 80, "synthetic": 200}, privacy=privacy
    ).to_dict()


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        (MST_BUDGET, LINE),
        ({"epsilon": 0.5, "delta": 1e-5}, "ε = 0.5, δ = 1e-5"),
        ({"epsilon": 3, "delta": 2.5e-7, "mechanism": "DP-SGD"}, "ε = 3, δ = 2.5e-7 (DP-SGD)"),
        ({"epsilon": 8.0}, "ε = 8"),
        (None, NOT_PRIVATE),
        ({}, NOT_PRIVATE),
    ],
)
def test_describe_budget(budget, expected) -> None:
    assert describe_budget(budget) == expected


def test_the_section_of_a_dp_model_keeps_the_figures_not_the_itemised_spends() -> None:
    section = budget_section(MST_BUDGET)
    assert section == {
        "private": True,
        "epsilon": 1.0,
        "delta": 1e-6,
        "mechanism": "MST",
        "accountant": "zCDP",
        "details": {
            "rho": 0.0125,
            "epsilon_spent": 0.9871,
            "neighbouring": "add/remove one record",
        },
        "statement": LINE,
    }
    assert describe_budget(section) == LINE
    assert json.loads(json.dumps(section)) == section


def test_the_section_without_dp_says_so() -> None:
    section = budget_section(None)
    assert section["private"] is False and section["epsilon"] is None
    assert section["statement"] == "none: empirical audit only"


@pytest.mark.parametrize(
    "budget",
    [
        {"epsilon": 0, "delta": 1e-6},
        {"epsilon": -1},
        {"epsilon": "1"},
        {"epsilon": float("inf")},
        {"epsilon": True},
        {"epsilon": 1, "delta": 1.5},
        {"delta": 1e-6},
        [1.0, 1e-6],
    ],
)
def test_a_malformed_budget_is_refused(budget) -> None:
    with pytest.raises(InputError, match="privacy_budget"):
        budget_section(budget)


def test_evaluate_refuses_a_malformed_budget_before_any_work() -> None:
    empty = pd.DataFrame({"x": []})
    with pytest.raises(InputError, match="privacy_budget: epsilon must be a positive number"):
        sg.evaluate(
            train=empty,
            holdout=empty,
            synthetic=empty,
            schema=sg.infer_schema(pd.DataFrame({"x": [1.0, 2.0]})),
            privacy_budget={"epsilon": 0},
        )


def test_the_output_check_passes_the_budget_untouched() -> None:
    report = _report(MST_BUDGET)
    checked, summary = check_report(report, k=10)
    assert checked["privacy"]["differential_privacy"] == report["privacy"]["differential_privacy"]
    items = {i.item: i.status for i in summary.items}
    assert items["privacy/differential_privacy"] == "passed"


def test_html_states_the_budget_and_stays_script_free() -> None:
    html = render_html(_report(MST_BUDGET))
    assert f'<p id="differential-privacy"><strong>Differential privacy:</strong> {LINE}</p>' in html
    assert "epsilon_spent" in html and "0.9871" in html
    assert "1-way marginals" not in html  # itemised spends stay in the manifest
    assert "<script" not in html.lower() and "http" not in html.replace(
        'http-equiv="Content-Security-Policy"', ""
    )


def test_html_of_a_model_without_dp() -> None:
    html = render_html(_report(None))
    assert "<strong>Differential privacy:</strong> none: empirical audit only" in html
    assert "No formal guarantee" in html
    older = render_html(_report(None, section=False))  # a report.json from before budgets
    assert "<strong>Differential privacy:</strong> not recorded in this report" in older


def test_json_carries_the_budget() -> None:
    doc = json.loads(render_json(_report(MST_BUDGET)))
    assert doc["report"]["privacy"]["differential_privacy"]["statement"] == LINE


def _streams(pdf: bytes) -> list[str]:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            pass
    return out


def _pdf_lines(pdf: bytes) -> list[str]:
    """The text drawn on the PDF's pages, one string per text run (glyph by glyph in TJ)."""
    return [
        "".join(re.findall(r"\((.*?)\)", run))
        for text in _streams(pdf)
        for run in re.findall(r"\[(.*?)\]\s*TJ", text, re.S)
    ]


def test_pdf_states_the_budget_with_its_greek_letters() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdf = render_pdf(_report(MST_BUDGET))
    assert pdf.startswith(b"%PDF-")
    assert not [w for w in caught if "glyph" in str(w.message).lower()]
    # ε and δ are glyphs 0 and 1 of a second font subset (its cmap maps them to U+03B5, U+03B4)
    runs = _pdf_lines(pdf)
    starts = [i for i, run in enumerate(runs) if run == "Differential privacy: "]
    assert len(starts) == 2, runs  # in the verdict summary and atop the privacy section
    for i in starts:
        assert " = 1, " in runs[i + 1 : i + 5]
        assert any("1e-6" in run and "MST, zCDP" in run for run in runs[i + 1 : i + 5])
    assert "<03b5> <03b4>" in "".join(_streams(pdf))


def test_the_manifest_provenance_holds_the_whole_budget() -> None:
    doc = {"generator": "mst", "params": {"epsilon": 1.0}, "privacy_budget": MST_BUDGET}
    prov = bundle_provenance(doc, n=100, seed=0)
    assert prov["privacy_budget"] == MST_BUDGET
    assert bundle_provenance({"generator": "tvae"}, n=100, seed=0)["privacy_budget"] is None


def test_the_manifest_provenance_holds_the_parameters_as_given_and_as_resolved() -> None:
    given = {"sampling_noise": None, "swap_share": None, "seed": 0}
    resolved = {"sampling_noise": 0.2, "swap_share": 1.0, "seed": 0}
    doc = {"generator": "diffusion", "params": given, "resolved_params": resolved}
    prov = bundle_provenance(doc, n=100, seed=0)
    assert prov["params"] == given and prov["resolved_params"] == resolved
    # a model directory written before resolved parameters were recorded
    assert bundle_provenance({"generator": "tvae"}, n=100, seed=0)["resolved_params"] is None
