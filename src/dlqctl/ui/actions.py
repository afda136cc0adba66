"""Redrive, purge and export of what the UI has selected, through the CLI's own API calls.

The plan is the same object `--dry-run` prints. The run then goes through the same call
the CLI makes (same guardrails, same journal), with the selection narrowed to the plan's
message ids: whatever arrived in the DLQ after the plan was shown is never acted on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from dlqctl.api import Dlqctl
from dlqctl.core.filters import MessageFilter
from dlqctl.core.guardrails import RedriveOptions
from dlqctl.core.journal import default_archive_path
from dlqctl.core.scan import ProgressCallback
from dlqctl.models import ArchiveReport, RedriveReport
from dlqctl.ui.filter_text import FilterText

Report = RedriveReport | ArchiveReport


class ActionKind(StrEnum):
    redrive = "redrive"
    purge = "purge"
    export = "export"


@dataclass(frozen=True)
class Selection:
    """What an action applies to: the filter bar's filter, narrowed to one error type
    or to some message ids."""

    queue: str  # as given: a name, URL or ARN
    name: str  # the DLQ's name: what the confirmation asks to be typed
    label: str  # for people: "error type Timeout", "3 marked messages"
    criteria: FilterText
    narrowing: dict[str, Any] = field(default_factory=dict)

    @property
    def message_filter(self) -> MessageFilter:
        return self.criteria.narrowed(**self.narrowing)

    def only(self, message_ids: list[str]) -> MessageFilter:
        return self.criteria.narrowed(**{**self.narrowing, "message_ids": message_ids})


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    selection: Selection
    file: Path | None  # purge's archive, export's file; None for a redrive

    @classmethod
    def of(cls, kind: ActionKind, selection: Selection, export_dir: Path) -> Action:
        """An action with its file where the CLI would put it: purge archives in the
        state directory (as `dlqctl purge` does), export writes into `export_dir`."""
        if kind is ActionKind.purge:
            return cls(kind, selection, default_archive_path(selection.name))
        if kind is ActionKind.export:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            return cls(kind, selection, export_dir / f"{selection.name}-{stamp}.jsonl")
        return cls(kind, selection, None)

    def plan(self, api: Dlqctl, on_progress: ProgressCallback) -> Report:
        """The dry run: a look that changes nothing and releases everything."""
        queue, chosen = self.selection.queue, self.selection.message_filter
        if self.kind is ActionKind.redrive:
            return api.redrive(queue, chosen, RedriveOptions(dry_run=True), on_progress=on_progress)
        if self.kind is ActionKind.purge:
            return api.purge(queue, self.file, chosen, dry_run=True, on_progress=on_progress)
        return api.export(queue, self.file, chosen, dry_run=True, on_progress=on_progress)

    def run(
        self,
        api: Dlqctl,
        plan: Report,
        *,
        journal: Path | None,
        stop: threading.Event,
        on_progress: ProgressCallback,
    ) -> Report:
        """The run, limited to the plan's messages and capped at their number."""
        ids = planned_ids(plan)
        queue, chosen = self.selection.queue, self.selection.only(ids)
        if self.kind is ActionKind.redrive:
            return api.redrive(
                queue,
                chosen,
                RedriveOptions(max_messages=len(ids)),
                journal=journal,
                stop=stop,
                on_progress=on_progress,
            )
        if self.kind is ActionKind.purge:
            return api.purge(
                queue,
                self.file,
                chosen,
                max_messages=len(ids),
                journal=journal,
                stop=stop,
                on_progress=on_progress,
            )
        return api.export(
            queue, self.file, chosen, journal=journal, stop=stop, on_progress=on_progress
        )


def planned_ids(plan: Report) -> list[str]:
    """The messages a plan would act on (a redrive's refused ones are not among them)."""
    return [planned.message_id for planned in plan.planned]
