"""synthgen: synthetic health cohorts that can cross borders.

The walk of the data, each step one function::

    import synthgen as sg
    df = sg.read_table("cohort.parquet")
    schema = sg.infer_schema(df)
    split = sg.Cohort(schema.coerce(df)).split(0.2, seed=0)
    gen = sg.create_generator("gaussian_copula").fit(split.train, schema)
    syn = gen.sample(1000, seed=1)
"""

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
