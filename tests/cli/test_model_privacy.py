"""What ``synthgen train`` writes holds no raw direct-identifier values of the cohort."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pandas as pd
from _cli import IDENTIFIER_COLUMNS


def _needles(frame: pd.DataFrame) -> list[bytes]:
    """Real identifier values, as written and in a few other spellings."""
    values: set[str] = set()
    for column in IDENTIFIER_COLUMNS:
        for value in frame[column].dropna().astype(str).iloc[:25]:
            values.add(value)
            values.add(value.replace(" ", ""))
    values.update(frame["clinical_note"].dropna().astype(str).str[:40].iloc[:10])
    out = []
    for value in sorted(values):
        out.append(value.encode("utf-8"))
        out.append(value.encode("utf-32-le"))  # numpy stores '<U' strings as UTF-32
    return out


def _blobs(model: Path) -> dict[str, bytes]:
    """Every file of the model directory, plus the members of its .npz archives."""
    blobs = {}
    for path in model.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        name = path.relative_to(model).as_posix()
        blobs[name] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    blobs[f"{name}:{member}"] = archive.read(member)
        if data[:2] == b"\x1f\x8b":
            blobs[f"{name}:gunzip"] = gzip.decompress(data)
    return blobs


def _found(model: Path, frame: pd.DataFrame) -> list[tuple[str, str]]:
    needles = _needles(frame)
    return [
        (name, needle.decode("utf-8", "replace"))
        for name, data in _blobs(model).items()
        for needle in needles
        if needle in data
    ]


def test_model_dir_holds_no_identifier_values(cli_model, cohort_frame):
    assert (cli_model / "state" / "synthesizer.pkl").is_file()
    assert (cli_model / "identifiers.npz").is_file()
    assert _found(cli_model, cohort_frame) == []


def test_the_search_finds_a_planted_identifier(cli_model, cohort_frame, tmp_path):
    """The search can fail: a real NHS number planted in a copy of the model is found."""
    model = tmp_path / "model"
    shutil.copytree(cli_model, model)
    nhs = str(cohort_frame["nhs_number"].iloc[7])
    pkl = model / "state" / "synthesizer.pkl"
    pkl.write_bytes(pkl.read_bytes() + nhs.replace(" ", "").encode("utf-8"))
    assert ("state/synthesizer.pkl", nhs.replace(" ", "")) in _found(model, cohort_frame)
