"""The release gate: check every rule of a policy against an evaluation report.

:func:`gate` is pure: the same report and policy give the same :class:`Verdict`. Every rule
is checked, each wildcard match separately, and all failures are reported together; the
cohort is released only when no check fails.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from synthgen.errors import InputError
from synthgen.release.policy import Policy, Rule, parse_path

__all__ = ["Check", "Verdict", "find_values", "gate"]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "==": operator.eq,
}
DP_RULE = "differential_privacy"
_REPORT_KIND = "synthgen.evaluation"


@dataclass(frozen=True)
class Check:
    """The outcome of one rule on one figure of the report.

    Attributes:
        rule: the rule's name (``differential_privacy`` for the DP check).
        target: what the rule's wildcards matched, joined by ``/`` (e.g. ``distance``), or
            None for a rule without wildcards.
        path: the concrete path checked (wildcards replaced), or the rule's path when
            nothing matched.
        value: the figure found, or None when there was none.
        op: the comparison.
        threshold: the threshold.
        passed: False only when this check blocks the release.
        reason: in words, why it passed or failed.
        applicable: False when the figure is absent from the report (or the rule's ``when``
            is not true) and the rule is not required; such a check passes.
    """

    rule: str
    target: str | None
    path: str
    value: Any
    op: str
    threshold: Any
    passed: bool
    reason: str
    applicable: bool = True

    @property
    def status(self) -> str:
        """``passed``, ``failed`` or ``not applicable``."""
        if not self.applicable:
            return "not applicable"
        return "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "rule": self.rule,
            "target": self.target,
            "path": self.path,
            "value": self.value,
            "op": self.op,
            "threshold": self.threshold,
            "passed": self.passed,
            "applicable": self.applicable,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Verdict:
    """Every check of a policy on a report, and whether the cohort may be released.

    Attributes:
        policy_name: the policy's name.
        policy_sha256: the policy's hash (:attr:`Policy.sha256`).
        checks: every check, in the policy's rule order (the DP check last).
        released: True when no check failed.
    """

    policy_name: str
    policy_sha256: str
    checks: tuple[Check, ...]
    released: bool

    @property
    def failures(self) -> tuple[Check, ...]:
        """The checks that block the release."""
        return tuple(c for c in self.checks if not c.passed)

    @property
    def not_applicable(self) -> tuple[Check, ...]:
        """The checks whose figure was absent and whose rule is not required."""
        return tuple(c for c in self.checks if not c.applicable)

    def summary(self) -> str:
        """One line: released or blocked, and how many checks failed."""
        counted = [c for c in self.checks if c.applicable]
        if self.released:
            return (
                f"released under policy {self.policy_name!r}: all {len(counted)} applicable "
                f"checks passed"
            )
        rules = sorted({c.rule for c in self.failures})
        return (
            f"blocked by policy {self.policy_name!r}: {len(self.failures)} of "
            f"{len(counted)} checks failed ({', '.join(rules)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "policy": {"name": self.policy_name, "sha256": self.policy_sha256},
            "released": self.released,
            "n_checks": len(self.checks),
            "n_failed": len(self.failures),
            "n_not_applicable": len(self.not_applicable),
            "failures": [
                c.rule if c.target is None else f"{c.rule}[{c.target}]" for c in self.failures
            ],
            "checks": [c.to_dict() for c in self.checks],
        }


def find_values(report: Any, path: str) -> list[tuple[tuple[str, ...], str, Any]]:
    """Every figure a rule path matches in a report.

    Args:
        report: the report as plain data (nested dicts and lists).
        path: a rule path; ``*`` matches every key of a dict or index of a list, a segment
            of digits indexes a list.

    Returns:
        ``(wildcard keys, concrete path, value)`` for each match, in the report's order;
        empty when the path leads nowhere.
    """
    matches: list[tuple[tuple[str, ...], tuple[str, ...], Any]] = [((), (), report)]
    for segment in parse_path(path):
        found: list[tuple[tuple[str, ...], tuple[str, ...], Any]] = []
        for keys, trail, node in matches:
            if segment == "*":
                if isinstance(node, Mapping):
                    items = [(str(k), v) for k, v in node.items()]
                elif isinstance(node, list):
                    items = [(str(i), v) for i, v in enumerate(node)]
                else:
                    items = []
                found.extend((keys + (k,), trail + (k,), v) for k, v in items)
            elif isinstance(node, Mapping):
                if segment in node:
                    found.append((keys, trail + (segment,), node[segment]))
            elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                found.append((keys, trail + (segment,), node[int(segment)]))
        matches = found
    return [(keys, "/".join(trail), value) for keys, trail, value in matches]


def _bind(path: str, keys: tuple[str, ...]) -> str:
    """Replace the ``*`` of ``path``, in order, by the keys a rule's wildcards matched."""
    segments = list(parse_path(path))
    it = iter(keys)
    return "/".join(next(it) if s == "*" else s for s in segments)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def _check_value(rule: Rule, target: str | None, path: str, value: Any) -> Check:
    # A figure dict (value, direction, ci, ...) stands for its value.
    if isinstance(value, Mapping) and "value" in value:
        value = value["value"]
        path = f"{path}/value"

    def make(passed: bool, reason: str, applicable: bool = True, shown: Any = value) -> Check:
        return Check(
            rule=rule.name,
            target=target,
            path=path,
            value=shown,
            op=rule.op,
            threshold=rule.threshold,
            passed=passed,
            reason=reason,
            applicable=applicable,
        )

    if value is None:
        if rule.required:
            return make(False, "not in the report (the figure was not computed)", shown=None)
        return make(True, "not applicable: the figure was not computed", False, None)
    if isinstance(rule.threshold, bool):
        if not isinstance(value, bool):
            return make(
                False,
                f"expected true/false, found {type(value).__name__}",
                shown=value if isinstance(value, (int, float, str)) else None,
            )
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        return make(
            False,
            f"expected a number, found {type(value).__name__}",
            shown=value if isinstance(value, (bool, str)) else None,
        )
    elif not math.isfinite(value):
        return make(False, f"expected a finite number, found {value}", shown=None)
    ok = _COMPARE[rule.op](value, rule.threshold)
    verb = "is" if ok else "is not"
    return make(ok, f"{_fmt(value)} {verb} {rule.op} {_fmt(rule.threshold)}")


def _check_rule(report: Mapping[str, Any], rule: Rule) -> list[Check]:
    matches = find_values(report, rule.path)
    if not matches:
        if rule.required:
            reason = "not in the report"
            passed, applicable = False, True
        else:
            reason = "not applicable: not in the report"
            passed, applicable = True, False
        return [
            Check(
                rule=rule.name,
                target=None,
                path=rule.path,
                value=None,
                op=rule.op,
                threshold=rule.threshold,
                passed=passed,
                reason=reason,
                applicable=applicable,
            )
        ]
    checks = []
    for keys, path, value in matches:
        target = "/".join(keys) if keys else None
        if rule.when is not None:
            condition = _bind(rule.when, keys)
            found = find_values(report, condition)
            flag = found[0][2] if len(found) == 1 else None
            if flag is not True:
                shown = "absent" if not found else _fmt(flag)
                checks.append(
                    Check(
                        rule=rule.name,
                        target=target,
                        path=path,
                        value=None,
                        op=rule.op,
                        threshold=rule.threshold,
                        passed=True,
                        applicable=False,
                        reason=f"not applicable: {condition} is {shown}",
                    )
                )
                continue
        checks.append(_check_value(rule, target, path, value))
    return checks


def _check_dp(policy: Policy, privacy_budget: Mapping[str, Any] | None) -> Check:
    dp = policy.differential_privacy
    assert dp is not None and dp.max_epsilon is not None

    def make(passed: bool, reason: str, value: Any = None) -> Check:
        return Check(
            rule=DP_RULE,
            target=None,
            path="privacy_budget/epsilon",
            value=value,
            op="<=",
            threshold=dp.max_epsilon,
            passed=passed,
            reason=reason,
        )

    if not privacy_budget:
        return make(False, "the model is not differentially private (no privacy budget given)")
    epsilon = privacy_budget.get("epsilon")
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, (int, float))
        or not (math.isfinite(epsilon) and epsilon > 0)
    ):
        return make(False, f"the model is not differentially private (epsilon is {epsilon!r})")
    if epsilon > dp.max_epsilon:
        return make(
            False, f"epsilon {_fmt(float(epsilon))} is not <= {_fmt(dp.max_epsilon)}", epsilon
        )
    if dp.max_delta is not None:
        delta = privacy_budget.get("delta")
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta > dp.max_delta:
            return make(False, f"delta {delta!r} is not <= {_fmt(dp.max_delta)}", epsilon)
    return make(True, f"epsilon {_fmt(float(epsilon))} is <= {_fmt(dp.max_epsilon)}", epsilon)


def gate(
    *,
    report: Mapping[str, Any],
    policy: Policy,
    privacy_budget: Mapping[str, Any] | None = None,
) -> Verdict:
    """Check every rule of a policy against an evaluation report.

    Args:
        report: ``EvaluationReport.to_dict()`` (an :class:`~synthgen.EvaluationReport` is
            accepted too).
        policy: the release policy.
        privacy_budget: the model's differential-privacy budget (``{"epsilon": ...,
            "delta": ...}``), or None for a model that is not differentially private.

    Returns:
        The verdict: every check, and ``released`` True when none failed.

    Raises:
        InputError: the report is not an evaluation report.
    """
    if hasattr(report, "to_dict") and not isinstance(report, Mapping):
        report = report.to_dict()
    if not isinstance(report, Mapping):
        raise InputError(
            f"The gate needs an evaluation report as a dict, found {type(report).__name__}."
        )
    kind = report.get("kind", _REPORT_KIND)
    if kind != _REPORT_KIND:
        raise InputError(
            f"The gate needs an evaluation report (kind {_REPORT_KIND!r}), found kind {kind!r}."
        )
    if not isinstance(policy, Policy):
        raise InputError(f"The gate needs a Policy, found {type(policy).__name__}.")
    if privacy_budget is not None and not isinstance(privacy_budget, Mapping):
        raise InputError(
            "privacy_budget must be a dict with 'epsilon' (and 'delta'), found "
            f"{type(privacy_budget).__name__}."
        )
    checks: list[Check] = []
    for rule in policy.rules:
        checks.extend(_check_rule(report, rule))
    if policy.requires_differential_privacy:
        checks.append(_check_dp(policy, privacy_budget))
    return Verdict(
        policy_name=policy.name,
        policy_sha256=policy.sha256,
        checks=tuple(checks),
        released=all(c.passed for c in checks),
    )
