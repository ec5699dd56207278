"""The ``Generator`` contract shared by every synthesizer.

``fit(train, schema) -> self``, ``sample(n, *, seed, conditions) -> DataFrame``, ``save(dir)``
and :func:`load_generator`. The base class does everything that is the same for every model:
checking the data against the schema, keeping direct identifiers away from the model, seeding,
chunked and conditional sampling, restoring dtypes, and the model-directory format. A subclass
implements ``_fit``, ``_sample_model``, ``_save_state`` and ``_load_state``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthgen.data.infer import infer_schema
from synthgen.data.schema import Schema
from synthgen.errors import ModelError, NotFittedError
from synthgen.models.conditions import Condition, apply_conditions, build_conditions
from synthgen.models.identifiers import FakedColumn, fit_identifiers

CHUNK_ROWS = 50_000
MAX_CONDITION_DRAWS = 200
MAX_BATCH_ROWS = 200_000
NO_HIT_GIVE_UP_ROWS = 1_000_000  # stop early when a condition is never met


def check_is_fitted(generator: Generator) -> None:
    """Raise :class:`NotFittedError` unless ``generator`` has been fitted."""
    if not getattr(generator, "fitted_", False):
        raise NotFittedError(
            f"this {type(generator).__name__} is not fitted; call fit(train, schema) first"
        )


def to_model_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Plain numpy dtypes for model libraries: nullable ints to float, nullable bools to object."""
    out = {}
    for name in df.columns:
        col = df[name]
        dtype = str(col.dtype)
        if dtype == "Int64":
            out[name] = col.astype("float64")
        elif dtype == "boolean":
            out[name] = col.astype(object).where(col.notna(), np.nan)
        else:
            out[name] = col
    return pd.DataFrame(out, index=df.index)


def restore_dtypes(df: pd.DataFrame, dtypes: Mapping[str, str]) -> pd.DataFrame:
    """Cast model output back to the training dtypes (ints rounded, bools mapped)."""
    out = {}
    for name, dtype in dtypes.items():
        if name not in df.columns:
            continue
        col = df[name]
        if dtype in ("int64", "Int64"):
            num = pd.to_numeric(col, errors="coerce").round()
            if dtype == "int64" and not num.isna().any():
                out[name] = num.astype("int64")
            else:
                out[name] = num.astype("Int64")
        elif dtype == "float64":
            out[name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif dtype in ("bool", "boolean"):
            if pd.api.types.is_bool_dtype(col):
                mapped = col
            else:  # object output with missing values (or text from a file)
                mapped = col.map(
                    lambda v: (
                        v
                        if pd.isna(v)
                        else bool(v)
                        if not isinstance(v, str)
                        else v.strip().lower() in ("true", "1", "yes")
                    )
                )
            values = mapped.astype("boolean")
            out[name] = (
                values.astype(bool) if dtype == "bool" and not values.isna().any() else values
            )
        elif dtype.startswith("datetime64"):
            out[name] = pd.to_datetime(col, errors="coerce").astype("datetime64[ns]")
        else:
            out[name] = col.astype(object).where(col.notna(), None) if dtype == "object" else col
    return pd.DataFrame(out, index=df.index)


def schema_dtype(kind: str, trained: str) -> str:
    """The nullable dtype of a column kind (the training dtype for identifiers and text)."""
    return {
        "numeric": "float64",
        "integer": "Int64",
        "boolean": "boolean",
        "datetime": "datetime64[ns]",
        "categorical": "object",
    }.get(kind, trained)


def chunk_sizes(n: int, chunk: int = CHUNK_ROWS) -> list[int]:
    """Split ``n`` rows into chunks of at most ``chunk`` (fixed, so seeds map to rows)."""
    full, rest = divmod(n, chunk)
    return [chunk] * full + ([rest] if rest else [])


class Generator(ABC):
    """Base class of every synthetic-data generator.

    Subclasses declare their hyper-parameters as keyword-only constructor arguments (stored
    as attributes, validated in ``fit``), set ``name`` and ``summary``, and implement the four
    private hooks. ``seed`` seeds training.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: True when the generator can train under differential privacy: it then accepts
    #: ``epsilon`` and ``delta`` parameters and sets ``privacy_budget_`` in ``_fit``.
    supports_dp: ClassVar[bool] = False

    # --------------------------------------------------------------- params
    def get_params(self) -> dict[str, Any]:
        """The constructor parameters of this generator and their values."""
        sig = inspect.signature(type(self).__init__)
        return {
            p: getattr(self, p)
            for p, v in sig.parameters.items()
            if v.kind is inspect.Parameter.KEYWORD_ONLY
        }

    def resolved_params(self) -> dict[str, Any]:
        """The parameters as the fitted model used them: :meth:`get_params`, with any left to
        the generator (``None`` meaning "the default for this data") replaced by the value it
        chose. Generators with such parameters override this."""
        return self.get_params()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        train: pd.DataFrame,
        schema: Schema | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> Generator:
        """Learn the joint distribution of ``train``'s non-identifying columns.

        Args:
            train: the training records (the holdout must already be removed).
            schema: the reviewed schema; inferred from ``train`` when omitted.
            progress: called as ``progress(done, total)`` after each epoch, for generators
                that train in epochs.

        Returns:
            self, fitted.
        """
        self._validate_params()
        if schema is None:
            schema = infer_schema(train)
        typed = schema.coerce(train)
        model_cols = schema.model_columns
        if not model_cols:
            raise ModelError("the schema leaves no column to learn (all are direct identifiers)")
        if len(typed) < 2:
            # a column constant within the training split is legitimate (a rare condition
            # whose few cases fell in the holdout); the whole table was checked before.
            raise ModelError(f"cannot fit on {len(typed)} record(s); at least 2 are needed")
        self.schema_ = schema
        self.columns_ = [
            c.name for c in schema.columns if not (c.is_identifier and c.handling == "drop")
        ]
        self.dtypes_ = {c: str(typed[c].dtype) for c in self.columns_}
        self.identifiers_: list[FakedColumn] = fit_identifiers(typed, schema)
        self.n_train_ = len(typed)
        self.privacy_budget_: dict[str, Any] | None = None
        self._fit(to_model_frame(typed[model_cols]), progress)
        if self.privacy_budget_ is not None:
            # whether a column has missing values must not be read off the data for free:
            # a private model always returns the nullable dtype of each column's kind
            # (identifiers are never learned: their fakes keep the training dtype)
            self.dtypes_ = {
                c: schema_dtype(schema[c].kind, self.dtypes_[c]) if c in model_cols else d
                for c, d in self.dtypes_.items()
            }
        self.fitted_ = True
        return self

    # --------------------------------------------------------------- sample
    def sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        conditions: Iterable[str | Condition] | Mapping[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Draw ``n`` synthetic records.

        Args:
            n: number of rows.
            seed: the same seed gives the same rows; None draws fresh randomness.
            conditions: e.g. ``["sex=F", "age>=80"]`` or ``{"sex": "F"}``; only rows meeting
                every condition are returned (to over-sample small groups).

        Returns:
            A DataFrame with the training columns and dtypes; faked identifiers are
            format-valid and never equal a real value; dropped identifiers are absent.
        """
        chunks = list(self.iter_sample(n, seed=seed, conditions=conditions))
        if not chunks:
            return self._empty()
        return pd.concat(chunks, ignore_index=True)

    def iter_sample(
        self,
        n: int,
        *,
        seed: int | None = None,
        conditions: Iterable[str | Condition] | Mapping[str, Any] | None = None,
        chunk_rows: int = CHUNK_ROWS,
    ) -> Iterator[pd.DataFrame]:
        """Like :meth:`sample` but yields chunks of at most ``chunk_rows``, for streaming.

        The rows depend only on ``seed`` and ``n`` (for the default ``chunk_rows``), so a
        streamed sample equals the in-memory one.
        """
        check_is_fitted(self)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ModelError(f"number of rows must be a non-negative integer, got {n!r}")
        conds = build_conditions(conditions, self.schema_)
        sizes = chunk_sizes(int(n), chunk_rows)
        children = np.random.SeedSequence(seed).spawn(len(sizes))
        start = 0
        for size, child in zip(sizes, children, strict=True):
            model_seq, id_seq = child.spawn(2)
            rows = restore_dtypes(self._draw(size, model_seq, conds), self.dtypes_)
            id_rng = np.random.default_rng(id_seq)
            fakes = pd.DataFrame(
                {
                    fc.name: fc.make(size, rng=id_rng, start=start).to_numpy()
                    for fc in self.identifiers_
                },
                index=rows.index,
            )
            if len(fakes.columns):  # only the identifier columns still need their dtypes
                rows = pd.concat([rows, restore_dtypes(fakes, self.dtypes_)], axis=1)
            start += size
            yield rows[self.columns_]

    def _draw(self, size: int, seq: np.random.SeedSequence, conds: list[Condition]) -> pd.DataFrame:
        if not conds:
            return self._sample_model(size, _int_seed(seq)).reset_index(drop=True)
        kept: list[pd.DataFrame] = []
        have, drawn, accepted = 0, 0, 0
        for _ in range(MAX_CONDITION_DRAWS):
            rate = (accepted + 1) / (drawn + 2)
            batch = int(min(MAX_BATCH_ROWS, max(1_000, 1.2 * (size - have) / rate)))
            (seq,) = seq.spawn(1)
            raw = self._sample_model_given(batch, _int_seed(seq), conds)
            typed = restore_dtypes(raw, self.dtypes_)
            hit = apply_conditions(typed, conds)
            drawn += batch
            accepted += len(hit)
            if len(hit):
                kept.append(raw.loc[hit.index])
                have += len(hit)
            if have >= size or (accepted == 0 and drawn >= NO_HIT_GIVE_UP_ROWS):
                break
        if have < size:
            where = " and ".join(map(str, conds))
            raise ModelError(
                f"only {have} of {size} rows met {where} after {drawn} draws "
                f"(acceptance {accepted / max(drawn, 1):.2%}); the model rarely produces "
                "such records"
            )
        return pd.concat(kept, ignore_index=True).iloc[:size].reset_index(drop=True)

    def _empty(self) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series(dtype=self.dtypes_[c]) for c in self.columns_})

    # ----------------------------------------------------------- save/load
    def state_dict(self) -> dict[str, Any]:
        """Plain-data state shared by every generator (model internals are saved apart)."""
        check_is_fitted(self)
        from synthgen.models.identifiers import identifiers_to_arrays

        meta, _ = identifiers_to_arrays(self.identifiers_)
        return {
            "generator": self.name,
            "params": self.get_params(),
            "resolved_params": self.resolved_params(),
            "columns": self.columns_,
            "dtypes": self.dtypes_,
            "n_train": self.n_train_,
            "identifiers": meta,
            "privacy_budget": getattr(self, "privacy_budget_", None),
        }

    def save(self, path: str | Path, *, overwrite: bool = False, **extra: Any) -> Path:
        """Write the fitted generator as a signed model directory (see :mod:`modeldir`)."""
        from synthgen.models.modeldir import save_model

        return save_model(self, Path(path), overwrite=overwrite, **extra)

    @classmethod
    def load(cls, path: str | Path) -> Generator:
        """Load a model directory after checking its integrity."""
        from synthgen.models.modeldir import load_model

        gen = load_model(Path(path))
        if not isinstance(gen, cls) or (cls.name and gen.name != cls.name):
            raise ModelError(f"'{path}' holds a {gen.name} model, not a {cls.name} model")
        return gen

    # ------------------------------------------------------------- to write
    def _validate_params(self) -> None:  # noqa: B027 - optional hook
        """Check hyper-parameters; raise :class:`ParameterError` naming every bad one."""

    @abstractmethod
    def _fit(self, data: pd.DataFrame, progress: Callable[[int, int], None] | None) -> None:
        """Fit the model to the typed, identifier-free training frame."""

    @abstractmethod
    def _sample_model(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` raw rows of the model's columns, determined by ``seed``."""

    def _sample_model_given(self, n: int, seed: int, conds: list[Condition]) -> pd.DataFrame:
        """Like :meth:`_sample_model`, for rows that must meet ``conds``.

        The rows are filtered afterwards either way; a generator that can condition on some
        of ``conds`` (e.g. fix a category) overrides this to raise the acceptance rate.
        """
        return self._sample_model(n, seed)

    @abstractmethod
    def _save_state(self, directory: Path) -> dict[str, Any]:
        """Write model internals under ``directory``; return JSON-able metadata about them."""

    @abstractmethod
    def _load_state(self, directory: Path, meta: dict[str, Any]) -> None:
        """Restore model internals written by :meth:`_save_state` (integrity already checked)."""


def _int_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0] >> 1)
