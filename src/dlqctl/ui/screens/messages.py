"""A group's messages, oldest first: a table, and the highlighted message in full — its
body pretty-printed (redacted when --redact was given), attributes and ledger status.
Space marks messages; r/p/e act on the marked ones (or the highlighted one)."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from dlqctl.core.durations import format_duration
from dlqctl.models import DlqMessage, PeekResult
from dlqctl.ui.actions import Selection
from dlqctl.ui.filter_bar import FilterBar
from dlqctl.ui.filter_text import FilterText
from dlqctl.ui.screens.base import failure_line
from dlqctl.ui.screens.looking import LookScreen
from dlqctl.ui.views import byte_size, message_detail

COLUMNS = ("✓", "Message id", "Age", "Recv", "Size")
MARK = "●"


class MessagesScreen(LookScreen):
    HELP = (
        "The oldest messages of one error type (up to --limit), as `dlqctl peek` shows "
        "them: a look that receives, holds and releases. The highlighted message is shown "
        "in full below the table; --redact masks the fields it names."
    )
    DEFAULT_CSS = """
    MessagesScreen #messages { height: auto; max-height: 45%; }
    MessagesScreen #detail-pane { height: 1fr; border-top: solid $primary; padding: 0 1; }
    MessagesScreen .look-status { padding: 0 1; }
    """
    AUTO_FOCUS = "#messages"  # the table, not the hidden filter bar
    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "mark", "Mark")]

    def __init__(self, queue: str, criteria: FilterText, error_type: str) -> None:
        super().__init__(queue, criteria)
        self.error_type = error_type
        self.result: PeekResult | None = None
        self.marked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(self.criteria)
        yield Static("", classes="look-status", markup=False)
        yield DataTable(id="messages", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail-pane"):
            yield Static("", id="detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.queue} · {self.error_type} · {self.triage.sub_title}"
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.look_again()

    def look_again(self) -> None:
        self.status(f"scanning {self.queue}…")
        self._peek()

    @work(thread=True, exclusive=True, group="look", exit_on_error=False)
    def _peek(self) -> PeekResult:
        cancelled = get_current_worker().cancelled_event
        options = self.triage.options
        with self.triage.background.look(cancelled, self.report_progress) as progress:
            return self.triage.api.peek(
                self.queue,
                self.criteria.narrowed(error_types=[self.error_type]),
                limit=options.limit,
                redact=options.redact,
                on_progress=progress,
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "look":
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, PeekResult):
            self._show(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.status(failure_line(event.worker.error) or "")

    def _show(self, result: PeekResult) -> None:
        self.result = result
        self.sub_title = f"{result.queue.name} · {self.error_type} · {self.triage.sub_title}"
        shown = {m.message_id for m in result.messages}
        self.marked &= shown  # a mark on a message that is gone would act on nothing
        self.status(
            f"{self.error_type}: showing {len(result.messages)} of {result.matched} "
            f"(oldest first){self.filter_note()}"
        )
        table = self.query_one(DataTable)
        table.clear()
        for m in result.messages:
            table.add_row(
                MARK if m.message_id in self.marked else "",
                m.message_id,
                format_duration(m.age_s),
                str(m.receive_count),
                byte_size(m.body_bytes),
                key=m.message_id,
            )
        self._detail()
        self.refresh_bindings()

    def highlighted(self) -> DlqMessage | None:
        table = self.query_one(DataTable)
        if self.result is None or not table.row_count:
            return None
        return self.result.messages[table.cursor_row]

    def _detail(self) -> None:
        message = self.highlighted()
        self.query_one("#detail", Static).update(
            message_detail(message) if message else "no matching message"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_mark()

    def action_mark(self) -> None:
        message = self.highlighted()
        if message is None:
            return
        self.marked ^= {message.message_id}
        table = self.query_one(DataTable)
        mark = MARK if message.message_id in self.marked else ""
        table.update_cell(message.message_id, table.ordered_columns[0].key, mark)

    def selection(self) -> Selection | None:
        if self.result is None:
            return None
        ids = [m.message_id for m in self.result.messages if m.message_id in self.marked]
        if not ids:
            message = self.highlighted()
            if message is None:
                return None
            ids = [message.message_id]
        label = f"message {ids[0]}" if len(ids) == 1 else f"{len(ids)} marked messages"
        return Selection(
            self.queue,
            self.result.queue.name,
            label,
            self.criteria,
            {"error_types": [self.error_type], "message_ids": ids},
        )
