"""`dlqctl` and `python -m dlqctl`."""

from dlqctl.cli.app import app


def main() -> None:
    app(prog_name="dlqctl")


if __name__ == "__main__":
    main()
