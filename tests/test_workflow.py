"""The custodian's steps as Python functions: provenance and the recorded split."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.cohort import fingerprint


@pytest.fixture(scope="module")
def cohort_file(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("wf") / "cohort.parquet"
    sg.write_table(sg.datasets.demo_cohort(300, seed=11), path)
    return path


@pytest.fixture
def trained(cohort_file, tmp_path):
    return sg.train_model(
        cohort_file,
        output=tmp_path / "model",
        params={"default_distribution": "norm"},
        holdout=0.25,
        seed=4,
    )


def test_provenance_records_versions_params_seed_and_fingerprints(trained, cohort_file):
    doc = json.loads((trained.model_dir / "model.json").read_text())
    prov = doc["provenance"]
    for dist in ("synthgen", "sdv", "torch"):
        assert prov["software"][dist] not in ("", "not installed")
    assert prov["generator"] == "gaussian_copula"
    assert prov["params"]["default_distribution"] == "norm"
    assert doc["resolved_params"] == doc["params"]  # nothing left to the generator to choose
    assert prov["seed"] == 4
    assert prov["source"]["path"] == str(cohort_file.resolve())
    data = prov["data"]
    assert data["rows"] == 300
    assert len(data["fingerprint"]) == 64 and len(data["train_fingerprint"]) == 64
    assert data["fingerprint"] != data["train_fingerprint"]
    assert doc["split"]["n_holdout"] == 75 and doc["split"]["n_train"] == 225


def test_recorded_split_gives_exactly_the_training_records(trained):
    split = sg.recorded_split(trained.model_dir)
    doc = json.loads((trained.model_dir / "model.json").read_text())
    data = doc["provenance"]["data"]
    assert fingerprint(split.train, salt=data["salt"]) == data["train_fingerprint"]
    assert len(split.holdout) == 75
    # the same split drawn afresh from the same seed
    schema = sg.Schema.load(trained.model_dir / "schema.yaml")
    typed = schema.coerce(sg.read_table(doc["provenance"]["source"]["path"]))
    again = sg.Cohort(typed).split(0.25, seed=4)
    np.testing.assert_array_equal(again.holdout_rows, split.holdout_rows)


def test_recorded_split_refuses_other_data(trained, tmp_path):
    doc = json.loads((trained.model_dir / "model.json").read_text())
    changed = sg.read_table(doc["provenance"]["source"]["path"])
    changed.loc[5, "bmi"] = (changed.loc[5, "bmi"] if pd.notna(changed.loc[5, "bmi"]) else 20) + 1
    other = sg.write_table(changed, tmp_path / "other.parquet")
    with pytest.raises(sg.InputError, match="not the data"):
        sg.recorded_split(trained.model_dir, other)
