"""The `probe` command: builds validated options and hands them to the runner.

User errors (a broken scenario, a bad flag) print one line and exit 2; an internal error
prints a short banner and how to see the traceback (--debug).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from probe import __version__
from probe.errors import ProbeError, UsageError, UserError
from probe.findings import Severity
from probe.redact import Redactor

if TYPE_CHECKING:
    from probe.runner import Outcome, RunOptions
    from probe.scenario.loader import LoadedScenario

app = typer.Typer(
    name="probe",
    help="Black-box DAST probes for live HTTP APIs, driven by a YAML scenario.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("probe")

EXIT_INTERNAL = 4
_debug = False
_REDACTOR = Redactor()


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for raw in values or [] for v in raw.split(",") if v.strip())


def _variables(pairs: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            shown = name if sep else pair
            raise UsageError(
                f"--var takes NAME=VALUE with NAME made of letters, digits and _, got {shown!r}"
            )
        out[name] = value
        _REDACTOR.add_variable(name, value)
    return out


def _configure_logging(verbose: int) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    # -v: what the engine decides (refusals, renewals); -vv: every request too.
    logging.getLogger("probe").setLevel(
        logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    )
    # httpx and httpcore trace connections at DEBUG; only with -vvv.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 2 else logging.WARNING)
    return handler


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else many or one + 's'}"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"probe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    global _debug
    _debug = debug


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder.")] = Path("reports"),
    fmt: Annotated[
        list[str] | None, typer.Option("--format", help="json,html (default both).")
    ] = None,
    only: Annotated[list[str] | None, typer.Option("--only", help="Run only these probes.")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Skip these probes.")] = None,
    fail_on: Annotated[
        Severity, typer.Option("--fail-on", help="Exit 1 on a finding at or above this.")
    ] = Severity.high,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="NAME=VALUE for ${NAME} in the scenario.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the planned requests; send nothing.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
) -> None:
    """Scan the API a scenario describes and write the reports."""
    from probe import runner
    from probe.scenario.loader import load_scenario

    handler = _configure_logging(verbose)
    loaded = load_scenario(file, variables=_variables(var))
    formats = runner.check_formats(_split(fmt) or runner.FORMATS)
    options = runner.RunOptions(out, formats, _split(only), _split(skip), fail_on)
    if dry_run:
        probes = runner.select_probes(loaded.scenario, options.only, options.skip)
        for line in runner.plan(loaded.scenario, probes, loaded.secrets):
            typer.echo(line)
        raise typer.Exit(0)
    outcome = _scan(loaded, options, quiet=quiet, handler=handler)
    raise typer.Exit(outcome.exit_code)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    var: Annotated[list[str] | None, typer.Option("--var", help="NAME=VALUE.")] = None,
) -> None:
    """Check a scenario without sending anything."""
    from probe.scenario.loader import load_scenario

    loaded = load_scenario(file, variables=_variables(var))
    scenario = loaded.scenario
    typer.echo(
        f"{file}: valid: {scenario.name!r}, {_count(len(scenario.endpoints), 'endpoint')}, "
        f"{_count(len(scenario.identities), 'identity', 'identities')}, probes: "
        f"{', '.join(scenario.probes.enabled()) or 'none'}"
    )


@app.command()
def schema() -> None:
    """Print the scenario format's JSON Schema (for editor autocompletion)."""
    from probe.scenario.loader import scenario_json_schema

    typer.echo(json.dumps(scenario_json_schema(), indent=2))


@app.command()
def probes(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown tables.")] = False,
) -> None:
    """List probes and their rules."""
    from probe.catalogue import rules_markdown
    from probe.probes import REGISTRY

    if markdown:
        typer.echo(rules_markdown(), nl=False)
        return

    for probe in REGISTRY.values():
        state = "" if probe.implemented else "  (not in this release: checks are skipped)"
        typer.echo(f"{probe.id}: {probe.title}{state}")
        for rule in probe.rules:
            typer.echo(
                f"  {rule.id:<34} {rule.severity.value:<8} {rule.owasp:<9} "
                f"CWE-{rule.cwe:<4} {rule.title}"
            )


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder.")] = Path("reports"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    serve: Annotated[
        bool, typer.Option("--serve", help="Only run the demo API (until Ctrl-C); no scan.")
    ] = False,
) -> None:
    """Start the bundled weak demo API on 127.0.0.1, scan it, write the reports, stop it."""
    from probe import runner
    from probe.demo import DEMO_VARIABLES, demo_scenario_path, serve_demo
    from probe.report import ScanStatus
    from probe.scenario.loader import load_scenario

    handler = _configure_logging(0)
    path = demo_scenario_path()
    if not serve:
        runner.check_out(out)
    if serve:
        with serve_demo() as servers:
            typer.echo(
                f"demo API running at {servers.url}, its cleartext twin at {servers.http_url} "
                "(127.0.0.1 only); Ctrl-C stops it",
                err=True,
            )
            typer.echo(servers.url)
            for name, value in servers.variables().items():
                typer.echo(f"{name}={value}", err=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                raise typer.Exit(0) from None
    with serve_demo() as servers:
        if not quiet:
            typer.echo(
                f"demo API running at {servers.url} and {servers.http_url} (127.0.0.1 only)",
                err=True,
            )
        loaded = load_scenario(path, variables=servers.variables())
        # The demo's throwaway local URLs and CA file are no secret; its passwords stay
        # redacted.
        passwords = {k: v for k, v in loaded.secrets.items() if k in DEMO_VARIABLES}
        loaded = dataclasses.replace(loaded, secrets=passwords)
        outcome = _scan(loaded, runner.RunOptions(out=out), quiet=quiet, handler=handler)
    status = outcome.report.status
    raise typer.Exit(0 if status is ScanStatus.complete else outcome.exit_code or 1)


def _scan(
    loaded: LoadedScenario, options: RunOptions, *, quiet: bool, handler: logging.Handler
) -> Outcome:
    """Run the scan with progress on stderr, then print the summary and the report paths."""
    from probe import runner
    from probe.console import make_progress
    from probe.reports import console_summary

    progress = make_progress(quiet=quiet)
    try:
        outcome = runner.execute(loaded, options, progress, log_handler=handler)
    finally:
        progress.close()
    if not quiet:
        typer.echo(console_summary(outcome.report), err=True)
        for path in outcome.paths:
            typer.echo(f"report: {path}", err=True)
    return outcome


def _traceback_if_debug() -> None:
    # --debug shows the traceback but keeps the exit code, so CI can still tell them apart.
    # Tracebacks quote values (pydantic's input_value): --var values read as placeholders.
    if _debug:
        typer.echo(_REDACTOR.text(traceback.format_exc()), err=True, nl=False)


def main() -> None:
    """Run the CLI, turning errors into one line (user) or a short banner (internal)."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except KeyboardInterrupt:
        typer.echo("probe: interrupted", err=True)
        sys.exit(130)
    except UserError as err:
        _traceback_if_debug()
        typer.echo(f"probe: error: {err}", err=True)
        sys.exit(err.exit_code)
    except ProbeError as err:
        _traceback_if_debug()
        typer.echo(f"probe: error: {err}", err=True)
        sys.exit(getattr(err, "exit_code", 3))
    except typer.Abort:
        typer.echo("probe: interrupted", err=True)
        sys.exit(130)
    except typer.exceptions.TyperException as err:
        # Usage problems found by the command-line parser: message and exit 2.
        show = getattr(err, "show", None)
        if callable(show):
            show()
        sys.exit(getattr(err, "exit_code", 2))
    except Exception as err:
        _traceback_if_debug()
        typer.echo(
            f"probe: internal error: {type(err).__name__}: {err}\n"
            "This is a bug in probe. Re-run with --debug for the traceback and report it.",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)
