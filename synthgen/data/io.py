"""Reading and writing tables: CSV, Parquet and SQL sources in, CSV and Parquet out.

Reading detects a CSV's encoding and delimiter, refuses duplicate column names (which pandas
would silently rename to ``a.1``), empty tables and ragged rows. Writing is atomic: nothing
appears at the output path unless the whole table was written. Error messages name files,
columns and line numbers, never cell values.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pandas as pd

from synthgen.data.atomic import AtomicFile, atomic_path
from synthgen.errors import DataFormatError, InputError

__all__ = [
    "TABLE_SUFFIXES",
    "TableWriter",
    "read_table",
    "table_format",
    "write_table",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".parquet", ".pq")
"""File suffixes :func:`read_table` and :func:`write_table` accept (case-insensitive)."""

_FORMATS = {
    ".csv.gz": "csv",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DELIMITERS = (",", ";", "\t", "|")
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes any byte: the last resort
_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 200


# --------------------------------------------------------------------------- formats


def _suffix(path: str | Path) -> str | None:
    name = Path(path).name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return None


def table_format(path: str | Path) -> str:
    """Return ``"csv"`` or ``"parquet"`` for a table path, judged by its suffix.

    Used to check an output path before doing heavy work.

    Args:
        path: a file path ending in one of :data:`TABLE_SUFFIXES`.

    Returns:
        ``"csv"`` or ``"parquet"``.

    Raises:
        DataFormatError: the suffix is not supported.
    """
    suffix = _suffix(path)
    if suffix is None:
        raise DataFormatError(
            f"'{path}' has an unsupported file type; supported: {', '.join(TABLE_SUFFIXES)}."
        )
    return _FORMATS[suffix]


def _csv_sep(path: str | Path) -> str:
    return "\t" if _suffix(path) == ".tsv" else ","


def _is_gzip(path: str | Path) -> bool:
    return _suffix(path) == ".csv.gz"


def _check_unique(names: Iterable[Any], where: str) -> None:
    counts = Counter(str(name) for name in names)
    dupes = [
        f"Column name '{name}' appears {n} times in {where}" for name, n in counts.items() if n > 1
    ]
    if dupes:
        raise DataFormatError("; ".join(dupes) + ".")


def _finish(df: pd.DataFrame, message: str) -> pd.DataFrame:
    if len(df) == 0:
        raise InputError(message)
    return df


# --------------------------------------------------------------------------- reading


def read_table(
    source: str | Path, *, table: str | None = None, query: str | None = None
) -> pd.DataFrame:
    """Read a table from a CSV or Parquet file, or from a database.

    Args:
        source: a file path (``.csv``, ``.tsv``, ``.txt``, ``.csv.gz``, ``.parquet``,
            ``.pq``) or a SQLAlchemy URL such as ``"sqlite:///cohort.db"`` or
            ``"postgresql://user:pw@host/db"`` (anything containing ``"://"``).
        table: for a URL, the table (or view) to read; ``"schema.table"`` is accepted.
        query: for a URL, a SQL query to run instead of ``table``.

    Returns:
        The table, with a fresh ``RangeIndex`` and pandas' default type inference. Empty
        CSV cells and the usual missing-value markers (``NA``, ``null``...) are missing.

    Raises:
        InputError: the file is missing, a directory, empty or holds no rows; or the
            ``table``/``query`` arguments do not fit the source.
        DataFormatError: the format is unsupported or the content is malformed (duplicate
            column names, ragged rows, not Parquet), or the database cannot be read.
    """
    if isinstance(source, str) and "://" in source:
        from synthgen.data.sql import read_sql

        return read_sql(source, table=table, query=query)
    if table is not None or query is not None:
        raise InputError(
            f"table= and query= apply to database URLs only; '{source}' is a file path."
        )
    path = Path(source)
    if not path.exists():
        raise InputError(f"File '{source}' does not exist.")
    if path.is_dir():
        raise InputError(f"'{source}' is a directory; expected a table file.")
    fmt = table_format(path)
    if path.stat().st_size == 0:
        raise InputError(f"'{source}' is empty.")
    if fmt == "parquet":
        df = _read_parquet(path, str(source))
    else:
        df = _read_csv(path, str(source))
    return _finish(df, f"'{source}' holds no rows.")


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError):
        raise DataFormatError(f"'{label}' is not a valid Parquet file.") from None
    index_cols = {n for n in schema.names if n.startswith("__index_level_")}
    _check_unique([n for n in schema.names if n not in index_cols], f"'{label}'")
    try:
        df = pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(
            f"'{label}' could not be read as Parquet ({type(exc).__name__})."
        ) from None
    # A frame saved with its index: named levels are data (e.g. a patient id), unnamed are not.
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        named = any(name is not None for name in df.index.names)
        df = df.reset_index(drop=not named)
    return df


def _open_text(path: Path, encoding: str) -> IO[str]:
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")  # noqa: SIM115 - caller closes


def _read_csv(path: Path, label: str) -> pd.DataFrame:
    last_error: UnicodeDecodeError | None = None
    for encoding in _ENCODINGS:
        try:
            with _open_text(path, encoding) as fh:
                sample = fh.read(_SNIFF_CHARS)
                truncated = bool(fh.read(1))
            if not sample.strip():
                raise InputError(f"'{label}' is empty.")
            sep = _detect_delimiter(sample, truncated=truncated, default=_csv_sep(path))
            with _open_text(path, encoding) as fh:
                header = next(csv.reader(fh, delimiter=sep), [])
            _check_unique(header, f"'{label}'")
            df = _parse_csv(path, label, sep=sep, encoding=encoding)
        except UnicodeDecodeError as exc:
            last_error = exc
            continue
        except (gzip.BadGzipFile, EOFError, zlib.error):
            raise DataFormatError(f"'{label}' is not a valid gzip file.") from None
        return df
    # Unreachable in practice (latin-1 decodes any byte), kept for clarity.
    raise DataFormatError(f"'{label}' is not valid text in any of {_ENCODINGS}.") from last_error


def _parse_csv(path: Path, label: str, *, sep: str, encoding: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(
            path,
            sep=sep,
            encoding=encoding,
            keep_default_na=True,
            low_memory=False,
            compression="gzip" if _is_gzip(path) else None,
        )
    except pd.errors.EmptyDataError:
        raise InputError(f"'{label}' is empty.") from None
    except pd.errors.ParserError as exc:
        raise DataFormatError(_parser_message(str(exc), label, sep)) from None
    if not isinstance(df.index, pd.RangeIndex):
        # pandas silently turns the first column into an index when data rows hold one
        # field more than the header.
        raise DataFormatError(
            f"'{label}' is malformed: data rows hold more fields than the header "
            f"(delimiter {sep!r})."
        )
    return df


def _parser_message(text: str, label: str, sep: str) -> str:
    # pandas: "Error tokenizing data. C error: Expected 3 fields in line 5, saw 4". Only the
    # numbers are kept; nothing from the cells.
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, line, saw = match.groups()
        return (
            f"'{label}' is malformed at line {line}: expected {expected} fields, "
            f"found {saw} (delimiter {sep!r})."
        )
    match = re.search(r"line (\d+)", text)
    where = f" at line {match.group(1)}" if match else ""
    return f"'{label}' could not be parsed as CSV{where} (delimiter {sep!r})."


def _detect_delimiter(sample: str, *, truncated: bool, default: str = ",") -> str:
    """Pick the delimiter among ``, ; \\t |`` that splits the sample's rows consistently.

    :class:`csv.Sniffer` breaks ties; when no candidate splits every row into the same number
    of fields (>1), the header line's delimiter counts decide.
    """
    if truncated:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        if cut > 0:
            sample = sample[:cut]
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None

    consistent: dict[str, int] = {}
    for sep in _DELIMITERS:
        try:
            rows = _sample_rows(sample, sep, drop_last=truncated)
        except csv.Error:
            continue
        widths = {len(row) for row in rows}
        if rows and len(rows[0]) > 1 and len(widths) == 1:
            consistent[sep] = len(rows[0])
    if sniffed in consistent:
        return sniffed  # type: ignore[return-value]
    if consistent:
        return max(consistent, key=lambda s: (consistent[s], s == default))
    # No delimiter splits every row alike (ragged or single-column file): trust the header,
    # so that a ragged file fails with a line number rather than being read as one column.
    header = sample.splitlines()[0] if sample else ""
    counts = {sep: header.count(sep) for sep in _DELIMITERS}
    best = max(counts, key=lambda s: (counts[s], s == default))
    return best if counts[best] > 0 else default


def _sample_rows(sample: str, sep: str, *, drop_last: bool) -> list[list[str]]:
    rows = []
    for row in csv.reader(io.StringIO(sample, newline=""), delimiter=sep):
        if row:  # pandas skips blank lines too
            rows.append(row)
        if len(rows) > _SNIFF_ROWS:
            drop_last = False
            rows.pop()
            break
    if drop_last and len(rows) > 1:
        rows.pop()
    return rows


# --------------------------------------------------------------------------- writing


def _csv_options(path: str | Path) -> dict[str, Any]:
    return {
        "index": False,
        "sep": _csv_sep(path),
        "encoding": "utf-8",
        "lineterminator": "\n",
        "date_format": None,  # pandas' ISO 8601 (YYYY-MM-DD[ HH:MM:SS[.ffffff]])
    }


def _check_frame(df: Any, label: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"Writing '{label}' needs a pandas DataFrame, got {type(df).__name__}.")
    _check_unique(df.columns, "the table to write")


def _arrow_message(exc: BaseException, label: str) -> str:
    match = re.search(r"column (\S+)", str(exc))
    col = f" (column '{match.group(1)}')" if match else ""
    return (
        f"Could not write '{label}' as Parquet{col}: a column holds values of mixed or "
        f"unsupported types ({type(exc).__name__})."
    )


def write_table(df: pd.DataFrame, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write a table as CSV or Parquet, chosen by the path's suffix, atomically.

    CSV is UTF-8 without the index, dates in ISO 8601; ``.tsv`` is tab-separated and
    ``.csv.gz`` gzip-compressed. Parquet is written by pyarrow without the index.

    Args:
        df: the table.
        path: destination; its suffix must be one of :data:`TABLE_SUFFIXES`.
        overwrite: replace an existing file; when false, refuse it.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DataFormatError: the suffix is unsupported (checked before anything is written), the
            frame has duplicate column names, or a column cannot be stored as Parquet.
        InputError: the directory is missing, or the file exists and ``overwrite`` is false.
    """
    fmt = table_format(path)
    _check_frame(df, str(path))
    import pyarrow as pa

    with atomic_path(path, overwrite=overwrite) as tmp:
        if fmt == "csv":
            df.to_csv(tmp, compression="gzip" if _is_gzip(path) else None, **_csv_options(path))
        else:
            try:
                df.to_parquet(tmp, engine="pyarrow", index=False)
            except (pa.ArrowException, TypeError, ValueError) as exc:
                raise DataFormatError(_arrow_message(exc, str(path))) from None
    return Path(path)


class TableWriter:
    """Write a large table chunk by chunk, atomically.

    The first chunk fixes the columns (and, for Parquet, the Arrow schema); later chunks
    must have the same columns (any order) and are cast to that schema. Nothing appears at
    ``path`` until :meth:`close`; :meth:`abort` (or an exception inside a ``with`` block)
    removes everything written. Memory stays bounded by the chunk size: CSV chunks are
    appended to the file, Parquet chunks become row groups.

    Args:
        path: destination; its suffix must be one of :data:`TABLE_SUFFIXES`.
        overwrite: replace an existing file on close; when false, refuse it up front.

    Attributes:
        rows_written: rows written so far.
        columns: the columns fixed by the first chunk (``None`` before it).

    Raises:
        DataFormatError: the suffix is unsupported.
        InputError: the directory is missing, or the file exists and ``overwrite`` is false.
    """

    def __init__(self, path: str | Path, *, overwrite: bool = True):
        self.path = Path(path)
        self.format = table_format(self.path)
        self.rows_written = 0
        self.columns: list[Any] | None = None
        self._file = AtomicFile(self.path, overwrite=overwrite)
        self._handle: IO[str] | None = None
        self._parquet: Any = None
        self._schema: Any = None
        self._state = "open"  # then "closed" or "aborted"

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    def write(self, chunk: pd.DataFrame) -> None:
        """Append ``chunk`` to the table.

        Raises:
            DataFormatError: the chunk's columns differ from the first chunk's, or a column
                cannot be cast to the first chunk's Parquet schema.
            InputError: the writer was closed or aborted.
        """
        if self._state != "open":
            raise InputError(f"The writer for '{self.path}' is already {self._state}.")
        _check_frame(chunk, str(self.path))
        first = self.columns is None
        if first:
            self.columns = list(chunk.columns)
        else:
            chunk = self._align(chunk)
        if self.format == "csv":
            self._write_csv(chunk, header=first)
        else:
            self._write_parquet(chunk, first=first)
        self.rows_written += len(chunk)

    def _align(self, chunk: pd.DataFrame) -> pd.DataFrame:
        assert self.columns is not None
        if list(chunk.columns) == self.columns:
            return chunk
        missing = [str(c) for c in self.columns if c not in chunk.columns]
        extra = [str(c) for c in chunk.columns if c not in self.columns]
        if missing or extra:
            raise DataFormatError(
                f"A chunk written to '{self.path}' has different columns from the first "
                f"chunk: missing {missing}, extra {extra}."
            )
        return chunk[self.columns]

    def _write_csv(self, chunk: pd.DataFrame, *, header: bool) -> None:
        if self._handle is None:
            if _is_gzip(self.path):
                self._handle = gzip.open(self._file.path, "wt", encoding="utf-8", newline="")
            else:
                self._handle = open(self._file.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        options = _csv_options(self.path)
        options.pop("encoding")
        chunk.to_csv(self._handle, header=header, **options)

    def _write_parquet(self, chunk: pd.DataFrame, *, first: bool) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            if first:
                self._schema = pa.Schema.from_pandas(chunk, preserve_index=False)
                self._parquet = pq.ParquetWriter(self._file.path, self._schema)
            table = pa.Table.from_pandas(chunk, schema=self._schema, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            where = "" if first else " (cast to the first chunk's schema)"
            raise DataFormatError(_arrow_message(exc, str(self.path)) + where) from None
        self._parquet.write_table(table)

    def _release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def close(self) -> Path:
        """Finish the file and move it to ``path``.

        Returns:
            ``path``.

        Raises:
            InputError: no chunk was written (nothing is created).
        """
        if self._state == "closed":
            return self.path
        if self._state == "aborted":
            raise InputError(f"The writer for '{self.path}' was aborted; nothing was written.")
        if self.columns is None:
            self.abort()
            raise InputError(f"No chunk was written to '{self.path}'; nothing was created.")
        try:
            self._release()
        except BaseException:
            self.abort()
            raise
        self._state = "closed"
        try:
            return self._file.commit()
        except BaseException:
            self._state = "aborted"
            raise

    def abort(self) -> None:
        """Discard everything written; ``path`` is left as it was. Safe to call twice."""
        if self._state == "closed":
            return
        self._state = "aborted"
        try:
            self._release()
        except Exception:  # noqa: BLE001 - closing a half-written file may fail; it is removed anyway
            pass
        finally:
            self._file.discard()
