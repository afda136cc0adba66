"""The AWS gateway: the only package that imports boto3 or botocore.

Nothing is imported here: importing one gateway module (e.g. for a type) must not load
boto3, which takes most of a second and which `dlqctl --help` never needs.
"""
