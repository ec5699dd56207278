"""Inferring a schema from data: a kind and a role for every column, each with its reason.

The guesses are a starting point for a person to review; every reason is written in plain
words and never quotes a cell value.
"""

from __future__ import annotations

import re
import unicodedata
import warnings

import numpy as np
import pandas as pd

from synthgen.data.pii import DEFAULT_HANDLING, detect_pii
from synthgen.data.schema import FALSE_WORDS, TRUE_WORDS, ColumnSpec, Schema
from synthgen.errors import InputError, SchemaError

MIN_ROWS = 2
MIXED_SHARE = 0.9  # a column this numeric (or date-like) but not wholly so is a data error
SAMPLE_ROWS = 20_000

QI_HINTS = {
    "age",
    "sex",
    "gender",
    "ethnicity",
    "ethnic",
    "race",
    "region",
    "district",
    "deprivation",
    "imd",
    "practice",
    "marital",
    "occupation",
    "religion",
    "language",
    "country",
    "yob",
    "birthyear",
    "ageband",
    "agegroup",
    "county",
    "lsoa",
    "msoa",
    "zip3",
}
SUBGROUP_HINTS = {
    "sex",
    "gender",
    "ethnicity",
    "ethnic",
    "race",
    "region",
    "ageband",
    "agegroup",
    "country",
}
EVENT_HINTS = {"died", "death", "dead", "deceased", "event", "mortality", "relapse", "status"}
TIME_HINTS = {
    "followup",
    "survival",
    "duration",
    "futime",
    "tte",
    "timeto",
    "daysto",
    "time",
}
TARGET_HINTS = {"outcome", "target", "label", "readmission", "readmitted", "response", "class"}
SENSITIVE_HINTS = {
    "diagnosis",
    "diabetes",
    "hypertension",
    "ckd",
    "copd",
    "depression",
    "hiv",
    "cancer",
    "asthma",
    "fibrosis",
    "sickle",
    "huntingtons",
    "huntington",
    "pregnancy",
    "pregnant",
    "mental",
    "psych",
    "psychiatric",
    "substance",
    "alcohol",
    "smoking",
    "drug",
    "hba1c",
    "cholesterol",
    "ldl",
    "hdl",
    "egfr",
    "creatinine",
    "bp",
    "systolic",
    "diastolic",
    "bmi",
    "glucose",
    "statin",
    "medication",
    "treatment",
    "therapy",
    "disease",
    "condition",
    "disorder",
    "comorbidity",
    "lab",
    "result",
    "stroke",
    "dementia",
    "transplant",
}

_DATE_LIKE = re.compile(
    r"^\s*(\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\s+\d{4}|[A-Za-z]{3,9}\s+\d{1,2},?\s+\d{4})\s*$"
)


def name_tokens(name: str) -> set[str]:
    """Lower-case word tokens of a column name, plus joined neighbours ("age_band" -> ageband)."""
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", ascii_name)
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if p]
    tokens = set(parts)
    tokens.update(a + b for a, b in zip(parts, parts[1:], strict=False))
    return tokens


def check_rows(df: pd.DataFrame, *, source: str | None = None, min_rows: int = MIN_ROWS) -> None:
    """Refuse a table without columns, without rows, or with fewer than ``min_rows`` rows."""
    where = f"'{source}'" if source else "The table"
    if df.shape[1] == 0:
        raise InputError(f"{where} has no columns.")
    if len(df) == 0:
        raise InputError(f"{where} holds no rows.")
    if len(df) < min_rows:
        raise InputError(f"{where} has only {len(df)} row(s); at least {min_rows} are needed.")


def column_problems(df: pd.DataFrame) -> dict[str, str]:
    """Columns that cannot be learned (duplicated name, all missing, one value), with why."""
    problems: dict[str, str] = {}
    names = list(df.columns)
    for name in sorted({str(c) for c in names if names.count(c) > 1}):
        problems[name] = f"column name '{name}' appears more than once"
    if problems:
        return problems
    for name in names:
        col = df[name]
        n_present = int(col.notna().sum())
        if n_present == 0:
            problems[str(name)] = f"column '{name}' is empty (all {len(df)} values are missing)"
        elif n_present == len(df) and col.nunique(dropna=True) == 1:
            problems[str(name)] = (
                f"column '{name}' holds the same value in every row and carries no "
                "information; remove it"
            )
    return problems


def check_table(df: pd.DataFrame, *, source: str | None = None, min_rows: int = MIN_ROWS) -> None:
    """Refuse tables that cannot be profiled or learned, naming every problem at once."""
    check_rows(df, source=source, min_rows=min_rows)
    problems = column_problems(df)
    if problems:
        raise SchemaError(list(problems.values()), source=source)


def _date_share(text: pd.Series, fmt: str | None) -> float:
    """Share of ``text`` parsed strictly by ``fmt`` (None: ISO 8601 only)."""
    parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
    return float(parsed.notna().sum()) / max(len(text), 1)


def _guess_date_format(text: pd.Series) -> tuple[str | None, float]:
    """The format (None = ISO) that parses the largest share of ``text``, and that share."""
    from pandas.tseries.api import guess_datetime_format

    best: tuple[str | None, float] = (None, _date_share(text, None))
    first = text.iloc[0]
    for dayfirst in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fmt = guess_datetime_format(first, dayfirst=dayfirst)
        if fmt:
            share = _date_share(text, fmt)
            if share > best[1] + 1e-12:
                best = (fmt, share)
    return best


def infer_column(series: pd.Series, name: str) -> tuple[ColumnSpec, str | None]:
    """Guess one column's kind and role; also return a data problem (mixed types), if any."""
    present = series.dropna()
    if len(present) > SAMPLE_ROWS:
        present = present.sample(SAMPLE_ROWS, random_state=0)
    tokens = name_tokens(name)

    guess = detect_pii(series, name=name)
    if guess is not None:
        if guess.pii_type == "date_of_birth":
            kind = "datetime"
        elif guess.pii_type == "row_id" and pd.api.types.is_integer_dtype(series):
            kind = "integer"
        else:
            kind = "text"
        return (
            ColumnSpec(
                name=name,
                kind=kind,
                roles=("direct_identifier",),
                reason=f"direct identifier: {guess.reason}",
                pii=guess.pii_type,
                handling=DEFAULT_HANDLING[guess.pii_type],
            ),
            None,
        )

    kind, reason, problem, fmt = _infer_kind(series, present)
    roles, role_reason = _infer_roles(kind, tokens, series)
    spec = ColumnSpec(
        name=name,
        kind=kind,
        roles=roles,
        reason=f"{reason}; {role_reason}",
        datetime_format=fmt,
    )
    return spec, problem


def _infer_kind(series: pd.Series, present: pd.Series) -> tuple[str, str, str | None, str | None]:
    name = series.name
    n = max(len(present), 1)
    if pd.api.types.is_bool_dtype(series):
        return "boolean", "values are true/false", None, None
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime", "values are dates", None, None
    if pd.api.types.is_numeric_dtype(series):
        uniques = pd.unique(present)
        if len(uniques) <= 2 and set(np.asarray(uniques, dtype=float)) <= {0.0, 1.0}:
            return "boolean", "values are only 0 and 1", None, None
        if np.all(np.mod(present.to_numpy(dtype=float), 1) == 0):
            return "integer", "values are whole numbers", None, None
        return "numeric", "values are numbers with decimals", None, None

    text = present.astype(str).str.strip()
    lowered = set(text.str.lower().unique()[:10])
    if lowered and lowered <= (TRUE_WORDS | FALSE_WORDS) and len(lowered) <= 2:
        return "boolean", "values are yes/no or true/false words", None, None

    numbers = pd.to_numeric(text, errors="coerce")
    share_num = float(numbers.notna().sum()) / n
    if share_num == 1.0:
        whole = bool(np.all(np.mod(numbers.to_numpy(dtype=float), 1) == 0))
        kind = "integer" if whole else "numeric"
        return kind, "values are numbers written as text", None, None
    if share_num >= MIXED_SHARE:
        bad = int(
            pd.to_numeric(series.dropna().astype(str).str.strip(), errors="coerce").isna().sum()
        )
        problem = (
            f"column '{name}' mixes types: {bad} of {int(series.notna().sum())} values are "
            "text in an otherwise numeric column; clean them or mark them missing"
        )
        return "numeric", "values are mostly numbers", problem, None

    date_like = float(text.str.match(_DATE_LIKE).sum()) / n
    if date_like >= MIXED_SHARE:
        fmt, share = _guess_date_format(text)
        if share == 1.0:
            reason = "values are dates" + (f" in format '{fmt}'" if fmt else " (ISO 8601)")
            return "datetime", reason, None, fmt
        full = series.dropna().astype(str).str.strip()
        bad = int(pd.to_datetime(full, format=fmt or "ISO8601", errors="coerce").isna().sum())
        problem = (
            f"column '{name}' looks like dates but {bad} of {len(full)} values are "
            "unparseable dates"
        )
        return "datetime", "values are mostly dates", problem, fmt

    lengths = text.str.len()
    n_unique = text.nunique()
    if lengths.mean() > 40 and n_unique > 0.5 * n:
        return "text", "values are long, mostly distinct text", None, None
    return "categorical", f"values are labels ({n_unique} distinct)", None, None


def _infer_roles(kind: str, tokens: set[str], series: pd.Series) -> tuple[tuple[str, ...], str]:
    roles: list[str] = []
    reasons: list[str] = []
    qi = tokens & QI_HINTS
    if qi:
        roles.append("quasi_identifier")
        reasons.append(f"name suggests a quasi-identifier ({sorted(qi)[0]})")
    sub = tokens & SUBGROUP_HINTS
    if sub and kind in ("categorical", "boolean", "integer") and series.nunique() <= 20:
        roles.append("subgroup")
        reasons.append("a small set of groups to report results by")
    if kind == "boolean" and tokens & EVENT_HINTS:
        roles.append("time_to_event_event")
        reasons.append("name suggests an event indicator")
    elif kind in ("integer", "numeric") and tokens & TIME_HINTS and not qi:
        roles.append("time_to_event_time")
        reasons.append("name suggests a follow-up time")
    if tokens & TARGET_HINTS:
        roles.append("target")
        reasons.append("name suggests an outcome to predict")
    if not roles and tokens & SENSITIVE_HINTS:
        roles.append("sensitive")
        reasons.append(
            f"name suggests clinical information ({sorted(tokens & SENSITIVE_HINTS)[0]})"
        )
    if not roles:
        return ("plain",), "no special role recognised"
    return tuple(roles), "; ".join(reasons)


def infer_schema(df: pd.DataFrame, *, source: str | None = None) -> Schema:
    """Infer a :class:`Schema` for ``df``: a kind and role for each column, with reasons.

    Args:
        df: the cohort as read by :func:`synthgen.read_table`.
        source: a name for the data in error messages (e.g. its file name).

    Returns:
        The inferred schema, ready to be reviewed and saved as YAML.

    Raises:
        InputError: the table is empty or has a single row.
        SchemaError: some columns are unusable (all missing, constant, mixed types,
            unparseable dates); every such column is named.
    """
    check_rows(df, source=source)
    unusable = column_problems(df)
    if any("appears more than once" in p for p in unusable.values()):
        raise SchemaError(list(unusable.values()), source=source)
    specs, problems = [], list(unusable.values())
    for name in df.columns:
        if str(name) in unusable:
            continue
        spec, problem = infer_column(df[name], str(name))
        specs.append(spec)
        if problem:
            problems.append(problem)
    if problems:
        raise SchemaError(problems, source=source)
    return Schema(tuple(specs))
