"""The diffusion generator's outcome: hidden in training, drawn first and guided in sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthgen.data.infer import infer_schema
from synthgen.errors import ModelError, ParameterError
from synthgen.models.diffusion import TabularDiffusion
from synthgen.models.diffusion._process import diffusion_loss, sample_coordinates

QUICK = {"iterations": 30, "width": 32, "depth": 1, "sampling_steps": 8}


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """``y`` (30 % true) shifts ``x`` by 1.5 standard deviations; ``z`` and ``c`` are noise."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    return pd.DataFrame(
        {
            "x": np.where(y, 1.5, 0.0) + rng.normal(0.0, 1.0, n),
            "z": rng.normal(0, 1, n),
            "c": rng.choice(["a", "b", "c"], n).astype(object),
            "y": y,
        }
    )


def _schema(frame: pd.DataFrame, target: str | None = "y"):
    schema = infer_schema(frame)
    return schema if target is None else schema.update(target, roles=("target",))


class _Recorder(torch.nn.Module):
    """A stand-in denoiser that records the codes it is shown and predicts nothing."""

    def __init__(self, n_numeric: int, cardinalities: list[int]):
        super().__init__()
        self.n_numeric, self.cardinalities = n_numeric, cardinalities
        self.seen: list[torch.Tensor] = []
        self.scale = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, codes, t):
        self.seen.append(codes.clone())
        logits = torch.zeros(x.shape[0], sum(self.cardinalities)) + self.scale
        return x * self.scale, logits


def test_training_hides_the_outcome_from_the_asked_share_of_records() -> None:
    n, cards = 4000, [3, 2]
    x_num, observed = torch.zeros(n, 1), torch.ones(n, 1)
    x_cat = torch.zeros(n, 2, dtype=torch.long)
    rates = {}
    for hide in (None, (1, 0.5), (1, 1.0)):
        net = _Recorder(1, cards)
        diffusion_loss(net, x_num, observed, x_cat, torch.Generator().manual_seed(0), hide=hide)
        masked = (net.seen[0] == torch.tensor(cards)).float().mean(0)
        rates[hide] = masked.tolist()
    # the noise level alone masks about half of every column (t is uniform)
    assert rates[None] == pytest.approx([0.5, 0.5], abs=0.03)
    # hiding masks the outcome in another half of the records: 1 - 0.5 * 0.5 = 0.75
    assert rates[(1, 0.5)][1] == pytest.approx(0.75, abs=0.03)
    assert rates[(1, 0.5)][0] == pytest.approx(0.5, abs=0.03)  # other columns untouched
    assert rates[(1, 1.0)][1] == 1.0


class _Staged(_Recorder):
    """Predicts level 1 of the outcome for an all-masked record at t = 1, level 0 later."""

    def forward(self, x, codes, t):
        self.seen.append(codes.clone())
        logits = torch.zeros(x.shape[0], sum(self.cardinalities))
        first = bool((t == 1).all()) and bool((codes == torch.tensor(self.cardinalities)).all())
        logits[:, 3 + (1 if first else 0)] = 50.0
        return torch.zeros_like(x), logits


def test_the_outcome_is_drawn_first_from_the_all_masked_prediction() -> None:
    common = dict(steps=10, generator=torch.Generator().manual_seed(0), device="cpu")
    _, codes = sample_coordinates(_Staged(1, [3, 2]), 200, **common, outcome=1)
    assert (codes[:, 1] == 1).all()  # decided before anything else was unmasked
    _, codes = sample_coordinates(_Staged(1, [3, 2]), 200, **common)
    # without an outcome it is unmasked along the way: only the share unmasked in the first
    # of 10 steps sees the all-masked prediction
    assert 0.8 < (codes[:, 1] == 0).float().mean() < 0.97
    # a condition on the outcome wins over drawing it
    _, codes = sample_coordinates(_Staged(1, [3, 2]), 200, **common, outcome=1, fixed={1: 0})
    assert (codes[:, 1] == 0).all()


class _Shift(_Recorder):
    """Denoises towards 1 when the outcome (column 0) is level 1, towards 0 when unknown."""

    def forward(self, x, codes, t):
        self.seen.append(codes.clone())
        a = (torch.cos(t * torch.pi / 2) ** 2).clamp(1e-5, 1.0)[:, None]
        target = (codes[:, :1] == 1).float()
        eps = (x - a.sqrt() * target) / (1 - a).sqrt().clamp_min(1e-3)
        return eps, torch.zeros(x.shape[0], 2)


def test_guidance_pushes_the_record_away_from_the_outcome_blind_prediction() -> None:
    common = dict(steps=50, device="cpu", fixed={0: 1}, outcome=0)
    means = []
    for w in (0.0, 1.0, 2.0):
        net = _Shift(1, [2])
        x, _ = sample_coordinates(net, 2000, **common, guidance=w, generator=torch.Generator())
        means.append(float(x.mean()))
        blind = [c for c in net.seen if (c[:, 0] == 2).all()]
        assert bool(blind) == (w > 0)  # the blind pass only runs when guiding
    assert means[0] == pytest.approx(1.0, abs=0.05)  # no guidance: the conditional mean
    assert means[0] < means[1] < means[2]  # guidance overshoots away from the blind mean 0


def test_guidance_strengthens_the_outcome_in_a_fitted_model() -> None:
    frame = _frame()
    schema = _schema(frame)
    gaps = {}
    for w in (0.0, 3.0):
        gen = TabularDiffusion(iterations=300, guidance=w, seed=0).fit(frame, schema)
        assert gen.outcome_ is not None
        out = gen.sample(2000, seed=1)
        gaps[w] = out.loc[out.y, "x"].mean() - out.loc[~out.y, "x"].mean()
    assert 1.0 < gaps[0.0] < 2.2  # the true gap is 1.5
    assert gaps[3.0] > gaps[0.0] + 0.2


def test_only_a_categorical_or_boolean_target_is_an_outcome() -> None:
    frame = _frame(200)
    assert TabularDiffusion(**QUICK).fit(frame, _schema(frame, None)).outcome_ is None
    assert TabularDiffusion(**QUICK).fit(frame, _schema(frame, "x")).outcome_ is None
    assert TabularDiffusion(**QUICK).fit(frame, _schema(frame, "c")).outcome_ is not None


def test_the_outcome_survives_saving_and_a_bad_one_is_refused(tmp_path) -> None:
    frame = _frame(200)
    gen = TabularDiffusion(**QUICK, guidance=2.0).fit(frame, _schema(frame))
    gen.save(tmp_path / "m")
    again = TabularDiffusion.load(tmp_path / "m")
    assert again.outcome_ == gen.outcome_
    pd.testing.assert_frame_equal(gen.sample(50, seed=3), again.sample(50, seed=3))
    # the signed file table stops edits; behind it the state itself is checked as well
    state = tmp_path / "state"
    state.mkdir()
    meta = gen._save_state(state)
    for bad in (99, -1, "y", True):
        with pytest.raises(ModelError, match="outcome"):
            TabularDiffusion()._load_state(state, {**meta, "outcome": bad})


@pytest.mark.parametrize("value", [-1, 11, "strong", True])
def test_bad_guidance_is_refused(value) -> None:
    frame = _frame(100)
    with pytest.raises(ParameterError, match="guidance"):
        TabularDiffusion(**QUICK, guidance=value).fit(frame, _schema(frame))
