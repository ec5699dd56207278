"""The explicit registry of generators: a dict from name to class, filled in one place."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from synthgen.errors import ParameterError, UnknownModelError

if TYPE_CHECKING:
    from synthgen.models.base import Generator

_REGISTRY: dict[str, type[Generator]] = {}


def register_generator(name: str, cls: type[Generator]) -> None:
    """Make ``cls`` available under ``name`` (e.g. to third-party generators)."""
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"a generator named '{name}' is already registered")
    _REGISTRY[name] = cls


def generator_class(name: str) -> type[Generator]:
    """The class registered under ``name``; an unknown name lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownModelError(f"unknown model '{name}'; known models: {known}") from None


def list_generators() -> dict[str, str]:
    """Registered names with their one-line summaries, sorted by name."""
    return {name: _REGISTRY[name].summary for name in sorted(_REGISTRY)}


def accepted_params(cls: type[Generator]) -> dict[str, Any]:
    """Keyword parameters of a generator class with their defaults."""
    sig = inspect.signature(cls.__init__)
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def create_generator(name: str, **params: Any) -> Generator:
    """A new, unfitted generator.

    Args:
        name: a registered name (see :func:`list_generators`).
        **params: hyper-parameters, e.g. ``epochs=50``.

    Raises:
        UnknownModelError: no generator has that name.
        ParameterError: a parameter is not accepted by that generator.
    """
    cls = generator_class(name)
    known = accepted_params(cls)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ParameterError(
            f"model '{name}' does not accept parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(known))}"
        )
    return cls(**params)
