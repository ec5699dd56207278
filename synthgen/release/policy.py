"""Release policies: validated thresholds on the figures of an evaluation report.

A policy is a YAML file (``kind: synthgen.policy``) holding rules such as "the upper
confidence bound of every membership attack's AUC is at most 0.55". Each rule names a
slash-separated path into :meth:`synthgen.EvaluationReport.to_dict`, a comparison and a
threshold; :func:`synthgen.release.gate.gate` checks every rule against a report.

Three built-in profiles ship as package data, from lenient to strict: ``internal``,
``partner`` and ``cross-border``. A policy file may ``extends:`` one of them and override or
add rules by name.

Path syntax (see ``docs/release-policies.md``)::

    privacy/membership_attacks/*/tpr_at_fpr/0.01/ci/1

Segments are separated by ``/`` (so keys with dots, like ``0.01``, need no quoting); ``*``
matches every key of a mapping or every index of a list; a segment of digits indexes a list.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from synthgen.data.atomic import write_text_atomic
from synthgen.errors import InputError

__all__ = [
    "BUILTIN_POLICIES",
    "OPERATORS",
    "POLICY_FORMAT_VERSION",
    "POLICY_KIND",
    "DifferentialPrivacy",
    "Policy",
    "PolicyError",
    "Rule",
    "list_policies",
    "load_policy",
    "parse_path",
    "policy_from_dict",
    "write_policy",
]

POLICY_KIND = "synthgen.policy"
POLICY_FORMAT_VERSION = 1
#: Built-in profiles, from lenient to strict.
BUILTIN_POLICIES: tuple[str, ...] = ("internal", "partner", "cross-border")
#: The comparisons a rule may use.
OPERATORS: tuple[str, ...] = ("<=", "<", ">=", ">", "==")
RARE_CATEGORY_ACTIONS: tuple[str, ...] = ("merge", "suppress")
DEFAULT_SMALL_CELL_K = 10

_TOP_KEYS = (
    "kind",
    "format_version",
    "name",
    "description",
    "extends",
    "small_cell_k",
    "rare_categories",
    "differential_privacy",
    "rules",
)
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


@dataclass(frozen=True)
class Policy:
    """A validated release policy.

    Attributes:
        name: the policy's name (``internal``, ``partner``, ``cross-border`` or your own).
        description: what the policy is for.
        rules: the rules, checked in this order.
        small_cell_k: the output check's small-cell threshold: no figure or table in a
            bundle may rest on fewer than k real records.
        rare_categories: what the output check does with synthetic categories that stand
            for fewer than k real records: ``merge`` them into an "other" level, or
            ``suppress`` (blank) them.
        differential_privacy: the DP requirement, or None when none is set.
        source: where the policy was read from (a built-in's name or a file); not part of
            the policy's content or hash.
    """

    name: str
    description: str
    rules: tuple[Rule, ...]
    small_cell_k: int = DEFAULT_SMALL_CELL_K
    rare_categories: str = "merge"
    differential_privacy: DifferentialPrivacy | None = None
    source: str | None = field(default=None, compare=False)

    @property
    def requires_differential_privacy(self) -> bool:
        """Whether a release needs a DP model."""
        return self.differential_privacy is not None and self.differential_privacy.required

    def rule(self, name: str) -> Rule:
        """The rule called ``name``.

        Raises:
            KeyError: no such rule.
        """
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The policy as plain data; :func:`policy_from_dict` reads it back unchanged."""
        out: dict[str, Any] = {
            "kind": POLICY_KIND,
            "format_version": POLICY_FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "small_cell_k": self.small_cell_k,
            "rare_categories": self.rare_categories,
        }
        if self.differential_privacy is not None:
            out["differential_privacy"] = self.differential_privacy.to_dict()
        out["rules"] = [rule.to_dict() for rule in self.rules]
        return out

    def to_yaml(self) -> str:
        """The policy as a YAML document that :func:`load_policy` reads back unchanged."""
        return yaml.safe_dump(
            self.to_dict(), sort_keys=False, allow_unicode=True, width=96, default_flow_style=False
        )

    @property
    def sha256(self) -> str:
        """SHA-256 of the policy's canonical JSON (sorted keys, no spaces), in hex.

        Recorded in a bundle's manifest: two policies with the same hash apply the same
        rules, whatever file they came from.
        """
        canonical = json.dumps(
            self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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


def policy_from_dict(data: Any, *, source: str | None = None) -> Policy:
    """Validate a policy held as plain data (a parsed YAML document).

    Every problem is collected and reported together. ``extends: NAME`` starts from the
    built-in ``NAME``: rules with the same name replace the built-in's rule where it stood,
    new rules are added at the end, and fields left out are inherited.

    Args:
        data: the policy as a mapping.
        source: what the data came from, for messages and :attr:`Policy.source`.

    Returns:
        The validated policy.

    Raises:
        PolicyError: listing every problem found.
    """
    if not isinstance(data, Mapping):
        raise PolicyError(
            f"a policy must be a mapping of keys to values, found {type(data).__name__}",
            source=source,
        )
    problems: list[str] = []
    _check_keys(data, _TOP_KEYS, "the policy", problems)
    kind = data.get("kind")
    if kind != POLICY_KIND:
        problems.append(f"'kind' must be {POLICY_KIND!r}, found {kind!r}")
    version = data.get("format_version")
    if version != POLICY_FORMAT_VERSION or isinstance(version, bool):
        problems.append(
            f"'format_version' must be {POLICY_FORMAT_VERSION} (the version this synthgen "
            f"reads), found {version!r}"
        )

    parent: Policy | None = None
    extends = data.get("extends")
    if extends is not None:
        if extends not in BUILTIN_POLICIES:
            problems.append(
                f"'extends' must name a built-in policy ({', '.join(BUILTIN_POLICIES)}), "
                f"found {extends!r}"
            )
        else:
            parent = _load_builtin(extends)

    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        problems.append(
            f"'name' must be a word of letters, digits, '_', '.' or '-', found {name!r}"
        )
    description = data.get("description", parent.description if parent else "")
    if not isinstance(description, str):
        problems.append(f"'description' must be text, found {type(description).__name__}")
        description = ""

    k = data.get("small_cell_k", parent.small_cell_k if parent else DEFAULT_SMALL_CELL_K)
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        problems.append(f"'small_cell_k' must be a whole number of at least 2, found {k!r}")
    rare = data.get("rare_categories", parent.rare_categories if parent else "merge")
    if rare not in RARE_CATEGORY_ACTIONS:
        problems.append(
            f"'rare_categories' must be one of {', '.join(RARE_CATEGORY_ACTIONS)}, found {rare!r}"
        )
    if "differential_privacy" in data:
        dp = _parse_dp(data.get("differential_privacy"), problems)
    else:
        dp = parent.differential_privacy if parent else None

    raw_rules = data.get("rules", [] if parent else None)
    rules: list[Rule] = []
    if raw_rules is None:
        problems.append("'rules' is missing: a policy needs at least one rule")
    elif not isinstance(raw_rules, list):
        problems.append(f"'rules' must be a list, found {type(raw_rules).__name__}")
    else:
        for index, raw in enumerate(raw_rules):
            rule = _parse_rule(raw, index, problems)
            if rule is not None:
                rules.append(rule)
        names = [r.get("name") for r in raw_rules if isinstance(r, Mapping)]
        dupes = sorted({str(n) for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"rule names must be unique; repeated: {', '.join(dupes)}")
        if parent is None and not raw_rules:
            problems.append("'rules' is empty: a policy needs at least one rule")

    if problems:
        raise PolicyError(problems, source=source)

    if parent is not None:
        own = {rule.name: rule for rule in rules}
        merged = [own.pop(rule.name, rule) for rule in parent.rules]
        rules = merged + [rule for rule in rules if rule.name in own]
    return Policy(
        name=name,
        description=description.strip(),
        rules=tuple(rules),
        small_cell_k=k,
        rare_categories=rare,
        differential_privacy=dp,
        source=source,
    )


# --------------------------------------------------------------------------- loading


def _parse_yaml(text: str, source: str) -> Policy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise PolicyError(f"is not valid YAML{where}: {problem}", source=source) from None
    return policy_from_dict(data, source=source)


def _load_builtin(name: str) -> Policy:
    resource = resources.files("synthgen.release").joinpath("profiles", f"{name}.yaml")
    return _parse_yaml(resource.read_text(encoding="utf-8"), name)


def load_policy(name_or_path: str | Path) -> Policy:
    """Load a built-in policy by name, or a policy file.

    Args:
        name_or_path: ``internal``, ``partner``, ``cross-border``, or the path of a YAML
            policy file.

    Returns:
        The validated policy.

    Raises:
        PolicyError: the name is neither a built-in nor an existing file (the message lists
            the built-ins), or the file is not a valid policy (every problem listed).
    """
    if isinstance(name_or_path, str) and name_or_path in BUILTIN_POLICIES:
        return _load_builtin(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        raise PolicyError(
            f"no built-in policy and no file is called {str(name_or_path)!r}; the built-ins "
            f"are {', '.join(BUILTIN_POLICIES)} (from lenient to strict)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"could not be read: {exc}", source=str(path)) from None
    return _parse_yaml(text, str(path))


def list_policies() -> list[Policy]:
    """The built-in policies, from lenient (``internal``) to strict (``cross-border``)."""
    return [_load_builtin(name) for name in BUILTIN_POLICIES]


def write_policy(policy: Policy, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a policy as YAML, atomically.

    Args:
        policy: the policy.
        path: the destination file.
        overwrite: replace an existing file (refused otherwise).

    Returns:
        The path written.
    """
    return write_text_atomic(path, policy.to_yaml(), overwrite=overwrite)
