"""One DLQ: the `inspect` summary — groups by error type, ages, receive counts, what
expires soon, coverage and warnings. Enter opens a group's messages."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker, WorkerState, get_current_worker

from dlqctl.core.durations import format_duration
from dlqctl.core.wording import counted
from dlqctl.models import InspectReport
from dlqctl.ui.actions import Selection
from dlqctl.ui.filter_bar import FilterBar
from dlqctl.ui.filter_text import FilterText
from dlqctl.ui.screens.base import failure_line
from dlqctl.ui.screens.looking import LookScreen
from dlqctl.ui.screens.messages import MessagesScreen
from dlqctl.ui.views import age_chart, inspect_notes, queue_header

COLUMNS = ("Error type", "From", "Count", "Oldest", "Newest")


class DlqScreen(LookScreen):
    HELP = (
        "One DLQ, scanned the way `dlqctl inspect` scans it: every message is received, "
        "held, then released (its receive count goes up by one; nothing is deleted). "
        "The groups are its error types, with where each type came from (attribute, "
        "ledger, rule or none); r/p/e act on the highlighted group."
    )
    DEFAULT_CSS = """
    DlqScreen #groups { height: 1fr; min-height: 4; }
    DlqScreen #dlq-lower { height: auto; max-height: 12; }
    DlqScreen #ages { width: 1fr; padding: 0 1; }
    DlqScreen #notes { width: 1fr; padding: 0 1; }
    DlqScreen #dlq-header { padding: 0 1; }
    DlqScreen .look-status { padding: 0 1; }
    """
    AUTO_FOCUS = "#groups"  # the table, not the hidden filter bar
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Messages", priority=True)]

    def __init__(self, queue: str, criteria: FilterText | None = None) -> None:
        super().__init__(queue, criteria or FilterText())
        self.report: InspectReport | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(self.criteria)
        yield Static(self.queue, id="dlq-header")
        yield Static("", classes="look-status", markup=False)
        yield DataTable(id="groups", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="dlq-lower"):
            yield Static("", id="ages")
            yield Static("", id="notes")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"{self.queue} · {self.triage.sub_title}"
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.look_again()

    def look_again(self) -> None:
        self.status(f"scanning {self.queue}…")
        self._inspect()

    @work(thread=True, exclusive=True, group="look", exit_on_error=False)
    def _inspect(self) -> InspectReport:
        cancelled = get_current_worker().cancelled_event
        with self.triage.background.look(cancelled, self.report_progress) as progress:
            return self.triage.api.inspect(
                self.queue, self.criteria.message_filter, on_progress=progress
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "look":
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, InspectReport):
            self._show(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.status(failure_line(event.worker.error) or "")

    def _show(self, report: InspectReport) -> None:
        self.report = report
        self.sub_title = f"{report.queue.name} · {self.triage.sub_title}"
        self.query_one("#dlq-header", Static).update(queue_header(report.queue))
        self.status(f"{counted(report.matched, 'message')} matching{self.filter_note()}")
        table = self.query_one(DataTable)
        table.clear()
        for group in report.by_error_type:
            table.add_row(
                group.error_type,
                ", ".join(group.sources),
                str(group.count),
                format_duration(group.oldest_age_s),
                format_duration(group.newest_age_s),
                key=group.error_type,
            )
        self.query_one("#ages", Static).update(age_chart(report.age_buckets))
        self.query_one("#notes", Static).update(inspect_notes(report))
        self.refresh_bindings()

    def highlighted_group(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(key) if key is not None else None

    def selection(self) -> Selection | None:
        group = self.highlighted_group()
        if group is None or self.report is None:
            return None
        name = self.report.queue.name
        return Selection(
            self.queue, name, f"error type {group}", self.criteria, {"error_types": [group]}
        )

    def action_open(self) -> None:
        group = self.highlighted_group()
        if group is not None:
            self.app.push_screen(MessagesScreen(self.queue, self.criteria, group))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()
