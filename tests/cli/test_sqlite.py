"""The CLI reads a cohort from a database URL (SQLite here) with --table or --query."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from _cli import assert_ok, assert_one_line_error


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory, cli_data: Path) -> str:
    """The session cohort (read back from its CSV) as table ``cohort`` in a SQLite file."""
    path = tmp_path_factory.mktemp("cli-sqlite") / "cohort.db"
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    try:
        pd.read_csv(cli_data).to_sql("cohort", engine, index=False)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory, sqlite_url: str, synthgen_cli) -> Path:
    out = tmp_path_factory.mktemp("cli-sqlite-schema") / "schema.yaml"
    result = synthgen_cli("inspect", sqlite_url, "--table", "cohort", "-o", out)
    assert_ok(result)
    return out


def test_inspect_sqlite_table(sqlite_url, sqlite_schema, synthgen_cli, cohort_frame):
    doc = yaml.safe_load(sqlite_schema.read_text(encoding="utf-8"))
    assert list(doc["columns"]) == list(cohort_frame.columns)
    result = synthgen_cli("inspect", sqlite_url, "--table", "cohort", "--json")
    assert_ok(result)
    parsed = json.loads(result.stdout)
    assert parsed["rows"] == len(cohort_frame)
    assert parsed["schema"]["columns"]["nhs_number"]["role"] == "direct_identifier"


def test_train_from_sqlite_table(sqlite_url, sqlite_schema, synthgen_cli, tmp_path, cohort_frame):
    out = tmp_path / "model"
    result = synthgen_cli(
        "train",
        sqlite_url,
        "--table",
        "cohort",
        "--schema",
        sqlite_schema,
        "-p",
        "default_distribution=norm",
        "-o",
        out,
    )
    assert_ok(result)
    doc = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert doc["split"]["n_rows"] == len(cohort_frame)
    assert doc["provenance"]["source"]["table"] == "cohort"
    assert len(np.load(out / "holdout_rows.npy")) == round(0.2 * len(cohort_frame))


def test_train_from_sqlite_query(sqlite_url, sqlite_schema, synthgen_cli, tmp_path, cohort_frame):
    out = tmp_path / "model"
    query = "SELECT * FROM cohort WHERE age > 40"
    result = synthgen_cli(
        "train",
        sqlite_url,
        "--query",
        query,
        "--schema",
        sqlite_schema,
        "-p",
        "default_distribution=norm",
        "-o",
        out,
    )
    assert_ok(result)
    expected = int((cohort_frame["age"] > 40).sum())
    assert 0 < expected < len(cohort_frame)
    doc = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert doc["split"]["n_rows"] == expected
    assert doc["provenance"]["source"]["query"] == query


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--table", "nosuch"], ["nosuch", "cohort"]),
        ([], ["exactly one of table= or query="]),
        (["--table", "cohort", "--query", "SELECT 1"], ["exactly one of"]),
        (["--query", "SELECT * FROM cohort WHERE age > 500"], ["no rows"]),
        (["--query", "SELEC nonsense"], ["Could not read"]),
    ],
    ids=["unknown_table", "neither", "both", "empty_query", "bad_sql"],
)
def test_bad_sqlite_requests(sqlite_url, synthgen_cli, tmp_path, args, expected):
    result = synthgen_cli("inspect", sqlite_url, *args, "-o", tmp_path / "schema.yaml")
    line = assert_one_line_error(result)
    for word in expected:
        assert word in line
    assert list(tmp_path.iterdir()) == []


def test_table_option_on_a_file_is_refused(cli_data, synthgen_cli, tmp_path):
    result = synthgen_cli("inspect", cli_data, "--table", "cohort")
    assert "database" in assert_one_line_error(result)
