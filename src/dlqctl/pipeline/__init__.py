"""The pipeline dlqctl manages: its shape (spec) and, later, its Lambda handlers.

boto3, stdlib and aws-lambda-powertools only: never typer or rich.
"""
