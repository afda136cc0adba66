"""The Typer app and Rich rendering: thin adapters over dlqctl.api."""
