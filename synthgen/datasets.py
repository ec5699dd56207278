"""Built-in data sets: the simulated demo cohort."""

from synthgen.data.demo import demo_cohort

__all__ = ["demo_cohort"]
