"""The diffusion sampler stopped early: ``sampling_noise`` leaves a known Gaussian blur."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.data.infer import infer_schema
from synthgen.errors import ParameterError
from synthgen.models.diffusion import TabularDiffusion
from synthgen.models.diffusion._process import alpha_bar, sample_coordinates, stop_level

QUICK = {"iterations": 30, "width": 32, "depth": 1, "sampling_steps": 8}


class _PointMass(torch.nn.Module):
    """The exact denoiser for data that is one point ``c`` in every numeric coordinate, with
    one categorical column that always predicts level 1."""

    n_numeric, cardinalities = 2, [3]

    def __init__(self, c: float):
        super().__init__()
        self.c = c

    def forward(self, x, codes, t):
        a = alpha_bar(t)[:, None]
        eps = (x - a.sqrt() * self.c) / (1 - a).sqrt()
        logits = torch.tensor([[0.0, 50.0, 0.0]]).expand(x.shape[0], 3)
        return eps, logits


@pytest.mark.parametrize("noise", [0.1, 0.5, 0.9])
def test_the_stop_level_leaves_exactly_the_asked_noise(noise: float) -> None:
    t = stop_level(noise)
    assert 0 < t < 1
    assert float((1 - alpha_bar(torch.tensor(t))).sqrt()) == pytest.approx(noise, rel=1e-5)
    assert stop_level(0.0) == 0.0


def test_stopped_sampling_returns_the_blurred_record_and_unmasks_every_code() -> None:
    common = dict(steps=20, generator=torch.Generator().manual_seed(0), device="cpu")
    x, codes = sample_coordinates(_PointMass(1.5), 20_000, **common)
    assert torch.allclose(x, torch.full_like(x, 1.5), atol=1e-4)  # run to the end: the point
    assert (codes == 1).all()
    for noise in (0.3, 0.6):
        gen = torch.Generator().manual_seed(1)
        x, codes = sample_coordinates(
            _PointMass(1.5), 20_000, steps=20, generator=gen, device="cpu", stop=stop_level(noise)
        )
        # sqrt(alpha_bar) * c + noise * eps, whatever the step size
        assert x.mean().item() == pytest.approx(1.5 * np.sqrt(1 - noise**2), abs=0.01)
        assert x.std().item() == pytest.approx(noise, rel=0.02)
        assert (codes == 1).all()  # nothing left masked


def _frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    return pd.DataFrame(
        {"x": np.where(y, 2.0, 0.0) + rng.normal(0, 1, n), "k": rng.integers(0, 50, n), "y": y}
    )


def test_sampling_noise_is_seeded_spreads_values_and_is_checked() -> None:
    frame = _frame()
    schema = infer_schema(frame).update("y", roles=("target",))
    plain = TabularDiffusion(**QUICK, sampling_noise=0.0, seed=1).fit(frame, schema)
    a = plain.sample(200, seed=0)
    default = TabularDiffusion(**QUICK, seed=1).fit(frame, schema).sample(200, seed=0)
    b = TabularDiffusion(**QUICK, sampling_noise=0.2, seed=1).fit(frame, schema).sample(200, seed=0)
    pd.testing.assert_frame_equal(default, b)  # the default leaves noise 0.2, outside DP
    assert not a.equals(b)
    assert TabularDiffusion().resolved_sampling_noise() == 0.2
    assert TabularDiffusion(epsilon=1.0).resolved_sampling_noise() == 0.0
    assert TabularDiffusion(epsilon=1.0, sampling_noise=0.3).resolved_sampling_noise() == 0.3
    # what the model used, as the model directory and a bundle's manifest record it
    used = TabularDiffusion(**QUICK, seed=1).fit(frame, schema)
    assert used.get_params()["sampling_noise"] is None
    resolved = used.resolved_params()
    assert resolved["sampling_noise"] == 0.2 and resolved["swap_share"] == 1.0
    assert resolved["learning_rate"] == 5e-3 and used.get_params()["learning_rate"] is None
    assert resolved["iterations"] == QUICK["iterations"]
    left = ("sampling_noise", "swap_share", "learning_rate")
    assert {k: v for k, v in resolved.items() if k not in left} == {
        k: v for k, v in used.get_params().items() if k not in left
    }
    private = TabularDiffusion(epsilon=1.0).resolved_params()
    assert private["sampling_noise"] == 0.0 and private["swap_share"] == 0.0
    assert private["learning_rate"] == 2e-3
    assert TabularDiffusion(learning_rate=1e-3, epsilon=1.0).resolved_learning_rate() == 1e-3
    assert "iterations" in private and private["iterations"] is None  # not fitted: left open
    noisy = TabularDiffusion(**QUICK, sampling_noise=0.6, seed=1).fit(frame, schema)
    c, d = noisy.sample(200, seed=0), noisy.sample(200, seed=0)
    pd.testing.assert_frame_equal(c, d)
    assert not a.equals(c)
    assert set(c.columns) == set(frame.columns) and c.notna().all().all()
    for bad in (-0.1, 0.96, "some", True):
        with pytest.raises(ParameterError, match="sampling_noise"):
            TabularDiffusion(sampling_noise=bad).fit(frame, schema)
