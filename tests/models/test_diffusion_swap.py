"""Same-outcome column swapping in the diffusion generator's training batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.data.infer import infer_schema
from synthgen.errors import ParameterError
from synthgen.models.diffusion import TabularDiffusion
from synthgen.models.diffusion._encoding import TableEncoder
from synthgen.models.diffusion._swap import ColumnSwap, dependent_clusters, same_group_partners
from synthgen.models.diffusion.generator import default_swap_share

QUICK = {"iterations": 30, "width": 32, "depth": 1, "sampling_steps": 8}


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    x = np.where(y, rng.normal(3.0, 1.0, n), rng.normal(0.0, 1.0, n))
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(0, 1, n),
            "c": rng.choice(["a", "b", "c"], n).astype(object),
            "y": y,
        }
    )


KINDS = {"x": "numeric", "z": "numeric", "c": "categorical", "y": "boolean"}


def test_partners_are_a_permutation_within_each_group() -> None:
    groups = torch.tensor([0, 1, 0, 1, 1, 2, 0, 0, 3, 3, 5])
    partner = same_group_partners(groups, torch.Generator().manual_seed(0))
    assert sorted(partner.tolist()) == list(range(len(groups)))  # everyone is someone's partner
    assert torch.equal(groups[partner], groups)
    assert partner[5] == 5 and partner[10] == 10  # alone in its group: itself
    moved = partner != torch.arange(len(groups))
    assert moved[groups != 2].sum() >= 8  # not the identity


def test_swaps_stay_within_the_outcome_and_move_whole_columns() -> None:
    frame = _frame()
    enc = TableEncoder().fit(frame, KINDS)
    x_num, observed, x_cat = enc.encode(frame)
    swap = ColumnSwap(enc, "y", share=0.5)
    groups = torch.from_numpy(swap.groups(x_num, observed, x_cat))
    y_code = [s.name for s in enc.categorical_].index("y")
    assert torch.equal(groups, torch.from_numpy(x_cat[:, y_code]))
    tensors = (torch.from_numpy(x_num), torch.from_numpy(observed), torch.from_numpy(x_cat))
    n2, o2, c2 = swap(*tensors, groups, torch.Generator().manual_seed(1))
    assert torch.equal(c2[:, y_code], tensors[2][:, y_code])  # the outcome is never swapped
    # about half of each other column's values changed place, never across outcomes
    changed = (n2[:, 1] != tensors[0][:, 1]).float().mean().item()
    assert 0.35 < changed < 0.6
    # x's value, observed flag and missing code travel together (flags follow the categories)
    assert torch.equal(~o2[:, 0], c2[:, len(enc.categorical_)].bool())
    assert not torch.equal(o2[:, 0], tensors[1][:, 0])
    # each value still comes from a record with the same outcome: per-outcome multisets kept
    for g in (0, 1):
        rows = groups == g
        before = np.sort(tensors[0][rows, 1].numpy())
        after = np.sort(n2[rows, 1].numpy())
        assert set(after.tolist()) <= set(before.tolist())


def _sources(each: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where column z's and column c's values came from, at share 1, and the groups."""
    frame = _frame()
    enc = TableEncoder().fit(frame, KINDS)
    x_num, observed, x_cat = enc.encode(frame)
    swap = ColumnSwap(enc, "y", share=1.0, each=each)
    groups = torch.from_numpy(swap.groups(x_num, observed, x_cat))
    # tag every record by its index, to see where values came from
    tags = torch.from_numpy(x_num.copy())
    tags[:, 1] = torch.arange(len(frame), dtype=tags.dtype)
    codes = torch.from_numpy(x_cat.copy())
    c_code = [s.name for s in enc.categorical_].index("c")
    codes[:, c_code] = torch.arange(len(frame))
    gen = torch.Generator().manual_seed(3)
    n2, _, c2 = swap(tags, torch.from_numpy(observed), codes, groups, gen)
    return n2[:, 1].long(), c2[:, c_code], groups


def test_each_column_draws_its_own_partner_or_one_partner_gives_all() -> None:
    for each in (True, False):
        z_from, c_from, groups = _sources(each)
        # share 1: every column is a permutation within each outcome group ...
        assert sorted(z_from.tolist()) == list(range(len(groups)))
        assert torch.equal(groups[z_from], groups) and torch.equal(groups[c_from], groups)
        assert (z_from != torch.arange(len(groups))).float().mean() > 0.95
        if each:  # ... and a record's two columns come from different patients
            assert (z_from == c_from).float().mean() < 0.05
        else:  # ... from its one partner
            assert torch.equal(z_from, c_from)


def test_partners_from_any_outcome_cross_outcome_groups_in_that_share() -> None:
    frame = _frame(n=2000)
    enc = TableEncoder().fit(frame, KINDS)
    x_num, observed, x_cat = enc.encode(frame)
    groups = torch.from_numpy(ColumnSwap(enc, "y", share=1.0).groups(x_num, observed, x_cat))
    tags = torch.from_numpy(x_num.copy())
    tags[:, 1] = torch.arange(len(frame), dtype=tags.dtype)
    crossed = {}
    for any_outcome in (0.0, 0.5, 1.0):
        swap = ColumnSwap(enc, "y", share=1.0, each=True, any_outcome=any_outcome)
        gen = torch.Generator().manual_seed(4)
        n2, _, _ = swap(tags, torch.from_numpy(observed), torch.from_numpy(x_cat), groups, gen)
        z_from = n2[:, 1].long()
        crossed[any_outcome] = (groups[z_from] != groups).float().mean().item()
    share = groups.float().mean().item()
    other = 2 * share * (1 - share)  # a partner from anyone has the other outcome this often
    assert crossed[0.0] == 0.0
    assert abs(crossed[1.0] - other) < 0.05
    assert abs(crossed[0.5] - other / 2) < 0.05


def _dependent_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = rng.random(n) < 0.4
    return pd.DataFrame(
        {
            "x": x,
            "x2": x + rng.normal(0, 0.5, n),  # correlation about 0.9 with x
            "c": np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid")).astype(object),
            "z": rng.normal(0, 1, n),
            # many levels, independent of everything: chance alone must not join it to anyone
            "w": rng.choice([f"l{i}" for i in range(60)], n).astype(object),
            "y": y,
        }
    )


DEPENDENT_KINDS = {
    "x": "numeric",
    "x2": "numeric",
    "c": "categorical",
    "z": "numeric",
    "w": "categorical",
    "y": "boolean",
}


def test_dependent_columns_are_clustered_and_independent_ones_kept_apart() -> None:
    frame = _dependent_frame()
    enc = TableEncoder().fit(frame, DEPENDENT_KINDS)
    arrays = enc.encode(frame)
    swap = ColumnSwap(enc, "y", share=1.0, each=True)
    clusters = dependent_clusters(swap, *arrays, threshold=0.3)
    cluster = dict(zip(swap.columns, clusters, strict=True))
    assert "y" not in cluster  # the outcome is never swapped
    assert cluster["x"] == cluster["x2"] == cluster["c"]
    assert len({cluster["x"], cluster["z"], cluster["w"]}) == 3
    # a threshold above every dependence leaves each column on its own
    assert len(set(dependent_clusters(swap, *arrays, threshold=0.99))) == 5


def test_a_cluster_is_swapped_from_one_partner_and_clusters_from_different_ones() -> None:
    frame = _dependent_frame()
    enc = TableEncoder().fit(frame, DEPENDENT_KINDS)
    x_num, observed, x_cat = enc.encode(frame)
    swap = ColumnSwap(enc, "y", share=1.0, each=True)
    swap.cluster = torch.from_numpy(dependent_clusters(swap, x_num, observed, x_cat, 0.3))
    groups = torch.from_numpy(swap.groups(x_num, observed, x_cat))
    numeric = [s.name for s in enc.numeric_]
    tags = torch.arange(len(frame), dtype=torch.float32)[:, None].repeat(1, len(numeric))
    gen = torch.Generator().manual_seed(5)
    n2, _, _ = swap(tags, torch.from_numpy(observed), torch.from_numpy(x_cat), groups, gen)
    x_from, x2_from, z_from = (n2[:, numeric.index(c)].long() for c in ("x", "x2", "z"))
    assert torch.equal(x_from, x2_from)  # x and x2 travel together
    assert (x_from != torch.arange(len(frame))).float().mean() > 0.95
    assert (x_from == z_from).float().mean() < 0.05  # z has its own partner
    assert torch.equal(groups[x_from], groups) and torch.equal(groups[z_from], groups)


def test_numeric_targets_are_grouped_by_decile_and_no_target_pairs_anyone() -> None:
    frame = _frame()
    enc = TableEncoder().fit(frame, KINDS)
    x_num, observed, x_cat = enc.encode(frame)
    by_z = ColumnSwap(enc, "z", share=0.5).groups(x_num, observed, x_cat)
    assert set(np.unique(by_z)) == set(range(10))
    by_x = ColumnSwap(enc, "x", share=0.5).groups(x_num, observed, x_cat)
    assert (by_x[~observed[:, 0]] == 10).all()  # missing targets are a group of their own
    none = ColumnSwap(enc, None, share=0.5)
    assert (none.groups(x_num, observed, x_cat) == 0).all() and none.n_columns == 4


def test_share_zero_changes_nothing_and_bad_shares_are_refused() -> None:
    frame = _frame()
    schema = infer_schema(frame).update("y", roles=("target",))

    def draw(**params) -> pd.DataFrame:
        return TabularDiffusion(**QUICK, seed=2, **params).fit(frame, schema).sample(40, seed=0)

    a = draw(swap_share=0.0)
    b = draw(swap_share=0.0, swap_partners="each")  # no swap: partners do not matter
    c = draw(swap_share=0.5, swap_partners="one")
    d = draw(swap_share=0.5, swap_partners="one")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(c, d)  # seeded
    assert not a.equals(c)
    # on a small cohort the default swaps every cluster of dependent columns; under DP-SGD
    # it swaps nothing
    pd.testing.assert_frame_equal(draw(), draw(swap_share=1.0, swap_partners="groups"))
    assert TabularDiffusion().resolved_swap_share(len(frame)) == 1.0
    assert TabularDiffusion().resolved_swap_share() is None  # needs the cohort size
    assert TabularDiffusion(epsilon=1.0).resolved_swap_share() == 0.0
    assert TabularDiffusion(epsilon=1.0, swap_share=0.0).resolved_swap_share() == 0.0
    for bad in (-0.1, 1.5, "half", True):
        with pytest.raises(ParameterError, match="swap_share"):
            TabularDiffusion(swap_share=bad).fit(frame, schema)
    with pytest.raises(ParameterError, match="swap_partners"):
        TabularDiffusion(swap_partners="all").fit(frame, schema)
    for bad in (-0.1, 1.5, "half"):
        with pytest.raises(ParameterError, match="swap_any_outcome"):
            TabularDiffusion(swap_any_outcome=bad).fit(frame, schema)
    assert not draw(swap_any_outcome=0.0).equals(draw())
    e = draw(swap_share=0.5)  # groups
    pd.testing.assert_frame_equal(e, draw(swap_share=0.5))
    assert not e.equals(c) and not e.equals(a)
    with pytest.raises(ParameterError, match="swap_share must be 0 under epsilon"):
        TabularDiffusion(swap_share=0.5, epsilon=1.0).fit(frame, schema)


def test_the_model_records_which_columns_were_swapped_together(tmp_path) -> None:
    frame = _frame()
    frame["x2"] = frame["x"] * 2 + np.random.default_rng(3).normal(0, 0.1, len(frame))
    schema = infer_schema(frame).update("y", roles=("target",))
    gen = TabularDiffusion(**QUICK, seed=2).fit(frame, schema)
    record = gen.swap_
    assert record["share"] == 1.0 and record["outcome"] == "y"
    assert record["partners"] == "groups" and record["any_outcome"] == 0.2
    units = record["units"]
    assert sorted(c for unit in units for c in unit) == ["c", "x", "x2", "z"]
    assert ["x", "x2"] in units  # the dependent pair is one unit; the others stand alone
    assert len(units) == 3
    loaded = TabularDiffusion.load(gen.save(tmp_path / "model"))
    assert loaded.swap_ == record
    one = TabularDiffusion(**QUICK, seed=2, swap_partners="one", swap_share=0.5)
    # one partner per record, each column swapped or kept on its own
    assert one.fit(frame, schema).swap_["units"] == [["x"], ["z"], ["x2"], ["c"]]
    assert TabularDiffusion(**QUICK, swap_share=0.0).fit(frame, schema).swap_ == {"share": 0.0}


def test_the_default_swap_share_falls_as_the_cohort_grows() -> None:
    shares = [default_swap_share(n) for n in (10, 2_000, 3_000, 4_000, 5_000, 6_000, 80_000)]
    assert shares == [1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert TabularDiffusion(swap_share=0.3).resolved_swap_share(80_000) == 0.3  # given: kept
    assert TabularDiffusion(epsilon=1.0).resolved_swap_share(10) == 0.0
    # a large cohort trains without swapping, and the model says so
    frame = _frame(n=6_000, seed=1)
    schema = infer_schema(frame).update("y", roles=("target",))
    big = TabularDiffusion(**{**QUICK, "iterations": 2}).fit(frame, schema)
    assert big.swap_ == {"share": 0.0} and big.resolved_params()["swap_share"] == 0.0
    small = TabularDiffusion(**{**QUICK, "iterations": 2}).fit(frame.iloc[:3_000], schema)
    assert small.swap_["share"] == 0.75 and small.resolved_params()["swap_share"] == 0.75
