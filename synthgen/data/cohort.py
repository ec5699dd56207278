"""A cohort and its seeded split into the records a model learns and those it never sees."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.errors import InputError

MIN_TRAIN_ROWS = 10
MIN_HOLDOUT_ROWS = 2


def fingerprint(df: pd.DataFrame, *, salt: str) -> str:
    """A salted SHA-256 of a table's contents and column names.

    The salt keeps the fingerprint from being matched against guessed tables; the same data
    and salt always give the same fingerprint, so a later step can check that it reads exactly
    the records an earlier one used.
    """
    h = hmac.new(bytes.fromhex(salt), digestmod=hashlib.sha256)
    h.update("\x1f".join(map(str, df.columns)).encode("utf-8"))
    h.update(str(list(df.dtypes.astype(str))).encode("utf-8"))
    if len(df):
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def new_salt() -> str:
    """A fresh random salt (hex) for :func:`fingerprint`."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Split:
    """The outcome of :meth:`Cohort.split`.

    Attributes:
        train: the records a generator learns from.
        holdout: records no generator ever sees; the privacy audit's non-members.
        holdout_rows: row positions of the holdout in the source table (sorted).
        fraction: the share of records held out.
        seed: the seed that drew the split.
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    holdout_rows: np.ndarray
    fraction: float
    seed: int


@dataclass(frozen=True)
class Cohort:
    """A typed cohort table.

    Args:
        data: the table, already coerced to its schema.
    """

    data: pd.DataFrame

    def split(self, holdout: float = 0.2, *, seed: int = 0) -> Split:
        """Hold out a seeded random share of the records.

        Args:
            holdout: share of records to hold out, in [0, 1).
            seed: the seed; the same data and seed give the same split.

        Returns:
            A :class:`Split` whose holdout rows can be recorded and re-applied later.
        """
        if not 0.0 <= holdout < 1.0:
            raise InputError(f"holdout share must be in [0, 1), got {holdout}")
        n = len(self.data)
        n_hold = int(round(n * holdout))
        if holdout > 0:
            n_hold = max(n_hold, MIN_HOLDOUT_ROWS)
        if n - n_hold < MIN_TRAIN_ROWS:
            raise InputError(
                f"the table has {n} rows; holding out {n_hold} leaves fewer than "
                f"{MIN_TRAIN_ROWS} to train on"
            )
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.permutation(n)[:n_hold])
        return self.apply_split(rows, fraction=holdout, seed=seed)

    def apply_split(self, holdout_rows: np.ndarray, *, fraction: float, seed: int) -> Split:
        """Re-create a recorded split from its holdout row positions."""
        n = len(self.data)
        holdout_rows = np.asarray(holdout_rows, dtype=np.int64)
        if len(holdout_rows) and (holdout_rows.min() < 0 or holdout_rows.max() >= n):
            raise InputError("the recorded split does not fit this table (row out of range)")
        mask = np.zeros(n, dtype=bool)
        mask[holdout_rows] = True
        return Split(
            train=self.data.iloc[~mask].reset_index(drop=True),
            holdout=self.data.iloc[mask].reset_index(drop=True),
            holdout_rows=holdout_rows,
            fraction=fraction,
            seed=seed,
        )
