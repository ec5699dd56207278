"""The diffusion generator beyond the shared contract: its encoder, that it learns, its files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthgen.data.infer import infer_schema
from synthgen.datasets import demo_cohort
from synthgen.errors import ParameterError
from synthgen.evaluation.quality import quality_score
from synthgen.models.diffusion import TabularDiffusion
from synthgen.models.diffusion._encoding import TableEncoder
from synthgen.models.diffusion.generator import (
    default_learning_rate,
    ema_rate,
    lr_factor,
    update_ema,
)

QUICK = {"iterations": 40, "width": 32, "depth": 1, "sampling_steps": 8}


@pytest.fixture(scope="module")
def cohort() -> tuple[pd.DataFrame, object]:
    df = demo_cohort(1500, seed=3)
    schema = infer_schema(df)
    return schema.coerce(df), schema


def test_encoder_round_trip_keeps_values_and_missingness() -> None:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(50, 10, n)),
            "k": rng.integers(0, 5, n).astype(float),
            "when": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
            "c": np.where(rng.random(n) < 0.2, None, rng.choice(["a", "b", "c"], n)).astype(object),
        }
    )
    kinds = {"x": "numeric", "k": "integer", "when": "datetime", "c": "categorical"}
    enc = TableEncoder().fit(frame, kinds)
    x_num, observed, codes = enc.encode(frame)
    assert x_num.dtype == np.float32 and np.isfinite(x_num).all()
    assert enc.cardinalities == [4, 2]  # a, b, c and missing; x's missing token
    back = enc.decode(x_num, codes, np.random.default_rng(0))
    assert back["x"].isna().equals(frame["x"].isna())
    ok = frame["x"].notna()
    # encoding and decoding are inverse maps through the same piecewise-linear grid, so a
    # value comes back exactly, up to the float32 normal scores (steep in the tails)
    np.testing.assert_allclose(back.loc[ok, "x"], frame.loc[ok, "x"], rtol=1e-4)
    np.testing.assert_array_equal(back["k"], frame["k"])
    assert (back["when"] - frame["when"]).abs().max() <= pd.Timedelta("1s")
    assert back["c"].tolist() == frame["c"].tolist()
    assert not observed[frame["x"].isna().to_numpy(), 0].any()


def test_encoder_pools_rare_levels_and_redraws_them() -> None:
    values = ["common"] * 300 + [f"rare{i}" for i in range(60)]
    frame = pd.DataFrame({"c": pd.Series(values, dtype=object)})
    enc = TableEncoder(max_categories=5).fit(frame, {"c": "categorical"})
    spec = enc.categorical_[0]
    # 61 levels: the 4 most frequent kept (ties by text), 57 pooled behind code 4
    assert spec.size == 5 and spec.levels[0] == "common" and len(spec.other_values) == 57
    _, _, codes = enc.encode(frame)
    assert (codes[:300, 0] == 0).all() and (codes[:, 0] == 4).sum() == 57
    out = enc.decode(np.zeros((len(frame), 0)), codes, np.random.default_rng(1))["c"]
    assert set(out) <= set(values)
    doc, arrays = enc.to_state()
    again = TableEncoder.from_state(json.loads(json.dumps(doc)), arrays)
    pd.testing.assert_series_equal(
        again.decode(np.zeros((len(frame), 0)), codes, np.random.default_rng(1))["c"], out
    )


def test_learning_rate_warms_up_then_decays() -> None:
    assert lr_factor(0, 1000) == pytest.approx(1 / 50)
    assert lr_factor(49, 1000) == pytest.approx(1.0)
    assert lr_factor(999, 1000) == pytest.approx(0.1, abs=1e-4)


def test_weight_average_warms_up_with_the_steps() -> None:
    # the average spans about the last ninth of the steps so far until it reaches ema_decay:
    # over a short run (a small cohort's ~300 steps) a fixed 0.995 would still weigh the
    # first, untrained weights heavily (half-life ~140 steps)
    assert ema_rate(0, 0.995) == pytest.approx(0.1)
    assert ema_rate(300, 0.995) == pytest.approx(301 / 310)
    assert ema_rate(10_000, 0.995) == 0.995
    rates = [ema_rate(i, 0.995) for i in range(3000)]
    assert all(b >= a for a, b in zip(rates, rates[1:], strict=False))
    # weight still left on the first 10% of a 322-step run (gbsg2): fixed decay vs warm-up
    steps = 322
    kept_fixed = 0.995 ** (steps - steps // 10)
    kept_warm = float(np.prod([ema_rate(i, 0.995) for i in range(steps // 10, steps)]))
    assert kept_fixed > 0.2 and kept_warm < 0.002
    # and the training loops' update applies it: at step 0 the average moves 90% of the way
    import torch

    net, ema = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = ema.weight.detach().clone()
    update_ema(ema, net, 0.995, 0)
    assert torch.allclose(ema.weight, 0.1 * before + 0.9 * net.weight.detach())


def test_bad_parameters_are_named_together(cohort) -> None:
    data, schema = cohort
    gen = TabularDiffusion(iterations=0, dropout=2.0, device="tpu")
    with pytest.raises(ParameterError, match="iterations.*dropout.*device"):
        gen.fit(data, schema)


def test_default_iterations_follow_the_cohort_size() -> None:
    gen = TabularDiffusion()
    assert gen.resolved_iterations(500) == 300  # 300 passes over one batch
    assert gen.resolved_iterations(200) == 300
    assert gen.resolved_iterations(100) == 300
    assert gen.resolved_iterations(2000) == 1172
    assert gen.resolved_iterations(100_000) == 1500
    assert TabularDiffusion(iterations=7).resolved_iterations(100_000) == 7


def test_default_learning_rate_is_larger_for_shorter_trainings() -> None:
    rates = [default_learning_rate(steps) for steps in (30, 300, 400, 500, 1000, 1500)]
    assert rates == pytest.approx([5e-3, 5e-3, 5e-3, 4e-3, 2e-3, 2e-3])
    assert TabularDiffusion().resolved_learning_rate() is None  # needs the number of steps
    assert TabularDiffusion().resolved_learning_rate(500) == pytest.approx(4e-3)
    assert TabularDiffusion(learning_rate=1e-3).resolved_learning_rate(300) == 1e-3
    assert TabularDiffusion(epsilon=1.0).resolved_learning_rate(300) == 2e-3


def test_quick_training_smoke(cohort, tmp_path: Path) -> None:
    data, schema = cohort
    seen = []
    gen = TabularDiffusion(**QUICK).fit(data, schema, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (40, 40) and gen.iterations_ == 40
    out = gen.sample(300, seed=5)
    assert list(out.columns) == gen.columns_ and len(out) == 300
    gen.save(tmp_path / "m")
    state = sorted(p.name for p in (tmp_path / "m" / "state").iterdir())
    assert state == ["encoder.safetensors", "network.safetensors"]  # no pickle anywhere
    loaded = TabularDiffusion.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.sample(300, seed=5), out)


def test_same_seed_trains_the_same_model(cohort) -> None:
    data, schema = cohort
    small = data.iloc[:300]
    a = TabularDiffusion(**QUICK, seed=4).fit(small, schema).sample(50, seed=1)
    b = TabularDiffusion(**QUICK, seed=4).fit(small, schema).sample(50, seed=1)
    c = TabularDiffusion(**QUICK, seed=5).fit(small, schema).sample(50, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_the_model_learns_the_joint_distribution(cohort) -> None:
    """Clearly above a shuffled-columns baseline, which keeps every marginal but no pair."""
    data, schema = cohort
    train, real = data.iloc[:1000].reset_index(drop=True), data.iloc[1000:].reset_index(drop=True)
    gen = TabularDiffusion(seed=0)  # the defaults: 586 steps for 1,000 records
    synthetic = gen.fit(train, schema).sample(len(real), seed=0)
    rng = np.random.default_rng(0)
    shuffled = train.sample(len(real), random_state=1).reset_index(drop=True)
    shuffled = shuffled.apply(lambda c: c.iloc[rng.permutation(len(c))].to_numpy())
    ours = quality_score(real, synthetic, schema)
    base = quality_score(real, shuffled, schema)
    assert ours.column_pair_trends > base.column_pair_trends + 0.05
    assert ours.overall > base.overall + 0.02
    assert ours.column_shapes > 0.85


def test_conditions_are_met(cohort) -> None:
    data, schema = cohort
    gen = TabularDiffusion(**QUICK).fit(data, schema)
    out = gen.sample(40, seed=2, conditions=["sex=F"])
    assert len(out) == 40 and (out["sex"] == "F").all()


def test_a_category_condition_is_inpainted_not_waited_for(cohort) -> None:
    """A required category is fixed from the first reverse step: every draw meets it, however
    rare, and the rest of the record is completed around it."""
    from synthgen.models.conditions import build_conditions

    data, schema = cohort
    gen = TabularDiffusion(**QUICK).fit(data, schema)
    rare = data["ethnicity"].value_counts().index[-1]
    conds = build_conditions([f"ethnicity={rare}", "age>=60"], gen.schema_)
    raw = gen._sample_model_given(200, 0, conds)
    assert (raw["ethnicity"] == rare).all()  # the equality is pinned ...
    assert raw["age"].lt(60).any()  # ... a range is left to the filter
    out = gen.sample(30, seed=1, conditions=[f"ethnicity={rare}", "age>=60"])
    assert (out["ethnicity"] == rare).all() and (out["age"] >= 60).all()


def test_all_code_columns_cross_entropy_matches_one_softmax_per_column() -> None:
    import torch
    import torch.nn.functional as F

    from synthgen.models.diffusion._process import code_cross_entropy, split_logits

    gen = torch.Generator().manual_seed(0)
    cards = [2, 5, 3, 100, 2]
    logits = (30 * torch.randn(64, sum(cards), generator=gen)).requires_grad_()
    codes = torch.stack([torch.randint(0, k, (64,), generator=gen) for k in cards], dim=1)
    fast = code_cross_entropy(logits, codes, cards)
    slow = torch.stack(
        [
            F.cross_entropy(part, codes[:, k], reduction="none")
            for k, part in enumerate(split_logits(logits, cards))
        ],
        dim=1,
    )
    assert fast.shape == (64, 5)
    assert torch.allclose(fast, slow, atol=1e-4)
    (g_fast,) = torch.autograd.grad(fast.sum(), logits)
    (g_slow,) = torch.autograd.grad(slow.sum(), logits)
    assert torch.allclose(g_fast, g_slow, atol=1e-5)


def test_auto_trains_on_the_cpu_and_samples_on_a_gpu(monkeypatch) -> None:
    import torch

    from synthgen.models.diffusion.generator import _sampling_device, _training_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert [_training_device(c).type for c in ("auto", "cpu", "cuda")] == ["cpu", "cpu", "cuda"]
    assert [_sampling_device(c).type for c in ("auto", "cpu", "cuda")] == ["cuda", "cpu", "cuda"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    # a model trained on a GPU still samples on a machine without one
    assert [_sampling_device(c).type for c in ("auto", "cpu", "cuda")] == ["cpu", "cpu", "cpu"]


def test_a_fit_leaves_torch_global_random_state_alone(cohort) -> None:
    import torch

    data, schema = cohort
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    TabularDiffusion(**QUICK, seed=4).fit(data.iloc[:200], schema)
    assert torch.equal(torch.rand(3), expected)


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


@pytest.mark.skipif(not _has_gpu(), reason="needs a CUDA GPU")
def test_same_seed_trains_the_same_model_on_a_gpu(cohort) -> None:
    """Without deterministic kernels two GPU fits differ (benchmarks/bench_device.py); the
    fit switches them on and puts PyTorch's setting back afterwards."""
    import torch

    data, schema = cohort
    before = torch.are_deterministic_algorithms_enabled()
    fits = [TabularDiffusion(**QUICK, seed=4, device="cuda").fit(data, schema) for _ in "ab"]
    assert torch.are_deterministic_algorithms_enabled() == before
    a, b = (f.network_.state_dict() for f in fits)
    assert all(torch.equal(a[k], b[k]) for k in a)
    pd.testing.assert_frame_equal(fits[0].sample(200, seed=1), fits[1].sample(200, seed=1))
