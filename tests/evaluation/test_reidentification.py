"""Re-identification through quasi-identifiers: by hand and calibrated."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError
from synthgen.evaluation.privacy.reidentification import quasi_identifier_risk


@pytest.fixture()
def tiny():
    schema = specs_from(
        [
            ColumnSpec("pid", "text", ("direct_identifier",), handling="drop"),
            ColumnSpec("age", "integer", ("quasi_identifier",)),
            ColumnSpec("sex", "categorical", ("quasi_identifier", "subgroup")),
            ColumnSpec("bmi", "numeric", ("sensitive",)),
            ColumnSpec("smoker", "categorical", ("sensitive",)),
        ]
    )
    train = pd.DataFrame(
        {
            "pid": ["a", "b", "c", "d", "e"],
            "age": [30, 30, 40, 50, 60],
            "sex": ["F", "F", "M", "F", None],
            "bmi": [20.0, 25.0, 30.0, np.nan, 22.0],
            "smoker": ["no", "yes", "no", "yes", "no"],
        }
    )
    synthetic = pd.DataFrame(
        {
            "pid": ["u", "v", "w", "x", "y", "z"],
            "age": [30.0, 40.0, 40.0, 50.0, 60.0, 70.0],  # float: still matches integers
            "sex": ["F", "M", "M", "F", None, "M"],
            "bmi": [20.0, 31.0, 32.0, np.nan, 22.0, 20.0],
            "smoker": ["no", "no", "yes", "yes", "yes", "no"],
        }
    )
    holdout = pd.DataFrame(
        {
            "pid": ["h1", "h2", "h3", "h4"],
            "age": [40, 50, 35, 30],
            "sex": ["M", "F", "F", "F"],
            "bmi": [30.0, 10.0, 20.0, 20.0],
            "smoker": ["yes", "yes", "no", "no"],
        }
    )
    return schema.coerce(train), schema.coerce(holdout), synthetic, schema


def test_tiny_by_hand(tiny):
    train, holdout, synthetic, schema = tiny
    res = quasi_identifier_risk(train=train, holdout=holdout, synthetic=synthetic, schema=schema)
    assert res.columns == ("age", "sex")
    assert res.sensitive_columns == ("bmi", "smoker")
    # rows 0 and 1 share (30, F); the other three are unique (missing sex is a value)
    assert res.n_train_unique == 3 and res.unique_share == pytest.approx(3 / 5)
    # v, w match (40, M); x matches (50, F); y matches (60, missing); u is not unique; z none
    assert res.synthetic.matches == 4 and res.match_share == pytest.approx(4 / 6)
    # bmi: 31 is within 5% of 30, 32 is not; missing equals missing; 22 == 22
    assert res.synthetic.agree == {"bmi": 3, "smoker": 2}
    assert res.synthetic.agree_all == 2
    assert res.agreement() == pytest.approx(0.5)
    assert res.agreement("bmi") == pytest.approx(0.75)
    # holdout: (40, M) and (50, F) match; bmi 30 agrees, 10 vs missing does not
    assert res.holdout.matches == 2
    assert res.holdout.agree == {"bmi": 1, "smoker": 1}
    assert res.holdout.agree_all == 0

    d = res.to_dict()
    json.dumps(d)
    assert d["match_share"]["value"] == pytest.approx(round(4 / 6, 4))
    assert d["match_share"]["baseline"] == 0.5
    lo, hi = d["match_share"]["ci"]
    assert lo < 4 / 6 < hi
    assert d["sensitive_agreement_all"]["value"] == 0.5
    assert d["sensitive_agreement_all"]["baseline"] == 0.0
    assert d["sensitive_agreement"]["bmi"]["n"] == 4
    assert d["unique_share"]["baseline"] is None
    for fig in (d["unique_share"], d["match_share"], d["sensitive_agreement_all"]):
        assert {"value", "direction", "ci", "baseline"} <= set(fig)
    # no cell value of the data in the output
    text = json.dumps(d)
    for value in ('"F"', '"M"', '"yes"', '"no"', "30.0", "22.0"):
        assert value not in text


def test_bins_coarsen_numeric_quasi_identifiers(tiny):
    train, holdout, synthetic, schema = tiny
    # one band: age no longer tells anyone apart, only sex does
    res = quasi_identifier_risk(
        train=train, holdout=holdout, synthetic=synthetic, schema=schema, bins={"age": 1}
    )
    assert res.binned == ("age",)
    assert res.n_train_unique == 2  # the M record and the missing-sex record
    assert res.synthetic.matches == 4  # v, w, z (M) and y (missing)
    assert res.synthetic.agree == {"bmi": 2, "smoker": 2}
    assert res.synthetic.agree_all == 1
    # explicit edges: [0, 45) and [45, 100) keep the same unique records here
    res = quasi_identifier_risk(
        train=train, synthetic=synthetic, schema=schema, bins={"age": [0, 45, 100]}
    )
    assert res.n_train_unique == 3 and res.holdout is None
    assert res.to_dict()["match_share"]["baseline"] is None


def test_no_matches_gives_no_agreement(tiny):
    train, _, synthetic, schema = tiny
    res = quasi_identifier_risk(train=train, synthetic=synthetic.iloc[[0, 5]], schema=schema)
    assert res.synthetic.matches == 0 and res.agreement() is None
    d = res.to_dict()
    assert d["sensitive_agreement_all"]["value"] is None
    assert d["sensitive_agreement_all"]["ci"] == [0.0, 1.0]


def test_bad_input_is_one_clear_error(tiny):
    train, holdout, synthetic, schema = tiny
    with pytest.raises(InputError, match="not direct identifiers"):
        quasi_identifier_risk(train=train, synthetic=synthetic, schema=schema, columns=["pid"])
    with pytest.raises(InputError, match="lacks columns: bmi"):
        quasi_identifier_risk(train=train, synthetic=synthetic.drop(columns=["bmi"]), schema=schema)
    with pytest.raises(InputError, match="not numeric"):
        quasi_identifier_risk(train=train, synthetic=synthetic, schema=schema, bins={"sex": 2})
    plain = specs_from([ColumnSpec("age", "integer")])
    with pytest.raises(InputError, match="no quasi-identifier"):
        quasi_identifier_risk(train=train, synthetic=synthetic, schema=plain)


def test_copied_rows_match_every_unique_record(cohort):
    train, holdout, _, schema = cohort
    copied = train.sample(frac=1.0, random_state=0).reset_index(drop=True)
    res = quasi_identifier_risk(train=train, holdout=holdout, synthetic=copied, schema=schema)
    assert res.match_share == pytest.approx(res.unique_share)
    assert res.agreement() == 1.0
    assert all(v == res.synthetic.matches for v in res.synthetic.agree.values())
    assert res.match_share > 5 * res.match_share_baseline


def test_fresh_sample_is_near_the_holdout_baseline(cohort):
    train, holdout, fresh, schema = cohort
    res = quasi_identifier_risk(train=train, holdout=holdout, synthetic=fresh, schema=schema)
    assert abs(res.match_share - res.match_share_baseline) < 0.025
    assert res.agreement() is None or res.agreement() < 0.1


def test_large_tables_take_seconds():
    schema = specs_from(
        [
            ColumnSpec("age", "integer", ("quasi_identifier",)),
            ColumnSpec("area", "categorical", ("quasi_identifier",)),
            ColumnSpec("bmi", "numeric", ("sensitive",)),
        ]
    )
    rng = np.random.default_rng(0)

    def table(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.integers(0, 100, n),
                "area": rng.integers(0, 2000, n).astype(str),
                "bmi": rng.normal(25, 4, n),
            }
        )

    train, other = table(100_000), table(100_000)
    start = time.perf_counter()
    res = quasi_identifier_risk(train=train, holdout=other, synthetic=other, schema=schema)
    assert time.perf_counter() - start < 10
    assert 0 < res.unique_share < 1
