"""tools/floor_pins.py: the == pins `make floor` installs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from tools import floor_pins

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_runtime_dependency_is_pinned_at_its_floor() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = floor_pins.floors(REPO_ROOT / "pyproject.toml")
    assert len(pins) == len(project["project"]["dependencies"])
    for requirement, pin in zip(project["project"]["dependencies"], pins, strict=True):
        name, floor = pin.split("==")
        assert requirement == f"{name}>={floor}"


def test_a_dependency_without_a_floor_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["rich>=13.8", "boto3<2"]\n')
    with pytest.raises(SystemExit, match="'boto3<2' needs exactly one >= floor"):
        floor_pins.floors(pyproject)


def test_extras_and_upper_bounds_keep_the_floor(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["moto[sqs] >= 5.0.20, < 6"]\n')
    assert floor_pins.floors(pyproject) == ["moto[sqs]==5.0.20"]


def test_tools_take_the_constraints_pins(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("pytest==9.2.0\naws_lambda_powertools==3.37.0\n")
    assert floor_pins.pinned(["pytest", "aws-lambda-powertools[tracer]"], constraints) == [
        "pytest==9.2.0",
        "aws-lambda-powertools[tracer]==3.37.0",
    ]
    with pytest.raises(SystemExit, match="hypothesis is not pinned"):
        floor_pins.pinned(["hypothesis"], constraints)
