"""`dlqctl ui`: a terminal UI for triage, built with Textual (the `dlqctl[ui]` extra).

Textual is imported only inside this package, and this package only by the `ui`
command, when it runs: the rest of the CLI loads without it.
"""
