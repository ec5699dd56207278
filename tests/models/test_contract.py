"""The Generator contract, checked for every registered generator.

The generators are parametrised from :func:`synthgen.list_generators`, so a newly registered
generator is covered without touching this file. Known generators get tiny settings from
``TINY_PARAMS``; an unknown one gets its defaults plus ``epochs=2`` when it accepts it.
"""

from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest

import synthgen as sg
from synthgen.data.pii import is_valid_nhs_number
from synthgen.errors import InputError, ModelError, NotFittedError, TamperedModelError
from synthgen.models.keys import custodian_key
from synthgen.models.registry import accepted_params, generator_class
from synthgen.models.sdv_adapters import SDVGenerator

TINY_PARAMS: dict[str, dict[str, Any]] = {
    "gaussian_copula": {"default_distribution": "norm"},
    "ctgan": {
        "epochs": 2,
        "batch_size": 50,
        "pac": 5,
        "embedding_dim": 16,
        "generator_dim": [32, 32],
        "discriminator_dim": [32, 32],
    },
    "tvae": {
        "epochs": 2,
        "batch_size": 50,
        "embedding_dim": 16,
        "compress_dims": [32, 32],
        "decompress_dims": [32, 32],
    },
    "copula_gan": {
        "epochs": 2,
        "batch_size": 50,
        "pac": 5,
        "embedding_dim": 16,
        "generator_dim": [32, 32],
        "discriminator_dim": [32, 32],
        "default_distribution": "norm",
    },
    "diffusion": {"iterations": 30, "width": 32, "depth": 1, "sampling_steps": 10},
    # a huge epsilon: the contract is about dtypes, seeds and files, and with 200 rows a
    # realistic budget estimates bounds too loosely for the domain checks
    "mst": {"epsilon": 1e4, "domain_share": 0.5, "bins": 16},
}

# Every registered generator, except test doubles that other test modules register under
# "test_" names (they are not real generators and implement only what their tests need).
GENERATORS = sorted(n for n in sg.list_generators() if not n.startswith("test_"))
CONTRACT_COLUMNS = [
    "patient_id",
    "name",
    "nhs_number",
    "postcode",
    "date_of_birth",
    "age",
    "sex",
    "bmi",
    "hba1c",
    "diabetes",
    "index_date",
    "followup_days",
    "died",
    "clinical_note",
]
FAKED = ["record_id", "patient_id", "name", "nhs_number", "postcode"]
DROPPED = ["date_of_birth", "clinical_note"]
TRAIN_ROWS = 200


def tiny_params(name: str) -> dict[str, Any]:
    """Fast settings for ``name``; defaults plus ``epochs=2`` for generators not listed."""
    if name in TINY_PARAMS:
        return dict(TINY_PARAMS[name])
    return {"epochs": 2} if "epochs" in accepted_params(generator_class(name)) else {}


@dataclass
class Fitted:
    name: str
    gen: sg.Generator
    returned: Any
    train: pd.DataFrame  # coerced training data, identifiers included
    schema: sg.Schema


@pytest.fixture(scope="session")
def contract_data(demo_small: pd.DataFrame) -> tuple[pd.DataFrame, sg.Schema]:
    """~200 rows x 8 learned columns, four faked identifiers plus an integer row id."""
    raw = demo_small[CONTRACT_COLUMNS].iloc[:TRAIN_ROWS].reset_index(drop=True)
    raw.insert(0, "record_id", np.arange(5_000, 5_000 + len(raw), dtype=np.int64))
    schema = sg.infer_schema(raw)
    return schema.coerce(raw), schema


@pytest.fixture(scope="session", params=GENERATORS)
def fitted(request: pytest.FixtureRequest, contract_data) -> Fitted:
    train, schema = contract_data
    name = request.param
    gen = sg.create_generator(name, **tiny_params(name))
    returned = gen.fit(train, schema)
    return Fitted(name, gen, returned, train, schema)


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every call that could unpickle; the test asserts on the list."""
    calls: list[str] = []

    def refuse(label: str):
        def _refuse(*args, **kwargs):
            calls.append(label)
            raise AssertionError(f"{label} was called")

        return _refuse

    monkeypatch.setattr(cloudpickle, "load", refuse("cloudpickle.load"))
    monkeypatch.setattr(cloudpickle, "loads", refuse("cloudpickle.loads"))
    monkeypatch.setattr(pickle, "load", refuse("pickle.load"))
    monkeypatch.setattr(pickle, "loads", refuse("pickle.loads"))
    import torch

    monkeypatch.setattr(torch, "load", refuse("torch.load"))
    return calls


def _model_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in FAKED if c in df.columns])


# ------------------------------------------------------------------------- fit


def test_every_generator_has_a_summary() -> None:
    for name, summary in sg.list_generators().items():
        assert summary.strip(), name
        assert generator_class(name).name == name


def test_fit_returns_self(fitted: Fitted) -> None:
    assert fitted.returned is fitted.gen
    assert fitted.gen.fitted_ is True
    assert fitted.gen.n_train_ == TRAIN_ROWS


def test_fit_accepts_a_column_constant_within_the_split(
    demo_split: sg.Split, gaussian_copula: sg.Generator
) -> None:
    # a rare condition whose few cases all fell in the holdout is still a schema column
    constant = [c for c in demo_split.train.columns if demo_split.train[c].nunique() == 1]
    assert constant, "the demo split no longer has a column constant in training"
    out = gaussian_copula.sample(20, seed=1)
    for col in constant:
        assert str(out[col].dtype) == str(demo_split.train[col].dtype)


def test_fit_needs_two_records(contract_data) -> None:
    train, schema = contract_data
    gen = sg.create_generator("gaussian_copula", **tiny_params("gaussian_copula"))
    with pytest.raises(ModelError, match="at least 2"):
        gen.fit(train.iloc[:1], schema)
    assert not getattr(gen, "fitted_", False)


def test_epoch_progress_is_reported(contract_data) -> None:
    train, schema = contract_data
    for name in GENERATORS:
        params = tiny_params(name)
        if "epochs" not in params:
            continue
        calls: list[tuple[int, int]] = []
        sg.create_generator(name, **params).fit(
            train, schema, progress=lambda done, total, calls=calls: calls.append((done, total))
        )
        epochs = params["epochs"]
        assert calls == [(k, epochs) for k in range(1, epochs + 1)], name


def test_unfitted_generator_refuses_to_sample_or_save(tmp_path: Path) -> None:
    for name in GENERATORS:
        gen = sg.create_generator(name, **tiny_params(name))
        with pytest.raises(NotFittedError, match="not fitted"):
            gen.sample(5)
        with pytest.raises(NotFittedError):
            gen.save(tmp_path / name)
        assert not (tmp_path / name).exists()


# ---------------------------------------------------------------------- sample


def test_sample_columns_and_dtypes(fitted: Fitted) -> None:
    out = fitted.gen.sample(150, seed=1)
    expected = fitted.train.drop(columns=DROPPED)
    assert len(out) == 150
    assert list(out.columns) == list(expected.columns)
    want = expected.dtypes.astype(str).to_dict()
    if fitted.gen.privacy_budget_ is not None:
        # a private model cannot know for free whether a column has gaps: the learned
        # columns come back in the nullable dtype of their kind
        nullable = {"int64": "Int64", "bool": "boolean"}
        model_cols = set(fitted.gen.schema_.model_columns)
        want = {c: nullable.get(d, d) if c in model_cols else d for c, d in want.items()}
    assert out.dtypes.astype(str).to_dict() == want
    assert out.index.equals(pd.RangeIndex(150))


def test_sampled_values_stay_in_their_domain(fitted: Fitted) -> None:
    out = fitted.gen.sample(300, seed=2)
    assert set(out["sex"].dropna()) <= set(fitted.train["sex"])
    assert out["age"].between(fitted.train["age"].min(), fitted.train["age"].max()).all()


def test_same_seed_same_rows(fitted: Fitted) -> None:
    a = fitted.gen.sample(100, seed=11)
    b = fitted.gen.sample(100, seed=11)
    pd.testing.assert_frame_equal(a, b)


def test_different_seed_different_rows(fitted: Fitted) -> None:
    a = _model_frame(fitted.gen.sample(100, seed=11))
    b = _model_frame(fitted.gen.sample(100, seed=12))
    assert not a.equals(b)


def test_sampling_leaves_global_random_state_alone(fitted: Fitted) -> None:
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    fitted.gen.sample(20, seed=3)
    assert np.random.random() == expected


def test_sample_zero_rows(fitted: Fitted) -> None:
    out = fitted.gen.sample(0, seed=1)
    full = fitted.gen.sample(5, seed=1)
    assert len(out) == 0
    assert list(out.columns) == list(full.columns)
    assert out.dtypes.astype(str).to_dict() == full.dtypes.astype(str).to_dict()


@pytest.mark.parametrize("n", [-1, 2.5, True, "10"])
def test_sample_rejects_bad_row_counts(fitted: Fitted, n: Any) -> None:
    with pytest.raises(ModelError, match="non-negative integer"):
        fitted.gen.sample(n, seed=1)


def test_missing_values_are_reproduced(fitted: Fitted) -> None:
    assert fitted.train["bmi"].isna().any() and fitted.train["hba1c"].isna().any()
    out = fitted.gen.sample(400, seed=4)
    assert out["bmi"].isna().any()
    assert out["hba1c"].isna().any()
    assert out["bmi"].notna().any() and out["hba1c"].notna().any()


# ------------------------------------------------------------------ identifiers


def test_dropped_identifiers_are_absent(fitted: Fitted) -> None:
    out = fitted.gen.sample(10, seed=1)
    assert not set(DROPPED) & set(out.columns)
    assert not set(DROPPED) & set(fitted.gen.dtypes_)


def test_faked_identifiers(fitted: Fitted) -> None:
    out = fitted.gen.sample(300, seed=5)
    real = fitted.train
    digits = out["nhs_number"].str.replace(" ", "", regex=False)
    assert out["nhs_number"].map(is_valid_nhs_number).all()
    real_digits = set(real["nhs_number"].str.replace(" ", "", regex=False))
    assert not set(digits) & real_digits
    for col in ("patient_id", "record_id"):
        assert out[col].is_unique, col
        assert not set(out[col]) & set(real[col]), col
    assert out["record_id"].min() > real["record_id"].max()
    assert not set(out["name"]) & set(real["name"])
    assert not set(out["postcode"]) & set(real["postcode"])
    assert out["postcode"].str.match(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$").all()
    assert out[FAKED].notna().all().all()


def test_row_ids_stay_unique_across_chunks(fitted: Fitted) -> None:
    chunks = list(fitted.gen.iter_sample(25, seed=5, chunk_rows=10))
    assert [len(c) for c in chunks] == [10, 10, 5]
    ids = pd.concat(chunks)["record_id"]
    assert ids.is_unique
    pids = pd.concat(chunks)["patient_id"]
    assert pids.is_unique


# -------------------------------------------------------------------- save/load


def test_save_load_round_trip(fitted: Fitted, tmp_path: Path, monkeypatch) -> None:
    path = fitted.gen.save(tmp_path / "model")
    assert (path / "integrity.json").is_file() and (path / "model.json").is_file()
    doc = json.loads((path / "model.json").read_text(encoding="utf-8"))
    assert doc["generator"] == fitted.name
    assert doc["columns"] == list(fitted.gen.columns_)
    loaded = sg.load_generator(path)
    assert type(loaded) is type(fitted.gen)
    assert loaded.get_params() == fitted.gen.get_params()
    pd.testing.assert_frame_equal(loaded.sample(80, seed=9), fitted.gen.sample(80, seed=9))
    again = type(fitted.gen).load(path)
    pd.testing.assert_frame_equal(again.sample(30, seed=1), fitted.gen.sample(30, seed=1))


def test_saved_model_holds_no_real_identifier(fitted: Fitted, tmp_path: Path) -> None:
    path = fitted.gen.save(tmp_path / "model")
    blob = b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())
    for value in fitted.train["nhs_number"].head(20):
        assert value.encode() not in blob
        assert value.replace(" ", "").encode() not in blob
    for value in fitted.train["name"].head(20):
        assert value.encode() not in blob


def test_load_as_wrong_class_refused(tmp_path: Path, fitted: Fitted) -> None:
    path = fitted.gen.save(tmp_path / "model")
    other = next(generator_class(n) for n in GENERATORS if n != fitted.name)
    with pytest.raises(ModelError, match="not a"):
        other.load(path)


def test_save_refuses_to_overwrite(fitted: Fitted, tmp_path: Path) -> None:
    path = fitted.gen.save(tmp_path / "model")
    before = (path / "integrity.json").read_bytes()
    with pytest.raises(InputError, match="already exists"):
        fitted.gen.save(path)
    assert (path / "integrity.json").read_bytes() == before
    fitted.gen.save(path, overwrite=True)
    sg.load_generator(path)


def test_load_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        sg.load_generator(tmp_path / "nowhere")


def test_untampered_load_does_unpickle(fitted: Fitted, tmp_path: Path, no_unpickling) -> None:
    """Control for the tamper tests: the spy does see the unpickling of an SDV model."""
    if not isinstance(fitted.gen, SDVGenerator):
        pytest.skip("only SDV adapters pickle their state")
    path = fitted.gen.save(tmp_path / "model")
    with pytest.raises(ModelError):
        sg.load_generator(path)
    assert no_unpickling


def _largest_state_file(path: Path) -> Path:
    files = [p for p in (path / "state").rglob("*") if p.is_file()]
    return max(files, key=lambda p: p.stat().st_size)


def _flip_byte(file: Path, pos: int | None = None) -> None:
    data = bytearray(file.read_bytes())
    pos = len(data) // 2 if pos is None else pos
    data[pos] ^= 0x01
    file.write_bytes(bytes(data))


def _tamper_state(path: Path) -> None:
    _flip_byte(_largest_state_file(path))


def _tamper_model_json(path: Path) -> None:
    file = path / "model.json"
    text = file.read_text(encoding="utf-8")
    pos = text.index('"n_train": ') + len('"n_train": ')
    _flip_byte(file, pos)  # one digit of the training size changes


def _add_file(path: Path) -> None:
    (path / "state" / "extra.pkl").write_bytes(b"not signed")


def _delete_integrity(path: Path) -> None:
    (path / "integrity.json").unlink()


def _delete_identifiers(path: Path) -> None:
    (path / "identifiers.npz").unlink()


def _forge_record(path: Path) -> None:
    """Replace the state and update its digest in the record, without the key."""
    import hashlib

    state = _largest_state_file(path)
    _flip_byte(state)
    record = json.loads((path / "integrity.json").read_text(encoding="utf-8"))
    rel = state.relative_to(path).as_posix()
    record["files"][rel] = hashlib.sha256(state.read_bytes()).hexdigest()
    (path / "integrity.json").write_text(json.dumps(record), encoding="utf-8")


def _replace_schema(path: Path) -> None:
    file = path / "schema.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("kind: integer", "kind: numeric"))


@pytest.mark.parametrize(
    ("tamper", "match"),
    [
        (_tamper_state, "changed or missing: state/"),
        (_tamper_model_json, "changed or missing: model.json"),
        (_replace_schema, "changed or missing: schema.yaml"),
        (_add_file, "unexpected: state/extra.pkl"),
        (_delete_integrity, "no valid integrity record"),
        (_delete_identifiers, "changed or missing: identifiers.npz"),
        (_forge_record, "not signed with this custodian's key"),
    ],
    ids=[
        "state-byte",
        "model-json-byte",
        "schema",
        "extra-file",
        "no-integrity",
        "missing-file",
        "forged-record",
    ],
)
def test_tampered_model_refused(
    fitted: Fitted, tmp_path: Path, no_unpickling: list[str], tamper, match: str
) -> None:
    path = fitted.gen.save(tmp_path / "model")
    tamper(path)
    with pytest.raises(TamperedModelError, match=match):
        sg.load_generator(path)
    assert no_unpickling == []


def test_other_custodian_key_refused(
    fitted: Fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_unpickling: list[str]
) -> None:
    path = fitted.gen.save(tmp_path / "model")
    monkeypatch.setenv("SYNTHGEN_KEY_FILE", str(tmp_path / "other.key"))
    custodian_key()  # another site's key
    with pytest.raises(TamperedModelError, match="not signed with this custodian's key"):
        sg.load_generator(path)
    assert no_unpickling == []


def test_missing_custodian_key_refused(
    fitted: Fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_unpickling: list[str]
) -> None:
    path = fitted.gen.save(tmp_path / "model")
    monkeypatch.setenv("SYNTHGEN_KEY_FILE", str(tmp_path / "absent.key"))
    with pytest.raises(ModelError, match="no custodian key"):
        sg.load_generator(path)
    assert no_unpickling == []
    assert not (tmp_path / "absent.key").exists()  # loading never creates a key


# ------------------------------------------------------------- high cardinality


def test_high_cardinality_categorical_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n, k = 3_000, 1_500
    codes = np.array([f"DX{i:04d}" for i in range(k)], dtype=object)
    df = pd.DataFrame(
        {
            "diag_code": codes[np.r_[np.arange(k), rng.integers(0, k, n - k)]],
            "weight": rng.normal(70, 10, n).round(1),
            "group": rng.choice(["a", "b", "c"], n).astype(object),
        }
    )
    schema = sg.infer_schema(df)
    assert schema["diag_code"].kind == "categorical"
    gen = sg.create_generator("gaussian_copula", **tiny_params("gaussian_copula"))
    gen.fit(df, schema)
    path = gen.save(tmp_path / "model")
    out = sg.load_generator(path).sample(500, seed=1)
    assert out["diag_code"].dtype == object
    assert out["diag_code"].isin(set(codes)).all()
    assert out["diag_code"].nunique() > 50
    shutil.rmtree(path)
