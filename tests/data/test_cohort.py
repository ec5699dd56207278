"""Tests for the cohort split and the salted fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.cohort import MIN_HOLDOUT_ROWS, MIN_TRAIN_ROWS, new_salt
from synthgen.errors import InputError


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 101
    return pd.DataFrame(
        {
            "row": np.arange(n),
            "age": rng.integers(18, 90, n),
            "sex": rng.choice(["F", "M"], n).astype(object),
            "bmi": rng.normal(27, 4, n).round(1),
        }
    )


def test_split_sizes(table: pd.DataFrame) -> None:
    split = sg.Cohort(table).split(0.2, seed=1)
    assert len(split.holdout) == 20  # round(101 * 0.2)
    assert len(split.train) == 81
    assert split.fraction == 0.2 and split.seed == 1
    assert len(split.holdout_rows) == 20
    assert list(split.train.columns) == list(table.columns)
    assert split.train.index.tolist() == list(range(81))  # fresh index


def test_split_is_disjoint_and_covers_the_table(table: pd.DataFrame) -> None:
    split = sg.Cohort(table).split(0.3, seed=7)
    train_rows, hold_rows = set(split.train["row"]), set(split.holdout["row"])
    assert train_rows.isdisjoint(hold_rows)
    assert train_rows | hold_rows == set(table["row"])
    assert list(split.holdout_rows) == sorted(hold_rows)
    pd.testing.assert_frame_equal(
        split.holdout, table.iloc[split.holdout_rows].reset_index(drop=True)
    )


def test_same_seed_same_split_other_seed_other_split(table: pd.DataFrame) -> None:
    a = sg.Cohort(table).split(0.2, seed=5)
    b = sg.Cohort(table).split(0.2, seed=5)
    c = sg.Cohort(table).split(0.2, seed=6)
    np.testing.assert_array_equal(a.holdout_rows, b.holdout_rows)
    pd.testing.assert_frame_equal(a.train, b.train)
    assert not np.array_equal(a.holdout_rows, c.holdout_rows)


def test_split_does_not_touch_global_random_state(table: pd.DataFrame) -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    sg.Cohort(table).split(0.2, seed=9)
    assert np.random.random() == expected


def test_apply_split_reproduces(table: pd.DataFrame) -> None:
    cohort = sg.Cohort(table)
    split = cohort.split(0.25, seed=3)
    again = cohort.apply_split(list(split.holdout_rows), fraction=0.25, seed=3)
    pd.testing.assert_frame_equal(again.train, split.train)
    pd.testing.assert_frame_equal(again.holdout, split.holdout)


def test_apply_split_rejects_rows_out_of_range(table: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="out of range"):
        sg.Cohort(table).apply_split(np.array([0, len(table)]), fraction=0.1, seed=0)
    with pytest.raises(InputError, match="out of range"):
        sg.Cohort(table).apply_split(np.array([-1]), fraction=0.1, seed=0)


def test_zero_holdout_keeps_everything(table: pd.DataFrame) -> None:
    split = sg.Cohort(table).split(0.0, seed=0)
    assert len(split.holdout) == 0
    pd.testing.assert_frame_equal(split.train, table)


def test_tiny_holdout_is_raised_to_the_minimum(table: pd.DataFrame) -> None:
    split = sg.Cohort(table).split(0.001, seed=0)
    assert len(split.holdout) == MIN_HOLDOUT_ROWS


@pytest.mark.parametrize("holdout", [-0.1, 1.0, 1.5])
def test_holdout_share_out_of_range(table: pd.DataFrame, holdout: float) -> None:
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        sg.Cohort(table).split(holdout, seed=0)


def test_too_small_table_refused() -> None:
    small = pd.DataFrame({"a": range(MIN_TRAIN_ROWS + 1)})
    with pytest.raises(InputError, match="fewer than 10 to train on"):
        sg.Cohort(small).split(0.2, seed=0)
    # large enough without a holdout
    assert len(sg.Cohort(small).split(0.0, seed=0).train) == MIN_TRAIN_ROWS + 1


# ------------------------------------------------------------------ fingerprint


def test_fingerprint_is_stable(table: pd.DataFrame) -> None:
    salt = new_salt()
    assert sg.fingerprint(table, salt=salt) == sg.fingerprint(table.copy(), salt=salt)
    assert len(sg.fingerprint(table, salt=salt)) == 64


def test_fingerprint_changes_with_one_cell(table: pd.DataFrame) -> None:
    salt = new_salt()
    changed = table.copy()
    changed.loc[50, "bmi"] = changed.loc[50, "bmi"] + 0.1
    assert sg.fingerprint(changed, salt=salt) != sg.fingerprint(table, salt=salt)
    text_changed = table.copy()
    text_changed.loc[0, "sex"] = "M" if table.loc[0, "sex"] == "F" else "F"
    assert sg.fingerprint(text_changed, salt=salt) != sg.fingerprint(table, salt=salt)


def test_fingerprint_changes_with_salt_and_columns(table: pd.DataFrame) -> None:
    salt = "00" * 16
    base = sg.fingerprint(table, salt=salt)
    assert sg.fingerprint(table, salt="11" * 16) != base
    assert sg.fingerprint(table.rename(columns={"bmi": "BMI"}), salt=salt) != base
    assert sg.fingerprint(table.astype({"age": "float64"}), salt=salt) != base
    assert sg.fingerprint(table.iloc[::-1], salt=salt) != base  # row order matters


def test_fingerprint_of_empty_table() -> None:
    empty = pd.DataFrame({"a": pd.Series([], dtype=float)})
    assert sg.fingerprint(empty, salt=new_salt())


def test_new_salt_is_fresh_hex() -> None:
    a, b = new_salt(), new_salt()
    assert a != b
    assert len(bytes.fromhex(a)) == 16
