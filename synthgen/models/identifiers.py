"""Direct identifiers: never learned, re-created at sampling time as fake values.

At fit time only salted digests of the real identifier values are kept, so that fake values
can be checked never to equal a real one without keeping the real values.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.data.fakes import fake_values
from synthgen.data.schema import Schema

DIGEST_BYTES = 12


def _normalise(values: Sequence[object]) -> list[str]:
    return ["".join(str(v).split()).lower() for v in values]


def _digests(values: Sequence[object], salt: bytes) -> np.ndarray:
    out = np.empty(len(values), dtype=f"S{DIGEST_BYTES}")
    for i, v in enumerate(_normalise(values)):
        out[i] = hashlib.sha256(salt + v.encode("utf-8")).digest()[:DIGEST_BYTES]
    return out


@dataclass
class FakedColumn:
    """State for one faked identifier column.

    Attributes:
        name: column name.
        pii: its type.
        integer: whether real values were integers (row ids), so fakes are integers too.
        salt: per-column random salt.
        digests: sorted salted digests of the real values.
        offset: for integer row ids, the first fake id (above every real one).
    """

    name: str
    pii: str
    integer: bool
    salt: bytes
    digests: np.ndarray
    offset: int = 0

    def forbidden(self, candidates: list[str]) -> np.ndarray:
        """Mask of candidates that equal a real value."""
        if len(self.digests) == 0:
            return np.zeros(len(candidates), dtype=bool)
        cand = _digests(candidates, self.salt)
        pos = np.searchsorted(self.digests, cand)
        pos = np.minimum(pos, len(self.digests) - 1)
        return self.digests[pos] == cand

    def make(self, n: int, *, rng: np.random.Generator, start: int) -> pd.Series:
        """``n`` fake values; ``start`` numbers rows across chunks so row ids stay unique."""
        if self.pii == "row_id":
            if self.integer:
                return pd.Series(np.arange(start, start + n, dtype=np.int64) + self.offset)
            ids = [f"SYN{i:09d}" for i in range(start + 1, start + n + 1)]
            mask = self.forbidden(ids)
            if mask.any():  # a source that itself uses our prefix: fall back to random fakes
                return pd.Series(fake_values("row_id", n, rng=rng, forbidden=self.forbidden))
            return pd.Series(ids, dtype=object)
        return pd.Series(fake_values(self.pii, n, rng=rng, forbidden=self.forbidden), dtype=object)


def fit_identifiers(data: pd.DataFrame, schema: Schema) -> list[FakedColumn]:
    """Digest the real values of every identifier the schema says to fake."""
    out = []
    for spec in schema.identifiers:
        if spec.handling != "fake":
            continue
        col = data[spec.name].dropna()
        integer = spec.pii == "row_id" and pd.api.types.is_integer_dtype(col)
        salt = secrets.token_bytes(16)
        digests = np.sort(_digests(col.tolist(), salt))
        offset = int(col.max()) + 1 if integer and len(col) else 0
        out.append(FakedColumn(spec.name, spec.pii, integer, salt, digests, offset))
    return out


def identifiers_to_arrays(cols: list[FakedColumn]) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Split identifier state into JSON metadata and arrays (for an ``.npz`` file)."""
    meta, arrays = [], {}
    for i, c in enumerate(cols):
        meta.append(
            {
                "name": c.name,
                "pii": c.pii,
                "integer": c.integer,
                "salt": c.salt.hex(),
                "offset": c.offset,
                "array": f"digests_{i}",
            }
        )
        arrays[f"digests_{i}"] = c.digests
    return meta, arrays


def identifiers_from_arrays(meta: list[dict], arrays) -> list[FakedColumn]:
    """Inverse of :func:`identifiers_to_arrays`."""
    return [
        FakedColumn(
            name=m["name"],
            pii=m["pii"],
            integer=bool(m["integer"]),
            salt=bytes.fromhex(m["salt"]),
            digests=np.asarray(arrays[m["array"]]),
            offset=int(m["offset"]),
        )
        for m in meta
    ]
