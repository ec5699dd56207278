"""MixedEncoder on tiny hand-computed frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen.data.schema import ColumnSpec, specs_from
from synthgen.errors import InputError, NotFittedError
from synthgen.evaluation.encoding import MixedEncoder

H = 1 / np.sqrt(2)


def _schema(**kinds):
    return specs_from(ColumnSpec(name, kind) for name, kind in kinds.items())


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 100.0],
            "c": ["a", "b", "a", None, "c"],
            "flag": pd.array([True, False, None, True, True], dtype="boolean"),
            "d": pd.to_datetime(["1970-01-01", "1970-01-03", "1970-01-05", None, "1970-01-09"]),
        }
    )


@pytest.fixture
def schema():
    return _schema(x="numeric", c="categorical", flag="boolean", d="datetime")


def test_exact_vectors(frame, schema):
    enc = MixedEncoder().fit(frame, schema)
    assert enc.feature_names_ == [
        "x",
        "c=a", "c=b", "c=<missing>", "c=c", "c=<other>",
        "flag", "flag__missing",
        "d", "d__missing",
    ]  # fmt: skip
    assert enc.n_features_ == 10
    out = enc.transform(frame)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.shape == (5, 10)
    # x: median 3, IQR 4 - 2 = 2; 100 scales to 48.5 and is clipped to 10
    x = [-1.0, -0.5, 0.0, 0.5, 10.0]
    # c: one-hot of 1/sqrt(2); missing is its own category; order by count, then first seen
    c = [[H, 0, 0, 0, 0], [0, H, 0, 0, 0], [H, 0, 0, 0, 0], [0, 0, H, 0, 0], [0, 0, 0, H, 0]]
    # flag: 0/1, missing imputed with the median of (1, 0, 1, 1) = 1, plus an indicator
    flag = [[1, 0], [0, 0], [1, 1], [1, 0], [1, 0]]
    # d: days 0, 2, 4, -, 8: median 3, quartiles 1.5 and 5, IQR 3.5; missing -> median
    d = [[-3 / 3.5, 0], [-1 / 3.5, 0], [1 / 3.5, 0], [0, 1], [5 / 3.5, 0]]
    expected = np.hstack([np.array(x)[:, None], c, flag, d]).astype(np.float32)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-7)


def test_category_mismatch_is_distance_one(frame, schema):
    enc = MixedEncoder().fit(frame, schema, columns=["c", "x"])
    two = pd.DataFrame({"c": ["a", "b"], "x": [3.0, 3.0]})
    a, b = enc.transform(two).astype(np.float64)
    assert np.sum((a - b) ** 2) == pytest.approx(1.0, abs=1e-6)
    # ... the same as a numeric difference of one IQR
    one_iqr = enc.transform(pd.DataFrame({"c": ["a", "a"], "x": [3.0, 5.0]})).astype(np.float64)
    assert np.sum((one_iqr[0] - one_iqr[1]) ** 2) == pytest.approx(1.0, abs=1e-6)


def test_unseen_category_goes_to_other():
    ref = pd.DataFrame({"c": ["a", "b", "b"]})
    enc = MixedEncoder().fit(ref, _schema(c="categorical"))
    assert enc.feature_names_ == ["c=b", "c=a", "c=<other>"]
    out = enc.transform(pd.DataFrame({"c": ["z", None, "a"]}))
    np.testing.assert_allclose(out, np.float32([[0, 0, H], [0, 0, H], [0, H, 0]]), atol=1e-7)


def test_max_categories_cap():
    ref = pd.DataFrame({"c": ["a", "a", "a", "b", "b", "c", "d"]})
    enc = MixedEncoder(max_categories=2).fit(ref, _schema(c="text"))
    assert enc.feature_names_ == ["c=a", "c=b", "c=<other>"]
    out = enc.transform(pd.DataFrame({"c": ["c", "d", "b"]}))
    np.testing.assert_allclose(out, np.float32([[0, 0, H], [0, 0, H], [0, H, 0]]), atol=1e-7)


def test_numeric_categories_match_across_int_and_float():
    enc = MixedEncoder().fit(pd.DataFrame({"q": [1, 2, 2]}), _schema(q="categorical"))
    out = enc.transform(pd.DataFrame({"q": [2.0, 1.0, 3.0]}))
    np.testing.assert_allclose(out, np.float32([[H, 0, 0], [0, H, 0], [0, 0, H]]), atol=1e-7)


def test_scale_falls_back_to_std_then_one():
    ref = pd.DataFrame({"s": [5.0, 5, 5, 5, 9], "k": [7, 7, 7, 7, 7]})
    enc = MixedEncoder().fit(ref, _schema(s="numeric", k="integer"))
    # s: IQR 0, std of (5, 5, 5, 5, 9) = 1.6, median 5;  k: constant, scale 1, median 7
    out = enc.transform(pd.DataFrame({"s": [9.0, 1.0], "k": [8, 4]}))
    np.testing.assert_allclose(out, np.float32([[2.5, 1.0], [-2.5, -3.0]]), atol=1e-6)
    assert enc.feature_names_ == ["s", "k"]  # no gaps in the reference, no indicators


def test_clipping_both_sides():
    enc = MixedEncoder().fit(pd.DataFrame({"x": [0.0, 1, 2, 3, 4]}), _schema(x="numeric"))
    out = enc.transform(pd.DataFrame({"x": [1e9, -1e9, 2.0]}))
    np.testing.assert_array_equal(out[:, 0], np.float32([10, -10, 0]))


def test_gap_unseen_in_reference_is_imputed_without_indicator():
    enc = MixedEncoder().fit(pd.DataFrame({"x": [0.0, 1, 2, 3, 4]}), _schema(x="numeric"))
    out = enc.transform(pd.DataFrame({"x": [np.nan, 4.0]}))
    np.testing.assert_allclose(out, np.float32([[0.0], [1.0]]))


def test_integer_with_gaps_gets_indicator():
    ref = pd.DataFrame({"n": pd.array([1, 3, None, 5, 7], dtype="Int64")})
    enc = MixedEncoder().fit(ref, _schema(n="integer"))
    assert enc.feature_names_ == ["n", "n__missing"]
    # median 4, quartiles 2.5 and 5.5 -> IQR 3
    out = enc.transform(ref)
    expected = [[-1, 0], [-1 / 3, 0], [0, 1], [1 / 3, 0], [1, 0]]
    np.testing.assert_allclose(out, np.float32(expected), atol=1e-7)


def test_datetime_from_text_and_days():
    ref = pd.DataFrame({"d": ["2020-01-01", "2020-01-11", "2020-01-21"]})
    enc = MixedEncoder().fit(ref, _schema(d="datetime"))
    # days since epoch; median 2020-01-11, quartiles at +-5 days -> IQR 10 days
    out = enc.transform(pd.DataFrame({"d": pd.to_datetime(["2020-01-16", "2019-01-11"])}))
    np.testing.assert_allclose(out[:, 0], np.float32([0.5, -10.0]), atol=1e-6)


def test_default_columns_skip_identifiers_and_absent():
    schema = specs_from(
        [
            ColumnSpec("pid", "text", roles=("direct_identifier",)),
            ColumnSpec("x", "numeric"),
            ColumnSpec("y", "numeric"),
        ]
    )
    enc = MixedEncoder().fit(pd.DataFrame({"pid": ["p1", "p2"], "x": [1.0, 2.0]}), schema)
    assert enc.columns_ == ["x"] and enc.feature_names_ == ["x"]
    # extra columns in transform are ignored; order of the frame does not matter
    out = enc.transform(pd.DataFrame({"z": [0, 0], "x": [1.5, 2.0], "pid": ["a", "b"]}))
    assert out.shape == (2, 1)


def test_deterministic_and_row_order_free(frame, schema):
    a = MixedEncoder().fit(frame, schema).transform(frame)
    b = MixedEncoder().fit(frame, schema).transform(frame.iloc[::-1])
    np.testing.assert_array_equal(a[::-1], b)


def test_errors(frame, schema):
    with pytest.raises(NotFittedError):
        MixedEncoder().transform(frame)
    with pytest.raises(InputError, match="max_categories"):
        MixedEncoder(max_categories=0).fit(frame, schema)
    with pytest.raises(InputError, match="no rows"):
        MixedEncoder().fit(frame.iloc[:0], schema)
    with pytest.raises(InputError, match="not in the schema"):
        MixedEncoder().fit(frame, schema, columns=["nope"])
    enc = MixedEncoder().fit(frame, schema)
    with pytest.raises(InputError, match="missing: c"):
        enc.transform(frame.drop(columns="c"))
    bad = frame.assign(x=["1", "two", "3", "4", "5"])
    with pytest.raises(InputError, match="'x' is numeric"):
        enc.transform(bad)


def test_constructor_only_stores():
    enc = MixedEncoder(max_categories=-3)  # validated in fit, not here
    assert enc.max_categories == -3


def test_fitted_encoder_survives_pickling_with_missing_categories():
    import pickle

    import pandas as pd

    from synthgen.data.schema import ColumnSpec, Schema
    from synthgen.evaluation.encoding import MixedEncoder

    schema = Schema((ColumnSpec("c", "categorical"),))
    ref = pd.DataFrame({"c": ["a", None, "b", "a"]})
    enc = MixedEncoder().fit(ref, schema)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(again.transform(ref), enc.transform(ref))
