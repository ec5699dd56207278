"""The building blocks of a release policy and their validation.

Rules, the differential-privacy requirement, the rule-path syntax and the error they raise,
with the helpers that check one rule or one ``differential_privacy`` mapping of a parsed
policy document and collect every problem found. :mod:`synthgen.release.policy` assembles
whole policies from them and re-exports the public names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from synthgen.errors import InputError

#: The comparisons a rule may use.
OPERATORS: tuple[str, ...] = ("<=", "<", ">=", ">", "==")

_RULE_KEYS = ("name", "path", "op", "threshold", "description", "required", "when")
_DP_KEYS = ("required", "max_epsilon", "max_delta")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SEGMENT_RE = re.compile(r"^[^*\s/]+$|^\*$")


class PolicyError(InputError):
    """A policy is malformed, or no policy goes by the requested name.

    Args:
        problems: every problem found; the message lists them all.
        source: what was checked (a file name or a built-in's name), for the message.
    """

    def __init__(self, problems: Iterable[str] | str, *, source: str | None = None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.source = source
        head = f"Policy {source}: " if source else "Policy: "
        if len(self.problems) == 1:
            message = head + self.problems[0]
        else:
            message = head + f"{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(message)


def parse_path(path: str) -> tuple[str, ...]:
    """Split a rule path into its segments and check its syntax.

    Args:
        path: a slash-separated path such as ``privacy/copies/exact_copies/value``.

    Returns:
        The segments, ``"*"`` standing for a wildcard.

    Raises:
        PolicyError: the path is empty, has an empty segment (``a//b``, a leading or trailing
            slash), or a segment that mixes ``*`` with other characters or holds whitespace.
    """
    if not isinstance(path, str) or not path.strip():
        raise PolicyError(f"path must be a non-empty string, found {path!r}")
    segments = path.split("/")
    bad = [s for s in segments if not _SEGMENT_RE.match(s)]
    if bad:
        shown = ", ".join(repr(s) for s in bad)
        raise PolicyError(
            f"path {path!r} has bad segments ({shown}): segments are separated by one '/', "
            "hold no whitespace, and '*' must stand alone"
        )
    return tuple(segments)


@dataclass(frozen=True)
class Rule:
    """One threshold on one figure (or, with wildcards, on several) of the report.

    Attributes:
        name: unique within the policy; extending policies override rules by name.
        path: slash-separated path into the report dict; ``*`` matches every key or index.
        op: one of ``<=``, ``<``, ``>=``, ``>``, ``==``; the check passes when
            ``value op threshold``.
        threshold: a number (stored as float), or a bool for ``==``.
        description: why the rule and its threshold, in words a reviewer reads.
        required: when the path matches nothing, a required rule fails ("not in the
            report"); otherwise it is listed as not applicable.
        when: optional path to a boolean in the report that says whether the rule applies;
            its ``*`` take, in order, the keys the path's wildcards matched. Where it is not
            true the check is not applicable.
    """

    name: str
    path: str
    op: str
    threshold: float | bool
    description: str = ""
    required: bool = True
    when: str | None = None

    @property
    def segments(self) -> tuple[str, ...]:
        """The path split into segments."""
        return parse_path(self.path)

    def to_dict(self) -> dict[str, Any]:
        """The rule as plain data, in the order a policy file lists it."""
        out: dict[str, Any] = {
            "name": self.name,
            "path": self.path,
            "op": self.op,
            "threshold": self.threshold,
            "required": self.required,
        }
        if self.when is not None:
            out["when"] = self.when
        out["description"] = self.description
        return out


@dataclass(frozen=True)
class DifferentialPrivacy:
    """Whether a release needs a differentially private model, and the largest budget.

    Attributes:
        required: a release needs a privacy budget (epsilon, delta) from a DP generator.
        max_epsilon: the largest epsilon accepted.
        max_delta: the largest delta accepted, or None for no bound on delta.
    """

    required: bool = False
    max_epsilon: float | None = None
    max_delta: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        out: dict[str, Any] = {"required": self.required}
        if self.max_epsilon is not None:
            out["max_epsilon"] = self.max_epsilon
        if self.max_delta is not None:
            out["max_delta"] = self.max_delta
        return out


# --------------------------------------------------------------------------- validation


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(
    data: Mapping[str, Any], allowed: tuple[str, ...], where: str, problems: list[str]
) -> None:
    unknown = [str(k) for k in data if k not in allowed]
    if unknown:
        problems.append(
            f"{where} has unknown keys {', '.join(repr(k) for k in sorted(unknown))} "
            f"(allowed: {', '.join(allowed)})"
        )


def _parse_rule(raw: Any, index: int, problems: list[str]) -> Rule | None:
    if not isinstance(raw, Mapping):
        problems.append(f"rules[{index}] must be a mapping, found {type(raw).__name__}")
        return None
    name = raw.get("name")
    where = f"rule {name!r}" if isinstance(name, str) and name else f"rules[{index}]"
    start = len(problems)
    _check_keys(raw, _RULE_KEYS, where, problems)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append(
            f"{where}: 'name' must be a word of letters, digits, '_', '.' or '-', found {name!r}"
        )
    path = raw.get("path")
    wildcards = 0
    if path is None:
        problems.append(f"{where}: 'path' is missing")
    else:
        try:
            wildcards = parse_path(path).count("*")
        except PolicyError as exc:
            problems.extend(f"{where}: {p}" for p in exc.problems)
    op = raw.get("op")
    if op not in OPERATORS:
        problems.append(f"{where}: 'op' must be one of {', '.join(OPERATORS)}, found {op!r}")
    threshold = raw.get("threshold")
    if "threshold" not in raw:
        problems.append(f"{where}: 'threshold' is missing")
    elif isinstance(threshold, bool):
        if op in OPERATORS and op != "==":
            problems.append(f"{where}: a true/false threshold needs op '==', found {op!r}")
    elif not _is_number(threshold) or not math.isfinite(threshold):
        problems.append(f"{where}: 'threshold' must be a finite number, found {threshold!r}")
    description = raw.get("description", "")
    if not isinstance(description, str):
        problems.append(f"{where}: 'description' must be text, found {type(description).__name__}")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        problems.append(f"{where}: 'required' must be true or false, found {required!r}")
    when = raw.get("when")
    if when is not None:
        try:
            when_wildcards = parse_path(when).count("*")
        except PolicyError as exc:
            problems.extend(f"{where}: 'when' {p}" for p in exc.problems)
        else:
            if when_wildcards > wildcards:
                problems.append(
                    f"{where}: 'when' {when!r} has {when_wildcards} '*' but the path has only "
                    f"{wildcards}; each '*' in 'when' takes the key its path's '*' matched"
                )
    if len(problems) > start:
        return None
    if not isinstance(threshold, bool):
        threshold = float(threshold)
    return Rule(
        name=name,
        path=path,
        op=op,
        threshold=threshold,
        description=description.strip(),
        required=required,
        when=when,
    )


def _parse_dp(raw: Any, problems: list[str]) -> DifferentialPrivacy | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"'differential_privacy' must be a mapping, found {type(raw).__name__}")
        return None
    start = len(problems)
    _check_keys(raw, _DP_KEYS, "'differential_privacy'", problems)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(f"differential_privacy.required must be true or false, found {required!r}")
    bounds: dict[str, float | None] = {}
    for key in ("max_epsilon", "max_delta"):
        value = raw.get(key)
        if value is not None and (not _is_number(value) or not math.isfinite(value) or value <= 0):
            problems.append(
                f"differential_privacy.{key} must be a positive number, found {value!r}"
            )
            value = None
        bounds[key] = None if value is None else float(value)
    if required is True and bounds["max_epsilon"] is None and "max_epsilon" not in raw:
        problems.append("differential_privacy.max_epsilon is needed when required is true")
    if len(problems) > start:
        return None
    return DifferentialPrivacy(
        required=required, max_epsilon=bounds["max_epsilon"], max_delta=bounds["max_delta"]
    )
