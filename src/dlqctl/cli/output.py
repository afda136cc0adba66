"""Where output goes: data on stdout, everything for people (errors, progress) on stderr."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from dlqctl.cli.formats import OutputFormat

PROGRESS_DELAY_S = 0.5
# Where a view has no edge to fit (a pipe, a file, --wide), each row is as wide as its
# content; this only bounds a freak (a body line of 100 KB), since a table pads every row
# out to its widest.
EDGELESS_WIDTH = 1000


def _plain(value: Any) -> Any:
    """Models (also nested in dicts and lists), datetimes and enums as JSON values."""
    from pydantic_core import to_jsonable_python  # not at import: `--help` needs no pydantic

    return to_jsonable_python(value)


class Output:
    def __init__(self, fmt: OutputFormat, *, no_color: bool = False, verbose: bool = False) -> None:
        self.format = fmt
        self.verbose = verbose
        self.no_color = no_color or bool(os.environ.get("NO_COLOR"))
        self.console = self._stdout(_width(sys.stdout))
        self.err = Console(
            stderr=True, width=_width(sys.stderr), no_color=self.no_color, highlight=False
        )

    def _stdout(self, width: int | None) -> Console:
        return Console(width=width, no_color=self.no_color, highlight=False, soft_wrap=False)

    @functools.cached_property
    def _edgeless(self) -> Console:
        return self._stdout(EDGELESS_WIDTH)

    @property
    def for_people(self) -> bool:
        return self.format is OutputFormat.table

    def emit(self, document: Any) -> None:
        """One JSON document on stdout."""
        sys.stdout.write(json.dumps(_plain(document), indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def emit_lines(self, items: Iterable[Any]) -> None:
        """ndjson: one compact object a line, flushed so a pipe sees each at once."""
        for item in items:
            sys.stdout.write(json.dumps(_plain(item), ensure_ascii=False, separators=(",", ":")))
            sys.stdout.write("\n")
            sys.stdout.flush()

    def show(self, view: RenderableType, *, wide: bool = False) -> None:
        """A view for people on stdout. `wide` lays it out as if the terminal had no edge
        (for a wide window, or `less -S`): every table a table, nothing wrapped to fit."""
        (self._edgeless if wide else self.console).print(view)

    def report(
        self,
        document: Any,
        view: RenderableType | Callable[[], RenderableType],
        warnings: Sequence[str] = (),
        *,
        wide: bool = False,
    ) -> None:
        """One result: a view and its warnings for people, the document for scripts.
        A plain string view is printed as it is, never read as markup."""
        if self.format is OutputFormat.table:
            shown = view() if callable(view) else view
            self.show(Text(shown) if isinstance(shown, str) else shown, wide=wide)
            for warning in warnings:
                self.warn(warning)
        elif self.format is OutputFormat.json:
            self.emit(document)
        else:
            self.emit_lines([document])

    def note(self, text: str) -> None:
        """A remark for people, on stderr so it never pollutes JSON."""
        self.err.print(text, style="dim", markup=False)

    def warn(self, text: str) -> None:
        self.err.print(f"warning: {text}", style="yellow", markup=False)

    def error(self, text: str) -> None:
        self.err.print(f"dlqctl: error: {text}", style="bold red", markup=False, soft_wrap=True)

    @contextmanager
    def progress(self, description: str) -> Iterator[ProgressBar | None]:
        """A progress bar on stderr once work takes more than a moment.

        Silent when stderr is not a terminal or the output is for scripts.
        """
        if not (self.for_people and self.err.is_terminal):
            yield None
            return
        bar = ProgressBar(self.err, description)
        try:
            yield bar
        finally:
            bar.pause()


def _width(stream: TextIO) -> int | None:
    """None lets Rich decide (COLUMNS, else the terminal's width). Without a terminal and
    without COLUMNS it would assume 80 columns, and lay tables out (and wrap warnings) for
    a width nobody has: a pipe or a file gets whole rows and lines instead."""
    if os.environ.get("COLUMNS", "").isdigit() or stream.isatty():
        return None
    return EDGELESS_WIDTH


class ProgressBar:
    """Called as `bar(done, total)`; starts only once work takes more than a moment.
    `pause()` takes it off the screen (before a prompt); the next call brings it back."""

    def __init__(self, console: Console, description: str) -> None:
        self.console = console
        self.description = description
        self.started = time.monotonic()
        self._bar: Progress | None = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.monotonic() - self.started < PROGRESS_DELAY_S:
                return
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=total or None)
        self._bar.update(self._task, completed=done, total=max(total, done) or None)

    def pause(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
