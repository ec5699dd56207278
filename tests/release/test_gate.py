"""Tests for the release gate: exact pass/fail per check on hand-made reports, and an
end-to-end check on real evaluation reports (a copy of the training data, fresh records)."""

from __future__ import annotations

import json

import pytest

import synthgen as sg
from synthgen.errors import InputError
from synthgen.release.gate import Check, Verdict, find_values, gate
from synthgen.release.policy import list_policies, load_policy, policy_from_dict


def _policy(*rules: dict, **extra) -> object:
    return policy_from_dict(
        {"kind": "synthgen.policy", "format_version": 1, "name": "t", "rules": list(rules), **extra}
    )


def _rule(name: str, path: str, op: str, threshold, **extra) -> dict:
    return {"name": name, "path": path, "op": op, "threshold": threshold, **extra}


REPORT = {
    "kind": "synthgen.evaluation",
    "format_version": 1,
    "privacy": {
        "copies": {
            "exact_copies": {
                "value": 0.0,
                "direction": "lower is better",
                "ci": [0.0, 0.002],
                "baseline": 0.0,
            }
        },
        "membership_attacks": {
            "distance": {
                "auc": {"value": 0.51, "ci": [0.47, 0.55], "baseline": 0.5},
                "tpr_at_fpr": {
                    "0.01": {"value": 0.01, "ci": [0.0, 0.03], "reliable": True},
                    "0.001": {"value": 0.0, "ci": [0.0, 0.01], "reliable": False},
                },
            },
            "density_ratio": {
                "auc": {"value": 0.58, "ci": [0.52, 0.64], "baseline": 0.5},
                "tpr_at_fpr": {
                    "0.01": {"value": 0.08, "ci": [0.02, 0.16], "reliable": True},
                    "0.001": {"value": 0.05, "ci": [0.0, 0.1], "reliable": True},
                },
            },
        },
        "shadow_model": None,
        "flags": [True, False],
        "not_computed": {"value": None, "ci": None},
        "text": "abc",
        "nan": float("nan"),
    },
    "fidelity": {"quality_report": {"synthetic_vs_train": {"overall": 0.9}}},
}


def _outcomes(verdict: Verdict) -> list[tuple[str, str | None, str]]:
    return [(c.rule, c.target, c.status) for c in verdict.checks]


def test_find_values_wildcards_lists_and_dotted_keys() -> None:
    found = find_values(REPORT, "privacy/membership_attacks/*/tpr_at_fpr/0.01/ci/1")
    assert found == [
        (("distance",), "privacy/membership_attacks/distance/tpr_at_fpr/0.01/ci/1", 0.03),
        (("density_ratio",), "privacy/membership_attacks/density_ratio/tpr_at_fpr/0.01/ci/1", 0.16),
    ]
    assert find_values(REPORT, "privacy/flags/1") == [((), "privacy/flags/1", False)]
    assert [v for _, _, v in find_values(REPORT, "privacy/flags/*")] == [True, False]
    assert find_values(REPORT, "privacy/flags/5") == []
    assert find_values(REPORT, "privacy/copies/*/nothing") == []
    assert find_values(REPORT, "privacy/shadow_model/auc") == []


def test_wildcard_rule_reports_each_match() -> None:
    policy = _policy(_rule("auc", "privacy/membership_attacks/*/auc/ci/1", "<=", 0.6))
    verdict = gate(report=REPORT, policy=policy)
    assert _outcomes(verdict) == [("auc", "distance", "passed"), ("auc", "density_ratio", "failed")]
    failure = verdict.failures[0]
    assert failure.path == "privacy/membership_attacks/density_ratio/auc/ci/1"
    assert failure.value == 0.64 and failure.threshold == 0.6 and failure.op == "<="
    assert failure.reason == "0.64 is not <= 0.6"
    assert verdict.released is False


@pytest.mark.parametrize(
    ("op", "threshold", "passed"),
    [
        ("<=", 0.51, True),
        ("<=", 0.5, False),
        ("<", 0.51, False),
        ("<", 0.52, True),
        (">=", 0.51, True),
        (">=", 0.52, False),
        (">", 0.51, False),
        (">", 0.5, True),
        ("==", 0.51, True),
        ("==", 0.5, False),
    ],
)
def test_each_operator(op: str, threshold: float, passed: bool) -> None:
    policy = _policy(_rule("r", "privacy/membership_attacks/distance/auc/value", op, threshold))
    verdict = gate(report=REPORT, policy=policy)
    assert [c.passed for c in verdict.checks] == [passed]
    assert verdict.released is passed


def test_figure_dict_stands_for_its_value() -> None:
    policy = _policy(_rule("r", "privacy/membership_attacks/distance/auc", "<=", 0.55))
    (check,) = gate(report=REPORT, policy=policy).checks
    assert check.passed and check.value == 0.51
    assert check.path == "privacy/membership_attacks/distance/auc/value"


def test_bool_threshold() -> None:
    policy = _policy(
        _rule("flags", "privacy/flags/*", "==", True),
        _rule("number_is_not_bool", "privacy/membership_attacks/distance/auc/value", "==", True),
    )
    verdict = gate(report=REPORT, policy=policy)
    assert _outcomes(verdict) == [
        ("flags", "0", "passed"),
        ("flags", "1", "failed"),
        ("number_is_not_bool", None, "failed"),
    ]
    assert verdict.checks[2].reason == "expected true/false, found float"


def test_missing_required_and_not_required() -> None:
    policy = _policy(
        _rule("shadow", "privacy/shadow_model/auc/ci/1", "<=", 0.55),
        _rule("shadow_optional", "privacy/shadow_model/auc/ci/1", "<=", 0.55, required=False),
        _rule("targets", "fidelity/utility/targets/*/difference", ">=", -0.1, required=False),
        _rule("computed", "privacy/not_computed", "<=", 1),
        _rule("computed_optional", "privacy/not_computed", "<=", 1, required=False),
    )
    verdict = gate(report=REPORT, policy=policy)
    assert _outcomes(verdict) == [
        ("shadow", None, "failed"),
        ("shadow_optional", None, "not applicable"),
        ("targets", None, "not applicable"),
        ("computed", None, "failed"),
        ("computed_optional", None, "not applicable"),
    ]
    assert verdict.checks[0].reason == "not in the report"
    assert verdict.checks[1].reason == "not applicable: not in the report"
    assert verdict.checks[1].passed is True
    assert [c.rule for c in verdict.failures] == ["shadow", "computed"]
    assert [c.rule for c in verdict.not_applicable] == [
        "shadow_optional",
        "targets",
        "computed_optional",
    ]


def test_non_numeric_values_fail() -> None:
    policy = _policy(
        _rule("text", "privacy/text", "<=", 1),
        _rule("nan", "privacy/nan", "<=", 1),
        _rule("dict", "privacy/copies", "<=", 1),
    )
    verdict = gate(report=REPORT, policy=policy)
    assert [c.passed for c in verdict.checks] == [False, False, False]
    assert verdict.checks[0].reason == "expected a number, found str"
    assert verdict.checks[1].reason == "expected a finite number, found nan"
    assert verdict.checks[2].reason == "expected a number, found dict"


def test_when_binds_wildcards_in_order() -> None:
    policy = _policy(
        _rule(
            "tpr_0.1",
            "privacy/membership_attacks/*/tpr_at_fpr/0.001/value",
            "<=",
            0.01,
            required=False,
            when="privacy/membership_attacks/*/tpr_at_fpr/0.001/reliable",
        )
    )
    verdict = gate(report=REPORT, policy=policy)
    assert _outcomes(verdict) == [
        ("tpr_0.1", "distance", "not applicable"),
        ("tpr_0.1", "density_ratio", "failed"),
    ]
    assert verdict.checks[0].reason == (
        "not applicable: privacy/membership_attacks/distance/tpr_at_fpr/0.001/reliable is False"
    )


def test_differential_privacy_check() -> None:
    policy = _policy(
        _rule("copies", "privacy/copies/exact_copies/value", "==", 0),
        differential_privacy={"required": True, "max_epsilon": 3.0, "max_delta": 1e-5},
    )
    verdict = gate(report=REPORT, policy=policy)
    assert _outcomes(verdict) == [
        ("copies", None, "passed"),
        ("differential_privacy", None, "failed"),
    ]
    assert "the model is not differentially private" in verdict.failures[0].reason
    assert gate(
        report=REPORT, policy=policy, privacy_budget={"epsilon": 2.0, "delta": 1e-6}
    ).released
    too_much = gate(report=REPORT, policy=policy, privacy_budget={"epsilon": 8, "delta": 1e-6})
    assert (
        too_much.failures[0].reason == "epsilon 8 is not <= 3" and too_much.failures[0].value == 8
    )
    assert not gate(
        report=REPORT, policy=policy, privacy_budget={"epsilon": 1, "delta": 1e-3}
    ).released
    assert not gate(report=REPORT, policy=policy, privacy_budget={"delta": 1e-6}).released
    # a policy without the requirement ignores the budget
    plain = _policy(_rule("copies", "privacy/copies/exact_copies/value", "==", 0))
    assert [c.rule for c in gate(report=REPORT, policy=plain).checks] == ["copies"]


def test_all_failures_together_deterministic_and_json() -> None:
    policy = _policy(
        _rule("auc", "privacy/membership_attacks/*/auc/ci/1", "<=", 0.5),
        _rule("quality", "fidelity/quality_report/synthetic_vs_train/overall", ">=", 0.95),
        _rule("copies", "privacy/copies/exact_copies/value", "==", 0),
    )
    first = gate(report=REPORT, policy=policy)
    second = gate(report=json.loads(json.dumps(REPORT, allow_nan=True)), policy=policy)
    assert first == second
    assert [(c.rule, c.target) for c in first.failures] == [
        ("auc", "distance"),
        ("auc", "density_ratio"),
        ("quality", None),
    ]
    data = first.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["released"] is False and data["n_failed"] == 3
    assert data["failures"] == ["auc[distance]", "auc[density_ratio]", "quality"]
    assert data["policy"] == {"name": "t", "sha256": policy.sha256}
    assert first.summary() == "blocked by policy 't': 3 of 4 checks failed (auc, quality)"
    assert isinstance(first.checks[0], Check)


def test_bad_inputs() -> None:
    policy = _policy(_rule("copies", "privacy/copies/exact_copies/value", "==", 0))
    with pytest.raises(InputError, match="evaluation report"):
        gate(report=[1, 2], policy=policy)
    with pytest.raises(InputError, match="kind 'synthgen.policy'"):
        gate(report={"kind": "synthgen.policy"}, policy=policy)
    with pytest.raises(InputError, match="Policy"):
        gate(report=REPORT, policy={"rules": []})


# ------------------------------------------------------------------ real reports


@pytest.fixture(scope="module")
def real_reports() -> dict[str, dict]:
    cohort = sg.datasets.demo_cohort(800, seed=1)
    schema = sg.infer_schema(cohort)
    train = cohort.iloc[:400].reset_index(drop=True)
    rest = cohort.iloc[400:].reset_index(drop=True)
    holdout, fresh = rest.iloc[:200].reset_index(drop=True), rest.iloc[200:].reset_index(drop=True)
    settings = {"schema": schema, "n_boot": 50, "by_subgroup": False, "seed": 0}
    copy = sg.evaluate(train=train, holdout=holdout, synthetic=train.copy(), **settings)
    real = sg.evaluate(train=train, holdout=holdout, synthetic=fresh, **settings)
    return {"copy": copy.to_dict(), "fresh": real.to_dict()}


@pytest.mark.parametrize("name", ["internal", "partner", "cross-border"])
def test_copy_of_training_data_is_blocked_by_every_builtin(real_reports, name) -> None:
    policy = load_policy(name)
    verdict = gate(report=real_reports["copy"], policy=policy)
    assert not verdict.released
    failed = {c.rule for c in verdict.failures}
    assert {"exact_copies", "dcr_share", "membership_auc"} <= failed
    assert all(c.path.startswith("privacy/") for c in verdict.failures)
    assert gate(report=real_reports["copy"], policy=policy) == verdict


def test_fresh_records_pass_the_privacy_rules_of_partner(real_reports) -> None:
    verdict = gate(report=real_reports["fresh"], policy=load_policy("partner"))
    privacy = [c for c in verdict.checks if c.path.startswith("privacy/")]
    assert len(privacy) > 10
    assert [c for c in privacy if not c.passed] == []
    internal = gate(report=real_reports["fresh"], policy=list_policies()[0])
    assert internal.released
