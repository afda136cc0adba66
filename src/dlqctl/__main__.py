"""`dlqctl` and `python -m dlqctl`."""

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        # Asked by scripts and package managers, often: answered without loading the CLI.
        from dlqctl import __version__

        print(f"dlqctl {__version__}")
        return
    if os.environ.get("_DLQCTL_COMPLETE") == "complete_bash":
        # bash's TAB, at every keystroke: answered from a table, without Typer, where
        # the words are plain enough (cli/tab.py); else Typer answers below.
        from dlqctl.cli.tab import complete_bash

        answer = complete_bash(os.environ)
        if answer is not None:
            sys.stdout.write(answer)
            return
    from dlqctl.cli.app import app

    app(prog_name="dlqctl")


if __name__ == "__main__":
    main()
