"""The first screen: the DLQs, deepest first, refreshed on an interval like `watch`.

Reading depths receives nothing: these are queue attributes, so refreshing is free of
the scanning caveat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState

from dlqctl.core.durations import format_duration
from dlqctl.core.wording import counted
from dlqctl.models import QueueInfo
from dlqctl.ui.screens.base import TriageScreen, failure_line
from dlqctl.ui.screens.dlq import DlqScreen
from dlqctl.ui.views import kind

COLUMNS = ("Queue", "Visible", "In flight", "Oldest", "Kind", "Sources")


class QueuesScreen(TriageScreen):
    HELP = (
        "The dead-letter queues, deepest first: messages visible, in flight (held by a "
        "consumer or a look), the age of the oldest (from CloudWatch, '-' when it has no "
        "data point), what kind of queue, and the queues that feed it. Refreshed every "
        "--interval; reading these receives no message."
    )
    AUTO_FOCUS = "#queues"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", priority=True),
        Binding("s", "refresh", "Refresh"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.known: dict[str, QueueInfo] = {}  # by name, so a refresh keeps the sources
        self.timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("reading queues…", id="queues-status", markup=False)
        yield DataTable(id="queues", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"dead-letter queues · {self.triage.sub_title}"
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.refresh_queues()
        self.timer = self.set_interval(self.triage.options.refresh_s, self.refresh_queues)

    def on_screen_suspend(self) -> None:
        # No polling behind another screen: its looks have the queue to themselves.
        if self.timer is not None:
            self.timer.pause()

    def on_screen_resume(self) -> None:
        if self.timer is not None:
            self.refresh_queues()
            self.timer.resume()

    def action_back(self) -> None:
        """Nothing is behind the first screen: `q` quits, Esc does nothing."""

    def action_refresh(self) -> None:
        self.refresh_queues()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            # By URL: a name alone would be looked up in the default region.
            url = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if url is not None:
                self.app.push_screen(DlqScreen(url))

    @work(thread=True, exclusive=True, group="queues", exit_on_error=False)
    def refresh_queues(self) -> list[QueueInfo]:
        api, names = self.triage.api, self.triage.options.queues
        if not names:
            return api.queues()
        if not self.known:  # sources once: `watch` reads depths and ages only
            self.known = {q.name: q for q in (api.describe(name) for name in names)}
        fresh = api.watch(names)
        return [q.model_copy(update={"sources": self.known[q.name].sources}) for q in fresh]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "queues":
            return
        status = self.query_one("#queues-status", Static)
        if event.state is WorkerState.SUCCESS:
            queues = cast("list[QueueInfo]", event.worker.result)
            self._show(sorted(queues, key=lambda q: q.depth, reverse=True))
            stamp = datetime.fromtimestamp(self.triage.api.clock(), UTC).strftime("%H:%M:%SZ")
            status.update(
                f"{counted(len(queues), 'queue')} · refreshed {stamp} · every "
                f"{format_duration(self.triage.options.refresh_s)}"
            )
        elif event.state is WorkerState.ERROR:
            status.update(failure_line(event.worker.error) or "")

    def _show(self, queues: list[QueueInfo]) -> None:
        table = self.query_one(DataTable)
        chosen = (
            table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            if table.row_count
            else None
        )
        table.clear()
        for q in queues:
            table.add_row(
                q.name,
                str(q.visible),
                str(q.in_flight),
                format_duration(q.oldest_age_s),
                kind(q),
                ", ".join(q.sources) or "-",
                key=q.url,
            )
        if chosen in {q.url for q in queues}:  # the cursor stays on its queue
            table.move_cursor(row=table.get_row_index(chosen))
