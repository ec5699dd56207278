"""Generators: the contract, the registry, and the built-in synthesizers.

Registration is explicit and happens here, in one place.
"""

from synthgen.models.base import Generator, check_is_fitted
from synthgen.models.conditions import Condition
from synthgen.models.diffusion import TabularDiffusion
from synthgen.models.dp.mst import MST
from synthgen.models.modeldir import load_model
from synthgen.models.registry import (
    create_generator,
    generator_class,
    list_generators,
    register_generator,
)
from synthgen.models.sdv_adapters import CTGAN, TVAE, CopulaGAN, GaussianCopula

register_generator(GaussianCopula.name, GaussianCopula)
register_generator(CTGAN.name, CTGAN)
register_generator(TVAE.name, TVAE)
register_generator(CopulaGAN.name, CopulaGAN)
register_generator(TabularDiffusion.name, TabularDiffusion)
register_generator(MST.name, MST)

load_generator = load_model

__all__ = [
    "CTGAN",
    "TVAE",
    "Condition",
    "CopulaGAN",
    "GaussianCopula",
    "Generator",
    "TabularDiffusion",
    "check_is_fitted",
    "create_generator",
    "generator_class",
    "list_generators",
    "load_generator",
    "register_generator",
]
