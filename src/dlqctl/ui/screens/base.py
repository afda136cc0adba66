"""What every screen shares: the app, `q` to go back, progress from worker threads, and
how a worker's failure is said."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen

from dlqctl.errors import DlqctlError
from dlqctl.ui.background import LookCancelled

if TYPE_CHECKING:
    from dlqctl.ui.app import TriageApp


class Progress(Message):
    """A look's or a run's progress, posted from its worker thread (posting never
    blocks, so a worker cannot wait on a loop that is busy ending the app)."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


def failure_line(error: BaseException | None) -> str | None:
    """A failed worker's error in one line, as the CLI would say it; None for a look
    that was cancelled because its view went away."""
    if error is None or isinstance(error, LookCancelled):
        return None
    if isinstance(error, DlqctlError):
        return f"error: {error.message}"
    return f"unexpected {type(error).__name__}: {error}"


class TriageScreen(Screen[None]):
    """A screen of the triage app."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "back", "Back"),
        Binding("escape", "back", "Back", show=False),
    ]
    HELP: ClassVar[str] = ""  # what the screen shows, for the help screen

    @property
    def triage(self) -> TriageApp:
        return cast("TriageApp", self.app)

    def action_back(self) -> None:
        # Popping the screen cancels its workers: a look in flight stops at its next
        # receive and releases what it held.
        self.app.pop_screen()

    def report_progress(self, done: int, total: int) -> None:
        """A progress callback for worker threads."""
        self.post_message(Progress(done, total))
