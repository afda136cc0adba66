"""A screen over one look at a DLQ: `/` filters, `s` looks again, and with --write
`r`/`p`/`e` redrive, purge or export what is selected."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from dlqctl.ui.actions import Action, ActionKind, Selection
from dlqctl.ui.filter_bar import FilterBar
from dlqctl.ui.filter_text import FilterText
from dlqctl.ui.screens.action import ActionScreen
from dlqctl.ui.screens.base import Progress, TriageScreen


class LookScreen(TriageScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "look_again", "Rescan"),
        Binding("r", "act('redrive')", "Redrive"),
        Binding("p", "act('purge')", "Purge"),
        Binding("e", "act('export')", "Export"),
    ]

    def __init__(self, queue: str, criteria: FilterText) -> None:
        super().__init__()
        self.queue = queue
        self.criteria = criteria

    def selection(self) -> Selection | None:
        """What r/p/e would act on; None when nothing is selected."""
        raise NotImplementedError

    def look_again(self) -> None:
        """Start a fresh look (the one before it is cancelled and releases)."""
        raise NotImplementedError

    def status(self, text: str) -> None:
        self.query_one(".look-status", Static).update(text)

    def filter_note(self) -> str:
        return f" · filter: {self.criteria.text}" if self.criteria.text else ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open" and isinstance(self.focused, Input):
            return False  # Enter belongs to the filter bar while it is open
        # Read-only unless --write: the keys show dimmed and do nothing.
        if action == "act":
            return True if self.triage.options.write and self.selection() else None
        return True

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_filter_bar_applied(self, event: FilterBar.Applied) -> None:
        self.criteria = event.criteria
        self.look_again()

    def action_look_again(self) -> None:
        self.look_again()

    def action_act(self, kind: str) -> None:
        selection = self.selection()
        if not self.triage.options.write or selection is None:
            return
        action = Action.of(ActionKind(kind), selection, self.triage.options.export_dir)
        self.app.push_screen(ActionScreen(action), self._after_action)

    def _after_action(self, changed: bool | None) -> None:
        if changed:
            self.look_again()

    def on_progress(self, event: Progress) -> None:
        self.status(f"scanning {self.queue}… {event.done} of ~{event.total}")
