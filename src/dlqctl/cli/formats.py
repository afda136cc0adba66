"""The output formats of `-o`: apart from output.py, so that defining the option (as
`--help` and TAB completion do) loads no Rich."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ndjson = "ndjson"
