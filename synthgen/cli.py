"""The ``synthgen`` command line: thin commands over one library call each.

Exit codes: 0 success; 1 user error (bad input, bad schema, bad model, bad parameter);
2 release blocked by policy; 3 internal error. User errors print one red line, never a
traceback (tracebacks can hold patient values in their locals).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from synthgen._cli_common import (
    EXIT_INTERNAL,
    EXIT_USER_ERROR,
    JsonOpt,
    QueryOpt,
    SchemaOpt,
    TableOpt,
    _bar,
    _spinner,
    console,
    dp_capable,
    err_console,
    print_budget,
    with_budget,
)
from synthgen.errors import SynthgenError

app = typer.Typer(
    name="synthgen",
    help="Synthetic health cohorts that can cross borders: inspect, train, sample, evaluate, "
    "release.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)


# ------------------------------------------------------------------ inspect
@app.command()
def inspect(
    data: Annotated[str, typer.Argument(help="CSV/Parquet file or SQLAlchemy URL.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the inferred schema YAML here.")
    ] = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    as_json: JsonOpt = False,
    reasons: Annotated[
        bool, typer.Option("--reasons", help="Also print why each guess was made.")
    ] = False,
) -> None:
    """Infer each column's kind and role and print a profile (counts only, no values)."""
    from synthgen.workflow import inspect_data

    with _spinner("Profiling"):
        result = inspect_data(data, table=table, query=query)
    if output is not None:
        result.schema.save(output)
    if as_json:
        doc = {
            "rows": result.n_rows,
            "schema": result.schema.to_dict(),
            "profile": [p.to_dict() for p in result.profile],
        }
        console.print_json(json.dumps(doc, default=str))
        return
    tbl = Table(title=f"{result.n_rows} records, {len(result.schema)} columns")
    for col in ("column", "kind", "role", "missing", "distinct", "rare<10", "PII"):
        tbl.add_column(col, overflow="fold")
    for spec, prof in zip(result.schema.columns, result.profile, strict=True):
        pii = f"[red]{spec.pii} ({spec.handling})[/red]" if spec.pii else ""
        tbl.add_row(
            spec.name,
            spec.kind,
            ", ".join(spec.roles),
            f"{prof.missing_share:.1%}",
            str(prof.cardinality),
            "" if prof.rare_categories is None else str(prof.rare_categories),
            pii,
        )
    console.print(tbl)
    if reasons:
        for spec in result.schema.columns:
            console.print(f"[bold]{spec.name}[/bold]: {spec.reason}", highlight=False)
    if output is not None:
        console.print(
            f"Schema written to [bold]{output}[/bold]: review it, then pass it with --schema."
        )


# ------------------------------------------------------------------- models
@app.command()
def models(as_json: JsonOpt = False) -> None:
    """List the available generators, one line each."""
    from synthgen.models import list_generators

    gens = list_generators()
    if as_json:
        console.print_json(json.dumps(gens))
        return
    private = dp_capable()
    for name, summary in gens.items():
        mark = "[green]DP[/green]" if name in private else "  "
        console.print(f"[bold]{name:<16}[/bold] {mark} {summary}")
    if private:
        console.print(
            "DP: can train under differential privacy "
            "(synthgen train --model NAME --epsilon E [--delta D])."
        )


# -------------------------------------------------------------------- train
@app.command()
def train(
    data: Annotated[str, typer.Argument(help="CSV/Parquet file or SQLAlchemy URL.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Model directory to create.")],
    schema: SchemaOpt = None,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Generator name (see `synthgen models`).")
    ] = "gaussian_copula",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Hyper-parameter NAME=VALUE (repeatable)."),
    ] = None,
    params_file: Annotated[
        Path | None, typer.Option("--params", help="YAML file of hyper-parameters.")
    ] = None,
    holdout: Annotated[
        float, typer.Option(help="Share of records held out (never seen by the model).")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed for the split and training.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing model directory.")] = False,
    table: TableOpt = None,
    query: QueryOpt = None,
    epsilon: Annotated[
        float | None,
        typer.Option(
            "--epsilon",
            help="Train under differential privacy, spending this budget ε (models marked DP "
            "in `synthgen models`). The budget is recorded in the signed model directory.",
        ),
    ] = None,
    delta: Annotated[
        float | None,
        typer.Option(
            "--delta",
            help="δ of the DP budget, with --epsilon (default 1e-6); must be well below 1/n, "
            "n the number of training records.",
        ),
    ] = None,
) -> None:
    """Hold out records, fit a generator on the rest, write a signed model directory."""
    from synthgen.models.params import load_params
    from synthgen.workflow import train_model

    params = with_budget(model, load_params(params_file, param or []), epsilon, delta)
    with _bar(f"Training {model}") as bar:
        task = bar.add_task("train", total=None)  # indeterminate until epochs report
        result = train_model(
            data,
            output=output,
            model=model,
            schema=schema,
            params=params,
            holdout=holdout,
            seed=seed,
            table=table,
            query=query,
            overwrite=overwrite,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"Trained [bold]{result.model}[/bold] on {result.n_train} records "
        f"({result.n_holdout} held out) in {result.seconds:.1f} s "
        f"-> [bold]{result.model_dir}[/bold]"
    )
    if schema is None:
        console.print(
            "[yellow]No --schema was given: the schema was inferred (review it with "
            "`synthgen inspect -o schema.yaml` and pass it with --schema).[/yellow]"
        )
    print_budget(result.model_dir, model)
    if result.dropped:
        console.print(f"Direct identifiers dropped: {', '.join(result.dropped)}")
    if result.faked:
        console.print(f"Direct identifiers to be faked at sampling: {', '.join(result.faked)}")


# ------------------------------------------------------------------- sample
@app.command()
def sample(
    model_dir: Annotated[Path, typer.Argument(help="Model directory from `synthgen train`.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output .csv or .parquet.")],
    n: Annotated[int, typer.Option("--rows", "-n", help="Number of synthetic records.")] = 1000,
    seed: Annotated[int, typer.Option(help="Same seed, same rows.")] = 0,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", "-w", help="Condition such as sex=F or 'age>=80' (repeatable)."),
    ] = None,
) -> None:
    """Sample a synthetic cohort, streamed to the file in chunks."""
    from synthgen.workflow import sample_to_file

    with _bar("Sampling") as bar:
        task = bar.add_task("sample", total=n)
        result = sample_to_file(
            model_dir,
            n,
            output=output,
            seed=seed,
            conditions=where or None,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    console.print(
        f"Wrote {result.rows} synthetic records to [bold]{result.path}[/bold] "
        f"in {result.seconds:.1f} s"
    )


# ----------------------------------------------------------------- evaluate
@app.command()
def evaluate(
    model_dir: Annotated[
        Path | None,
        typer.Argument(help="Model directory: train/holdout come from its recorded split."),
    ] = None,
    synthetic: Annotated[
        Path, typer.Option("--synthetic", help="The synthetic cohort (.csv or .parquet).")
    ] = ...,
    output: Annotated[Path, typer.Option("--output", "-o", help="Report folder to create.")] = ...,
    train: Annotated[
        str | None, typer.Option("--train", help="Training records, without a model dir.")
    ] = None,
    holdout: Annotated[
        str | None, typer.Option("--holdout", help="Held-out records, without a model dir.")
    ] = None,
    schema: SchemaOpt = None,
    seed: Annotated[int, typer.Option(help="Seed for subsamples and bootstraps.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing report folder.")] = False,
    shadow: Annotated[
        bool,
        typer.Option(help="Also run the shadow-model attack (fits many copies of the model)."),
    ] = False,
    shadow_targets: Annotated[
        int, typer.Option(help="Most vulnerable records attacked by the shadow models.")
    ] = 10,
    shadow_controls: Annotated[
        int, typer.Option(help="Random records attacked beside the most vulnerable ones.")
    ] = 5,
    shadow_models: Annotated[
        int, typer.Option(help="Shadow generators per target (even, at least 4).")
    ] = 8,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="Column to predict in the train-on-synthetic utility test (repeatable); "
            "default the schema's target columns.",
        ),
    ] = None,
    records: Annotated[
        Path | None,
        typer.Option(
            help="Also write the training records the attacks pick out (row positions and "
            "scores, no values) to this .csv/.parquet. Custodian only: never release it."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a synthetic cohort for fidelity and privacy; write report.json."""
    from synthgen.workflow import evaluate_to_dir

    settings = None
    if shadow:
        settings = {
            "n_targets": shadow_targets,
            "n_controls": shadow_controls,
            "n_shadows": shadow_models,
        }
    with _bar("Evaluating") as bar:
        task = bar.add_task("evaluate", total=None)
        result = evaluate_to_dir(
            synthetic=synthetic,
            output=output,
            model_dir=model_dir,
            train=train,
            holdout=holdout,
            schema=schema,
            seed=seed,
            overwrite=overwrite,
            shadow=settings,
            records=records,
            targets=target or None,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if as_json:
        console.print_json(result.report.to_json())
        return
    from synthgen.evaluation.report import describe_budget

    doc = result.report.to_dict()
    console.print(_summary_table(doc))
    for line in _worst_subgroups(doc["fidelity"].get("by_subgroup")):
        console.print(line)
    console.print(
        f"Differential privacy: {describe_budget(doc['privacy'].get('differential_privacy'))}",
        markup=False,
        highlight=False,
    )
    console.print(f"Report written to [bold]{result.path}[/bold]")
    if result.records is not None:
        console.print(
            f"Records at risk written to [bold]{result.records}[/bold] "
            "(custodian only: it points at real people; never release it)"
        )


def _fmt(fig: dict, pct: bool = True) -> tuple[str, str, str]:
    def f(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v:.1%}" if pct else f"{v:.3f}"

    ci = fig.get("ci")
    ci_text = f"[{f(ci[0])}, {f(ci[1])}]" if ci else ""
    return f(fig["value"]), ci_text, f(fig.get("baseline"))


def _summary_table(doc: dict) -> Table:
    """The report's headline figures: value, interval and baseline side by side."""
    tbl = Table(title=f"Evaluation: {doc['sizes']}")
    for col in ("measure", "value", "95% interval", "baseline", "better"):
        tbl.add_column(col)
    tbl.add_row("[bold]Fidelity and utility[/bold]", "", "", "", "")
    _add_rows(tbl, _fidelity_rows(doc["fidelity"]))
    tbl.add_row("[bold]Privacy[/bold]", "", "", "", "")
    _add_rows(tbl, _privacy_rows(doc["privacy"]))
    return tbl


def _add_rows(tbl: Table, rows: list[tuple[str, dict, bool]]) -> None:
    for name, fig, pct in rows:
        value, ci, base = _fmt(fig, pct)
        better = str(fig.get("direction", "")).split(" (")[0].replace(" is better", "")
        tbl.add_row(name, value, ci, base, better)


def _fidelity_rows(fid: dict) -> list[tuple[str, dict, bool]]:
    q = fid["quality_report"]
    rows = [
        (
            "Quality (sdmetrics)",
            {
                "value": q["synthetic_vs_train"]["overall"],
                "baseline": q["baseline_holdout_vs_train"]["overall"],
                "direction": q["direction"],
            },
            True,
        )
    ]
    marg = fid.get("marginals")
    if marg:
        summary = marg["summary"]
        rows += [
            ("Column shapes (1 - mean KS/TVD)", summary["shape_score"], True),
            ("Mean |difference| of correlations", summary["mean_abs_corr_diff"], False),
            ("Mean |difference| of Cramer's V", summary["mean_abs_cramers_v_diff"], False),
        ]
    if fid.get("detection"):
        rows.append(("Detection AUC (real vs synthetic)", fid["detection"]["auc"], False))
    pr = fid.get("precision_recall")
    if pr:
        rows += [
            ("alpha-precision", pr["alpha_precision"], False),
            ("beta-recall", pr["beta_recall"], False),
            ("Authenticity", pr["authenticity"], True),
        ]
    for target, util in ((fid.get("utility") or {}).get("targets") or {}).items():
        for metric, fig in ((util.get("models") or {}).get("boosting") or {}).items():
            if metric in ("auc", "r2"):
                rows.append((f"Train synthetic, test real: {target} {metric.upper()}", fig, False))
    surv = fid.get("survival")
    if surv and surv.get("overall"):
        rows.append(
            (
                "Kaplan-Meier curves: integrated difference",
                surv["overall"]["integrated_abs_difference"],
                False,
            )
        )
        cox = surv.get("cox") or {}
        if cox.get("c_index"):
            rows.append(("Cox trained on synthetic: C-index", cox["c_index"], False))
            rows.append(("Hazard-ratio intervals overlapping", cox["overlap_share"], True))
    if fid.get("validity"):
        rows.append(("Rows breaking a validity check", fid["validity"]["invalid_share"], True))
    return rows


def _worst_subgroups(by_subgroup: dict | None) -> list[str]:
    """One line per measure naming the groups where the synthetic cohort falls shortest."""
    if not by_subgroup:
        return []
    lines = []
    for name, groups in by_subgroup["worst"].items():
        if groups:
            label = by_subgroup["measures"][name]["label"]
            where = ", ".join(f"{g['column']}={g['level']}" for g in groups)
            lines.append(f"Worst subgroups by {label}: {where}")
    return lines


def _privacy_rows(priv: dict) -> list[tuple[str, dict, bool]]:
    rows = [
        ("Exact copies of training rows", priv["copies"]["exact_copies"], True),
        ("Near copies", priv["copies"]["near_copies"], True),
        ("DCR share (closer to train)", priv["distance_to_closest_record"]["dcr_share"], True),
        (
            "Median distance to closest record",
            priv["distance_to_closest_record"]["dcr_percentiles"]["50"],
            False,
        ),
    ]
    reid = priv.get("quasi_identifier_reidentification")
    if reid:
        rows.append(("Unique on quasi-identifiers (train)", reid["unique_share"], True))
        rows.append(("Synthetic matching a unique record", reid["match_share"], True))
    for name, attack in priv["membership_attacks"].items():
        rows.append((f"MIA {name}: AUC", attack["auc"], False))
        for level, fig in attack["tpr_at_fpr"].items():
            rows.append((f"MIA {name}: TPR at FPR {level}", fig, True))
        worst = (priv.get("worst_case") or {}).get("attacks", {}).get(name)
        if worst:
            fig = worst["members_above_every_nonmember"]
            rows.append((f"MIA {name}: members above every non-member", fig, True))
    disclosure = priv.get("disclosure") or {}
    if "singling_out" in disclosure:
        rows.append(("Singling-out risk", disclosure["singling_out"]["risk"], True))
    if "linkability" in disclosure:
        rows.append(("Linkability risk", disclosure["linkability"]["risk"], True))
    if disclosure.get("inference"):
        secret, worst_inf = max(
            disclosure["inference"].items(),
            key=lambda kv: (kv[1]["risk"]["ci"][0], kv[1]["risk"]["value"]),
        )
        rows.append((f"Inference risk, worst ({secret})", worst_inf["risk"], True))
    return rows


# --------------------------------------------------------------------- demo
@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the demo outputs.")
    ] = Path("synthgen-demo"),
    rows: Annotated[int, typer.Option("--rows", "-n", help="Size of the simulated cohort.")] = 5000,
    model: Annotated[
        str, typer.Option("--model", "-m", help="Generator to train.")
    ] = "gaussian_copula",
    seed: Annotated[int, typer.Option(help="Seed for everything.")] = 0,
) -> None:
    """Walk the whole pipeline on the embedded simulated cohort."""
    from synthgen.walkthrough import run_demo

    steps = []
    with _spinner("Running the demo") as spin:
        task = spin.add_task("demo")

        def step(message: str) -> None:
            steps.append(message)
            spin.update(task, description=message)

        result = run_demo(output, rows=rows, model=model, seed=seed, on_step=step)
    tbl = Table(title="synthgen demo: what was made and where")
    tbl.add_column("step")
    tbl.add_column("output")
    for label, path in result.outputs.items():
        tbl.add_row(label, str(path))
    console.print(tbl)
    q, ceiling = result.quality, result.ceiling
    fid = result.report.fidelity
    console.print(
        f"Fidelity (sdmetrics QualityReport, synthetic vs train): [bold]{q.overall:.1%}[/bold] "
        f"(column shapes {q.column_shapes:.1%}, pair trends {q.column_pair_trends:.1%}); "
        f"holdout vs train, the ceiling at this size: {ceiling.overall:.1%}"
    )
    det = fid["detection"]["auc"]
    if det["value"] is not None:
        console.print(
            f"Detection: boosted trees tell synthetic from real with AUC [bold]{det['value']:.3f}"
            f"[/bold] (0.5 = indistinguishable; holdout vs train {det['baseline']:.3f})"
        )
    for target, util in ((fid.get("utility") or {}).get("targets") or {}).items():
        auc = ((util.get("models") or {}).get("boosting") or {}).get("auc")
        if auc and auc["value"] is not None:
            console.print(
                f"Utility: a model of {target} trained on synthetic scores AUC "
                f"[bold]{auc['value']:.3f}[/bold] on real records; trained on real: "
                f"{auc['baseline']:.3f}"
            )
    attack = result.report.privacy["membership_attacks"]["distance"]["auc"]
    dcr = result.report.privacy["distance_to_closest_record"]["dcr_share"]
    console.print(
        f"Privacy: distance membership attack AUC [bold]{attack['value']:.3f}[/bold] "
        f"(0.5 = no better than chance); DCR share {dcr['value']:.1%} (50% is ideal)"
    )
    verdict = result.release.verdict
    if verdict.released:
        console.print(
            f"Release: [green]released[/green] under policy '{verdict.policy_name}' "
            f"({len(verdict.checks)} checks passed); verify with: synthgen verify "
            f"{result.release.bundle} --key {output / 'keys' / 'signing_key.pub.pem'}"
        )
    else:
        failing = ", ".join(
            c.rule + (f" ({c.target})" if c.target else "") for c in verdict.failures
        )
        console.print(f"Release: [red]blocked[/red] by policy '{verdict.policy_name}': {failing}")


def _register_release_commands() -> None:
    from synthgen import cli_release

    cli_release.register(app)


_register_release_commands()


def main() -> None:
    """Console entry point: map errors to exit codes and one-line messages."""
    try:
        code = app(standalone_mode=False)
    except SynthgenError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - never show locals or values of patient data
        # Usage errors come from click or from typer's vendored copy of it: match by shape.
        if type(exc).__name__ == "NoArgsIsHelpError":
            console.print(exc.format_message(), markup=False, highlight=False)
            sys.exit(0)
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            _fail(exc.format_message())
        if type(exc).__name__ == "Abort":
            _fail("aborted")
        if os.environ.get("SYNTHGEN_DEBUG"):
            raise
        _fail(
            f"internal error ({type(exc).__name__}); rerun with SYNTHGEN_DEBUG=1 on "
            "non-sensitive data for details.",
            EXIT_INTERNAL,
        )
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int = EXIT_USER_ERROR) -> None:
    """One red line on stderr (markup off: messages may hold brackets), then exit."""
    line = " ".join(message.split())
    err_console.print(f"Error: {line}", style="red", markup=False, highlight=False, soft_wrap=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
