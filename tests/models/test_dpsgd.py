"""DP-SGD for the diffusion generator: clipping, accounting, and the budget it records."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthgen.data.infer import infer_schema
from synthgen.datasets import demo_cohort
from synthgen.errors import ParameterError
from synthgen.models.diffusion import TabularDiffusion
from synthgen.models.diffusion._network import Denoiser
from synthgen.models.diffusion._process import diffusion_loss
from synthgen.models.dp.accounting import dpsgd_epsilon
from synthgen.models.dp.dpsgd import (
    _Capture,
    clipped_gradient_sum,
    composed_epsilon,
    noise_for_epsilon,
)


def _batch(n: int = 24):
    g = torch.Generator().manual_seed(0)
    x_num = torch.randn(n, 3, generator=g)
    observed = (torch.rand(n, 3, generator=g) > 0.2).float()
    x_cat = torch.stack([torch.randint(0, k, (n,), generator=g) for k in (4, 2)], dim=1)
    return x_num, observed, x_cat


def _net() -> Denoiser:
    torch.manual_seed(0)
    return Denoiser(n_numeric=3, cardinalities=[4, 2], width=16, depth=2, embed_dim=4, dropout=0)


def test_clipped_sum_equals_opacus_per_sample_gradients() -> None:
    """The closed-form per-layer norms and sums match Opacus' materialised per-sample grads."""
    from opacus import GradSampleModule

    batch, clip = _batch(), 0.05
    net = _net()
    capture = _Capture(net)
    losses = diffusion_loss(
        net, *batch, generator=torch.Generator().manual_seed(1), reduction="none"
    )
    ours, norms = clipped_gradient_sum(net, losses, capture, clip)
    capture.remove()

    ref = GradSampleModule(_net(), loss_reduction="sum")  # per-record, not scaled by n
    losses = diffusion_loss(
        ref, *batch, generator=torch.Generator().manual_seed(1), reduction="none"
    )
    losses.sum().backward()
    per = [p.grad_sample.reshape(len(losses), -1) for p in ref.parameters()]
    ref_norms = torch.cat(per, dim=1).norm(dim=1)
    np.testing.assert_allclose(norms.numpy(), ref_norms.numpy(), rtol=1e-4)
    factor = (clip / (ref_norms + 1e-6)).clamp(max=1.0)
    assert (factor < 1).any()  # the clip bites for some records
    for mine, p in zip(ours, ref.parameters(), strict=True):
        want = torch.einsum("i,i...->...", factor, p.grad_sample)
        np.testing.assert_allclose(mine.detach().numpy(), want.numpy(), rtol=1e-3, atol=1e-6)


def test_composition_adds_the_preprocessing_and_noise_meets_the_target() -> None:
    plain = dpsgd_epsilon(noise_multiplier=1.1, sample_rate=0.01, steps=1000, delta=1e-5)
    assert composed_epsilon(
        noise_multiplier=1.1, sample_rate=0.01, steps=1000, rho=0.0, delta=1e-5
    ) == pytest.approx(plain, rel=1e-9)
    with_pre = composed_epsilon(
        noise_multiplier=1.1, sample_rate=0.01, steps=1000, rho=0.01, delta=1e-5
    )
    assert with_pre > plain
    sigma = noise_for_epsilon(epsilon=1.0, delta=1e-6, sample_rate=0.1, steps=300, rho=0.005)
    at = composed_epsilon(noise_multiplier=sigma, sample_rate=0.1, steps=300, rho=0.005, delta=1e-6)
    assert 0.97 <= at <= 1.0  # within the 1% bisection tolerance, never over
    with pytest.raises(ParameterError, match="cannot be reached"):
        noise_for_epsilon(epsilon=1e-3, delta=1e-6, sample_rate=1.0, steps=10_000, rho=0.0)


def test_private_diffusion_records_its_budget_and_learns_nothing_for_free() -> None:
    df = demo_cohort(600, seed=2)
    schema = infer_schema(df)
    data = schema.coerce(df)
    gen = TabularDiffusion(
        epsilon=2.0, delta=1e-6, iterations=20, width=32, depth=1, sampling_steps=8, seed=1
    ).fit(data, schema)
    budget = gen.privacy_budget_
    assert budget["epsilon"] == 2.0 and budget["delta"] == 1e-6
    assert "DP-SGD" in budget["mechanism"] and budget["epsilon_spent"] <= 2.0
    assert budget["noise_multiplier"] > 0 and budget["steps"] == 20
    assert any("histogram" in s["what"] for s in budget["spent"])
    assert gen.swap_ == {"share": 0.0}  # no record mixes patients under DP-SGD
    # every learned column may be missing: the missing level is learned, not read off
    enc = gen.encoder_
    assert all(c.has_missing for c in enc.numeric_)
    assert all(None in c.levels for c in enc.categorical_)
    out = gen.sample(50, seed=0)
    assert str(out["age"].dtype) == "Int64"
    again = TabularDiffusion(**gen.get_params()).fit(data, schema).sample(50, seed=0)
    assert out.equals(again)
