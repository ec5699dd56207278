"""Errors raised by synthgen.

Every error a user can cause derives from :class:`SynthgenError` and from the builtin it
resembles, so callers may catch either. Messages name the thing, the rule and what was found,
and never quote cell values of real data.
"""

from __future__ import annotations

from collections.abc import Iterable


class SynthgenError(Exception):
    """Root of every error synthgen raises on purpose."""


class InputError(SynthgenError, ValueError):
    """The input data or an argument is unusable (missing, empty, malformed)."""


class DataFormatError(InputError):
    """A file or table could not be read or written in the expected format."""


class SchemaError(InputError):
    """A schema is malformed or does not match the data.

    Args:
        problems: every problem found; the message lists them all.
        source: what was checked (e.g. a file name), for the message.
    """

    def __init__(self, problems: Iterable[str] | str, *, source: str | None = None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = head + self.problems[0]
        else:
            message = head + f"{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(message)


class ModelError(SynthgenError, RuntimeError):
    """A generator could not be created, fitted, saved, loaded or sampled."""


class UnknownModelError(ModelError, KeyError):
    """No generator is registered under the requested name."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class NotFittedError(ModelError):
    """A generator was used before ``fit``."""


class TamperedModelError(ModelError):
    """A model directory failed its integrity check and was not loaded."""


class ParameterError(InputError):
    """A hyper-parameter or sampling condition could not be parsed or is not accepted."""
