"""A column-by-column profile of a cohort: aggregate counts only, never a cell value."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from synthgen.data.schema import Schema

RARE_COUNT = 10  # categories held by fewer records than this are disclosure risks


@dataclass(frozen=True)
class ColumnProfile:
    """Aggregate facts about one column.

    Attributes:
        name: column name.
        kind: the schema kind.
        roles: the schema roles.
        missing_share: share of rows with no value.
        cardinality: number of distinct values.
        rare_categories: for categorical/boolean columns, categories held by fewer than
            10 records (each is a small cell an output checker would refuse).
        pii: the direct-identifier type detected, or None.
        handling: for a direct identifier, "fake" or "drop".
    """

    name: str
    kind: str
    roles: tuple[str, ...]
    missing_share: float
    cardinality: int
    rare_categories: int | None
    pii: str | None
    handling: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def profile_table(df: pd.DataFrame, schema: Schema) -> list[ColumnProfile]:
    """Profile every column of ``df`` that the schema describes.

    Args:
        df: the cohort (raw or coerced).
        schema: its schema.

    Returns:
        One :class:`ColumnProfile` per schema column, in schema order.
    """
    out = []
    n = max(len(df), 1)
    for spec in schema.columns:
        col = df[spec.name]
        rare = None
        if spec.kind in ("categorical", "boolean") and not spec.is_identifier:
            counts = col.value_counts(dropna=True)
            rare = int((counts < RARE_COUNT).sum())
        out.append(
            ColumnProfile(
                name=spec.name,
                kind=spec.kind,
                roles=spec.roles,
                missing_share=float(col.isna().sum()) / n,
                cardinality=int(col.nunique(dropna=True)),
                rare_categories=rare,
                pii=spec.pii,
                handling=spec.handling,
            )
        )
    return out
