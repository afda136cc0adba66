"""dlqctl's measurement harness (issue 6): a simulated SQS transport, scenarios, baselines.

Run by `make bench` (or `python -m bench [--quick]`), never by `make test`. Only the
network is simulated: dlqctl's gateway, botocore's serialisation, signing, parsing and
retries all run as they would against SQS.
"""
