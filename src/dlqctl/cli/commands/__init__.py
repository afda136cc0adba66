"""One module a command; each registers itself on dlqctl.cli.app.app."""
