"""Ctrl-C while dlqctl is still starting (importing Typer and the commands, about a
fifth of a second) ends with the one-line error and exit 130, not a traceback."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from dlqctl.__main__ import main
from dlqctl.errors import ExitCode


def test_ctrl_c_during_the_imports_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_import = builtins.__import__

    def interrupted(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "dlqctl.cli.app":
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("sys.argv", ["dlqctl", "--help"])
    monkeypatch.delenv("_DLQCTL_COMPLETE", raising=False)
    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == int(ExitCode.INTERRUPTED)
    assert capsys.readouterr().err == (
        "dlqctl: error: interrupted while starting: nothing was done\n"
    )
