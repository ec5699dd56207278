"""Plot data: binning, merging and cutting so that no small count or real extreme leaves."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_curve

from synthgen.data.schema import ColumnSpec, Schema
from synthgen.errors import InputError
from synthgen.evaluation.plots import merge_small_bins, plot_data
from synthgen.evaluation.privacy.scores import evaluate_attack

K = 10


def _schema() -> Schema:
    return Schema(
        (
            ColumnSpec("x", "numeric"),
            ColumnSpec("cat", "categorical"),
            ColumnSpec("when", "datetime"),
            ColumnSpec("t", "integer", ("time_to_event_time",)),
            ColumnSpec("e", "boolean", ("time_to_event_event",)),
        )
    )


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cats = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 4 + ["d"] * 12)
    return pd.DataFrame(
        {
            "x": np.round(rng.normal(50.0, 10.0, n), 3),
            "cat": rng.choice(cats, n) if n != 96 else cats,
            "when": pd.Timestamp("2015-01-01")
            + pd.to_timedelta(rng.integers(0, 3000, n), unit="D"),
            "t": np.arange(1, n + 1) * 2 - 1,  # 1, 3, ..., 2n - 1
            "e": rng.random(n) < 0.5,
        }
    )


@pytest.fixture(scope="module")
def tables():
    train = _frame(96, 0)
    holdout = _frame(30, 1)  # under 20 * k rows: not plotted
    synthetic = _frame(120, 2)
    return train, holdout, synthetic


def _plots(tables, **kw):
    train, holdout, synthetic = tables
    return plot_data(
        train=train,
        holdout=holdout,
        synthetic=synthetic,
        schema=_schema(),
        attacks=kw.pop("attacks", {}),
        dcr=kw.pop("dcr", None),
        k=K,
        **kw,
    )


def test_merge_small_bins_exact():
    edges, real, other = merge_small_bins(
        np.array([1.0, 2.0, 3.0]), [np.array([3, 20, 15, 12])], [np.array([1, 2, 3, 4])], K
    )
    assert edges.tolist() == [2.0, 3.0]  # the bin of 3 joins its only neighbour
    assert real[0].tolist() == [23, 15, 12]
    assert other[0].tolist() == [3, 3, 4]


def test_merge_small_bins_picks_the_smaller_neighbour_and_checks_every_real_table():
    edges, real, _ = merge_small_bins(
        np.array([1.0, 2.0, 3.0]),
        [np.array([30, 40, 12, 30]), np.array([20, 5, 20, 11])],
        [np.array([0, 0, 0, 0])],
        K,
    )
    # bin 1 has 5 in the second table; its neighbours hold min 20 (left) and 12 (right)
    assert edges.tolist() == [1.0, 3.0]
    assert real[0].tolist() == [30, 52, 30]
    assert real[1].tolist() == [20, 25, 11]


def test_category_with_4_records_goes_to_other_and_other_reaches_k(tables):
    cat = _plots(tables)["marginals"]["cat"]
    # c (4) alone would make "(other)" a cell of 4: d (12) joins it, giving 16
    assert cat["labels"] == ["a", "b", "(other)"]
    assert cat["train"] == [round(50 / 96, 4), round(30 / 96, 4), round(16 / 96, 4)]
    assert cat["holdout"] is None  # 30 holdout rows are too few to plot


def test_numeric_bins_hold_k_real_records_and_hide_the_real_extremes(tables):
    train = tables[0]
    out = _plots(tables)
    x = out["marginals"]["x"]
    counts = np.round(np.array(x["train"]) * len(train)).astype(int)
    assert counts.sum() == len(train)
    assert counts.min() >= K
    assert len(x["edges"]) == len(x["train"]) - 1
    assert all(train["x"].min() < e < train["x"].max() for e in x["edges"])
    text = json.dumps(out)
    for extreme in (train["x"].min(), train["x"].max()):
        assert repr(float(extreme)) not in text
    when = out["marginals"]["when"]["edges"]
    assert all(isinstance(e, str) and len(e) == 10 for e in when)  # ISO dates
    first, last = train["when"].min(), train["when"].max()
    assert first.strftime("%Y-%m-%d") not in text and last.strftime("%Y-%m-%d") not in text


def test_a_bin_with_3_real_records_is_merged():
    # 3 records far below the rest: the lowest percentile edges isolate them
    schema = Schema((ColumnSpec("x", "numeric"),))
    train = pd.DataFrame({"x": np.r_[[-500.5, -400.25, -300.125], np.linspace(10, 20, 197)]})
    out = plot_data(
        train=train,
        holdout=train.iloc[:5],
        synthetic=train,
        schema=schema,
        attacks={},
        dcr=None,
        k=K,
    )
    x = out["marginals"]["x"]
    counts = np.round(np.array(x["train"]) * len(train)).astype(int)
    assert counts.min() >= K and counts.sum() == len(train)
    assert "-500.5" not in json.dumps(out)


def test_rare_category_column_is_suppressed():
    schema = Schema((ColumnSpec("flag", "boolean"),))
    train = pd.DataFrame({"flag": [True] * 4 + [False] * 200})
    out = plot_data(
        train=train, holdout=train, synthetic=train, schema=schema, attacks={}, dcr=None, k=K
    )
    assert "flag" not in out["marginals"]  # 99% False would reveal the 4
    assert "flag" in out["marginals_skipped"]


def test_km_grid_stops_before_fewer_than_k_at_risk(tables):
    train = tables[0]
    km = _plots(tables)["km"]
    assert len(km["times"]) == 40 and km["times"][0] == 0.0
    # t = 1, 3, ..., 191: the 10th largest is 173, floored to 2 significant figures
    assert km["max_time"] == 170.0 == km["times"][-1]
    assert (train["t"] >= km["times"][-1]).sum() >= K
    assert len(km["train"]) == len(km["synthetic"]) == 40
    assert km["train"][0] == 1.0 and all(np.diff(km["train"]) <= 0)


def test_roc_points_match_sklearn_endpoints_and_are_few():
    rng = np.random.default_rng(0)
    m, n = rng.normal(0.3, 1, 1500), rng.normal(0, 1, 1200)
    attack = evaluate_attack(name="distance", member_scores=m, nonmember_scores=n, seed=0, n_boot=5)
    fpr, tpr, _ = roc_curve(np.r_[np.ones(m.size), np.zeros(n.size)], np.r_[m, n])
    schema = Schema((ColumnSpec("x", "numeric"),))
    frame = pd.DataFrame({"x": np.arange(300.0)})
    roc = plot_data(
        train=frame,
        holdout=frame,
        synthetic=frame,
        schema=schema,
        attacks={"distance": attack},
        dcr=None,
    )["roc"]["distance"]
    assert len(roc["fpr"]) <= 100 and len(roc["fpr"]) == len(roc["tpr"])
    assert (roc["fpr"][0], roc["tpr"][0]) == (fpr[0], tpr[0])
    assert (roc["fpr"][-1], roc["tpr"][-1]) == (fpr[-1], tpr[-1])
    assert all(np.diff(roc["fpr"]) >= 0)
    assert roc["auc"] == round(attack.auc, 4)
    assert "member_scores" not in json.dumps(roc)


def test_dcr_histogram_merges_small_holdout_bins():
    rng = np.random.default_rng(1)
    dcr = SimpleNamespace(synthetic_dcr=rng.gamma(4, 0.5, 800), holdout_dcr=rng.gamma(4, 0.5, 300))
    schema = Schema((ColumnSpec("x", "numeric"),))
    frame = pd.DataFrame({"x": np.arange(300.0)})
    out = plot_data(
        train=frame, holdout=frame, synthetic=frame, schema=schema, attacks={}, dcr=dcr, k=K
    )["dcr"]
    counts = np.round(np.array(out["holdout"]) * 300).astype(int)
    assert counts.min() >= K and counts.sum() == 300
    assert out["edges"][-1] <= float(f"{np.percentile(dcr.holdout_dcr, 99):.2g}") + 1e-9
    assert abs(sum(out["synthetic"]) - 1) < 1e-3
    assert (
        plot_data(
            train=frame,
            holdout=frame,
            synthetic=frame,
            schema=schema,
            attacks={},
            dcr=SimpleNamespace(synthetic_dcr=None, holdout_dcr=None),
        )["dcr"]
        is None
    )


def test_deterministic(tables):
    assert json.dumps(_plots(tables, seed=3)) == json.dumps(_plots(tables, seed=3))


def test_k_must_be_positive(tables):
    train, holdout, synthetic = tables
    with pytest.raises(InputError, match="k"):
        plot_data(
            train=train,
            holdout=holdout,
            synthetic=synthetic,
            schema=_schema(),
            attacks={},
            dcr=None,
            k=0,
        )
