"""`?`: what the screen below shows, and its keys (taken from its live bindings, so the
help cannot drift from them)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

ABOUT = (
    "Every look (a DLQ's summary, a group's messages, a plan) receives the messages, "
    "holds them and releases them when it ends or its view closes: each look raises "
    "receive counts by one. Nothing changes without --write and the DLQ's name typed."
)


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen #help {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self._text())

    def _text(self) -> Content:
        rows = [Content.styled("Keys", "bold")]
        for active in self.below.active_bindings.values():
            binding = active.binding
            if not binding.show:
                continue
            key = self.app.get_key_display(binding)
            note = "" if active.enabled else "  (needs --write, and something selected)"
            rows.append(Content.assemble((f"{key:<7}", "bold"), binding.description, note))
        rows.append(Content.assemble((f"{'esc':<7}", "bold"), "Back, like q"))
        rows.append(
            Content.assemble(
                (f"{'↑ ↓':<7}", "bold"), "Move in a table (also PgUp, PgDn, Home, End)"
            )
        )
        about = getattr(self.below, "HELP", "")
        parts = [Content(about), Content(""), *rows, Content(""), Content.styled(ABOUT, "dim")]
        return Content("\n").join(parts)
