"""CloudFormation reads: a deployed pipeline stack's outputs."""

from __future__ import annotations

from typing import Any

from dlqctl.aws.errors import aws_call
from dlqctl.errors import AwsError, NotFoundError


class CloudFormationGateway:
    def __init__(self, client: Any) -> None:
        self.client = client

    def stack_outputs(self, stack: str) -> dict[str, str]:
        """OutputKey → OutputValue of a stack."""
        try:
            with aws_call("cloudformation", f"stack {stack}"):
                stacks = self.client.describe_stacks(StackName=stack)["Stacks"]
        except AwsError as exc:  # CloudFormation says ValidationError for a missing stack
            if "does not exist" in str(exc):
                raise NotFoundError(
                    f"stack {stack} not found: check the name and --region (`aws cloudformation "
                    "list-stacks`)"
                ) from None
            raise
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
