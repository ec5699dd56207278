"""``diffusion``: synthgen's own tabular diffusion generator (PyTorch).

Numerics are quantile-transformed to normal scores and diffused with Gaussian noise;
categories (and each numeric column's missing flag) are diffused by masking, as in TabDiff.
A residual MLP learns to undo both at once; sampling runs the two processes backwards
together. Weights are kept as an exponential moving average, which is what is saved and
sampled from. State is safetensors plus JSON: nothing is pickled.

With ``epsilon`` set, the network trains under DP-SGD (see
:mod:`synthgen.models.dp.dpsgd`) and the encoder is built from the schema's declared domain or
from differentially private estimates, so the whole model is (epsilon, delta)-DP.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.errors import ModelError, ParameterError
from synthgen.models.base import Generator, chunk_sizes
from synthgen.models.diffusion._encoding import TableEncoder

PROGRESS_EVERY = 25
SAMPLE_BATCH = 25_000
OUTCOME_DROPOUT = 0.15
"""Share of training records whose outcome is hidden (the unconditional half of guidance)."""


SWAP_SHARE = 1.0
"""``swap_share`` when none is given, training is not private and the cohort is small (up to
:data:`SWAP_FULL_UP_TO` training records; see :func:`default_swap_share`)."""
SWAP_FULL_UP_TO = 2_000
"""Training records up to which the default swap share is :data:`SWAP_SHARE`."""
SWAP_NONE_FROM = 6_000
"""Training records from which the default swap share is 0 (linear in between)."""
SAMPLING_NOISE = 0.2
"""``sampling_noise`` when none is given and training is not private (docs/generators.md)."""
LEARNING_RATE_RANGE = (2e-3, 5e-3)
"""Bounds of the default peak learning rate, :data:`LEARNING_RATE_X_STEPS` / steps
(docs/generators.md)."""
LEARNING_RATE_X_STEPS = 2.0
"""Peak learning rate times optimiser steps, by default: short trainings take larger steps."""
PRIVATE_LEARNING_RATE = 2e-3
"""The peak learning rate under DP-SGD when none is given (the one measured there)."""
GROUP_DEPENDENCE = 0.3
"""Dependence (adjusted canonical correlation) at which ``swap_partners="groups"`` keeps
columns together."""
DEPENDENCE_ROWS = 5_000
"""Records (a seeded subsample of larger tables) the column dependences are measured on."""


def _training_device(choice: str):
    """Where a fit runs: the GPU only when asked for (``device="cuda"``).

    With the default network a training step is a few hundred small operations, each a
    kernel launch on a GPU, so a fit on an H200 took 1.5 to 3 times as long as on the same
    machine's CPU (docs/benchmarks.md); ``"auto"`` trains on the CPU.
    """
    import torch

    return torch.device("cuda" if choice == "cuda" else "cpu")


def _sampling_device(choice: str):
    """Where sampling runs: a GPU when present, unless ``device="cpu"``. Sampling pushes up
    to :data:`SAMPLE_BATCH` records through the network at once, where a GPU is faster (100,000
    demo records in 10 s against 56 s on the H200 machine's 16 CPU cores). A model trained on
    a GPU still samples on a machine without one."""
    import torch

    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


@contextlib.contextmanager
def _seeded_on(device, seed: int):
    """Seed torch for one fit on ``device`` and put back what it changed afterwards.

    On a GPU this also switches PyTorch to its deterministic kernels for the duration: the
    loss's per-column sums (``scatter_add``) and their gradients otherwise use atomic adds,
    whose order varies, so two fits with one seed would give different networks. cuBLAS needs
    ``CUBLAS_WORKSPACE_CONFIG`` for that; it is set unless the caller has set it (it takes
    effect where the process has made no cuBLAS call before: the CLI's case).
    """
    import torch

    gpus = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=gpus):
        torch.manual_seed(int(seed))
        if not gpus:
            yield
            return
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        before = torch.are_deterministic_algorithms_enabled()
        warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
        torch.use_deterministic_algorithms(True)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(before, warn_only=warn_only)


def default_learning_rate(steps: int) -> float:
    """The peak learning rate used by default for ``steps`` optimiser steps: 2 / steps, kept
    within :data:`LEARNING_RATE_RANGE`. A short training (300 full-batch steps on a cohort
    smaller than a batch) takes larger steps; at 2e-3, 300 steps left the network
    under-trained on 30 correlated numeric columns, while on the demo cohort's 1,500 steps
    5e-3 fitted the training records closely enough to raise the membership attacks' figures
    (docs/generators.md)."""
    low, high = LEARNING_RATE_RANGE
    return float(np.clip(LEARNING_RATE_X_STEPS / steps, low, high))


def default_swap_share(n: int) -> float:
    """The swap share used by default on ``n`` training records (docs/generators.md).

    :data:`SWAP_SHARE` up to :data:`SWAP_FULL_UP_TO` records, 0 from :data:`SWAP_NONE_FROM`,
    linear in between. A record's weight in what the network learns falls as the cohort grows,
    and with it what swapping buys: on 1,711 records it took the membership AUC from above
    TVAE's to below it; on 8,000 it lowered that AUC by 0.0045 (from 0.506 to 0.502, both
    below TVAE's 0.511) at a cost of 0.009 in train-on-synthetic utility and 0.066 in
    detection AUC. Where between the two it stops paying was not measured."""
    span = SWAP_NONE_FROM - SWAP_FULL_UP_TO
    return SWAP_SHARE * float(np.clip((SWAP_NONE_FROM - n) / span, 0.0, 1.0))


class TabularDiffusion(Generator):
    """Mixed-type tabular diffusion (Gaussian for numerics, masked for categories).

    Args:
        iterations: optimiser steps; None picks ``clip(300 * n / batch_size, 200, 1500)``:
            300 passes over the data (as SDV's TVAE makes) for small cohorts, at most 1,500
            steps for large ones (faster than TVAE's defaults on the benchmark cohorts, see
            docs/generators.md).
        batch_size: records per step (capped at the number of records).
        width, depth, embed_dim, dropout: the residual MLP.
        guidance: classifier-free guidance weight on the outcome (the schema's first
            categorical or boolean ``target``). Each record's outcome is drawn first and the
            rest of it is completed with ``(1 + w)`` times the outcome-aware prediction minus
            ``w`` times the outcome-blind one; 0 completes the record without the push. Larger
            values strengthen the outcome's dependence on the other columns (better
            train-on-synthetic utility on small cohorts) at some cost in fidelity
            (docs/generators.md). Without such a target there is no outcome and no guidance.
        swap_share: probability that each of a training record's column values (with
            ``swap_partners="groups"``, each cluster of dependent columns) is replaced by its
            value in another record, one with the same outcome but for a share
            ``swap_any_outcome`` (see :mod:`._swap`). None (the
            default) depends on the cohort size (:func:`default_swap_share`: 1 up to 2,000
            training records, 0 from 6,000), and is 0 under ``epsilon``; 0 turns swapping
            off. Lowers membership risk on small cohorts, at some cost in the weaker
            relations between columns (docs/generators.md). A share above 0 is refused under
            DP-SGD (a swapped record would depend on several patients).
        swap_partners: "groups" (default): the columns are clustered by their dependence
            (:data:`GROUP_DEPENDENCE`) and each cluster is swapped whole from its own partner,
            so ``swap_share=1`` trains on the outcome-conditional product of the clusters,
            keeping every relation inside a cluster; "one": one partner gives all of a
            record's swapped columns, as in TabCutMix; "each": every column draws its own
            partner (the outcome-conditional product of the columns at ``swap_share=1``).
        swap_any_outcome: probability that a swap partner is drawn from every record of the
            batch rather than from those with the same outcome (0.2 by default): weakens each
            column's relation to the outcome by that share, for a further drop in membership
            risk on small cohorts (docs/generators.md).
        sampling_noise: standard deviation of the Gaussian noise left in the numeric normal
            scores: the reverse process stops at that noise level (0 runs it to the end).
            Spreads each synthetic record's numbers over a neighbourhood, so that they do not
            land on a training record's own values, and weakens their correlations by
            ``1 - sampling_noise**2``. None (the default) is :data:`SAMPLING_NOISE`, or 0
            under ``epsilon``, where DP-SGD already bounds what a record can reveal
            (docs/generators.md).
        learning_rate: AdamW's peak learning rate, reached after a warm-up and decayed to a
            tenth; None (the default) is ``2 / steps`` kept within 2e-3 to 5e-3 (5e-3 up to
            400 steps, 2e-3 from 1,000; :func:`default_learning_rate`), or
            :data:`PRIVATE_LEARNING_RATE` under ``epsilon``.
        weight_decay: AdamW's weight decay.
        ema_decay: decay of the weight average that is saved and sampled from, reached
            after a warm-up (at step i the rate is ``min(ema_decay, (1 + i) / (10 + i))``,
            see :func:`ema_rate`).
        sampling_steps: reverse-process steps per sample.
        max_categories: levels kept per categorical column before rare ones are pooled.
        device: "auto" (the default) trains on the CPU and samples on a GPU when one is
            present, "cpu" does both on the CPU, "cuda" both on a GPU (refused where there is
            none). At the defaults a fit is faster on the CPU (docs/benchmarks.md). A fit on
            a GPU uses PyTorch's deterministic kernels: a seed gives the same network on the
            same GPU and software.
        epsilon, delta: train under (epsilon, delta)-differential privacy; None is not private.
        max_grad_norm: per-record gradient clipping bound under DP-SGD.
        seed: seeds initialisation, batches and noise.

    Once fitted, ``swap_`` records the swapping that was done (saved with the model): its
    share, and with a share above 0 the partners, ``any_outcome``, the outcome kept and the
    ``units`` of columns swapped together (column names, no values).
    """

    name = "diffusion"
    summary = (
        "synthgen tabular diffusion (Gaussian + masked, PyTorch): high fidelity, trains in "
        "minutes on a CPU; epsilon=... trains it under DP-SGD."
    )
    supports_dp = True

    def __init__(
        self,
        *,
        iterations: int | None = None,
        batch_size: int = 512,
        width: int = 192,
        depth: int = 3,
        embed_dim: int = 16,
        dropout: float = 0.0,
        guidance: float = 1.0,
        swap_share: float | None = None,
        swap_partners: str = "groups",
        swap_any_outcome: float = 0.2,
        sampling_noise: float | None = None,
        learning_rate: float | None = None,
        weight_decay: float = 1e-5,
        ema_decay: float = 0.995,
        sampling_steps: int = 100,
        max_categories: int = 100,
        device: str = "auto",
        epsilon: float | None = None,
        delta: float = 1e-6,
        max_grad_norm: float = 1.0,
        seed: int = 0,
    ):
        self.iterations = iterations
        self.batch_size = batch_size
        self.width = width
        self.depth = depth
        self.embed_dim = embed_dim
        self.dropout = dropout
        self.guidance = guidance
        self.swap_share = swap_share
        self.swap_partners = swap_partners
        self.swap_any_outcome = swap_any_outcome
        self.sampling_noise = sampling_noise
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.ema_decay = ema_decay
        self.sampling_steps = sampling_steps
        self.max_categories = max_categories
        self.device = device
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.seed = seed

    # --------------------------------------------------------------- params
    def _validate_params(self) -> None:
        problems = []

        def is_int(v: Any) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)

        for name in ("batch_size", "width", "depth", "embed_dim", "sampling_steps"):
            v = getattr(self, name)
            if not is_int(v) or v < 1:
                problems.append(f"{name} must be a positive integer, got {v!r}")
        if self.iterations is not None and (not is_int(self.iterations) or self.iterations < 1):
            problems.append(
                f"iterations must be a positive integer or null, got {self.iterations!r}"
            )
        if not is_int(self.max_categories) or self.max_categories < 2:
            problems.append(f"max_categories must be an integer >= 2, got {self.max_categories!r}")
        if not is_int(self.seed):
            problems.append(f"seed must be an integer, got {self.seed!r}")
        for name, lo, hi in (
            ("dropout", 0.0, 0.99),
            ("ema_decay", 0.0, 0.99999),
            ("weight_decay", 0.0, 1.0),
        ):
            v = getattr(self, name)
            if not is_num(v) or not lo <= v <= hi:
                problems.append(f"{name} must be a number in [{lo}, {hi}], got {v!r}")
        for name in ("learning_rate", "max_grad_norm"):
            v = getattr(self, name)
            if v is None and name == "learning_rate":
                continue  # the default for the number of steps
            if not is_num(v) or not v > 0:
                problems.append(f"{name} must be a positive number, got {v!r}")
        if not is_num(self.guidance) or not 0 <= self.guidance <= 10:
            problems.append(f"guidance must be a number in [0, 10], got {self.guidance!r}")
        if self.swap_share is not None and (
            not is_num(self.swap_share) or not 0 <= self.swap_share <= 1
        ):
            problems.append(
                f"swap_share must be a number in [0, 1] or null, got {self.swap_share!r}"
            )
        elif self.swap_share is not None and self.swap_share > 0 and self.epsilon is not None:
            problems.append(
                "swap_share must be 0 under epsilon: a swapped record depends on several patients, "
                "which DP-SGD's accounting does not allow for"
            )
        if self.swap_partners not in ("one", "each", "groups"):
            problems.append(
                f"swap_partners must be one, each or groups, got {self.swap_partners!r}"
            )
        if not is_num(self.swap_any_outcome) or not 0 <= self.swap_any_outcome <= 1:
            problems.append(
                f"swap_any_outcome must be a number in [0, 1], got {self.swap_any_outcome!r}"
            )
        if self.sampling_noise is not None and (
            not is_num(self.sampling_noise) or not 0 <= self.sampling_noise <= 0.95
        ):
            problems.append(
                f"sampling_noise must be a number in [0, 0.95] or null, got {self.sampling_noise!r}"
            )
        if self.epsilon is not None and (not is_num(self.epsilon) or not self.epsilon > 0):
            problems.append(f"epsilon must be a positive number or null, got {self.epsilon!r}")
        if not is_num(self.delta) or not 0 < self.delta < 1:
            problems.append(f"delta must be a number in (0, 1), got {self.delta!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            problems.append(f"device must be auto, cpu or cuda, got {self.device!r}")
        elif self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                problems.append("device is cuda but no GPU is available here")
        if problems:
            raise ParameterError(f"model '{self.name}': " + "; ".join(problems))

    def _unless_private(self, value: float | None, default: float) -> float:
        """``value`` when given; otherwise ``default``, or 0 under DP-SGD (which already bounds
        what a record can reveal, so these guards would only cost fidelity)."""
        if value is not None:
            return float(value)
        return 0.0 if self.epsilon is not None else default

    def resolved_swap_share(self, n: int | None = None) -> float | None:
        """The share of column values swapped in training on ``n`` records (the fitted
        model's training records when None): the share given, else 0 under DP-SGD, else
        :func:`default_swap_share`; None when that needs the cohort size and none is known."""
        if self.swap_share is not None or self.epsilon is not None:
            return self._unless_private(self.swap_share, SWAP_SHARE)
        n = getattr(self, "n_train_", None) if n is None else n
        return None if n is None else default_swap_share(n)

    def resolved_learning_rate(self, steps: int | None = None) -> float | None:
        """AdamW's peak learning rate for ``steps`` optimiser steps (the fitted model's when
        None): the one given, else :data:`PRIVATE_LEARNING_RATE` under DP-SGD, else
        :func:`default_learning_rate`; None when that needs the steps and none are known."""
        if self.learning_rate is not None:
            return float(self.learning_rate)
        if self.epsilon is not None:
            return PRIVATE_LEARNING_RATE
        steps = getattr(self, "iterations_", None) if steps is None else steps
        return default_learning_rate(steps) if steps else None

    def resolved_sampling_noise(self) -> float:
        """The noise left in the numeric normal scores when sampling (0 under DP-SGD unless
        given)."""
        return self._unless_private(self.sampling_noise, SAMPLING_NOISE)

    def resolved_params(self) -> dict[str, Any]:
        """:meth:`get_params` with the swap share, the sampling noise, the learning rate and
        (once fitted) the number of optimiser steps as used."""
        params = self.get_params()
        params["swap_share"] = self.resolved_swap_share()
        params["sampling_noise"] = self.resolved_sampling_noise()
        params["learning_rate"] = self.resolved_learning_rate()
        if getattr(self, "iterations_", None):
            params["iterations"] = self.iterations_
        return params

    def resolved_iterations(self, n: int) -> int:
        """The number of optimiser steps for ``n`` training records."""
        if self.iterations is not None:
            return int(self.iterations)
        batch = min(self.batch_size, n)
        return int(np.clip(round(300 * n / batch), 200, 1500))

    # ------------------------------------------------------------------ fit
    def _fit(self, data: pd.DataFrame, progress: Callable[[int, int], None] | None) -> None:
        import torch

        from synthgen.models.diffusion._network import Denoiser
        from synthgen.models.diffusion._swap import ColumnSwap, dependent_clusters

        kinds = {c: self.schema_[c].kind for c in data.columns}
        rng = np.random.default_rng(self.seed)
        if self.epsilon is not None:
            from synthgen.models.dp.dpsgd import private_encoder

            self.encoder_, budget = private_encoder(
                data,
                self.schema_,
                kinds,
                epsilon=float(self.epsilon),
                delta=float(self.delta),
                max_categories=self.max_categories,
                rng=rng,
            )
        else:
            self.encoder_ = TableEncoder(max_categories=self.max_categories).fit(data, kinds, rng)
            budget = None
        x_num, observed, x_cat = self.encoder_.encode(data, rng)
        targets = [c for c in self.schema_.with_role("target") if c in kinds]
        self.outcome_ = self._outcome_code(targets)
        device = _training_device(self.device)
        with _seeded_on(device, self.seed):
            net = Denoiser(
                n_numeric=self.encoder_.n_numeric,
                cardinalities=self.encoder_.cardinalities,
                width=self.width,
                depth=self.depth,
                embed_dim=self.embed_dim,
                dropout=self.dropout,
            ).to(device)
            tensors = (
                torch.from_numpy(x_num).to(device),
                torch.from_numpy(observed.astype(np.float32)).to(device),
                torch.from_numpy(x_cat).to(device),
            )
            gen = torch.Generator().manual_seed(int(self.seed))
            steps = self.resolved_iterations(len(data))
            if budget is None:
                swap = ColumnSwap(
                    self.encoder_,
                    targets[0] if targets else None,
                    self.resolved_swap_share(len(data)),
                    each=self.swap_partners != "one",
                    any_outcome=self.swap_any_outcome,
                )
                if self.swap_partners == "groups" and swap.share > 0:
                    rows = rng.permutation(len(data))[:DEPENDENCE_ROWS]
                    swap.cluster = torch.from_numpy(
                        dependent_clusters(
                            swap, x_num[rows], observed[rows], x_cat[rows], GROUP_DEPENDENCE
                        )
                    )
                groups = torch.from_numpy(swap.groups(x_num, observed, x_cat))
                self.swap_ = self._swap_record(swap)
                ema = self._train(net, tensors, steps, gen, progress, swap, groups)
            else:
                from synthgen.models.dp.dpsgd import train_private

                ema, self.privacy_budget_ = train_private(
                    self, net, tensors, steps, gen, progress, budget
                )
                self.swap_ = {"share": 0.0}
        self.network_ = ema.cpu().eval()
        self.iterations_ = steps

    def _swap_record(self, swap) -> dict[str, Any]:
        """What the swapping did, for the model directory: the share, the outcome it kept,
        and the units of columns swapped together (column names only, no values)."""
        if swap.share <= 0 or not swap.n_columns:
            return {"share": 0.0}
        return {
            "share": swap.share,
            "partners": self.swap_partners,
            "any_outcome": float(self.swap_any_outcome),
            "outcome": swap.target,
            "units": swap.units(),
        }

    def _outcome_code(self, targets: list[str]) -> int | None:
        """The code column of the first target, when it is categorical or boolean."""
        names = [spec.name for spec in self.encoder_.categorical_]
        return names.index(targets[0]) if targets and targets[0] in names else None

    @property
    def hide(self) -> tuple[int, float] | None:
        """What :func:`._process.diffusion_loss` hides: the outcome, from a share of records."""
        return None if self.outcome_ is None else (self.outcome_, OUTCOME_DROPOUT)

    def _train(self, net, tensors, steps: int, gen, progress, swap, groups) -> Any:
        import torch

        from synthgen.models.diffusion._process import diffusion_loss

        n = tensors[0].shape[0]
        batch = min(self.batch_size, n)
        opt = torch.optim.AdamW(
            net.parameters(),
            lr=self.resolved_learning_rate(steps),
            weight_decay=self.weight_decay,
            fused=True,
        )
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: lr_factor(i, steps))
        ema = copy.deepcopy(net).requires_grad_(False)
        averaged, current = list(ema.parameters()), list(net.parameters())
        order = torch.randperm(n, generator=gen)
        pos = 0
        net.train()
        for step in range(steps):
            if pos + batch > n:
                order, pos = torch.randperm(n, generator=gen), 0
            idx = order[pos : pos + batch].to(tensors[0].device)
            pos += batch
            rows = swap(*(x[idx] for x in tensors), groups[idx.cpu()], gen)
            loss = diffusion_loss(net, *rows, generator=gen, hide=self.hide)
            if not torch.isfinite(loss):
                raise ModelError(
                    f"{self.name}: training diverged at step {step}; lower learning_rate"
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            update_ema(averaged, current, self.ema_decay, step)
            if progress is not None and ((step + 1) % PROGRESS_EVERY == 0 or step + 1 == steps):
                progress(step + 1, steps)
        return ema

    # --------------------------------------------------------------- sample
    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        return self._sample_fixed(n, seed, {})

    def _sample_model_given(self, n: int, seed: int, conds: list) -> pd.DataFrame:
        """Categories required by ``column=value`` conditions are fixed from the first step."""
        fixed = {}
        for cond in conds:
            if cond.op not in ("=", "=="):
                continue
            for k, spec in enumerate(self.encoder_.categorical_):
                if spec.name == cond.column:
                    level = _level_of(spec.levels, cond.value)
                    if level is not None:
                        fixed[k] = level
        return self._sample_fixed(n, seed, fixed)

    def _sample_fixed(self, n: int, seed: int, fixed: dict[int, int]) -> pd.DataFrame:
        import torch

        from synthgen.models.diffusion._process import sample_coordinates, stop_level

        gen = torch.Generator().manual_seed(int(seed))
        decode_rng = np.random.default_rng(seed)
        device = _sampling_device(self.device)
        net = self.network_.to(device)
        parts = []
        for size in chunk_sizes(n, SAMPLE_BATCH):
            x, codes = sample_coordinates(
                net,
                size,
                steps=self.sampling_steps,
                generator=gen,
                device=device,
                fixed=fixed,
                outcome=self.outcome_,
                guidance=float(self.guidance),
                stop=stop_level(self.resolved_sampling_noise()),
            )
            parts.append(self.encoder_.decode(x.cpu().numpy(), codes.cpu().numpy(), decode_rng))
        self.network_ = net.cpu()
        if not parts:
            return self.encoder_.decode(
                np.zeros((0, self.encoder_.n_numeric)),
                np.zeros((0, len(self.encoder_.cardinalities)), dtype=np.int64),
                decode_rng,
            )
        return pd.concat(parts, ignore_index=True)

    # ------------------------------------------------------------ save/load
    def _save_state(self, directory: Path) -> dict[str, Any]:
        from safetensors.numpy import save_file as save_arrays
        from safetensors.torch import save_file as save_tensors

        save_tensors(
            {k: v.contiguous() for k, v in self.network_.state_dict().items()},
            str(directory / "network.safetensors"),
        )
        doc, arrays = self.encoder_.to_state()
        save_arrays(arrays, str(directory / "encoder.safetensors"))
        return {
            "format": "safetensors+json",
            "network": {
                "n_numeric": self.encoder_.n_numeric,
                "cardinalities": self.encoder_.cardinalities,
                "width": self.width,
                "depth": self.depth,
                "embed_dim": self.embed_dim,
            },
            "encoder": doc,
            "iterations": self.iterations_,
            "outcome": self.outcome_,
            "swap": self.swap_,
        }

    def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
        from safetensors.numpy import load_file as load_arrays
        from safetensors.torch import load_file as load_tensors

        from synthgen.models.diffusion._network import Denoiser

        if meta.get("format") != "safetensors+json":
            raise ModelError("model state is not a synthgen diffusion model")
        try:
            self.encoder_ = TableEncoder.from_state(
                meta["encoder"], load_arrays(str(directory / "encoder.safetensors"))
            )
            cfg = meta["network"]
            net = Denoiser(
                n_numeric=int(cfg["n_numeric"]),
                cardinalities=[int(k) for k in cfg["cardinalities"]],
                width=int(cfg["width"]),
                depth=int(cfg["depth"]),
                embed_dim=int(cfg["embed_dim"]),
                dropout=0.0,
            )
            net.load_state_dict(load_tensors(str(directory / "network.safetensors")))
        except (KeyError, ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"the saved diffusion model could not be loaded ({type(exc).__name__})"
            ) from None
        outcome = meta.get("outcome")
        if outcome is not None and not (
            type(outcome) is int and 0 <= outcome < len(self.encoder_.categorical_)
        ):
            raise ModelError("the saved diffusion model names an outcome column it does not have")
        self.network_ = net.eval()
        self.iterations_ = int(meta.get("iterations", 0))
        self.outcome_ = outcome
        self.swap_ = meta.get("swap")  # None: saved before swapping was recorded


def _level_of(levels: list[Any], value: Any) -> int | None:
    """The code of ``value`` among a column's levels (text compared as text), if any."""
    for i, level in enumerate(levels):
        if level is not None and (level == value or str(level) == str(value)):
            return i
    return None


def lr_factor(step: int, total: int, warmup: int = 50) -> float:
    """Linear warm-up, then cosine decay to a tenth of the learning rate."""
    if step < warmup:
        return (step + 1) / warmup
    frac = (step - warmup) / max(total - warmup, 1)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))


def ema_rate(step: int, decay: float) -> float:
    """The averaging rate at optimiser step ``step`` (from 0): ``decay``, but at most
    ``(1 + step) / (10 + step)``, so that until ``decay`` is reached the average covers about
    the last ninth of the steps so far (EMA warm-up, as in diffusers' ``EMAModel``)."""
    return min(float(decay), (1 + step) / (10 + step))


def update_ema(ema, net, decay: float, step: int) -> None:
    """Move the averaged weights towards the network's at ``ema_rate(step, decay)``.

    ``ema`` and ``net`` are modules, or their parameter lists (listed once by a training loop:
    listing a module's parameters on every step costs as much as the update)."""
    import torch

    decay = ema_rate(step, decay)
    averaged = list(ema.parameters()) if isinstance(ema, torch.nn.Module) else ema
    current = [p.detach() for p in (net.parameters() if isinstance(net, torch.nn.Module) else net)]
    if len(averaged) != len(current):
        raise ModelError("the weight average and the network have different parameters")
    with torch.no_grad():  # one call over all tensors: the same arithmetic as a loop, faster
        torch._foreach_mul_(averaged, decay)
        torch._foreach_add_(averaged, current, alpha=1 - decay)
