"""Output checking: per-record content removed, small cells suppressed, rare categories."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import InputError
from synthgen.release.output_check import OTHER, check_report, protect_categories


def _report() -> dict:
    return {
        "sizes": {"train": 100, "holdout": 50, "synthetic": 100},
        "fidelity": {
            "validity": {
                "checks": {
                    "range": [
                        {
                            "column": "age",
                            "violations": {"value": 2, "baseline": 3},
                            "share": {"value": 0.02, "baseline": 0.06},
                        },
                        {
                            "column": "bmi",
                            "violations": {"value": 1, "baseline": 0},
                            "share": {"value": 0.01, "baseline": 0.0},
                        },
                    ]
                }
            }
        },
        "privacy": {
            "copies": {
                "exact_copies": {"value": 0.0, "ci": [0, 0.04], "count": 0, "n": 100},
                "near_copies": {"value": 0.03, "ci": [0.01, 0.08], "count": 3, "n": 100},
            },
            "reid": {
                "value": 0.2,
                "baseline": 0.1,
                "baseline_ci": [0.05, 0.2],
                "count": 20,
                "n": 100,
                "baseline_count": 5,
                "baseline_n": 50,
            },
            "subgroup": {"n_members": 4, "n_nonmembers": 30, "auc": {"value": 0.9}},
            "shadow_model": {"attack": {"auc": {"value": 0.5}}, "targets": [{"row": 17}]},
            "distance_to_closest_record": {
                "dcr_percentiles": {"0": {"value": 0.0}, "50": {"value": 1.0}, "100": {}}
            },
        },
        "settings": {"n_boot": 5},
    }


def test_small_cells_per_record_content_and_extremes() -> None:
    original = _report()
    out, summary = check_report(original, k=10)
    assert original == _report()  # the input is not modified
    priv = out["privacy"]
    assert priv["copies"]["exact_copies"]["count"] == 0  # a zero is not a small cell
    assert priv["copies"]["exact_copies"]["value"] == 0.0
    near = priv["copies"]["near_copies"]
    assert near["count"] is None and near["value"] is None and near["ci"] is None
    assert near["n"] == 100
    reid = priv["reid"]  # only the baseline count is small: only baseline figures go
    assert reid["value"] == 0.2 and reid["count"] == 20
    assert reid["baseline"] is None and reid["baseline_ci"] is None
    assert reid["baseline_count"] is None
    assert priv["subgroup"]["n_members"] is None  # a small group: its figures go too
    assert "targets" not in priv["shadow_model"]
    assert set(priv["distance_to_closest_record"]["dcr_percentiles"]) == {"50"}
    age, bmi = out["fidelity"]["validity"]["checks"]["range"]
    assert age["violations"] == {"value": 2, "baseline": None}
    assert age["share"]["baseline"] is None and bmi["share"]["baseline"] == 0.0
    doc = summary.to_dict()
    json.dumps(doc)
    statuses = {(i["item"], i["status"]) for i in doc["items"]}
    assert ("privacy/shadow_model/targets", "removed") in statuses
    assert ("privacy/copies/near_copies", "suppressed") in statuses
    assert ("privacy/distance_to_closest_record/dcr_percentiles/100", "removed") in statuses
    assert doc["small_cell_k"] == 10


def test_k_is_checked() -> None:
    with pytest.raises(InputError, match="at least 2"):
        check_report({}, k=1)


def _tables():
    schema = Schema(
        (
            ColumnSpec("code", "categorical"),
            ColumnSpec("flag", "boolean"),
            ColumnSpec("x", "numeric"),
        )
    )
    train = pd.DataFrame(
        {
            "code": ["a"] * 12 + ["b"] * 5 + ["c"] * 6,
            "flag": [False] * 20 + [True] * 3,
            "x": range(23),
        }
    )
    synthetic = pd.DataFrame(
        {"code": ["a", "b", "c", "z"], "flag": [True, False, False, True], "x": [1.0] * 4}
    )
    return train, synthetic, schema


def test_rare_categories_are_merged_or_suppressed() -> None:
    train, synthetic, schema = _tables()
    merged, items = protect_categories(synthetic, train=train, schema=schema, k=10)
    # b (5) and c (6) together stand for 11 records: merged; "z" was never real
    assert merged["code"].tolist() == ["a", OTHER, OTHER, "z"]
    assert merged["flag"].isna().tolist() == [True, False, False, True]  # True: 3 records
    assert merged["x"].tolist() == [1.0] * 4
    assert {i.item: i.status for i in items} == {
        "synthetic/code": "merged",
        "synthetic/flag": "suppressed",
    }
    assert all("b" not in i.detail.split() for i in items)  # rare labels are never named
    suppressed, _ = protect_categories(
        synthetic, train=train, schema=schema, k=10, action="suppress"
    )
    assert suppressed["code"].isna().tolist() == [False, True, True, False]
    # a merged category that is itself rare is suppressed
    small, _ = protect_categories(synthetic, train=train.iloc[:18], schema=schema, k=10)
    assert small["code"].isna().tolist() == [False, True, True, False]
    with pytest.raises(InputError, match="merge"):
        protect_categories(synthetic, train=train, schema=schema, action="drop")
