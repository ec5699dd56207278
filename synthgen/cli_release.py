"""The release commands of the ``synthgen`` CLI: release, report, keygen, verify, policy.

Registered on the app by :func:`register` (called from :mod:`synthgen.cli`); thin commands
over one library call each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from synthgen._cli_common import EXIT_BLOCKED, JsonOpt, _bar, _spinner, console
from synthgen.errors import InputError
from synthgen.evaluation.report import describe_budget
from synthgen.release.gate import DP_RULE

policy_app = typer.Typer(
    help="Release policies: list the built-in profiles, show one.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PolicyOpt = Annotated[
    str,
    typer.Option("--policy", "-p", help="internal, partner, cross-border, or a policy YAML file."),
]


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _verdict_table(verdict: dict) -> Table:
    title = "RELEASED" if verdict["released"] else "BLOCKED"
    policy = verdict["policy"]
    name = policy.get("name") if isinstance(policy, dict) else policy
    tbl = Table(title=f"Policy '{name}': {title}")
    for col in ("rule", "target", "value", "threshold", "result"):
        tbl.add_column(col)
    for check in verdict["checks"]:
        status = check.get("status", "passed" if check["passed"] else "failed")
        if status == "failed":
            result = "[red]FAIL[/red]" + (f" ({check['reason']})" if check.get("reason") else "")
        elif status == "not applicable":
            result = f"[dim]n/a{' (' + check['reason'] + ')' if check.get('reason') else ''}[/dim]"
        else:
            result = "[green]pass[/green]"
        target = check.get("target")
        if check["rule"] == DP_RULE and target is None:
            target = "epsilon"  # the figure the DP check compares
        tbl.add_row(
            check["rule"],
            _fmt(target),
            _fmt(check.get("value")),
            f"{check.get('op', '')} {_fmt(check.get('threshold'))}",
            result,
        )
    return tbl


def _failure(check: dict) -> str:
    """A failing check in a few words; the DP check says what was wrong with ε."""
    if check["rule"] == DP_RULE:
        return f"{check['rule']} ({check['reason']})"
    return check["rule"] + (f" ({check['target']})" if check.get("target") else "")


# ------------------------------------------------------------------ release
def release(
    model_dir: Annotated[Path, typer.Argument(help="The model directory to release from.")],
    policy: PolicyOpt = "cross-border",
    n: Annotated[int, typer.Option("-n", "--rows", help="Synthetic records to release.")] = ...,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Bundle folder to create.")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            envvar="SYNTHGEN_SIGNING_KEY",
            help="The custodian's Ed25519 private key (from `synthgen keygen`).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample and the evaluation.")] = 0,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="The training data, if it moved since training."),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="Utility target column (repeatable)."),
    ] = None,
    shadow: Annotated[bool, typer.Option(help="Also run the shadow-model attack (slow).")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the verdict; write nothing.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing bundle folder.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Sample, evaluate, apply a release policy; write a signed bundle only if every rule passes.

    Exit code 0: released (or a dry run that would release); 2: blocked by the policy.
    """
    from synthgen.release.run import release as run_release

    settings = {"n_targets": 10, "n_controls": 5, "n_shadows": 8} if shadow else None
    with _bar("Releasing") as bar:
        task = bar.add_task("release", total=None)
        result = run_release(
            model_dir,
            policy=policy,
            n=n,
            output=output,
            key=key,
            seed=seed,
            source=data,
            targets=target or None,
            shadow=settings,
            dry_run=dry_run,
            overwrite=overwrite,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    verdict = result.verdict.to_dict()
    if as_json:
        console.print_json(json.dumps({"verdict": verdict, "bundle": _fmt(result.bundle)}))
    else:
        console.print(_verdict_table(verdict))
        if result.bundle is not None:
            console.print(f"Signed bundle written to [bold]{result.bundle}[/bold]")
        elif not result.verdict.released:
            failing = ", ".join(_failure(c) for c in verdict["checks"] if not c["passed"])
            console.print(f"[red]Blocked by policy '{result.policy.name}'[/red]: {escape(failing)}")
        else:
            console.print("Dry run: every rule passes; nothing was written.")
        dp = (result.report.get("privacy") or {}).get("differential_privacy")
        console.print(f"Differential privacy: {escape(describe_budget(dp))}", highlight=False)
    if not result.verdict.released:
        raise typer.Exit(EXIT_BLOCKED)


# ------------------------------------------------------------------- report
def report(
    report_dir: Annotated[Path, typer.Argument(help="An evaluation folder (report.json).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="html, pdf or json.")] = "html",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write; default REPORT_DIR/report.html, report.pdf or "
            "report.output-checked.json.",
        ),
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Small-cell threshold of the output check.")] = 10,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Render an existing evaluation as HTML, PDF or JSON, output-checked."""
    from synthgen.data.atomic import atomic_path
    from synthgen.evaluation.report import EvaluationReport
    from synthgen.release.output_check import check_report
    from synthgen.release.render import render_html, render_json, render_pdf

    renderers = {"html": render_html, "pdf": render_pdf, "json": render_json}
    if fmt not in renderers:
        raise InputError(f"--format must be html, pdf or json; got {fmt!r}")
    path = Path(report_dir) / "report.json" if Path(report_dir).is_dir() else Path(report_dir)
    if not path.is_file():
        raise InputError(f"'{report_dir}' holds no report.json; run `synthgen evaluate` first")
    doc = EvaluationReport.load(path).to_dict()
    checked, summary = check_report(doc, k=k)
    # the JSON rendering must not replace the evaluation's own report.json
    name = "report.output-checked.json" if fmt == "json" else f"report.{fmt}"
    output = output or path.with_name(name)
    if output.exists() and not overwrite:
        raise InputError(f"'{output}' already exists; choose another path or pass --overwrite")
    with _spinner(f"Rendering {fmt}"):
        content = renderers[fmt](checked, verdict=None, output_check=summary.to_dict())
    with atomic_path(output, overwrite=overwrite) as tmp:
        data = content.encode("utf-8") if isinstance(content, str) else content
        tmp.write_bytes(data)
    console.print(f"Report written to [bold]{output}[/bold]")


# ------------------------------------------------------------------- keygen
def keygen(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the key pair.")] = Path(
        "keys"
    ),
    overwrite: Annotated[bool, typer.Option(help="Replace an existing key pair.")] = False,
) -> None:
    """Make an Ed25519 key pair for signing bundles (the private key stays inside)."""
    from synthgen.release.keys import generate_keypair, key_id, load_public_key

    if not output.exists():
        if not output.parent.is_dir():
            raise InputError(f"folder '{output.parent}' does not exist")
        output.mkdir(mode=0o700)
    private, public = generate_keypair(
        output / "signing_key.pem", output / "signing_key.pub.pem", overwrite=overwrite
    )
    console.print(f"Private key (keep inside, 0600): [bold]{private}[/bold]")
    console.print(f"Public key (give to recipients): [bold]{public}[/bold]")
    console.print(f"Key id: {key_id(load_public_key(public))}")


# ------------------------------------------------------------------- verify
def verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle folder received.")],
    key: Annotated[
        Path,
        typer.Option("--key", help="The custodian's public key, obtained out of band."),
    ] = ...,
    as_json: JsonOpt = False,
) -> None:
    """Check a bundle's signature and every file's hash; name exactly what differs."""
    from synthgen.release.bundle import verify_bundle

    result = verify_bundle(bundle, public_key_path=key)
    # the manifest is trusted only once verified: the budget is shown only then
    budget = (result.manifest.get("provenance") or {}).get("privacy_budget") if result.ok else None
    if as_json:
        doc = {"ok": result.ok, "problems": list(result.problems)}
        if result.ok:
            doc["privacy_budget"] = budget
        console.print_json(json.dumps(doc))
    elif result.ok:
        console.print(f"[green]Verified[/green]: {bundle} is signed by this key and intact.")
        console.print(f"Differential privacy: {escape(describe_budget(budget))}", highlight=False)
    else:
        for problem in result.problems:
            console.print(f"[red]{problem}[/red]", markup=True, highlight=False)
    if not result.ok:
        raise InputError(f"bundle '{bundle}' failed verification ({len(result.problems)} problems)")


# ------------------------------------------------------------------- policy
@policy_app.command("list")
def policy_list() -> None:
    """The built-in policies, from lenient to strict."""
    from synthgen.release.policy import list_policies

    tbl = Table(title="Built-in release policies")
    for col in ("name", "rules", "k", "description"):
        tbl.add_column(col)
    for pol in list_policies():
        tbl.add_row(pol.name, str(len(pol.rules)), str(pol.small_cell_k), pol.description)
    console.print(tbl)


@policy_app.command("show")
def policy_show(
    name: Annotated[str, typer.Argument(help="A built-in policy name or a policy file.")],
) -> None:
    """Print a policy as YAML (a starting point for your own)."""
    from synthgen.release.policy import load_policy

    typer.echo(load_policy(name).to_yaml(), nl=False)  # unwrapped: it is meant to be saved


def register(app: typer.Typer) -> None:
    """Add the release commands to ``app``."""
    for command in (release, report, keygen, verify):
        app.command()(command)
    app.add_typer(policy_app, name="policy")
