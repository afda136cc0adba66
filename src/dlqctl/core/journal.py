"""The audit journal: every destructive run appends what it did, as JSON lines.

Each record is flushed and fsynced before the run goes on. A `sending` record is written
before a batch is sent and a `batch` record once its send and delete are done, so after a
crash the journal names every message that was moved and the batch that may have been in
the air. The file is created mode 0600: it names message ids and body digests, never
bodies.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dlqctl.errors import UsageError


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_STATE_HOME/dlqctl (default ~/.local/state/dlqctl): journal and archives."""
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "dlqctl"


def default_journal_path(env: Mapping[str, str] | None = None) -> Path:
    return state_dir(env) / "journal.jsonl"


def default_archive_path(queue_name: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return state_dir() / "archive" / f"{queue_name}-{stamp}.jsonl"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


class Journal:
    def __init__(self, path: Path | str | None = None, *, run_id: str) -> None:
        self.path = Path(path) if path else default_journal_path()
        self.run_id = run_id
        self.user = _user()
        self.host = socket.gethostname()

    def record(self, kind: str, **fields: Any) -> None:
        """Append one record and make it durable before returning."""
        self.record_all(kind, [fields])

    def record_all(self, kind: str, records: list[dict[str, Any]]) -> None:
        """Append several records of one kind with a single fsync: a round's batches
        become durable together, before the round after them starts."""
        if not records:
            return
        now = datetime.now(UTC).isoformat()
        lines = "".join(
            json.dumps(
                {
                    "time": now,
                    "run_id": self.run_id,
                    "kind": kind,
                    "user": self.user,
                    "host": self.host,
                    **fields,
                },
                ensure_ascii=False,
                default=str,
            )
            + "\n"
            for fields in records
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UsageError(
                f"cannot write the audit journal {self.path}: {exc.strerror}; pass --journal PATH"
            ) from None
        try:
            os.write(fd, lines.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def start(self, command: str, **fields: Any) -> None:
        self.record("start", command=command, argv=sys.argv[1:], **fields)


class JournalReader:
    """Records in file order. A line that is not a record (a torn last line after a
    crash, or damage) is skipped and counted in `unreadable`, never silently."""

    def __init__(self, path: Path) -> None:
        if path.is_dir():
            raise UsageError(
                f"{path} is a directory: pass the journal file, e.g. {path / 'journal.jsonl'}"
            )
        self.path = path
        self.unreadable = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        try:
            handle = self.path.open(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read the journal {self.path}: {exc.strerror}") from None
        with handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if isinstance(record, dict):
                    yield record
                elif line.strip():
                    self.unreadable += 1


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Records in file order (see JournalReader)."""
    return iter(JournalReader(path))


def recent_runs(path: Path, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One summary per run, newest first; and how many lines could not be read."""
    runs: dict[str, dict[str, Any]] = {}
    reader = JournalReader(path)
    for record in reader:
        run = runs.setdefault(
            record.get("run_id", "?"),
            {"run_id": record.get("run_id"), "batches": 0, "moved": 0, "outcome": "unfinished"},
        )
        kind = record.get("kind")
        if kind == "start":
            run.update(
                started_at=record.get("time"),
                user=record.get("user"),
                host=record.get("host"),
                command=record.get("command"),
                argv=record.get("argv"),
                source=record.get("source"),
                target=record.get("target"),
            )
        elif kind == "batch":
            run["batches"] += 1
            # A replay deletes nothing: what it moved is what it sent.
            moved = (
                record.get("sent", [])
                if run.get("command") == "replay"
                else record.get("deleted", [])
            )
            run["moved"] += len(moved)
        elif kind == "end":
            run.update(
                ended_at=record.get("time"),
                outcome=record.get("outcome"),
                summary=record.get("summary"),
            )
    ordered = sorted(runs.values(), key=lambda r: str(r.get("started_at", "")), reverse=True)
    return ordered[:limit], reader.unreadable
