"""The DP domain: declared bounds/categories used for free, others estimated under DP."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec
from synthgen.models.dp.accounting import Budget
from synthgen.models.dp.domain import ColumnDomain, build_domain, numeric_domain
from synthgen.models.dp.estimates import (
    category_threshold,
    coarse_edges,
    date_grid,
    dp_bounds,
    dp_categories,
    dp_quantile,
    dp_range,
    symlog_grid,
)


def _build(data: pd.DataFrame, specs: list[ColumnSpec], *, epsilon: float = 1.0, seed: int = 0):
    budget = Budget(epsilon=epsilon, delta=1e-6, delta_reserved=2.5e-7)
    domains = build_domain(
        data,
        specs,
        budget=budget,
        rho=budget.rho / 2,
        bins=10,
        max_categories=20,
        rng=np.random.default_rng(seed),
    )
    return domains, budget


def test_grids_are_public_and_sorted() -> None:
    grid = symlog_grid()
    assert np.all(np.diff(grid) > 0)
    assert grid[0] == pytest.approx(-1e9, rel=1e-2) and grid[-1] == pytest.approx(1e9, rel=1e-2)
    assert {0.0, 1.0, 5.0, -3.0, 120.0} <= set(grid)  # whole numbers are candidates
    dates = date_grid()
    assert np.all(np.diff(dates) == 1.0)


def test_estimated_bounds_cover_the_bulk_of_the_data() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(50, 10, 20_000)
    budget = Budget(epsilon=2.0, delta=1e-6)
    lo, hi = dp_bounds(x, kind="numeric", rho=budget.rho * 0.1, rng=np.random.default_rng(2))
    assert np.quantile(x, 0.001) <= lo <= np.quantile(x, 0.05)
    assert np.quantile(x, 0.95) <= hi <= np.quantile(x, 0.999)


def test_estimated_bounds_of_a_score_land_on_its_levels() -> None:
    # a heavy atom at the lowest level is the exact quantile, not "anywhere below it"
    x = np.repeat([1.0, 2.0, 3.0, 4.0, 5.0], 400)
    lo, hi = dp_bounds(x, kind="integer", rho=50.0, rng=np.random.default_rng(0))
    assert (lo, hi) == (1.0, 5.0)


def test_estimated_date_bounds() -> None:
    dates = pd.date_range("2015-01-01", "2019-12-31", periods=10_000)
    days = (dates.to_numpy() - np.datetime64("1970-01-01", "ns")) / np.timedelta64(1, "D")
    lo, hi = dp_bounds(
        np.asarray(days, float), kind="datetime", rho=50.0, rng=np.random.default_rng(0)
    )
    assert pd.Timestamp("2015-01-01") <= pd.Timestamp("1970-01-01") + pd.Timedelta(days=lo)
    assert pd.Timestamp("1970-01-01") + pd.Timedelta(days=hi) <= pd.Timestamp("2020-01-01")
    assert hi - lo > 4 * 365


def test_dp_range_finds_the_bulk() -> None:
    x = np.random.default_rng(0).normal(60, 15, 3_000).clip(18, 100)
    edges = coarse_edges("numeric")
    a, b = dp_range(x, edges=edges, rho=0.01, rng=np.random.default_rng(1))
    assert a in edges and b in edges
    assert 10 < a <= 30 and 80 <= b < 200
    # with no signal at all, one cell is still returned
    a, b = dp_range(x, edges=edges, rho=1e-12, rng=np.random.default_rng(1))
    assert a < b


def test_dp_quantile_at_tiny_epsilon_is_noise() -> None:
    x = np.random.default_rng(0).normal(50, 1, 1_000)
    picks = {
        dp_quantile(x, q=0.5, candidates=symlog_grid(), epsilon=1e-6, rng=np.random.default_rng(s))
        for s in range(20)
    }
    assert len(picks) > 15  # nearly uniform over the grid: nothing read off the data


def test_declared_bounds_are_used_verbatim_and_read_nothing() -> None:
    specs = [
        ColumnSpec("age", "integer", bounds=(0.0, 120.0)),
        ColumnSpec("bmi", "numeric", bounds=(10.0, 60.0)),
    ]
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {"age": rng.integers(20, 90, 500).astype(float), "bmi": rng.normal(27, 4, 500)}
    )
    domains, budget = _build(data, specs)
    assert budget.spent == []  # nothing estimated, nothing charged
    assert [(d.source, d.lo, d.hi) for d in domains] == [
        ("declared", 0.0, 120.0),
        ("declared", 10.0, 60.0),
    ]
    # an extreme record changes nothing about how the others are coded
    changed = data.copy()
    changed.loc[0, ["age", "bmi"]] = [119.0, 59.0]
    domains2, _ = _build(changed, specs, seed=5)
    assert [d.to_dict() for d in domains2] == [d.to_dict() for d in domains]
    for d in domains:
        assert np.array_equal(d.encode(data[d.name])[1:], d.encode(changed[d.name])[1:])


def test_values_outside_declared_bounds_are_clipped() -> None:
    d = numeric_domain("bmi", "numeric", "declared", 10.0, 60.0, bins=10)
    codes = d.encode(pd.Series([-5.0, 10.0, 59.9, 60.0, 1e6, np.nan]))
    assert codes.tolist() == [0, 0, 9, 9, 9, 10]  # 10 = missing
    values = d.decode(np.array([0, 9, 10] * 100), np.random.default_rng(0))
    assert values.dropna().between(10.0, 60.0).all()
    assert values.isna().sum() == 100


def test_integer_ranges_get_one_cell_per_number() -> None:
    d = numeric_domain("score", "integer", "declared", 0.5, 5.2, bins=10)
    assert d.integer_levels and (d.lo, d.hi, d.bins) == (1.0, 5.0, 5)
    codes = d.encode(pd.Series([1.0, 3.0, 5.0, 9.0, np.nan]))
    assert codes.tolist() == [0, 2, 4, 4, 5]
    assert d.decode(codes, np.random.default_rng(0)).tolist()[:4] == [1.0, 3.0, 5.0, 5.0]
    wide = numeric_domain("age", "integer", "declared", 0.0, 120.0, bins=10)
    assert not wide.integer_levels
    out = wide.decode(np.arange(10).repeat(50), np.random.default_rng(0))
    assert (out == out.round()).all() and out.between(0, 120).all()


def test_datetime_domain_round_trip() -> None:
    spec = ColumnSpec("seen", "datetime", bounds=("2020-01-01T00:00:00", "2021-01-01T00:00:00"))
    data = pd.DataFrame({"seen": pd.to_datetime(["2020-03-01", "2019-05-05", None, "2020-12-31"])})
    (d,), _ = _build(data, [spec])
    codes = d.encode(data["seen"])
    assert codes[1] == 0 and codes[2] == d.n_levels
    out = d.decode(np.array([0, 5, d.n_levels, 9]), np.random.default_rng(0))
    assert str(out.dtype) == "datetime64[ns]" and pd.isna(out[2])
    assert (out.dropna() >= pd.Timestamp("2020-01-01")).all()
    assert (out.dropna() <= pd.Timestamp("2021-01-01")).all()
    assert (out.dropna() == out.dropna().dt.normalize()).all()  # whole days


def test_declared_categories_and_unknown_values_become_missing() -> None:
    spec = ColumnSpec("sex", "categorical", categories=("F", "M"))
    data = pd.DataFrame({"sex": ["F", "M", "X", None, "F"]})
    (d,), budget = _build(data, [spec])
    assert d.source == "declared" and d.categories == ["F", "M"] and budget.spent == []
    assert d.encode(data["sex"]).tolist() == [0, 1, 2, 2, 0]  # 'X' is coded as missing
    assert d.decode(np.array([0, 1, 2]), np.random.default_rng(0)).tolist() == ["F", "M", None]


def test_declared_boolean_categories_and_public_booleans() -> None:
    data = pd.DataFrame({"a": [True, False, np.nan], "b": [True, False, True]}, dtype=object)
    specs = [ColumnSpec("a", "boolean", categories=("yes",)), ColumnSpec("b", "boolean")]
    (a, b), budget = _build(data, specs)
    assert budget.spent == []
    assert a.encode(data["a"]).tolist() == [0, 1, 1]  # only True declared: False is missing
    assert b.source == "public" and b.encode(data["b"]).tolist() == [1, 0, 1]
    out = b.decode(np.array([0, 1, 2]), np.random.default_rng(0))
    assert out[0] is False and out[1] is True and pd.isna(out[2])


def test_estimated_categories_drop_a_rare_value() -> None:
    keys = pd.Series(["common"] * 3_000 + ["other"] * 2_000 + ["unique"] + [None] * 10)
    cats = dp_categories(
        keys, rho=10.0, delta=1e-8, max_categories=10, rng=np.random.default_rng(0)
    )
    assert cats == ["common", "other"]
    capped = dp_categories(
        keys, rho=10.0, delta=1e-8, max_categories=1, rng=np.random.default_rng(0)
    )
    assert capped == ["common"]


def test_category_threshold() -> None:
    # a single record's value clears 1 + σ z_{1-δ} with probability δ
    assert category_threshold(sigma=2.0, delta=0.05) == pytest.approx(1 + 2 * 1.6448536, rel=1e-6)
    rng = np.random.default_rng(0)
    hits = np.mean(1 + rng.normal(0, 2.0, 200_000) >= category_threshold(sigma=2.0, delta=0.05))
    assert hits == pytest.approx(0.05, abs=0.003)


def test_estimates_are_charged_to_the_budget() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "age": rng.integers(20, 90, 300).astype(float),
            "sex": rng.choice(["F", "M"], 300),
            "bmi": rng.normal(27, 4, 300),
            "flag": rng.choice([True, False], 300),
        }
    )
    specs = [
        ColumnSpec("age", "integer"),
        ColumnSpec("sex", "categorical"),
        ColumnSpec("bmi", "numeric", bounds=(10.0, 60.0)),
        ColumnSpec("flag", "boolean"),
    ]
    domains, budget = _build(data, specs)
    assert [d.source for d in domains] == ["estimated", "estimated", "declared", "public"]
    assert [s.what.split("'")[1] for s in budget.spent] == ["age", "sex"]
    assert budget.rho_spent == pytest.approx(budget.rho / 2)
    assert budget.delta_spent == pytest.approx(budget.delta_reserved)
    for d in domains:
        assert ColumnDomain.from_dict(d.to_dict()) == d
    assert math.isfinite(domains[0].lo) and domains[0].lo <= domains[0].hi
