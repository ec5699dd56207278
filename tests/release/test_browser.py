"""The rendered report in a real headless Chromium: it loads, shows every section, and logs
no errors.

The page is script-free by design (safer for output checkers), so "no errors" means no failed
resource loads, no Content-Security-Policy refusals and no console errors: the page's CSP
(``default-src 'none'``) would refuse any external CSS, font, image or script, and such a
refusal or a failed fetch shows up in Chromium's log.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from matplotlib.image import imread

import synthgen as sg
from synthgen.evaluation.evaluate import typed_synthetic
from synthgen.evaluation.plots import plot_data
from synthgen.evaluation.privacy import distance_attack, distance_to_closest_record
from synthgen.release.render import SECTIONS, render_html

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"]
# older Chromium logs console messages as "CONSOLE(line)", newer as "INFO:CONSOLE:line]"
ERROR_MARKERS = (
    "Uncaught",
    "CONSOLE(",
    ":CONSOLE",
    "Failed to load resource",
    "Refused to",
    "Content Security Policy",
)
VERDICT = {
    "policy": "strict",
    "released": True,
    "checks": [
        {
            "rule": "max_mia_auc",
            "target": "privacy",
            "path": "privacy.membership_attacks",
            "value": 0.51,
            "op": "<=",
            "threshold": 0.6,
            "passed": True,
            "reason": "",
        }
    ],
}


@pytest.fixture(scope="module")
def report_page(demo_split, demo_schema, gaussian_copula, tmp_path_factory) -> Path:
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
    tables = dict(
        train=train,
        holdout=holdout,
        schema=demo_schema,
        synthetic=typed_synthetic(synthetic, demo_schema),
    )
    report["plots"] = plot_data(
        **tables,
        attacks={"distance": distance_attack(**tables, seed=0, n_boot=5)},
        dcr=distance_to_closest_record(**tables, seed=0),
    )
    page = tmp_path_factory.mktemp("browser") / "report.html"
    page.write_text(render_html(report, verdict=VERDICT, output_check=[]), encoding="utf-8")
    return page


def _run(chromium: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, *FLAGS, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if any(m in line for m in ERROR_MARKERS)]


def test_dom_shows_verdict_and_every_section(chromium, report_page):
    done = _run(chromium, "--dump-dom", report_page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "Released under policy" in dom and "max_mia_auc" in dom
    for _, heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in dom
    assert dom.count("<svg") >= 5
    assert not _errors(done.stderr), _errors(done.stderr)


def test_screenshot_is_not_blank(chromium, report_page, tmp_path):
    shot = tmp_path / "report.png"
    done = _run(chromium, f"--screenshot={shot}", "--window-size=1200,2000", report_page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    assert float(pixels.std()) > 0.05
    non_white = float((pixels.min(axis=2) < 0.9).mean())
    assert 0.02 < non_white < 0.9
    assert not _errors(done.stderr), _errors(done.stderr)


def test_the_log_check_catches_an_external_resource(chromium, tmp_path):
    """Negative control: the same check flags a page that tries to fetch from the network."""
    head = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
    page = tmp_path / "bad.html"
    page.write_text(
        f"<!DOCTYPE html><html><head>{head}</head><body>"
        '<img src="https://example.org/x.png"></body></html>',
        encoding="utf-8",
    )
    done = _run(chromium, "--dump-dom", page.as_uri())
    assert _errors(done.stderr), done.stderr[-2000:]
