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
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from synthgen.data.atomic import write_text_atomic
from synthgen.release._policy_parse import _NAME_RE, _check_keys, _parse_dp, _parse_rule
from synthgen.release._policy_parse import OPERATORS as OPERATORS
from synthgen.release._policy_parse import DifferentialPrivacy as DifferentialPrivacy
from synthgen.release._policy_parse import PolicyError as PolicyError
from synthgen.release._policy_parse import Rule as Rule
from synthgen.release._policy_parse import parse_path as parse_path

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
