"""The AWS gateway: the only package that imports boto3 or botocore."""

from dlqctl.aws.session import AwsSession

__all__ = ["AwsSession"]
