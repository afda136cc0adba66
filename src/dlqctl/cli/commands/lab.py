"""`dlqctl lab`: the pipeline on moto's server on this machine, to break and to fix."""

import os
import shlex
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from dlqctl.cli.app import app
from dlqctl.cli.common import Invocation, guarded
from dlqctl.cli.formats import OutputFormat
from dlqctl.cli.options import NoColor, OutputOption, Verbose
from dlqctl.errors import NotFoundError, UsageError

lab_app = typer.Typer(
    name="lab",
    help="A local lab: the pipeline (API → ingest → SQS → worker → ledger) on moto's server on 127.0.0.1.",
    no_args_is_help=True,
)
app.add_typer(lab_app, name="lab")


class Scenario(StrEnum):
    gameday = "gameday"
    kinds = "kinds"


def _lab(*, starts: bool = False) -> Any:
    """The lab's modules. A command that `starts` something needs the `lab` extra
    (moto's server, Powertools): checked first, so a missing package is one line, not a
    server that never comes up. Stopping and looking never need it, so a lab can always
    be stopped."""
    from dlqctl.lab import preflight

    if starts and (problem := preflight.problem()):
        raise UsageError(problem)
    try:
        from dlqctl.lab import control, environment, gameday, state, traffic
    except ImportError as exc:
        raise UsageError(
            f"the lab needs {exc.name} (the `lab` extra): {preflight.install_command()}"
        ) from None
    return control, environment, gameday, state, traffic


def _running() -> Any:
    _, _, _, state, _ = _lab()
    current = state.LabState.load()
    if current is None or not current.server_running():
        raise NotFoundError("no lab is running: start one with `dlqctl lab up`")
    return current


@lab_app.command("up")
@guarded
def up(
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            "-y",
            help="Do not ask: write the `lab` pipeline to the user config, not ./dlqctl.toml.",
        ),
    ] = False,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Start the lab in the background: server, resources from the pipeline spec, poller.

    It registers a `lab` pipeline in the user config (~/.config/dlqctl/config.toml). With
    a ./dlqctl.toml in the working directory, a file people commit, it asks first whether
    to write there instead; without a terminal, or with --yes, it does not ask.

    **Examples:**

        dlqctl lab up && eval "$(dlqctl lab env)"
    """
    from dlqctl.cli.moving import can_prompt

    inv = Invocation(locals())
    control, *_ = _lab(starts=True)
    started = control.up(None if yes or not can_prompt() else _may_write_project)
    resources = started.resources
    document = {
        "endpoint": resources.endpoint,
        "resources": resources.as_dict(),
        "server_pid": started.server_pid,
        "poller_pid": started.poller_pid,
        "config_file": str(started.config_file),
    }
    if not inv.out.for_people:
        inv.out.report(document, view="")  # JSON or ndjson: the document alone
        return
    lines = [
        f"lab up at {resources.endpoint}",
        f"(server pid {started.server_pid}, poller pid {started.poller_pid})",
        f"lab pipeline written to {started.config_file}",
        'next: eval "$(dlqctl lab env)"',
        "      dlqctl lab send --count 20 --poison-ratio 0.2",
        "      dlqctl queues",
    ]
    # One line each, whatever the width, as `down` prints them: the path must paste whole.
    inv.out.console.print("\n".join(lines), soft_wrap=True, markup=False)


def _may_write_project(path: Path) -> bool:
    """Asked in a terminal, before anything starts: the project file is often committed."""
    from dlqctl.cli.moving import plain_interrupts
    from dlqctl.config import user_config_path

    with plain_interrupts():
        return typer.confirm(
            f"{path} is a project file (often committed): write the `lab` pipeline into it? "
            f"No writes it to the user config, {user_config_path()}",
            default=False,
            err=True,
        )


@lab_app.command("down")
@guarded
def down(
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Stop what `lab up` started and remove the `lab` pipeline it wrote. Safe to run twice.

    A `lab` pipeline that `lab up` did not write stays in the config file.

    **Examples:**

        dlqctl lab down && eval "$(dlqctl lab env --unset)"
    """
    inv = Invocation(locals())
    control, environment, *_ = _lab()
    teardown = control.down()
    document = {
        "stopped": teardown.stopped,
        "left_alone": teardown.left_alone,
        "pipeline": str(teardown.pipeline),
        "config_file": str(teardown.config_file) if teardown.config_file else None,
    }
    if not inv.out.for_people:
        inv.out.report(document, view="")  # JSON or ndjson: the document alone
        return
    lines = [_teardown_line(control.PipelineOutcome, teardown)]
    if teardown.left_alone:
        lines.append(
            f"left alone {', '.join(teardown.left_alone)}: another process has that pid now "
            "(the lab's state file was stale); removed the state file"
        )
    if os.environ.get("DLQCTL_PIPELINE") == environment.LAB_PIPELINE:
        lines.append('next: eval "$(dlqctl lab env --unset)" to point this shell away from the lab')
    # One line each, whatever the width: the terminal may wrap them, Rich must not, or the
    # config file's path could not be pasted.
    inv.out.console.print("\n".join(lines), soft_wrap=True, markup=False)


def _teardown_line(outcome: Any, teardown: Any) -> str:
    """One line: the processes stopped, and what became of the `lab` pipeline."""
    stopped = "stopped " + ", ".join(teardown.stopped) if teardown.stopped else "no lab was running"
    pipeline = {
        outcome.REMOVED: f"; removed the lab pipeline from {teardown.config_file}",
        outcome.KEPT: f"; kept the lab pipeline in {teardown.config_file}: `lab up` did not write it",
        outcome.ABSENT: "",
    }[teardown.pipeline]
    return stopped + pipeline


@lab_app.command("status")
@guarded
def status(
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Endpoint, resources, queue depths, failure mode and poller health.

    **Examples:**

        dlqctl lab status -o json | jq '.queues'
    """
    inv = Invocation(locals())
    control, *_ = _lab()
    current = control.status()
    if not current["running"]:
        stale = " (its state file was stale: removed)" if current["stale_state_cleared"] else ""
        inv.out.report(current, f"no lab is running{stale}: start one with `dlqctl lab up`")
        return
    poller = current["poller"]
    lines = [
        f"endpoint {current['endpoint']} · failure mode {current['failure_mode']} · up {current['uptime_s']}s"
    ]
    lines += [
        f"{name}: visible {d['visible']} · in flight {d['in_flight']} · delayed {d['delayed']}"
        for name, d in current["queues"].items()
    ]
    age = poller["heartbeat_age_s"]
    beat = f"heartbeat {age}s ago" if age is not None else "no heartbeat yet"
    health = "healthy" if poller["healthy"] else "NOT healthy"
    lines.append(f"poller pid {poller['pid']}: {health} ({beat})")
    inv.out.report(current, "\n".join(lines))


@lab_app.command("send")
@guarded
def send(
    count: Annotated[int, typer.Option(min=1, max=10_000, help="How many orders to post.")] = 10,
    poison_ratio: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of orders marked poison.")
    ] = 0.0,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Post orders through the real ingest handler (API Gateway events) into the lab.

    **Examples:**

        dlqctl lab send --count 50 --poison-ratio 0.1
    """
    inv = Invocation(locals())
    _, environment, _, state, traffic = _lab(starts=True)
    current = _running()
    os.environ.update(environment.environment(current.resources.endpoint, current.resources))
    from dlqctl.lab.logs import pipeline_logs_to

    with pipeline_logs_to(state.lab_dir() / "ingest.log"):
        sent = traffic.send_orders(count, poison_ratio)
    inv.out.report(
        {"accepted": sent.accepted, "rejected": sent.rejected, "poison": sent.poison},
        f"accepted {sent.accepted} orders ({sent.poison} poison), rejected {sent.rejected}",
    )


@lab_app.command("failure-mode")
@guarded
def failure_mode(
    mode: Annotated[
        str, typer.Argument(help="none, poison, timeout or error-rate:P (P from 0 to 1).")
    ],
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Flip the worker's failure mode (the SSM parameter), as a GameDay does.

    **Examples:**

        dlqctl lab failure-mode error-rate:0.3
    """
    inv = Invocation(locals())
    _, environment, _, _, _ = _lab()
    current = _running()
    try:
        environment.set_failure_mode(current.resources.endpoint, mode)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    value = environment.failure_mode(current.resources.endpoint)
    inv.out.report({"failure_mode": value}, f"failure mode is now {value}")


@lab_app.command("env")
@guarded
def env(
    unset: Annotated[
        bool,
        typer.Option(
            "--unset",
            help="Print the `unset` line that undoes `lab env`; works with no lab running.",
        ),
    ] = False,
) -> None:
    """Print `export` lines that point dlqctl, boto3 and the AWS CLI at the running lab.

    Except `aws sqs` from the AWS CLI v1 (`pip install awscli`), which goes to AWS whatever
    the variables say: the last line, a comment, shows the `--endpoint-url` form it needs
    (see docs/lab.md).

    **Examples:**

        dlqctl lab env

        eval "$(dlqctl lab env)"

        eval "$(dlqctl lab env --unset)"
    """
    _, environment, _, _, _ = _lab()
    if unset:
        typer.echo("unset " + " ".join(environment.shell_variable_names()))
        return
    endpoint = _running().resources.endpoint
    for name, value in environment.shell_environment(endpoint).items():
        typer.echo(f"export {name}={shlex.quote(value)}")
    # v1's overridesslcommonname customization pins SQS to queue.amazonaws.com unless
    # --endpoint-url is given (measured with 1.29.0 to 1.46.3; see docs/lab.md).
    typer.echo(
        f"# AWS CLI v1 ignores AWS_ENDPOINT_URL for sqs: aws --endpoint-url {endpoint} sqs list-queues"
    )


@lab_app.command("demo")
@guarded
def demo(
    orders: Annotated[int, typer.Option(min=4, max=500, help="Orders in the poison phase.")] = 24,
    poison_ratio: Annotated[
        float, typer.Option(min=0.05, max=0.9, help="Share of them marked poison.")
    ] = 0.25,
    burst: Annotated[
        int, typer.Option(min=1, max=200, help="Orders sent during the timeout burst.")
    ] = 8,
    scenario: Annotated[
        Scenario,
        typer.Option(
            help="gameday: the pipeline's DLQ GameDay; kinds: a Lambda async DLQ and an "
            "EventBridge rule's DLQ inspected and redriven to where they failed."
        ),
    ] = Scenario.gameday,
    output: OutputOption = OutputFormat.table,
    no_color: NoColor = False,
    verbose: Verbose = False,
) -> None:
    """Run a whole DLQ GameDay unattended, in this process, in about a minute and a half.

    Poison payloads and a timeout burst fill the DLQ; dlqctl inspects it, dry-runs a
    redrive, and once the failure mode is back to `none` redrives the transient failures
    behind a canary. Nothing is left running afterwards, also after Ctrl-C or an error.

    **Examples:**

        dlqctl lab demo

        dlqctl lab demo --orders 8 --burst 4 -o json

        dlqctl lab demo --scenario kinds
    """
    inv = Invocation(locals())
    _, _, gameday, state, _ = _lab(starts=True)

    from dlqctl.cli.render import inspect_view, redrive_view
    from dlqctl.models import InspectReport, RedriveReport

    def show(item: object) -> None:
        if not inv.out.for_people:
            return
        if isinstance(item, InspectReport):
            inv.out.console.print(inspect_view(item))
        elif isinstance(item, RedriveReport):
            inv.out.console.print(redrive_view(item))
        else:
            from rich.text import Text

            inv.out.console.print(Text(str(item), style="bold cyan"))

    if scenario is Scenario.kinds:
        from dlqctl.lab.kinds_demo import run_kinds_demo

        kinds = run_kinds_demo(show, workdir=state.lab_dir())
        inv.out.report(
            {
                "invoked": kinds.invoked,
                "delivered": kinds.delivered,
                "left_in_dlqs": kinds.left_in_dlqs,
                "seconds": kinds.seconds,
            },
            f"kinds demo done in {kinds.seconds}s: {kinds.invoked} invocations replayed, "
            f"{kinds.delivered} events delivered, {kinds.left_in_dlqs} left in the DLQs",
        )
        return

    summary = gameday.run_gameday(
        show,
        orders=orders,
        poison_ratio=poison_ratio,
        burst=burst,
        workdir=state.lab_dir(),
    )
    document = {
        "sent": summary.sent,
        "poison": summary.poison,
        "reached_dlq": summary.reached_dlq,
        "redriven": summary.redriven,
        "recovered": summary.recovered,
        "left_in_dlq": summary.left_in_dlq,
        "seconds": summary.seconds,
    }
    inv.out.report(
        document,
        f"GameDay done in {summary.seconds}s: sent {summary.sent}, {summary.reached_dlq} "
        "reached the DLQ,\n"
        f"{summary.recovered} recovered by the redrive, {summary.left_in_dlq} poison left "
        "for a person",
    )
