"""Tests for release policies: validation, YAML round trip, built-ins, extends."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from synthgen.errors import InputError
from synthgen.release.policy import (
    BUILTIN_POLICIES,
    Policy,
    PolicyError,
    list_policies,
    load_policy,
    parse_path,
    policy_from_dict,
    write_policy,
)


def _minimal(**extra) -> dict:
    data = {
        "kind": "synthgen.policy",
        "format_version": 1,
        "name": "mine",
        "description": "a test policy",
        "rules": [
            {
                "name": "copies",
                "path": "privacy/copies/exact_copies/value",
                "op": "<=",
                "threshold": 0,
            }
        ],
    }
    data.update(extra)
    return data


def test_minimal_policy_defaults() -> None:
    policy = policy_from_dict(_minimal())
    assert policy.name == "mine"
    assert policy.small_cell_k == 10
    assert policy.rare_categories == "merge"
    assert policy.differential_privacy is None
    rule = policy.rule("copies")
    assert rule.required is True
    assert rule.threshold == 0.0 and isinstance(rule.threshold, float)
    assert rule.segments == ("privacy", "copies", "exact_copies", "value")


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        (
            "privacy/membership_attacks/*/tpr_at_fpr/0.01/ci/1",
            ("privacy", "membership_attacks", "*", "tpr_at_fpr", "0.01", "ci", "1"),
        ),
        ("a", ("a",)),
    ],
)
def test_parse_path(path: str, segments: tuple[str, ...]) -> None:
    assert parse_path(path) == segments


@pytest.mark.parametrize("path", ["", "/a", "a/", "a//b", "a/b*", "a/**", "a/b c", None, 3])
def test_parse_path_rejects(path) -> None:
    with pytest.raises(PolicyError):
        parse_path(path)


def test_every_problem_is_collected_in_one_message() -> None:
    data = _minimal(
        kind="something.else",
        format_version=2,
        small_cell_k=1,
        rare_categories="drop",
        colour="blue",
        rules=[
            {"name": "a", "path": "x//y", "op": "<=", "threshold": 1},
            {"name": "b", "path": "x/y", "op": "~", "threshold": 1},
            {"name": "c", "path": "x/y", "op": "<=", "threshold": "high"},
            {"name": "d", "path": "x/y", "op": "<=", "threshold": True},
            {"name": "e", "path": "x/y", "op": "<=", "threshold": 1, "severity": "high"},
            {"name": "e", "path": "x/y", "op": "<=", "threshold": 1},
            {"name": "f", "path": "x/y", "op": "<=", "threshold": 1, "required": "yes"},
            {"name": "g", "path": "x/y", "op": "<=", "threshold": 1, "when": "a/*/b"},
            {"name": "h", "path": "x/y", "op": "<="},
            "not a rule",
        ],
    )
    with pytest.raises(PolicyError) as info:
        policy_from_dict(data, source="mine.yaml")
    err = info.value
    assert isinstance(err, InputError)
    message = str(err)
    assert message.startswith("Policy mine.yaml: ")
    expected = [
        "'kind' must be 'synthgen.policy', found 'something.else'",
        "'format_version' must be 1",
        "'small_cell_k' must be a whole number of at least 2, found 1",
        "'rare_categories' must be one of merge, suppress, found 'drop'",
        "unknown keys 'colour'",
        "rule 'a': path 'x//y' has bad segments",
        "rule 'b': 'op' must be one of <=, <, >=, >, ==, found '~'",
        "rule 'c': 'threshold' must be a finite number, found 'high'",
        "rule 'd': a true/false threshold needs op '=='",
        "rule 'e' has unknown keys 'severity'",
        "rule names must be unique; repeated: e",
        "rule 'f': 'required' must be true or false",
        "rule 'g': 'when' 'a/*/b' has 1 '*' but the path has only 0",
        "rule 'h': 'threshold' is missing",
        "rules[9] must be a mapping, found str",
    ]
    for fragment in expected:
        assert fragment in message, fragment
    assert len(err.problems) == len(expected)


def test_missing_and_empty_rules() -> None:
    data = _minimal()
    del data["rules"]
    with pytest.raises(PolicyError, match="'rules' is missing"):
        policy_from_dict(data)
    with pytest.raises(PolicyError, match="'rules' is empty"):
        policy_from_dict(_minimal(rules=[]))


def test_not_a_mapping() -> None:
    with pytest.raises(PolicyError, match="must be a mapping"):
        policy_from_dict(["a", "b"])


def test_differential_privacy_validation() -> None:
    policy = policy_from_dict(_minimal(differential_privacy={"required": True, "max_epsilon": 3}))
    assert policy.requires_differential_privacy
    assert policy.differential_privacy.max_epsilon == 3.0
    with pytest.raises(PolicyError) as info:
        policy_from_dict(
            _minimal(differential_privacy={"required": True, "max_delta": -1, "budget": 2})
        )
    message = str(info.value)
    assert "max_delta must be a positive number, found -1" in message
    assert "max_epsilon is needed when required is true" in message
    assert "unknown keys 'budget'" in message


def test_yaml_round_trip_and_hash(tmp_path: Path) -> None:
    policy = policy_from_dict(
        _minimal(
            small_cell_k=5,
            rare_categories="suppress",
            differential_privacy={"required": True, "max_epsilon": 2.5, "max_delta": 1e-5},
            rules=[
                {
                    "name": "auc",
                    "path": "privacy/membership_attacks/*/auc/ci/1",
                    "op": "<",
                    "threshold": 0.6,
                    "description": "why",
                    "required": False,
                    "when": "privacy/membership_attacks/*/ok",
                },
                {"name": "flag", "path": "a/b", "op": "==", "threshold": True},
            ],
        )
    )
    again = policy_from_dict(yaml.safe_load(policy.to_yaml()))
    assert again == policy
    assert again.to_dict() == policy.to_dict()
    assert again.sha256 == policy.sha256
    path = write_policy(policy, tmp_path / "p.yaml")
    loaded = load_policy(path)
    assert loaded == policy and loaded.source == str(path)
    assert loaded.sha256 == policy.sha256
    with pytest.raises(InputError):
        write_policy(policy, path)  # never silently overwrites
    changed = policy_from_dict({**policy.to_dict(), "small_cell_k": 6})
    assert changed.sha256 != policy.sha256


def test_builtins_load_and_are_listed_lenient_to_strict() -> None:
    policies = list_policies()
    assert [p.name for p in policies] == ["internal", "partner", "cross-border"]
    assert tuple(p.name for p in policies) == BUILTIN_POLICIES
    for policy in policies:
        assert isinstance(policy, Policy)
        assert policy.source == policy.name
        assert load_policy(policy.name) == policy
        assert all(rule.description for rule in policy.rules), policy.name
        assert policy_from_dict(yaml.safe_load(policy.to_yaml())) == policy
    internal, partner, cross = policies
    # stricter profiles have more rules and tighter attack bounds
    assert len(internal.rules) < len(partner.rules) < len(cross.rules)
    bounds = [p.rule("membership_auc").threshold for p in policies]
    assert bounds == sorted(bounds, reverse=True)
    assert cross.small_cell_k == 10 and cross.rare_categories == "suppress"
    assert not cross.requires_differential_privacy
    assert cross.rule("membership_tpr_at_0.1pct_fpr").required is False
    assert len({p.sha256 for p in policies}) == 3


def test_unknown_name_lists_builtins() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("strictest")
    assert "internal, partner, cross-border" in str(info.value)
    assert "'strictest'" in str(info.value)


def test_custom_file_and_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(_minimal()), encoding="utf-8")
    assert load_policy(str(path)).name == "mine"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: synthgen.policy\nrules: [\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"bad.yaml: is not valid YAML at line"):
        load_policy(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="must be a mapping"):
        load_policy(listing)


def test_extends_overrides_and_adds_rules_by_name() -> None:
    base = load_policy("cross-border")
    data = {
        "kind": "synthgen.policy",
        "format_version": 1,
        "name": "cross-border-dp",
        "extends": "cross-border",
        "differential_privacy": {"required": True, "max_epsilon": 3.0},
        "rules": [
            {
                "name": "shadow_attack",
                "path": "privacy/membership_attacks/shadow_model/auc/ci/1",
                "op": "<=",
                "threshold": 0.55,
                "required": False,
            },
            {"name": "extra", "path": "fidelity/detection/auc/value", "op": "<=", "threshold": 0.9},
        ],
    }
    policy = policy_from_dict(data)
    names = [r.name for r in policy.rules]
    assert names == [r.name for r in base.rules] + ["extra"]
    assert policy.rule("shadow_attack").required is False
    assert policy.small_cell_k == base.small_cell_k
    assert policy.rare_categories == "suppress"
    assert policy.requires_differential_privacy
    assert policy.description == base.description
    with pytest.raises(PolicyError, match="'extends' must name a built-in policy"):
        policy_from_dict({**data, "extends": "nowhere"})
