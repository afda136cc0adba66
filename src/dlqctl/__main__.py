"""`dlqctl` and `python -m dlqctl`."""

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        # Asked by scripts and package managers, often: answered without loading the CLI.
        from dlqctl import __version__

        print(f"dlqctl {__version__}")
        return
    from dlqctl.cli.app import app

    app(prog_name="dlqctl")


if __name__ == "__main__":
    main()
