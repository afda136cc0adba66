"""Pure logic over the gateways: no typer, no rich."""
