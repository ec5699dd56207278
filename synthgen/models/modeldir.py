"""The model directory: everything a fitted generator needs, signed, never leaving the site.

Layout::

    MODEL_DIR/
      model.json        kind, format version, generator, parameters, columns, dtypes,
                        provenance (versions, seed, salted data fingerprint), split record
      schema.yaml       the reviewed schema the model was trained with
      identifiers.npz   salted digests of real identifier values (to keep fakes distinct)
      holdout_rows.npy  row positions of the held-out records in the source (when trained
                        through ``synthgen train``)
      state/            model internals (JSON, arrays, or a pickled SDV synthesizer)
      integrity.json    SHA-256 of every file, signed with HMAC-SHA256 under the custodian key

Nothing is unpickled before the whole directory passes :func:`verify_directory`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synthgen.data.atomic import atomic_dir
from synthgen.data.schema import Schema
from synthgen.errors import InputError, ModelError, SchemaError
from synthgen.models.identifiers import identifiers_from_arrays, identifiers_to_arrays
from synthgen.models.integrity import sign_directory, verify_directory
from synthgen.models.keys import custodian_key
from synthgen.models.registry import generator_class

if TYPE_CHECKING:
    from synthgen.models.base import Generator

MODEL_KIND = "synthgen.model"
FORMAT_VERSION = 1


def software_versions() -> dict[str, str]:
    """Versions of synthgen and the libraries that shape its output."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in (
        "synthgen",
        "sdv",
        "sdmetrics",
        "torch",
        "pandas",
        "numpy",
        "scipy",
        "rdt",
        "copulas",
        "ctgan",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def save_model(
    gen: Generator,
    path: Path,
    *,
    overwrite: bool = False,
    provenance: dict[str, Any] | None = None,
    split: dict[str, Any] | None = None,
    holdout_rows: np.ndarray | None = None,
) -> Path:
    """Write ``gen`` as a signed model directory at ``path`` (atomically)."""
    from synthgen.models.base import check_is_fitted

    check_is_fitted(gen)
    key = custodian_key()
    with atomic_dir(path, overwrite=overwrite) as tmp:
        state_dir = tmp / "state"
        state_dir.mkdir()
        model_state = gen._save_state(state_dir)
        meta, arrays = identifiers_to_arrays(gen.identifiers_)
        np.savez(tmp / "identifiers.npz", **arrays)
        if holdout_rows is not None:
            np.save(tmp / "holdout_rows.npy", np.asarray(holdout_rows, dtype=np.int64))
        doc = {
            "kind": MODEL_KIND,
            "format_version": FORMAT_VERSION,
            **gen.state_dict(),
            "identifiers": meta,
            "model_state": model_state,
            "provenance": {"software": software_versions(), **(provenance or {})},
            "split": split,
        }
        (tmp / "model.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
        gen.schema_.save(tmp / "schema.yaml")
        sign_directory(tmp, key)
    return path


def read_model_json(path: Path) -> dict[str, Any]:
    """The verified ``model.json`` of a model directory."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"model directory '{path}' does not exist")
    verify_directory(path, custodian_key(create=False))
    try:
        doc = json.loads((path / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ModelError(f"'{path}/model.json' is unreadable") from None
    if doc.get("kind") != MODEL_KIND:
        raise ModelError(f"'{path}' is not a synthgen model directory")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"'{path}' has model format version {doc.get('format_version')}; this synthgen "
            f"reads version {FORMAT_VERSION}"
        )
    return doc


def load_model(path: Path) -> Generator:
    """Load a generator from a model directory after checking its signature."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"model directory '{path}' does not exist")
    try:
        custodian_key(create=False)
    except InputError:
        raise ModelError(
            f"cannot check '{path}': no custodian key on this machine (models made elsewhere "
            "are refused)"
        ) from None
    doc = read_model_json(path)
    cls = generator_class(doc["generator"])
    gen = cls(**doc["params"])
    try:
        gen.schema_ = Schema.load(path / "schema.yaml")
    except SchemaError as exc:
        raise ModelError(f"'{path}/schema.yaml' is invalid: {exc}") from None
    gen.columns_ = list(doc["columns"])
    gen.dtypes_ = dict(doc["dtypes"])
    gen.n_train_ = int(doc["n_train"])
    gen.privacy_budget_ = doc.get("privacy_budget")
    with np.load(path / "identifiers.npz", allow_pickle=False) as arrays:
        gen.identifiers_ = identifiers_from_arrays(doc["identifiers"], arrays)
    gen._load_state(path / "state", doc.get("model_state") or {})
    gen.fitted_ = True
    return gen


def load_holdout_rows(path: Path) -> np.ndarray | None:
    """The recorded holdout row positions of a model directory, if any (after verification)."""
    read_model_json(path)
    file = Path(path) / "holdout_rows.npy"
    return np.load(file, allow_pickle=False) if file.exists() else None
