"""``synthgen demo``: the whole pipeline on the embedded simulated cohort.

Simulate, inspect (plus what a custodian adds on review: a target and declared rules), train,
sample, evaluate fidelity, utility and privacy, and release under a policy: a signed bundle,
or a blocked verdict with its reasons.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from synthgen.data.io import write_table
from synthgen.datasets import demo_cohort
from synthgen.errors import InputError
from synthgen.evaluation.quality import QualityScore
from synthgen.evaluation.report import EvaluationReport
from synthgen.release.keys import generate_keypair
from synthgen.release.run import ReleaseResult, release
from synthgen.workflow import (
    evaluate_to_dir,
    inspect_data,
    sample_to_file,
    train_model,
)

MARKER = ".synthgen-demo"
DEMO_TARGET = "hypertension"
DEMO_POLICY = "partner"
DEMO_RULES = ("diastolic_bp < systolic_bp", "ldl < total_cholesterol", "followup_days >= 1")


@dataclass(frozen=True)
class DemoResult:
    """Where each demo output went, and the first fidelity figure.

    Attributes:
        outputs: step label -> path.
        quality: QualityReport of the synthetic cohort against the training records.
        ceiling: QualityReport of the holdout against the training records (what a perfect
            synthetic cohort of this size would score).
        report: the evaluation report (fidelity and privacy figures).
        release: the release decision under :data:`DEMO_POLICY` (and the bundle, if any).
    """

    outputs: dict[str, Path]
    quality: QualityScore
    ceiling: QualityScore
    report: EvaluationReport
    release: ReleaseResult


def run_demo(
    output: str | Path = "synthgen-demo",
    *,
    rows: int = 5000,
    model: str = "gaussian_copula",
    seed: int = 0,
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Simulate a cohort, inspect it, train, sample, and score fidelity, all under ``output``.

    An existing folder is replaced only when an earlier demo made it.
    """
    output = Path(output)
    if rows < 50:
        raise InputError(f"the demo needs at least 50 rows, got {rows}")
    if output.exists() and not (output / MARKER).exists():
        raise InputError(
            f"'{output}' exists and was not made by `synthgen demo`; choose another folder"
        )
    if not output.parent.exists():
        raise InputError(f"folder '{output.parent}' does not exist")
    say = on_step or (lambda message: None)
    if output.exists():
        shutil.rmtree(output)
    output.mkdir()
    try:
        tmp = output
        (tmp / MARKER).write_text("made by synthgen demo\n", encoding="utf-8")
        say("Simulating the demo cohort")
        cohort_path = tmp / "cohort.csv"
        write_table(demo_cohort(rows, seed=seed), cohort_path)
        say("Inspecting: inferring the schema")
        inspected = inspect_data(cohort_path)
        # what a custodian adds on review: an outcome researchers will model, and rules the
        # data must obey (checked in the synthetic cohort)
        schema = inspected.schema.update(
            DEMO_TARGET, roles=(*inspected.schema[DEMO_TARGET].roles, "target")
        ).with_rules(*DEMO_RULES)
        schema_path = schema.save(tmp / "schema.yaml")
        say(f"Training {model}")
        trained = train_model(
            cohort_path, output=tmp / "model", model=model, schema=schema_path, seed=seed
        )
        say("Sampling the synthetic cohort")
        synthetic_path = tmp / "synthetic.csv"
        sample_to_file(trained.model_dir, trained.n_train, output=synthetic_path, seed=seed)
        say("Auditing privacy and fidelity")
        evaluated = evaluate_to_dir(
            model_dir=trained.model_dir,
            synthetic=synthetic_path,
            output=tmp / "evaluation",
            seed=seed,
        )
        say(f"Releasing under the '{DEMO_POLICY}' policy")
        generate_keypair(tmp / "keys" / "signing_key.pem", tmp / "keys" / "signing_key.pub.pem")
        released = release(
            trained.model_dir,
            policy=DEMO_POLICY,
            n=trained.n_train,
            output=tmp / "bundle",
            key=tmp / "keys" / "signing_key.pem",
            seed=seed,
        )
    except BaseException:
        shutil.rmtree(output, ignore_errors=True)  # nothing half-written is left behind
        raise
    outputs = {
        "simulated cohort (stands in for real data)": output / "cohort.csv",
        "schema to review": output / "schema.yaml",
        "model directory (stays inside)": output / "model",
        "synthetic cohort": output / "synthetic.csv",
        "evaluation report (fidelity and privacy)": output / "evaluation" / "report.json",
        "signing keys (the private one stays inside)": output / "keys",
    }
    if released.bundle is not None:
        outputs["signed release bundle (what crosses the border)"] = released.bundle
    q = evaluated.report.fidelity["quality_report"]
    return DemoResult(
        outputs=outputs,
        quality=QualityScore(**q["synthetic_vs_train"]),
        ceiling=QualityScore(**q["baseline_holdout_vs_train"]),
        report=evaluated.report,
        release=released,
    )
