"""Redrive, purge or export: the plan, the typed confirmation, the run and its report.

The plan is a dry run through the API (the object `--dry-run` prints). Nothing changes
unless the DLQ's name is typed exactly; the run then goes through the CLI's own call,
with the journal, limited to the plan's messages. Esc during the run stops it after the
batch in hand, like Ctrl-C in the CLI.
"""

from __future__ import annotations

from enum import Enum, auto
from typing import TYPE_CHECKING, ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from dlqctl.core.engine import StopSignal
from dlqctl.core.wording import counted
from dlqctl.errors import DlqctlError
from dlqctl.ui.actions import Action, Report, planned_ids
from dlqctl.ui.screens.base import Progress, failure_line
from dlqctl.ui.views import lines, plan_view, report_view

if TYPE_CHECKING:
    from dlqctl.ui.app import TriageApp


class Phase(Enum):
    planning = auto()
    confirming = auto()
    running = auto()
    done = auto()


VERBS = {"redrive": "redrive", "purge": "delete", "export": "export"}


class ActionScreen(ModalScreen[bool]):
    """Dismissed with True when the run changed something (the view then looks again)."""

    HELP = (
        "The plan of this action: a dry run that changes nothing. To go ahead, type the "
        "DLQ's name and press Enter; the run acts on the plan's messages only, at most "
        "as many, and is recorded in the audit journal (`dlqctl history`)."
    )
    DEFAULT_CSS = """
    ActionScreen { align: center middle; }
    ActionScreen #dialog {
        width: 90%; max-width: 110; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ActionScreen #plan { height: auto; max-height: 24; }
    ActionScreen #confirm, ActionScreen #progress { display: none; }
    ActionScreen.-confirming #confirm { display: block; }
    ActionScreen.-running #progress { display: block; }
    ActionScreen #hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "leave", "Cancel / stop")]

    def __init__(self, action: Action) -> None:
        super().__init__()
        self.action = action
        self.phase = Phase.planning
        self.plan: Report | None = None
        self.stop = StopSignal()
        self.changed = False

    @property
    def triage(self) -> TriageApp:
        return cast("TriageApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with VerticalScroll(id="plan"):
                yield Static(f"planning: {self.action.kind.value} …", id="plan-text")
            yield Input(placeholder="the DLQ's name", id="confirm")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("Esc: cancel", id="hint", markup=False)

    def on_mount(self) -> None:
        self._plan()

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def _plan(self) -> Report:
        cancelled = get_current_worker().cancelled_event
        with self.triage.background.look(cancelled, self._progress) as progress:
            return self.action.plan(self.triage.api, progress)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run(self, plan: Report) -> Report:
        with self.triage.background.run(self.stop):
            return self.action.run(
                self.triage.api,
                plan,
                journal=self.triage.options.journal,
                stop=self.stop,
                on_progress=self._progress,
            )

    def _progress(self, done: int, total: int) -> None:
        self.post_message(Progress(done, total))

    def on_progress(self, event: Progress) -> None:
        self.query_one(ProgressBar).update(total=max(event.total, 1), progress=event.done)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if event.worker.group == "plan":
            self._planned(event.worker)
        elif event.worker.group == "run":
            self._ran(event.worker)

    def _planned(self, worker: Worker[Report]) -> None:
        if worker.state is WorkerState.ERROR:
            self._finish(failure_line(worker.error) or "")
            return
        plan = self.plan = worker.result
        assert plan is not None
        shown = plan_view(self.action, plan)
        count = len(planned_ids(plan))
        if not count:
            self._finish(lines([shown, "", f"nothing to {self.action.kind.value}"]))
            return
        verb = VERBS[self.action.kind.value]
        name = self.action.selection.name
        self._say(
            lines(
                [
                    shown,
                    "",
                    f"Type {name} and press Enter to {verb} {counted(count, 'message')}"
                    " (only these; fewer if some left the DLQ meanwhile).",
                ]
            )
        )
        self.phase = Phase.confirming
        self.set_class(True, "-confirming")
        self.query_one("#hint", Static).update("Enter: confirm · Esc: cancel, nothing changes")
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.phase is not Phase.confirming or self.plan is None:
            return
        if event.value.strip() != self.action.selection.name:
            self.query_one("#hint", Static).update(
                f"that is not {self.action.selection.name}: nothing was changed (Esc: cancel)"
            )
            return
        self.phase = Phase.running
        self.set_class(False, "-confirming")
        self.set_class(True, "-running")
        self.query_one("#hint", Static).update("running… Esc: stop after the batch in hand")
        self._run(self.plan)

    def _ran(self, worker: Worker[Report]) -> None:
        self.changed = True
        self.set_class(False, "-running")
        if worker.state is WorkerState.SUCCESS:
            assert worker.result is not None
            self._finish(report_view(self.action, worker.result))
            return
        error = worker.error
        done = error.report if isinstance(error, DlqctlError) else None
        shown = report_view(self.action, done) if isinstance(done, Report) else ""
        self._finish(lines([shown, failure_line(error) or ""]))

    def _say(self, text: Content | str) -> None:
        self.query_one("#plan-text", Static).update(text)

    def _finish(self, text: Content | str) -> None:
        self.phase = Phase.done
        self._say(text)
        self.query_one("#hint", Static).update("Esc: close")

    def action_leave(self) -> None:
        if self.phase is Phase.running:
            self.stop.request("interrupted")
            self.query_one("#hint", Static).update(
                "stopping after the batch in hand; the report follows"
            )
            return
        # Leaving while the plan is still looking cancels it: it releases what it held.
        self.dismiss(self.changed)
