"""The scripts in examples/ run as shipped (on small sizes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custodian_example_writes_schema_model_and_synthetic(tmp_path, capsys):
    _load("custodian").main(tmp_path, rows=400)
    out = capsys.readouterr().out
    assert "over-sampled 200 synthetic women aged 80+" in out
    assert (tmp_path / "schema.yaml").is_file()
    assert (tmp_path / "model" / "integrity.json").is_file()
    syn = pd.read_csv(tmp_path / "synthetic.csv")
    assert len(syn) == 400
    assert "clinical_note" not in syn.columns  # free text is dropped


def test_researcher_example_runs_on_a_synthetic_cohort(tmp_path, capsys):
    module = _load("researcher")
    module.main(*module._make_example(tmp_path))
    out = capsys.readouterr().out
    assert "2000 synthetic records" in out
    assert "odds ratios of death" in out
