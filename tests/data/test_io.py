"""Tests for synthgen.data.io: reading and writing tables."""

from __future__ import annotations

import gzip
import io
import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthgen.data.io import TableWriter, read_table, table_format, write_table
from synthgen.errors import DataFormatError, InputError

SECRET = "SECRET-CELL-123"


def listing(directory):
    return sorted(p.name for p in directory.iterdir())


# --------------------------------------------------------------------------- strategies

KINDS = ("int", "float", "str", "bool", "datetime")
# Strings start with "s" so no value reads as a missing marker ("NA", "null"), a number or a
# boolean; the rest exercises quoting, delimiters and non-ASCII text.
TEXT = st.text(alphabet="abcZ ëÆø,;|\t\"'\n-", max_size=8).map(lambda s: "s" + s)
DATES = st.datetimes(
    min_value=pd.Timestamp("1900-01-01").to_pydatetime(),
    max_value=pd.Timestamp("2100-01-01").to_pydatetime(),
)


def with_missing(values, missing, na):
    return [na if m else v for v, m in zip(values, missing, strict=True)]


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    data = {}
    for i, kind in enumerate(kinds):
        missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if not draw(st.booleans()):
            missing = [False] * n
        has_na = any(missing)
        name = f"{kind}_{i}"
        if kind == "int":
            vals = draw(st.lists(st.integers(-(2**53), 2**53), min_size=n, max_size=n))
            col = pd.array(with_missing(vals, missing, None), dtype="Int64")
            data[name] = col if has_na else col.astype("int64")
        elif kind == "float":
            vals = draw(
                st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=n, max_size=n)
            )
            data[name] = np.array(with_missing(vals, missing, np.nan))
        elif kind == "str":
            vals = draw(st.lists(TEXT, min_size=n, max_size=n))
            data[name] = pd.Series(with_missing(vals, missing, None), dtype=object)
        elif kind == "bool":
            vals = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            col = pd.array(with_missing(vals, missing, None), dtype="boolean")
            data[name] = col if has_na else col.astype(bool)
        else:
            vals = draw(st.lists(DATES, min_size=n, max_size=n))
            data[name] = pd.to_datetime(with_missing(vals, missing, None))
    return pd.DataFrame(data)


HYPO = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- round trips


@HYPO
@given(df=frames())
def test_parquet_round_trip_is_exact(tmp_path, df):
    path = write_table(df, tmp_path / "t.parquet")
    back = read_table(path)
    pd.testing.assert_frame_equal(back, df)


@HYPO
@given(df=frames(), suffix=st.sampled_from([".csv", ".tsv", ".csv.gz"]))
def test_csv_round_trip(tmp_path, df, suffix):
    path = write_table(df, tmp_path / f"t{suffix}")
    back = read_table(path)

    # CSV has no types: the result is what pandas infers from the same text...
    sep = "\t" if suffix == ".tsv" else ","
    text = df.to_csv(index=False, sep=sep, lineterminator="\n")
    expected = pd.read_csv(io.StringIO(text), sep=sep, low_memory=False)
    pd.testing.assert_frame_equal(back, expected)

    # ...and the values survive.
    assert list(back.columns) == list(df.columns)
    for name in df.columns:
        orig, got = df[name], back[name]
        assert got.isna().tolist() == orig.isna().tolist(), name
        keep = orig.notna().to_numpy()
        kind = name.split("_")[0]
        if kind == "datetime":
            parsed = pd.to_datetime(got[keep], format="ISO8601")
            assert parsed.tolist() == orig[keep].tolist()
        elif kind == "float":
            np.testing.assert_allclose(got[keep].astype(float), orig[keep], rtol=1e-15)
        elif kind == "int":
            assert got[keep].astype("int64").tolist() == orig[keep].astype("int64").tolist()
            if not orig.isna().any():
                assert got.dtype == np.int64
        elif kind == "bool":
            assert got[keep].astype(bool).tolist() == orig[keep].astype(bool).tolist()
        else:
            assert got[keep].tolist() == orig[keep].tolist()


def test_csv_empty_cells_and_markers_are_missing(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("a,b,c\n1,,x\n2,NA,\n")
    df = read_table(path)
    assert df["b"].isna().all()
    assert df["c"].isna().tolist() == [False, True]
    assert df["a"].dtype == np.int64


def test_table_format():
    assert table_format("x.csv") == "csv"
    assert table_format("dir/x.CSV") == "csv"
    assert table_format("x.tsv") == "csv"
    assert table_format("x.csv.gz") == "csv"
    assert table_format("x.parquet") == "parquet"
    assert table_format("x.pq") == "parquet"
    with pytest.raises(DataFormatError, match=r"supported: .*\.csv.*\.parquet"):
        table_format("x.xlsx")


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1", "cp1252"])
def test_encodings(tmp_path, encoding):
    path = tmp_path / "enc.csv"
    path.write_bytes("name,town\nZoë,Ærø\nJosé,Åbø\n".encode(encoding))
    df = read_table(path)
    assert list(df.columns) == ["name", "town"]  # no BOM on the first name
    assert df["name"].tolist() == ["Zoë", "José"]
    assert df["town"].tolist() == ["Ærø", "Åbø"]


def test_latin1_after_the_sniffed_sample(tmp_path):
    # The first 64 KB are plain ASCII; the first non-UTF-8 byte comes later.
    rows = ["id;name"] + [f"{i};abc" for i in range(20_000)] + ["20000;Zoë"]
    path = tmp_path / "late.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))
    df = read_table(path)
    assert list(df.columns) == ["id", "name"]
    assert len(df) == 20_001
    assert df["name"].iloc[-1] == "Zoë"


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters(tmp_path, sep):
    path = tmp_path / "d.csv"
    path.write_text(sep.join(["id", "age", "town"]) + "\n" + sep.join(["1", "42", "Oslo"]) + "\n")
    df = read_table(path)
    assert list(df.columns) == ["id", "age", "town"]
    assert df.iloc[0].tolist() == [1, 42, "Oslo"]


def test_semicolon_file_with_decimal_commas(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("id;weight\n1;70,5\n2;81,25\n")
    df = read_table(path)
    assert list(df.columns) == ["id", "weight"]
    assert df["weight"].tolist() == ["70,5", "81,25"]


def test_quoted_fields_holding_other_delimiters(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('id,note\n1,"a;b;c|d"\n2,"e;f;g|h"\n3,"x\ny;z"\n')
    df = read_table(path)
    assert list(df.columns) == ["id", "note"]
    assert df["note"].tolist() == ["a;b;c|d", "e;f;g|h", "x\ny;z"]


def test_single_column_file(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("age\n1\n2\n")
    assert read_table(path)["age"].tolist() == [1, 2]


# --------------------------------------------------------------------------- SQL


@pytest.fixture
def cohort_db(tmp_path):
    path = tmp_path / "cohort.db"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE "patients" (id INTEGER, age REAL, sex TEXT)')
    con.executemany("INSERT INTO patients VALUES (?, ?, ?)", [(1, 40.5, "F"), (2, None, "M")])
    con.execute('CREATE TABLE "Visit Log" (id INTEGER, ward TEXT)')
    con.execute("INSERT INTO \"Visit Log\" VALUES (1, 'A')")
    con.execute("CREATE TABLE empty (id INTEGER)")
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_sql_table(cohort_db):
    df = read_table(cohort_db, table="patients")
    assert list(df.columns) == ["id", "age", "sex"]
    assert df["id"].tolist() == [1, 2]
    assert df["age"].isna().tolist() == [False, True]


def test_sql_table_name_needing_quotes(cohort_db):
    df = read_table(cohort_db, table="Visit Log")
    assert df.to_dict("list") == {"id": [1], "ward": ["A"]}


def test_sql_query(cohort_db):
    df = read_table(cohort_db, query="SELECT id, sex FROM patients WHERE age > 30")
    assert df.to_dict("list") == {"id": [1], "sex": ["F"]}


def test_sql_unknown_table_lists_available(cohort_db):
    with pytest.raises(InputError, match="'nope' does not exist.*'Visit Log'.*'patients'"):
        read_table(cohort_db, table="nope")


@pytest.mark.parametrize("kwargs", [{}, {"table": "patients", "query": "SELECT 1"}])
def test_sql_needs_exactly_one_of_table_or_query(cohort_db, kwargs):
    with pytest.raises(InputError, match="exactly one of table= or query="):
        read_table(cohort_db, **kwargs)


def test_table_or_query_with_file_path(tmp_path):
    with pytest.raises(InputError, match="database URLs only"):
        read_table(tmp_path / "x.csv", table="t")


def test_sql_empty_results(cohort_db):
    with pytest.raises(InputError, match="holds no rows"):
        read_table(cohort_db, table="empty")
    with pytest.raises(InputError, match="returned no rows"):
        read_table(cohort_db, query="SELECT * FROM patients WHERE id > 99")


def test_sql_duplicate_result_columns(cohort_db):
    with pytest.raises(DataFormatError, match="Column name 'id' appears 2 times"):
        read_table(cohort_db, query="SELECT id, sex AS id FROM patients")


def test_sql_bad_query(cohort_db):
    with pytest.raises(DataFormatError, match="no such table"):
        read_table(cohort_db, query="SELECT * FROM missing_table")


def test_sql_value_errors_do_not_quote_data(cohort_db, monkeypatch):
    from sqlalchemy.exc import DataError

    def failing(*args, **kwargs):
        raise DataError("SELECT", {}, Exception(f'invalid input syntax for integer: "{SECRET}"'))

    monkeypatch.setattr(pd, "read_sql_query", failing)
    with pytest.raises(DataFormatError, match="rejected a value") as info:
        read_table(cohort_db, query="SELECT CAST(sex AS int) FROM patients")
    assert SECRET not in str(info.value)


def test_sql_unreachable_database(tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/dir/x.db"
    with pytest.raises(DataFormatError, match="Could not read from") as info:
        read_table(url, table="t")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice:hunter2@127.0.0.1:1/cohort",  # no driver, or connection refused
        "nosuchdialect://alice:hunter2@localhost/cohort",
        "not a url ://alice:hunter2@",
    ],
)
def test_sql_errors_hide_password(url):
    with pytest.raises(DataFormatError) as info:
        read_table(url, table="patients")
    message = str(info.value)
    assert "hunter2" not in message
    assert "\n" not in message


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"File '.*x\.csv' does not exist\."):
        read_table(tmp_path / "x.csv")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_table(tmp_path)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("a\n1\n")
    with pytest.raises(DataFormatError, match=r"unsupported.*\.csv.*\.parquet"):
        read_table(path)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match="'.*e.csv' is empty"):
        read_table(path)


def test_empty_parquet_file(tmp_path):
    path = tmp_path / "e.parquet"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        read_table(path)


def test_header_only(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b,c\n")
    with pytest.raises(InputError, match="'.*h.csv' holds no rows."):
        read_table(path)
    write_table(pd.DataFrame({"a": pd.Series([], dtype="int64")}), tmp_path / "h.parquet")
    with pytest.raises(InputError, match="holds no rows"):
        read_table(tmp_path / "h.parquet")


def test_duplicate_columns_csv(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(f"id,age,id\n1,{SECRET},3\n")
    with pytest.raises(DataFormatError, match=r"Column name 'id' appears 2 times in '.*dup\.csv'"):
        read_table(path)


def test_duplicate_columns_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2]), pa.array([3])], ["x", "y", "x"])
    pq.write_table(table, path)
    with pytest.raises(DataFormatError, match="Column name 'x' appears 2 times"):
        read_table(path)


@pytest.mark.parametrize(
    "text,line",
    [
        (f"a,b\n1,2\n3,{SECRET},5\n", 3),
        (f"a,b\n1,2,{SECRET}\n3,4,5\n", None),  # pandas would use column 1 as an index
    ],
)
def test_ragged_rows(tmp_path, text, line):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(DataFormatError, match="malformed") as info:
        read_table(path)
    assert SECRET not in str(info.value)
    if line is not None:
        assert f"line {line}" in str(info.value)


def test_fake_parquet(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_text(f"a,b\n1,{SECRET}\n")
    with pytest.raises(DataFormatError, match="not a valid Parquet file") as info:
        read_table(path)
    assert SECRET not in str(info.value)


def test_fake_gzip(tmp_path):
    path = tmp_path / "fake.csv.gz"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match="not a valid gzip file"):
        read_table(path)


def test_gzip_csv(tmp_path):
    path = tmp_path / "z.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("a;b\n1;Zoë\n")
    assert read_table(path).to_dict("list") == {"a": [1], "b": ["Zoë"]}


def test_parquet_with_index_keeps_named_index_as_column(tmp_path):
    df = pd.DataFrame({"age": [40, 50]}, index=pd.Index(["p1", "p2"], name="pid"))
    df.to_parquet(tmp_path / "i.parquet")
    back = read_table(tmp_path / "i.parquet")
    assert list(back.columns) == ["pid", "age"]
    assert isinstance(back.index, pd.RangeIndex)


# --------------------------------------------------------------------------- writing, atomicity

FRAME = pd.DataFrame({"id": [1, 2, 3], "town": ["Oslo", "Ærø", None]})


def test_write_table_unsupported_extension_writes_nothing(tmp_path):
    with pytest.raises(DataFormatError, match="unsupported"):
        write_table(FRAME, tmp_path / "out.xlsx")
    assert listing(tmp_path) == []


def test_write_table_refuses_duplicate_columns(tmp_path):
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataFormatError, match="'a' appears 2 times"):
        write_table(df, tmp_path / "out.csv")
    assert listing(tmp_path) == []


def test_write_table_csv_is_utf8_iso_dates(tmp_path):
    df = pd.DataFrame({"d": pd.to_datetime(["2020-01-02", "2021-03-04"]), "t": ["Zoë", "x"]})
    path = write_table(df, tmp_path / "o.csv")
    assert path.read_bytes().decode("utf-8") == "d,t\n2020-01-02,Zoë\n2021-03-04,x\n"


def test_write_table_unwritable_parquet_column(tmp_path):
    df = pd.DataFrame({"mixed": [1, "a", 2.5]})
    with pytest.raises(DataFormatError, match="Parquet"):
        write_table(df, tmp_path / "o.parquet")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("suffix,method", [(".parquet", "to_parquet"), (".csv", "to_csv")])
def test_write_failing_midway_leaves_nothing(tmp_path, monkeypatch, suffix, method):
    def broken(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"half a table")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, method, broken)
    with pytest.raises(OSError, match="disk full"):
        write_table(FRAME, tmp_path / f"out{suffix}")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("suffix,method", [(".parquet", "to_parquet"), (".csv", "to_csv")])
def test_write_failing_midway_keeps_old_file(tmp_path, monkeypatch, suffix, method):
    target = tmp_path / f"out{suffix}"
    write_table(FRAME, target)
    before = target.read_bytes()

    def broken(self, path, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, method, broken)
    with pytest.raises(OSError):
        write_table(FRAME.head(1), target)
    assert target.read_bytes() == before
    assert listing(tmp_path) == [target.name]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_table_no_overwrite(tmp_path, suffix):
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"precious")
    with pytest.raises(InputError, match="already exists"):
        write_table(FRAME, target, overwrite=False)
    assert target.read_bytes() == b"precious"
    assert listing(tmp_path) == [target.name]


def test_write_table_missing_directory(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_table(FRAME, tmp_path / "nope" / "out.csv")


# --------------------------------------------------------------------------- TableWriter


def chunks(n_chunks=3, size=4):
    for c in range(n_chunks):
        start = c * size
        yield pd.DataFrame(
            {
                "id": np.arange(start, start + size, dtype="int64"),
                "x": np.linspace(0, 1, size) + c,
                "s": [f"v{i}" for i in range(start, start + size)],
            }
        )


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".csv.gz", ".tsv"])
def test_table_writer_streams_and_appears_on_close(tmp_path, suffix):
    target = tmp_path / f"big{suffix}"
    expected = pd.concat(list(chunks()), ignore_index=True)
    writer = TableWriter(target)
    for chunk in chunks():
        writer.write(chunk)
        assert not target.exists()
    assert writer.rows_written == 12
    assert writer.close() == target
    assert writer.close() == target  # idempotent
    back = read_table(target)
    pd.testing.assert_frame_equal(back, expected, check_dtype=suffix == ".parquet")
    assert listing(tmp_path) == [target.name]


def test_table_writer_context_manager_and_column_order(tmp_path):
    target = tmp_path / "o.parquet"
    first, second = list(chunks(2))
    with TableWriter(target) as writer:
        writer.write(first)
        writer.write(second[["s", "x", "id"]])  # same columns, other order
    back = read_table(target)
    assert list(back.columns) == ["id", "x", "s"]
    assert back["id"].tolist() == list(range(8))


def test_table_writer_casts_to_first_schema(tmp_path):
    target = tmp_path / "o.parquet"
    with TableWriter(target) as writer:
        writer.write(pd.DataFrame({"a": [1.5, 2.5]}))
        writer.write(pd.DataFrame({"a": np.array([3, 4], dtype="int64")}))
    back = read_table(target)
    assert back["a"].dtype == np.float64
    assert back["a"].tolist() == [1.5, 2.5, 3.0, 4.0]


def test_table_writer_rejects_different_columns(tmp_path):
    target = tmp_path / "o.csv"
    with pytest.raises(DataFormatError, match=r"missing \['s'\], extra \['z'\]"):
        with TableWriter(target) as writer:
            writer.write(next(chunks()))
            writer.write(pd.DataFrame({"id": [1], "x": [0.5], "z": [1]}))
    assert listing(tmp_path) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_writer_aborted_by_exception_leaves_nothing(tmp_path, suffix):
    target = tmp_path / f"o{suffix}"
    with pytest.raises(RuntimeError, match="sampler crashed"):
        with TableWriter(target) as writer:
            for i, chunk in enumerate(chunks()):
                writer.write(chunk)
                if i == 1:
                    raise RuntimeError("sampler crashed")
    assert listing(tmp_path) == []
    with pytest.raises(InputError, match="aborted"):
        writer.write(next(chunks()))


def test_table_writer_abort_keeps_old_file(tmp_path):
    target = tmp_path / "o.csv"
    target.write_text("old\n1\n")
    writer = TableWriter(target)
    writer.write(next(chunks()))
    writer.abort()
    writer.abort()
    assert target.read_text() == "old\n1\n"
    assert listing(tmp_path) == ["o.csv"]


def test_table_writer_no_overwrite_and_bad_suffix(tmp_path):
    target = tmp_path / "o.parquet"
    target.write_bytes(b"precious")
    with pytest.raises(InputError, match="already exists"):
        TableWriter(target, overwrite=False)
    with pytest.raises(DataFormatError, match="unsupported"):
        TableWriter(tmp_path / "o.json")
    assert target.read_bytes() == b"precious"
    assert listing(tmp_path) == ["o.parquet"]


def test_table_writer_without_chunks_creates_nothing(tmp_path):
    with pytest.raises(InputError, match="No chunk was written"):
        with TableWriter(tmp_path / "o.csv"):
            pass
    assert listing(tmp_path) == []
