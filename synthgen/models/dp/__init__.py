"""Differentially private generators and their privacy accounting."""

from synthgen.models.dp.accounting import Budget
from synthgen.models.dp.mst import MST

__all__ = ["MST", "Budget"]
