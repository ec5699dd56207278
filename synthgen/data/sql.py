"""Reading a table or a query result from a database through a SQLAlchemy URL.

The same code serves every database SQLAlchemy reaches (tested on SQLite; PostgreSQL and
others go through it unchanged). URLs in messages are shown with the password masked, and
driver messages that could quote a value are not repeated.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from synthgen.data.io import _check_unique, _finish
from synthgen.errors import DataFormatError, InputError

__all__ = ["mask_url", "read_sql"]


def mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparsable URL: mask by hand
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _db_reason(exc: BaseException, url: str) -> str:
    """First line of a driver's message, with any password removed.

    Errors about values (``DataError``, ``IntegrityError``) can quote a cell, e.g. PostgreSQL's
    'invalid input syntax for type integer: "..."'; for those only the error class is given.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DataError, IntegrityError

    if isinstance(exc, (DataError, IntegrityError)):
        return (
            f"the database rejected a value ({type(exc).__name__}); details are withheld "
            "because they may quote data"
        )
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    if password:
        reason = reason.replace(str(password), "***")
    return reason[:300]


def read_sql(url: str, *, table: str | None, query: str | None) -> pd.DataFrame:
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    masked = mask_url(url)
    if (table is None) == (query is None):
        got = "both" if table is not None else "neither"
        raise InputError(f"Reading from {masked} needs exactly one of table= or query=; got {got}.")
    try:
        engine = sa.create_engine(url)
    except NoSuchModuleError:
        raise DataFormatError(
            f"'{masked}' names a database dialect that is not available."
        ) from None
    except (ArgumentError, ValueError):
        raise DataFormatError(f"'{masked}' is not a valid database URL.") from None
    except ImportError as exc:
        raise DataFormatError(
            f"The database driver for {masked} is not installed ({exc.name or exc})."
        ) from None
    try:
        with engine.connect() as conn:
            if table is not None:
                stmt = _table_select(conn, table, masked)
                empty = f"Table '{table}' in {masked} holds no rows."
            else:
                stmt, empty = sa.text(query), f"The query on {masked} returned no rows."
            df = pd.read_sql_query(stmt, conn)
    except SQLAlchemyError as exc:
        raise DataFormatError(f"Could not read from {masked}: {_db_reason(exc, url)}") from None
    finally:
        engine.dispose()
    _check_unique(df.columns, "the query result" if query is not None else f"table '{table}'")
    return _finish(df, empty)


def _table_select(conn: Any, table: str, masked: str) -> Any:
    import sqlalchemy as sa

    inspector = sa.inspect(conn)

    def names(schema: str | None) -> list[str]:
        return list(inspector.get_table_names(schema=schema)) + list(
            inspector.get_view_names(schema=schema)
        )

    available = names(None)
    if table in available:
        return sa.select(sa.literal_column("*")).select_from(sa.table(table))
    if "." in table:
        schema, _, name = table.rpartition(".")
        try:
            if name in names(schema):
                return sa.select(sa.literal_column("*")).select_from(sa.table(name, schema=schema))
        except sa.exc.SQLAlchemyError:
            pass  # unknown schema: report as an unknown table
    listing = ", ".join(f"'{n}'" for n in sorted(available)) or "none"
    raise InputError(f"Table '{table}' does not exist in {masked}; available tables: {listing}.")
