"""Before the lab starts anything: are its extra packages there, and if not, the one
command that adds them to this installation (pip, pipx or uv tool)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import shlex
import sys

# What the lab imports, and which requirement of the `lab` extra provides it: moto's
# server (run as `python -m moto.server`) needs flask and flask-cors from moto[server].
LAB_IMPORTS = {
    "moto": "moto",
    "flask": "moto",
    "flask_cors": "moto",
    "aws_lambda_powertools": "aws-lambda-powertools",
}


def missing_imports() -> list[str]:
    return [name for name in LAB_IMPORTS if importlib.util.find_spec(name) is None]


def lab_requirements() -> list[str]:
    """The `lab` extra's requirements as dlqctl's metadata declares them."""
    declared = importlib.metadata.requires("dlqctl") or []
    return [
        requirement.split(";")[0].strip()
        for requirement in declared
        if re.search(r"""extra\s*==\s*["']lab["']""", requirement)
    ]


def install_command(prefix: str = sys.prefix, executable: str = sys.executable) -> str:
    """The command that adds the lab's packages to the environment dlqctl runs in."""
    packages = " ".join(shlex.quote(r) for r in lab_requirements())
    if "/pipx/venvs/" in prefix:
        return f"pipx inject dlqctl {packages}"
    if "/uv/tools/" in prefix:
        withs = " ".join(f"--with {shlex.quote(r)}" for r in lab_requirements())
        return f"uv tool install --reinstall {withs} dlqctl"
    return f"{shlex.quote(executable)} -m pip install {packages}"


def problem() -> str | None:
    """One line saying what is missing and how to add it, or None when all is there."""
    missing = missing_imports()
    if not missing:
        return None
    wanted = sorted({LAB_IMPORTS[name] for name in missing})
    return (
        f"the lab needs {', '.join(wanted)} (the `lab` extra; missing: {', '.join(missing)}): "
        f"{install_command()}"
    )
