"""Durations on the command line (`90s`, `15m`, `2h`, `3d`, `1h30m`) and for people."""

from __future__ import annotations

import re

from dlqctl.errors import UsageError

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")


def parse_duration(text: str) -> float:
    """Seconds in `text`. A unit is required: a bare `5` could mean seconds or minutes."""
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise UsageError(
            f"invalid duration {text!r}: use a number and a unit, like 90s, 15m, 2h, 3d or 1h30m"
        )
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(cleaned))


def format_duration(seconds: float | None) -> str:
    """A compact age for tables: `45s`, `12m`, `3h 5m`, `2d 4h`."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        hours, minutes = divmod(s // 60, 60)
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(s // 3600, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"
