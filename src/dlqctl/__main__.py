"""`dlqctl` and `python -m dlqctl`."""

import os
import sys


def main() -> None:
    try:
        _start()
    except KeyboardInterrupt:
        # Ctrl-C before a command took over (a command reports its own, with what it
        # released): during the imports nothing has been asked of AWS yet.
        from dlqctl.errors import ExitCode

        sys.stderr.write("dlqctl: error: interrupted while starting: nothing was done\n")
        sys.exit(int(ExitCode.INTERRUPTED))


def _start() -> None:
    if sys.argv[1:] == ["--version"]:
        # Asked by scripts and package managers, often: answered without loading the CLI.
        from dlqctl import __version__

        print(f"dlqctl {__version__}")
        return
    instruction = os.environ.get("_DLQCTL_COMPLETE")
    if instruction:
        # TAB, at every keystroke: answered from a table, without Typer, where the words
        # are plain enough (cli/tab.py); else Typer answers below.
        from dlqctl.cli.tab import complete

        answer = complete(instruction, os.environ)
        if answer is not None:
            text, status = answer
            sys.stdout.write(text)
            sys.exit(status)
    from dlqctl.cli.app import app

    app(prog_name="dlqctl")


if __name__ == "__main__":
    main()
