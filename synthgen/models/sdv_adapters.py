"""Adapters over SDV's single-table synthesizers (GaussianCopula, CTGAN, TVAE, CopulaGAN).

SDV keeps state in Python objects, so the fitted synthesizer is pickled (cloudpickle) into the
model directory; the directory's HMAC is checked before anything is unpickled. SDV draws from
numpy's and torch's global generators while training: training runs with both seeded inside a
scope that restores them afterwards, and sampling uses SDV's own per-model random states.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.errors import ModelError, ParameterError
from synthgen.models.base import Generator

TABLE = "cohort"
_SDV_LOGGERS = (
    "SingleTableSynthesizer",
    "MultiTableSynthesizer",
    "Metadata",
    "SingleTableMetadata",
)


def _silence_sdv_logs() -> None:
    """SDV appends usage events to a CSV in the user's data folder; keep nothing on disk."""
    for name in _SDV_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


@contextlib.contextmanager
def seeded_globals(seed: int):
    """Seed numpy's and torch's global generators for a block, then restore them."""
    import torch

    np_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed % (2**32))
        try:
            yield
        finally:
            np.random.set_state(np_state)


class _EpochCounter:
    """Stands in for the ``tqdm`` bar ctgan wraps its epoch loop in, reporting each epoch."""

    def __init__(self, iterable, progress: Callable[[int, int], None]):
        self._items = list(iterable)
        self._progress = progress

    def __iter__(self):
        total = len(self._items)
        for done, item in enumerate(self._items, start=1):
            yield item
            self._progress(done, total)

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextlib.contextmanager
def epoch_progress(progress: Callable[[int, int], None] | None):
    """Report CTGAN/TVAE epochs to ``progress`` by swapping ctgan's ``tqdm`` for the block.

    ctgan offers no callback; its epoch loop is the only place progress is known.
    """
    if progress is None:
        yield
        return
    import ctgan.synthesizers.ctgan as ctgan_module
    import ctgan.synthesizers.tvae as tvae_module

    modules = [m for m in (ctgan_module, tvae_module) if hasattr(m, "tqdm")]
    saved = [m.tqdm for m in modules]

    def counter(iterable, *args: Any, **kwargs: Any) -> _EpochCounter:
        return _EpochCounter(iterable, progress)

    for m in modules:
        m.tqdm = counter
    try:
        yield
    finally:
        for m, original in zip(modules, saved, strict=True):
            m.tqdm = original


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def sdv_metadata(data: pd.DataFrame, schema) -> Any:
    """SDV ``Metadata`` for the model columns, built from our schema rather than re-detected."""
    from sdv.metadata import Metadata

    columns: dict[str, dict[str, Any]] = {}
    for name in data.columns:
        kind = schema[name].kind
        if kind in ("numeric", "integer"):
            rep = "Int64" if kind == "integer" else "Float"
            columns[name] = {"sdtype": "numerical", "computer_representation": rep}
        elif kind == "boolean":
            columns[name] = {"sdtype": "boolean"}
        elif kind == "datetime":
            columns[name] = {"sdtype": "datetime"}
        else:
            columns[name] = {"sdtype": "categorical"}
    doc = {
        "tables": {TABLE: {"columns": columns}},
        "relationships": [],
        "METADATA_SPEC_VERSION": "V1",
    }
    with _quiet():
        return Metadata.load_from_dict(doc)


class SDVGenerator(Generator):
    """Shared behaviour of the SDV adapters."""

    _sdv_class: ClassVar[str] = ""
    _positive_int_params: ClassVar[tuple[str, ...]] = ()

    def _sdv_kwargs(self) -> dict[str, Any]:
        params = self.get_params()
        params.pop("seed", None)
        return params

    def _validate_params(self) -> None:
        problems = []
        params = self.get_params()
        if isinstance(params.get("seed"), bool) or not isinstance(params.get("seed"), int):
            problems.append("seed must be an integer")
        for name in self._positive_int_params:
            value = params[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        for name in ("enforce_min_max_values", "enforce_rounding"):
            if name in params and not isinstance(params[name], bool):
                problems.append(f"{name} must be true or false, got {params[name]!r}")
        if "default_distribution" in params and params["default_distribution"] not in (
            "norm",
            "beta",
            "truncnorm",
            "uniform",
            "gamma",
            "gaussian_kde",
        ):
            problems.append(
                f"default_distribution {params['default_distribution']!r} is not one of "
                "norm, beta, truncnorm, uniform, gamma, gaussian_kde"
            )
        problems += self._extra_problems(params)
        if problems:
            raise ParameterError(f"model '{self.name}': " + "; ".join(problems))

    def _extra_problems(self, params: dict[str, Any]) -> list[str]:
        return []

    def _synth_cls(self):
        import sdv.single_table as st

        _silence_sdv_logs()
        return getattr(st, self._sdv_class)

    def _fit(self, data: pd.DataFrame, progress: Callable[[int, int], None] | None) -> None:
        cls = self._synth_cls()
        kwargs = self._sdv_kwargs()
        for key in ("generator_dim", "discriminator_dim", "compress_dims", "decompress_dims"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if "enable_gpu" in cls.__init__.__code__.co_varnames:
            kwargs["enable_gpu"] = False
        try:
            with _quiet():
                synth = cls(sdv_metadata(data, self.schema_), **kwargs)
                with seeded_globals(self.seed), epoch_progress(progress):
                    synth.fit({TABLE: data})
        except (ValueError, TypeError, KeyError) as exc:
            # SDV's messages can quote category values; keep only the error type.
            raise ModelError(
                f"{self.name} could not be fitted ({type(exc).__name__}); check the schema "
                "kinds of the columns"
            ) from None
        self.synthesizer_ = synth

    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        synth = self.synthesizer_
        synth.reset_sampling()
        synth._set_random_state(seed)
        rng = np.random.default_rng(seed)
        transformers = synth._data_processor._hyper_transformer.field_transformers
        for _, transformer in sorted(transformers.items()):  # dict order varies with hashing
            if transformer is not None and hasattr(transformer, "random_states"):
                state = np.random.RandomState(int(rng.integers(2**31 - 1)))
                transformer.random_states["reverse_transform"] = state
        with _quiet():
            out = synth.sample(n)
        return out[TABLE] if isinstance(out, dict) else out

    def _save_state(self, directory: Path) -> dict[str, Any]:
        with _quiet():
            self.synthesizer_.save(str(directory / "synthesizer.pkl"))
        return {
            "format": "sdv-cloudpickle",
            "file": "synthesizer.pkl",
            "sdv_class": self._sdv_class,
        }

    def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
        if meta.get("sdv_class") != self._sdv_class:
            raise ModelError(f"model state is not a {self._sdv_class}")
        cls = self._synth_cls()
        from sdv.utils import load_synthesizer

        try:
            with _quiet():
                synth = load_synthesizer(str(directory / meta.get("file", "synthesizer.pkl")))
        except Exception as exc:  # unpickling failures have many types
            raise ModelError(
                f"the saved {self._sdv_class} could not be loaded ({type(exc).__name__}); "
                "it may come from another SDV version"
            ) from None
        if not isinstance(synth, cls):
            raise ModelError(f"model state is a {type(synth).__name__}, not a {self._sdv_class}")
        self.synthesizer_ = synth


class GaussianCopula(SDVGenerator):
    """SDV's GaussianCopulaSynthesizer: marginals plus a Gaussian copula. Fast, robust."""

    name = "gaussian_copula"
    summary = "SDV Gaussian copula: fitted marginals joined by a Gaussian copula; fast baseline."
    _sdv_class = "GaussianCopulaSynthesizer"

    def __init__(
        self,
        *,
        default_distribution: str = "beta",
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        seed: int = 0,
    ):
        self.default_distribution = default_distribution
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding
        self.seed = seed


class _GANParams:
    def _extra_problems(self, params: dict[str, Any]) -> list[str]:
        problems = []

        def positive_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v > 0

        batch, pac = params.get("batch_size"), params.get("pac")
        if "pac" in params and positive_int(batch) and positive_int(pac) and batch % pac:
            problems.append(
                f"batch_size ({params['batch_size']}) must be a multiple of pac ({params['pac']})"
            )
        for key in ("generator_dim", "discriminator_dim", "compress_dims", "decompress_dims"):
            if key in params:
                v = params[key]
                if not isinstance(v, (list, tuple)) or not all(
                    isinstance(x, int) and x > 0 for x in v
                ):
                    problems.append(f"{key} must be a list of positive integers, got {v!r}")
        return problems


class CTGAN(_GANParams, SDVGenerator):
    """SDV's CTGANSynthesizer: a conditional GAN with mode-specific normalisation."""

    name = "ctgan"
    summary = "SDV CTGAN: conditional GAN for mixed-type tables; slow, strong on multimodal data."
    _sdv_class = "CTGANSynthesizer"
    _positive_int_params = ("epochs", "batch_size", "embedding_dim", "pac")

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        pac: int = 10,
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        seed: int = 0,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.pac = pac
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding
        self.seed = seed


class TVAE(_GANParams, SDVGenerator):
    """SDV's TVAESynthesizer: a variational autoencoder for tables."""

    name = "tvae"
    summary = "SDV TVAE: variational autoencoder for mixed-type tables; often beats CTGAN."
    _sdv_class = "TVAESynthesizer"
    _positive_int_params = ("epochs", "batch_size", "embedding_dim")

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        compress_dims: tuple[int, ...] = (128, 128),
        decompress_dims: tuple[int, ...] = (128, 128),
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        seed: int = 0,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.enforce_min_max_values = enforce_min_max_values
        self.enforce_rounding = enforce_rounding
        self.seed = seed


class CopulaGAN(CTGAN):
    """SDV's CopulaGANSynthesizer: CTGAN on copula-transformed numerics."""

    name = "copula_gan"
    summary = "SDV CopulaGAN: CTGAN trained on Gaussian-copula-transformed numeric columns."
    _sdv_class = "CopulaGANSynthesizer"

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        pac: int = 10,
        default_distribution: str = "beta",
        enforce_min_max_values: bool = True,
        enforce_rounding: bool = True,
        seed: int = 0,
    ):
        super().__init__(
            epochs=epochs,
            batch_size=batch_size,
            embedding_dim=embedding_dim,
            generator_dim=generator_dim,
            discriminator_dim=discriminator_dim,
            pac=pac,
            enforce_min_max_values=enforce_min_max_values,
            enforce_rounding=enforce_rounding,
            seed=seed,
        )
        self.default_distribution = default_distribution
