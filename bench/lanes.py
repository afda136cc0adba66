"""Passing a lane count to dlqctl, once dlqctl has one.

Issue 6 adds `--concurrency N` lanes to scan and redrive. Where the setting will live is
not decided here, so the bench looks for it wherever it may appear — a Settings field, a
keyword of the API call, a RedriveOptions field — and passes it to each it finds. Until
then a requested concurrency is reported as not applied, and the run is single-lane.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field
from typing import Any

from dlqctl import Dlqctl, Settings

try:  # since the streaming engine; before it, core/redrive.py (for --dlqctl-rev)
    from dlqctl.core.guardrails import RedriveOptions
except ImportError:  # pragma: no cover
    from dlqctl.core.redrive import RedriveOptions  # type: ignore[no-redef,attr-defined]

NAME = "concurrency"

# The API method each scenario calls (export goes through Dlqctl._archive's keywords).
CALLS = {
    "scan": Dlqctl.inspect,
    "redrive": Dlqctl.redrive,
    "export": Dlqctl._archive,
    "fifo": Dlqctl.redrive,
    "stream": Dlqctl.redrive,
    "cap": Dlqctl.redrive,
    "sample": Dlqctl.inspect,
}
REDRIVES = {"redrive", "fifo", "stream", "cap"}


@dataclass(frozen=True)
class Lanes:
    requested: int | None
    settings: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    where: list[str] = field(default_factory=list)  # where dlqctl took the setting


def settings_default() -> Any:
    """dlqctl's default lane count, if it has the setting."""
    info = Settings.model_fields.get(NAME)
    return None if info is None else info.default


def detect(scenario: str, requested: int | None) -> Lanes:
    in_settings = NAME in Settings.model_fields
    in_call = NAME in inspect.signature(CALLS[scenario]).parameters
    in_options = scenario in REDRIVES and NAME in {
        f.name for f in dataclasses.fields(RedriveOptions)
    }
    if requested is None:
        default = settings_default()
        note = f"{default} lanes (its default)" if default is not None else "single lane"
        if default == 1:
            note = "1 lane (its default)"
        return Lanes(None, note=note)
    if not (in_settings or in_call or in_options):
        return Lanes(requested, note=f"single lane (no {NAME} setting; asked for {requested})")
    where = [
        name
        for name, found in (("Settings", in_settings), ("call", in_call), ("options", in_options))
        if found
    ]
    value = {NAME: requested}
    return Lanes(
        requested,
        settings=value if in_settings else {},
        call=value if in_call else {},
        options=value if in_options else {},
        note=f"{requested} lane{'s' if requested != 1 else ''}",
        where=where,
    )
