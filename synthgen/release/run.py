"""``synthgen release``: sample, evaluate, gate, output-check, render and sign, in one call.

The airlock's one door. A synthetic cohort is sampled from a model directory, its rare
categories protected, and it is scored against the model's recorded train/holdout split. The
policy's rules are checked against that report; only when every rule passes is a bundle
written: the (protected) synthetic cohort, the output-checked report as HTML, PDF and JSON,
and a manifest signed with the custodian's Ed25519 key. The model and the real data never
go in.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthgen.data.schema import Schema
from synthgen.errors import InputError
from synthgen.release.gate import Verdict, gate
from synthgen.release.output_check import OutputCheck, check_report, protect_categories
from synthgen.release.policy import Policy, load_policy

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReleaseResult:
    """What ``synthgen release`` decided and wrote.

    Attributes:
        verdict: every rule checked, and whether the release passed.
        report: the output-checked evaluation report (what the bundle would hold).
        output_check: the output-checking summary.
        bundle: the bundle folder, or None when blocked or on a dry run.
        policy: the policy applied.
    """

    verdict: Verdict
    report: dict[str, Any]
    output_check: OutputCheck
    bundle: Path | None
    policy: Policy


def bundle_provenance(model_doc: dict[str, Any], *, n: int, seed: int) -> dict[str, Any]:
    """What the manifest records about where the cohort came from.

    Software versions, generator, parameters (as given and as resolved), seeds, privacy
    budget, and the salted fingerprints of the source and training data. The salt stays
    inside with the model (the custodian can prove later which data a bundle came from); so
    do file paths and queries.
    """
    prov = model_doc.get("provenance") or {}
    data = prov.get("data") or {}
    return {
        "software": prov.get("software"),
        "generator": model_doc.get("generator"),
        "params": model_doc.get("params"),
        # the same, with defaults the generator resolved from the data (None for older models)
        "resolved_params": model_doc.get("resolved_params"),
        "training_seed": prov.get("seed"),
        "privacy_budget": model_doc.get("privacy_budget"),
        "model_created": prov.get("created"),
        "source": (prov.get("source") or {}).get("label"),
        "data_fingerprint": {
            "source": data.get("fingerprint"),
            "train": data.get("train_fingerprint"),
            "salted": True,
            "rows": data.get("rows"),
            "columns": data.get("columns"),
        },
        "split": model_doc.get("split"),
        "sample": {"n": n, "seed": seed},
        "released_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def render_files(
    report: dict[str, Any], *, verdict: dict[str, Any] | None, output_check: dict[str, Any] | None
) -> dict[str, bytes | str]:
    """The report as ``report.html``, ``report.pdf`` and ``report.json``."""
    from synthgen.release.render import render_html, render_json, render_pdf

    kw = {"verdict": verdict, "output_check": output_check}
    return {
        "report.html": render_html(report, **kw),
        "report.pdf": render_pdf(report, **kw),
        "report.json": render_json(report, **kw),
    }


def release(
    model_dir: str | Path,
    *,
    policy: str | Path,
    n: int,
    output: str | Path | None,
    key: str | Path | None,
    seed: int = 0,
    source: str | Path | None = None,
    targets: Sequence[str] | None = None,
    shadow: dict[str, Any] | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> ReleaseResult:
    """Sample ``n`` records, evaluate them, gate them by ``policy``, and write a signed bundle.

    Args:
        model_dir: the model directory (signed; its recorded split gives train and holdout).
        policy: a built-in policy name (``internal``, ``partner``, ``cross-border``) or a file.
        n: synthetic records to sample and release.
        output: the bundle folder to create (not needed for a dry run).
        key: the custodian's Ed25519 private key (``synthgen keygen``); not needed for a dry
            run.
        seed: seed of the sample and of every evaluation subsample.
        source: the training data, when it has moved since training.
        targets: utility targets; default the schema's.
        shadow: shadow-model attack settings (``n_targets``, ``n_controls``, ``n_shadows``), or
            None to skip it.
        dry_run: decide and report, write nothing.
        overwrite: replace an existing bundle folder.
        progress: shadow-attack progress callback.

    Returns:
        A :class:`ReleaseResult`; ``bundle`` is None when the release is blocked.

    Raises:
        InputError: bad arguments, a missing key or output, an existing output folder.
    """
    from synthgen.evaluation.evaluate import evaluate
    from synthgen.models import load_generator
    from synthgen.models.modeldir import read_model_json
    from synthgen.release.bundle import write_bundle
    from synthgen.workflow import recorded_split

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"-n must be a positive number of records; got {n!r}")
    if not dry_run:
        problems = []
        if output is None:
            problems.append("give the bundle folder to write with -o/--output")
        elif Path(output).exists() and not overwrite:
            problems.append(f"'{output}' already exists; choose another path or pass --overwrite")
        if key is None:
            problems.append(
                "give the custodian's signing key with --key (make one: synthgen keygen)"
            )
        elif not Path(key).is_file():
            problems.append(f"signing key '{key}' does not exist")
        if problems:
            raise InputError("; ".join(problems))
    pol = load_policy(policy)
    model_dir = Path(model_dir)
    generator = load_generator(model_dir)
    schema = Schema.load(model_dir / "schema.yaml")
    split = recorded_split(model_dir, source)
    doc = read_model_json(model_dir)
    if shadow is not None:
        shadow = {"generator_name": doc["generator"], "generator_params": doc["params"], **shadow}

    synthetic = generator.sample(n, seed=seed)
    synthetic, category_items = protect_categories(
        synthetic,
        train=split.train,
        schema=schema,
        k=pol.small_cell_k,
        action=pol.rare_categories,
    )
    budget = doc.get("privacy_budget")  # model.json is signed: the budget is the one spent
    report = evaluate(
        train=split.train,
        holdout=split.holdout,
        synthetic=synthetic,
        schema=schema,
        seed=seed,
        shadow=shadow,
        targets=targets,
        small_cell_k=pol.small_cell_k,
        privacy_budget=budget,
        progress=progress,
    )
    report.provenance = {"model_dir": str(model_dir), "synthetic": f"{n} records, seed {seed}"}
    full = report.to_dict()
    verdict = gate(report=full, policy=pol, privacy_budget=budget)
    checked, summary = check_report(full, k=pol.small_cell_k)
    summary = OutputCheck(k=summary.k, items=summary.items + tuple(category_items))
    bundle = None
    if verdict.released and not dry_run:
        files = render_files(checked, verdict=verdict.to_dict(), output_check=summary.to_dict())
        bundle = write_bundle(
            output,
            synthetic=synthetic,
            report_files=files,
            provenance=bundle_provenance(doc, n=n, seed=seed),
            verdict=verdict.to_dict(),
            policy=pol.to_dict(),
            private_key_path=key,
            overwrite=overwrite,
        )
    return ReleaseResult(
        verdict=verdict, report=checked, output_check=summary, bundle=bundle, policy=pol
    )
