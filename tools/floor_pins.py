"""The requirements `make floor` installs: every direct runtime dependency at its floor.

Reads pyproject.toml's [project].dependencies and prints `name==floor` for each, the floor
being its `>=` bound, so the CLI tier runs against the oldest releases dlqctl says it works
with. A dependency without a `>=` bound is an error: nothing would test its lower end.
The test tools named on the command line follow, pinned to constraints.txt, so only the
runtime dependencies differ from .venv.

    python3 tools/floor_pins.py pytest 'moto[sqs]'   # the floors, then pytest==… moto[sqs]==…

Standard library only: it runs with the bare python3 that builds the venv.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# name, [extras], then the version specifiers; environment markers are not supported.
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)$")


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split(requirement: str) -> tuple[str, str, list[str]]:
    match = REQUIREMENT.match(requirement)
    if match is None:
        raise SystemExit(f"floor_pins: cannot read the requirement {requirement!r}")
    name, extras, specifiers = match.groups()
    return name, extras or "", [s.strip() for s in specifiers.split(",") if s.strip()]


def floors(pyproject: Path) -> list[str]:
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = []
    for requirement in dependencies:
        name, extras, specifiers = split(requirement)
        lower = [s.removeprefix(">=").strip() for s in specifiers if s.startswith(">=")]
        if len(lower) != 1:
            raise SystemExit(f"floor_pins: {requirement!r} needs exactly one >= floor")
        pins.append(f"{name}{extras}=={lower[0]}")
    return pins


def pinned(tools: list[str], constraints: Path) -> list[str]:
    versions = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if version:
            versions[canonical(name)] = version.strip()
    pins = []
    for tool in tools:
        name, extras, _ = split(tool)
        if canonical(name) not in versions:
            raise SystemExit(f"floor_pins: {name} is not pinned in {constraints.name}")
        pins.append(f"{name}{extras}=={versions[canonical(name)]}")
    return pins


def main(argv: list[str]) -> int:
    print("\n".join(floors(ROOT / "pyproject.toml") + pinned(argv, ROOT / "constraints.txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
