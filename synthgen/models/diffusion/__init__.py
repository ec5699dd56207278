"""synthgen's own tabular diffusion generator (see :mod:`.generator`)."""

from synthgen.models.diffusion.generator import TabularDiffusion

__all__ = ["TabularDiffusion"]
