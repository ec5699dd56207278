"""synthgen: synthetic health cohorts that can cross borders.

The walk of the data, each step one function::

    import synthgen as sg
    df = sg.read_table("cohort.parquet")
    schema = sg.infer_schema(df)
    split = sg.Cohort(schema.coerce(df)).split(0.2, seed=0)
    gen = sg.create_generator("gaussian_copula").fit(split.train, schema)
    syn = gen.sample(1000, seed=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below, for type checkers and editors
    from synthgen import datasets
    from synthgen.data.cohort import Cohort, Split, fingerprint
    from synthgen.data.infer import infer_schema
    from synthgen.data.io import TableWriter, read_table, write_table
    from synthgen.data.profile import profile_table
    from synthgen.data.schema import ColumnSpec, Schema
    from synthgen.errors import (
        InputError,
        ModelError,
        ParameterError,
        SchemaError,
        SynthgenError,
        TamperedModelError,
    )
    from synthgen.evaluation.evaluate import evaluate
    from synthgen.evaluation.report import EvaluationReport
    from synthgen.models import (
        Generator,
        create_generator,
        list_generators,
        load_generator,
        register_generator,
    )
    from synthgen.workflow import (
        evaluate_to_dir,
        inspect_data,
        recorded_split,
        sample_to_file,
        train_model,
    )

__version__ = "0.1.0"

__all__ = [
    "Cohort",
    "ColumnSpec",
    "EvaluationReport",
    "Generator",
    "InputError",
    "ModelError",
    "ParameterError",
    "Schema",
    "SchemaError",
    "Split",
    "SynthgenError",
    "TableWriter",
    "TamperedModelError",
    "create_generator",
    "datasets",
    "evaluate",
    "evaluate_to_dir",
    "fingerprint",
    "infer_schema",
    "inspect_data",
    "list_generators",
    "load_generator",
    "profile_table",
    "read_table",
    "recorded_split",
    "register_generator",
    "sample_to_file",
    "train_model",
    "write_table",
]

_HOMES = {
    "datasets": "synthgen.datasets",
    **dict.fromkeys(("Cohort", "Split", "fingerprint"), "synthgen.data.cohort"),
    "infer_schema": "synthgen.data.infer",
    **dict.fromkeys(("TableWriter", "read_table", "write_table"), "synthgen.data.io"),
    "profile_table": "synthgen.data.profile",
    **dict.fromkeys(("ColumnSpec", "Schema"), "synthgen.data.schema"),
    **dict.fromkeys(
        (
            "InputError",
            "ModelError",
            "ParameterError",
            "SchemaError",
            "SynthgenError",
            "TamperedModelError",
        ),
        "synthgen.errors",
    ),
    "evaluate": "synthgen.evaluation.evaluate",
    "EvaluationReport": "synthgen.evaluation.report",
    **dict.fromkeys(
        (
            "Generator",
            "create_generator",
            "list_generators",
            "load_generator",
            "register_generator",
        ),
        "synthgen.models",
    ),
    **dict.fromkeys(
        ("evaluate_to_dir", "inspect_data", "recorded_split", "sample_to_file", "train_model"),
        "synthgen.workflow",
    ),
}
"""Where each public name lives (the same names as ``__all__``). Each is imported on first use
(PEP 562), so ``synthgen --help``, a usage error, or a command that needs neither scikit-learn
nor torch does not pay for importing them. On the build machine importing every name takes
2.0 s and ``python -m synthgen.cli --help`` 0.3 s (``benchmarks/bench_cli_start.py``)."""


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'synthgen' has no attribute {name!r}")
    module = importlib.import_module(home)
    value = module if home == f"synthgen.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
