"""`dlqctl ui`: the Textual app, its options, and how it starts and ends.

Screens: the DLQs (screens/queues.py) → one DLQ's summary (screens/dlq.py) → a group's
messages (screens/messages.py); redrive, purge and export open a plan to confirm
(screens/action.py). Every look and run goes through `Background`, so that however the
app ends, what a look held is released and a run is stopped and journaled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from dlqctl.api import Dlqctl
from dlqctl.ui.background import Background
from dlqctl.ui.screens.dlq import DlqScreen
from dlqctl.ui.screens.help import HelpScreen
from dlqctl.ui.screens.queues import QueuesScreen


@dataclass(frozen=True)
class UiOptions:
    """What `dlqctl ui` was started with, beyond the API's settings."""

    queues: tuple[str, ...] = ()  # empty: every DLQ in the account and region
    write: bool = False  # read-only unless --write
    refresh_s: float = 5.0
    limit: int = 50  # messages shown per group
    redact: tuple[str, ...] = ()
    journal: Path | None = None
    export_dir: Path = field(default_factory=Path)
    open_queue: str | None = None  # a DLQ to open at once (one QUEUE, or --pipeline)


class TriageApp(App[None]):
    """The terminal UI over one `Dlqctl`."""

    TITLE = "dlqctl"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
    ]

    def __init__(self, api: Dlqctl, options: UiOptions, *, no_color: bool = False) -> None:
        if no_color:
            # Textual reads NO_COLOR when the app is built: --no-color sets it for Textual.
            os.environ["NO_COLOR"] = "1"
        super().__init__()
        self.api = api
        self.options = options
        self.background = Background()
        self.crash: BaseException | None = None
        self.sub_title = "read-write" if options.write else "read-only"

    def on_mount(self) -> None:
        self.push_screen(QueuesScreen())
        if self.options.open_queue:
            self.push_screen(DlqScreen(self.options.open_queue))

    def on_unmount(self) -> None:
        self.background.settle()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_interrupt(self) -> None:
        """Ctrl+C: during a run, stop it after the batch in hand (as the CLI does) and
        stay for its report; otherwise quit."""
        if self.background.interrupt_runs():
            self.notify("stopping after the batch in hand; its report follows", timeout=10)
            return
        self.exit()

    def _fatal_error(self) -> None:
        # Textual's own crash report shows local variables, and message bodies live
        # there: keep the exception for `dlqctl ui` to report in one line (or, with -v,
        # as a traceback without locals) once the terminal is restored.
        self.crash = self._exception
        self.exit(return_code=1)


def run(app: TriageApp) -> None:
    """Run the app in this terminal; whatever ends it, nothing stays held."""
    try:
        app.run()
    finally:
        app.background.settle()
    if app.crash is not None:
        raise app.crash
