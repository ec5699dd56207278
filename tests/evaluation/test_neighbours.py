"""nearest() against a brute-force scipy answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from synthgen.errors import InputError
from synthgen.evaluation.neighbours import nearest


def _brute(q, r, k, exclude_self=False):
    d = cdist(q.astype(np.float64), r.astype(np.float64))
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]  # stable: ties by lower index
    return np.take_along_axis(d, order, axis=1), order


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    q = rng.standard_normal((157, 9)).astype(np.float32) * 3 + 5
    r = rng.standard_normal((233, 9)).astype(np.float32) * 3 + 5
    return q, r


@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("block_rows", [None, 1, 16, 50, 1000])
def test_matches_brute_force(data, k, block_rows):
    q, r = data
    dist, idx = nearest(q, r, k=k, block_rows=block_rows)
    want_d, want_i = _brute(q, r, k)
    assert dist.dtype == np.float32 and idx.dtype == np.int64
    assert dist.shape == idx.shape == (len(q), k)
    np.testing.assert_array_equal(idx, want_i)
    np.testing.assert_allclose(dist, want_d, rtol=1e-6, atol=1e-6)
    assert (np.diff(dist, axis=1) >= 0).all()


@pytest.mark.parametrize("k", [1, 5])
@pytest.mark.parametrize("block_rows", [None, 7, 64])
def test_exclude_self(data, k, block_rows):
    _, r = data
    dist, idx = nearest(r, r, k=k, exclude_self=True, block_rows=block_rows)
    want_d, want_i = _brute(r, r, k, exclude_self=True)
    np.testing.assert_array_equal(idx, want_i)
    np.testing.assert_allclose(dist, want_d, rtol=1e-6, atol=1e-6)
    assert not (idx == np.arange(len(r))[:, None]).any()


def test_copies_are_at_distance_exactly_zero(data):
    _, r = data
    far = r + 1000  # large norms: the matrix-product expansion alone would not give 0
    dist, idx = nearest(far[[5, 100, 0]], far, k=2)
    np.testing.assert_array_equal(idx[:, 0], [5, 100, 0])
    np.testing.assert_array_equal(dist[:, 0], 0.0)


def test_duplicates_next_to_self_are_found(data):
    _, r = data
    dup = np.vstack([r, r[:3]])  # rows 233..235 copy rows 0..2
    dist, idx = nearest(dup, dup, k=1, exclude_self=True, block_rows=100)
    np.testing.assert_array_equal(idx[:3, 0], [233, 234, 235])
    np.testing.assert_array_equal(idx[233:, 0], [0, 1, 2])
    np.testing.assert_array_equal(dist[[0, 1, 2, 233, 234, 235], 0], 0.0)


@pytest.mark.parametrize("block_rows", [None, 2, 3])
def test_ties_go_to_lower_index(block_rows):
    r = np.array([[5.0, 5], [1, 0], [0, 1], [-1, 0], [1, 0], [0, -1]], np.float32)
    q = np.zeros((1, 2), np.float32)
    dist, idx = nearest(q, r, k=4, block_rows=block_rows)
    np.testing.assert_array_equal(idx, [[1, 2, 3, 4]])
    np.testing.assert_array_equal(dist, np.ones((1, 4), np.float32))


def test_integer_grid_ties():
    # many exact ties: every point of a grid against the grid shifted by half a step
    g = np.stack(np.meshgrid(np.arange(6), np.arange(6)), -1).reshape(-1, 2).astype(np.float32)
    q = g[:10] + 0.5
    dist, idx = nearest(q, g, k=4, block_rows=5)
    want_d, want_i = _brute(q, g, 4)
    np.testing.assert_array_equal(idx, want_i)
    np.testing.assert_allclose(dist, want_d, rtol=1e-6)


def test_single_query_and_single_reference(data):
    q, r = data
    dist, idx = nearest(q[:1], r, k=3)
    want_d, want_i = _brute(q[:1], r, 3)
    np.testing.assert_array_equal(idx, want_i)
    np.testing.assert_allclose(dist, want_d, rtol=1e-6)
    dist, idx = nearest(q, r[:1])
    np.testing.assert_array_equal(idx, 0)
    np.testing.assert_allclose(dist[:, 0], np.linalg.norm(q - r[0], axis=1), rtol=1e-6)
    with pytest.raises(InputError, match="only 1"):
        nearest(q, r[:1], k=2)
    with pytest.raises(InputError, match="only 0 other"):
        nearest(r[:1], r[:1], exclude_self=True)


def test_accepts_float64_lists_and_frames():
    r = pd.DataFrame({"a": [0.0, 10.0], "b": [0.0, 0.0]})
    dist, idx = nearest([[9.0, 0.0]], r)
    assert idx.tolist() == [[1]] and dist.tolist() == [[1.0]]


def test_empty_query():
    dist, idx = nearest(np.empty((0, 3)), np.ones((4, 3)), k=2)
    assert dist.shape == idx.shape == (0, 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_is_refused(data, bad):
    q, r = data
    q = q.copy()
    q[3, 2] = bad
    with pytest.raises(InputError, match="finite"):
        nearest(q, r)
    with pytest.raises(InputError, match="reference must be finite"):
        nearest(r, q)


def test_bad_shapes_and_arguments(data):
    q, r = data
    with pytest.raises(InputError, match="2-D"):
        nearest(q[0], r)
    with pytest.raises(InputError, match="features"):
        nearest(q[:, :3], r)
    with pytest.raises(InputError, match="k must be"):
        nearest(q, r, k=0)
    with pytest.raises(InputError, match="block_rows"):
        nearest(q, r, block_rows=0)
    with pytest.raises(InputError, match="exclude_self"):
        nearest(q, r, exclude_self=True)
    with pytest.raises(InputError, match="numbers"):
        nearest(np.array([["a", "b"]]), np.array([["c", "d"]]))
    with pytest.raises(ValueError):  # InputError is a ValueError
        nearest(q, r, k=10_000)


def test_deterministic(data):
    q, r = data
    a = nearest(q, r, k=3)
    b = nearest(q, r, k=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_encoded_records_find_their_copies():
    from synthgen.data.schema import ColumnSpec, specs_from
    from synthgen.evaluation.encoding import MixedEncoder

    rng = np.random.default_rng(0)
    real = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 300),
            "sex": rng.choice(["F", "M"], 300),
            "bmi": rng.normal(27, 5, 300).round(1),
        }
    )
    schema = specs_from(
        [
            ColumnSpec("age", "integer"),
            ColumnSpec("sex", "categorical"),
            ColumnSpec("bmi", "numeric"),
        ]
    )
    enc = MixedEncoder().fit(real, schema)
    synthetic = real.iloc[[10, 20, 30]]
    dist, idx = nearest(enc.transform(synthetic), enc.transform(real))
    np.testing.assert_array_equal(idx[:, 0], [10, 20, 30])
    np.testing.assert_array_equal(dist[:, 0], 0.0)
