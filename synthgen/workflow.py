"""The custodian's steps as single functions: inspect, train, sample.

The CLI calls exactly one of these per command; researchers can call them too.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthgen.data.cohort import Cohort, Split, fingerprint, new_salt
from synthgen.data.infer import check_table, infer_schema
from synthgen.data.io import TableWriter, read_table, table_format, write_table
from synthgen.data.profile import ColumnProfile, profile_table
from synthgen.data.schema import Schema
from synthgen.data.sql import mask_url
from synthgen.errors import InputError, ParameterError
from synthgen.models import Generator, create_generator, load_generator
from synthgen.models.conditions import build_conditions
from synthgen.models.modeldir import load_holdout_rows, read_model_json

Progress = Callable[[int, int], None]


def _source_label(source: str | Path) -> str:
    text = str(source)
    return mask_url(text) if "://" in text else Path(text).name


@dataclass(frozen=True)
class InspectResult:
    """What ``synthgen inspect`` found.

    Attributes:
        schema: the inferred schema (to review and save).
        profile: one aggregate profile per column.
        n_rows: number of records.
    """

    schema: Schema
    profile: list[ColumnProfile]
    n_rows: int


def inspect_data(
    source: str | Path, *, table: str | None = None, query: str | None = None
) -> InspectResult:
    """Read a cohort, infer its schema and profile every column."""
    df = read_table(source, table=table, query=query)
    label = _source_label(source)
    schema = infer_schema(df, source=label)
    typed = schema.coerce(df, source=label)
    return InspectResult(schema=schema, profile=profile_table(typed, schema), n_rows=len(df))


def load_cohort(
    source: str | Path,
    schema: Schema | str | Path | None = None,
    *,
    table: str | None = None,
    query: str | None = None,
) -> tuple[pd.DataFrame, Schema]:
    """Read a cohort and type it by its schema (inferred when not given), checking both."""
    df = read_table(source, table=table, query=query)
    label = _source_label(source)
    check_table(df, source=label)
    if schema is None:
        schema = infer_schema(df, source=label)
    elif not isinstance(schema, Schema):
        schema = Schema.load(schema)
    typed = schema.coerce(df, source=label)
    return typed, schema


@dataclass(frozen=True)
class TrainResult:
    """What ``synthgen train`` produced."""

    model_dir: Path
    model: str
    params: dict[str, Any]
    n_train: int
    n_holdout: int
    seconds: float
    dropped: list[str] = field(default_factory=list)
    faked: list[str] = field(default_factory=list)


def train_model(
    source: str | Path,
    *,
    output: str | Path,
    model: str = "gaussian_copula",
    schema: Schema | str | Path | None = None,
    params: Mapping[str, Any] | None = None,
    holdout: float = 0.2,
    seed: int = 0,
    table: str | None = None,
    query: str | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Hold out records, fit a generator on the rest and write a signed model directory.

    Args:
        source: a CSV/Parquet path or a SQLAlchemy URL (with ``table`` or ``query``).
        output: the model directory to create.
        model: a registered generator name.
        schema: the reviewed schema (object or YAML path); inferred when None.
        params: hyper-parameters for the generator.
        holdout: share of records held out for the privacy evaluation.
        seed: seeds the split and training.
        overwrite: replace an existing model directory.
        progress: called as ``progress(epoch, epochs)`` by generators that train in epochs.

    Returns:
        A :class:`TrainResult`.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        raise InputError(f"'{output}' already exists; choose another path or pass --overwrite")
    params = dict(params or {})
    params.setdefault("seed", seed)
    gen = create_generator(model, **params)  # unknown names/params fail before reading data
    typed, schema = load_cohort(source, schema, table=table, query=query)
    split = Cohort(typed).split(holdout, seed=seed)
    check_delta(gen, len(split.train))
    started = time.perf_counter()
    gen.fit(split.train, schema, progress=progress)
    seconds = time.perf_counter() - started
    salt = new_salt()
    provenance = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "generator": model,
        "params": gen.get_params(),
        "seed": seed,
        "source": {
            "label": _source_label(source),
            "path": _source_path(source),
            "table": table,
            "query": query,
        },
        "data": {
            "rows": len(typed),
            "columns": len(typed.columns),
            "fingerprint": fingerprint(typed, salt=salt),
            "train_fingerprint": fingerprint(split.train, salt=salt),
            "salt": salt,
        },
        "fit_seconds": round(seconds, 3),
    }
    split_doc = {
        "holdout_fraction": holdout,
        "seed": seed,
        "n_rows": len(typed),
        "n_train": len(split.train),
        "n_holdout": len(split.holdout),
        "rows_file": "holdout_rows.npy",
    }
    gen.save(
        output,
        overwrite=overwrite,
        provenance=provenance,
        split=split_doc,
        holdout_rows=split.holdout_rows,
    )
    return TrainResult(
        model_dir=output,
        model=model,
        params=gen.get_params(),
        n_train=len(split.train),
        n_holdout=len(split.holdout),
        seconds=seconds,
        dropped=[c.name for c in schema.identifiers if c.handling == "drop"],
        faked=[c.name for c in schema.identifiers if c.handling == "fake"],
    )


def check_delta(gen: Generator, n_train: int) -> None:
    """Refuse a differential-privacy budget whose δ is not below 1/n.

    δ bounds the chance that the guarantee fails outright; with δ >= 1/n a mechanism that
    publishes one training record in full is (ε, δ)-DP. It must be well below 1/n.
    """
    params = gen.get_params()
    delta = params.get("delta")
    if not gen.supports_dp or params.get("epsilon") is None:
        return
    if isinstance(delta, (int, float)) and not isinstance(delta, bool) and delta >= 1 / n_train:
        raise ParameterError(
            f"delta {delta:g} is not below 1/n = 1/{n_train} = {1 / n_train:.2g} "
            f"({n_train} training records): with such a delta a mechanism may publish whole "
            "records; choose a delta well below 1/n (the default is 1e-6)"
        )


def _source_path(source: str | Path) -> str | None:
    text = str(source)
    return None if "://" in text else str(Path(text).resolve())


def recorded_split(model_dir: str | Path, source: str | Path | None = None) -> Split:
    """Re-create the exact train/holdout split a model was trained with.

    The source is re-read (from ``source`` or the path recorded in the model) and checked
    against the salted fingerprint taken at training time.
    """
    model_dir = Path(model_dir)
    doc = read_model_json(model_dir)
    prov = doc.get("provenance", {})
    src = prov.get("source", {})
    source = source or src.get("path")
    if source is None:
        raise InputError("the model does not record a readable source; pass the data explicitly")
    typed, _ = load_cohort(
        source, model_dir / "schema.yaml", table=src.get("table"), query=src.get("query")
    )
    data = prov.get("data", {})
    if fingerprint(typed, salt=data["salt"]) != data["fingerprint"]:
        raise InputError(
            f"'{_source_label(source)}' is not the data '{model_dir}' was trained on "
            "(fingerprint differs)"
        )
    rows = load_holdout_rows(model_dir)
    split = doc.get("split") or {}
    return Cohort(typed).apply_split(
        rows if rows is not None else np.array([], dtype=np.int64),
        fraction=split.get("holdout_fraction", 0.0),
        seed=split.get("seed", 0),
    )


@dataclass(frozen=True)
class SampleResult:
    """What ``synthgen sample`` wrote."""

    path: Path
    rows: int
    seconds: float


def sample_to_file(
    model_dir: str | Path,
    n: int,
    *,
    output: str | Path,
    seed: int | None = 0,
    conditions: Iterable[str] | Mapping[str, Any] | None = None,
    overwrite: bool = True,
    progress: Progress | None = None,
) -> SampleResult:
    """Sample ``n`` synthetic rows from a model directory and stream them to a file.

    Rows are written chunk by chunk (memory stays bounded whatever ``n``); nothing appears at
    ``output`` unless every row was written.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"number of rows must be a positive integer, got {n}")
    table_format(output)  # an unsupported extension fails before any work
    output = Path(output)
    if not output.parent.exists():
        raise InputError(f"folder '{output.parent}' does not exist")
    if conditions:  # check them against the model's schema before loading the model
        read_model_json(Path(model_dir))
        build_conditions(conditions, Schema.load(Path(model_dir) / "schema.yaml"))
    gen = load_generator(Path(model_dir))
    started = time.perf_counter()
    done = 0
    with TableWriter(output, overwrite=overwrite) as writer:
        for chunk in gen.iter_sample(int(n), seed=seed, conditions=conditions):
            writer.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, int(n))
    return SampleResult(path=output, rows=done, seconds=time.perf_counter() - started)


@dataclass(frozen=True)
class EvaluateResult:
    """What ``synthgen evaluate`` wrote."""

    report: Any
    path: Path
    records: Path | None = None


def evaluate_to_dir(
    *,
    synthetic: str | Path,
    output: str | Path,
    model_dir: str | Path | None = None,
    train: str | Path | None = None,
    holdout: str | Path | None = None,
    schema: Schema | str | Path | None = None,
    seed: int = 0,
    overwrite: bool = False,
    shadow: dict[str, Any] | None = None,
    records: str | Path | None = None,
    targets: list[str] | None = None,
    progress: Progress | None = None,
) -> EvaluateResult:
    """Evaluate a synthetic cohort and write ``report.json`` into ``output``.

    Either ``model_dir`` (train and holdout come from its recorded split) or ``train``,
    ``holdout`` and ``schema`` (for a synthetic file made by any tool). ``shadow`` (settings
    such as ``{"n_targets": 10, "n_shadows": 8}``) runs the shadow-model attack with the model
    directory's generator configuration; the model directory's privacy budget (when it was
    trained under differential privacy) is recorded in the report. ``records`` also writes
    the custodian's worst-case list (training records the attacks pick out, by row position
    in the source table, or in the training file without a model directory): it holds no cell
    values but points at real people, so it stays inside and never goes into a release.
    """
    from synthgen.data.atomic import atomic_dir
    from synthgen.evaluation.evaluate import evaluate

    output = Path(output)
    if output.exists() and not overwrite:
        raise InputError(f"'{output}' already exists; choose another path or pass --overwrite")
    if records is not None:
        records = Path(records)
        table_format(records)  # an unsupported suffix fails before the heavy work
        if records.exists() and not overwrite:
            raise InputError(f"'{records}' already exists; choose another path or pass --overwrite")
        if output.resolve() in records.resolve().parents:
            raise InputError(
                "the records list must not be written inside the report folder: it points "
                "at real people and must never travel with the report"
            )
        if not records.parent.is_dir():
            raise InputError(f"folder '{records.parent}' does not exist")
    if model_dir is not None:
        if train is not None or holdout is not None:
            raise InputError("give either a model directory or --train/--holdout, not both")
        split = recorded_split(model_dir)
        schema_obj = Schema.load(Path(model_dir) / "schema.yaml")
        train_df, holdout_df = split.train, split.holdout
        n_source = len(train_df) + len(holdout_df)
        source_rows = np.setdiff1d(np.arange(n_source), split.holdout_rows)
        provenance = {"model_dir": str(model_dir)}
        doc = read_model_json(Path(model_dir))
        budget = doc.get("privacy_budget")  # model.json is signed: the budget spent
        if shadow is not None:
            params = {k: v for k, v in doc["params"].items()}
            shadow = {"generator_name": doc["generator"], "generator_params": params, **shadow}
    else:
        if train is None or holdout is None or schema is None:
            raise InputError(
                "without a model directory, --train, --holdout and --schema are all needed"
            )
        schema_obj = schema if isinstance(schema, Schema) else Schema.load(schema)
        # no constant-column check here: a rare condition may be absent from a holdout
        train_df = schema_obj.coerce(read_table(train), source=_source_label(train))
        holdout_df = schema_obj.coerce(read_table(holdout), source=_source_label(holdout))
        source_rows = None  # positions in the training file itself
        budget = None  # a file from any tool: no budget is known
        provenance = {"train": _source_label(train), "holdout": _source_label(holdout)}
        if shadow is not None:
            raise InputError(
                "the shadow-model attack needs the model directory (the generator's configuration)"
            )
    syn = read_table(synthetic)
    report = evaluate(
        train=train_df,
        holdout=holdout_df,
        synthetic=syn,
        schema=schema_obj,
        seed=seed,
        shadow=shadow,
        targets=targets,
        privacy_budget=budget,
        progress=progress,
    )
    report.provenance = {**provenance, "synthetic": _source_label(synthetic)}
    with atomic_dir(output, overwrite=overwrite) as tmp:
        (tmp / "report.json").write_text(report.to_json(), encoding="utf-8")
        if records is not None:
            table = report.worst_case.table(source_rows=source_rows)
            write_table(table, records, overwrite=overwrite)
    return EvaluateResult(report=report, path=output / "report.json", records=records)
