"""The schema: one reviewed record of every column's kind and role.

A schema is inferred from the data (:func:`synthgen.data.infer.infer_schema`), written as YAML
for the custodian to review and edit, and then passed to every later step, which checks it
against the data and coerces the data to it. Problems are collected and raised together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from synthgen.errors import SchemaError

FORMAT_VERSION = 1
SCHEMA_KIND = "synthgen.schema"

KINDS = ("numeric", "integer", "categorical", "boolean", "datetime", "text")
ROLES = (
    "direct_identifier",
    "quasi_identifier",
    "sensitive",
    "target",
    "time_to_event_time",
    "time_to_event_event",
    "subgroup",
    "plain",
)
HANDLINGS = ("fake", "drop")

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})


@dataclass(frozen=True)
class ColumnSpec:
    """What synthgen knows about one column.

    Attributes:
        name: the column's name in the data.
        kind: one of :data:`KINDS`.
        roles: one or more of :data:`ROLES`.
        reason: why the kind and role were guessed (plain words, never a cell value).
        pii: for a direct identifier, its type (see :data:`synthgen.data.pii.PII_TYPES`).
        handling: for a direct identifier, ``"fake"`` (re-created as format-valid fake values at
            sampling time) or ``"drop"`` (left out of the synthetic cohort).
        datetime_format: a ``strftime`` format for text dates; None lets pandas parse ISO dates.
        bounds: for a numeric, integer or datetime column, the range ``(lo, hi)`` its values
            are known to lie in, declared by the custodian (public knowledge, not read off the
            data; datetimes as ISO strings). Differentially private generators use it for
            free; without it they spend part of their budget estimating one.
        categories: for a categorical or boolean column, the declared set of its values
            (strings; for booleans, true/false words). Same use as ``bounds``.
    """

    name: str
    kind: str
    roles: tuple[str, ...] = ("plain",)
    reason: str = ""
    pii: str | None = None
    handling: str | None = None
    datetime_format: str | None = None
    bounds: tuple[float, float] | tuple[str, str] | None = None
    categories: tuple[str, ...] | None = None

    def has(self, role: str) -> bool:
        """Whether the column carries ``role``."""
        return role in self.roles

    @property
    def is_identifier(self) -> bool:
        """Whether the column is a direct identifier (never learned by a model)."""
        return "direct_identifier" in self.roles

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        out["role"] = self.roles[0] if len(self.roles) == 1 else list(self.roles)
        if self.pii:
            out["pii"] = self.pii
        if self.handling:
            out["handling"] = self.handling
        if self.datetime_format:
            out["datetime_format"] = self.datetime_format
        if self.bounds is not None:
            out["bounds"] = list(self.bounds)
        if self.categories is not None:
            out["categories"] = list(self.categories)
        if self.reason:
            out["reason"] = self.reason
        return out


def _problems_for_spec(name: str, raw: Any) -> tuple[ColumnSpec | None, list[str]]:
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        return None, [f"column '{name}' must be a mapping with 'kind' and 'role'"]
    unknown = set(raw) - {
        "kind",
        "role",
        "roles",
        "pii",
        "handling",
        "datetime_format",
        "reason",
        "bounds",
        "categories",
    }
    if unknown:
        problems.append(f"column '{name}' has unknown keys {sorted(unknown)}")
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.append(f"column '{name}' has kind {kind!r}; expected one of {', '.join(KINDS)}")
    role_raw = raw.get("role", raw.get("roles", "plain"))
    roles = (role_raw,) if isinstance(role_raw, str) else tuple(role_raw or ("plain",))
    bad_roles = [r for r in roles if r not in ROLES]
    if bad_roles:
        problems.append(
            f"column '{name}' has role {bad_roles[0]!r}; expected one of {', '.join(ROLES)}"
        )
    handling = raw.get("handling")
    pii = raw.get("pii")
    if "direct_identifier" in roles:
        handling = handling or "drop"
        if handling not in HANDLINGS:
            problems.append(f"column '{name}' has handling {handling!r}; expected fake or drop")
        if handling == "fake":
            from synthgen.data.pii import DEFAULT_HANDLING

            if pii not in DEFAULT_HANDLING:
                problems.append(
                    f"column '{name}' is faked but its pii type {pii!r} is not one of "
                    f"{', '.join(DEFAULT_HANDLING)}"
                )
            elif DEFAULT_HANDLING[pii] == "drop":
                problems.append(f"column '{name}': {pii} values can only be dropped, not faked")
    elif handling is not None:
        problems.append(f"column '{name}' has a handling but is not a direct identifier")
    bounds, bound_problems = _parse_bounds(name, kind, raw.get("bounds"))
    categories, category_problems = _parse_categories(name, kind, raw.get("categories"))
    problems += bound_problems + category_problems
    if problems:
        return None, problems
    spec = ColumnSpec(
        name=name,
        kind=kind,
        roles=roles,
        reason=str(raw.get("reason", "")),
        pii=pii,
        handling=handling,
        datetime_format=raw.get("datetime_format"),
        bounds=bounds,
        categories=categories,
    )
    return spec, []


def _parse_bounds(name: str, kind: Any, raw: Any) -> tuple[tuple | None, list[str]]:
    """Validate declared ``bounds: [lo, hi]``: numbers (ISO dates for datetimes), lo < hi."""
    if raw is None:
        return None, []
    if kind not in ("numeric", "integer", "datetime"):
        return None, [
            f"column '{name}' has bounds but is {kind}; bounds apply to numeric, integer and "
            "datetime columns"
        ]
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)) or len(raw) != 2:
        return None, [f"column '{name}' has bounds {raw!r}; expected a list [lo, hi]"]
    if kind == "datetime":
        try:
            stamps = [pd.Timestamp(str(v)) for v in raw]
        except (ValueError, TypeError):
            return None, [f"column '{name}' has bounds {list(raw)!r}; expected two ISO dates"]
        if any(pd.isna(t) for t in stamps):
            return None, [f"column '{name}' has bounds {list(raw)!r}; expected two ISO dates"]
        if stamps[0].tzinfo is not None or stamps[1].tzinfo is not None:
            stamps = [
                t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t for t in stamps
            ]
        if not stamps[0] < stamps[1]:
            return None, [f"column '{name}' has bounds {list(raw)!r}; lo must be before hi"]
        return tuple(t.isoformat() for t in stamps), []
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        return None, [f"column '{name}' has bounds {list(raw)!r}; expected two numbers"]
    lo, hi = float(raw[0]), float(raw[1])
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None, [f"column '{name}' has bounds {list(raw)!r}; they must be finite"]
    if not lo < hi:
        return None, [f"column '{name}' has bounds {list(raw)!r}; lo must be less than hi"]
    return (lo, hi), []


def _parse_categories(name: str, kind: Any, raw: Any) -> tuple[tuple[str, ...] | None, list[str]]:
    """Validate declared ``categories: [...]``: a non-empty list of distinct strings."""
    if raw is None:
        return None, []
    if kind not in ("categorical", "boolean"):
        return None, [
            f"column '{name}' has categories but is {kind}; categories apply to categorical "
            "and boolean columns"
        ]
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)) or not raw:
        return None, [f"column '{name}' has categories {raw!r}; expected a non-empty list"]
    if any(v is None or isinstance(v, (list, tuple, dict)) for v in raw):
        return None, [f"column '{name}' has categories with empty or nested entries"]
    # YAML reads `yes`, `1` or `3.5` as bools and numbers: keep each as the text it was
    values = tuple(category_text(v) for v in raw)
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        return None, [f"column '{name}' lists categories more than once: {', '.join(dupes)}"]
    if kind == "boolean":
        words = TRUE_WORDS | FALSE_WORDS
        bad = [v for v in values if v.lower() not in words]
        if bad:
            return None, [
                f"column '{name}' is boolean but its categories {bad} are not true/false words"
            ]
        if len({v.lower() in TRUE_WORDS for v in values}) < len(values):
            return None, [f"column '{name}' lists the same boolean value more than once"]
    return values, []


def category_text(value: Any) -> str:
    """The text form of a category value, as declared categories are compared to data values.

    Booleans become ``true``/``false`` and whole floats lose their ``.0`` (``2.0`` -> ``2``).
    """
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Schema:
    """An ordered set of :class:`ColumnSpec`, one per column of the data.

    Attributes:
        columns: the column specs, in data order.
        rules: declared logical rules the data obeys, each ``<column> <op>
            <column-or-literal>`` (see :mod:`synthgen.data.rules`), e.g.
            ``"diastolic_bp < systolic_bp"``; checked in synthetic cohorts. Validated when a
            schema is loaded or built with :meth:`from_dict` or :meth:`with_rules`.
    """

    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)
    rules: tuple[str, ...] = field(default_factory=tuple)

    # ----------------------------------------------------------------- access
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def with_role(self, role: str) -> list[str]:
        """Names of the columns that carry ``role``."""
        return [c.name for c in self.columns if c.has(role)]

    @property
    def identifiers(self) -> list[ColumnSpec]:
        """Direct identifiers: never learned by a model."""
        return [c for c in self.columns if c.is_identifier]

    @property
    def model_columns(self) -> list[str]:
        """Columns a generator learns: every column but the direct identifiers."""
        return [c.name for c in self.columns if not c.is_identifier]

    def replace_column(self, spec: ColumnSpec) -> Schema:
        """A copy with the column of the same name replaced by ``spec`` (rules kept)."""
        return replace(
            self, columns=tuple(spec if c.name == spec.name else c for c in self.columns)
        )

    def update(self, name: str, **changes: Any) -> Schema:
        """A copy with some attributes of one column changed (e.g. ``roles=("target",)``)."""
        return self.replace_column(replace(self[name], **changes))

    @property
    def kinds(self) -> dict[str, str]:
        """Column name -> kind."""
        return {c.name: c.kind for c in self.columns}

    def with_rules(self, *rules: str) -> Schema:
        """A copy whose declared rules are ``rules`` (replacing any), each one validated.

        Raises:
            SchemaError: naming every rule that does not parse or names an unknown column.
        """
        from synthgen.data.rules import parse_rules

        _, problems = parse_rules(rules, self.kinds)
        if problems:
            raise SchemaError(problems)
        return replace(self, rules=tuple(rules))

    # ------------------------------------------------------------ plain data
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": SCHEMA_KIND,
            "format_version": FORMAT_VERSION,
            "columns": {c.name: c.to_dict() for c in self.columns},
        }
        if self.rules:  # left out when empty: files without rules keep their old layout
            out["rules"] = list(self.rules)
        return out

    @classmethod
    def from_dict(cls, raw: Any, *, source: str | None = None) -> Schema:
        """Build and validate a schema from plain data; every problem is reported at once."""
        if not isinstance(raw, Mapping):
            raise SchemaError("a schema must be a mapping with a 'columns' section", source=source)
        problems: list[str] = []
        if raw.get("kind", SCHEMA_KIND) != SCHEMA_KIND:
            problems.append(f"kind is {raw.get('kind')!r}, not {SCHEMA_KIND!r}")
        version = raw.get("format_version", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            problems.append(f"format_version {version!r} is not supported (expected 1)")
        cols = raw.get("columns")
        if not isinstance(cols, Mapping) or not cols:
            problems.append("the 'columns' section is missing or empty")
            cols = {}
        specs = []
        for name, spec_raw in cols.items():
            spec, col_problems = _problems_for_spec(str(name), spec_raw)
            problems.extend(col_problems)
            if spec is not None:
                specs.append(spec)
        rules_raw = raw.get("rules")
        rules: tuple[str, ...] = ()
        if rules_raw is not None:
            if isinstance(rules_raw, str) or not isinstance(rules_raw, (list, tuple)):
                problems.append(
                    "the 'rules' section must be a list of rules like 'diastolic_bp < systolic_bp'"
                )
            else:
                from synthgen.data.rules import parse_rules

                # a column whose own spec is invalid still exists: only its kind is unknown
                kinds: dict[str, str | None] = {str(n): None for n in cols}
                kinds.update({s.name: s.kind for s in specs})
                _, rule_problems = parse_rules(rules_raw, kinds)
                problems.extend(rule_problems)
                rules = tuple(str(r) for r in rules_raw)
        if problems:
            raise SchemaError(problems, source=source)
        return cls(tuple(specs), rules)

    def save(self, path: str | Path) -> Path:
        """Write the schema as YAML, atomically."""
        from synthgen.data.atomic import write_text_atomic

        header = (
            "# synthgen schema: review every column's kind and role before training.\n"
            f"# kinds: {', '.join(KINDS)}\n"
            f"# roles: {', '.join(ROLES)} (a list gives several)\n"
            "# direct identifiers are never learned: handling 'drop' leaves them out,\n"
            "# 'fake' re-creates format-valid fake values at sampling time.\n"
            "# rules (optional): '<column> <op> <column or literal>', op one of\n"
            "# < <= > >= == !=, e.g. 'diastolic_bp < systolic_bp'; checked in synthetic data.\n"
        )
        text = header + yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)
        write_text_atomic(Path(path), text)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read and validate a YAML schema file."""
        path = Path(path)
        if not path.is_file():
            raise SchemaError(f"schema file '{path}' does not exist")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", None)
            where = f" (line {line + 1})" if line is not None else ""
            raise SchemaError(f"not valid YAML{where}", source=str(path)) from None
        return cls.from_dict(raw, source=str(path))

    # ------------------------------------------------------ checking the data
    def coerce(self, df: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
        """Check ``df`` against the schema and return it with every column typed by its kind.

        Every mismatch is collected (missing or extra columns, text in numeric columns,
        unparseable dates, unknown boolean words) and raised at once as a
        :class:`~synthgen.errors.SchemaError`. Messages give counts, never cell values.
        """
        problems: list[str] = []
        dupes = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
        for name in dupes:
            problems.append(f"column name '{name}' appears more than once in the data")
        missing = [c for c in self.names if c not in df.columns]
        extra = [c for c in df.columns if c not in self]
        if missing:
            problems.append(f"columns in the schema but not in the data: {', '.join(missing)}")
        if extra:
            problems.append(
                f"columns in the data but not in the schema: {', '.join(map(str, extra))}"
            )
        out = {}
        if not dupes:
            for spec in self.columns:
                if spec.name not in df.columns:
                    continue
                values, problem = coerce_column(df[spec.name], spec)
                if problem:
                    problems.append(problem)
                out[spec.name] = values
        if problems:
            raise SchemaError(problems, source=source)
        return pd.DataFrame(out, index=df.index)


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def coerce_column(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, str | None]:
    """Type one column by its spec; return the values and a problem message or None."""
    name, kind = spec.name, spec.kind
    present = series.notna()
    if kind in ("numeric", "integer"):
        if pd.api.types.is_bool_dtype(series):
            values = series.astype("float64")
        elif pd.api.types.is_numeric_dtype(series):
            values = series.astype("float64")
        else:
            values = pd.to_numeric(_as_text(series), errors="coerce").astype("float64")
        bad = int((present & values.isna()).sum())
        if bad:
            return series, (
                f"column '{name}' is {kind} in the schema but {bad} of {len(series)} values "
                "are not numbers"
            )
        finite = values.dropna()
        infinite = int((~np.isfinite(finite.to_numpy())).sum())
        if infinite:
            return series, (
                f"column '{name}' is {kind} in the schema but {infinite} values are infinite"
            )
        if kind == "integer":
            frac = int((finite != np.round(finite)).sum())
            if frac:
                return series, (
                    f"column '{name}' is integer in the schema but {frac} values have decimals"
                )
            if values.isna().any():
                return values.round().astype("Int64"), None
            return values.round().astype("int64"), None
        return values, None
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(series) and not series.isna().any():
            return series.astype(bool), None
        text = _as_text(series).str.lower()
        mapped = pd.Series(pd.NA, index=series.index, dtype="boolean")
        mapped[text.isin(TRUE_WORDS).fillna(False).astype(bool)] = True
        mapped[text.isin(FALSE_WORDS).fillna(False).astype(bool)] = False
        bad = int((present & mapped.isna()).sum())
        if bad:
            return series, (
                f"column '{name}' is boolean in the schema but {bad} values are not "
                "true/false, yes/no or 1/0"
            )
        if mapped.isna().any():
            return mapped, None
        return mapped.astype(bool), None
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            return values.astype("datetime64[ns]"), None
        values = parse_dates(series, spec.datetime_format)
        bad = int((present & values.isna()).sum())
        if bad:
            fmt = f" with format '{spec.datetime_format}'" if spec.datetime_format else ""
            return series, (
                f"column '{name}' is datetime in the schema but {bad} of {len(series)} values "
                f"are unparseable dates{fmt}"
            )
        return values, None
    # categorical and text keep their values; text-like objects become plain str objects
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series, None
    values = series.astype(object).where(present, None)
    values = values.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return values.astype(object), None


def parse_dates(series: pd.Series, fmt: str | None) -> pd.Series:
    """Parse text dates with ``fmt`` (or ISO 8601 / pandas' inference); failures become NaT."""
    text = _as_text(series)
    if fmt:
        values = pd.to_datetime(text, format=fmt, errors="coerce")
    else:
        values = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if values.isna().sum() > text.isna().sum():
            values = pd.to_datetime(text, format="mixed", errors="coerce")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def specs_from(columns: Iterable[ColumnSpec]) -> Schema:
    """A schema from an iterable of specs (convenience for tests and code)."""
    return Schema(tuple(columns))
