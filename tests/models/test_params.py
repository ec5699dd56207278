"""Hyper-parameters: parsing NAME=VALUE items and YAML files, the registry, validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import synthgen as sg
from synthgen.errors import ModelError, ParameterError, UnknownModelError
from synthgen.models import CTGAN, GaussianCopula
from synthgen.models.params import load_params, parse_param
from synthgen.models.registry import accepted_params, generator_class

# ------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("epochs=50", ("epochs", 50)),
        (" epochs = 50 ", ("epochs", 50)),
        ("generator_dim=[64,64]", ("generator_dim", [64, 64])),
        ("default_distribution=norm", ("default_distribution", "norm")),
        ("enforce_rounding=false", ("enforce_rounding", False)),
        ("learning_rate=0.0002", ("learning_rate", 0.0002)),
        ("name=a=b", ("name", "a=b")),
    ],
)
def test_parse_param(text: str, expected: tuple[str, Any]) -> None:
    name, value = parse_param(text)
    assert (name, value) == expected
    assert type(value) is type(expected[1])


def test_parse_param_reads_exponent_floats() -> None:
    assert parse_param("learning_rate=2e-4") == ("learning_rate", 0.0002)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("epochs", "NAME=VALUE"),
        ("=3", "NAME=VALUE"),
        ("2epochs=3", "NAME=VALUE"),
        ("my-param=3", "NAME=VALUE"),
        ("epochs=", "has no value"),
        ("epochs=  ", "has no value"),
        ("epochs=null", "has no value"),
        ("generator_dim=[64,", "not readable"),
    ],
)
def test_parse_param_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment):
        parse_param(text)


def test_load_params_file_then_items_win(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("epochs: 100\nbatch_size: 200\ngenerator_dim: [128, 128]\n", encoding="utf-8")
    params = load_params(path, ["epochs=7", "pac=4"])
    assert params == {"epochs": 7, "batch_size": 200, "generator_dim": [128, 128], "pac": 4}
    assert load_params(path) == {"epochs": 100, "batch_size": 200, "generator_dim": [128, 128]}
    assert load_params(None, ["epochs=3"]) == {"epochs": 3}
    assert load_params() == {}


def test_load_params_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_params(path, ["seed=4"]) == {"seed": 4}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("epochs: [1, 2\n", "not valid YAML"),
        ("- epochs\n- 3\n", "must be a mapping"),
        ("1: 2\n", "must be a mapping"),
    ],
)
def test_load_params_rejects_bad_files(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ParameterError, match=fragment):
        load_params(path)


def test_load_params_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="does not exist"):
        load_params(tmp_path / "nope.yaml")


def test_load_params_bad_item_after_file(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("epochs: 3\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="'batch_size' has no value"):
        load_params(path, ["batch_size="])


# ------------------------------------------------------------------- registry


def test_create_generator_passes_params() -> None:
    gen = sg.create_generator("ctgan", **load_params(None, ["epochs=50", "generator_dim=[64,64]"]))
    assert isinstance(gen, CTGAN)
    assert gen.epochs == 50
    assert gen.generator_dim == [64, 64]
    assert gen.get_params()["epochs"] == 50
    assert "epochs=50" in repr(gen)


def test_unknown_param_lists_accepted_ones() -> None:
    with pytest.raises(ParameterError) as info:
        sg.create_generator("gaussian_copula", epochs=5, colour="red")
    message = str(info.value)
    assert "does not accept parameter(s) colour, epochs" in message
    for name in accepted_params(GaussianCopula):
        assert name in message.split("accepted:")[1]


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(UnknownModelError) as info:
        sg.create_generator("gpt_tabular")
    message = str(info.value)
    assert message.startswith("unknown model 'gpt_tabular'")
    for name in sg.list_generators():
        assert name in message
    assert isinstance(info.value, KeyError) and isinstance(info.value, ModelError)
    assert not message.startswith('"')  # not quoted like a plain KeyError


def test_register_generator_refuses_a_clash() -> None:
    with pytest.raises(ValueError, match="already registered"):
        sg.register_generator("gaussian_copula", CTGAN)
    assert generator_class("gaussian_copula") is GaussianCopula
    sg.register_generator("gaussian_copula", GaussianCopula)  # same class: a no-op


def test_constructor_only_stores() -> None:
    gen = sg.create_generator("ctgan", epochs=0, batch_size=-1, pac=7)  # no validation yet
    assert (gen.epochs, gen.batch_size, gen.pac) == (0, -1, 7)


# -------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def tiny_frame(demo_split: sg.Split, demo_schema: sg.Schema) -> tuple[pd.DataFrame, sg.Schema]:
    cols = ["age", "sex", "bmi", "diabetes"]
    return demo_split.train[cols].iloc[:100], sg.Schema(tuple(demo_schema[c] for c in cols))


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("ctgan", {"epochs": 0}, "epochs must be a positive integer, got 0"),
        ("ctgan", {"epochs": 2.5}, "epochs must be a positive integer"),
        ("ctgan", {"epochs": True}, "epochs must be a positive integer"),
        (
            "ctgan",
            {"batch_size": 50, "pac": 3},
            r"batch_size \(50\) must be a multiple of pac \(3\)",
        ),
        ("ctgan", {"generator_dim": [64, -1]}, "generator_dim must be a list of positive"),
        ("tvae", {"compress_dims": "big"}, "compress_dims must be a list"),
        ("tvae", {"batch_size": -5}, "batch_size must be a positive integer"),
        ("gaussian_copula", {"seed": "x"}, "seed must be an integer"),
        ("gaussian_copula", {"enforce_rounding": "yes"}, "enforce_rounding must be true or false"),
        ("gaussian_copula", {"default_distribution": "cauchy"}, "default_distribution 'cauchy'"),
        ("copula_gan", {"default_distribution": "cauchy", "epochs": -1}, "epochs.*; default_dist"),
    ],
)
def test_invalid_values_refused_at_fit(tiny_frame, name: str, params: dict, fragment: str) -> None:
    train, schema = tiny_frame
    gen = sg.create_generator(name, **params)
    with pytest.raises(ParameterError, match=fragment) as info:
        gen.fit(train, schema)
    assert str(info.value).startswith(f"model '{name}': ")
    assert not getattr(gen, "fitted_", False)


@pytest.mark.parametrize("params", [{"pac": 0}, {"batch_size": "big"}])
def test_non_numeric_or_zero_pac_is_a_parameter_error(tiny_frame, params: dict) -> None:
    train, schema = tiny_frame
    with pytest.raises(ParameterError):
        sg.create_generator("ctgan", **params).fit(train, schema)
