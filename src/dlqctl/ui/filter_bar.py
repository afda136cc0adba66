"""The filter bar: the CLI's filter flags on one line, opened with `/`."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static

from dlqctl.errors import DlqctlError
from dlqctl.ui.filter_text import FilterText, parse_filter_text

PLACEHOLDER = (
    "--error-type Timeout --min-age 15m --query 'total > `100`'   (Enter: apply, Esc: close)"
)


class FilterBar(Vertical):
    """Hidden until opened; Enter applies a filter that reads, Esc closes unchanged."""

    DEFAULT_CSS = """
    FilterBar { height: auto; display: none; }
    FilterBar.-open { display: block; }
    FilterBar #filter-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close filter")]

    class Applied(Message):
        def __init__(self, criteria: FilterText) -> None:
            super().__init__()
            self.criteria = criteria

    def __init__(self, criteria: FilterText) -> None:
        super().__init__()
        self.criteria = criteria

    def compose(self) -> ComposeResult:
        yield Input(self.criteria.text, placeholder=PLACEHOLDER, id="filter-input")
        yield Static("", id="filter-error", markup=False)

    def open(self) -> None:
        self.add_class("-open")
        self.query_one(Input).focus()

    def action_close(self) -> None:
        self.query_one(Input).value = self.criteria.text
        self.query_one("#filter-error", Static).update("")
        self.remove_class("-open")
        self.screen.set_focus(self.screen.query_one(DataTable))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            criteria = parse_filter_text(event.value)
        except DlqctlError as exc:
            # The same words the CLI prints for the same flags.
            self.query_one("#filter-error", Static).update(f"dlqctl: error: {exc.message}")
            return
        self.criteria = criteria
        self.action_close()
        self.post_message(self.Applied(criteria))
